"""``na64reco reco`` from the command line: output, summary, exit status."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _pipeline_raw import write_run  # noqa: E402

from na64reco.cli import main  # noqa: E402
from na64reco.output import read_accounting, read_events  # noqa: E402


def test_reco_writes_root_and_prints_the_summary(tmp_path, capsys):
    raw = tmp_path / "run.dat"
    n = write_run(raw, nspills=2, per_spill=30)
    out = tmp_path / "out.root"
    assert main(["reco", str(raw), "--output", str(out), "--no-progress", "--timing"]) == 0
    text = capsys.readouterr().out
    assert f"events read {n:>20,}".replace(" ", "") in text.replace(" ", "")
    assert "written (rows)" in text and "time per stage" in text
    assert len(read_events(out)) == 60
    assert read_accounting(out)["events_read"] == n


def test_reco_exit_status(tmp_path, capsys):
    raw = tmp_path / "run.dat"
    write_run(raw, nspills=1, per_spill=5)
    bad = tmp_path / "bad.dat"
    bad.write_bytes(b"junk" * 30)
    out = tmp_path / "out.parquet"
    # some input unreadable: reported, rest processed, success
    assert main(["reco", str(raw), str(bad), "-o", str(out), "--no-progress"]) == 0
    assert "FAILED file" in capsys.readouterr().out
    assert read_accounting(out)["written"] == 5
    # existing output without --force
    assert main(["reco", str(raw), "-o", str(out), "--no-progress"]) == 2
    assert "--force" in capsys.readouterr().err
    # nothing readable
    assert main(["reco", str(bad), "-o", str(tmp_path / "x.root"), "--no-progress"]) == 1
    # strict
    assert main(["reco", str(raw), str(bad), "-o", str(tmp_path / "s.root"), "--strict", "--no-progress"]) == 3
    # bad config value
    cfg = tmp_path / "c.toml"
    cfg.write_text("[output]\nrows_per_basket = 0\n")
    assert main(["reco", str(raw), "-o", str(tmp_path / "c.root"), "-c", str(cfg), "--no-progress"]) == 2
    assert "output.rows_per_basket" in capsys.readouterr().err


def test_reco_runs_one_process_per_usable_cpu_and_chunk_by_default(tmp_path, capsys, monkeypatch):
    from na64reco.cli import cmd_reco

    raw = tmp_path / "run.dat"
    write_run(raw, nspills=1, per_spill=30)
    monkeypatch.setattr(cmd_reco, "usable_cpus", lambda: 8)
    # one chunk: a pool of eight would only start idle processes
    assert main(["reco", str(raw), "-o", str(tmp_path / "one.parquet"), "--no-progress"]) == 0
    assert "on 1 process" in capsys.readouterr().out
    # three chunks: three processes, the same output as one
    assert main(["reco", str(raw), "-o", str(tmp_path / "three.parquet"), "--no-progress",
                 "--events-per-chunk", "12"]) == 0
    assert "on 3 local processes" in capsys.readouterr().out
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "three.parquet").read_bytes()
    assert main(["reco", str(raw), "-o", str(tmp_path / "x.root"), "--no-progress", "--jobs", "-1"]) == 2
    assert "--jobs must be >= 0" in capsys.readouterr().err
