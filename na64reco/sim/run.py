"""Simulate a run: raw DATE file plus Parquet truth, written atomically.

``simulate()`` is what ``na64reco simulate`` calls; notebooks call it the same way, or
iterate ``iter_chunks()`` to keep everything in memory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .cells import CELL_PLANE, CELL_X, CELL_Y, N_CELLS, PLANES
from .config import SimConfig
from .generate import EVENT_TYPE_PHYSICS, Chunk, generate_chunk
from .readout import Readout
from .straws import load_rt
from .truth import TRUTH_TABLES, TruthWriter, truth_paths
from .waveforms import ChannelConditions, draw_conditions

__all__ = ["simulate", "iter_chunks", "SimSummary", "default_readout", "channel_table"]


@dataclass
class SimSummary:
    """What a simulation wrote."""

    n_events: int
    n_pileup: int
    n_spills: int
    bytes_written: int
    output: Path | None
    truth: dict[str, Path] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def default_readout(run: int) -> Readout:
    """Readout from the detector description valid for ``run``."""
    from ..detector import load_setup

    return Readout.from_setup(load_setup(run))


def _check_count(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= int(value) <= hi:
        raise ValueError(f"{name} = {value!r} is out of range; allowed integers [{lo}, {hi}]")
    return int(value)


def _seed_sequences(seed: int, n_chunks: int) -> tuple[np.random.SeedSequence, list[np.random.SeedSequence]]:
    root = np.random.SeedSequence(seed)
    children = root.spawn(n_chunks + 1)
    return children[0], children[1:]


def channel_table(cfg: SimConfig, readout: Readout, cond: ChannelConditions) -> dict[str, np.ndarray]:
    return {
        "run": np.full(N_CELLS, cfg.run, dtype=np.int64),
        "plane": CELL_PLANE,
        "plane_name": np.array([PLANES[p][0] for p in CELL_PLANE]),
        "x": CELL_X,
        "y": CELL_Y,
        "source_id": readout.source_id.astype(np.int32),
        "port": readout.port.astype(np.int16),
        "chip": readout.chip.astype(np.int16),
        "channel": readout.channel.astype(np.int16),
        "pedestal_even": cond.pedestal_even,
        "pedestal_odd": cond.pedestal_odd,
        "noise_rms": cond.noise_rms,
        "mev_per_adc": readout.mev_per_adc,
        "calibration_cell": (
            readout.calibration_cell if readout.calibration_cell is not None else np.full(N_CELLS, -1)
        ).astype(np.int32),
    }


def _prepare(n_events: int, seed: int, config: SimConfig | None, readout: Readout | None, overrides):
    cfg = (config or SimConfig()).with_updates(**overrides) if overrides else (config or SimConfig())
    cfg.validate()
    n_events = _check_count("events", n_events, 1, 2**32 - 2)
    seed = _check_count("seed", seed, 0, 2**63 - 1)
    if n_events > cfg.events_per_spill * 2047:
        raise ValueError(
            f"events = {n_events} needs more than 2047 spills of events_per_spill = {cfg.events_per_spill} "
            "(11-bit S-Link spill field); raise events_per_spill"
        )
    readout = readout if readout is not None else default_readout(cfg.run)
    n_chunks = -(-n_events // cfg.chunk_events)
    cond_seq, chunk_seqs = _seed_sequences(seed, n_chunks)
    cond = draw_conditions(np.random.Generator(np.random.PCG64(cond_seq)), cfg)
    return cfg, n_events, readout, cond, chunk_seqs


def iter_chunks(
    n_events: int,
    seed: int,
    config: SimConfig | None = None,
    readout: Readout | None = None,
    **overrides: Any,
) -> Iterator[Chunk]:
    """Generate the run chunk by chunk in memory (the same events ``simulate`` writes)."""
    cfg, n_events, readout, cond, chunk_seqs = _prepare(n_events, seed, config, readout, overrides)
    rt = load_rt()
    for k, seq in enumerate(chunk_seqs):
        first = k * cfg.chunk_events
        n = min(cfg.chunk_events, n_events - first)
        yield generate_chunk(np.random.Generator(np.random.PCG64(seq)), cfg, readout, cond, rt, first, n, n_events)


def _check_writable(name: str, path: Path) -> Path:
    path = Path(os.fspath(path))
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ValueError(f"{name} = {str(path)!r} is a directory; expected a file path")
    if not parent.is_dir():
        raise ValueError(f"{name} = {str(path)!r}: folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{name} = {str(path)!r}: folder {str(parent)!r} is not writable")
    return path


def simulate(
    n_events: int,
    seed: int,
    output: str | os.PathLike[str] | None,
    truth: str | os.PathLike[str] | None = None,
    config: SimConfig | None = None,
    readout: Readout | None = None,
    *,
    truth_pulses: bool = True,
    progress: bool = False,
    **overrides: Any,
) -> SimSummary:
    """Simulate ``n_events`` physics events and write them.

    output: the raw DATE file (None: write no raw file, e.g. truth only).
    truth: the event truth Parquet file; the other truth tables go beside it as
        ``<stem>.pulses.parquet``, ``<stem>.particles.parquet``, ``<stem>.straws.parquet``,
        ``<stem>.channels.parquet`` (``truth_pulses=False`` skips the pulses table).
    overrides: any ``SimConfig`` field, e.g. ``rate_hz=5e6, signal_fraction=0.01``.

    Files are written under temporary names and renamed only when everything succeeded:
    a failure leaves no partial file behind. Same seed and configuration, same bytes.
    """
    from ..raw import write_raw

    out_path = _check_writable("output", output) if output is not None else None
    truth_targets = {}
    if truth is not None:
        tables = TRUTH_TABLES if truth_pulses else tuple(t for t in TRUTH_TABLES if t != "pulses")
        truth_targets = {t: _check_writable("truth", p) for t, p in truth_paths(truth, tables).items()}
    cfg, n_events, readout, cond, chunk_seqs = _prepare(n_events, seed, config, readout, overrides)
    seed = int(seed)
    rt = load_rt()

    temps: list[tuple[str, Path]] = []

    def temp_for(target: Path) -> str:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        # mkstemp creates 0600; the final file gets the permissions a plain open() would give
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        temps.append((tmp, target))
        return tmp

    summary = SimSummary(n_events=n_events, n_pileup=0, n_spills=0, bytes_written=0, output=out_path)
    writer = None
    raw_fh = None
    try:
        if out_path is not None:
            raw_fh = open(temp_for(out_path), "wb")  # noqa: SIM115 (closed in finally)
        if truth_targets:
            metadata = {"seed": seed, "n_events": n_events, "run": cfg.run, "config": cfg.to_dict()}
            writer = TruthWriter({t: temp_for(p) for t, p in truth_targets.items()}, metadata)
            writer.write("channels", channel_table(cfg, readout, cond))
        bar = _progress(progress, n_events)
        sources = readout.sources.tolist()
        spills = set()
        for k, seq in enumerate(chunk_seqs):
            first = k * cfg.chunk_events
            n = min(cfg.chunk_events, n_events - first)
            rng = np.random.Generator(np.random.PCG64(seq))
            chunk = generate_chunk(
                rng, cfg, readout, cond, rt, first, n, n_events,
                with_truth=writer is not None, with_pulses=truth_pulses,
            )
            if raw_fh is not None:
                summary.bytes_written += write_raw(
                    raw_fh, chunk.events, chunk.sadc, chunk.tdc, sources=sources, chunk_events=256
                )
            if writer is not None:
                writer.write_chunk(chunk)
            physics = chunk.events["type"] == EVENT_TYPE_PHYSICS
            summary.n_pileup += int(chunk.pileup_count)
            spills.update(np.unique(chunk.events["spill"][physics]).tolist())
            for name, arr in (("sadc_digits", chunk.sadc["event"]), ("tdc_hits", chunk.tdc["event"])):
                summary.counts[name] = summary.counts.get(name, 0) + int(arr.size)
            if bar is not None:
                bar.update(n)
        if bar is not None:
            bar.close()
        if raw_fh is not None:
            raw_fh.close()
        if writer is not None:
            writer.close()
        for tmp, target in temps:
            os.replace(tmp, target)
        temps.clear()
    finally:
        if raw_fh is not None and not raw_fh.closed:
            raw_fh.close()
        if writer is not None:
            writer.abort()
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
    summary.n_spills = len(spills)
    summary.truth = truth_targets
    return summary


def _progress(enabled: bool, total: int):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="ev", desc="simulate")
