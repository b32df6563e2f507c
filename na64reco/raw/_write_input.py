"""Validated writer input: the user's tables as int64 columns, digits in write order."""

from __future__ import annotations

import numpy as np

from ._hierarchy import Hierarchy, build_hierarchy
from ._tables import TableView, first_bad_row
from .layout import EQUIPMENT_EVENT_TYPES, MSADC_MAX_SAMPLE, MUX_SOURCE_MIN

__all__ = ["WriterInput"]

_U32 = 0xFFFFFFFF


class WriterInput:
    """Validated input columns as int64 arrays, digits sorted into write order."""

    def __init__(self, events, sadc, tdc, extra_sources, hierarchy_args) -> None:
        ev = TableView("events", events)
        self.n_events = ev.nrows
        self.run = ev.integers("run", 0, _U32)
        self.event_in_run = ev.integers("event_in_run", 0, _U32)
        self.event_in_spill = ev.integers("event_in_spill", 0, 0xFFFFF)
        self.type = ev.integers("type", 0, 0xFFFF)
        self.trigger_mask = ev.integers("trigger_mask", 0, (1 << 63) - 1).astype(np.uint64)
        self.time = ev.integers("time", 0, _U32, default=0)
        self.ldc = ev.integers("ldc", 0, _U32, default=0)
        self.gdc = ev.integers("gdc", 0, _U32, default=0)
        self.detector_pattern = ev.integers("detector_pattern", 0, _U32, default=0)
        self.carries = np.isin(self.type, EQUIPMENT_EVENT_TYPES)
        spill = ev.integers("spill", 0, 0xFFF)
        # The S-Link spill field has 11 bits where DATE has 12: only bare events may use 4095.
        first_bad_row("events", "spill", self.carries & (spill > 0x7FF), spill,
                      "0..2047 for an event of type 6/7/8 (11-bit S-Link spill field)")
        self.spill = spill

        self._read_sadc(TableView("sadc", sadc))
        self._read_tdc(TableView("tdc", tdc))
        in_sadc = np.zeros(MUX_SOURCE_MIN, dtype=bool)
        in_sadc[self.s_source] = True
        in_tdc = np.zeros(MUX_SOURCE_MIN, dtype=bool)
        in_tdc[self.t_source] = True
        if (in_sadc & in_tdc).any():
            raise ValueError(
                f"source id {int(np.flatnonzero(in_sadc & in_tdc)[0])} appears in both sadc and tdc: "
                "a source is one MSADC or one F1 readout"
            )
        extra = np.asarray(list(extra_sources), dtype=np.int64)
        first_bad_row("sources", "source_id", (extra < 0) | (extra >= MUX_SOURCE_MIN), extra,
                      f"0..{MUX_SOURCE_MIN - 1}")
        present = np.bincount(np.concatenate([self.s_source, self.t_source, extra]), minlength=1)
        all_sources = np.flatnonzero(present)
        self.hierarchy: Hierarchy = build_hierarchy(all_sources.tolist(), **hierarchy_args)
        self._sort_digits()

    def _event_column(self, view: TableView) -> np.ndarray:
        if view.nrows and self.n_events == 0:
            raise ValueError(f"{view.name}.event: row 0 refers to an event but events is empty")
        event = view.integers("event", 0, max(self.n_events - 1, 0), what="row of events")
        bare = ~self.carries[event]
        if bare.any():
            row = int(np.flatnonzero(bare)[0])
            raise ValueError(
                f"{view.name}.event: row {row} points to event {event[row]} of type "
                f"{self.type[event[row]]}; only types 6, 7 and 8 carry equipment data"
            )
        return event

    def _read_sadc(self, v: TableView) -> None:
        self.s_event = self._event_column(v)
        self.s_source = v.integers("source_id", 0, MUX_SOURCE_MIN - 1, what="896..1023 are multiplexers")
        self.s_port = v.integers("port", 0, 7, what="3-bit hl_port")
        self.s_chip = v.integers("chip", 0, 3, what="2-bit adc_id")
        self.s_channel = v.integers("channel", 0, 15, what="4-bit chan_id")
        self.s_nsamples = v.integers("nsamples", 0, 511, what="9-bit sample count")
        if v.nrows == 0 and not v.has("samples"):
            self.s_samples = np.zeros((0, 0), dtype=np.uint16)
        else:
            samples = v.raw("samples")
            if samples.ndim != 2:
                raise ValueError(f"sadc.samples: expected shape (n, W), got {samples.shape}")
            if samples.dtype.kind not in "iu":
                raise ValueError(f"sadc.samples: expected integers, got dtype {samples.dtype}")
            too_long = self.s_nsamples > samples.shape[1]
            first_bad_row("sadc", "nsamples", too_long, self.s_nsamples,
                          f"at most the {samples.shape[1]} columns of sadc.samples")
            self.s_samples = self._checked_samples(samples)
        if v.has("sum"):
            self.s_sum = v.integers("sum", 0, 0xFFFF, what="16-bit channel sum")
        else:
            self.s_sum = self.s_samples.sum(axis=1, dtype=np.int64) & 0xFFFF

    def _checked_samples(self, samples: np.ndarray) -> np.ndarray:
        """Samples past ``nsamples`` are ignored (written as 0); the rest must be 0..4095."""
        if (self.s_nsamples != samples.shape[1]).any():
            samples = np.where(np.arange(samples.shape[1]) < self.s_nsamples[:, None], samples, 0)
        # unsigned samples cannot be negative: one reduction instead of two
        if samples.size and ((samples.dtype.kind == "i" and samples.min() < 0) or samples.max() > MSADC_MAX_SAMPLE):
            row, col = (int(i) for i in np.argwhere((samples < 0) | (samples > MSADC_MAX_SAMPLE))[0])
            raise ValueError(
                f"sadc.samples: row {row}, sample {col} has {samples[row, col]}, expected "
                f"0..{MSADC_MAX_SAMPLE} (12-bit ADC)"
            )
        return samples.astype(np.uint16, copy=False)

    def _read_tdc(self, v: TableView) -> None:
        self.t_event = self._event_column(v)
        self.t_source = v.integers("source_id", 0, MUX_SOURCE_MIN - 1, what="896..1023 are multiplexers")
        self.t_port = v.integers("port", 0, 15, what="4-bit F1 port")
        self.t_chip = v.integers("chip", 0, 7, what="3-bit F1 chip")
        self.t_channel = v.integers("channel", 0, 7, what="3-bit F1 channel")
        self.t_raw_time = v.integers("raw_time", 0, 0xFFFF, what="16-bit hit time")
        self.t_trigger_time = v.integers("trigger_time", 0, 0x1FF, what="9-bit trigger time")

    def _sort_digits(self) -> None:
        """Stable sort of digits into write order; skipped when the input is already in it."""
        slot = self.hierarchy.slot_of_source
        n_slots = max(self.hierarchy.n_slots, 1)
        s_key = ((self.s_event * n_slots + slot[self.s_source]) * 8 + self.s_port) * 4 + self.s_chip
        if s_key.size and (s_key[1:] < s_key[:-1]).any():
            order = np.argsort(s_key, kind="stable")
            for name in ("event", "source", "port", "chip", "channel", "nsamples", "samples", "sum"):
                setattr(self, f"s_{name}", getattr(self, f"s_{name}")[order])
        t_key = (self.t_event * n_slots + slot[self.t_source]) * 16 + self.t_port
        if t_key.size and (t_key[1:] < t_key[:-1]).any():
            order = np.argsort(t_key, kind="stable")
            for name in ("event", "source", "port", "chip", "channel", "raw_time", "trigger_time"):
                setattr(self, f"t_{name}", getattr(self, f"t_{name}")[order])
