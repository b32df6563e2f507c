"""Simulator throughput: events per second written, one core, pile-up on.

Runs ``na64reco.sim.simulate`` (default 100k events, default configuration: 3e6 particles/s,
~2.4 extra particles per event) three ways: raw file only, raw + truth without the pulse
table, raw + full truth. Then times the stages of one chunk separately (physics, waveform
kernel, firmware trigger emulation, straws, raw writer, Parquet truth) so the bottleneck is
visible. Reports CPU time of this process (what one core costs, insensitive to other load
on the machine) and wall time.

    PYTHONPATH=$PWD python benchmarks/bench_sim.py [--events 100000] [--chunk 2048] [--repeat 1]
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from na64reco.raw import write_raw
from na64reco.sim import SimConfig, simulate
from na64reco.sim import generate as gen
from na64reco.sim.run import _prepare
from na64reco.sim.showers import deposits
from na64reco.sim.straws import load_rt, straw_hits
from na64reco.sim.trigger import trigger_mask_windows
from na64reco.sim.truth import TruthWriter
from na64reco.sim.waveforms import synthesize


def timed(fn, *args, **kwargs):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.process_time() - c0, time.perf_counter() - w0


def whole_runs(n: int, chunk: int, folder: Path, repeat: int) -> None:
    print(f"simulate(): {n} events, chunk {chunk}, rate {SimConfig().rate_hz:g}/s, best of {repeat}")
    for label, kwargs in (
        ("raw only", {}),
        ("raw + truth (no pulses)", {"truth": folder / "t.parquet", "truth_pulses": False}),
        ("raw + full truth", {"truth": folder / "t.parquet"}),
    ):
        best_cpu = best_wall = np.inf
        for _ in range(repeat):
            summary, cpu, wall = timed(simulate, n, 1, folder / "run.dat", chunk_events=chunk, **kwargs)
            best_cpu, best_wall = min(best_cpu, cpu), min(best_wall, wall)
            size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
            for p in folder.iterdir():
                p.unlink()
        print(
            f"  {label:26s} {n / best_cpu:9.0f} ev/s cpu  {n / best_wall:9.0f} ev/s wall  "
            f"{size:8.1f} MB on disk  {summary.n_pileup / n:.2f} pile-up/event"
        )


def stages(chunk: int) -> None:
    """Per-stage CPU cost of one chunk (mirrors generate_chunk); the minimum over repetitions,
    the figure least disturbed by other load on a shared machine."""
    cfg, _, readout, cond, _ = _prepare(chunk, 1, SimConfig(chunk_events=chunk), None, {})
    rt = load_rt()
    rng = np.random.default_rng(1)
    costs: dict[str, float] = {}

    def add(name, fn, *a, **k):
        out, cpu, _ = timed(fn, *a, **k)
        costs[name] = min(costs.get(name, np.inf), cpu)
        return out

    particles = _SYNTH_PARTICLES
    reps = 5
    for _ in range(reps):
        chunk_obj = add("whole chunk (generate_chunk)", gen.generate_chunk, rng, cfg, readout, cond, rt, 0, chunk, chunk,
                        with_truth=False)
        add("  of which firmware trigger emulation", trigger_mask_windows, rng, cfg, chunk_obj.trigger_windows)
        add("  of which waveform kernel (synthesize)", _synth_only, rng, cfg, readout, cond, chunk)
        add("  of which shower deposits", deposits, rng, cfg, readout.geometry, particles)
        add("  of which straw hits (no truth)", straw_hits, rng, cfg, readout.straws, rt, particles, chunk,
            np.zeros(chunk, dtype=np.int64), with_truth=False)
        add("raw writer (write_raw)", write_raw, io.BytesIO(), chunk_obj.events, chunk_obj.sadc, chunk_obj.tdc,
            sources=readout.sources.tolist(), chunk_events=256)
        full = gen.generate_chunk(rng, cfg, readout, cond, rt, 0, chunk, chunk)
        with tempfile.TemporaryDirectory() as d:
            files = {t: os.path.join(d, f"{t}.parquet") for t in ("events", "pulses", "particles", "straws")}
            w = TruthWriter(files)
            add("truth tables (Parquet, zstd)", w.write_chunk, full)
            w.close()
    print(f"stages, CPU microseconds per event (chunk of {chunk}, minimum of {reps}):")
    for name, cost in costs.items():
        print(f"  {name:42s} {cost / chunk * 1e6:8.1f}")


def _synth_only(rng, cfg, readout, cond, n):
    """The waveform kernel on a chunk's particles (particles drawn outside the timing)."""
    return synthesize(cfg, cond, readout.chip_group, *_SYNTH_ARGS)


_SYNTH_ARGS: tuple = ()
_SYNTH_PARTICLES = None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=SimConfig().chunk_events)
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each whole-run configuration; the best is reported (a shared machine's "
                         "load inflates CPU time too, through cache and memory contention)")
    args = ap.parse_args()
    global _SYNTH_ARGS, _SYNTH_PARTICLES
    _SYNTH_PARTICLES, _SYNTH_ARGS = _synth_inputs(args.chunk)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as d:
        whole_runs(args.events, args.chunk, Path(d), max(args.repeat, 1))
    stages(args.chunk)


def _synth_inputs(chunk: int):
    from na64reco.sim.beam import draw_particles, draw_pileup_times
    from na64reco.sim.waveforms import draw_noise

    cfg, _, readout, cond, _ = _prepare(chunk, 1, SimConfig(chunk_events=chunk), None, {})
    rng = np.random.default_rng(2)
    peak = np.full((chunk, 5), 137.5)
    trig = draw_particles(rng, cfg, np.arange(chunk), np.zeros(chunk), False)
    ev, dt, _ = draw_pileup_times(rng, cfg, chunk, peak[:, 0])
    pile = draw_particles(rng, cfg, ev, dt, True)
    allp = gen._sort_particles(gen._concat_particles(trig, pile))
    first = np.searchsorted(allp.event, np.arange(chunk + 1))
    amp = deposits(rng, cfg, readout.geometry, allp) / readout.mev_per_adc
    peaks = peak[allp.event] + allp.dt_ns[:, None]
    return allp, (draw_noise(rng, cfg, chunk, int(readout.chip_group.max()) + 1), amp, peaks, first)


if __name__ == "__main__":
    main()
