"""Thousands of damaged files through the decoder: it always returns, every byte is
accounted for (in a decoded event or in a reported skipped range), and the events before
the first damaged byte come out exactly as from the intact file."""

from __future__ import annotations

import numpy as np
import pytest

import na64reco as nr
from na64reco.raw import words as W

CODE = nr.raw.ERROR_CODES
N_MUTATIONS = 4000


def _clean_events(rng: np.random.Generator) -> list[bytes]:
    """A mix of plain, super and bare events with MSADC, multiplexed and F1 data."""
    out = []
    for i in range(24):
        eis = i + 1
        hdr = dict(run=7, spill=3, event_in_run=1000 + i, event_in_spill=eis, trigger_mask=int(rng.integers(1 << 40)))
        kind = i % 6
        if kind == 5:
            out.append(W.to_bytes(W.date_event([], type=5 if i % 12 == 5 else 2, **hdr)))
            continue
        adcs = [
            (int(p), int(c), [(int(ch), rng.integers(0, 4096, int(ns)).tolist())
                              for ch, ns in zip(rng.integers(0, 16, 3), rng.choice([0, 1, 31, 32, 33], 3))])
            for p, c in zip(rng.integers(0, 8, 2), rng.integers(0, 4, 2))
        ]
        msadc = W.slink_equipment(10 + kind, eis, W.msadc_payload(eis, adcs), spill=3)
        f1 = W.f1_header(1, int(rng.integers(512)))
        for t in rng.integers(0, 1 << 16, int(rng.integers(1, 6))):
            f1 += W.f1_data(1, int(t), int(rng.integers(8)), int(rng.integers(8)))
        f1_eq = W.slink_equipment(40, eis, f1, spill=3, format=1)
        if kind == 3:  # a multiplexer of two sources
            a = W.slink_header(3 + len(f1), 41, eis, spill=3, format=1) + f1
            m = W.slink_header(3 + len(msadc) - 10, 42, eis, spill=3) + msadc[10:]
            body = a + m
            f1_eq = W.equipment_header(28 + 4 * (2 + len(body))) + W.mux_header(2 + len(body), 901, eis, spill=3) + body
        payload = msadc + f1_eq
        if kind == 4:  # super event of two LDC sub-events
            payload = W.date_event(msadc, **hdr) + W.date_event(f1_eq, **hdr)
            out.append(W.to_bytes(W.date_event(payload, super_event=True, **hdr)))
        else:
            out.append(W.to_bytes(W.date_event(payload, type=8 if kind == 2 else 7, **hdr)))
    return out


@pytest.fixture(scope="module")
def clean():
    events = _clean_events(np.random.default_rng(2024))
    buf = b"".join(events)
    starts = np.cumsum([0] + [len(e) for e in events])
    batch = nr.decode_bytes(buf)
    assert batch.errors.nrows == 0 and batch.events.nrows == len(events)
    assert batch.sadc.nrows > 100 and batch.tdc.nrows > 40
    return buf, starts, batch


