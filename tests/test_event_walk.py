"""The planner's compiled walk over DATE event headers (pipeline.chunks.scan_file)."""

from __future__ import annotations

import struct
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from na64reco._core.raw import walk_events, walk_events_fd
from na64reco.pipeline.chunks import DATE_HEADER_BYTES, DATE_MAGIC, scan_file


def event(payload_words: int, size: int | None = None, magic: int = DATE_MAGIC) -> bytes:
    total = DATE_HEADER_BYTES + 4 * payload_words
    header = struct.pack("<II", total if size is None else size, magic) + bytes(DATE_HEADER_BYTES - 8)
    return header + bytes(range(256))[: 4 * payload_words].ljust(4 * payload_words, b"\x01")


def scan_bytes(tmp_path, data: bytes):
    path = tmp_path / "run.dat"
    path.write_bytes(data)
    return scan_file(path)


def test_whole_events_are_found_in_order(tmp_path):
    data = event(3) + event(0) + event(40)
    s = scan_bytes(tmp_path, data)
    assert s.problem == "" and s.stop_offset == s.size == len(data)
    assert s.offsets.tolist() == [0, 80, 148] and s.sizes.tolist() == [80, 68, 228]
    assert s.offsets.dtype == np.uint64 and s.sizes.dtype == np.uint32


@pytest.mark.parametrize(
    "tail, message",
    [
        (b"\x00" * 10, "truncated event header at offset 148 (10 bytes left, need 68)"),
        (event(1, magic=0x12345678), "bad DATE magic 0x12345678 at offset 148 (expected 0xDA1E5AFE)"),
        (event(1, size=70), "bad DATE event size 70 at offset 148 (need a multiple of 4, >= 68)"),
        (event(1, size=8), "bad DATE event size 8 at offset 148 (need a multiple of 4, >= 68)"),
        (event(1, size=400), "truncated event at offset 148: size 400, only 72 bytes left"),
    ],
)
def test_walk_stops_at_the_first_bad_header_and_keeps_the_events_before(tmp_path, tail, message):
    s = scan_bytes(tmp_path, event(3) + event(0) + tail)
    assert s.problem == message
    assert s.offsets.tolist() == [0, 80] and s.stop_offset == 148


def test_empty_file(tmp_path):
    s = scan_bytes(tmp_path, b"")
    assert s.nevents == 0 and s.problem == "empty file"


def test_walk_rejects_a_two_dimensional_buffer_and_a_file_shorter_than_said(tmp_path):
    with pytest.raises(ValueError, match="1-d bytes"):
        walk_events(np.zeros((2, 68), np.uint8))
    path = tmp_path / "run.dat"
    path.write_bytes(event(3))
    with open(path, "rb") as fh, pytest.raises(ValueError, match="cannot read the event header at byte 80"):
        walk_events_fd(fh.fileno(), 80 + 68)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from([None, 0, 3, 70, 4096]), st.booleans()), max_size=6),
       st.binary(max_size=80))
def test_any_bytes_give_consistent_whole_events(parts, tail):
    data = b"".join(event(n, size, DATE_MAGIC if good else 0) for n, size, good in parts) + tail
    offsets, sizes, stop, code, value = walk_events(np.frombuffer(data, np.uint8))
    ends = offsets.astype(np.int64) + sizes
    assert np.array_equal(offsets[1:], ends[:-1]) and (offsets[:1].tolist() in ([], [0]))
    assert stop == (int(ends[-1]) if len(ends) else 0) and stop <= len(data)
    assert (code == 0) == (stop == len(data))
    # the planner's file walk (pread of each header) agrees with the walk over the bytes
    with tempfile.TemporaryFile() as fh:
        fh.write(data)
        fh.flush()
        by_file = walk_events_fd(fh.fileno(), len(data))
    assert np.array_equal(by_file[0], offsets) and np.array_equal(by_file[1], sizes)
    assert by_file[2:] == (stop, code, value)


def test_a_file_that_shrinks_under_the_walk_is_an_unreadable_file(tmp_path, monkeypatch):
    import os

    from na64reco.pipeline import chunks

    path = tmp_path / "run.dat"
    path.write_bytes(event(3) + event(2))
    real_fstat = os.fstat

    class Bigger:  # the size the walk is told: a header past the real end
        def __init__(self, st):
            self.st_size = st.st_size + DATE_HEADER_BYTES

    monkeypatch.setattr(chunks.os, "fstat", lambda fd: Bigger(real_fstat(fd)))
    with pytest.raises(OSError, match="cannot read the event header at byte 156"):
        scan_file(path)
