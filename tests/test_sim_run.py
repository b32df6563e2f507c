"""End-to-end: a simulated run decoded back agrees with its truth, sample by sample."""

import filecmp
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import na64reco as nr
from na64reco.firmware import emulate
from na64reco.sim import SimConfig, load_rt, read_truth, read_truth_metadata, simulate
from na64reco.sim.cells import CELL_KIND, CELL_PLANE, CELL_X, CELL_Y, KINDS, N_CELLS
from na64reco.sim.trigger import trigger_roles
from na64reco.sim.waveforms import load_template

N_EVENTS = 2500
RUN = 6000  # 2023 period: LED corrections per spill exist for this run
OPTIONS = dict(
    run=RUN,
    events_per_spill=1000,
    hadron_fraction=0.04,
    muon_fraction=0.04,
    signal_fraction=0.05,
    chunk_events=1024,
)


@pytest.fixture(scope="module")
def run_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("simrun")
    summary = simulate(N_EVENTS, 42, d / "run.dat", truth=d / "truth.parquet", **OPTIONS)
    return d, summary


@pytest.fixture(scope="module")
def decoded(run_files):
    d, _ = run_files
    return nr.open_raw(d / "run.dat").read_all()


@pytest.fixture(scope="module")
def truth(run_files):
    d, _ = run_files
    return {t: read_truth(d / "truth.parquet", t) for t in ("events", "pulses", "particles", "straws", "channels")}


def _cell_of(plane, x, y):
    lookup = np.full((14, 6, 6), -1, dtype=np.int64)
    lookup[CELL_PLANE, CELL_X, CELL_Y] = np.arange(N_CELLS)
    return lookup[plane, x, y]


def test_run_structure_like_a_real_file(decoded, truth, run_files):
    _, summary = run_files
    assert decoded.error_counts() == {}
    ev = decoded.events
    types, counts = np.unique(ev.type, return_counts=True)
    assert dict(zip(types.tolist(), counts.tolist())) == {5: 3, 6: 3, 7: N_EVENTS}
    assert summary.n_spills == 3 and summary.n_events == N_EVENTS
    assert np.all(ev.run == RUN)
    # each spill: start of burst, its physics events, end of burst
    assert ev.type[0] == 5 and ev.type[1001] == 6 and ev.type[1002] == 5 and ev.type[-1] == 6
    phys = ev.type == 7
    assert np.array_equal(ev.event_in_run[phys], np.arange(1, N_EVENTS + 1))
    assert np.array_equal(ev.spill[phys], truth["events"]["spill"])
    assert np.array_equal(ev.event_in_spill[phys], truth["events"]["event_in_spill"])
    assert np.all(np.diff(ev.time.astype(np.int64)) >= 0)
    assert np.array_equal(ev.trigger_mask[phys], truth["events"]["trigger_mask"])


def test_decoded_samples_are_truth_pulses_plus_pedestal_within_noise(decoded, truth):
    setup = nr.detector.load_setup(RUN)
    sadc = setup.annotate_sadc(decoded.sadc)
    assert np.all(sadc.plane >= 0)
    phys_index = np.cumsum(decoded.events.type == 7) - 1
    event = phys_index[sadc.event]
    cell = _cell_of(sadc.plane, sadc.x, sadc.y)
    samples = np.zeros((N_EVENTS, N_CELLS, 32))
    samples[event, cell] = sadc.samples[:, :32]

    ch = truth["channels"]
    ch_cell = _cell_of(ch["plane"], ch["x"], ch["y"])
    expected = np.zeros((N_EVENTS, N_CELLS, 32))
    expected[:, ch_cell, 0::2] = ch["pedestal_even"][None, :, None]
    expected[:, ch_cell, 1::2] = ch["pedestal_odd"][None, :, None]
    p = truth["pulses"]
    p_cell = _cell_of(p["plane"], p["x"], p["y"])
    p_event = p["event"] - 1
    t = np.arange(32) * 12.5
    for k, kind in enumerate(KINDS):
        sel = CELL_KIND[p_cell] == k
        shape = load_template(kind)(t[None, :] - p["time_ns"][sel, None].astype(np.float64))
        contrib = p["amplitude_adc"][sel, None].astype(np.float64) * shape
        flat = (p_event[sel] * N_CELLS + p_cell[sel])[:, None] * 32 + np.arange(32)
        expected.ravel()[:] += np.bincount(flat.ravel(), contrib.ravel(), minlength=expected.size)

    ok = (samples < 4095) & (expected < 4000)
    assert ok.mean() > 0.99
    residual = (samples - expected)[ok]
    rms_of_cell = np.empty(N_CELLS)
    rms_of_cell[ch_cell] = ch["noise_rms"]
    rms = np.broadcast_to(rms_of_cell[None, :, None], samples.shape)[ok]
    pull = residual / np.sqrt(rms**2 + 1.0 / 12.0)  # quantisation adds 1/12 count^2
    assert abs(pull.mean()) < 0.01
    assert abs(pull.std() - 1.0) < 0.01
    assert np.abs(pull).max() < 7.0
    # saturated samples are exactly where the truth exceeds the range
    assert np.all(expected[samples == 4095] > 4080)