def _mutate(buf: bytes, starts: np.ndarray, rng: np.random.Generator) -> tuple[bytes, int]:
    """A damaged copy and the offset of its first damaged byte."""
    n = len(buf)
    kind = rng.integers(6)
    if kind == 0:  # bit flips
        arr = np.frombuffer(buf, dtype=np.uint8).copy()
        pos = rng.integers(0, n, int(rng.integers(1, 9)))
        arr[pos] ^= (1 << rng.integers(0, 8, pos.size)).astype(np.uint8)
        return arr.tobytes(), int(pos.min())
    if kind == 1:  # truncation
        cut = int(rng.integers(0, n))
        return buf[:cut], cut
    if kind == 2:  # splice: an event cut short, then a later event
        i = int(rng.integers(0, len(starts) - 2))
        j = int(rng.integers(i + 1, len(starts) - 1))
        cut = int(starts[i] + 4 * rng.integers(1, (starts[i + 1] - starts[i]) // 4))
        return buf[:cut] + buf[starts[j]:], cut
    if kind == 3:  # garbage inserted, often at an event boundary, often whole words
        pos = int(starts[rng.integers(len(starts))]) if rng.random() < 0.5 else int(rng.integers(0, n))
        length = int(rng.integers(1, 80))
        if rng.random() < 0.7:
            length = 4 * (length // 4 + 1)
        return buf[:pos] + rng.bytes(length) + buf[pos:], pos
    # one word overwritten with a random or a dangerous value
    arr = np.frombuffer(buf, dtype="<u4").copy()
    k = int(rng.integers(arr.size))
    special = [0, 1, 0xFFFFFFFF, W.DATE_MAGIC, 68, 0x7FFFFFFF, 0xC0000000, 0x40000000, 0x80000000]
    value = int(rng.integers(1 << 32)) if kind == 4 else special[int(rng.integers(len(special)))]
    if arr[k] == value:
        value ^= 1
    arr[k] = value
    return arr.tobytes(), 4 * k


def _check_accounting(b: nr.raw.RawBatch, size: int) -> None:
    ev, er = b.events, b.errors
    # every event's errors counted on it
    assert ((er.event >= -1) & (er.event < ev.nrows)).all()
    assert np.bincount(er.event[er.event >= 0], minlength=ev.nrows).tolist() == ev.nerrors.tolist()
    assert ev.index.tolist() == list(range(ev.nrows))
    for t in (b.sadc, b.tdc):
        assert ((t.event >= 0) & (t.event < ev.nrows)).all() and (np.diff(t.event) >= 0).all()
    # every byte in exactly one range: decoded event, skipped bytes or truncated header
    cut = np.zeros(ev.nrows, dtype=np.int64)
    is_cut = (er.code == CODE["event_truncated"]) | (er.code == CODE["event_overruns_next"])
    np.add.at(cut, er.event[is_cut], er.value[is_cut])
    skip = (er.code == CODE["bytes_skipped"]) | (er.code == CODE["truncated_header"])
    begin = np.concatenate([ev.offset.astype(np.int64), er.offset[skip].astype(np.int64)])
    end = np.concatenate([ev.offset.astype(np.int64) + ev.size - cut, er.offset[skip].astype(np.int64) + er.value[skip]])
    order = np.argsort(begin, kind="stable")
    begin, end = begin[order], end[order]
    assert (end > begin).all()
    assert begin[:1].tolist() == ([0] if size else [])
    assert (begin[1:] == end[:-1]).all()
    assert end[-1:].tolist() == ([size] if size else [])
    assert (b.sadc.samples <= 4095).all()  # 12-bit fields, whatever the damage


def _check_prefix(b: nr.raw.RawBatch, clean_batch: nr.raw.RawBatch, starts: np.ndarray, first_bad: int) -> None:
    m = int(np.searchsorted(starts[1:], first_bad, side="right"))  # events ending at or before it
    assert b.events.nrows >= m
    for name in clean_batch.events:
        assert b.events[name][:m].tolist() == clean_batch.events[name][:m].tolist(), name
    for table in ("sadc", "tdc"):
        new, ref = getattr(b, table), getattr(clean_batch, table)
        k_new, k_ref = int(np.searchsorted(new.event, m)), int(np.searchsorted(ref.event, m))
        assert k_new == k_ref, table
        for name in ref:
            a, r = new[name][:k_new], ref[name][:k_ref]
            if name == "samples":
                a, r = a[:, :32], r[:, :32]
            np.testing.assert_array_equal(a, r)


def test_mutated_files_are_decoded_or_accounted_for(clean):
    buf, starts, clean_batch = clean
    rng = np.random.default_rng(7)
    seen_codes: set[int] = set()
    for _ in range(N_MUTATIONS):
        damaged, first_bad = _mutate(buf, starts, rng)
        b = nr.decode_bytes(damaged)
        _check_accounting(b, len(damaged))
        _check_prefix(b, clean_batch, starts, first_bad)
        seen_codes.update(int(c) for c in np.unique(b.errors.code))
    # the damage reached deep into the layout, not just the event framing
    for name in ("bytes_skipped", "event_truncated", "event_overruns_next", "adc_bad_key", "data_word_bad_id",
                 "equipment_outside_event", "slink_event_mismatch", "f1_data_before_header"):
        assert CODE[name] in seen_codes, name


def test_batched_decoding_of_damaged_files_matches_one_batch(clean):
    buf, starts, _ = clean
    rng = np.random.default_rng(11)
    for _ in range(200):
        damaged, _ = _mutate(buf, starts, rng)
        whole = nr.decode_bytes(damaged)
        raw = nr.raw.RawFile(nr._core.raw.RawFile.from_buffer(damaged))
        joined = nr.raw.RawBatch.concatenate(list(raw.batches(int(rng.integers(1, 6)))))
        for table in ("events", "sadc", "tdc", "errors"):
            a, c = getattr(whole, table), getattr(joined, table)
            for name in a:
                np.testing.assert_array_equal(a[name], c[name][:, : a[name].shape[1]] if name == "samples" else c[name])
