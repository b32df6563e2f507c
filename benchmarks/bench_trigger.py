"""Throughput of the full trigger (samples per second, one core): stream model, block model,
C path, on recorded-window batches and on one long stream.

    PYTHONPATH=$PWD python3 benchmarks/bench_trigger.py [--events 20000] [--clocks 200000]

Input: realistic channels (pedestal + noise, a beam particle in every window / every 100
clocks with pulses in the counters and ECAL/HCAL cells). Samples counted = 113 channels x
clocks. "1 window per call" includes the Python/cffi cost of each emulate_windows call (a
caller that emulates event by event). Each figure is the best of --repeat runs, timed with the thread's CPU clock
(time.thread_time) so that other load on a shared machine does not count; wall-clock rates
are printed alongside.
"""

from __future__ import annotations

import argparse
import os
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

from fpga_model import TriggerBlock, TriggerConfig, TriggerStream, run_windows  # noqa: E402
from fpga_model.testing import Pulse, StreamSpec, synth_stream  # noqa: E402
from na64reco.firmware import FirmwareStream, emulate_windows  # noqa: E402


def windows(n: int, width: int = 32) -> np.ndarray:
    base = synth_stream(StreamSpec(width, pedestal=180, noise=3, seed=1,
                                   pulses=(Pulse(-1, 8, 900), Pulse(-2, 9, 250, plateau=1))))
    rng = np.random.default_rng(2)
    out = np.broadcast_to(base, (n,) + base.shape).copy()
    out += rng.integers(-2, 3, size=out.shape)
    return np.clip(out, 0, 4095).astype(np.uint16)


def long_stream(clocks: int) -> np.ndarray:
    pulses = tuple(p for t in range(20, clocks, 100) for p in (Pulse(-1, t, 900), Pulse(-2, t + 1, 250)))
    return synth_stream(StreamSpec(clocks, pedestal=180, noise=3, seed=3, pulses=pulses)).astype(np.uint16)


def best(fn, repeat: int) -> tuple[float, float]:
    """(best CPU seconds, best wall seconds) over ``repeat`` runs."""
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.thread_time(), time.perf_counter()
        fn()
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--clocks", type=int, default=200000)
    ap.add_argument("--stream-clocks", type=int, default=300)
    ap.add_argument("--single-calls", type=int, default=2000, help="windows emulated one per call")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cfg = TriggerConfig()
    win = windows(args.events)
    lng = long_stream(args.clocks)
    n_win = win.size
    n_lng = lng.size

    rows = []
    t = best(lambda: emulate_windows(win, cfg), args.repeat)
    rows.append(("C path", f"{args.events} windows x 32", (n_win / t[0], n_win / t[1])))
    one_by_one = win[:args.single_calls]
    t = best(lambda: [emulate_windows(one_by_one[i:i + 1], cfg) for i in range(len(one_by_one))], args.repeat)
    rows.append(("C path", "1 window per call", (one_by_one.size / t[0], one_by_one.size / t[1])))
    t = best(lambda: FirmwareStream(cfg).run(lng), args.repeat)
    rows.append(("C path", f"1 stream x {args.clocks}", (n_lng / t[0], n_lng / t[1])))
    t = best(lambda: run_windows(win, cfg), args.repeat)
    rows.append(("block model", f"{args.events} windows x 32", (n_win / t[0], n_win / t[1])))
    t = best(lambda: TriggerBlock(cfg).run(lng, debug=False), args.repeat)
    rows.append(("block model", f"1 stream x {args.clocks}", (n_lng / t[0], n_lng / t[1])))
    short = lng[:, :args.stream_clocks]
    t = best(lambda: TriggerStream(cfg).run(short), 1)
    rows.append(("stream model", f"1 stream x {args.stream_clocks}", (short.size / t[0], short.size / t[1])))

    # the figures must describe the same computation: check agreement on what was timed
    c_res = emulate_windows(win[:200], cfg)
    m_res = run_windows(win[:200], cfg)
    assert np.array_equal(c_res["decision_word"], m_res["decision_word"]), "C and block model disagree"

    print(f"{'implementation':<14} {'input':<24} {'samples/s (CPU)':>16} {'(wall)':>10}")
    for name, what, (cpu_rate, wall_rate) in rows:
        print(f"{name:<14} {what:<24} {cpu_rate / 1e6:>14.1f} M {wall_rate / 1e6:>8.1f} M")
    print("targets: block model >= 20 M/s, C path >= 200 M/s (one core)")


if __name__ == "__main__":
    main()
