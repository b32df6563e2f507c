"""Every decoder error, produced by a crafted input, named, counted and tied to its event
and source; decoding goes on after it."""

from __future__ import annotations

import numpy as np

import na64reco as nr
from na64reco.raw import words as W

SRC = 17
NAME = nr.raw.ERROR_NAMES


def channel(chan=0, samples=(7,) * 32):
    return W.channel_header(len(samples), chan, sum=sum(samples) & 0xFFFF) + W.sample_words(samples)


def adc_block(eis, *channels, port=0, chip=0):
    body = [w for ch in channels for w in ch]
    return W.adc_header(1 + len(body), eis & 0xFFF, chip, port) + body


def good_adc(eis):
    return adc_block(eis, channel())


def event(payload, eis=1, **hdr):
    return W.date_event(payload, event_in_spill=eis, event_in_run=eis, **hdr)


def msadc_event(data, eis=1, src=SRC, **hdr):
    return event(W.slink_equipment(src, eis, data), eis, **hdr)


def good_event(eis=1):
    return msadc_event(good_adc(eis), eis)


def decode(*parts):
    """Decode the concatenation of word lists / bytes."""
    buf = b"".join(p if isinstance(p, bytes) else W.to_bytes(p) for p in parts)
    return nr.decode_bytes(buf), buf


def errors(batch):
    e = batch.errors
    return [(NAME[int(c)], int(ev), int(s), int(v)) for c, ev, s, v in zip(e.code, e.event, e.source_id, e.value)]


def check_counts(batch):
    """events.nerrors is the number of error rows naming each event."""
    counts = np.bincount(batch.errors.event[batch.errors.event >= 0], minlength=batch.events.nrows)
    assert counts.tolist() == batch.events.nerrors.tolist()


# ---------------------------------------------------------------- event framing


def test_truncated_header_keeps_the_events_before():
    b, buf = decode(good_event(1), W.to_bytes(good_event(2))[:40])
    assert errors(b) == [("truncated_header", -1, -1, 40)]
    assert b.errors.offset.tolist() == [len(buf) - 40]
    assert b.events.nrows == 1 and b.sadc.nrows == 1


def test_event_truncated_at_file_end_decodes_what_is_there():
    two = good_event(2)
    b, _ = decode(good_event(1), W.to_bytes(two)[:-20])
    assert errors(b)[0] == ("event_truncated", 1, -1, 20)
    assert ("equipment_outside_event", 1, -1, 4 * (len(two) - 17)) in errors(b)
    assert b.events.event_in_spill.tolist() == [1, 2] and b.sadc.event.tolist() == [0]
    check_counts(b)


def test_garbage_between_events_is_skipped_and_measured():
    b, buf = decode(good_event(1), b"\x13\x37" * 10, good_event(2))
    assert errors(b) == [("bytes_skipped", -1, -1, 20)]
    assert b.errors.offset.tolist() == [4 * len(good_event(1))]
    assert b.events.event_in_spill.tolist() == [1, 2] and b.sadc.nrows == 2


def test_byte_swapped_event_is_rejected():
    swapped = np.asarray(good_event(2), dtype="<u4").byteswap().tobytes()
    b, _ = decode(good_event(1), swapped, good_event(3))
    assert errors(b) == [("byte_swapped", -1, -1, 0xFE5A1EDA), ("bytes_skipped", -1, -1, len(swapped))]
    assert b.events.event_in_spill.tolist() == [1, 3]


def test_byte_swapped_type_flag_is_rejected():
    flagged = good_event(2)
    flagged[4] |= 0x00020000
    b, _ = decode(good_event(1), flagged, good_event(3))
    assert errors(b) == [("byte_swapped", -1, -1, flagged[4]), ("bytes_skipped", -1, -1, 4 * len(flagged))]
    assert b.events.event_in_spill.tolist() == [1, 3]


