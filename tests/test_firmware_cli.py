"""``na64reco trigger``: raw file -> emulated bits, compared with the recorded trigger mask."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco as nr
from fpga_model.testing import Pulse, StreamSpec, synth_stream
from na64reco.cli import main
from na64reco.firmware import compare_trigger_bits, emulate_windows

pq = pytest.importorskip("pyarrow.parquet")
if not hasattr(nr, "open_raw") or not hasattr(nr.detector, "load_setup"):  # pragma: no cover
    pytest.skip("needs the raw decoder and the detector description", allow_module_level=True)

RUN = 3661


def trigger_cells() -> list[tuple[str, int, int]]:
    """(plane, x, y) of the 113 trigger channels, in the firmware's order."""
    cells = [(name, 0, 0) for name in ("S1", "S2", "S3", "V1", "V2")]
    for plane in ("ECAL0", "ECAL1"):
        cells += [(plane, k // 6, k % 6) for k in range(36)]
    cells += [(f"HCAL{k // 9}", (k % 9) // 3, k % 3) for k in range(36)]
    return cells


def make_windows(n: int) -> np.ndarray:
    out = []
    for i in range(n):
        pulses = [Pulse(-1, 7, 900)]
        if i % 3 != 2:
            pulses.append(Pulse(5 + 14, 7, 600 if i % 3 == 0 else 40, 2))  # pre-shower above / below threshold
            pulses.append(Pulse(41 + 14, 7, 900, 2))
        if i == 4:
            pulses.append(Pulse(3, 7, 900))  # veto
        out.append(synth_stream(StreamSpec(32, pedestal=150, noise=2, seed=i, pulses=tuple(pulses))))
    return np.stack(out).astype(np.uint16)


def write_run(path, windows: np.ndarray, masks: np.ndarray) -> None:
    setup = nr.detector.load_setup(RUN)
    cells = trigger_cells()
    planes = np.array([setup.plane_index(p) for p, _, _ in cells])
    addr = setup.sadc_address(planes, np.array([c[1] for c in cells]), np.array([c[2] for c in cells]))
    assert (np.asarray(addr["source_id"]) >= 0).all()
    n = windows.shape[0]
    types = np.full(n + 1, 7, dtype=np.uint16)
    types[0] = 5  # start of burst: carries no data, is not emulated
    events = {"run": np.full(n + 1, RUN, np.uint32), "spill": np.ones(n + 1, np.uint32),
              "event_in_run": np.arange(n + 1, dtype=np.uint32), "event_in_spill": np.arange(n + 1, dtype=np.uint32),
              "type": types, "trigger_mask": np.concatenate([[0], masks]).astype(np.uint64)}
    rows = np.repeat(np.arange(1, n + 1), 113)
    sadc = {"event": rows, "source_id": np.tile(addr["source_id"], n), "port": np.tile(addr["port"], n),
            "chip": np.tile(addr["chip"], n), "channel": np.tile(addr["channel"], n),
            "nsamples": np.full(rows.size, 32), "samples": windows.reshape(-1, 32)}
    nr.raw.writer.write_raw(path, events, sadc)


def test_trigger_cli_reports_agreement_and_mismatches(tmp_path, capsys):
    windows = make_windows(9)
    emulated = emulate_windows(windows)["trigger_bits"].astype(np.uint64)
    assert (emulated & 1).sum() >= 3 and (emulated & 1).sum() < 9  # some physics, some not
    recorded = emulated.copy()
    recorded[6] ^= 1  # event 7 of the file was recorded with a different physics bit
    raw = tmp_path / "run.dat"
    write_run(raw, windows, recorded)
    out = tmp_path / "trig.parquet"
    assert main(["trigger", str(raw), "--output", str(out)]) == 0
    text = capsys.readouterr().out
    assert "9 physics events emulated, 1 disagree" in text
    assert f"{RUN} 1 7:" in text  # run spill event of the mismatch
    assert "physics" in text and "efficiency" in text
    table = pq.read_table(out).to_pydict()
    assert table["event"] == list(range(1, 10))
    assert np.array_equal(table["emulated_bits"], emulated)
    assert np.array_equal(table["recorded_bits"], recorded)
    assert main(["trigger", str(raw), "--strict"]) == 1


def test_compare_table_counts():
    rec = np.array([1, 1, 0, 3, 2], np.uint8)
    emu = np.array([1, 0, 1, 3, 0], np.uint8)
    s = compare_trigger_bits(rec, emu)
    physics = list(s["name"]).index("physics")
    assert s["recorded"][physics] == 3 and s["emulated"][physics] == 3 and s["both"][physics] == 2
    assert s["efficiency"][physics] == pytest.approx(2 / 3)
    assert s["agreement"][physics] == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="differ in shape"):
        compare_trigger_bits(rec, emu[:2])
