"""The decoder on hand-built byte layouts, checked field by field."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import na64reco as nr
from na64reco.raw import words as W

DOCS = Path(__file__).resolve().parents[1] / "docs" / "raw-decoding.md"


def event_bytes(payload, **header):
    return W.to_bytes(W.date_event(payload, **header))


def test_event_header_fields():
    buf = event_bytes(
        [], run=4321, spill=0xABC, event_in_run=0xDEADBEEF, event_in_spill=0xFFFFF, type=7,
        trigger_mask=(1 << 40) | (1 << 31) | 0x7FFFFFFF, time=1_700_000_000,
    )
    buf += event_bytes([], run=4321, spill=2, event_in_run=1, event_in_spill=9, type=5)
    b = nr.decode_bytes(buf)
    ev = b.events
    assert ev.nrows == 2 and b.errors.nrows == 0
    assert ev.index.tolist() == [0, 1]
    assert ev.offset.tolist() == [0, 68]
    assert ev.size.tolist() == [68, 68]
    assert ev.run.tolist() == [4321, 4321]
    assert ev.spill.tolist() == [0xABC, 2]
    assert ev.event_in_run.tolist() == [0xDEADBEEF, 1]
    assert ev.event_in_spill.tolist() == [0xFFFFF, 9]
    assert ev.type.tolist() == [7, 5]
    assert ev.trigger_mask.tolist() == [(1 << 40) | (1 << 31) | 0x7FFFFFFF, 0]
    assert ev.time.tolist() == [1_700_000_000, 0]
    assert ev.nerrors.tolist() == [0, 0]
    assert ev.index.dtype == np.int64 and ev.offset.dtype == np.uint64 and ev.type.dtype == np.uint16
    assert ev.trigger_mask.dtype == np.uint64 and ev.nerrors.dtype == np.uint32


def test_msadc_channels_samples_and_padding():
    eis = 0x1234  # the ADC header keeps the low 12 bits
    long = list(range(4000, 4040))  # 40 samples: the batch widens to W = 40
    data = W.msadc_payload(eis, [(5, 2, [(7, list(range(100, 132))), (15, [4095, 0, 17])]), (1, 3, [(0, long), (2, [])])])
    payload = W.slink_equipment(601, eis, data, spill=3)
    b = nr.decode_bytes(event_bytes(payload, spill=3, event_in_spill=eis))
    s = b.sadc
    assert b.errors.nrows == 0 and s.nrows == 4
    assert s.event.tolist() == [0, 0, 0, 0]
    assert s.source_id.tolist() == [601] * 4
    assert s.port.tolist() == [5, 5, 1, 1]
    assert s.chip.tolist() == [2, 2, 3, 3]
    assert s.channel.tolist() == [7, 15, 0, 2]
    assert s.nsamples.tolist() == [32, 3, 40, 0]
    assert s.sum.tolist() == [sum(range(100, 132)), 4112, sum(long) & 0xFFFF, 0]
    assert s.samples.shape == (4, 40) and s.samples.dtype == np.uint16
    assert s.samples[0].tolist() == list(range(100, 132)) + [0] * 8
    assert s.samples[1].tolist() == [4095, 0, 17] + [0] * 37
    assert s.samples[2].tolist() == long
    assert not s.samples[3].any()


def test_odd_sample_count_ignores_the_padding_value():
    eis = 3
    ch = W.channel_header(3, 1) + W.sample_words([10, 20, 30], padding=4095)
    data = W.adc_header(1 + len(ch), eis, 0, 0) + ch
    b = nr.decode_bytes(event_bytes(W.slink_equipment(1, eis, data), event_in_spill=eis))
    assert b.sadc.samples[0, :4].tolist() == [10, 20, 30, 0]
    assert b.sadc.samples.shape == (1, 32)


def test_f1_time_convention_and_wraparound():
    eis = 70  # F1 header event field keeps 6 bits
    data = (
        W.f1_header(2, 10, event=eis & 0x3F)
        + W.f1_data(2, 10 * 128 + 55, 1, 6)  # 55 bins after the trigger
        + W.f1_data(2, 10 * 128 - 30, 7, 0)  # 30 bins before
        + W.f1_header(9, 511)
        + W.f1_data(9, 100, 0, 3)  # wrapped: 100 - 511*128 = -65308 -> +228
        + W.f1_data(2, 0xFFFF, 3, 3)  # port 2 still uses its own header
    )
    b = nr.decode_bytes(event_bytes(W.slink_equipment(77, eis, data, format=1), event_in_spill=eis))
    t = b.tdc
    assert b.errors.nrows == 0 and t.nrows == 4
    assert t.source_id.tolist() == [77] * 4
    assert t.port.tolist() == [2, 2, 9, 2]
    assert t.chip.tolist() == [1, 7, 0, 3]
    assert t.channel.tolist() == [6, 0, 3, 3]
    assert t.raw_time.tolist() == [1335, 1250, 100, 0xFFFF]
    assert t.trigger_time.tolist() == [10, 10, 511, 10]
    expected = [55, -30, 228, np.int16(np.uint16((0xFFFF - 1280) & 0xFFFF))]
    assert t.time_bins.tolist() == [int(x) for x in expected]
    assert t.time_bins.dtype == np.int32
    np.testing.assert_allclose(t.time_ns, t.time_bins * nr.raw.F1_BIN_NS)
    assert nr.raw.F1_BIN_NS == 0.1


def test_super_event_subevents_and_multiplexer():
    eis = 12
    hdr = dict(run=5, spill=2, event_in_run=99, event_in_spill=eis)
    adc = W.msadc_payload(eis, [(0, 0, [(1, [1] * 32)])])
    f1 = W.f1_header(0, 1) + W.f1_data(0, 200, 0, 0)
    sub_a = W.slink_header(3 + len(adc), 10, eis, spill=2, format=3) + adc
    sub_b = W.slink_header(3 + len(f1), 11, eis, spill=2, format=1) + f1
    mux = W.mux_header(2 + len(sub_a) + len(sub_b), 900, eis, spill=2) + sub_a + sub_b
    mux_equipment = W.equipment_header(28 + 4 * len(mux)) + mux
    ldc1 = W.date_event(mux_equipment, **hdr)
    ldc2 = W.date_event(W.slink_equipment(12, eis, adc, spill=2), **hdr)
    b = nr.decode_bytes(event_bytes(ldc1 + ldc2, super_event=True, **hdr))
    assert b.errors.nrows == 0 and b.events.nrows == 1
    assert b.sadc.source_id.tolist() == [10, 12]
    assert b.tdc.source_id.tolist() == [11]
    assert b.tdc.time_bins.tolist() == [200 - 128]


def test_only_data_types_have_their_payload_read():
    eis = 1
    payload = W.slink_equipment(3, eis, W.msadc_payload(eis, [(0, 0, [(0, [5] * 32)])]))
    buf = b"".join(event_bytes(payload, type=t, event_in_spill=eis) for t in (1, 5, 6, 7, 8, 9))
    b = nr.decode_bytes(buf)
    assert b.events.type.tolist() == [1, 5, 6, 7, 8, 9]
    assert b.sadc.event.tolist() == [2, 3, 4]
    assert b.errors.nrows == 0


def test_format_zero_is_inferred_from_the_first_word():
    eis = 4
    adc = W.msadc_payload(eis, [(0, 0, [(3, [9] * 32)])])
    f1 = W.f1_header(1, 3) + W.f1_data(1, 400, 2, 2)
    payload = W.slink_equipment(1, eis, adc, format=0) + W.slink_equipment(2, eis, f1, format=0x80)
    b = nr.decode_bytes(event_bytes(payload, event_in_spill=eis))
    assert b.errors.nrows == 0
    assert b.sadc.channel.tolist() == [3] and b.tdc.raw_time.tolist() == [400]


def _events(n, eis0=1):
    return [
        event_bytes(
            W.slink_equipment(7, eis0 + i, W.msadc_payload(eis0 + i, [(0, 0, [(i % 16, [i] * (32 + i % 3))])])),
            event_in_run=i, event_in_spill=eis0 + i,
        )
        for i in range(n)
    ]


def test_batches_are_resumable_and_concatenate_to_read_all(tmp_path):
    path = tmp_path / "run.dat"
    path.write_bytes(b"".join(_events(25)))
    raw = nr.open_raw(path)
    assert raw.size == path.stat().st_size and raw.name == str(path)
    parts = list(raw.batches(10))
    assert [p.events.nrows for p in parts] == [10, 10, 5]
    assert parts[1].events.index.tolist() == list(range(10, 20))
    assert parts[1].sadc.event.tolist() == list(range(10))  # rows of the batch's own events
    assert raw.done and raw.offset == raw.size and raw.events_decoded == 25
    whole = raw.read_all()
    joined = nr.raw.RawBatch.concatenate(parts)
    for table in ("events", "sadc", "tdc", "errors"):
        a, c = getattr(whole, table), getattr(joined, table)
        assert list(a) == list(c)
        for col in a:
            np.testing.assert_array_equal(a[col], c[col])
    assert whole.sadc.samples.shape == (25, 34)
    same = nr.decode_bytes(path.read_bytes())
    np.testing.assert_array_equal(same.sadc.samples, whole.sadc.samples)
    raw.rewind()
    assert raw.offset == 0 and raw.next_batch(3).events.event_in_run.tolist() == [0, 1, 2]
    assert raw.offset == sum(len(e) for e in _events(3))


def test_decode_bytes_accepts_numpy_and_memoryview():
    buf = b"".join(_events(3))
    as_words = np.frombuffer(buf, dtype="<u4")
    for obj in (bytearray(buf), memoryview(buf), as_words):
        assert nr.decode_bytes(obj).events.nrows == 3
    with pytest.raises(ValueError, match="C-contiguous"):
        nr.decode_bytes(as_words[::2])


def test_bad_arguments_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="cannot open raw file .*missing.dat"):
        nr.open_raw(tmp_path / "missing.dat")
    with pytest.raises(ValueError, match="is a directory"):
        nr.open_raw(tmp_path)
    raw = nr.open_raw(_write(tmp_path / "a.dat", b"".join(_events(2))))
    with pytest.raises(ValueError, match="max_events must be positive, got 0"):
        next(raw.batches(0))
    with pytest.raises(ValueError, match="got -1"):
        raw.next_batch(-1)


def _write(path, data):
    path.write_bytes(data)
    return path


def test_empty_file_and_empty_tables(tmp_path):
    b = nr.open_raw(_write(tmp_path / "empty.dat", b"")).read_all()
    assert b.events.nrows == b.sadc.nrows == b.tdc.nrows == b.errors.nrows == 0
    assert b.sadc.samples.shape == (0, 32)
    assert list(b.errors) == ["event", "offset", "source_id", "code", "value"]
    assert list(b.tdc) == ["event", "source_id", "port", "chip", "channel", "raw_time", "trigger_time", "time_bins", "time_ns"]


def test_error_table_is_documented_with_the_same_codes():
    documented = dict(
        (int(code), name) for code, name in re.findall(r"^\| (\d+) \| `(\w+)` \|", DOCS.read_text(), re.M)
    )
    assert documented == nr.raw.ERROR_NAMES
    assert nr.raw.ERROR_CODES["bytes_skipped"] == 3


def test_threads_sharing_a_file_get_every_event_once(tmp_path):
    import threading

    raw = nr.open_raw(_write(tmp_path / "t.dat", b"".join(_events(400))))
    got: list[np.ndarray] = []

    def work():
        while not raw.done:
            got.append(raw.next_batch(7).events.index)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.sort(np.concatenate(got)).tolist() == list(range(400))


def test_decoder_and_writer_share_the_layout_conventions():
    from na64reco.raw import layout

    assert nr.raw.MUX_SOURCE_ID_MIN == layout.MUX_SOURCE_MIN
    assert (nr.raw.FORMAT_MSADC, nr.raw.FORMAT_F1) == (layout.SLINK_FORMAT_MSADC, layout.SLINK_FORMAT_F1)


def test_closed_raw_file_refuses_to_decode_but_keeps_its_batches(tmp_path):
    import numpy as np

    import na64reco as nr
    from na64reco.raw import write_raw

    events = {"run": [7], "spill": [1], "event_in_run": [1], "event_in_spill": [1], "type": [7],
              "trigger_mask": [1], "time": [0]}
    sadc = {"event": [0], "source_id": [610], "port": [0], "chip": [0], "channel": [3],
            "nsamples": [32], "samples": np.full((1, 32), 100, np.uint16)}
    path = tmp_path / "one.dat"
    write_raw(path, events, sadc)
    with nr.open_raw(path) as raw:
        batch = raw.read_all()
    assert raw.closed and "closed" in repr(raw)
    assert batch.sadc.samples[0, 5] == 100
    with pytest.raises(ValueError, match="one.dat.*is closed"):
        raw.read_all()


def test_decoding_reads_the_callers_buffer_in_place_and_keeps_it():
    one = event_bytes(b"", spill=1, event_in_spill=1)
    data = bytearray(one * 3)
    f = nr._core.raw.RawFile.from_buffer(data)
    with pytest.raises(BufferError):
        data.extend(b"\0" * 8)  # the decoder holds the buffer: it cannot move under it
    del data
    raw = nr.raw.RawFile(f)
    assert raw.read_all().events.nrows == 3
    del raw, f
    grown = bytearray(one)
    nr._core.raw.RawFile.from_buffer(grown)  # released with the RawFile, grown may resize again
    grown.extend(b"\0" * 8)
