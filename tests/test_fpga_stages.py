"""Single stages: exhaustive checks of the arithmetic, documented latencies, the tie rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from fpga_model import TriggerConfig, TriggerStream, channel, sums
from fpga_model.decision import BIT_COINC, TIMESTAMP_SHIFT
from fpga_model.fixed import FixedFormat, requantize

fw = pytest.importorskip("na64reco.firmware")
ffi, lib = fw._lib.library()

SAMPLE_U12 = FixedFormat(12, 12, signed=False)


def c_array(kind: str, arr: np.ndarray):
    return ffi.from_buffer(kind + "[]", arr)


def test_baseline_exhaustive_4096_x_4096():
    """Every sample x every rounded pedestal (with fractions cycling over all 64 codes)."""
    samples = np.arange(4096, dtype=np.uint16)
    ped_codes = (np.arange(4096, dtype=np.int64) << 6) + (np.arange(4096) % 64)
    ped_codes[-1] = (1 << 18) - 1  # the register's largest code rounds to 4096 and saturates
    for block in np.array_split(np.arange(4096), 8):
        s = np.repeat(samples[block], 4096)
        p = np.tile(ped_codes, block.size).astype(np.uint32)
        want = s.astype(np.int64) - requantize(p, channel.PED_FORMAT, SAMPLE_U12, "RND", "SAT")
        got = np.empty(s.size, dtype=np.int16)
        lib.na64fw_baseline_batch(c_array("uint16_t", s), c_array("uint32_t", p), s.size, c_array("int16_t", got))
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, f"sample {s[bad[0]]} ped {p[bad[0]]}: C {got[bad[0]]} model {want[bad[0]]}"


def test_gain_lattice_4096_x_4096():
    """Filter values x gains on a 4096 x 4096 lattice spanning both full ranges, edges included."""
    filt = np.arange(-32768, 32768, 16, dtype=np.int64)
    filt[-1] = 32767
    gains = np.arange(0, 65536, 16, dtype=np.int64)
    gains[-1] = 65535
    for block in np.array_split(np.arange(filt.size), 8):
        f = np.repeat(filt[block], gains.size)
        g = np.tile(gains, block.size)
        model = channel.gain_comb(f, g)
        # independent oracle: the product is exact in float64 (< 2**53), ties round up
        exact = np.floor(f.astype(np.float64) * g / 4096.0 + 0.5)
        oracle = np.clip(exact, 0, 65535).astype(np.int64)
        got = np.empty(f.size, dtype=np.uint16)
        f16, g16 = f.astype(np.int16), g.astype(np.uint16)
        lib.na64fw_gain_batch(c_array("int16_t", f16), c_array("uint16_t", g16), f.size, c_array("uint16_t", got))
        assert np.array_equal(model, oracle)
        assert np.array_equal(requantize(f * g, channel.PRODUCT_FORMAT, channel.ENERGY_FORMAT, "RND", "SAT"), oracle)
        bad = np.flatnonzero(got != model)
        assert bad.size == 0, f"filter {f[bad[0]]} gain {g[bad[0]]}: C {got[bad[0]]} model {model[bad[0]]}"


@pytest.mark.parametrize("shift,block_log2,gate", [(0, 0, 0), (3, 3, 20), (8, 4, 4095), (5, 1, 7)])
def test_pedestal_update_lattice(shift, block_log2, gate):
    peds = np.linspace(0, (1 << 18) - 1, 4096).astype(np.int64)
    sums_ = np.linspace(0, 65535, 4096).astype(np.int64)
    p = np.repeat(peds, sums_.size)
    s = np.tile(sums_, peds.size)
    mx = np.minimum(s >> block_log2, 4095) + (np.arange(s.size) % 3) * 11
    mx = np.minimum(mx, 4095)
    ped_int = np.minimum((p + 32) >> 6, 4095)
    target = s << (6 - block_log2)
    updated = np.clip(p + ((target - p) >> shift), 0, (1 << 18) - 1)  # numpy >> floors
    want = np.where(mx <= ped_int + gate, updated, p)
    got = np.empty(p.size, dtype=np.uint32)
    lib.na64fw_pedestal_update_batch(c_array("uint32_t", p.astype(np.uint32)), c_array("uint16_t", s.astype(np.uint16)),
                                     c_array("uint16_t", mx.astype(np.uint16)), p.size, shift, block_log2, gate,
                                     c_array("uint32_t", got))
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"ped {p[bad[0]]} sum {s[bad[0]]} max {mx[bad[0]]}: C {got[bad[0]]} model {want[bad[0]]}"


# ----------------------------------------------------------------------------- tie rule
def peaks_of(values: list[int], minimum: int = 0, hold: int = 1) -> tuple[list[int], list[bool]]:
    p = channel.PeakStream()
    out = [p.step(v, minimum, hold) for v in values]
    held = [o[0] for o in out][1:] + [p.out]
    strobes = [o[1] for o in out][1:] + [p.strobe]
    return held, strobes


def test_plateau_gives_one_peak_with_its_value_when_it_falls():
    held, strobes = peaks_of([0, 5, 5, 5, 2, 0])
    assert strobes == [False, False, False, False, True, False]
    assert held[4] == 5


def test_rising_step_plateau_is_not_a_peak():
    held, strobes = peaks_of([0, 5, 5, 7, 7, 3])
    assert strobes.count(True) == 1 and held[strobes.index(True)] == 7


def test_flat_and_falling_streams_have_no_peak():
    assert not any(peaks_of([3, 3, 3, 3])[1])
    # the register after reset holds 0, so a first value 9 is a rise; the later falls
    # find the finder disarmed
    assert peaks_of([9, 7, 4, 1])[1] == [False, True, False, False]


def test_peak_minimum_and_hold():
    held, strobes = peaks_of([0, 4, 0, 0, 0, 0], minimum=5)
    assert not any(strobes)
    held, strobes = peaks_of([0, 9, 0, 0, 0, 0, 0], minimum=5, hold=3)
    assert held == [0, 0, 9, 9, 9, 0, 0]


@given(st.lists(st.integers(0, 70000 // 72), min_size=72, max_size=72))
def test_tree_of_saturating_adders_equals_one_saturation(values):
    tree = sums.AdderTreeStream(72)
    outs = [tree.step(values) for _ in range(sums.TREE_LEVELS + 1)]
    assert outs[:sums.TREE_LEVELS] == [0] * sums.TREE_LEVELS
    assert outs[-1] == min(sum(values), sums.SUM_MAX)


# ----------------------------------------------------------------------------- latencies
def step_input(T: int = 48, at: int = 10) -> np.ndarray:
    x = np.full((113, T), 100, dtype=np.int64)
    x[:3, at:] = 900  # beam counters: one leading edge at clock `at`
    x[41, at:] = 900  # one ECAL1 cell: a step
    return x


@pytest.mark.parametrize("model", ["stream", "c"])
def test_documented_latencies(model):
    cfg = TriggerConfig({"DECISION_DELAY": 7})
    x = step_input()
    out = TriggerStream(cfg).run(x) if model == "stream" else fw.FirmwareStream(cfg).run(x.astype(np.uint16), debug=True)
    first = lambda a: int(np.flatnonzero(np.asarray(a) != 0)[0])  # noqa: E731
    assert first(out["baseline"][41]) == 11  # 1 clock
    assert first(out["filter"][36]) == 12  # 2 clocks (ECAL1 cell 0 is calo channel 36)
    assert first(out["energy"][36]) == 13  # 3 clocks
    assert first(out["counters"][0]) == 12  # discriminator + stretcher: 2 clocks
    assert first(out["beam_edge"]) == 13  # coincidence: 3 clocks
    words = np.asarray(out["word"])
    t_word = first(words)
    assert t_word == 13 + 7 + 1  # decision at edge + DECISION_DELAY, word registered
    assert int(words[t_word]) & BIT_COINC
    assert int(words[t_word]) >> TIMESTAMP_SHIFT == 13 + 7


def test_held_sum_latency_after_the_falling_sample():
    """A single-clock spike: energy falls at a known clock, the held sum appears 1 + 4 later."""
    cfg = TriggerConfig({"FILTER_LEN": 1, "PEAK_MIN_ECAL1": 0, "PEAK_HOLD": 2})
    x = np.full((113, 30), 100, dtype=np.int64)
    x[41, 10] = 600
    out = TriggerStream(cfg).run(x)
    energy = out["energy"][36]
    assert np.flatnonzero(energy).tolist() == [13]  # sample 10 + 3
    # the fall is seen at clock 14; held output at 15 (2 clocks of hold), sums 4 clocks later
    assert np.flatnonzero(out["held"][36]).tolist() == [15, 16]
    assert np.flatnonzero(out["ecal"]).tolist() == [19, 20]


@given(st.integers(1, 6), st.integers(1, 60), st.integers(0, 2**16), st.integers(1, 12), st.integers(0, 40))
def test_peak_block_scan_and_fill_agree_with_the_stream(rows, T, seed, hold, minimum):
    """The two vectorised formulations of the peak finder equal the stream model."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.integers(-3, 4, size=(rows, T)), axis=1).clip(0, None) * rng.integers(0, 3, size=(rows, 1))
    results = []
    for method in ("scan", "fill"):
        held, strobe, _ = channel.peak_block(x, channel.peak_reset((rows,)), minimum, hold, method=method)
        results.append((held, strobe))
    ref = []
    for r in range(rows):
        p = channel.PeakStream()
        ref.append([p.step(int(v), minimum, hold) for v in x[r]])
    ref_held = np.array([[o[0] for o in row] for row in ref])
    ref_strobe = np.array([[o[1] for o in row] for row in ref])
    for held, strobe in results:
        assert np.array_equal(held, ref_held) and np.array_equal(strobe, ref_strobe)


