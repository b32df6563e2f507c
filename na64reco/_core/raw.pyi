# Stubs for na64reco._core.raw (csrc/bindings/raw_bind.cpp). Use na64reco.raw instead:
# it wraps these numpy tables into Columns.
from typing import Any

import numpy as np

ERROR_NAMES: dict[int, str]
MUX_SOURCE_ID_MIN: int
FORMAT_MSADC: int
FORMAT_F1: int
F1_BIN_NS: float
MIN_SAMPLE_WIDTH: int

_Tables = dict[str, dict[str, np.ndarray]]

class RawFile:
    """A memory-mapped raw file (or a copied buffer) with a resumable decoding offset."""

    def __init__(self, path: str) -> None: ...
    @staticmethod
    def from_buffer(data: Any, name: str = "<bytes>") -> RawFile: ...
    def next_batch(self, max_events: int) -> _Tables:
        """Tables ``events``, ``sadc``, ``tdc``, ``errors`` of up to max_events events."""
    def rewind(self) -> None: ...
    @property
    def done(self) -> bool: ...
    @property
    def offset(self) -> int: ...
    @property
    def events_decoded(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def name(self) -> str: ...

def fill_msadc_records(
    words: np.ndarray,
    taken: np.ndarray,
    samples: np.ndarray,
    nsamples: np.ndarray,
    sum: np.ndarray,
    channel: np.ndarray,
) -> None: ...
def sample_range(samples: np.ndarray, nsamples: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def walk_events(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """(offsets, sizes, stop_offset, stop, value) of the whole DATE events in ``data`` (uint8)."""
def walk_events_fd(fd: int, size: int) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """walk_events over the first ``size`` bytes of the open file ``fd``."""
def parity_span(samples: np.ndarray, nsamples: np.ndarray) -> np.ndarray: ...
def parity_span_and_lowest(samples: np.ndarray, nsamples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(parity_span, smallest recorded sample) of each digit, from one pass."""
def annotate_by_key(
    sorted_keys: np.ndarray, source_id: np.ndarray, port: np.ndarray, chip: np.ndarray, channel: np.ndarray,
    tables: list[np.ndarray],
) -> list[np.ndarray]:
    """Per digit, each table's entry of its address (tables: n_keys + 1 values, the last one
    for an address the map lacks)."""
def lookup_addresses(
    sorted_keys: np.ndarray, source_id: np.ndarray, port: np.ndarray, chip: np.ndarray, channel: np.ndarray
) -> np.ndarray: ...
