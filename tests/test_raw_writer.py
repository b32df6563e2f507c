"""The raw writer against hand-checked words of docs/raw-writer.md and raw-format.md."""

from __future__ import annotations

import numpy as np
import pytest

from na64reco.raw import encode_events, write_raw
from na64reco.raw.layout import DATE_MAGIC, DATE_VERSION


def words(blob: bytes) -> list[int]:
    return np.frombuffer(blob, dtype="<u4").tolist()


def one_event(**over):
    ev = dict(run=[1000], spill=[3], event_in_run=[17], event_in_spill=[5], type=[7],
              trigger_mask=[0b101], time=[1_600_000_000])
    ev.update({k: [v] for k, v in over.items()})
    return ev


def date_header(size_bytes, *, type_=7, run=1000, eir=17, spill=3, eis=5, tp=(0b1010, 0),
                super_bit=0, ldc=0, gdc=0, time=1_600_000_000):
    return [size_bytes, DATE_MAGIC, 68, DATE_VERSION, type_, run, eir, (spill << 20) | eis,
            tp[0], tp[1], 0, 0, 0, super_bit, ldc, gdc, time]


def test_single_msadc_channel_hand_checked():
    sadc = dict(event=[0], source_id=[620], port=[2], chip=[1], channel=[9], nsamples=[4],
                samples=np.array([[10, 4095, 0, 7]], dtype=np.uint16), sum=[1234])
    got = words(encode_events(one_event(), sadc))
    adc_block = [
        (5 & 0xFFF) | (4 << 12) | (1 << 25) | (2 << 27) | (3 << 30),  # header, 4 words
        1234 | (4 << 16) | (9 << 26) | (1 << 30),  # channel header
        10 | (4095 << 12) | (0x40 << 24),
        0 | (7 << 12) | (0x80 << 24),
    ]
    slink = [(3 + 4) | (620 << 16) | (7 << 26), 5 | (3 << 20), 3 << 24]  # format 3 = MSADC
    equipment = [28 + 4 * 7, 64, 620, 0, 0, 0, 4]
    assert got == date_header(4 * (17 + 7 + 7)) + equipment + slink + adc_block


def test_odd_sample_count_pads_and_default_sum_is_the_sample_sum():
    samples = np.array([[1, 2, 3, 999, 999]], dtype=np.uint16)  # entries past nsamples ignored
    sadc = dict(event=[0], source_id=[7], port=[0], chip=[0], channel=[0], nsamples=[3],
                samples=samples)
    got = words(encode_events(one_event(), sadc))
    assert got[-3:] == [6 | (3 << 16) | (1 << 30), 1 | (2 << 12) | (0x40 << 24), 3 | (0x80 << 24)]


def test_zero_samples_is_a_bare_channel_header():
    sadc = dict(event=[0], source_id=[7], port=[0], chip=[0], channel=[4], nsamples=[0],
                samples=np.zeros((1, 32), dtype=np.uint16))
    got = words(encode_events(one_event(), sadc))
    assert got[-2:] == [(5 | (2 << 12) | (3 << 30)), (4 << 26) | (1 << 30)]


def test_blocks_sorted_by_port_chip_and_channels_keep_table_order():
    sadc = dict(event=[0, 0, 0], source_id=[7, 7, 7], port=[1, 0, 1], chip=[0, 3, 0],
                channel=[5, 1, 2], nsamples=[2, 2, 2],
                samples=np.array([[1, 1], [2, 2], [3, 3]], dtype=np.uint16))
    got = words(encode_events(one_event(), sadc))[17 + 7 + 3:]
    # [block (0,3): ch 1] [block (1,0): ch 5, ch 2], each channel a header and one data word
    assert [((got[i] >> 27) & 7, (got[i] >> 25) & 3, got[i] >> 30) for i in (0, 3)] == [(0, 3, 3), (1, 0, 3)]
    assert [(got[i] >> 26) & 0xF for i in (1, 4, 6)] == [1, 5, 2]
    assert [got[i] & 0xFFF for i in (2, 5, 7)] == [2, 1, 3]


