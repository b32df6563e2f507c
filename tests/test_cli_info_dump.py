"""``na64reco info`` and ``na64reco dump`` on a small written file with known content."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import na64reco as nr
from na64reco.cli import main
from na64reco.detector import SADC_PLANES, STRAW_PLANES

RUN = 1500


@pytest.fixture(scope="module")
def raw_file(tmp_path_factory) -> Path:
    """SOR, 6 physics events, 1 calibration, EOB; ECAL1 digits, 1 unmapped digit, straw hits."""
    setup = nr.detector.load_setup(RUN)
    types = np.array([1, 7, 7, 7, 7, 7, 7, 8, 6])
    n_ev = types.size
    events = dict(run=np.full(n_ev, RUN), spill=np.full(n_ev, 2), event_in_run=np.arange(n_ev) + 1,
                  event_in_spill=np.arange(n_ev), type=types, trigger_mask=np.full(n_ev, 0b11),
                  time=np.full(n_ev, 1_700_000_000))
    ecal1 = SADC_PLANES.index("ECAL1")
    # event 1: a 3x3 cluster in ECAL1 around (2, 3); events 2..6: one digit each
    xs = np.array([1, 2, 3, 1, 2, 3, 1, 2, 3] + [0] * 5)
    ys = np.array([2, 2, 2, 3, 3, 3, 4, 4, 4] + [5] * 5)
    ev = np.array([1] * 9 + [2, 3, 4, 5, 6])
    addr = setup.sadc_address(np.full(xs.size, ecal1), xs, ys)
    samples = np.tile(np.arange(32, dtype=np.uint16) * 100, (xs.size + 1, 1))
    sadc = dict(event=np.append(ev, 1), source_id=np.append(addr.source_id, 620),
                port=np.append(addr.port, 7), chip=np.append(addr.chip, 3), channel=np.append(addr.channel, 15),
                nsamples=np.full(xs.size + 1, 32), samples=samples)
    st1y = STRAW_PLANES.index("ST1Y")
    taddr = setup.straw_address([st1y, st1y], [0, 1], [31, 31])
    tdc = dict(event=[1, 1], source_id=taddr.source_id, port=taddr.port, chip=taddr.chip,
               channel=taddr.channel, raw_time=[(100 << 7) + 250, (100 << 7) - 30], trigger_time=[100, 100])
    path = tmp_path_factory.mktemp("raw") / "run1500.dat"
    nr.raw.write_raw(path, events, sadc, tdc, sources=[621, 622, 623])
    with open(path, "ab") as fh:
        fh.write(b"\x00" * 12)  # garbage at the end: a decoder error to report
    return path


def test_summarize_counts(raw_file):
    s = nr.raw.summarize(raw_file)
    assert s.n_events == 9 and s.runs.tolist() == [RUN] and s.n_spills == 1
    assert dict(zip(s.event_types.name.tolist(), s.event_types["count"].tolist())) == {
        "start_of_run": 1, "end_of_burst": 1, "physics": 6, "calibration": 1}
    digits = dict(zip(s.sadc_planes.name.tolist(), s.sadc_planes.digits.tolist()))
    assert digits["ECAL1"] == 14 and sum(digits.values()) == 14
    assert dict(zip(s.straw_planes.name.tolist(), s.straw_planes.hits.tolist()))["ST1Y"] == 2
    assert s.unmapped.nrows == 1 and s.unmapped["count"].tolist() == [1]
    assert (s.unmapped.source_id[0], s.unmapped.port[0], s.unmapped.channel[0]) == (620, 7, 15)
    assert int(s.errors["count"].sum()) >= 1 and "bytes_skipped" in s.errors.name.tolist()
    by_src = dict(zip(s.sources.source_id.tolist(), s.sources.sadc_digits.tolist()))
    assert by_src[621] == 14 and by_src[620] == 1


def test_info_prints_readable_tables(raw_file, capsys):
    assert main(["info", str(raw_file)]) == 0
    out = capsys.readouterr().out
    assert "9 events" in out and f"runs {RUN}" in out
    assert "physics" in out and "start_of_run" in out
    lines = out.splitlines()
    assert any(ln.split()[:2] == ["ECAL1", "14"] for ln in lines)
    assert any(ln.split()[:2] == ["ST1Y", "2"] for ln in lines)
    assert "unmapped channels: 1 digits/hits on 1 addresses" in out
    assert "bytes_skipped" in out


def test_dump_one_event(raw_file, capsys):
    assert main(["dump", str(raw_file), "--event", "1"]) == 0
    out = capsys.readouterr().out
    assert "event 1:" in out and f"run {RUN}" in out and "type 7 (physics)" in out
    assert "trigger_mask 0x3" in out and "SADC digits: 10" in out and "TDC hits: 2" in out
    rows = [ln.split() for ln in out.splitlines() if ln.strip().startswith("ECAL1")]
    assert [(int(r[1]), int(r[2])) for r in rows] == [(x, y) for y in (2, 3, 4) for x in (1, 2, 3)]
    assert rows[0][9:12] == ["0", "100", "200"]
    assert any(ln.split()[0] == "unmapped" for ln in out.splitlines() if ln.strip())
    straw = [ln.split() for ln in out.splitlines() if ln.strip().startswith("ST1Y")]
    assert [(s[1], s[2], s[-1]) for s in straw] == [("0", "31", "25.0"), ("1", "31", "-3.0")]


def test_dump_errors_are_clean(raw_file, capsys):
    assert main(["dump", str(raw_file), "--event", "99"]) == 2
    assert "event 99 not in" in capsys.readouterr().err
    assert main(["info", str(raw_file.parent / "missing.dat")]) == 2


def test_runs_without_a_setup_are_reported_not_fatal(tmp_path, capsys):
    ev = dict(run=[0], spill=[1], event_in_run=[1], event_in_spill=[1], type=[7], trigger_mask=[1])
    sadc = dict(event=[0], source_id=[620], port=[0], chip=[0], channel=[0], nsamples=[2],
                samples=np.array([[1, 2]], dtype=np.uint16))
    path = tmp_path / "run0.dat"
    nr.raw.write_raw(path, ev, sadc)
    s = nr.raw.summarize(path)
    assert s.unmapped["count"].tolist() == [1]
    assert len(s.setup_problems) == 1 and "no geometry file covers run 0" in s.setup_problems[0]
    assert main(["dump", str(path), "--event", "0"]) == 0
    out = capsys.readouterr().out
    assert "warning: run 0: no geometry file covers run 0" in out and "unmapped" in out
