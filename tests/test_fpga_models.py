"""Differential tests: stream model == block model == C path, bit for bit.

Streams are drawn as small descriptions (fpga_model.testing.StreamSpec) so that a shrunk
counterexample prints as a readable list of pedestals, pulses and special runs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, note, strategies as st

from fpga_model import TriggerBlock, TriggerConfig, TriggerStream, run_windows
from fpga_model.registers import REGISTERS, N_CHANNELS
from fpga_model.testing import Pulse, StreamSpec, first_difference, synth_stream
from fpga_model.trigger import OUTPUT_NAMES

fw = pytest.importorskip("na64reco.firmware")
try:
    fw._lib.library()
except RuntimeError as exc:  # pragma: no cover - only without a build
    pytest.skip(f"C firmware library unavailable: {exc}", allow_module_level=True)

SHARED = ("word", "prs", "ecal", "hcal", "ecal_inst", "sum_peak", "beam", "beam_edge", "veto")


@st.composite
def pulses(draw, length: int):
    channel = draw(st.one_of(st.sampled_from([-1, -2]), st.integers(0, N_CHANNELS - 1)))
    start = draw(st.integers(-8, length + 2))  # includes pulses cut by the window edges
    amplitude = draw(st.one_of(st.integers(0, 300), st.integers(300, 5000)))
    return Pulse(channel, start, amplitude, draw(st.integers(1, 4)), draw(st.integers(0, 4)))


@st.composite
def stream_specs(draw, max_length: int = 72):
    length = draw(st.integers(1, max_length))
    runs = draw(st.lists(st.tuples(st.integers(0, N_CHANNELS - 1), st.integers(0, length), st.integers(1, 12),
                                   st.sampled_from([0, 4095, 1, 4094, 2048])), max_size=3))
    return StreamSpec(
        length=length,
        pedestal=draw(st.one_of(st.integers(0, 400), st.sampled_from([0, 4095]))),
        ped_slope=draw(st.integers(-300, 300)),  # a slope > PED_GATE leaves the pedestal above the sample
        noise=draw(st.integers(0, 6)),
        seed=draw(st.integers(0, 2**16)),
        pulses=tuple(draw(st.lists(pulses(length), max_size=4))),
        runs=tuple(runs),
    )


@st.composite
def configs(draw):
    """Register sets covering the corners: every value legal, biased to the interesting ones."""
    values: dict[str, object] = {}
    for reg in REGISTERS:
        if not draw(st.booleans()):
            continue
        if reg.name.startswith("GAIN"):
            # large gains drive channel energies and sums into saturation
            v = draw(st.one_of(st.integers(0, 65535), st.sampled_from([0, 4096, 65535])))
        elif reg.name == "RANDOM_THRESHOLD":
            v = draw(st.sampled_from([0, 1 << 28, 1 << 31, 0xFFFFFFFF]))
        elif reg.name in ("DEAD_TIME", "PRS_THRESHOLD", "ECAL_THRESHOLD", "PILEUP_SUM_MIN"):
            v = draw(st.one_of(st.integers(reg.lo, min(reg.hi, 200)), st.integers(reg.lo, reg.hi)))
        elif reg.name == "BEAM_PRESCALE":
            v = draw(st.integers(0, 4))
        else:
            v = draw(st.integers(reg.lo, reg.hi))
        values[reg.name] = v
    return TriggerConfig(values)


def run_all(spec: StreamSpec, cfg: TriggerConfig):
    x = synth_stream(spec)
    ref = TriggerStream(cfg).run(x)
    blk = TriggerBlock(cfg).run(x)
    c = fw.FirmwareStream(cfg).run(x.astype(np.uint16), debug=True)
    return x, ref, blk, c


@given(stream_specs(), configs())
def test_stream_block_c_agree(spec, cfg):
    note(spec.describe())
    note(f"registers: { {k: v for k, v in cfg.values.items() if np.ndim(v) == 0} }")
    _, ref, blk, c = run_all(spec, cfg)
    diff = first_difference(ref, blk, OUTPUT_NAMES, "stream", "block")
    assert diff is None, diff
    diff = first_difference(ref, c, OUTPUT_NAMES, "stream", "C")
    assert diff is None, diff


@given(stream_specs(max_length=96), configs(), st.lists(st.integers(0, 96), max_size=4))
def test_block_and_c_chunking_is_invisible(spec, cfg, cuts):
    """Cutting a stream into chunks (state carried) changes nothing in block model nor C."""
    note(spec.describe())
    x = synth_stream(spec)
    T = x.shape[1]
    edges = sorted({0, T, *[min(c, T) for c in cuts]})
    whole = TriggerBlock(cfg).run(x)
    blk, c = TriggerBlock(cfg), fw.FirmwareStream(cfg)
    parts_b, parts_c = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        parts_b.append(blk.run(x[:, a:b]))
        parts_c.append(c.run(x[:, a:b].astype(np.uint16)))
    joined_b = {k: np.concatenate([p[k] for p in parts_b], axis=-1) for k in SHARED}
    joined_c = {k: np.concatenate([p[k] for p in parts_c], axis=-1) for k in SHARED}
    diff = first_difference(whole, joined_b, SHARED, "whole", "chunked block")
    assert diff is None, diff
    diff = first_difference(whole, joined_c, SHARED, "whole", "chunked C")
    assert diff is None, diff


@given(st.lists(stream_specs(max_length=40), min_size=1, max_size=5), configs(), st.integers(1, 40))
def test_windows_block_c_and_stream_agree(specs, cfg, width):
    """Recorded-window mode: every window from reset, block model == C == stream per window."""
    windows = np.stack([synth_stream(StreamSpec(**{**s.__dict__, "length": width})) for s in specs])
    model = run_windows(windows, cfg)
    c = fw.emulate_windows(windows.astype(np.uint16), cfg)
    np.testing.assert_array_equal(fw.trigger_bits_windows(windows.astype(np.uint16), cfg), model["trigger_bits"])
    for name, v in model.items():
        assert np.array_equal(np.asarray(v).astype(np.int64) if v.dtype != np.uint64 else v,
                              np.asarray(c[name]).astype(np.int64) if v.dtype != np.uint64 else c[name]), name
    for i, w in enumerate(windows):
        s = TriggerStream(cfg)
        out = s.run(w)
        words = [int(v) for v in out["word"][1:]] + [s.decision.out]
        decisions = [v for v in words if v]
        assert int(c["decision_word"][i]) == (decisions[0] if decisions else 0)
        assert int(c["trigger_bits"][i]) == np.bitwise_or.reduce([v & 7 for v in words])


def test_sums_saturate_identically():
    """Every ECAL cell at full scale with the largest gain: every node of the tree saturates."""
    cfg = TriggerConfig({"GAIN_ECAL0": 65535, "GAIN_ECAL1": 65535, "GAIN_HCAL": 65535, "PED_GATE": 0})
    spec = StreamSpec(48, pedestal=0, pulses=(Pulse(-2, 4, 4095, 2, 3), Pulse(-1, 2, 4000)))
    _, ref, blk, c = run_all(spec, cfg)
    assert ref["ecal"].max() == 65535 and ref["prs"].max() == 65535
    diff = first_difference(ref, blk, OUTPUT_NAMES, "stream", "block")
    assert diff is None, diff
    diff = first_difference(ref, c, OUTPUT_NAMES, "stream", "C")
    assert diff is None, diff
