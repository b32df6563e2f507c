"""Calibration files: run ranges, LED, and clear errors with file and line."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco.calo as calo

FULL = """runs 0 100
ECAL0 * * 5.0 0.0 2.0
ECAL1 * * 25.0 0.0 2.0
HCAL0 * * 40 0 3
HCAL1 * * 40 0 3
HCAL2 * * 40 0 3
HCAL3 * * 40 0 3
VETO * * 0.02 0 2
SRD * * 0.05 0 2
S1 0 0 1 0 1
S2 0 0 1 0 1
S3 0 0 1 0 1
S4 0 0 1 0 1
V1 0 0 1 0 1
V2 0 0 1 0 1
"""


def _write(tmp_path, text, name="cal.txt"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_default_files_cover_every_cell():
    cal = calo.load_calibration(1000)
    assert cal.mev_per_adc.shape == (cal.layout.n_cells,)
    assert np.all(cal.mev_per_adc > 0) and np.all(cal.time_sigma_ns > 0)
    assert np.all(cal.led_run == 1.0)


def test_run_ranges_select_blocks(tmp_path):
    text = FULL + FULL.replace("runs 0 100", "runs 101 200").replace("ECAL1 * * 25.0", "ECAL1 * * 30.0")
    p = _write(tmp_path, text)
    ecal1 = calo.CaloLayout().cells_of("ECAL1")
    assert calo.load_calibration(50, p).mev_per_adc[ecal1].tolist() == [25.0] * 36
    assert calo.load_calibration(150, p).mev_per_adc[ecal1].tolist() == [30.0] * 36
    with pytest.raises(calo.CalibrationError, match="no 'runs' block covers run 500"):
        calo.load_calibration(500, p)


def test_missing_channel_names_file_line_and_cells(tmp_path):
    p = _write(tmp_path, FULL.replace("S3 0 0 1 0 1\n", ""))
    with pytest.raises(calo.CalibrationError, match=r"cal\.txt:1: run 7: no calibration for 1 cells: S3\(0,0\)"):
        calo.load_calibration(7, p)


def test_channel_given_twice_names_both_lines(tmp_path):
    p = _write(tmp_path, FULL + "ECAL1 2 3 20 0 2\n")
    with pytest.raises(calo.CalibrationError, match=r"cal\.txt:16: cell ECAL1\(2,3\) calibrated twice \(first at line 3\)"):
        calo.load_calibration(7, p)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("ECAL9 0 0 1 0 1", r":16: unknown plane 'ECAL9'"),
        ("ECAL1 6 0 1 0 1", r":16: ECAL1 x = 6 outside 0..5"),
        ("ECAL1 a 0 1 0 1", r":16: x = 'a' is not an integer"),
        ("ECAL1 0 0 x 0 1", r":16: mev_per_adc = 'x' is not a number"),
        ("ECAL1 0 0 -1 0 1", r":16: mev_per_adc -1.0 and time_sigma_ns 1.0 must be > 0"),
        ("ECAL1 0 0 1 0", r":16: expected 'plane x y mev_per_adc time_mean_ns time_sigma_ns', got 5 fields"),
        ("runs 5", r":16: expected 'runs FIRST LAST'"),
    ],
)
def test_malformed_rows_are_reported_with_their_line(tmp_path, bad, message):
    p = _write(tmp_path, FULL + bad + "\n")
    with pytest.raises(calo.CalibrationError, match=message):
        calo.load_calibration(7, p)


def test_data_before_any_run_range(tmp_path):
    p = _write(tmp_path, "# header\nECAL1 0 0 1 0 1\n")
    with pytest.raises(calo.CalibrationError, match=r"cal\.txt:2: data before the first 'runs FIRST LAST' line"):
        calo.load_calibration(1, p)


def test_unreadable_file(tmp_path):
    with pytest.raises(calo.CalibrationError, match="cannot read"):
        calo.load_calibration(1, tmp_path / "nope.txt")


def test_led_rows_and_errors(tmp_path):
    cal_p = _write(tmp_path, FULL)
    led = _write(tmp_path, "runs 0 100\nrun ECAL1 * * 0.9\n12 ECAL1 0 0 1.1\n3 ECAL1 0 0 1.2\n", "led.txt")
    cal = calo.load_calibration(7, cal_p, led)
    assert cal.led_spills.tolist() == [3, 12]
    c0 = cal.layout.cells_of("ECAL1").start
    assert cal.led_table[1, c0] == 1.1 and np.isnan(cal.led_table[1, c0 + 1])
    assert cal.spill_rows(np.array([12, 4, 3])).tolist() == [1, -1, 0]
    dup = _write(tmp_path, "runs 0 100\n12 ECAL1 0 0 1.1\n12 ECAL1 * 0 1.0\n", "dup.txt")
    with pytest.raises(calo.CalibrationError, match=r"dup\.txt:3: LED for ECAL1\(0,0\) given twice \(first at line 2\)"):
        calo.load_calibration(7, cal_p, dup)
    neg = _write(tmp_path, "runs 0 100\nrun ECAL1 0 0 0\n", "neg.txt")
    with pytest.raises(calo.CalibrationError, match=r"neg\.txt:2: LED factor 0.0 must be > 0"):
        calo.load_calibration(7, cal_p, neg)


def test_layout_rejects_duplicate_planes_and_missing_ecal():
    with pytest.raises(ValueError, match="appear more than once"):
        calo.CaloLayout(planes=(("ECAL0", 6, 6), ("ECAL0", 6, 6)))
    with pytest.raises(ValueError, match="are required"):
        calo.CaloLayout(planes=(("HCAL0", 3, 3),))


def test_calibration_from_the_detector_description():
    from na64reco.detector import load_setup

    setup = load_setup(1001)
    cal = calo.calibration_from_setup(1001, setup)
    lay = cal.layout
    assert [p[0] for p in lay.planes] == list(setup.planes)
    plane, x, y = lay.index("ECAL1"), 2, 3
    cell = lay.cells_of("ECAL1").start + x * 6 + y
    det = setup.cell_index(plane, x, y)
    assert cal.mev_per_adc[cell] == pytest.approx(float(setup.calibration.mev_per_adc[det]))
    if cal.led_spills.size:
        s = int(cal.led_spills[0])
        row = cal.spill_rows(np.array([s]))[0]
        expect = float(setup.calibration.led_correction(np.array([s]), np.array([det]))[0])
        assert cal.led_table[row, cell] == pytest.approx(expect)
