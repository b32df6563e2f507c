"""Encoding a chunk of validated events into one array of 32-bit words.

Sizes are computed bottom-up (channel records -> ADC blocks -> S-Link blocks -> equipments
-> sub-events -> events), offsets top-down by cumulative sums over a fixed per-event
template of units, and every word is placed by whole-array assignments.
"""

from __future__ import annotations

import numpy as np

from ._write_input import WriterInput
from .layout import (
    DATE_HEADER_WORDS,
    DATE_MAGIC,
    DATE_SUPER_EVENT_BIT,
    DATE_VERSION,
    EQUIPMENT_HEADER_WORDS,
    EQUIPMENT_TYPE_SLINK,
    MSADC_KEY,
    MUX_HEADER_WORDS,
    MUX_SOURCE_MIN,
    SLINK_FORMAT_F1,
    SLINK_FORMAT_FIRST_EVENT,
    SLINK_FORMAT_MSADC,
    SLINK_HEADER_WORDS,
)

__all__ = ["ChunkEncoder", "WordScratch"]


def _core_raw():
    from .._core import raw

    return raw

_U32 = 0xFFFFFFFF


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


class ChunkEncoder:
    """Encodes events [lo, hi) of a validated input into one uint32 word array."""

    def __init__(self, data: WriterInput, super_events: bool) -> None:
        self.d = data
        self.h = data.hierarchy
        self.super_events = super_events
        self.item_kind, self.item_ref = self._item_template()
        # S-Link format byte, bits 0..6: chip data layout (docs/raw-decoding.md).
        fmt = np.zeros(self.h.n_slots, dtype=np.int64)
        for sources, code in ((data.s_source, SLINK_FORMAT_MSADC), (data.t_source, SLINK_FORMAT_F1)):
            present = np.zeros(MUX_SOURCE_MIN, dtype=bool)
            present[sources] = True
            fmt[present[self.h.slot_source]] = code
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

    def encode(self, lo: int, hi: int, s_range: tuple[int, int], t_range: tuple[int, int],
               scratch: WordScratch | None = None) -> np.ndarray:
        """The words of events [lo, hi); with ``scratch`` they live in its arrays, valid until
        the next call with the same scratch."""
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
        self._check_16bit(src_words, lo, carry_rows, "S-Link block of source", h.slot_source)

        # ---- sizes up the hierarchy
        if n_slots:
            eq_payload = np.add.reduceat(src_words, h.eq_first_slot, axis=1)
        else:
            eq_payload = np.zeros((ne, 0), dtype=np.int64)
        eq_payload += MUX_HEADER_WORDS * h.eq_is_mux
        self._check_16bit(np.where(h.eq_is_mux, eq_payload, 0), lo, carry_rows, "multiplexer block", h.eq_id)
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
        out = _Words(int(event_words.sum()), scratch)

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
        out.put_blocks(event_off, date)
        if self.super_events and ne:
            sub = np.repeat(date[carry_rows, None, :], h.ldc_id.size, axis=1)
            sub[:, :, 0] = ldc_words * 4
            sub[:, :, 13] = 0
            sub[:, :, 14] = h.ldc_id
            out.put_blocks(item_off[:, kind == 0], sub)
        eis_c = eis[carry_rows]
        spill_c = d.spill[lo:hi][carry_rows]
        slink_type = d.type[lo:hi][carry_rows] & 0x1F
        if ne and h.eq_id.size:
            eqh = np.zeros((ne, h.eq_id.size, EQUIPMENT_HEADER_WORDS), dtype=np.int64)
            eqh[:, :, 0] = eq_words * 4
            eqh[:, :, 1] = EQUIPMENT_TYPE_SLINK
            eqh[:, :, 2] = h.eq_id
            eqh[:, :, 6] = 4
            out.put_blocks(item_off[:, kind == 1], eqh)
            mux = np.flatnonzero(h.eq_is_mux)
            if mux.size:
                mh = np.empty((ne, mux.size, MUX_HEADER_WORDS), dtype=np.int64)
                mh[:, :, 0] = eq_payload[:, mux] | (h.eq_id[mux] << 16) | (slink_type[:, None] << 26)
                mh[:, :, 1] = (eis_c | (spill_c << 20))[:, None]
                out.put_blocks(item_off[:, kind == 2], mh)
            slh = np.empty((ne, n_slots, SLINK_HEADER_WORDS), dtype=np.int64)
            slh[:, :, 0] = src_words | (h.slot_source << 16) | (slink_type[:, None] << 26)
            slh[:, :, 1] = (eis_c | (spill_c << 20))[:, None]
            first = (d.event_in_run[lo:hi][carry_rows] == 1) * SLINK_FORMAT_FIRST_EVENT
            slh[:, :, 2] = (first[:, None] | self.slot_format[None, :]) << 24
            slot_off = np.empty((ne, n_slots), dtype=np.int64)
            slot_off[:, ref[kind == 3]] = item_off[:, kind == 3]
            out.put_blocks(slot_off, slh)
            payload_start = slot_off.reshape(-1) + SLINK_HEADER_WORDS
            self._write_f1(out, t, payload_start, t_unit, t_words, t_header, eis, lo)
            # last: the MSADC records fill the words left free by everything else
            self._write_msadc(out, s, payload_start, block_first, block_words, block_unit, eis, lo)
        return out.words

    def _check_16bit(self, words: np.ndarray, lo: int, carry_rows: np.ndarray, what: str,
                     ids: np.ndarray) -> None:
        if words.size and words.max() > 0xFFFF:
            r, c = np.argwhere(words > 0xFFFF)[0]
            raise ValueError(
                f"events: row {lo + carry_rows[r]} needs a {what} {ids[c]} of {words[r, c]} words; "
                "the 16-bit S-Link size field allows 65535"
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

    def _write_msadc(self, out, s, payload_start, block_first, block_words, block_unit, eis, lo) -> None:
        """ADC block headers go to their computed offsets; the channel records then fill every
        word not yet written, in file order (the records are exactly the words left once all
        headers and F1 words are placed)."""
        d = self.d
        if block_first.size == 0:
            return
        ev_local = d.s_event[s][block_first] - lo
        block_off = payload_start[block_unit] + _within_group_offsets(block_words, block_unit)
        out.put(block_off, (eis[ev_local] & 0xFFF)
                | (block_words << 12)
                | (d.s_chip[s][block_first] << 25)
                | (d.s_port[s][block_first] << 27)
                | (MSADC_KEY << 30))

        # the records (header word, then 12-bit sample pairs) go in order into the free words,
        # packed in one compiled pass
        _core_raw().fill_msadc_records(
            out.words, out.taken.view(np.uint8), np.ascontiguousarray(d.s_samples[s], dtype=np.uint16),
            np.ascontiguousarray(d.s_nsamples[s]), np.ascontiguousarray(d.s_sum[s]),
            np.ascontiguousarray(d.s_channel[s]),
        )

    def _write_f1(self, out, t, payload_start, t_unit, t_words, t_header, eis, lo) -> None:
        d = self.d
        if t_unit.size == 0:
            return
        pos = payload_start[t_unit] + _within_group_offsets(t_words, t_unit) + t_header
        port, chip, chan = d.t_port[t], d.t_chip[t], d.t_channel[t]
        out.put(pos, (port << 4) | (d.t_raw_time[t] << 8) | (((chip << 3) | chan) << 24) | (1 << 31))
        h = np.flatnonzero(t_header)
        ev_local = d.t_event[t][h] - lo
        out.put(pos[h] - 1,
                (port[h] << 4)
                | (chan[h] << 8)
                | (chip[h] << 11)
                | (d.t_trigger_time[t][h] << 15)
                | ((eis[ev_local] & 0x3F) << 24))


class WordScratch:
    """Word and flag arrays reused from one chunk to the next, for a caller that is done with a
    chunk's words before it encodes the next (a file write). Fresh arrays are fresh pages
    whenever the allocator has given the memory back to the system, and the first touch of
    every page is then a page fault (on 2 MB chunks that alone can cost as much as the
    encoding)."""

    def __init__(self) -> None:
        self._words = np.zeros(0, dtype=np.uint32)
        self._taken = np.zeros(0, dtype=bool)

    def take(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Zeroed words and flags of length n (the previous chunk's contents are gone)."""
        if self._words.size < n:
            size = n + n // 4  # room for the next chunks, a little larger or smaller
            self._words = np.zeros(size, dtype=np.uint32)
            self._taken = np.zeros(size, dtype=bool)
        words, taken = self._words[:n], self._taken[:n]
        words.fill(0)
        taken.fill(False)
        return words, taken


class _Words:
    """The word array of a chunk, with a record of which words are already written."""

    def __init__(self, n: int, scratch: WordScratch | None = None) -> None:
        if scratch is not None:
            self.words, self.taken = scratch.take(n)
        else:
            self.words = np.zeros(n, dtype=np.uint32)
            self.taken = np.zeros(n, dtype=bool)

    def put(self, positions: np.ndarray, values: np.ndarray) -> None:
        self.words[positions] = values
        self.taken[positions] = True

    def put_blocks(self, offsets: np.ndarray, words: np.ndarray) -> None:
        """words[..., k] at offsets[...] + k: header blocks of k consecutive words."""
        k = words.shape[-1]
        self.put((offsets[..., None] + np.arange(k)).reshape(-1), words.reshape(-1))

