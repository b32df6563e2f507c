"""``na64reco simulate`` on the command line: files, reproducibility, errors naming options."""

import numpy as np
import pytest

import na64reco as nr
from na64reco.cli import main
from na64reco.sim import read_truth


def test_simulate_command_writes_raw_and_truth(tmp_path, capsys):
    out, truth = tmp_path / "run.dat", tmp_path / "truth.parquet"
    args = ["simulate", "--events", "600", "--seed", "5", "--output", str(out), "--truth", str(truth),
            "--run", "4100", "--beam", "e+", "--rate", "2e6", "--signal-fraction", "0.2",
            "--signal-spectrum", "resonance", "--signal-mass", "225", "--events-per-spill", "250",
            "--set", "noise_sample_correlation=0.2", "--set", "srd_mev=[1, 2, 3]", "--no-truth-pulses"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "run 4100, 600 events in 3 spills" in text and "truth particles:" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "run.dat", "truth.channels.parquet", "truth.parquet", "truth.particles.parquet", "truth.straws.parquet"]
    raw = nr.open_raw(out).read_all()
    assert raw.error_counts() == {} and np.all(raw.events.run == 4100)
    ev = read_truth(truth)
    assert set(np.unique(ev["particle"]).tolist()) <= {-11, 211, -13}
    sig = ev["is_signal"]
    assert 0.1 < sig.mean() < 0.3
    assert np.allclose(ev["e_missing"][sig], 225.0**2 / (2 * 0.51099895), rtol=0.1)
    first = out.read_bytes()
    assert main(args) == 0
    assert out.read_bytes() == first


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rate", "-1"], "--rate: rate_hz = -1.0 is out of range; allowed [0.0, 1000000000.0]"),
        (["--beam", "proton"], "--beam: beam_particle = 'proton' is unknown; allowed ['e-', 'e+']"),
        (["--hadron-fraction", "2"], "--hadron-fraction: hadron_fraction = 2.0 is out of range; allowed [0.0, 1.0]"),
        (["--events", "0"], "--events: events = 0 is out of range"),
        (["--set", "nonsense"], "--set 'nonsense': expected FIELD=VALUE"),
        (["--set", "mip_width=-1"], "mip_width = -1 is out of range; allowed [0.0, 1.0]"),
    ],
)
def test_bad_options_exit_2_with_the_option_named(tmp_path, capsys, extra, message):
    args = ["simulate", "--events", "10", "--seed", "1", "--output", str(tmp_path / "x.dat")] + extra
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_exits_2(tmp_path, capsys):
    assert main(["simulate", "--events", "10", "--seed", "1", "--output", str(tmp_path / "no" / "x.dat")]) == 2
    assert "--output: output = " in capsys.readouterr().err