def test_bad_header_length_and_old_version_are_skipped_by_size():
    bad_len = msadc_event(good_adc(2), 2, head_len=64)
    old = msadc_event(good_adc(3), 3, version=0x0302)
    b, _ = decode(good_event(1), bad_len, good_event(5), old, good_event(4))
    assert errors(b) == [
        ("bad_header_length", -1, -1, 64), ("bytes_skipped", -1, -1, 4 * len(bad_len)),
        ("bad_version", -1, -1, 0x0302), ("bytes_skipped", -1, -1, 4 * len(old)),
    ]
    assert b.events.event_in_spill.tolist() == [1, 5, 4]
    # Two rejected headers in a row: the first size does not lead to a valid header, so
    # the decoder scans, and both are one skipped range.
    b, _ = decode(good_event(1), bad_len, old, good_event(4))
    assert errors(b) == [("bad_header_length", -1, -1, 64), ("bytes_skipped", -1, -1, 4 * (len(bad_len) + len(old)))]


def test_event_size_zero_and_invalid_resync_to_the_next_header():
    zero = good_event(2)
    zero[0] = 0
    small = good_event(3)
    small[0] = 66
    b, _ = decode(good_event(1), zero, good_event(5), small, good_event(4))
    assert errors(b) == [
        ("event_size_zero", -1, -1, 0), ("bytes_skipped", -1, -1, 4 * len(zero)),
        ("event_size_invalid", -1, -1, 66), ("bytes_skipped", -1, -1, 4 * len(small)),
    ]
    assert b.events.event_in_spill.tolist() == [1, 5, 4]


def test_event_overrunning_the_next_header_is_cut_there():
    long = good_event(1)
    long[0] += 40  # claims 40 bytes of the next event
    b, _ = decode(long, good_event(2))
    assert errors(b) == [("event_overruns_next", 0, -1, 40)]
    assert b.events.event_in_spill.tolist() == [1, 2] and b.sadc.event.tolist() == [0, 1]
    check_counts(b)


# ---------------------------------------------------------------- super events


def super_event(subs, eis=1):
    return event([w for s in subs for w in s], eis, super_event=True)


def sub_event(eis=1, **hdr):
    return W.date_event(W.slink_equipment(SRC, eis, good_adc(eis)), event_in_spill=eis, event_in_run=eis, **hdr)


def test_subevent_bad_magic_stops_the_parent_only():
    bad = sub_event()
    bad[1] = 0x12345678
    b, _ = decode(super_event([sub_event(), bad, sub_event()]), good_event(2))
    assert errors(b) == [("bad_magic", 0, -1, 0x12345678)]
    assert b.sadc.event.tolist() == [0, 1]


def test_subevent_outside_parent():
    big = sub_event()
    big[0] += 8
    b, _ = decode(super_event([sub_event(), big]), good_event(2))
    assert errors(b) == [("subevent_outside_parent", 0, -1, big[0])]
    assert b.sadc.event.tolist() == [0, 1]


def test_subevent_mismatch_skips_that_subevent():
    b, _ = decode(super_event([sub_event(run=2), sub_event()]))
    assert errors(b) == [("subevent_mismatch", 0, -1, 1)]
    assert b.sadc.nrows == 1


def test_subevent_header_errors_are_named():
    short = sub_event(head_len=60)
    old = sub_event(version=3)
    zero = sub_event()
    zero[0] = 0
    odd = sub_event()
    odd[0] = 70
    for sub, expected in ((short, ("bad_header_length", 0, -1, 60)), (old, ("bad_version", 0, -1, 3)),
                          (zero, ("event_size_zero", 0, -1, 0)), (odd, ("event_size_invalid", 0, -1, 70))):
        b, _ = decode(super_event([sub_event(), sub]))
        assert errors(b) == [expected]
        assert b.sadc.nrows == 1


# ---------------------------------------------------------------- equipments and S-Link


