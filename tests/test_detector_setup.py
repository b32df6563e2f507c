"""The shipped detector description: planes, maps, lookups both ways, geometry, calibration."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco as nr
from na64reco.detector import SADC_PLANES, STRAW_PLANES, load_setup

RUN_2022, RUN_2023 = 1500, 6000


def test_planes_and_shapes_follow_the_data_model():
    setup = nr.detector.load_setup(RUN_2022)
    assert setup.planes == ("ECAL0", "ECAL1", "HCAL0", "HCAL1", "HCAL2", "HCAL3", "VETO", "SRD",
                            "S1", "S2", "S3", "S4", "V1", "V2")
    assert setup.straw_planes == ("ST1X", "ST1Y", "ST2X", "ST2Y")
    assert setup.plane_shape("ECAL1") == (6, 6) and setup.plane_shape("HCAL3") == (3, 3)
    assert setup.plane_shape("VETO") == (6, 1) and setup.plane_shape("SRD") == (3, 1)
    assert setup.plane_shape("S4") == (1, 1) and setup.plane_shape("ST2Y") == (2, 64)
    assert setup.sadc_map.nrows == 72 + 36 + 6 + 3 + 6 and setup.straw_map.nrows == 4 * 2 * 64
    assert setup.n_cells == 123
    assert load_setup(RUN_2022) is setup  # cached
    with pytest.raises(KeyError, match="no plane 'ECAL2'"):
        setup.plane_shape("ECAL2")


def test_maps_are_selected_by_run_range():
    old, new = load_setup(4999), load_setup(5000)
    assert old.files["maps"].name == "na64-2022.map" and new.files["maps"].name == "na64-2023.map"
    ecal1 = SADC_PLANES.index("ECAL1")
    a_old = old.sadc_address(ecal1, 2, 3)
    a_new = new.sadc_address(ecal1, 2, 3)
    assert a_old.source_id.tolist() == [621] and a_new.source_id.tolist() == [624]
    # the same readout address means different cells in the two periods
    hcal0 = SADC_PLANES.index("HCAL0")
    addr = old.sadc_address(hcal0, 1, 1)
    table = addr
    assert old.annotate_sadc(table).plane.tolist() == [hcal0]
    assert new.annotate_sadc(table).plane.tolist() == [SADC_PLANES.index("HCAL3")]


@pytest.mark.parametrize("run", [RUN_2022, RUN_2023])
def test_sadc_lookup_both_ways_covers_every_cell(run):
    setup = load_setup(run)
    planes, xs, ys = [], [], []
    for p, name in enumerate(setup.planes):
        nx, ny = setup.plane_shape(name)
        gx, gy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
        planes += [p] * (nx * ny)
        xs += gx.ravel().tolist()
        ys += gy.ravel().tolist()
    addr = setup.sadc_address(planes, xs, ys)
    assert (addr.source_id >= 0).all()
    back = setup.annotate_sadc(addr)
    assert back.plane.tolist() == planes and back.x.tolist() == xs and back.y.tolist() == ys
    assert back.plane.dtype == np.int16 and back.x.dtype == np.int16
    cells = setup.cell_index(planes, xs, ys)
    assert sorted(cells.tolist()) == list(range(setup.n_cells))
    assert back.cell.dtype == np.int32 and back.cell.tolist() == cells.tolist()
    # outside the grid: no address
    assert setup.sadc_address([0, 0, 99], [6, -1, 0], [0, 0, 0]).source_id.tolist() == [-1, -1, -1]


def test_annotate_marks_unmapped_digits_and_counts_them():
    setup = load_setup(RUN_2022)
    sadc = nr.Columns(event=np.arange(4), source_id=np.array([620, 620, 999, 620], dtype=np.uint16),
                      port=np.array([0, 7, 0, 0], dtype=np.uint8), chip=np.zeros(4, dtype=np.uint8),
                      channel=np.array([0, 0, 0, 0], dtype=np.uint8))
    out = setup.annotate_sadc(sadc)
    assert out.plane.tolist() == [0, -1, -1, 0] and out.x.tolist() == [0, -1, -1, 0]
    assert out.cell.tolist() == [setup.cell_index(0, 0, 0)[()], -1, -1, setup.cell_index(0, 0, 0)[()]]
    assert out.event.tolist() == [0, 1, 2, 3]  # the input columns are kept
    miss = setup.unmapped(sadc)
    assert list(zip(miss.source_id.tolist(), miss.port.tolist(), miss["count"].tolist())) == [(620, 7, 1), (999, 0, 1)]


@pytest.mark.parametrize("run", [RUN_2022, RUN_2023])
def test_straw_lookup_both_ways(run):
    setup = load_setup(run)
    plane, layer, tube = (a.ravel() for a in np.meshgrid(np.arange(4), np.arange(2), np.arange(64), indexing="ij"))
    addr = setup.straw_address(plane, layer, tube)
    assert (addr.source_id >= 0).all() and (addr.chip <= 7).all() and (addr.channel <= 7).all()
    hits = addr.with_columns(raw_time=np.zeros(plane.size, dtype=np.uint16))
    back = setup.annotate_tdc(hits)
    assert back.plane.tolist() == plane.tolist()
    assert back.layer.tolist() == layer.tolist() and back.tube.tolist() == tube.tolist()
    assert back.layer.dtype == np.int8 and back.tube.dtype == np.int16
    assert setup.straw_address(0, 2, 0).source_id.tolist() == [-1]


def test_geometry_cells_and_staggered_straws():
    setup = load_setup(RUN_2022)
    geo = setup.geometry
    x, y, z = geo.cell_center(1, np.arange(6), np.full(6, 2))
    assert np.allclose(np.diff(x), 38.2) and np.isclose(x.mean(), 0.0) and np.allclose(z, 70.0)
    u0, z0 = geo.wire_position(0, 0, np.arange(64))
    u1, z1 = geo.wire_position(0, 1, np.arange(64))
    assert np.allclose(np.diff(u0), 6.0) and np.allclose(u1 - u0, 3.0)
    assert np.allclose(z1 - z0, 5.2)
    tube, du = geo.nearest_tube(0, 1, u1 + 1.0)
    assert tube.tolist() == list(range(64)) and np.allclose(du, 1.0)
    assert geo.nearest_tube(0, 0, [u0[0] - 3.1, u0[-1] + 3.1])[0].tolist() == [-1, -1]
    st2 = STRAW_PLANES.index("ST2X")
    assert geo.straw_planes.z_mm[st2] != load_setup(RUN_2023).geometry.straw_planes.z_mm[st2]


def test_calibration_has_every_mapped_cell_with_a_realistic_spread():
    setup = load_setup(RUN_2022)
    cal = setup.calibration
    m = setup.sadc_map
    cells = setup.cell_index(m.plane, m.x, m.y)
    gains = cal.mev_per_adc[cells]
    assert (gains > 0).all()
    ecal1 = cal.mev_per_adc[setup.cell_index(1, *np.divmod(np.arange(36), 6))]
    spread = ecal1.std() / ecal1.mean()
    assert 0.03 < spread < 0.2 and 15 < ecal1.mean() < 40


def test_led_corrections_per_spill_fall_back_to_the_run_average():
    setup = load_setup(1001)
    cal = setup.calibration
    cell = int(setup.cell_index(1, 2, 2))
    lines = [ln.split() for ln in setup.files["led"].read_text().splitlines()
             if ln.startswith("1001 ") and ln.split()[2:5] == ["ECAL1", "2", "2"]]
    by_spill = {int(f[1]): float(f[5]) for f in lines}
    assert 5 not in by_spill and len(by_spill) == 9  # spill 5 has no LED entry
    assert cal.led_correction(3, cell)[0] == pytest.approx(by_spill[3])
    assert cal.led_correction(5, cell)[0] == pytest.approx(np.mean(list(by_spill.values())))
    assert cal.led_correction(99, cell)[0] == pytest.approx(np.mean(list(by_spill.values())))
    # a run without LED entries, and a cell without entries, use 1.0
    assert load_setup(1500).calibration.led_correction([1, 2], [cell, cell]).tolist() == [1.0, 1.0]
    veto = int(setup.cell_index(SADC_PLANES.index("VETO"), 0, 0))
    assert cal.led_correction(3, veto).tolist() == [1.0]
    e = cal.mev([100.0], [3], [cell])
    assert e[0] == pytest.approx(100.0 * cal.mev_per_adc[cell] * by_spill[3])


def test_setup_pickles_for_worker_processes():
    import pickle

    setup = load_setup(RUN_2023)
    copy = pickle.loads(pickle.dumps(setup))
    assert copy.run == RUN_2023 and copy.files == setup.files
    addr = setup.sadc_address(1, 2, 3)
    assert copy.annotate_sadc(addr).plane.tolist() == [1]
    assert np.array_equal(copy.calibration.mev_per_adc, setup.calibration.mev_per_adc)


def test_out_of_range_address_fields_do_not_alias_mapped_channels():
    setup = load_setup(RUN_2022)
    # (619, port 256) would pack to the same key as (620, port 0)
    table = dict(source_id=np.array([619, 620]), port=np.array([256, 0]), chip=np.array([0, 0]),
                 channel=np.array([0, 0]))
    assert setup.annotate_sadc(table).plane.tolist() == [-1, 0]


def test_decoded_address_columns_take_the_compiled_lookup_with_the_same_rows():
    setup = load_setup(RUN_2022)
    m = setup.sadc_map
    rng = np.random.default_rng(8)
    # every mapped address in a shuffled order (readout order is the common case, not a
    # requirement), repeated, plus addresses the map lacks
    pick = rng.integers(0, len(m.source_id), 3000)
    table = {"source_id": np.r_[np.asarray(m.source_id)[pick], 1000, 0].astype(np.uint16),
             "port": np.r_[np.asarray(m.port)[pick], 0, 255].astype(np.uint8),
             "chip": np.r_[np.asarray(m.chip)[pick], 0, 255].astype(np.uint8),
             "channel": np.r_[np.asarray(m.channel)[pick], 0, 255].astype(np.uint8)}  # fmt: skip
    wide = {k: v.astype(np.int64) for k, v in table.items()}
    fast, slow = setup.annotate_sadc(table), setup.annotate_sadc(wide)
    for c in ("plane", "x", "y", "cell"):
        assert np.array_equal(np.asarray(fast[c]), np.asarray(slow[c])), c
    assert np.asarray(fast["plane"])[-2:].tolist() == [-1, -1]
    assert (np.asarray(fast["plane"])[:-2] >= 0).all()


def test_annotate_by_key_picks_each_tables_entry_in_one_pass():
    from na64reco._core.raw import annotate_by_key

    keys = np.array([(620 * 256 + 0) * 65536 + 5, (620 * 256 + 1) * 65536 + 0], dtype=np.int64)  # sorted
    cols = dict(source_id=np.array([620, 620, 999, 620], np.uint16), port=np.array([1, 0, 0, 0], np.uint8),
                chip=np.zeros(4, np.uint8), channel=np.array([0, 5, 0, 6], np.uint8))  # fmt: skip
    tables = [np.array([10, 20, -1], np.int8), np.array([1.5, 2.5, np.nan]), np.array([7, 8, -1], np.int32)]
    a, b, c = annotate_by_key(keys, *cols.values(), tables)
    assert a.dtype == np.int8 and a.tolist() == [20, 10, -1, -1]
    assert b.dtype == np.float64 and b[:2].tolist() == [2.5, 1.5] and np.isnan(b[2:]).all()
    assert c.tolist() == [8, 7, -1, -1]
    with pytest.raises(ValueError, match="n_keys \\+ 1 = 3"):
        annotate_by_key(keys, *cols.values(), [np.zeros(2, np.int16)])
    with pytest.raises(ValueError, match="items of 16 bytes"):
        annotate_by_key(keys, *cols.values(), [np.zeros(3, np.complex128)])
