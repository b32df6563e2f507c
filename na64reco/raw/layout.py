"""Constants of the raw DATE / S-Link / MSADC / F1 layouts (see docs/raw-writer.md).

One place for the numbers both the writer and its tests rely on. The layouts themselves are
the public DaqDataDecoding ones; the few project conventions are marked as such.
"""

from __future__ import annotations

__all__ = [
    "DATE_MAGIC",
    "DATE_VERSION",
    "DATE_HEADER_WORDS",
    "DATE_SUPER_EVENT_WORD",
    "DATE_SUPER_EVENT_BIT",
    "EQUIPMENT_HEADER_WORDS",
    "EQUIPMENT_TYPE_SLINK",
    "SLINK_HEADER_WORDS",
    "MUX_HEADER_WORDS",
    "MUX_SOURCE_MIN",
    "MUX_SOURCE_MAX",
    "EQUIPMENT_EVENT_TYPES",
    "EVENT_TYPE_NAMES",
    "MSADC_KEY",
    "MSADC_MAX_SAMPLE",
    "SLINK_FORMAT_FIRST_EVENT",
    "SLINK_FORMAT_MSADC",
    "SLINK_FORMAT_F1",
]

DATE_MAGIC = 0xDA1E5AFE
#: DATE 3.14: any version >= 0xFFFF means the 17-word header.
DATE_VERSION = 0x0003000E
DATE_HEADER_WORDS = 17
#: typeAttribute bit 68 = word 13, bit 4: the payload is a list of sub-events.
DATE_SUPER_EVENT_WORD = 13
DATE_SUPER_EVENT_BIT = 1 << 4

EQUIPMENT_HEADER_WORDS = 7
EQUIPMENT_TYPE_SLINK = 64

SLINK_HEADER_WORDS = 3
#: An S-Link multiplexer block has a 2-word header (size/source id/type, event/spill) and its
#: source id in 896..1023 (DaqDataDecoding's rule); sub-S-Link blocks follow at word 2.
MUX_HEADER_WORDS = 2
MUX_SOURCE_MIN = 896
MUX_SOURCE_MAX = 1023
#: Bit 7 of the S-Link format byte marks the first event of a run.
SLINK_FORMAT_FIRST_EVENT = 0x80
#: Project convention (docs/raw-decoding.md): format bits 0..6 name the chip data layout.
SLINK_FORMAT_MSADC = 3
SLINK_FORMAT_F1 = 1

#: Only these DATE event types carry equipment data.
EQUIPMENT_EVENT_TYPES = (6, 7, 8)

EVENT_TYPE_NAMES = {
    1: "start_of_run",
    2: "end_of_run",
    3: "start_of_run_files",
    4: "end_of_run_files",
    5: "start_of_burst",
    6: "end_of_burst",
    7: "physics",
    8: "calibration",
    9: "end_of_link",
    10: "format_error",
}

#: MSADC "data format 3": ADC block header key in bits [30:32).
MSADC_KEY = 3
MSADC_MAX_SAMPLE = 4095
