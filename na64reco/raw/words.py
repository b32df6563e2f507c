"""Word packers for the raw layouts (DATE, equipment, S-Link, MSADC, F1).

Each function returns the 32-bit words of one header or record, with every field
settable, so tests can build exact (and deliberately wrong) byte layouts. Field layouts:
``/work/shared/context/raw-format.md``; project conventions: ``docs/raw-decoding.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .layout import (
    DATE_HEADER_WORDS,
    DATE_MAGIC,
    DATE_SUPER_EVENT_BIT,
    DATE_VERSION,
    EQUIPMENT_HEADER_WORDS,
    EQUIPMENT_TYPE_SLINK,
    SLINK_FORMAT_F1,
    SLINK_FORMAT_MSADC,
)

__all__ = [
    "DATE_MAGIC",
    "DATE_HEADER_BYTES",
    "DATE_VERSION",
    "EQUIPMENT_HEADER_BYTES",
    "EQUIPMENT_TYPE_SLINK",
    "date_header",
    "equipment_header",
    "slink_header",
    "mux_header",
    "adc_header",
    "channel_header",
    "sample_words",
    "f1_header",
    "f1_data",
    "to_bytes",
    "date_event",
    "slink_equipment",
    "msadc_payload",
]

DATE_HEADER_BYTES = 4 * DATE_HEADER_WORDS
EQUIPMENT_HEADER_BYTES = 4 * EQUIPMENT_HEADER_WORDS
FORMAT_F1 = SLINK_FORMAT_F1
FORMAT_MSADC = SLINK_FORMAT_MSADC


def _field(value: int, width: int, name: str) -> int:
    if not 0 <= value < (1 << width):
        raise ValueError(f"{name}={value} does not fit in {width} bits")
    return value


def date_header(
    size: int,
    *,
    run: int = 1,
    spill: int = 1,
    event_in_run: int = 1,
    event_in_spill: int = 1,
    type: int = 7,
    trigger_mask: int = 0,
    super_event: bool = False,
    time: int = 0,
    detector_pattern: int = 0,
    ldc_id: int = 0,
    gdc_id: int = 0,
    magic: int = DATE_MAGIC,
    head_len: int = DATE_HEADER_BYTES,
    version: int = DATE_VERSION,
) -> list[int]:
    """The 17 words of a DATE >= 3.6 event header (``size`` in bytes, header included)."""
    id1 = (_field(spill, 12, "spill") << 20) | _field(event_in_spill, 20, "event_in_spill")
    tp0 = ((trigger_mask & 0x7FFFFFFF) << 1) & 0xFFFFFFFF
    tp1 = (trigger_mask >> 31) & 0xFFFFFFFF
    return [
        size, magic, head_len, version, type, run, event_in_run, id1, tp0, tp1,
        detector_pattern, 0, 0, DATE_SUPER_EVENT_BIT if super_event else 0, ldc_id, gdc_id, time,
    ]  # fmt: skip


def equipment_header(size: int, *, type: int = EQUIPMENT_TYPE_SLINK, equipment_id: int = 0) -> list[int]:
    """The 7 words of an equipment header (``size`` in bytes, header included)."""
    return [size, type, equipment_id, 0, 0, 0, 4]


def slink_header(
    event_size: int,
    source_id: int,
    event_number: int,
    *,
    spill: int = 1,
    format: int = FORMAT_MSADC,
    event_type: int = 0,
    error: bool = False,
    status: int = 0,
) -> list[int]:
    """The 3 words of an S-Link header (``event_size`` in words, header included)."""
    w0 = (
        _field(event_size, 16, "event_size")
        | (_field(source_id, 10, "source_id") << 16)
        | (_field(event_type, 5, "event_type") << 26)
        | (int(error) << 31)
    )
    w1 = _field(event_number, 20, "event_number") | (_field(spill, 11, "spill") << 20)
    w2 = _field(status, 8, "status") | (_field(format, 8, "format") << 24)
    return [w0, w1, w2]


def mux_header(event_size: int, source_id: int, event_number: int, *, spill: int = 1) -> list[int]:
    """The 2 words of an S-Link multiplexer header."""
    return slink_header(event_size, source_id, event_number, spill=spill)[:2]


def adc_header(size: int, event: int, adc_id: int, hl_port: int, *, key: int = 3, error: bool = False) -> list[int]:
    """One MSADC (data format 3) ADC header word (``size`` in words, header included)."""
    return [
        _field(event, 12, "event")
        | (_field(size, 12, "size") << 12)
        | (int(error) << 24)
        | (_field(adc_id, 2, "adc_id") << 25)
        | (_field(hl_port, 3, "hl_port") << 27)
        | (_field(key, 2, "key") << 30)
    ]


def channel_header(nsamples: int, chan_id: int, *, sum: int = 0, id: int = 1, reserved: int = 0) -> list[int]:
    """One MSADC channel header word."""
    return [
        _field(sum, 16, "sum")
        | (_field(nsamples, 9, "nsamples") << 16)
        | (_field(reserved, 1, "reserved") << 25)
        | (_field(chan_id, 4, "chan_id") << 26)
        | (_field(id, 2, "id") << 30)
    ]


def sample_words(samples: Sequence[int], *, padding: int = 0) -> list[int]:
    """(n + 1) // 2 data words: ids 0x40 then 0x80; an odd count gets ``padding`` on top."""
    values = [int(s) for s in samples]
    if any(not 0 <= v < 4096 for v in values):
        raise ValueError("MSADC samples are 12-bit: 0..4095")
    if len(values) % 2:
        values.append(padding)
    words = []
    for k in range(0, len(values), 2):
        ident = 0x40 if k == 0 else 0x80
        words.append(values[k] | (values[k + 1] << 12) | (ident << 24))
    return words