def test_f1_header_then_data_words_new_header_on_trigger_time_change():
    tdc = dict(event=[0, 0, 0], source_id=[160] * 3, port=[3, 3, 3], chip=[1, 1, 2],
               channel=[5, 6, 7], raw_time=[100, 200, 65535], trigger_time=[10, 10, 511])
    got = words(encode_events(one_event(event_in_spill=67), tdc=tdc))
    f1 = got[17 + 7 + 3:]
    hdr1 = (3 << 4) | (5 << 8) | (1 << 11) | (10 << 15) | ((67 & 0x3F) << 24)
    hdr2 = (3 << 4) | (7 << 8) | (2 << 11) | (511 << 15) | ((67 & 0x3F) << 24)
    data = [(3 << 4) | (t << 8) | (cc << 24) | (1 << 31) for t, cc in [(100, 13), (200, 14), (65535, 23)]]
    assert f1 == [hdr1, data[0], data[1], hdr2, data[2]]
    assert got[17 + 7 + 2] == 1 << 24  # S-Link format 1 = F1 (docs/raw-decoding.md)


def test_trigger_mask_spans_both_pattern_words():
    mask = (1 << 62) | (1 << 31) | (1 << 30) | 1
    got = words(encode_events(one_event(trigger_mask=mask)))
    tp0, tp1 = got[8], got[9]
    assert (tp0 >> 1) + (tp1 << 31) == mask


def test_bare_event_types_have_no_equipment_and_every_source_appears_in_each_physics_event():
    ev = dict(run=[1, 1, 1], spill=[1, 1, 1], event_in_run=[1, 2, 3], event_in_spill=[0, 1, 2],
              type=[5, 7, 8], trigger_mask=[0, 1, 2])
    sadc = dict(event=[2], source_id=[9], port=[0], chip=[0], channel=[0], nsamples=[2],
                samples=np.array([[5, 6]], dtype=np.uint16))
    got = words(encode_events(ev, sadc, sources=[4]))
    assert got[0] == 68 and got[4] == 5
    second = got[17:]
    # event 1: two empty S-Link blocks (source 4 declared, source 9 with data elsewhere)
    assert second[0] == 4 * (17 + 2 * 10)
    assert second[17 + 2] == 4 and second[17 + 7] == 3 | (4 << 16) | (7 << 26)
    assert second[17 + 10 + 2] == 9


def test_super_event_has_one_sub_event_per_ldc():
    ev = one_event(ldc=77, gdc=3)
    sadc = dict(event=[0, 0], source_id=[10, 11], port=[0, 0], chip=[0, 0], channel=[0, 1],
                nsamples=[2, 2], samples=np.array([[1, 2], [3, 4]], dtype=np.uint16))
    got = words(encode_events(ev, sadc, super_events=True, ldc_groups={5: [11], 6: [10]}))
    sub_words = 17 + 7 + 3 + 3
    assert got[:17] == date_header(4 * (17 + 2 * sub_words), super_bit=1 << 4, ldc=77, gdc=3)
    first_sub = got[17:17 + 17]
    assert first_sub == date_header(4 * sub_words, ldc=5, gdc=3)
    assert got[17 + 17 + 2] == 11  # LDC 5 holds source 11
    assert got[17 + sub_words + 14] == 6 and got[17 + sub_words + 17 + 2] == 10


def test_multiplexer_block_groups_sources():
    sadc = dict(event=[0], source_id=[21], port=[0], chip=[0], channel=[0], nsamples=[2],
                samples=np.array([[1, 2]], dtype=np.uint16))
    got = words(encode_events(one_event(), sadc, multiplexed_sources={900: [20, 21]}))
    eq = got[17:]
    mux_words = 2 + 3 + (3 + 3)
    assert eq[:7] == [28 + 4 * mux_words, 64, 900, 0, 0, 0, 4]
    assert eq[7:9] == [mux_words | (900 << 16) | (7 << 26), 5 | (3 << 20)]
    assert eq[9] == 3 | (20 << 16) | (7 << 26)
    assert eq[12] == 6 | (21 << 16) | (7 << 26)
    assert len(got) == 17 + 7 + mux_words


