"""Cell calibration: ADC -> MeV with LED corrections, time windows, master time, flags."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import na64reco.calo as calo
from na64reco.columns import Columns
from na64reco._core import calo as core


# the tests place beam-counter pulses at 150 ns
CFG = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=40.0)


def _calib(layout: calo.CaloLayout, mev: float = 2.0, sigma: float = 2.0) -> calo.CaloCalibration:
    return calo.CaloCalibration.uniform(layout, mev_per_adc=mev, time_sigma_ns=sigma)


def _pulses(rows: list[tuple[int, str, int, int, float, float]], layout: calo.CaloLayout) -> dict[str, np.ndarray]:
    ev, pl, x, y, a, t = zip(*rows)
    return {
        "event": np.array(ev), "plane": np.array([layout.index(p) for p in pl]), "x": np.array(x),
        "y": np.array(y), "amplitude": np.array(a, dtype=float), "time_ns": np.array(t, dtype=float),
    }  # fmt: skip


def test_energy_split_by_time_window_around_master_time():
    lay = calo.CaloLayout()
    cal = _calib(lay)
    cfg = calo.CaloConfig(n_sigma=3.0, near_sigma=8.0, nominal_master_ns=150.0, refine_master_planes=())
    # master time from S1..S4 at 152 ns (no ECAL refinement); ECAL pulses at +0 (in), +10 (near: 5 sigma), +40 (far)
    rows = [(0, s, 0, 0, 100.0, 152.0) for s in ("S1", "S2", "S3", "S4")]
    rows += [(0, "ECAL1", 3, 3, 1000.0, 152.5), (0, "ECAL1", 3, 3, 50.0, 162.0), (0, "ECAL1", 2, 3, 300.0, 192.0)]
    res = calo.reconstruct_calo(_pulses(rows, lay), 1, cal, config=cfg)
    cell = lay.cells_of("ECAL1").start + 3 * 6 + 3
    assert res.e_in[0, cell] == pytest.approx(2000.0)
    assert res.e_near[0, cell] == pytest.approx(100.0)
    assert res.e_out[0, cell - 6] == pytest.approx(600.0)
    assert res.t_cell[0, cell] == pytest.approx(152.5)
    ev = res.events
    assert ev.master_time_ns[0] == pytest.approx(152.0) and ev.n_counters[0] == 4
    assert ev.e_ecal[0] == pytest.approx(2.0)  # GeV
    assert ev.e_bad[0] == pytest.approx(0.1)
    assert ev.e_pileup[0] == pytest.approx(0.6)
    assert ev.calo_status[0] == 0
    # the ambiguous-timing energy may be the trigger particle's: the box's maximum counts it
    assert ev.e_ecal_max[0] == pytest.approx(2.1) and ev.e_hcal_max[0] == pytest.approx(0.0)
    strict = calo.reconstruct_calo(_pulses(rows, lay), 1, cal, config=replace(cfg, bad_energy_in_maxima=False))
    assert strict.events.e_ecal_max[0] == pytest.approx(2.0)


def test_pulse_time_error_widens_the_window():
    lay = calo.CaloLayout()
    cal = _calib(lay, mev=1.0, sigma=2.0)
    rows = [(0, s, 0, 0, 100.0, 150.0) for s in ("S1", "S2", "S3", "S4")] + [(0, "ECAL1", 0, 0, 5.0, 157.0)]
    p = _pulses(rows, lay)
    sharp = calo.reconstruct_calo(p, 1, cal, config=CFG)  # 7 ns late = 3.5 sigma: not in time
    p["time_err"] = np.array([0.1] * 4 + [1.5])  # a small pulse timed to 1.5 ns: 2.8 sigma
    wide = calo.reconstruct_calo(p, 1, cal, config=CFG)
    c = lay.cells_of("ECAL1").start
    assert sharp.e_in[0, c] == 0.0 and sharp.e_near[0, c] == 5.0
    assert wide.e_in[0, c] == 5.0
    # the error widens the window by at most max_time_err_ns
    p["time_err"] = np.array([0.1] * 4 + [40.0])
    assert calo.reconstruct_calo(p, 1, cal, config=CFG).e_in[0, c] == 5.0
    p["time_ns"] = np.array([150.0] * 4 + [160.0])  # 10 ns: 4 sigma even at the capped error
    assert calo.reconstruct_calo(p, 1, cal, config=CFG).e_in[0, c] == 0.0


def test_led_correction_per_spill_falls_back_to_run_average(tmp_path):
    lay = calo.CaloLayout()
    (tmp_path / "led.txt").write_text(
        "runs 0 10\nrun ECAL1 * * 1.5\n7 ECAL1 3 3 0.5\n"
    )
    cal = calo.load_calibration(5, led_path=tmp_path / "led.txt")
    t = 150.0 + cal.time_mean_ns[lay.cells_of("ECAL1").start]  # ECAL delay behind the counters
    rows = [(0, "ECAL1", 3, 3, 100.0, t), (1, "ECAL1", 3, 3, 100.0, t), (1, "ECAL1", 2, 2, 100.0, t)]
    res = calo.reconstruct_calo(_pulses(rows, lay), 2, cal, spills=np.array([3, 7]), config=CFG)
    c33 = lay.cells_of("ECAL1").start + 3 * 6 + 3
    c22 = lay.cells_of("ECAL1").start + 2 * 6 + 2
    mev = cal.mev_per_adc[c33]
    assert res.e_in[0, c33] == pytest.approx(100 * mev * 1.5)  # spill 3 has no LED rows: run average
    assert res.e_in[1, c33] == pytest.approx(100 * mev * 0.5)  # spill 7's own value
    assert res.e_in[1, c22] == pytest.approx(100 * mev * 1.5)  # spill 7 lacks this cell: run average


def test_no_counter_pulse_flags_the_event_and_uses_the_nominal_time():
    lay = calo.CaloLayout()
    rows = [(0, "ECAL1", 3, 3, 100.0, 151.0), (1, "S1", 0, 0, 50.0, 149.0), (1, "ECAL1", 3, 3, 100.0, 149.5)]
    res = calo.reconstruct_calo(_pulses(rows, lay), 2, _calib(lay), config=CFG)
    assert res.events.calo_status[0] & calo.STATUS_NO_MASTER_TIME
    assert res.events.master_time_ns[0] == 150.0
    assert res.events.calo_status[1] == 0 and res.events.master_time_ns[1] == 149.0


def test_missing_detectors_flag_events_instead_of_raising():
    lay = calo.CaloLayout()
    rows = [(0, "ECAL1", 3, 3, 100.0, 150.0), (2, "S1", 0, 0, 50.0, 150.0)]
    present = np.ones((3, len(lay.planes)), dtype=bool)
    present[0, lay.index("HCAL2")] = False
    present[1, lay.index("VETO")] = False
    present[2, lay.index("ECAL0")] = False
    present[2, lay.index("SRD")] = False
    res = calo.reconstruct_calo(_pulses(rows, lay), 3, _calib(lay), present=present)
    st = res.events.calo_status
    assert st[0] & calo.STATUS_HCAL_MISSING and not st[0] & calo.STATUS_ECAL_MISSING
    assert st[1] & calo.STATUS_VETO_MISSING
    assert st[2] & calo.STATUS_ECAL_MISSING and st[2] & calo.STATUS_SRD_MISSING
    assert np.isnan(res.events.ecal_x[1])  # empty event: no cluster, no exception


def test_plane_presence_and_pulse_join():
    digits = {"event": np.array([0, 0, 1]), "plane": np.array([1, 6, -1]), "x": np.array([3, 0, 0]),
              "y": np.array([3, 0, 0])}  # fmt: skip
    present = calo.plane_presence(digits["event"], digits["plane"], 2, 14)
    assert present[0, 1] and present[0, 6] and not present[1].any()
    table = calo.pulse_table(digits, {"wave": np.array([2, 0]), "amplitude": np.array([5.0, 6.0]),
                                      "time_ns": np.array([1.0, 2.0])})  # fmt: skip
    assert table.event.tolist() == [1, 0] and table.plane.tolist() == [-1, 1]


def test_unsorted_pulses_and_unmapped_rows_are_handled():
    lay = calo.CaloLayout()
    t = calo.CaloConfig().nominal_master_ns  # no counters: the master time is nominal
    p = _pulses([(1, "ECAL1", 0, 0, 10.0, t), (0, "ECAL1", 0, 0, 20.0, t)], lay)
    p["plane"] = np.append(p["plane"], -1)
    for k in ("event", "x", "y", "amplitude", "time_ns"):
        p[k] = np.append(p[k], p[k][:1])
    res = calo.reconstruct_calo(p, 2, _calib(lay, mev=1.0))
    c = lay.cells_of("ECAL1").start
    assert res.e_in[:, c].tolist() == [20.0, 10.0]
    assert res.n_unmapped == 1


def test_pulse_event_outside_the_batch_is_an_error():
    lay = calo.CaloLayout()
    with pytest.raises(ValueError, match="outside 0..1"):
        calo.reconstruct_calo(_pulses([(5, "ECAL1", 0, 0, 1.0, 150.0)], lay), 2, _calib(lay))


def test_core_rejects_inconsistent_offsets_and_cells():
    n = 3
    args = dict(
        spill_row=np.full(1, -1, np.int32), mev_per_adc=np.ones(n), time_mean_ns=np.zeros(n),
        time_sigma_ns=np.ones(n), led_run=np.ones(n), led_spill=np.zeros((0, n)), counter_cells=[],
        counter_offset_ns=[], nominal_ns=0.0, search_ns=10.0, n_sigma=3.0, near_sigma=5.0,
    )  # fmt: skip
    one = dict(cell=np.array([0], np.int32), amplitude=np.ones(1), time_ns=np.zeros(1), time_err=None)
    with pytest.raises(ValueError, match="offsets end at 2 but there are 1 pulses"):
        core.calibrate_cells(offsets=np.array([0, 2]), **one, **args)
    with pytest.raises(ValueError, match="cell 7, expected 0..2"):
        core.calibrate_cells(offsets=np.array([0, 1]), **{**one, "cell": np.array([7], np.int32)}, **args)
    with pytest.raises(ValueError, match="LED spill row 4"):
        core.calibrate_cells(offsets=np.array([0, 1]), **one, **{**args, "spill_row": np.array([4], np.int32)})
    with pytest.raises(ValueError, match="near_sigma"):
        core.calibrate_cells(offsets=np.array([0, 1]), **one, **{**args, "near_sigma": 1.0})


def test_cell_index_marks_unknown_planes_and_coordinates():
    lay = calo.CaloLayout()
    idx = lay.cell_index(np.array([0, 1, 6, -1, 99, 0, 0]), np.array([5, 0, 5, 0, 0, 6, 70000]),
                         np.array([5, 1, 0, 0, 0, 0, 0]))  # fmt: skip
    assert idx.tolist() == [35, 37, lay.cells_of("VETO").start + 5, -1, -1, -1, -1]


def test_failed_fits_flag_the_event():
    lay = calo.CaloLayout()
    digits = {"event": np.array([0, 0, 1, 1]), "plane": np.array([1, 6, 1, 0]), "x": np.zeros(4, int),
              "y": np.zeros(4, int), "samples": np.array([[100, 900], [100, 900], [100, 900], [100, 900]])}  # fmt: skip
    failed = calo.failed_fits(digits, np.array([0, 1, 2, 3]), np.array([1, 4, 2, 1 | 2]), 2, len(lay.planes))
    # fit_failed, or saturated together with pile-up; saturation or pile-up alone is fine
    assert failed[0, 6] and not failed[0, 1] and failed[1, 0] and not failed[1, 1]
    bad_chi2 = calo.failed_fits(digits, np.arange(4), np.zeros(4), 2, len(lay.planes),
                                chi2_ndf=np.array([1.0, 5000.0, 2.0, 3.0]))  # fmt: skip
    assert bad_chi2[0, 6] and bad_chi2.sum() == 1
    # with the pulses known, saturation + pile-up only counts for overlapping pulses
    apart = calo.failed_fits(digits, np.arange(4), np.array([0, 0, 0, 3]), 2, len(lay.planes),
                             pulse_wave=np.array([3, 3]), pulse_time_ns=np.array([20.0, 300.0]))  # fmt: skip
    close = calo.failed_fits(digits, np.arange(4), np.array([0, 0, 0, 3]), 2, len(lay.planes),
                             pulse_wave=np.array([3, 3]), pulse_time_ns=np.array([120.0, 140.0]))  # fmt: skip
    assert not apart.any() and close[1, 0]
    quiet = {**digits, "samples": np.array([[100, 120]] * 4)}
    assert not calo.failed_fits(quiet, np.arange(4), np.full(4, 4), 2, len(lay.planes)).any()
    res = calo.reconstruct_calo(_pulses([(0, "S1", 0, 0, 5.0, 127.0)], lay), 2, _calib(lay), failed=failed)
    st = res.events.calo_status
    assert not st[0] & calo.STATUS_FIT_FAILED  # a VETO fit failure leaves the energies known
    assert st[1] & calo.STATUS_FIT_FAILED


def test_absurd_amplitudes_are_dropped_and_flagged():
    lay = calo.CaloLayout()
    rows = [(0, "ECAL1", 3, 3, 100.0, 150.0), (1, "ECAL1", 3, 3, 3.0e6, 150.0), (1, "ECAL1", 2, 2, np.nan, 150.0)]
    res = calo.reconstruct_calo(_pulses(rows, lay), 2, _calib(lay), config=CFG)
    assert not res.events.calo_status[0] & calo.STATUS_FIT_FAILED
    assert res.events.calo_status[1] & calo.STATUS_FIT_FAILED
    assert np.isfinite(res.e_out).all() and res.e_out[1].sum() == 0.0


def test_master_time_is_the_median_of_the_counters():
    lay = calo.CaloLayout()
    cfg = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=40.0, refine_master_planes=())
    # S4's fit merged the trigger pulse with a pile-up pulse and came out 8 ns late
    times = {"S1": 149.0, "S2": 150.0, "S3": 151.0, "S4": 159.0}
    rows = [(0, s, 0, 0, 100.0, t) for s, t in times.items()]
    median = calo.reconstruct_calo(_pulses(rows, lay), 1, _calib(lay), config=cfg)
    mean = calo.reconstruct_calo(_pulses(rows, lay), 1, _calib(lay), config=replace(cfg, master_median=False))
    assert median.events.master_time_ns[0] == pytest.approx(150.5)
    assert mean.events.master_time_ns[0] == pytest.approx(152.25)


def test_master_time_is_refined_by_the_closest_ecal_shower():
    lay = calo.CaloLayout()
    cal = _calib(lay, mev=10.0, sigma=1.0)  # time_mean 0: ECAL pulses peak at the master time
    cfg = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=40.0, refine_min_mev=1000.0,
                          refine_search_ns=5.0, refine_cluster_ns=2.0)  # fmt: skip
    counters = [(s, 0, 0, 100.0, 152.0) for s in ("S1", "S2", "S3", "S4")]  # dragged 2 ns late
    ecal = [
        ("ECAL1", 3, 3, 300.0, 150.0),  # the trigger shower (3 GeV)
        ("ECAL1", 3, 4, 100.0, 150.5),  # its neighbour, in the same cluster (1 GeV)
        ("ECAL1", 3, 3, 2000.0, 158.0),  # a pile-up shower 8 ns later, larger
        ("ECAL1", 2, 2, 50.0, 151.9),  # too small to count (0.5 GeV)
    ]
    rows = [(0, *r) for r in counters + ecal]
    rows += [(1, *r) for r in counters]  # no ECAL pulse: the counter time stays
    rows += [(2, *r) for r in counters] + [(2, "ECAL1", 3, 3, 300.0, 160.0)]  # too far: not refined
    res = calo.reconstruct_calo(_pulses(rows, lay), 3, cal, config=cfg)
    ev = res.events
    assert ev.master_time_ns[0] == pytest.approx((3000 * 150.0 + 1000 * 150.5) / 4000)
    assert ev.master_time_ns.tolist()[1:] == [152.0, 152.0]
    assert ev.master_refined.tolist() == [True, False, False]
    c33 = lay.cells_of("ECAL1").start + 3 * 6 + 3
    assert res.e_in[0, c33] == pytest.approx(3000.0) and res.e_out[0, c33] == pytest.approx(20000.0)


def test_refinement_anchors_on_the_nominal_time_or_on_the_counters():
    lay = calo.CaloLayout()
    cal = _calib(lay, mev=10.0, sigma=1.0)
    cfg = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=40.0, refine_search_ns=12.0, refine_window_ns=10.0)
    assert cfg.refine_anchor == "auto"
    modes = ("counters", "nominal", "auto")

    def masters(rows, **over):
        p = _pulses(rows, lay)
        return [calo.reconstruct_calo(p, 1, cal, config=replace(cfg, refine_anchor=a, **over)).events.master_time_ns[0]
                for a in modes]  # fmt: skip

    # the trigger particle at 149 ns, a pile-up one at 158 ns: the counters merged them into
    # 152-156 ns (spread 4 ns), the ECAL resolved both showers
    merged = [(0, s, 0, 0, 100.0, t) for s, t in zip(("S1", "S2", "S3", "S4"), (152.0, 154.0, 156.0, 154.0))]
    merged += [(0, "ECAL1", 3, 3, 300.0, 149.0), (0, "ECAL1", 3, 3, 9000.0, 158.0)]
    assert masters(merged) == pytest.approx([158.0, 149.0, 149.0])
    # one particle at 153 ns, the counters agree; a 1.1 GeV satellite fitted at 150.5 ns beside
    # its 60 GeV shower is nearer the nominal time but is no shower of its own: it takes the
    # master time over only where neither the shower-energy nor the local-maximum test is made
    agree = [(0, s, 0, 0, 100.0, 153.0) for s in ("S1", "S2", "S3", "S4")]
    agree += [(0, "ECAL1", 3, 3, 6000.0, 153.0), (0, "ECAL1", 3, 4, 110.0, 150.5)]
    assert masters(agree) == pytest.approx([153.0, 153.0, 153.0])
    assert masters(agree, refine_min_fraction=0.0, refine_local_ns=0.0) == pytest.approx([153.0, 150.5, 153.0])
    with pytest.raises(ValueError, match="refine_anchor 'closest', expected 'counters', 'nominal' or 'auto'"):
        calo.reconstruct_calo(_pulses(agree, lay), 1, cal, config=replace(cfg, refine_anchor="closest"))
    with pytest.raises(ValueError, match="refine_spread_ns -1, expected >= 0"):
        calo.reconstruct_calo(_pulses(agree, lay), 1, cal, config=replace(cfg, refine_spread_ns=-1.0))
    with pytest.raises(ValueError, match="refine_min_fraction 1.5, expected 0 to 1"):
        calo.reconstruct_calo(_pulses(agree, lay), 1, cal, config=replace(cfg, refine_min_fraction=1.5))
    with pytest.raises(ValueError, match="refine_local_ns -2, expected >= 0"):
        calo.reconstruct_calo(_pulses(agree, lay), 1, cal, config=replace(cfg, refine_local_ns=-2.0))


def test_refinement_anchor_is_a_shower_not_a_fragment():
    lay = calo.CaloLayout()
    cal = _calib(lay, mev=10.0, sigma=1.0)
    cfg = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=40.0, refine_search_ns=12.0, refine_window_ns=10.0)
    counters = [(0, s, 0, 0, 100.0, 150.0) for s in ("S1", "S2", "S3", "S4")]

    def master(ecal, **over):
        p = _pulses(counters + [(0, *r) for r in ecal], lay)
        return calo.reconstruct_calo(p, 1, cal, config=replace(cfg, **over)).events.master_time_ns[0]

    # a 2 GeV fragment 4 ns from the nominal time, 5 ns before an 80 GeV shower it belongs to:
    # below 3 % of that shower, it is no anchor, and the shower (6 ns out) is
    satellite = [("ECAL1", 3, 3, 8000.0, 156.0), ("ECAL1", 3, 3, 200.0, 151.0)]
    assert master(satellite, refine_local_ns=0.0) == pytest.approx(156.0)
    assert master(satellite, refine_local_ns=0.0, refine_min_fraction=0.0) == pytest.approx(151.0)
    # a neighbour cell's 3.5 GeV pulse timed between an 80 GeV pile-up shower (8 ns early) and a
    # 20 GeV trigger shower 5 ns later: the larger shower within refine_local_ns takes it
    between = [("ECAL1", 3, 3, 8000.0, 142.5), ("ECAL1", 3, 2, 350.0, 149.5), ("ECAL1", 3, 3, 2000.0, 154.5)]
    assert master(between) == pytest.approx(154.5)
    assert master(between, refine_local_ns=0.0) == pytest.approx(149.5)
    # a pre-shower pulse alone (its shower reaches no main-section cell): no anchor
    preshower = [("ECAL1", 3, 3, 8000.0, 143.0), ("ECAL0", 3, 3, 400.0, 149.0), ("ECAL1", 3, 2, 900.0, 155.0)]
    assert master(preshower, refine_local_ns=0.0) == pytest.approx(155.0)
    assert master(preshower, refine_local_ns=0.0, refine_main_planes=()) == pytest.approx(149.0)


def test_clipped_pulses_refine_the_master_time_only_alone():
    lay = calo.CaloLayout()
    cal = _calib(lay, mev=10.0, sigma=1.0)
    cfg = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=40.0, refine_search_ns=12.0, refine_window_ns=10.0)
    counters = [(0, s, 0, 0, 100.0, 153.0) for s in ("S1", "S2", "S3", "S4")]
    # the central cell's clipped fit put a pulse at 150.5 ns; the unclipped neighbours time the
    # shower at 154 ns
    rows = counters + [(0, "ECAL1", 3, 3, 3000.0, 150.5), (0, "ECAL1", 3, 4, 300.0, 154.0),
                       (0, "ECAL1", 2, 3, 250.0, 154.2)]  # fmt: skip
    p = _pulses(rows, lay)
    p["clipped"] = np.array([False] * 4 + [True, False, False])
    res = calo.reconstruct_calo(p, 1, cal, config=cfg)
    assert res.events.master_time_ns[0] == pytest.approx((3000 * 154.0 + 2500 * 154.2) / 5500)
    assert calo.reconstruct_calo(p, 1, cal, config=replace(cfg, refine_skip_clipped=False)).events.master_time_ns[0] \
        == pytest.approx(150.5)
    # with nothing else in the window the clipped pulse still refines it
    alone = _pulses(counters + [(0, "ECAL1", 3, 3, 3000.0, 150.5)], lay)
    alone["clipped"] = np.array([False] * 4 + [True])
    assert calo.reconstruct_calo(alone, 1, cal, config=cfg).events.master_time_ns[0] == pytest.approx(150.5)


def test_core_rejects_refine_cells_outside_the_layout():
    n = 3
    args = dict(
        offsets=np.array([0, 1]), cell=np.array([0], np.int32), amplitude=np.ones(1), time_ns=np.zeros(1),
        time_err=None, spill_row=np.full(1, -1, np.int32), mev_per_adc=np.ones(n), time_mean_ns=np.zeros(n),
        time_sigma_ns=np.ones(n), led_run=np.ones(n), led_spill=np.zeros((0, n)), counter_cells=[0],
        counter_offset_ns=[0.0], nominal_ns=0.0, search_ns=10.0, n_sigma=3.0, near_sigma=5.0,
    )  # fmt: skip
    with pytest.raises(ValueError, match="refine cell 5 outside 0..2"):
        core.calibrate_cells(**args, refine_cells=[5])
    with pytest.raises(ValueError, match="refine_search_ns"):
        core.calibrate_cells(**args, refine_cells=[1], refine_search_ns=0.0)


def test_absurd_counter_pulse_leaves_the_calorimeter_bounds_finite():
    lay = calo.CaloLayout()
    suspects = Columns(event=np.zeros(0, np.int64), plane=np.zeros(0, np.int16), x=np.zeros(0, np.int16),
                       y=np.zeros(0, np.int16), samples=np.zeros((0, 32), np.uint16), nsamples=np.zeros(0, np.int64),
                       peak_floor=np.zeros(0))  # fmt: skip
    rows = [(0, "ECAL1", 3, 3, 100.0, 150.0), (0, "S3", 0, 0, 5.0e4, 50.0), (1, "ECAL1", 3, 3, 5.0e4, 50.0)]
    res = calo.reconstruct_calo(_pulses(rows, lay), 2, _calib(lay), config=CFG, suspects=suspects)
    ev = res.events
    assert ev.calo_status[0] & calo.STATUS_FIT_FAILED  # flagged, but the counter holds no ECAL energy
    assert np.isfinite(ev.e_ecal_max[0]) and np.isfinite(ev.e_hcal_max[0]) and np.isfinite(ev.veto_max_bound[0])
    assert np.isinf(ev.e_ecal_max[1]) and np.isfinite(ev.e_hcal_max[1])  # an unbounded ECAL cell


def test_srd_tag_counts_the_near_window():
    lay = calo.CaloLayout()
    cal = _calib(lay, mev=1.0, sigma=1.0)
    rows = [(0, s, 0, 0, 100.0, 150.0) for s in ("S1", "S2", "S3", "S4")] + [(0, "SRD", 1, 0, 40.0, 154.0)]
    p = _pulses(rows, lay)
    near = calo.reconstruct_calo(p, 1, cal, config=CFG)  # 4 sigma: near
    strict = calo.reconstruct_calo(p, 1, cal, config=replace(CFG, srd_near_window=False))
    assert near.events.srd_module[0, 1] == pytest.approx(0.04) and strict.events.srd_module[0, 1] == 0.0
