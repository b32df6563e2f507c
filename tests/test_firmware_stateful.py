"""Stateful differential test: chunks of samples, resets and register changes mid-stream.

Three implementations run in lockstep (stream model, block model with its state carried,
C path with its state struct) and must produce the same outputs after every step.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import note, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from fpga_model import TriggerBlock, TriggerConfig, TriggerStream
from fpga_model.registers import REGISTERS, N_CHANNELS
from fpga_model.testing import Pulse, StreamSpec, first_difference, synth_stream
from fpga_model.trigger import OUTPUT_NAMES

fw = pytest.importorskip("na64reco.firmware")
try:
    fw._lib.library()
except RuntimeError as exc:  # pragma: no cover - only without a build
    pytest.skip(f"C firmware library unavailable: {exc}", allow_module_level=True)

_CHANGEABLE = [r for r in REGISTERS if r.count == 1]


@st.composite
def register_changes(draw):
    regs = draw(st.lists(st.sampled_from(_CHANGEABLE), min_size=1, max_size=4, unique_by=lambda r: r.name))
    out = {}
    for r in regs:
        if r.name == "RANDOM_THRESHOLD":
            out[r.name] = draw(st.sampled_from([0, 1 << 30, 0xFFFFFFFF]))
        elif r.name in ("DEAD_TIME", "ECAL_THRESHOLD", "PRS_THRESHOLD", "PILEUP_SUM_MIN", "BEAM_PRESCALE"):
            out[r.name] = draw(st.integers(r.lo, min(r.hi, 60)))
        else:
            out[r.name] = draw(st.integers(r.lo, r.hi))
    return out


@st.composite
def chunks(draw):
    length = draw(st.integers(1, 40))
    pulses = draw(st.lists(st.builds(Pulse, st.one_of(st.sampled_from([-1, -2]), st.integers(0, N_CHANNELS - 1)),
                                     st.integers(-6, length), st.integers(0, 4500), st.integers(1, 3),
                                     st.integers(0, 3)), max_size=3))
    return StreamSpec(length, pedestal=draw(st.integers(0, 300)), ped_slope=draw(st.integers(-60, 60)),
                      noise=draw(st.integers(0, 3)), seed=draw(st.integers(0, 1000)), pulses=tuple(pulses))


class TriggerMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        self.config = TriggerConfig({"DEAD_TIME": 5, "DECISION_DELAY": 4, "PRS_THRESHOLD": 0})
        self.stream = TriggerStream(self.config)
        self.block = TriggerBlock(self.config)
        self.c = fw.FirmwareStream(self.config)

    @rule(spec=chunks())
    def feed(self, spec):
        note(f"feed {spec.describe()}")
        x = synth_stream(spec)
        ref = self.stream.run(x)
        blk = self.block.run(x)
        c = self.c.run(x.astype(np.uint16), debug=True)
        diff = first_difference(ref, blk, OUTPUT_NAMES, "stream", "block")
        assert diff is None, diff
        diff = first_difference(ref, c, OUTPUT_NAMES, "stream", "C")
        assert diff is None, diff

    @rule()
    def reset(self):
        note("reset")
        self.stream.reset()
        self.block.reset()
        self.c.reset()

    @rule(changes=register_changes())
    def reconfigure(self, changes):
        note(f"reconfigure {changes}")
        self.config = self.config.replace(**changes)
        self.stream.configure(self.config)
        self.block.configure(self.config)
        self.c.configure(self.config)


TriggerMachine.TestCase.settings = settings(TriggerMachine.TestCase.settings, stateful_step_count=12)
test_trigger_machine = TriggerMachine.TestCase
