"""Decoding speed of the raw decoder, next to a straightforward numpy decoder.

Writes a synthetic run with ``na64reco.raw.write_raw`` (default 100k events, 64 MSADC
channels of 32 samples and 8 F1 hits per event), decodes it on one core with
``nr.open_raw(path).batches(n)``, checks the digits against what was written, then decodes
the first events again with a pure Python/numpy decoder (structure walked in Python, samples
unpacked with numpy in one vectorised step), checks that both give the same digits, and
prints MB/s, events/s and the ratio.

    PYTHONPATH=$PWD python benchmarks/bench_decode.py [--events 100000] [--numpy-events 10000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

import na64reco as nr

SADC_SOURCES = (100, 101, 102, 103)
F1_SOURCE = 500
CHANNELS_PER_BLOCK = 4  # x 2 ports x 2 chips x 4 sources = 64 channels per event
F1_HITS = 8


def synthetic_tables(first: int, n: int, rng: np.random.Generator):
    """Events [first, first + n): every event reads every channel (no zero suppression)."""
    ev = np.arange(first, first + n)
    events = dict(run=np.full(n, 3661), spill=1 + ev // 20000, event_in_run=ev + 1,
                  event_in_spill=1 + ev % 20000, type=np.full(n, 7), trigger_mask=np.ones(n, np.int64))
    src, port, chip, chan = (a.ravel() for a in np.meshgrid(
        SADC_SOURCES, [0, 1], [0, 1], np.arange(CHANNELS_PER_BLOCK), indexing="ij"))
    k = src.size
    noise = rng.normal(0.0, 3.0, (n * k, 32))
    pulse = rng.exponential(300.0, (n * k, 1)) * np.exp(-0.5 * ((np.arange(32) - 10.0) / 2.5) ** 2)
    samples = np.clip(400.0 + noise + pulse, 0, 4095).astype(np.uint16)
    sadc = dict(event=np.repeat(np.arange(n), k), source_id=np.tile(src, n), port=np.tile(port, n),
                chip=np.tile(chip, n), channel=np.tile(chan, n), nsamples=np.full(n * k, 32), samples=samples)
    m = n * F1_HITS
    tdc = dict(event=np.repeat(np.arange(n), F1_HITS), source_id=np.full(m, F1_SOURCE),
               port=np.tile(np.repeat([0, 1], F1_HITS // 2), n), chip=rng.integers(0, 8, m),
               channel=rng.integers(0, 8, m), raw_time=rng.integers(0, 1 << 16, m),
               trigger_time=np.repeat(rng.integers(0, 512, 2 * n), F1_HITS // 2))
    return events, sadc, tdc


def write_run(path: Path, nevents: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    chunk = 10000
    truth_samples, truth_times = [], []
    with open(path, "wb") as fh:
        for first in range(0, nevents, chunk):
            events, sadc, tdc = synthetic_tables(first, min(chunk, nevents - first), rng)
            nr.raw.write_raw(fh, events, sadc, tdc)
            truth_samples.append(sadc["samples"])
            truth_times.append(tdc["raw_time"])
    return np.concatenate(truth_samples), np.concatenate(truth_times)


def numpy_decode(buf: bytes):
    """A straightforward decoder of clean files: events, equipments, S-Link blocks, ADC
    blocks and channel headers walked in Python; samples unpacked by numpy in one go."""
    words = np.frombuffer(buf, dtype="<u4")
    w = memoryview(buf).cast("I")
    s_event, s_src, s_port, s_chip, s_chan, s_ns, s_sum, s_start = ([] for _ in range(8))
    t_event, t_src, t_word, t_trig = [], [], [], []
    row = 0

    def slink(p: int, nwords: int, inside_mux: bool) -> None:
        w0 = w[p]
        src = (w0 >> 16) & 0x3FF
        if not inside_mux and src >= 896:
            q = p + 2
            while q < p + nwords:
                size = w[q] & 0xFFFF
                slink(q, size, True)
                q += size
            return
        fmt = (w[p + 2] >> 24) & 0x7F
        i, end = p + 3, p + nwords
        if fmt == 3:
            while i < end:
                h = w[i]
                block_end = i + ((h >> 12) & 0xFFF)
                port, chip = (h >> 27) & 7, (h >> 25) & 3
                j = i + 1
                while j < block_end:
                    c = w[j]
                    ns = (c >> 16) & 0x1FF
                    s_event.append(row), s_src.append(src), s_port.append(port), s_chip.append(chip)
                    s_chan.append((c >> 26) & 0xF), s_ns.append(ns), s_sum.append(c & 0xFFFF), s_start.append(j + 1)
                    j += 1 + (ns + 1) // 2
                i = block_end
        elif fmt == 1:
            trig = {}
            for k in range(i, end):
                d = w[k]
                port = (d >> 4) & 0xF
                if d >> 31 == 0:
                    trig[port] = (d >> 15) & 0x1FF
                else:
                    t_event.append(row), t_src.append(src), t_word.append(k), t_trig.append(trig[port])

    def equipments(p: int, end: int) -> None:
        while p < end:
            size = w[p] // 4
            slink(p + 7, size - 7, False)
            p += size

    pos, n = 0, words.size
    while pos < n:
        size = w[pos] // 4
        if w[pos + 4] & 0xFFFF in (6, 7, 8):
            if w[pos + 13] & 0x10:
                q = pos + 17
                while q < pos + size:
                    equipments(q + 17, q + w[q] // 4)
                    q += w[q] // 4
            else:
                equipments(pos + 17, pos + size)
        row += 1
        pos += size

    ns = np.asarray(s_ns, dtype=np.int64)
    width = max(32, int(ns.max(initial=0)))
    k = np.arange((width + 1) // 2)
    data = words[np.minimum(np.asarray(s_start, dtype=np.int64)[:, None] + k, words.size - 1)]
    samples = np.empty((ns.size, 2 * k.size), dtype=np.uint16)
    samples[:, 0::2] = data & 0xFFF
    samples[:, 1::2] = (data >> 12) & 0xFFF
    samples = np.where(np.arange(2 * k.size) < ns[:, None], samples, 0)[:, :width]
    t_words = words[np.asarray(t_word, dtype=np.int64)]
    raw_time = ((t_words >> 8) & 0xFFFF).astype(np.uint16)
    trig = np.asarray(t_trig, dtype=np.int64)
    time_bins = ((raw_time.astype(np.int64) - (trig << 7)) & 0xFFFF).astype(np.uint16).view(np.int16).astype(np.int32)
    sadc = dict(event=np.asarray(s_event), source_id=np.asarray(s_src), port=np.asarray(s_port),
                chip=np.asarray(s_chip), channel=np.asarray(s_chan), nsamples=ns, samples=samples,
                sum=np.asarray(s_sum))
    tdc = dict(event=np.asarray(t_event), source_id=np.asarray(t_src), chip=(t_words >> 27) & 7,
               channel=(t_words >> 24) & 7, raw_time=raw_time, trigger_time=trig, time_bins=time_bins)
    return row, sadc, tdc


def decode_file(path: Path, batch: int):
    raw = nr.open_raw(path)
    nevents = nsadc = 0
    t0 = time.perf_counter()
    for b in raw.batches(batch):
        nevents += b.events.nrows
        nsadc += b.sadc.nrows
    return time.perf_counter() - t0, nevents, nsadc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--numpy-events", type=int, default=10_000, help="events decoded by the numpy decoder")
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=None, help="where to write the temporary run (default: system temp)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.dat"
        t0 = time.perf_counter()
        truth_samples, truth_times = write_run(path, args.events)
        size = path.stat().st_size
        print(f"wrote {args.events} events, {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s "
              f"({truth_samples.shape[0] / args.events:.0f} MSADC channels + {truth_times.size / args.events:.0f} F1 hits per event)")

        # correctness of the full decode against what was written
        whole = nr.open_raw(path).read_all()
        assert whole.errors.nrows == 0, whole.error_counts()
        assert whole.events.nrows == args.events
        np.testing.assert_array_equal(whole.sadc.samples, truth_samples)
        np.testing.assert_array_equal(whole.tdc.raw_time, truth_times)
        del whole

        times = []
        for _ in range(args.repeat):
            dt, nevents, _ = decode_file(path, args.batch)
            assert nevents == args.events
            times.append(dt)
        best = min(times)
        cpp_mbs, cpp_evs = size / best / 1e6, args.events / best
        print(f"C++ decoder   : {best:.3f} s  {cpp_mbs:8.1f} MB/s  {cpp_evs:12.0f} events/s  (batches of {args.batch}, best of {args.repeat}, one core)")

        times = []
        for _ in range(args.repeat):
            raw = nr.open_raw(path)
            t0 = time.perf_counter()
            whole = raw.read_all()
            times.append(time.perf_counter() - t0)
            del whole
        best_all = min(times)
        print(f"C++ read_all  : {best_all:.3f} s  {size / best_all / 1e6:8.1f} MB/s  {args.events / best_all:12.0f} events/s  (one batch)")

        # numpy decoder on the first events, same bytes
        k = min(args.numpy_events, args.events)
        head = nr.open_raw(path).next_batch(k)
        cut = int(head.events.offset[-1] + head.events.size[-1])
        with open(path, "rb") as fh:
            part = fh.read(cut)
        t0 = time.perf_counter()
        nrow, sadc, tdc = numpy_decode(part)
        dt_np = time.perf_counter() - t0
        assert nrow == k
        for name, values in sadc.items():
            np.testing.assert_array_equal(head.sadc[name], values, err_msg=f"sadc.{name}")
        for name, values in tdc.items():
            np.testing.assert_array_equal(head.tdc[name], values, err_msg=f"tdc.{name}")
        np_mbs, np_evs = cut / dt_np / 1e6, k / dt_np
        print(f"numpy decoder : {dt_np:.3f} s  {np_mbs:8.1f} MB/s  {np_evs:12.0f} events/s  (first {k} events, same digits)")
        print(f"ratio         : {cpp_mbs / np_mbs:.1f}x")
        print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: other processes slow both decoders)")


if __name__ == "__main__":
    main()