def test_equipment_size_errors():
    tail = W.slink_equipment(SRC, 1, good_adc(1))
    for size, name in ((30, "equipment_size_not_multiple_of_4"), (20, "equipment_size_too_small"),
                       (4000, "equipment_outside_event")):
        eq = W.slink_equipment(SRC, 1, good_adc(1))
        eq[0] = size
        b, _ = decode(event(tail + eq), good_event(2))
        assert errors(b) == [(name, 0, -1, size)]
        assert b.sadc.event.tolist() == [0, 1]


def test_equipment_header_cut_by_the_event_end():
    b, _ = decode(event(W.slink_equipment(SRC, 1, good_adc(1)) + [0] * 5))
    assert errors(b) == [("equipment_outside_event", 0, -1, 20)]
    assert b.sadc.nrows == 1


def test_equipment_slink_size_mismatch_and_unknown_type():
    bad = W.slink_equipment(SRC, 1, good_adc(1))
    bad[7] -= 1  # S-Link event_size one word short of the equipment
    other = W.slink_equipment(SRC, 1, good_adc(1))
    other[1] = 65
    b, _ = decode(event(bad + other + W.slink_equipment(SRC + 1, 1, good_adc(1))))
    assert errors(b) == [("equipment_slink_size_mismatch", 0, SRC, len(bad) - 8), ("unknown_equipment_type", 0, -1, 65)]
    assert b.sadc.source_id.tolist() == [SRC + 1]


def test_slink_too_small_and_event_mismatch():
    tiny = W.equipment_header(28 + 8) + W.slink_header(2, SRC, 1)[:2]
    wrong = W.slink_equipment(SRC, 2, good_adc(1))
    b, _ = decode(event(tiny + wrong + W.slink_equipment(SRC + 1, 1, good_adc(1))))
    assert errors(b) == [("slink_size_too_small", 0, SRC, 2), ("slink_event_mismatch", 0, SRC, 2)]
    assert b.sadc.source_id.tolist() == [SRC + 1]


def mux_equipment(subs, eis=1, mux_id=900):
    body = [w for s in subs for w in s]
    return W.equipment_header(28 + 4 * (2 + len(body))) + W.mux_header(2 + len(body), mux_id, eis) + body


def slink_block(src, eis, data, fmt=3):
    return W.slink_header(3 + len(data), src, eis, format=fmt) + data


def test_mux_zero_size_and_size_mismatch():
    ok = slink_block(5, 1, good_adc(1))
    zero = slink_block(6, 1, good_adc(1))
    zero[0] &= ~0xFFFF
    b, _ = decode(event(mux_equipment([ok, zero])))
    assert errors(b) == [("mux_zero_size", 0, 6, 0)]
    assert b.sadc.source_id.tolist() == [5]
    overrun = slink_block(6, 1, good_adc(1))
    overrun[0] += 5
    b, _ = decode(event(mux_equipment([ok, overrun])))
    assert errors(b) == [("mux_size_mismatch", 0, 6, len(overrun) + 5)]
    assert b.sadc.source_id.tolist() == [5]


def test_mux_subblock_too_small_is_skipped_by_its_size():
    short = W.slink_header(2, 6, 1)[:2]
    b, _ = decode(event(mux_equipment([short, slink_block(5, 1, good_adc(1))])))
    assert errors(b) == [("slink_size_too_small", 0, 6, 2)]
    assert b.sadc.source_id.tolist() == [5]


def test_unknown_data_format():
    b, _ = decode(event(W.slink_equipment(SRC, 1, good_adc(1), format=5) + W.slink_equipment(SRC + 1, 1, good_adc(1))))
    assert errors(b) == [("unknown_data_format", 0, SRC, 5)]
    assert b.sadc.source_id.tolist() == [SRC + 1]


# ---------------------------------------------------------------- MSADC


