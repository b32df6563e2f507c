"""Bad configuration files fail with the file and line; user directories and files override."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from na64reco.detector import ConfigError, load_setup
from na64reco.detector.setup import PACKAGE_DATA


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A user data directory holding a copy of the shipped description."""
    root = tmp_path / "data"
    for sub in ("maps", "calib"):
        shutil.copytree(PACKAGE_DATA / sub, root / sub)
    for geo in PACKAGE_DATA.glob("geometry*.toml"):
        shutil.copy(geo, root / geo.name)
    yield root
    load_setup.cache_clear()


def edit(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace the first ``count`` occurrences; return the 1-based line of the first one."""
    text = path.read_text()
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, count))
    return line


def line_of(path: Path, fragment: str) -> int:
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if fragment in text:
            return number
    raise AssertionError(fragment)


def expect(match: str, data: Path, run: int = 1500):
    with pytest.raises(ConfigError, match=match):
        load_setup(run, data_dir=data)


def test_malformed_map_line(data):
    m = data / "maps" / "na64-2022.map"
    line = edit(m, "ECAL0   620  0 0x00  0  0\n", "ECAL0   620  0 0x00  0\n")
    expect(rf"na64-2022.map:{line}: expected 6 fields", data)


def test_bad_numbers_and_names_in_a_map(data):
    m = data / "maps" / "na64-2022.map"
    line = edit(m, "ECAL0   620  0 0x00  0  0", "ECAL0   620  0 0xZZ  0  0")
    expect(rf"na64-2022.map:{line}: chip_channel '0xZZ' is not an integer", data)
    edit(m, "0xZZ", "0x00")
    line = edit(m, "ECAL0   620  0 0x00  0  0", "ECAL7   620  0 0x00  0  0")
    expect(rf"na64-2022.map:{line}: unknown plane 'ECAL7'", data)
    edit(m, "ECAL7", "ECAL0")
    line = edit(m, "ECAL0   620  0 0x00  0  0", "ECAL0   620  0 0x00  6  0")
    expect(rf"na64-2022.map:{line}: x of ECAL0 6 out of range 0..5", data)
    edit(m, "ECAL0   620  0 0x00  6  0", "ECAL0   620  0 0x00  0  0")
    line = edit(m, "ECAL0   620  0 0x00  0  0", "ECAL0   620  8 0x00  0  0")
    expect(rf"na64-2022.map:{line}: port 8 out of range 0..7", data)


def test_channel_mapped_twice(data):
    m = data / "maps" / "na64-2022.map"
    first = line_of(m, "ECAL0   620  0 0x00  0  0")
    line = edit(m, "ECAL0   620  0 0x06  0  1", "ECAL0   620  0 0x00  0  1")
    expect(rf"na64-2022.map:{line}: channel srcID 620 port 0 chip 0 channel 0 mapped twice "
           rf"\(first on line {first}\)", data)


def test_cell_mapped_twice(data):
    m = data / "maps" / "na64-2022.map"
    first = line_of(m, "ECAL0   620  0 0x00  0  0")
    line = edit(m, "ECAL0   620  0 0x06  0  1", "ECAL0   620  0 0x06  0  0")
    expect(rf"na64-2022.map:{line}: ECAL0 cell x/y 0 0 mapped twice \(first on line {first}\)", data)
    t = data / "maps" / "na64-2023.map"
    first = line_of(t, "ST1X  160  0 0x00 0  0")
    line = edit(t, "ST1X  160  0 0x01 0  1", "ST1X  160  0 0x01 0  0")
    expect(rf"na64-2023.map:{line}: ST1X layer/tube 0 0 mapped twice \(first on line {first}\)", data, 6000)


def test_missing_calibration_for_a_mapped_channel(data):
    g = data / "calib" / "gains-2022.txt"
    text = g.read_text()
    g.write_text("".join(ln for ln in text.splitlines(keepends=True) if not ln.startswith("HCAL2  1 2 ")))
    map_line = line_of(data / "maps" / "na64-2022.map", "HCAL2   622  0 0x19  1  2")
    expect(rf"gains-2022.txt: HCAL2 cell \(1, 2\) is mapped \(line {map_line} of .*na64-2022.map\) "
           "but has no mev_per_adc", data)


def test_bad_gain_values(data):
    g = data / "calib" / "gains-2022.txt"
    line = line_of(g, "ECAL1  3 3 ")
    text = g.read_text().splitlines(keepends=True)
    text[line - 1] = "ECAL1  3 3 -2.0\n"
    g.write_text("".join(text))
    expect(rf"gains-2022.txt:{line}: mev_per_adc -2.0 must be finite and > 0", data)


def test_overlapping_run_ranges(data):
    m = data / "maps" / "na64-2023.map"
    line = edit(m, "runs 5000 *", "runs 4000 *")
    expect(rf"na64-2023.map:{line}: maps run ranges overlap: 1-4999 \(.*na64-2022.map:\d+\) and 4000-\*", data)


def test_no_file_for_the_run(data):
    for name in ("na64-2023.map",):
        (data / "maps" / name).unlink()
    expect(r"no maps file covers run 6000; available: 1-4999 \(na64-2022.map\)", data, 6000)
    with pytest.raises(ConfigError, match="no geometry file covers run 5000"):
        load_setup(5000, files={"geometry": PACKAGE_DATA / "geometry-2022.toml"})


def test_runs_line_must_come_first(data):
    m = data / "maps" / "na64-2022.map"
    text = m.read_text()
    m.write_text("ECAL0 620 0 0x00 0 0\n" + text)
    expect(r"na64-2022.map:1: data before the 'runs FIRST LAST' line", data)


def test_led_entries_outside_the_file_range(data):
    led = data / "calib" / "led-2023.txt"
    line = edit(led, "6000  1 ECAL0  0 0", "4000  1 ECAL0  0 0")
    expect(rf"led-2023.txt:{line}: run 4000 outside this file's range 5000-\*", data, 6000)


def test_geometry_plane_order_and_keys(data):
    geo = data / "geometry-2022.toml"
    edit(geo, 'name = "HCAL0"', 'name = "HCALX"')
    expect(r"geometry-2022.toml: \[\[sadc_plane\]\] names are .*HCALX.* expected exactly", data)
    edit(geo, 'name = "HCALX"', 'name = "HCAL0"')
    edit(geo, "pitch_mm = 38.2", 'pitch_mm = "wide"')
    expect(r"geometry-2022.toml: \[\[sadc_plane\]\] #1 \(ECAL0\): pitch_mm = 'wide', expected float", data)
    geo.write_text("first_run = 1\nlast_run = [\n")
    expect(r"geometry-2022.toml: invalid TOML", data)


def test_user_directory_overrides_kind_by_kind(data, tmp_path, monkeypatch):
    user = tmp_path / "user"
    (user / "maps").mkdir(parents=True)
    text = (data / "maps" / "na64-2022.map").read_text()
    text = re.sub(r"runs 1 4999", "runs 1 *", text).replace("ECAL0   620  0 0x00  0  0", "ECAL0   630  0 0x00  0  0")
    (user / "maps" / "mine.map").write_text(text)
    setup = load_setup(7000, data_dir=user)
    assert setup.files["maps"] == user / "maps" / "mine.map"
    assert setup.files["geometry"].parent == PACKAGE_DATA  # other kinds from the package
    assert setup.sadc_address(0, 0, 0).source_id.tolist() == [630]
    monkeypatch.setenv("NA64RECO_DATA_DIR", str(user))
    assert load_setup(7000).files["maps"].name == "mine.map"
    monkeypatch.delenv("NA64RECO_DATA_DIR")
    explicit = load_setup(7000, files={"maps": user / "maps" / "mine.map"})
    assert explicit.sadc_address(0, 0, 0).source_id.tolist() == [630]
    with pytest.raises(ValueError, match="unknown kinds"):
        load_setup(7000, files={"map": "x"})
    with pytest.raises(ConfigError, match="maps file does not exist"):
        load_setup(7000, files={"maps": tmp_path / "nope.map"})
    with pytest.raises(ValueError, match="run must be a non-negative integer"):
        load_setup(-3)


def test_edited_files_are_reloaded(data):
    first = load_setup(1500, data_dir=data)
    g = data / "calib" / "gains-2022.txt"
    line = line_of(g, "ECAL1  3 3 ")
    text = g.read_text().splitlines(keepends=True)
    text[line - 1] = "ECAL1  3 3 99.5\n"
    g.write_text("".join(text))
    os.utime(g, ns=(g.stat().st_atime_ns, g.stat().st_mtime_ns + 10**9))
    second = load_setup(1500, data_dir=data)
    cell = int(second.cell_index(1, 3, 3)[()])
    assert second is not first and second.calibration.mev_per_adc[cell] == 99.5


def test_duplicate_calibration_lines_and_second_runs_line(data):
    g = data / "calib" / "gains-2022.txt"
    first = line_of(g, "ECAL1  3 3 ")
    text = g.read_text()
    g.write_text(text + "ECAL1  3 3 20.0\n")
    expect(rf"gains-2022.txt:{len(text.splitlines()) + 1}: ECAL1 cell \(3, 3\) calibrated twice "
           rf"\(first on line {first}\)", data)
    g.write_text(text + "runs 1 10\n")
    expect(rf"gains-2022.txt:{len(text.splitlines()) + 1}: second 'runs' line", data)
    g.write_text(text)
    led = data / "calib" / "led-2022.txt"
    text = led.read_text()
    dup = next(ln for ln in text.splitlines() if ln.startswith("1001  3 ECAL1"))
    led.write_text(text + dup + "\n")
    expect(rf"led-2022.txt:{len(text.splitlines()) + 1}: LED factor for run 1001 spill 3 ECAL1 .* given twice",
           data, 1001)
