"""Doubtful waveform fits: suspects and the upper bound on their in-time energy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import na64reco.calo as calo
from na64reco.calo.fit_bounds import amplitude_upper_bound, suspect_table, suspect_waveforms, template_peak_floor
from na64reco._core.calo import lowest_median_by_key
from na64reco.raw import sample_range
from na64reco.waveform import FLAGS, load_template

TEMPLATE = load_template("ecal")
FLOOR = template_peak_floor(TEMPLATE)
T = np.arange(32) * 12.5


def _waveform(pulses: list[tuple[float, float]], pedestal: float = 150.0, noise: np.ndarray | None = None) -> np.ndarray:
    s = np.full(32, pedestal)
    for amp, t in pulses:
        s += amp * np.asarray(TEMPLATE.value(T - t)) / TEMPLATE.peak_value
    if noise is not None:
        s += noise
    return np.minimum(np.round(s), 4095.0)


def test_peak_floor_is_the_template_value_half_a_sample_off_peak():
    assert 0.85 < FLOOR < 1.0
    assert FLOOR == pytest.approx(min(TEMPLATE.value(np.array([-6.25, 6.25]))) / TEMPLATE.peak_value, rel=1e-3)


@given(
    amp=st.floats(5.0, 3000.0),
    t_in=st.floats(100.0, 200.0),
    pile=st.lists(st.tuples(st.floats(0.0, 3500.0), st.floats(-100.0, 380.0)), max_size=3),
    seed=st.integers(0, 2**31),
)
def test_bound_never_below_the_in_time_amplitude(amp, t_in, pile, seed):
    noise = np.random.default_rng(seed).normal(0.0, 1.5, 32)
    s = _waveform([(amp, t_in), *pile], noise=noise)
    window = (np.array([t_in - 3.0]), np.array([t_in + 3.0]))
    # the channel's pedestal (channel_pedestal): tails can lift every sample of one waveform
    ped = np.array([150.0])
    bound = amplitude_upper_bound(s[None], np.array([32]), *window, FLOOR, noise_adc=1.5, pedestal=ped)
    assert bound[0] >= amp  # inf when a clipped sample lies near the window
    every_sample = amplitude_upper_bound(s[None], np.array([32]), *window, FLOOR, noise_adc=1.5, pedestal=ped,
                                         template=TEMPLATE)  # fmt: skip
    assert amp <= every_sample[0] <= bound[0]


def test_bound_is_tight_for_an_isolated_pulse_and_infinite_when_clipped():
    s = _waveform([(1000.0, 150.0)])
    b = amplitude_upper_bound(s[None], np.array([32]), np.array([145.0]), np.array([155.0]), FLOOR)
    assert 1000.0 <= b[0] < 1000.0 / FLOOR + 20.0
    clipped = _waveform([(5000.0, 150.0)])
    assert np.isinf(amplitude_upper_bound(clipped[None], np.array([32]), np.array([145.0]), np.array([155.0]), FLOOR))[0]
    # clipped far from the window: finite, the in-time pulse is small
    late = _waveform([(200.0, 150.0), (5000.0, 330.0)])
    b = amplitude_upper_bound(late[None], np.array([32]), np.array([145.0]), np.array([155.0]), FLOOR)
    assert 200.0 <= b[0] < 400.0
    # window beyond the recorded samples: nothing in time was recorded
    assert amplitude_upper_bound(s[None], np.array([8]), np.array([145.0]), np.array([155.0]), FLOOR)[0] == 0.0


def test_bound_rejects_bad_shapes():
    with pytest.raises(ValueError, match="t_lo_ns must have one value per waveform"):
        amplitude_upper_bound(np.zeros((2, 32)), np.array([32, 32]), np.zeros(3), np.zeros(2), FLOOR)
    with pytest.raises(ValueError, match="peak_floor"):
        amplitude_upper_bound(np.zeros((1, 32)), np.array([32]), np.zeros(1), np.zeros(1), 0.0)
    with pytest.raises(ValueError, match="chi2_ndf must have one value per waveform"):
        suspect_waveforms(np.zeros(3), chi2_ndf=np.zeros(2))


def test_suspects_are_failed_saturated_or_absurd_chi2_fits():
    flags = np.array([0, FLAGS["fit_failed"], FLAGS["saturated"], FLAGS["pileup"], 0])
    chi2 = np.array([1.0, 1.0, 1.0, 1.0, 1e4])
    assert suspect_waveforms(flags, chi2_ndf=chi2).tolist() == [False, True, True, False, True]
    assert suspect_waveforms(flags, saturated=False).tolist() == [False, True, False, False, False]


def _event_with_central_cell(samples: np.ndarray, fitted_amplitude: float):
    lay = calo.CaloLayout()
    cal = calo.CaloCalibration.uniform(lay, mev_per_adc=25.0, time_sigma_ns=1.0)
    cfg = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=20.0)
    counters = [(s, 150.0) for s in ("S1", "S2", "S3", "S4")]
    ecal1 = lay.index("ECAL1")
    pulses = {
        "event": np.zeros(5, int),
        "plane": np.array([lay.index(s) for s, _ in counters] + [ecal1]),
        "x": np.array([0, 0, 0, 0, 3]), "y": np.array([0, 0, 0, 0, 3]),
        "amplitude": np.array([100.0] * 4 + [fitted_amplitude]),
        "time_ns": np.array([150.0] * 5),
    }  # fmt: skip
    digits = {"event": np.zeros(1, int), "plane": np.array([ecal1]), "x": np.array([3]), "y": np.array([3]),
              "samples": samples[None].astype(np.uint16), "nsamples": np.array([32])}  # fmt: skip
    failed = np.zeros((1, len(lay.planes)), bool)
    failed[0, ecal1] = True
    return lay, cal, cfg, pulses, digits, failed


def test_e_ecal_max_bounds_a_doubtful_central_cell():
    # the fit lost most of a 3000 ADC (75 GeV) in-time pulse: a background electron faking a signal
    samples = _waveform([(3000.0, 150.0)])
    lay, cal, cfg, pulses, digits, failed = _event_with_central_cell(samples, 400.0)
    sus = suspect_table(digits, np.array([0]), np.array([True]), FLOOR)
    res = calo.reconstruct_calo(pulses, 1, cal, config=cfg, failed=failed, suspects=sus)
    ev = res.events
    assert ev.e_ecal[0] == pytest.approx(10.0)
    assert ev.e_ecal_max[0] >= 75.0 and ev.e_hcal_max[0] == ev.e_hcal[0]
    assert ev.calo_status[0] & calo.STATUS_FIT_FAILED and ev.calo_missing[0] == 0
    # without the samples, a failed fit leaves the energy unknown
    blind = calo.reconstruct_calo(pulses, 1, cal, config=cfg, failed=failed)
    assert np.isinf(blind.events.e_ecal_max[0]) and np.isinf(blind.events.e_hcal_max[0])
    # a saturated in-time cell can hold any energy
    sat = suspect_table({**digits, "samples": np.minimum(_waveform([(6000.0, 150.0)]), 4095)[None].astype(np.uint16)},
                        np.array([0]), np.array([True]), FLOOR)  # fmt: skip
    assert np.isinf(calo.reconstruct_calo(pulses, 1, cal, config=cfg, failed=failed, suspects=sat).events.e_ecal_max[0])


def test_e_ecal_max_stays_low_when_the_spoiled_fit_is_pile_up():
    # a small in-time pulse and a clipped pile-up pulse 150 ns later: the event stays in the box
    samples = _waveform([(400.0, 150.0), (6000.0, 300.0)])
    lay, cal, cfg, pulses, digits, failed = _event_with_central_cell(samples, 400.0)
    sus = suspect_table(digits, np.array([0]), np.array([True]), FLOOR)
    ev = calo.reconstruct_calo(pulses, 1, cal, config=cfg, failed=failed, suspects=sus).events
    assert 10.0 <= ev.e_ecal_max[0] < 13.0


def test_fixed_time_amplitude_recovers_a_small_pulse_on_a_tail():
    srd = load_template("srd")
    t = np.arange(32) * 12.5
    s = 150.0 + 3000.0 * np.asarray(srd.value(t + 60.0)) / srd.peak_value  # pulse peaking 60 ns before the window
    s = s + 120.0 * np.asarray(srd.value(t - 140.0)) / srd.peak_value
    s = s + np.random.default_rng(3).normal(0.0, 1.5, 32)
    amp = calo.fixed_time_amplitude(s[None], np.array([32]), np.array([140.0]), srd)
    assert amp[0] == pytest.approx(120.0, rel=0.12)  # a straight line approximates the curved tail
    none = calo.fixed_time_amplitude(s[None], np.array([32]), np.array([300.0]), srd)
    assert abs(none[0]) < 8.0
    assert np.isnan(calo.fixed_time_amplitude(s[None], np.array([3]), np.array([140.0]), srd)[0])
    with pytest.raises(ValueError, match="one value per waveform"):
        calo.fixed_time_amplitude(s[None], np.array([32, 32]), np.array([140.0]), srd)


def test_refit_gives_a_suspect_srd_cell_its_in_time_energy():
    srd = load_template("srd")
    lay = calo.CaloLayout()
    cal = calo.CaloCalibration.uniform(lay, mev_per_adc=0.05, time_sigma_ns=1.5)
    cfg = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=20.0, refit_templates={"SRD": srd})
    s = 150.0 + 100.0 * np.asarray(srd.value(T - 150.0)) / srd.peak_value
    srd_plane = lay.index("SRD")
    # the fitter lost the in-time pulse: only a (wrong) pulse far before the window
    pulses = {"event": np.zeros(5, int), "plane": np.array([lay.index(c) for c in ("S1", "S2", "S3", "S4")] + [srd_plane]),
              "x": np.zeros(5, int), "y": np.zeros(5, int), "amplitude": np.array([100.0] * 4 + [5000.0]),
              "time_ns": np.array([150.0] * 4 + [-150.0])}  # fmt: skip
    digits = {"event": np.zeros(1, int), "plane": np.array([srd_plane]), "x": np.array([1]), "y": np.array([0]),
              "samples": np.round(s)[None].astype(np.uint16), "nsamples": np.array([32])}  # fmt: skip
    pulses["x"][4] = 1
    sus = suspect_table(digits, np.array([0]), np.array([True]), template_peak_floor(srd))
    plain = calo.reconstruct_calo(pulses, 1, cal, config=calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=20.0))
    assert plain.events.srd_module[0, 1] == 0.0
    ev = calo.reconstruct_calo(pulses, 1, cal, config=cfg, suspects=sus).events
    assert ev.srd_module[0, 1] == pytest.approx(100.0 * 0.05 / 1000.0, rel=0.05)


def test_channel_pedestal_keeps_the_bound_valid_under_a_tail_everywhere():
    rng = np.random.default_rng(5)
    quiet = [_waveform([], pedestal=150.0, noise=rng.normal(0.0, 1.5, 32)) for _ in range(9)]
    # in time 300 ADC, among pile-up pulses whose tails lift every sample of the window
    pile = [(3000.0, -30.0), (3000.0, 240.0), (3000.0, 330.0)]
    lifted = _waveform([(300.0, 150.0), *pile], pedestal=150.0, noise=rng.normal(0.0, 1.5, 32))
    samples = np.array([*quiet, lifted])
    digits = {"samples": samples, "nsamples": np.full(10, 32), "plane": np.ones(10, int), "x": np.full(10, 3),
              "y": np.full(10, 3)}  # fmt: skip
    ped = calo.channel_pedestal(digits)
    assert np.all(np.abs(ped - 150.0) < 5.0)
    window = (np.array([149.0]), np.array([151.0]))
    own = amplitude_upper_bound(lifted[None], np.array([32]), *window, FLOOR)
    assert own[0] < 300.0  # the smallest sample sits on the tail: too high a pedestal
    fixed = amplitude_upper_bound(lifted[None], np.array([32]), *window, FLOOR, pedestal=ped[-1:])
    assert fixed[0] >= 300.0
    # a channel seen too rarely gives no estimate
    assert np.isinf(calo.channel_pedestal({**digits, "x": np.arange(10)})).all()


def test_every_sample_bound_discounts_a_pile_up_pulse_rising_in_the_window():
    s = _waveform([(300.0, 150.0), (3000.0, 160.0)])  # a big pile-up pulse 10 ns after
    window = (np.array([145.0]), np.array([155.0]))
    peak_only = amplitude_upper_bound(s[None], np.array([32]), *window, FLOOR)[0]
    every = amplitude_upper_bound(s[None], np.array([32]), *window, FLOOR, template=TEMPLATE)[0]
    # the pile-up pulse peaks outside the window: the samples after the in-time peak show
    # that the peak sample's height is not all in-time pulse
    assert peak_only > 2500.0 and 300.0 <= every < 0.4 * peak_only


def test_veto_max_bound_covers_a_doubtful_veto_fit():
    veto_t = load_template("veto")
    lay = calo.CaloLayout()
    cal = calo.CaloCalibration.uniform(lay, mev_per_adc=0.02, time_sigma_ns=1.5)
    cfg = calo.CaloConfig(nominal_master_ns=150.0, master_search_ns=20.0)
    vplane = lay.index("VETO")
    # a MIP in the veto (8 MeV = 400 ADC in time) that the failed fit lost entirely
    s = 150.0 + 400.0 * np.asarray(veto_t.value(T - 150.0)) / veto_t.peak_value
    pulses = {"event": np.zeros(4, int), "plane": np.array([lay.index(c) for c in ("S1", "S2", "S3", "S4")]),
              "x": np.zeros(4, int), "y": np.zeros(4, int), "amplitude": np.full(4, 100.0), "time_ns": np.full(4, 150.0)}
    digits = {"event": np.zeros(1, int), "plane": np.array([vplane]), "x": np.array([1]), "y": np.array([0]),
              "samples": np.round(s)[None].astype(np.uint16), "nsamples": np.array([32])}  # fmt: skip
    sus = suspect_table(digits, np.array([0]), np.array([True]), template_peak_floor(veto_t))
    ev = calo.reconstruct_calo(pulses, 1, cal, config=cfg, suspects=sus).events
    assert ev.veto_max[0] == 0.0 and ev.veto_max_bound[0] >= 0.008
    plain = calo.reconstruct_calo(pulses, 1, cal, config=cfg).events
    assert plain.veto_max_bound[0] == plain.veto_max[0]


def test_fixed_time_amplitude_leaves_a_nearby_pile_up_pulse_to_the_neighbour():
    srd = load_template("srd")
    t = np.arange(32) * 12.5
    shape = lambda peak: np.asarray(srd.value(t - peak)) / srd.peak_value  # noqa: E731
    noise = np.random.default_rng(5).normal(0.0, 1.5, 32)
    s = 150.0 + 60.0 * shape(125.0) + 180.0 * shape(140.0) + noise  # pile-up 15 ns after the in-time pulse
    straight = calo.fixed_time_amplitude(s[None], np.array([32]), np.array([125.0]), srd)
    shared = calo.fixed_time_amplitude(s[None], np.array([32]), np.array([125.0]), srd, neighbour_ns=25.0)
    assert shared[0] == pytest.approx(60.0, abs=10.0)
    assert abs(straight[0] - 60.0) > abs(shared[0] - 60.0)
    # nothing in time: the neighbour takes the pile-up, the in-time amplitude stays near 0
    alone = 150.0 + 180.0 * shape(140.0) + noise
    assert abs(calo.fixed_time_amplitude(alone[None], np.array([32]), np.array([125.0]), srd, neighbour_ns=25.0)[0]) < 10
    # an isolated pulse: the neighbour gains too little chi2 to be used
    iso = 150.0 + 60.0 * shape(125.0) + noise
    with_nb = calo.fixed_time_amplitude(iso[None], np.array([32]), np.array([125.0]), srd, neighbour_ns=25.0)
    assert with_nb[0] == calo.fixed_time_amplitude(iso[None], np.array([32]), np.array([125.0]), srd)[0]


def test_clipped_near_looks_only_inside_the_guard_window():
    s = np.full((3, 32), 150, np.uint16)
    s[0, 5] = 4095  # 62.5 ns: 87.5 ns before a pulse at 150 ns
    s[1, 10] = 4095  # 125 ns: 25 ns before
    s[2, 20] = 4095  # 250 ns: 100 ns after
    near = calo.fit_bounds.clipped_near(s, np.array([32, 32, 10]), np.full(3, 150.0), 37.5, 75.0)
    assert near.tolist() == [False, True, False]  # row 2's clipped sample was not recorded


def test_saturation_only_suspects_are_trusted_away_from_the_in_time_pulse():
    from na64reco.calo.fit_bounds import saturation_only_of_fit

    waves = {"flags": np.array([FLAGS["saturated"], FLAGS["saturated"] | FLAGS["fit_failed"], FLAGS["saturated"], 0]),
             "chi2": np.array([30.0, 30.0, 600.0, 30.0]), "ndf": np.array([30, 30, 30, 30])}  # fmt: skip
    pulses = {"wave": np.array([0]), "amplitude": np.array([100.0])}
    assert saturation_only_of_fit("ecal", waves, pulses).tolist() == [True, False, False, False]
    lay = calo.CaloLayout()
    cal = calo.CaloCalibration.uniform(lay, mev_per_adc=10.0, time_sigma_ns=1.0)
    counters = [(s, 127.5) for s in ("S1", "S2", "S3", "S4")]
    # the in-time pulse (500 ADC) at 127.5 ns; two pile-up pulses clip the samples 100 ns later
    samples = np.stack([_waveform([(500.0, 127.5), (3000.0, 227.5), (3000.0, 230.0)])] * 2).astype(np.uint16)
    assert (samples >= 4095).any()
    digits = {"event": np.array([0, 1]), "plane": np.full(2, lay.index("ECAL1")), "x": np.full(2, 3),
              "y": np.full(2, 3), "samples": samples, "nsamples": np.full(2, 32)}  # fmt: skip
    names = [p for p, _ in counters] + ["ECAL1"]
    pulses = {"event": np.repeat([0, 1], 5), "plane": np.array([lay.index(p) for p in names] * 2),
              "x": np.array([0, 0, 0, 0, 3] * 2), "y": np.array([0, 0, 0, 0, 3] * 2),
              "amplitude": np.array(([100.0] * 4 + [500.0]) * 2), "time_ns": np.full(10, 127.5)}  # fmt: skip
    sus = suspect_table(digits, np.array([0, 1]), np.array([True, True]), FLOOR, saturated_only=np.array([True, False]))
    cfg = calo.CaloConfig(refit_templates={}, clip_guard_ns=(25.0, 75.0))
    ev = calo.reconstruct_calo(pulses, 2, cal, config=cfg, suspects=sus).events
    assert ev.e_ecal_max[0] == pytest.approx(5.0)  # trusted: the fit's 500 ADC x 10 MeV
    assert ev.e_ecal_max[1] > 5.2  # a plain suspect keeps its model-free bound (peak / peak_floor)
    near = calo.reconstruct_calo(pulses, 2, cal, config=calo.CaloConfig(refit_templates={}, clip_guard_ns=(25.0, 120.0)),
                                 suspects=sus).events  # fmt: skip
    assert near.e_ecal_max[0] > 5.2  # clipped samples inside the guard: still bounded


def test_srd_fit_options_flag_waveforms_without_an_in_time_pulse():
    from na64reco.calo.fit_options import fit_options
    from na64reco.waveform import WaveformFitter

    srd = load_template("srd")
    opts = fit_options("srd")
    assert opts["pre_window_ns"] == 0.0 and fit_options("nonexistent") == {}
    fitter = WaveformFitter(srd, sampling_ns=12.5, noise_rms=1.5, **opts)
    t = np.arange(32) * 12.5
    late = 150.0 + 200.0 * np.asarray(srd.value(t - 150.0)) / srd.peak_value  # 24.5 ns after the window centre
    timely = 150.0 + 200.0 * np.asarray(srd.value(t - 128.0)) / srd.peak_value
    res = fitter.fit(np.stack([late, timely]))
    assert res.flags[0] & FLAGS["out_of_window"] and not res.flags[1] & FLAGS["out_of_window"]


def test_srd_waveforms_crowded_near_the_in_time_pulse_are_suspects():
    from na64reco.calo.fit_bounds import NEAR_PILEUP_NS, crowded_near_in_time, saturation_only_of_fit, suspects_of_fit
    from na64reco.calo.fit_options import fit_options

    centre, half = fit_options("srd")["trigger_time_ns"], NEAR_PILEUP_NS["srd"]
    # two good fits: a pile-up pulse 15 ns after the in-time one, and one 60 ns after it
    waves = {"flags": np.array([FLAGS["pileup"]] * 2), "chi2": np.array([28.0, 28.0]), "ndf": np.array([26, 26])}
    pulses = {"wave": np.array([0, 0, 1, 1]), "time_ns": np.array([centre, centre + 15.0, centre, centre + 60.0]),
              "amplitude": np.array([30.0, 150.0, 30.0, 150.0])}  # fmt: skip
    assert crowded_near_in_time("srd", waves, pulses).tolist() == [True, False]
    assert suspects_of_fit("srd", waves, pulses).tolist() == [True, False]
    assert not suspects_of_fit("srd", waves, pulses, near_pileup=False).any()
    assert not saturation_only_of_fit("srd", waves, pulses).any()
    # kinds without an expected in-time time are never crowded
    assert not crowded_near_in_time("hcal", waves, pulses).any() and half > 15.0


def test_events_crowded_by_the_counters_are_two_particles_near_the_in_time_time():
    from na64reco.calo.fit_bounds import COUNTER_MIN_ADC, COUNTER_MERGE_NS, crowded_by_counters

    c = 127.5
    # event 0: one particle in four counters (times within 1 ns); 1: a second particle 12 ns
    # later; 2: the second particle 40 ns away (outside 30 ns); 3: the second one too small;
    # 4: no counter pulse; 5: two particles 4 ns apart (one, within the merge distance)
    event = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 5, 5])
    time = np.array([c, c + 0.5, c - 0.4, c + 0.8, c, c + 0.3, c + 12.0, c + 12.2, c, c + 40.0, c, c + 12.0,
                     c, c + 4.0])  # fmt: skip
    amp = np.full(event.size, 800.0)
    amp[11] = COUNTER_MIN_ADC - 1
    crowded = crowded_by_counters(event, time, amp, 6, c, 30.0)
    assert crowded.tolist() == [False, True, False, False, False, False] and COUNTER_MERGE_NS == 5.0
    # events beyond n_events and negative ones are ignored
    assert crowded_by_counters(np.array([7, -1]), np.array([c, c + 20]), np.array([800.0, 800.0]), 6, c, 30.0).sum() == 0


def _reference_bound(s, ns, lo, hi, floor, pedestal, noise=2.0, sat=4095.0, step=0.5, dt=12.5):
    """The bound written out row by row in numpy, as the docstring states it."""
    out = np.zeros(len(s))
    for i, row in enumerate(s):
        t = np.arange(ns[i]) * dt
        y = row[: ns[i]]
        near = (t >= lo[i] - dt / 2) & (t <= hi[i] + dt / 2)
        if not near.any():
            continue
        if (y[near] >= sat).any():
            out[i] = np.inf
            continue
        ped = min(y.min(), pedestal[i]) - 3 * noise
        bound = max(y[near].max() + 3 * noise - ped, 0.0) / floor
        peaks = np.minimum(lo[i] + step * np.arange(int(np.ceil(max(hi[i] - lo[i], 0) / step)) + 1), hi[i])
        best = -np.inf
        for p in peaks:
            shape = np.asarray(TEMPLATE.value(t - p))
            use = (shape >= 0.05) & (y < sat)
            best = max(best, np.min(np.maximum(y[use] - ped + 5 * noise + 0.5, 0) / shape[use], initial=np.inf))
        out[i] = min(bound, best)
    return out


def test_bound_kernel_matches_the_row_by_row_definition():
    rng = np.random.default_rng(5)
    n = 300
    amp = np.exp(rng.uniform(0.0, 8.5, (n, 3)))
    tau = np.c_[rng.uniform(120, 180, n), rng.uniform(-100, 400, (n, 2))]
    s = np.stack([_waveform(list(zip(a, t)), pedestal=100.0, noise=rng.normal(0, 2, 32)) for a, t in zip(amp, tau)])
    ns = np.where(rng.random(n) < 0.2, rng.integers(0, 33, n), 32)
    lo = rng.uniform(120, 170, n)
    hi = lo + rng.uniform(-3, 20, n)
    ped = np.where(rng.random(n) < 0.5, rng.normal(100, 3, n), np.inf)
    got = amplitude_upper_bound(s, ns, lo, hi, FLOOR, pedestal=ped, template=TEMPLATE)
    want = _reference_bound(s, ns, lo, hi, FLOOR, ped)
    assert np.array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    assert np.allclose(got[fin], want[fin], rtol=1e-5, atol=1e-6)
    assert (got == 0).sum() > 0 and np.isinf(got).sum() > 0 and fin.sum() > n // 2  # every branch exercised


def test_channel_pedestal_integer_histogram_equals_the_sorted_median():
    rng = np.random.default_rng(9)
    n = 3000
    samples = rng.integers(80, 400, (n, 32)).astype(np.uint16)
    digits = {
        "samples": samples,
        "nsamples": np.where(rng.random(n) < 0.1, rng.integers(0, 33, n), 32),
        "plane": rng.integers(-1, 4, n),
        "x": rng.integers(-1, 6, n),
        "y": rng.integers(0, 6, n),
    }
    by_histogram = calo.channel_pedestal(digits)
    by_sorting = calo.channel_pedestal({**digits, "samples": samples.astype(np.float64)})
    assert np.array_equal(by_histogram, by_sorting)
    # large coordinates take the sorting path to channel ids: same grouping, same medians
    assert np.array_equal(calo.channel_pedestal({**digits, "x": digits["x"] + 100_000}), by_histogram)
    assert np.isfinite(by_histogram).mean() > 0.9
    # the lower median of a channel's smallest recorded samples, written out
    key = digits["plane"] * 100 + digits["x"] * 10 + digits["y"]
    row = int(np.flatnonzero(np.isfinite(by_histogram))[0])
    same = (key == key[row]) & (digits["nsamples"] > 0)
    low = np.sort([samples[i, : digits["nsamples"][i]].min() for i in np.flatnonzero(same)])
    assert by_histogram[row] == low[(low.size - 1) // 2]


def test_channel_pedestal_of_annotated_digits_equals_the_coordinate_grouping():
    # digits annotated by Setup.annotate_sadc carry a cell number: the compiled per-channel
    # median over it must give what grouping by (plane, x, y) gives, rows or no rows
    rng = np.random.default_rng(11)
    n = 5000
    samples = rng.integers(80, 400, (n, 32)).astype(np.uint16)
    samples[rng.random(n) < 0.01, 3] = 4095  # a spread of values within a channel
    plane = rng.integers(-1, 4, n)
    x, y = rng.integers(0, 6, n), rng.integers(0, 6, n)
    x[plane < 0] = y[plane < 0] = -1
    cell = np.where(plane >= 0, plane * 36 + y * 6 + x, -1).astype(np.int32)
    digits = {"samples": samples, "nsamples": np.where(rng.random(n) < 0.1, rng.integers(0, 33, n), 32),
              "plane": plane, "x": x, "y": y}
    rows = np.flatnonzero(rng.random(n) < 0.05)
    lowest, _ = sample_range(samples, digits["nsamples"])
    expected = calo.channel_pedestal(digits, rows=rows)
    assert np.isfinite(expected).any()
    for low in (None, lowest):
        got = calo.channel_pedestal({**digits, "cell": cell}, rows=rows, lowest=low)
        assert np.array_equal(got, expected)
    assert np.array_equal(calo.channel_pedestal({**digits, "cell": cell}, rows=rows, min_waveforms=10**6),
                          np.full(rows.size, np.inf))
    # values beyond 12 bits (not from the 12-bit ADC) take the kernel's general path
    wide = lowest + np.where(rng.random(n) < 0.3, 7000, 0).astype(np.int32)
    expected_wide = calo.channel_pedestal(digits, rows=rows, lowest=wide.astype(np.float64))
    assert np.array_equal(calo.channel_pedestal({**digits, "cell": cell}, rows=rows, lowest=wide), expected_wide)
    # counts of any integer type: the decoder's uint16 are read in place, others converted
    for counts in (digits["nsamples"].astype(np.uint16), digits["nsamples"].astype(np.int16)):
        got = lowest_median_by_key(cell, lowest, counts, cell[rows], 5)
        assert np.array_equal(got, expected)
    with pytest.raises(ValueError, match="keys must be >= -1"):
        lowest_median_by_key(cell - 5, lowest, digits["nsamples"].astype(np.int64), cell[rows], 5)


def _reference_fixed_time(s, ns, tc, template, before=2, after=5, sat=4095.0, nb_ns=0.0, nb_sep=6.0, nb_step=1.25,
                          nb_dchi2=25.0, noise=2.0, dt=12.5):
    """fixed_time_amplitude's least squares written out row by row with numpy's solver."""
    out = np.full(len(s), np.nan)
    offsets = np.arange(-nb_ns, nb_ns + 1e-9, nb_step) if nb_ns > 0 else np.zeros(0)
    offsets = offsets[np.abs(offsets) >= nb_sep]
    for i, row in enumerate(s):
        if not np.isfinite(tc[i]):
            continue
        x = np.arange(len(row)) * dt - tc[i]
        use = (np.arange(len(row)) < ns[i]) & (row < sat) & (x >= -before * dt - dt / 2) & (x <= after * dt + dt / 2)
        if use.sum() < 4:
            continue
        y = row[use]
        base = [np.asarray(template.value(x[use])), np.ones(use.sum()), x[use] / 100.0]

        def fit(cols):
            a = np.stack(cols, axis=1)
            normal = a.T @ a
            if not abs(np.linalg.det(normal)) > 1e-9:
                return None
            beta = np.linalg.solve(normal, a.T @ y)
            return beta, float(np.sum((y - a @ beta) ** 2))

        best = np.inf
        r = fit(base)
        if r is not None:
            out[i], best = r[0][0], r[1]
        if use.sum() < 5:
            continue
        tries = [fit(base + [np.asarray(template.value(x[use] - o))]) for o in offsets]
        tries = [t for t in tries if t is not None and t[0][3] >= 0]
        if tries:
            beta, chi2 = min(tries, key=lambda t: t[1])
            if chi2 + nb_dchi2 * noise**2 < best:
                out[i] = beta[0]
    return out


@pytest.mark.parametrize("neighbour_ns", [0.0, 25.0])
def test_fixed_time_kernel_matches_the_row_by_row_least_squares(neighbour_ns):
    srd = load_template("srd")
    rng = np.random.default_rng(11)
    n = 200
    t = np.arange(32) * 12.5
    tc = rng.uniform(100, 180, n)
    pile = tc + rng.choice([-1, 1], n) * rng.uniform(5, 30, n)
    s = (150.0 + rng.uniform(0, 300, (n, 1)) * srd.value((t[None] - tc[:, None]).ravel()).reshape(n, 32)
         + rng.uniform(0, 400, (n, 1)) * srd.value((t[None] - pile[:, None]).ravel()).reshape(n, 32)
         + rng.normal(0, 2, (n, 32)))  # fmt: skip
    s = np.minimum(np.round(s), 4095.0)
    s[:10, 12] = 4095.0
    ns = np.where(rng.random(n) < 0.1, rng.integers(0, 33, n), 32)
    tc[:5] = np.nan
    got = calo.fixed_time_amplitude(s, ns, tc, srd, neighbour_ns=neighbour_ns)
    want = _reference_fixed_time(s, ns, tc, srd, nb_ns=neighbour_ns)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got).sum() >= 5
    assert np.allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-5, atol=1e-4)


def test_channel_pedestal_of_chosen_rows_equals_the_full_computation():
    rng = np.random.default_rng(11)
    n = 2000
    digits = {
        "samples": rng.integers(80, 400, (n, 32)).astype(np.uint16),
        "nsamples": np.where(rng.random(n) < 0.1, rng.integers(0, 33, n), 32),
        "plane": rng.integers(-1, 4, n),
        "x": rng.integers(-1, 6, n),
        "y": rng.integers(0, 6, n),
    }
    full = calo.channel_pedestal(digits)
    for rows in (rng.choice(n, 40, replace=False), np.arange(n), np.array([7, 7, 3]), np.zeros(0, np.int64)):
        assert np.array_equal(calo.channel_pedestal(digits, rows=rows), full[rows])
    # coordinates too spread for the channel table take the general path: same values
    far = {**digits, "x": digits["x"] * 1_000_000}
    assert np.array_equal(calo.channel_pedestal(far, rows=np.arange(0, n, 7)), calo.channel_pedestal(far)[::7])
    with pytest.raises(IndexError, match="rows must index the 2000 digits"):
        calo.channel_pedestal(digits, rows=np.array([n]))