@given(st.integers(0, 2**16), st.lists(st.tuples(st.integers(1, 40), st.integers(0, 8), st.integers(0, 4),
                                                  st.integers(0, 4095)), min_size=1, max_size=6))
def test_pedestal_block_equals_stream_across_register_changes(seed, parts):
    """Chunks with PED_SHIFT/PED_BLOCK_LOG2/PED_GATE changed between them, at the top of the
    sample range: a block shortened mid-way sums more samples than its new length, so its
    target exceeds the pedestal register and the update saturates; gates at both extremes."""
    rng = np.random.default_rng(seed)
    lanes = 5
    streams = [channel.PedestalStream() for _ in range(lanes)]
    state = channel.pedestal_reset((lanes,))
    for T, shift, block_log2, gate in parts:
        level = rng.integers(0, 4096, size=(lanes, 1))
        x = np.clip(level + rng.integers(-30, 31, size=(lanes, T)), 0, 4095)
        x[rng.random((lanes, T)) < 0.1] = 4095
        got, state = channel.pedestal_block(x, state, shift, block_log2, gate)
        want = [[s.step(int(v), shift, block_log2, gate) for v in row] for s, row in zip(streams, x)]
        assert np.array_equal(got, np.array(want))
        assert state["ped"].tolist() == [s.ped for s in streams]


@given(st.integers(1, 4), st.integers(0, 2**16),
       st.lists(st.tuples(st.integers(1, 50), st.integers(1, 12), st.integers(0, 40)), min_size=1, max_size=5))
def test_peak_block_chunked_with_hold_changes(rows, seed, parts):
    """Scan and fill carry the state between chunks, also when PEAK_HOLD shrinks below a
    running hold, and equal the stream model."""
    rng = np.random.default_rng(seed)
    streams = [channel.PeakStream() for _ in range(rows)]
    states = {m: channel.peak_reset((rows,)) for m in ("scan", "fill")}
    for T, hold, minimum in parts:
        x = np.cumsum(rng.integers(-3, 4, size=(rows, T)), axis=1).clip(0, None) + rng.integers(0, 60, size=(rows, 1))
        ref = [[p.step(int(v), minimum, hold) for v in row] for p, row in zip(streams, x)]
        for method, state in states.items():
            held, strobe, states[method] = channel.peak_block(x, state, minimum, hold, method=method)
            assert np.array_equal(held, [[o[0] for o in row] for row in ref]), method
            assert np.array_equal(strobe, [[o[1] for o in row] for row in ref]), method
