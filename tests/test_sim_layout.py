"""The simulator's fast paths give what the plain ones give: kernel layouts, direct trigger call,
straw hits without truth, and the raw writer's compiled record packing."""

import numpy as np
import pytest

from na64reco._core import raw as core_raw
from na64reco._core import sim as core_sim
from na64reco.sim import SimConfig
from na64reco.sim import generate as gen
from na64reco.sim.cells import KINDS, N_CELLS
from na64reco.sim.run import _prepare
from na64reco.sim.straws import load_rt, straw_hits
from na64reco.sim.trigger import (
    FIRMWARE_ROW_OF_CELL,
    N_FIRMWARE_ROWS,
    trigger_mask,
    trigger_mask_windows,
)
from na64reco.sim.waveforms import draw_conditions, draw_noise, synthesize, synthesize_layout

GROUPS = np.arange(N_CELLS) // 16


def _synth_case(seed=3, n_events=40):
    rng = np.random.default_rng(seed)
    cfg = SimConfig(noise_common_fraction=0.2).validate()
    cond = draw_conditions(rng, cfg)
    counts = 1 + rng.poisson(2.0, n_events)
    first = np.concatenate([[0], np.cumsum(counts)])
    p = int(first[-1])
    amp = rng.exponential(800.0, (p, N_CELLS)) * (rng.random((p, N_CELLS)) < 0.6)
    peak = rng.uniform(-100.0, 300.0, (p, 1)) + rng.normal(0, 5, (p, len(KINDS)))
    noise = draw_noise(rng, cfg, n_events, int(GROUPS.max()) + 1)
    return cfg, cond, noise, amp, peak, first


def test_layout_is_the_plain_output_permuted_with_sums_and_trigger_windows():
    cfg, cond, noise, amp, peak, first = _synth_case()
    plain = synthesize(cfg, cond, GROUPS, noise, amp, peak, first)
    out_row = np.random.default_rng(1).permutation(N_CELLS).astype(np.int32)
    samples, sums, windows = synthesize_layout(
        cfg, cond, GROUPS, noise, amp, peak, first, out_row, FIRMWARE_ROW_OF_CELL, N_FIRMWARE_ROWS
    )
    cell_of_row = np.argsort(out_row)
    np.testing.assert_array_equal(samples, plain[:, cell_of_row, :])
    np.testing.assert_array_equal(sums, (samples.sum(axis=2, dtype=np.int64) & 0xFFFF).reshape(-1))
    order = np.argsort(FIRMWARE_ROW_OF_CELL)[N_CELLS - N_FIRMWARE_ROWS:]
    np.testing.assert_array_equal(windows, plain[:, order, :])
    assert plain.max() == 4095  # saturated pulses are in the comparison


@pytest.mark.parametrize(
    ("out_row", "trigger_row", "n_rows", "message"),
    [
        (np.zeros(N_CELLS), np.full(N_CELLS, -1), 0, "out_row"),
        (np.arange(N_CELLS), np.full(N_CELLS, 5), 6, "second_row"),
        (np.arange(N_CELLS), np.full(N_CELLS, -1), 2, "row 0 of the second output"),
        (np.arange(N_CELLS), np.full(N_CELLS, -2), 0, "second_row"),
        (np.arange(N_CELLS - 1), np.full(N_CELLS, -1), 0, "out_row"),
    ],
)
def test_bad_layouts_are_rejected(out_row, trigger_row, n_rows, message):
    cfg, cond, noise, amp, peak, first = _synth_case(n_events=3)
    with pytest.raises(ValueError, match=message):
        synthesize_layout(cfg, cond, GROUPS, noise, amp, peak, first, out_row, trigger_row, n_rows)


def test_direct_trigger_call_equals_the_firmware_api():
    cfg, cond, noise, amp, peak, first = _synth_case(seed=5, n_events=64)
    amp *= 4.0  # enough energy for physics triggers
    plain = synthesize(cfg, cond, GROUPS, noise, amp, peak, first)
    _, _, windows = synthesize_layout(
        cfg, cond, GROUPS, noise, amp, peak, first, np.arange(N_CELLS), FIRMWARE_ROW_OF_CELL, N_FIRMWARE_ROWS
    )
    slow = trigger_mask(np.random.default_rng(9), cfg, plain)
    fast = trigger_mask_windows(np.random.default_rng(9), cfg, windows)
    np.testing.assert_array_equal(fast, slow)
    assert len(np.unique(fast)) > 1
    with pytest.raises(ValueError, match="trigger windows"):
        trigger_mask_windows(np.random.default_rng(9), cfg, windows[:, :10])
    assert trigger_mask_windows(np.random.default_rng(9), cfg, windows[:0]).size == 0