def test_chunking_and_row_order_do_not_change_the_bytes():
    rng = np.random.default_rng(5)
    n_ev, n = 40, 300
    ev = dict(run=np.full(n_ev, 9), spill=np.repeat([1, 2], n_ev // 2),
              event_in_run=np.arange(1, n_ev + 1), event_in_spill=np.arange(n_ev) % 20,
              type=np.where(np.arange(n_ev) % 7 == 0, 8, 7), trigger_mask=np.ones(n_ev, dtype=int))
    sadc = dict(event=np.sort(rng.integers(0, n_ev, n)), source_id=rng.choice([600, 601, 602], n),
                port=rng.integers(0, 8, n), chip=rng.integers(0, 4, n), channel=rng.integers(0, 16, n),
                nsamples=rng.integers(0, 40, n), samples=rng.integers(0, 4096, (n, 40)).astype(np.uint16))
    ref = encode_events(ev, sadc, super_events=True, multiplexed_sources=[[601, 602]])
    assert encode_events(ev, sadc, super_events=True, multiplexed_sources=[[601, 602]],
                         chunk_events=1) == ref
    # write_raw encodes every chunk into one reused word array (chunks of unequal sizes here)
    import io

    sink = io.BytesIO()
    write_raw(sink, ev, sadc, super_events=True, multiplexed_sources=[[601, 602]], chunk_events=3)
    assert sink.getvalue() == ref
    # any permutation that keeps the order of rows within an ADC block writes the same bytes
    key = (sadc["event"] * 1000 + sadc["source_id"]) * 100 + sadc["port"] * 4 + sadc["chip"]
    perm = np.lexsort((np.arange(n), -key))
    shuffled = {k: np.asarray(v)[perm] for k, v in sadc.items()}
    assert encode_events(ev, shuffled, super_events=True, multiplexed_sources=[[601, 602]]) == ref


@pytest.mark.parametrize(
    ("table", "column", "value", "message"),
    [
        ("sadc", "samples", 4096, r"sadc.samples: row 1, sample 2 has 4096, expected 0..4095"),
        ("sadc", "port", 8, r"sadc.port: row 1 has 8, expected 0..7"),
        ("sadc", "channel", -1, r"sadc.channel: row 1 has -1, expected 0..15"),
        ("sadc", "source_id", 900, r"sadc.source_id: row 1 has 900, expected 0..895"),
        ("sadc", "nsamples", 5, r"sadc.nsamples: row 1 has 5, expected at most the 4 columns"),
        ("sadc", "event", 3, r"sadc.event: row 1 has 3, expected 0..1"),
        ("tdc", "trigger_time", 512, r"tdc.trigger_time: row 1 has 512, expected 0..511"),
        ("tdc", "chip", 8, r"tdc.chip: row 1 has 8, expected 0..7"),
        ("events", "spill", 2048, r"events.spill: row 1 has 2048, expected 0..2047"),
        ("events", "event_in_spill", 1 << 20, r"events.event_in_spill: row 1 has 1048576"),
    ],
)
def test_bad_values_name_column_and_row(table, column, value, message):
    tables = dict(
        events=dict(run=[1, 1], spill=[1, 1], event_in_run=[1, 2], event_in_spill=[1, 2],
                    type=[7, 7], trigger_mask=[1, 1]),
        sadc=dict(event=[0, 1], source_id=[5, 5], port=[0, 0], chip=[0, 0], channel=[0, 1],
                  nsamples=[4, 4], samples=np.zeros((2, 4), dtype=np.int32)),
        tdc=dict(event=[0, 1], source_id=[6, 6], port=[0, 0], chip=[0, 0], channel=[0, 0],
                 raw_time=[0, 0], trigger_time=[0, 0]),
    )
    target = tables[table]
    if column == "samples":
        target["samples"][1, 2] = value
    else:
        target[column] = [target[column][0], value]
    with pytest.raises(ValueError, match=message):
        encode_events(tables["events"], tables["sadc"], tables["tdc"])


def test_digits_on_bare_events_and_mixed_sources_are_rejected():
    ev = dict(run=[1], spill=[1], event_in_run=[1], event_in_spill=[1], type=[5], trigger_mask=[0])
    sadc = dict(event=[0], source_id=[5], port=[0], chip=[0], channel=[0], nsamples=[1],
                samples=np.zeros((1, 1), dtype=np.uint16))
    with pytest.raises(ValueError, match=r"sadc.event: row 0 points to event 0 of type 5"):
        encode_events(ev, sadc)
    ev["type"] = [7]
    tdc = dict(event=[0], source_id=[5], port=[0], chip=[0], channel=[0], raw_time=[0], trigger_time=[0])
    with pytest.raises(ValueError, match="source id 5 appears in both sadc and tdc"):
        encode_events(ev, sadc, tdc)
    with pytest.raises(ValueError, match="missing column 'nsamples'"):
        encode_events(ev, {k: v for k, v in sadc.items() if k != "nsamples"})
    with pytest.raises(ValueError, match="multiplexer id 5 out of range"):
        encode_events(ev, sadc, multiplexed_sources={5: [5]})
    with pytest.raises(ValueError, match=r"equipments \[5\] are in no LDC"):
        encode_events(ev, sadc, super_events=True, ldc_groups={})


def test_oversized_adc_block_is_rejected():
    n = 16
    sadc = dict(event=np.zeros(n, int), source_id=np.full(n, 5), port=np.zeros(n, int),
                chip=np.zeros(n, int), channel=np.arange(n), nsamples=np.full(n, 511),
                samples=np.zeros((n, 511), dtype=np.uint16))
    with pytest.raises(ValueError, match="12-bit size field allows 4095"):
        encode_events(one_event(), sadc)


def test_write_raw_to_path_is_atomic(tmp_path):
    path = tmp_path / "run.dat"
    n = write_raw(path, one_event())
    assert path.read_bytes() == encode_events(one_event()) and n == 68
    bad = one_event(type=7)
    bad["run"] = [-1]
    with pytest.raises(ValueError, match="events.run"):
        write_raw(path, bad)
    assert path.read_bytes() == encode_events(one_event())  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.dat"]


def test_write_raw_to_a_file_object_streams_chunks():
    import io

    ev = dict(run=[1] * 5, spill=[1] * 5, event_in_run=[1, 2, 3, 4, 5], event_in_spill=[1, 2, 3, 4, 5],
              type=[7] * 5, trigger_mask=[1] * 5)
    sadc = dict(event=[0, 4], source_id=[3, 3], port=[0, 0], chip=[0, 0], channel=[0, 0], nsamples=[1, 1],
                samples=np.array([[7], [9]], dtype=np.uint16))
    sink = io.BytesIO()
    assert write_raw(sink, ev, sadc, chunk_events=2) == len(sink.getvalue())
    assert sink.getvalue() == encode_events(ev, sadc)
    with pytest.raises(ValueError, match="chunk_events must be >= 1"):
        encode_events(ev, sadc, chunk_events=0)


def test_oversized_slink_block_names_the_source():
    n = 16 * 4 * 8  # every address of source 5 twice, 65 words each: 66560 words > 65535
    ev = dict(run=[1], spill=[1], event_in_run=[1], event_in_spill=[1], type=[7], trigger_mask=[0])
    k = np.arange(n * 2)
    sadc = dict(event=np.zeros(k.size, int), source_id=np.full(k.size, 5), port=(k // 64) % 8,
                chip=(k // 16) % 4, channel=k % 16, nsamples=np.full(k.size, 128),
                samples=np.zeros((k.size, 128), dtype=np.uint16))
    with pytest.raises(ValueError, match=r"events: row 0 needs a S-Link block of source 5 of \d+ words"):
        encode_events(ev, sadc)