def test_truth_pulses_match_the_event_truth(truth):
    ev, p = truth["events"], truth["pulses"]
    in_time = ~p["is_pileup"]
    ecal = np.isin(p["plane"], [0, 1]) & in_time
    e_ecal = np.bincount(p["event"][ecal] - 1, p["energy_mev"][ecal].astype(np.float64), minlength=N_EVENTS)
    assert np.allclose(e_ecal, ev["e_ecal_true"], rtol=1e-5, atol=1.0)
    assert np.allclose(ev["ecal_cells"].sum(axis=1), ev["e_ecal_true"], rtol=1e-5)
    n_pile = np.bincount(truth["particles"]["event"] - 1, truth["particles"]["is_pileup"], minlength=N_EVENTS)
    assert np.array_equal(n_pile, ev["n_pileup"])
    # in-time ECAL pulses sit at the trigger phase of their event
    t_ecal = ev["t_ecal_ns"][p["event"][ecal] - 1]
    assert np.allclose(p["time_ns"][ecal], t_ecal, atol=1e-3)


def test_composition_and_rates_have_the_configured_means(truth):
    ev = truth["events"]
    n = N_EVENTS
    cfg = SimConfig(**OPTIONS)

    def within(count, frac):
        sigma = np.sqrt(n * frac * (1 - frac))
        return abs(count - n * frac) < 4 * sigma

    assert within(np.sum(ev["particle"] == -211), cfg.hadron_fraction)
    assert within(np.sum(ev["particle"] == 13), cfg.muon_fraction)
    assert within(np.sum(ev["is_signal"]), cfg.signal_fraction)
    mean_pileup = cfg.rate_hz * (cfg.pileup_before_ns + cfg.window_ns) * 1e-9
    assert abs(ev["n_pileup"].mean() - mean_pileup) < 4 * np.sqrt(mean_pileup / n)
    assert abs(ev["n_pileup"].var() / mean_pileup - 1) < 0.1  # Poisson
    e_beam = ev["e_beam"]
    assert abs(e_beam.mean() / 100e3 - 1) < 4 * 0.01 / np.sqrt(n)
    assert abs(e_beam.std() / 100e3 - 0.01) < 0.001
    # pile-up arrival times are uniform over the generated span
    pp = truth["particles"]
    dt = pp["dt_ns"][pp["is_pileup"]] + ev["t_ecal_ns"][pp["event"][pp["is_pileup"]] - 1]
    assert dt.min() >= -cfg.pileup_before_ns and dt.max() <= cfg.window_ns
    hist = np.histogram(dt, bins=8, range=(-cfg.pileup_before_ns, cfg.window_ns))[0]
    assert np.all(np.abs(hist - hist.mean()) < 5 * np.sqrt(hist.mean()))
    # signal events miss energy; the others do not
    sig = ev["is_signal"]
    assert np.all(ev["e_missing"][~sig] == 0) and np.all(ev["e_missing"][sig] > 0)
    assert np.all(ev["e_missing"][sig] <= ev["e_beam"][sig])


def test_straw_hits_decode_to_the_true_hits(decoded, truth):
    setup = nr.detector.load_setup(RUN)
    tdc = setup.annotate_tdc(decoded.tdc)
    assert np.all(tdc.plane >= 0)
    ev_in_run = decoded.events.event_in_run[tdc.event].astype(np.int64)
    got = np.stack([ev_in_run, tdc.plane, tdc.layer, tdc.tube, tdc.time_bins], axis=1).astype(np.int64)
    s = truth["straws"]
    rec = s["recorded"]
    want = np.stack([s["event"][rec], s["straw_plane"][rec], s["layer"][rec], s["tube"][rec], s["time_bins"][rec]], axis=1)
    assert len(got) == len(want) > 10 * N_EVENTS
    assert np.array_equal(got[np.lexsort(got.T[::-1])], want[np.lexsort(want.T[::-1])].astype(np.int64))
    # the drift time follows the r(t) table from the smeared radius
    rt = load_rt()
    real = ~s["is_noise"]
    drift = s["time_ns"][real] - 20.0 - truth["particles"]["dt_ns"][_particle_row(truth, s["event"][real], s["particle"][real])]
    assert np.allclose(rt.radius(drift), s["r_smeared_mm"][real], atol=1e-6)
    # every beam particle crossing a plane leaves one hit per staggered doublet ~ efficiency
    trig_hits = real & (s["particle"] == 0)
    per_plane = np.bincount((s["event"][trig_hits] - 1) * 4 + s["straw_plane"][trig_hits], minlength=N_EVENTS * 4)
    assert 1.85 < per_plane.mean() < 1.95  # 2 layers x 0.95 efficiency, minus rare misses