def f1_header(port: int, trigger_time: int, *, chip: int = 0, channel: int = 0, event: int = 0, pll: int = 0) -> list[int]:
    """One F1 header word (bit 31 = 0)."""
    return [
        _field(pll, 4, "pll")
        | (_field(port, 4, "port") << 4)
        | (_field(channel, 3, "channel") << 8)
        | (_field(chip, 3, "chip") << 11)
        | (_field(trigger_time, 9, "trigger_time") << 15)
        | (_field(event, 6, "event") << 24)
    ]


def f1_data(port: int, hit_time: int, chip: int, channel: int, *, pll: int = 0) -> list[int]:
    """One F1 data word (bit 31 = 1); chip_chan = chip << 3 | channel."""
    chip_chan = (_field(chip, 3, "chip") << 3) | _field(channel, 3, "channel")
    return [_field(pll, 4, "pll") | (_field(port, 4, "port") << 4) | (_field(hit_time, 16, "hit_time") << 8) | (chip_chan << 24) | (1 << 31)]


def to_bytes(words: Iterable[int]) -> bytes:
    """Little-endian bytes of 32-bit words."""
    return np.asarray(list(words), dtype=np.uint64).astype("<u4").tobytes()


def msadc_payload(event: int, adcs: Iterable[tuple[int, int, Sequence[tuple[int, Sequence[int]]]]]) -> list[int]:
    """MSADC chip data: ``adcs`` = [(hl_port, adc_id, [(chan_id, samples), ...]), ...]."""
    words: list[int] = []
    for hl_port, adc_id, channels in adcs:
        body: list[int] = []
        for chan_id, samples in channels:
            body += channel_header(len(samples), chan_id, sum=int(sum(samples)) & 0xFFFF)
            body += sample_words(samples)
        words += adc_header(1 + len(body), event & 0xFFF, adc_id, hl_port)
        words += body
    return words


def slink_equipment(source_id: int, event_number: int, data: Sequence[int], *, spill: int = 1, format: int = FORMAT_MSADC) -> list[int]:
    """An equipment (type 64) holding one S-Link block with the given chip data words."""
    slink = slink_header(3 + len(data), source_id, event_number, spill=spill, format=format)
    return equipment_header(EQUIPMENT_HEADER_BYTES + 4 * (3 + len(data))) + slink + list(data)


def date_event(payload: Sequence[int], **header: int) -> list[int]:
    """A DATE event (header + payload words); header fields as in :func:`date_header`."""
    return date_header(DATE_HEADER_BYTES + 4 * len(payload), **header) + list(payload)
