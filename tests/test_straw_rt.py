"""r(t) relations and straw configuration files."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco.straw as straw


def test_table_interpolates_and_reports_the_window():
    rt = straw.RtRelation.table([0, 10, 20], [0, 1, 1.5], [0.1, 0.2, 0.2])
    r, err, ok = rt.radius(np.array([-1.0, 0.0, 5.0, 15.0, 20.0, 21.0, np.nan]))
    assert ok.tolist() == [False, True, True, True, True, False, False]
    assert r[1:5].tolist() == pytest.approx([0.0, 0.5, 1.25, 1.5])
    assert err[2] == pytest.approx(0.15)
    assert np.isnan(r[0]) and np.isnan(r[5])


def test_non_monotonic_tables_are_rejected():
    with pytest.raises(ValueError, match="row 2: radius 0.5 mm after 1 mm, expected a monotonic"):
        straw.RtRelation.table([0, 10, 20], [0, 1, 0.5], [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="row 1: time 0 ns after 0 ns, expected strictly increasing"):
        straw.RtRelation.table([0, 0], [0, 1], [0.1, 0.1])
    with pytest.raises(ValueError, match="at least 2 rows"):
        straw.RtRelation.table([0], [0], [0.1])


def test_polynomial_and_its_monotonicity_check():
    rt = straw.RtRelation.polynomial([0.0, 0.05], 0.0, 60.0, 0.12)
    r, err, ok = rt.radius(np.array([10.0, 61.0]))
    assert r[0] == pytest.approx(0.5) and err[0] == 0.12 and ok.tolist() == [True, False]
    with pytest.raises(ValueError, match="decreases near t"):
        straw.RtRelation.polynomial([0.0, 0.1, -0.002], 0.0, 60.0, 0.1)


def test_default_rt_file_loads():
    rt = straw.load_rt()
    assert rt.t_min == 0.0 and rt.t_max > 0.0
    r, _, _ = rt.radius(np.array([rt.t_max]))
    assert r[0] == pytest.approx(3.0)


def test_rt_file_errors_name_file_and_line(tmp_path):
    p = tmp_path / "rt.txt"
    p.write_text("# t r\n0 0\n10 1.0\n20 0.8\n")
    with pytest.raises(straw.StrawConfigError, match=r"rt\.txt:4: r\(t\) not monotonic: radius 0.8 mm after 1.0 mm \(line 3\)"):
        straw.load_rt(p)
    p.write_text("0 0\n10 1\n10 2\n")
    with pytest.raises(straw.StrawConfigError, match=r"rt\.txt:3: time 10.0 ns does not increase"):
        straw.load_rt(p)
    p.write_text("0 0\n10 x\n")
    with pytest.raises(straw.StrawConfigError, match=r"rt\.txt:2: 'x' is not a number"):
        straw.load_rt(p)
    p.write_text("poly 0 0.05\n")
    with pytest.raises(straw.StrawConfigError, match="needs a 'window"):
        straw.load_rt(p)
    p.write_text("poly 0 0.05\nwindow 0 60\nerror 0.2\n")
    assert straw.load_rt(p).t_max == 60.0
    p.write_text("poly 0 0.1 -0.002\nwindow 0 60\n")
    with pytest.raises(straw.StrawConfigError, match=r"rt\.txt: r\(t\) polynomial: decreases"):
        straw.load_rt(p)


def test_geometry_file_errors(tmp_path):
    good = straw.load_geometry(path=straw.TOY_GEOMETRY)
    assert good.names[:2] == ("ST1X", "ST1Y") and good.n_stations == 3
    p = tmp_path / "geo.txt"
    row = "ST1X 0 X -3000 8 6 -190.5 3 64 0\n"
    p.write_text("runs 0 10\n" + row + row)
    with pytest.raises(straw.StrawConfigError, match=r"geo\.txt:3: plane ST1X defined twice \(first at line 2\)"):
        straw.load_geometry(1, p)
    p.write_text("runs 0 10\n" + row.replace(" X ", " Z "))
    with pytest.raises(straw.StrawConfigError, match=r"geo\.txt:2: axis 'Z'"):
        straw.load_geometry(1, p)
    p.write_text("runs 0 10\n" + row)
    with pytest.raises(straw.StrawConfigError, match="no straw planes for run 50"):
        straw.load_geometry(50, p)


def test_geometry_from_the_detector_description_matches_its_wires():
    from na64reco.detector import load_setup

    for run in (1000, 6000):
        setup = load_setup(run)
        geo = straw.load_geometry(run)
        assert geo.names == tuple(setup.straw_planes)
        plane = np.repeat(np.arange(len(geo.names)), 4)
        layer = np.tile([0, 1, 0, 1], len(geo.names))
        tube = np.tile([0, 0, 63, 17], len(geo.names))
        u, z = geo.tube_centre(plane, layer, tube)
        u_det, z_det = setup.geometry.wire_position(plane, layer, tube)
        np.testing.assert_allclose(u, u_det)
        np.testing.assert_allclose(z, z_det)
        assert np.all(geo.arrays()["t0_ns"] == 20.0)


def test_t0_file_errors(tmp_path):
    p = tmp_path / "t0.txt"
    p.write_text("runs 0 10\nST1X 5\n")
    with pytest.raises(straw.StrawConfigError, match=r"t0\.txt: run 1: no t0 for planes \['ST1Y'\]"):
        straw.load_t0(1, ("ST1X", "ST1Y"), p)
    p.write_text("runs 0 10\n* 5\nST1X 3\n")
    with pytest.raises(straw.StrawConfigError, match=r"t0\.txt:3: t0 of ST1X given twice \(first at line 2\)"):
        straw.load_t0(1, ("ST1X", "ST1Y"), p)
    p.write_text("runs 0 10\nST9X 3\n")
    with pytest.raises(straw.StrawConfigError, match=r"t0\.txt:2: unknown straw plane 'ST9X'"):
        straw.load_t0(1, ("ST1X",), p)