def _particle_row(truth, event, particle):
    pp = truth["particles"]
    first = np.searchsorted(pp["event"], event)
    return first + particle


def test_trigger_mask_is_the_firmware_emulation_of_the_recorded_windows(decoded, truth):
    setup = nr.detector.load_setup(RUN)
    sadc = setup.annotate_sadc(decoded.sadc)
    phys_index = np.cumsum(decoded.events.type == 7) - 1
    samples = np.zeros((N_EVENTS, N_CELLS, 32), dtype=np.uint16)
    samples[phys_index[sadc.event], _cell_of(sadc.plane, sadc.x, sadc.y)] = sadc.samples[:, :32]
    bits = emulate(*trigger_roles(samples))["trigger_bits"].astype(np.uint64)
    recorded = truth["events"]["trigger_mask"]
    assert np.array_equal(recorded & np.uint64(3), bits & np.uint64(3))
    # beam particles without pile-up always give the beam coincidence
    alone = truth["events"]["n_pileup"] == 0
    assert np.all(recorded[alone] & np.uint64(2))


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, run_files):
    d, _ = run_files
    kw = dict(OPTIONS, rate_hz=5e6)
    simulate(1500, 9, tmp_path / "a.dat", truth=tmp_path / "a.parquet", **kw)
    simulate(1500, 9, tmp_path / "b.dat", truth=tmp_path / "b.parquet", **kw)
    simulate(1500, 10, tmp_path / "c.dat", **kw)
    assert filecmp.cmp(tmp_path / "a.dat", tmp_path / "b.dat", shallow=False)
    for table in ("", ".pulses", ".particles", ".straws", ".channels"):
        assert filecmp.cmp(tmp_path / f"a{table}.parquet", tmp_path / f"b{table}.parquet", shallow=False)
    assert not filecmp.cmp(tmp_path / "a.dat", tmp_path / "c.dat", shallow=False)
    # truth or not, the raw file is the same
    simulate(1500, 9, tmp_path / "d.dat", **kw)
    assert filecmp.cmp(tmp_path / "a.dat", tmp_path / "d.dat", shallow=False)


def test_failure_mid_run_leaves_no_file_behind(tmp_path, monkeypatch):
    import na64reco.sim.run as run_module

    real = run_module.generate_chunk
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(run_module, "generate_chunk", failing)
    (tmp_path / "run.dat").write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk on fire"):
        simulate(300, 1, tmp_path / "run.dat", truth=tmp_path / "t.parquet", chunk_events=100)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.dat"]
    assert (tmp_path / "run.dat").read_bytes() == b"old"


def test_truth_amplitudes_calibrate_back_to_the_true_energy(truth):
    """The reconstruction's amplitude * mev_per_adc * LED(spill) gives the deposited energy."""
    setup = nr.detector.load_setup(RUN)
    p = truth["pulses"]
    spill = truth["events"]["spill"][p["event"] - 1]
    cell = setup.cell_index(p["plane"], p["x"], p["y"])
    assert np.all(cell >= 0)
    led = setup.calibration.led_correction(spill, cell)
    assert np.any(np.abs(led - 1.0) > 1e-3)  # run 6000 has per-spill LED factors
    energy = setup.calibration.mev(p["amplitude_adc"].astype(np.float64), spill, cell)
    assert np.allclose(energy, p["energy_mev"], rtol=1e-5, atol=1e-6)


def test_every_truth_file_records_seed_and_configuration(run_files):
    d, _ = run_files
    config = json.loads(json.dumps(SimConfig(**OPTIONS).to_dict()))  # tuples become lists
    for name in ("truth.parquet", "truth.pulses.parquet", "truth.straws.parquet", "truth.channels.parquet"):
        meta = read_truth_metadata(d / name)
        assert meta["seed"] == 42 and meta["n_events"] == N_EVENTS and meta["run"] == RUN
        assert meta["config"] == config
        assert meta["config"]["straw_sigma_r_mm"] == 0.15  # the smearing behind r_smeared_mm
    pq.write_table(pa.table({"a": [1]}), d / "other.parquet")
    with pytest.raises(ValueError, match="no na64reco.sim metadata; not a simulation truth file"):
        read_truth_metadata(d / "other.parquet")
