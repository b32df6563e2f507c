"""Write NA64 raw DATE files from tables of events, MSADC digits and F1 TDC hits.

The writer is the inverse of the decoder and the simulator's way to produce raw data. A file
is built as whole word arrays with numpy: sizes are computed bottom-up (channel records ->
ADC blocks -> S-Link blocks -> equipments -> sub-events -> events), offsets top-down by
cumulative sums, and every header and data word is scattered into one ``uint32`` array per
chunk of events. There is no Python loop over events or digits.

Conventions of what is written (the byte layouts are in docs/raw-writer.md):

- Events are written in table order. Types 6, 7 and 8 carry one S-Link block for every
  source of the file (empty when it has no data in that event); other types are a bare
  header and must have no digits.
- Within an event: sub-events (super events) in LDC order, equipments by lowest source id,
  sources ascending inside a multiplexer; within a source, MSADC blocks by (port, chip)
  ascending, channel records and F1 hits in table order. A new F1 header word starts when the
  port or the trigger time changes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._hierarchy import Hierarchy, build_hierarchy
from ._tables import TableView, first_bad_row
from .layout import (
    DATE_HEADER_WORDS,
    DATE_MAGIC,
    DATE_SUPER_EVENT_BIT,
    DATE_VERSION,
    EQUIPMENT_EVENT_TYPES,
    EQUIPMENT_HEADER_WORDS,
    EQUIPMENT_TYPE_SLINK,
    MSADC_KEY,
    MSADC_MAX_SAMPLE,
    MUX_HEADER_WORDS,
    MUX_SOURCE_MIN,
    SLINK_FORMAT_F1,
    SLINK_FORMAT_FIRST_EVENT,
    SLINK_FORMAT_MSADC,
    SLINK_HEADER_WORDS,
)

__all__ = ["write_raw", "encode_events"]

_U32 = 0xFFFFFFFF


class _Input:
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
        overlap = np.intersect1d(self.s_source, self.t_source)
        if overlap.size:
            raise ValueError(
                f"source id {int(overlap[0])} appears in both sadc and tdc: a source is one MSADC "
                "or one F1 readout"
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
        if samples.size and (samples.min() < 0 or samples.max() > MSADC_MAX_SAMPLE):
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


def _within_group_offsets(sizes: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Exclusive running sum of ``sizes`` restarting wherever ``group`` (sorted) changes."""
    if sizes.size == 0:
        return sizes.copy()
    before = np.cumsum(sizes) - sizes
    starts = np.empty(group.size, dtype=bool)
    starts[0] = True
    np.not_equal(group[1:], group[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    return before - before[first][np.cumsum(starts) - 1]


def _starts_of_runs(*keys: np.ndarray) -> np.ndarray:
    """True where any key differs from the previous row (and on row 0)."""
    n = keys[0].size
    new = np.zeros(n, dtype=bool)
    if n:
        new[0] = True
        for k in keys:
            new[1:] |= k[1:] != k[:-1]
    return new


class _ChunkEncoder:
    """Encodes events [lo, hi) of a validated input into one uint32 word array."""

    def __init__(self, data: _Input, super_events: bool) -> None:
        self.d = data
        self.h = data.hierarchy
        self.super_events = super_events
        self.item_kind, self.item_ref = self._item_template()
        # S-Link format byte, bits 0..6: chip data layout (docs/raw-decoding.md).
        fmt = np.zeros(self.h.n_slots, dtype=np.int64)
        fmt[np.isin(self.h.slot_source, data.s_source)] = SLINK_FORMAT_MSADC
        fmt[np.isin(self.h.slot_source, data.t_source)] = SLINK_FORMAT_F1
        self.slot_format = fmt

    def _item_template(self) -> tuple[np.ndarray, np.ndarray]:
        """Order of the units inside an event: 0 sub-event header, 1 equipment header,
        2 multiplexer header, 3 S-Link block (header + chip data); ref = index of the unit."""
        h = self.h
        kind: list[int] = []
        ref: list[int] = []
        n_eq = h.eq_id.size
        eq_last = np.append(h.eq_first_slot[1:], h.n_slots)
        ldc_last = np.append(h.ldc_first_eq[1:], n_eq)
        for li in range(h.ldc_id.size if self.super_events else 1):
            if self.super_events:
                kind.append(0)
                ref.append(li)
                eqs = range(h.ldc_first_eq[li], ldc_last[li])
            else:
                eqs = range(n_eq)
            for e in eqs:
                kind.append(1)
                ref.append(e)
                if h.eq_is_mux[e]:
                    kind.append(2)
                    ref.append(e)
                for s in range(h.eq_first_slot[e], eq_last[e]):
                    kind.append(3)
                    ref.append(s)
        return np.asarray(kind, dtype=np.int64), np.asarray(ref, dtype=np.int64)

    def encode(self, lo: int, hi: int, s_range: tuple[int, int], t_range: tuple[int, int]) -> np.ndarray:
        d, h = self.d, self.h
        n = hi - lo
        carry_rows = np.flatnonzero(d.carries[lo:hi])
        ne = carry_rows.size
        n_slots = h.n_slots
        carry_rank = np.full(n, -1, dtype=np.int64)
        carry_rank[carry_rows] = np.arange(ne)
        eis = d.event_in_spill[lo:hi]

        # ---- chip data sizes (MSADC blocks, F1 words), per (carrying event, slot) unit
        s = slice(*s_range)
        s_unit = carry_rank[d.s_event[s] - lo] * n_slots + h.slot_of_source[d.s_source[s]]
        s_port, s_chip, s_ns = d.s_port[s], d.s_chip[s], d.s_nsamples[s]
        rec_words = 1 + (s_ns + 1) // 2
        block_new = _starts_of_runs(s_unit, s_port, s_chip)
        block_first = np.flatnonzero(block_new)
        block_of_digit = np.cumsum(block_new) - 1
        block_words = 1 + (np.add.reduceat(rec_words, block_first) if block_first.size else block_first)
        block_unit = s_unit[block_first]
        too_big = block_words > 0xFFF
        if too_big.any():
            b = int(np.flatnonzero(too_big)[0])
            raise ValueError(
                f"sadc: the ADC block of event {d.s_event[s][block_first[b]]}, source "
                f"{d.s_source[s][block_first[b]]}, port {s_port[block_first[b]]}, chip "
                f"{s_chip[block_first[b]]} needs {block_words[b]} words; the 12-bit size field "
                "allows 4095"
            )

        t = slice(*t_range)
        t_unit = carry_rank[d.t_event[t] - lo] * n_slots + h.slot_of_source[d.t_source[t]]
        t_port, t_trig = d.t_port[t], d.t_trigger_time[t]
        t_header = _starts_of_runs(t_unit, t_port, t_trig)
        t_words = 1 + t_header.astype(np.int64)

        n_units = ne * n_slots
        payload = np.bincount(block_unit, weights=block_words, minlength=n_units).astype(np.int64)
        payload += np.bincount(t_unit, weights=t_words, minlength=n_units).astype(np.int64)
        src_words = (SLINK_HEADER_WORDS + payload).reshape(ne, n_slots)
        self._check_16bit(src_words, lo, carry_rows, "S-Link block")

        # ---- sizes up the hierarchy
        if n_slots:
            eq_payload = np.add.reduceat(src_words, h.eq_first_slot, axis=1)
        else:
            eq_payload = np.zeros((ne, 0), dtype=np.int64)
        eq_payload += MUX_HEADER_WORDS * h.eq_is_mux
        self._check_16bit(np.where(h.eq_is_mux, eq_payload, 0), lo, carry_rows, "multiplexer block")
        eq_words = EQUIPMENT_HEADER_WORDS + eq_payload
        if self.super_events and h.ldc_id.size:
            ldc_words = DATE_HEADER_WORDS + np.add.reduceat(eq_words, h.ldc_first_eq, axis=1)
            body = ldc_words.sum(axis=1)
        else:
            ldc_words = np.zeros((ne, 0), dtype=np.int64)
            body = eq_words.sum(axis=1)
        event_words = np.full(n, DATE_HEADER_WORDS, dtype=np.int64)
        event_words[carry_rows] += body
        if n and event_words.max() * 4 > _U32:
            row = int(np.argmax(event_words)) + lo
            raise ValueError(f"events: row {row} would be {event_words.max() * 4} bytes, over 32 bits")
        event_off = np.cumsum(event_words) - event_words
        out = np.zeros(int(event_words.sum()), dtype=np.uint32)

        # ---- offsets of every unit inside the carrying events
        kind, ref = self.item_kind, self.item_ref
        item_size = np.empty((ne, kind.size), dtype=np.int64)
        item_size[:, kind == 0] = DATE_HEADER_WORDS
        item_size[:, kind == 1] = EQUIPMENT_HEADER_WORDS
        item_size[:, kind == 2] = MUX_HEADER_WORDS
        item_size[:, kind == 3] = src_words[:, ref[kind == 3]]
        item_off = (event_off[carry_rows, None] + DATE_HEADER_WORDS
                    + np.cumsum(item_size, axis=1) - item_size)

        # ---- headers
        super_bit = self.super_events & d.carries[lo:hi]
        date = self._date_headers(lo, hi, event_words, super_bit)
        _scatter(out, event_off, date)
        if self.super_events and ne:
            sub = np.repeat(date[carry_rows, None, :], h.ldc_id.size, axis=1)
            sub[:, :, 0] = ldc_words * 4
            sub[:, :, 13] = 0
            sub[:, :, 14] = h.ldc_id
            _scatter(out, item_off[:, kind == 0], sub)
        eis_c = eis[carry_rows]
        spill_c = d.spill[lo:hi][carry_rows]
        slink_type = d.type[lo:hi][carry_rows] & 0x1F
        if ne and h.eq_id.size:
            eqh = np.zeros((ne, h.eq_id.size, EQUIPMENT_HEADER_WORDS), dtype=np.int64)
            eqh[:, :, 0] = eq_words * 4
            eqh[:, :, 1] = EQUIPMENT_TYPE_SLINK
            eqh[:, :, 2] = h.eq_id
            eqh[:, :, 6] = 4
            _scatter(out, item_off[:, kind == 1], eqh)
            mux = np.flatnonzero(h.eq_is_mux)
            if mux.size:
                mh = np.empty((ne, mux.size, MUX_HEADER_WORDS), dtype=np.int64)
                mh[:, :, 0] = eq_payload[:, mux] | (h.eq_id[mux] << 16) | (slink_type[:, None] << 26)
                mh[:, :, 1] = (eis_c | (spill_c << 20))[:, None]
                _scatter(out, item_off[:, kind == 2], mh)
            slh = np.empty((ne, n_slots, SLINK_HEADER_WORDS), dtype=np.int64)
            slh[:, :, 0] = src_words | (h.slot_source << 16) | (slink_type[:, None] << 26)
            slh[:, :, 1] = (eis_c | (spill_c << 20))[:, None]
            first = (d.event_in_run[lo:hi][carry_rows] == 1) * SLINK_FORMAT_FIRST_EVENT
            slh[:, :, 2] = (first[:, None] | self.slot_format[None, :]) << 24
            slot_off = np.empty((ne, n_slots), dtype=np.int64)
            slot_off[:, ref[kind == 3]] = item_off[:, kind == 3]
            _scatter(out, slot_off, slh)
            payload_start = slot_off.reshape(-1) + SLINK_HEADER_WORDS
            self._write_msadc(out, s, payload_start, block_first, block_of_digit, block_words,
                              block_unit, rec_words, eis, lo)
            self._write_f1(out, t, payload_start, t_unit, t_words, t_header, eis, lo)
        return out

    def _check_16bit(self, words: np.ndarray, lo: int, carry_rows: np.ndarray, what: str) -> None:
        if words.size and words.max() > 0xFFFF:
            r, c = np.argwhere(words > 0xFFFF)[0]
            raise ValueError(
                f"events: row {lo + carry_rows[r]} needs a {what} of {words[r, c]} words "
                f"(column {c} of the source order); the 16-bit S-Link size field allows 65535"
            )

    def _date_headers(self, lo: int, hi: int, event_words, super_bit) -> np.ndarray:
        d = self.d
        sl = slice(lo, hi)
        mask = d.trigger_mask[sl]
        hdr = np.zeros((hi - lo, DATE_HEADER_WORDS), dtype=np.int64)
        hdr[:, 0] = event_words * 4
        hdr[:, 1] = DATE_MAGIC
        hdr[:, 2] = DATE_HEADER_WORDS * 4
        hdr[:, 3] = DATE_VERSION
        hdr[:, 4] = d.type[sl]
        hdr[:, 5] = d.run[sl]
        hdr[:, 6] = d.event_in_run[sl]
        hdr[:, 7] = (d.spill[sl] << 20) | d.event_in_spill[sl]
        # trigger mask = (tp[0] >> 1) + (tp[1] << 31)
        hdr[:, 8] = ((mask << np.uint64(1)) & np.uint64(_U32)).astype(np.int64)
        hdr[:, 9] = (mask >> np.uint64(31)).astype(np.int64)
        hdr[:, 10] = d.detector_pattern[sl]
        hdr[:, 13] = np.where(super_bit, DATE_SUPER_EVENT_BIT, 0)
        hdr[:, 14] = d.ldc[sl]
        hdr[:, 15] = d.gdc[sl]
        hdr[:, 16] = d.time[sl]
        return hdr

    def _write_msadc(self, out, s, payload_start, block_first, block_of_digit, block_words,
                     block_unit, rec_words, eis, lo) -> None:
        """Build the chip data of all MSADC sources as one stream in file order, then copy it
        into the payload ranges of their S-Link blocks (whole arrays, no per-digit index
        arithmetic in two dimensions)."""
        d = self.d
        if block_first.size == 0:
            return
        ns = d.s_nsamples[s]
        samples = d.s_samples[s]
        if samples.shape[1] % 2:
            samples = np.pad(samples, ((0, 0), (0, 1)))
        n_words = samples.shape[1] // 2
        records = np.empty((ns.size, 1 + n_words), dtype=np.uint32)
        records[:, 0] = d.s_sum[s] | (ns << 16) | (d.s_channel[s] << 26) | (1 << 30)
        if n_words:
            # a little-endian uint32 view holds two samples as lo | hi << 16: repack to 12 bits
            pairs = np.ascontiguousarray(samples).view("<u4")
            data = records[:, 1:]
            np.bitwise_and(pairs, np.uint32(0xFFF), out=data)
            data |= (pairs >> np.uint32(4)) & np.uint32(0xFFF000)
            data |= np.uint32(0x80 << 24)
            data[:, 0] ^= np.uint32((0x80 ^ 0x40) << 24)
        if (rec_words == 1 + n_words).all():
            record_stream = records.reshape(-1)
        else:
            record_stream = records[np.arange(1 + n_words) < rec_words[:, None]]

        ev_local = d.s_event[s][block_first] - lo
        block_headers = (
            (eis[ev_local] & 0xFFF)
            | (block_words << 12)
            | (d.s_chip[s][block_first] << 25)
            | (d.s_port[s][block_first] << 27)
            | (MSADC_KEY << 30)
        )
        stream = np.empty(int(block_words.sum()), dtype=np.uint32)
        is_header = np.zeros(stream.size, dtype=bool)
        is_header[np.cumsum(block_words) - block_words] = True
        stream[is_header] = block_headers
        stream[~is_header] = record_stream

        units, first = np.unique(block_unit, return_index=True)
        unit_words = np.add.reduceat(block_words, first)
        # stream word i of unit u goes to payload_start[u] + (i - first stream word of u):
        # indices that only increase, which numpy scatters at close to copy speed
        shift = payload_start[units] - (np.cumsum(unit_words) - unit_words)
        target = np.repeat(shift, unit_words)
        target += np.arange(stream.size)
        out[target] = stream

    def _write_f1(self, out, t, payload_start, t_unit, t_words, t_header, eis, lo) -> None:
        d = self.d
        if t_unit.size == 0:
            return
        pos = payload_start[t_unit] + _within_group_offsets(t_words, t_unit) + t_header
        port, chip, chan = d.t_port[t], d.t_chip[t], d.t_channel[t]
        out[pos] = (port << 4) | (d.t_raw_time[t] << 8) | (((chip << 3) | chan) << 24) | (1 << 31)
        h = np.flatnonzero(t_header)
        ev_local = d.t_event[t][h] - lo
        out[pos[h] - 1] = (
            (port[h] << 4)
            | (chan[h] << 8)
            | (chip[h] << 11)
            | (d.t_trigger_time[t][h] << 15)
            | ((eis[ev_local] & 0x3F) << 24)
        )


def _scatter(out: np.ndarray, offsets: np.ndarray, words: np.ndarray) -> None:
    """out[offsets[..., None] + arange(k)] = words, for header blocks of k words."""
    k = words.shape[-1]
    out[(offsets[..., None] + np.arange(k)).reshape(-1)] = words.reshape(-1)


def _chunks(data: _Input, chunk_events: int):
    if chunk_events < 1:
        raise ValueError(f"chunk_events must be >= 1, got {chunk_events}")
    for lo in range(0, max(data.n_events, 1), chunk_events):
        hi = min(lo + chunk_events, data.n_events)
        s_lo, s_hi = np.searchsorted(data.s_event, [lo, hi])
        t_lo, t_hi = np.searchsorted(data.t_event, [lo, hi])
        yield lo, hi, (int(s_lo), int(s_hi)), (int(t_lo), int(t_hi))


def _encode_iter(events, sadc, tdc, *, super_events, multiplexed_sources, ldc_groups, sources,
                 chunk_events):
    data = _Input(
        events, sadc, tdc, sources or (),
        dict(multiplexed_sources=multiplexed_sources, ldc_groups=ldc_groups,
             super_events=bool(super_events)),
    )
    encoder = _ChunkEncoder(data, bool(super_events))
    for lo, hi, s_range, t_range in _chunks(data, chunk_events):
        if hi > lo:
            yield encoder.encode(lo, hi, s_range, t_range).astype("<u4", copy=False).tobytes()


def encode_events(
    events: Mapping[str, Any],
    sadc: Mapping[str, Any] | None = None,
    tdc: Mapping[str, Any] | None = None,
    *,
    super_events: bool = False,
    multiplexed_sources: Mapping[int, Iterable[int]] | Iterable[Iterable[int]] = (),
    ldc_groups: Mapping[int, Iterable[int]] | None = None,
    sources: Iterable[int] | None = None,
    chunk_events: int = 2_000,
) -> bytes:
    """The bytes ``write_raw`` would write for these tables (see there for the arguments)."""
    return b"".join(_encode_iter(
        events, sadc, tdc, super_events=super_events, multiplexed_sources=multiplexed_sources,
        ldc_groups=ldc_groups, sources=sources, chunk_events=chunk_events,
    ))


def write_raw(
    path_or_fileobj: str | os.PathLike[str] | IO[bytes],
    events: Mapping[str, Any],
    sadc: Mapping[str, Any] | None = None,
    tdc: Mapping[str, Any] | None = None,
    *,
    super_events: bool = False,
    multiplexed_sources: Mapping[int, Iterable[int]] | Iterable[Iterable[int]] = (),
    ldc_groups: Mapping[int, Iterable[int]] | None = None,
    sources: Iterable[int] | None = None,
    chunk_events: int = 2_000,
) -> int:
    """Write a DATE raw file; returns the number of bytes written.

    events: columns ``run, spill, event_in_run, event_in_spill, type, trigger_mask`` and
        optionally ``time, ldc, gdc, detector_pattern`` (0 when absent).
    sadc: MSADC digits ``event`` (row of events), ``source_id, port, chip, channel,
        nsamples, samples`` (n, W) and optionally ``sum`` (default: the sum of the recorded
        samples modulo 2**16).
    tdc: F1 hits ``event, source_id, port, chip, channel, raw_time, trigger_time``.
    super_events: write each equipment-carrying event as a super event of one sub-event per
        LDC; ``ldc_groups`` maps LDC id -> equipment ids (source or multiplexer ids), default
        one LDC per equipment.
    multiplexed_sources: groups of source ids read through an S-Link multiplexer, as
        ``{mux_id: sources}`` (ids 896..1023) or a list of groups (ids 896, 897, ...).
    sources: source ids that send a (possibly empty) block in every event even without data.

    A path is written atomically: to a temporary file in the same folder, then renamed.
    """
    kwargs = dict(super_events=super_events, multiplexed_sources=multiplexed_sources,
                  ldc_groups=ldc_groups, sources=sources, chunk_events=chunk_events)
    if hasattr(path_or_fileobj, "write"):
        written = 0
        for part in _encode_iter(events, sadc, tdc, **kwargs):
            path_or_fileobj.write(part)
            written += len(part)
        return written
    path = Path(os.fspath(path_or_fileobj))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        written = 0
        with os.fdopen(fd, "wb") as fh:
            for part in _encode_iter(events, sadc, tdc, **kwargs):
                fh.write(part)
                written += len(part)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return written