def test_adc_header_errors_skip_the_rest_of_the_block():
    for header, name, value in (
        (W.adc_header(5, 1, 0, 0, key=2), "adc_bad_key", None),
        (W.adc_header(0, 1, 0, 0), "adc_size_zero", 0),
        (W.adc_header(500, 1, 0, 0), "adc_size_overrun", 500),
    ):
        data = good_adc(1) + header + good_adc(1)
        b, _ = decode(msadc_event(data), good_event(2))
        assert errors(b) == [(name, 0, SRC, header[0] if value is None else value)]
        assert b.sadc.event.tolist() == [0, 1]


def test_adc_event_mismatch_skips_only_that_adc_block():
    b, _ = decode(msadc_event(adc_block(2, channel(1)) + adc_block(1, channel(2)), 1))
    assert errors(b) == [("adc_event_mismatch", 0, SRC, 2)]
    assert b.sadc.channel.tolist() == [2]


def test_module_missing_is_reported_and_decoding_goes_on():
    missing = W.adc_header(1, 0, 1, 3, key=0)
    b, buf = decode(msadc_event(missing + good_adc(1)))
    assert errors(b) == [("module_missing", 0, SRC, missing[0])]
    assert b.errors.offset.tolist() == [4 * (17 + 7 + 3)]
    assert b.sadc.nrows == 1


def test_channel_header_errors_skip_the_rest_of_the_adc_block():
    for bad, name in ((W.channel_header(32, 1, id=2), "channel_bad_id"), (W.channel_header(32, 1, reserved=1), "channel_reserved_bit")):
        data = adc_block(1, channel(0), bad + W.sample_words([1] * 32), channel(2)) + adc_block(1, channel(3))
        b, _ = decode(msadc_event(data))
        assert errors(b) == [(name, 0, SRC, bad[0])]
        assert b.sadc.channel.tolist() == [0, 3]


def test_samples_overrun():
    data = W.adc_header(1 + 1 + 16, 1, 0, 0) + W.channel_header(40, 1) + W.sample_words([1] * 32)
    b, _ = decode(msadc_event(data + good_adc(1)))
    assert errors(b) == [("samples_overrun", 0, SRC, 40)]
    assert b.sadc.nrows == 1


def test_data_word_bad_id_drops_the_channel_only():
    bad = channel(1)
    bad[5] = (bad[5] & 0xFFFFFF) | (0x40 << 24)  # a "first" id on the fifth data word
    b, _ = decode(msadc_event(adc_block(1, channel(0), bad, channel(2))))
    assert errors(b) == [("data_word_bad_id", 0, SRC, bad[5])]
    assert b.errors.offset.tolist() == [4 * (17 + 7 + 3 + 1 + 17 + 5)]
    assert b.sadc.channel.tolist() == [0, 2]
    first = channel(3)
    first[1] ^= (0x40 ^ 0x80) << 24
    b, _ = decode(msadc_event(adc_block(1, first)))
    assert errors(b) == [("data_word_bad_id", 0, SRC, first[1])]


# ---------------------------------------------------------------- F1


def test_f1_word_errors():
    data = (W.f1_data(3, 100, 0, 0) + W.f1_header(3, 1) + W.f1_data(3, 200, 0, 1) + W.f1_data(4, 300, 0, 2))
    reserved = W.f1_data(3, 400, 0, 3)[0] | (1 << 30)
    data += [reserved]
    b, _ = decode(event(W.slink_equipment(SRC, 1, data, format=1)))
    assert errors(b) == [
        ("f1_data_before_header", 0, SRC, W.f1_data(3, 100, 0, 0)[0]),
        ("f1_data_before_header", 0, SRC, W.f1_data(4, 300, 0, 2)[0]),
        ("f1_reserved_bit", 0, SRC, reserved),
    ]
    assert b.tdc.raw_time.tolist() == [200]
    check_counts(b)


def test_error_counts_summary():
    b, _ = decode(good_event(1), b"\0" * 8, good_event(2), b"\0" * 4)
    assert b.error_counts() == {"bytes_skipped": 1, "truncated_header": 1}