def test_straw_hits_without_truth_give_the_same_f1_hits():
    cfg, _, readout, _, _ = _prepare(50, 1, SimConfig(rate_hz=6e6), None, {})
    rt = load_rt()
    rng = np.random.default_rng(4)
    from na64reco.sim.beam import draw_particles, draw_pileup_times

    trig = draw_particles(rng, cfg, np.arange(50), np.zeros(50), False)
    ev, dt, _ = draw_pileup_times(rng, cfg, 50, np.full(50, 137.5))
    allp = gen._sort_particles(gen._concat_particles(trig, draw_particles(rng, cfg, ev, dt, True)))
    f1 = np.random.default_rng(2).integers(0, 512, 50)
    full = straw_hits(np.random.default_rng(8), cfg, readout.straws, rt, allp, 50, f1)
    lean = straw_hits(np.random.default_rng(8), cfg, readout.straws, rt, allp, 50, f1, with_truth=False)
    assert full.tdc.keys() == lean.tdc.keys() and full.tdc["event"].size > 0
    for name in full.tdc:
        np.testing.assert_array_equal(full.tdc[name], lean.tdc[name])
    assert list(full.truth)[:8] == ["event", "straw_plane", "layer", "tube", "r_true_mm", "r_smeared_mm",
                                    "drift_true_ns", "time_ns"]


def _records(n, width, ns, seed=0):
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, 4096, (n, width)).astype(np.uint16)
    return samples, np.full(n, ns, dtype=np.int64), rng.integers(0, 65536, n), rng.integers(0, 16, n)


def _expected_words(samples, nsamples, sums, channels):
    words = []
    for s, ns, total, ch in zip(samples, nsamples, sums, channels):
        words.append(int(total) | (int(ns) << 16) | (int(ch) << 26) | (1 << 30))
        padded = list(s[:ns]) + [0] * (ns % 2)
        for k in range(0, ns, 2):
            words.append(int(padded[k]) | (int(padded[k + 1]) << 12) | ((0x40 if k == 0 else 0x80) << 24))
    return words


@pytest.mark.parametrize("ns", [0, 1, 7, 32])
def test_record_packing_fills_free_words_in_order_even_across_taken_ones(ns):
    samples, nsamples, sums, channels = _records(5, 33, ns)
    expected = _expected_words(samples, nsamples, sums, channels)
    # taken words sprinkled everywhere, also inside what would be one record's run
    taken = np.zeros(len(expected) + 6, dtype=np.uint8)
    taken[[0, 2, 3, len(taken) // 2, len(taken) - 2, len(taken) - 1]] = 1
    words = np.full(taken.size, 0xDEADBEEF, dtype=np.uint32)
    core_raw.fill_msadc_records(words, taken, samples, nsamples, sums, channels)
    assert words[taken == 0].tolist() == expected
    assert (words[taken == 1] == 0xDEADBEEF).all()


def test_record_packing_rejects_wrong_word_counts_and_values():
    samples, nsamples, sums, channels = _records(3, 8, 8)
    n_words = len(_expected_words(samples, nsamples, sums, channels))
    for size, message in ((n_words - 1, "no free word left"), (n_words + 1, "free words are left")):
        with pytest.raises(ValueError, match=message):
            core_raw.fill_msadc_records(np.zeros(size, np.uint32), np.zeros(size, np.uint8), samples, nsamples,
                                        sums, channels)
    bad = samples.copy()
    bad[1, 3] = 4096
    with pytest.raises(ValueError, match="record 1 sample 3 = 4096"):
        core_raw.fill_msadc_records(np.zeros(n_words, np.uint32), np.zeros(n_words, np.uint8), bad, nsamples,
                                    sums, channels)
    with pytest.raises(ValueError, match="record 0 has nsamples 9"):
        core_raw.fill_msadc_records(np.zeros(n_words, np.uint32), np.zeros(n_words, np.uint8), samples,
                                    nsamples + 1, sums, channels)
    with pytest.raises(TypeError):
        core_raw.fill_msadc_records(np.zeros(n_words, np.int64), np.zeros(n_words, np.uint8), samples, nsamples,
                                    sums, channels)


def test_generated_chunk_is_already_in_writer_order():
    cfg, _, readout, cond, _ = _prepare(30, 1, SimConfig(chunk_events=30), None, {})
    chunk = gen.generate_chunk(np.random.default_rng(3), cfg, readout, cond, load_rt(), 0, 30, 30, with_truth=False)
    s = chunk.sadc
    key = ((s["event"] * 1024 + s["source_id"]) * 8 + s["port"]) * 4 + s["chip"]
    assert (np.diff(key) >= 0).all()
    np.testing.assert_array_equal(s["sum"], s["samples"].sum(axis=1, dtype=np.int64) & 0xFFFF)
    assert chunk.trigger_windows.shape == (30, N_FIRMWARE_ROWS, cfg.n_samples)


def test_chunk_samples_are_in_cell_order():
    cfg, _, readout, cond, _ = _prepare(20, 1, SimConfig(chunk_events=20), None, {})
    chunk = gen.generate_chunk(np.random.default_rng(6), cfg, readout, cond, load_rt(), 0, 20, 20, with_truth=False)
    samples = chunk.samples
    assert samples.shape == (20, N_CELLS, cfg.n_samples)
    rows = chunk.sadc["samples"].reshape(20, N_CELLS, -1)
    np.testing.assert_array_equal(samples[:, chunk.sadc_cells, :], rows)
    # the cell order is the readout's: row k of an event carries the address of cell sadc_cells[k]
    np.testing.assert_array_equal(chunk.sadc["source_id"][:N_CELLS], readout.source_id[chunk.sadc_cells])
    firmware_cells = FIRMWARE_ROW_OF_CELL.argsort()[-N_FIRMWARE_ROWS:]
    np.testing.assert_array_equal(chunk.trigger_windows, samples[:, firmware_cells])
