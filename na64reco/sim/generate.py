"""One chunk of simulated events, all tables in memory: raw-writer input plus truth.

A chunk is generated from its own random stream (``SeedSequence(seed)`` spawned per chunk),
so a run is reproducible for a given seed and ``chunk_events``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .beam import Particles, draw_particles, draw_pileup_times
from .cells import KINDS, N_CELLS
from .config import SimConfig
from .readout import Readout
from .showers import deposits
from .straws import RtRelation, straw_hits
from .trigger import FIRMWARE_ROW_OF_CELL, N_FIRMWARE_ROWS, trigger_mask_windows
from .truth_tables import TruthContext, event_table, particle_table, pulse_table, straw_table
from .waveforms import ChannelConditions, draw_noise, synthesize_layout

__all__ = ["Chunk", "generate_chunk", "sadc_cell_order", "EVENT_TYPE_SOB", "EVENT_TYPE_EOB", "EVENT_TYPE_PHYSICS"]

EVENT_TYPE_SOB = 5
EVENT_TYPE_EOB = 6
EVENT_TYPE_PHYSICS = 7


@dataclass
class Chunk:
    """Tables of one chunk. ``events``/``sadc``/``tdc`` are the raw writer's input."""

    events: dict[str, np.ndarray]
    sadc: dict[str, np.ndarray]
    tdc: dict[str, np.ndarray]
    truth_events: dict[str, np.ndarray]
    truth_pulses: dict[str, np.ndarray]
    truth_particles: dict[str, np.ndarray]
    truth_straws: dict[str, np.ndarray]
    trigger_windows: np.ndarray  # (n_physics, 113, 32) uint16: the trigger cells' samples in firmware order
    pileup_count: int = 0  # extra particles generated in this chunk
    sadc_cells: np.ndarray | None = None  # (N_CELLS,) cell of each sadc row of an event (the writer's order)

    @property
    def samples(self) -> np.ndarray:
        """(n_physics, N_CELLS, n_samples) uint16 in cell order: the values of ``sadc["samples"]``
        (whose rows are in the raw writer's order), rearranged on each access."""
        rows = self.sadc["samples"]
        by_row = rows.reshape(rows.shape[0] // N_CELLS, N_CELLS, rows.shape[1])
        cells = np.arange(N_CELLS) if self.sadc_cells is None else self.sadc_cells
        out = np.empty_like(by_row)
        out[:, cells, :] = by_row
        return out


def _concat_particles(a: Particles, b: Particles) -> Particles:
    return Particles(**{f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in fields(Particles)})


def _sort_particles(p: Particles) -> Particles:
    order = np.argsort(p.event, kind="stable")
    return Particles(**{f.name: getattr(p, f.name)[order] for f in fields(Particles)})


def sadc_cell_order(readout: Readout) -> np.ndarray:
    """Cells in the order the raw writer puts their records: by source, port, chip, then cell."""
    return np.lexsort((np.arange(N_CELLS), readout.chip, readout.port, readout.source_id))


_ADDRESS_CACHE: list = []  # [(per-cell addresses, n, n_samples, columns)]: the last chunk's, reused


def _sadc_address_columns(readout: Readout, cell_of_row: np.ndarray, n: int, n_samples: int) -> dict[str, np.ndarray]:
    """Address and length columns of ``n`` events of digits (the same for every chunk of a run):
    built once and shared read-only between chunks."""
    per_cell = np.stack([readout.source_id[cell_of_row], readout.port[cell_of_row], readout.chip[cell_of_row],
                         readout.channel[cell_of_row]])
    if _ADDRESS_CACHE:
        cached_cells, cached_n, cached_ns, columns = _ADDRESS_CACHE[0]
        if cached_n == n and cached_ns == n_samples and np.array_equal(cached_cells, per_cell):
            return columns
    columns = {
        name: np.tile(row, n) for name, row in zip(("source_id", "port", "chip", "channel"), per_cell)
    }
    columns["nsamples"] = np.full(n * N_CELLS, n_samples, dtype=np.int64)
    for arr in columns.values():
        arr.setflags(write=False)
    _ADDRESS_CACHE[:] = [(per_cell, n, n_samples, columns)]
    return columns


def _run_structure(cfg: SimConfig, first: int, n: int, total: int):
    """Events table of physics events [first, first + n) of the run with SOB/EOB events around spills."""
    eps = cfg.events_per_spill
    index = np.arange(first, first + n, dtype=np.int64)
    spill = index // eps + 1
    in_spill = index % eps + 1
    sob_before = in_spill == 1
    eob_after = (in_spill == eps) | (index == total - 1)
    # row of each physics event: all SOB/EOB events of this chunk that precede it
    extra_before = np.cumsum(sob_before) + np.concatenate([[0], np.cumsum(eob_after)[:-1]])
    phys_row = np.arange(n) + extra_before
    n_rows = n + int(sob_before.sum()) + int(eob_after.sum())

    etype = np.full(n_rows, EVENT_TYPE_PHYSICS, dtype=np.int64)
    ev_spill = np.empty(n_rows, dtype=np.int64)
    ev_in_run = np.zeros(n_rows, dtype=np.int64)
    ev_in_spill = np.zeros(n_rows, dtype=np.int64)
    ev_spill[phys_row] = spill
    ev_in_run[phys_row] = index + 1
    ev_in_spill[phys_row] = in_spill
    sob_rows = phys_row[sob_before] - 1
    eob_rows = phys_row[eob_after] + 1
    etype[sob_rows] = EVENT_TYPE_SOB
    etype[eob_rows] = EVENT_TYPE_EOB
    ev_spill[sob_rows] = spill[sob_before]
    ev_spill[eob_rows] = spill[eob_after]

    frac = np.zeros(n_rows)
    frac[phys_row] = (in_spill - 0.5) / eps
    frac[eob_rows] = 1.0
    seconds = cfg.start_time + (ev_spill - 1) * cfg.spill_period_s + frac * cfg.spill_length_s
    events = {
        "run": np.full(n_rows, cfg.run, dtype=np.int64),
        "spill": ev_spill,
        "event_in_run": ev_in_run,
        "event_in_spill": ev_in_spill,
        "type": etype,
        "trigger_mask": np.zeros(n_rows, dtype=np.uint64),
        "time": np.floor(seconds).astype(np.int64),
    }
    return events, phys_row, spill, index + 1, in_spill


def generate_chunk(
    rng: np.random.Generator,
    cfg: SimConfig,
    readout: Readout,
    cond: ChannelConditions,
    rt: RtRelation,
    first: int,
    n: int,
    total: int,
    *,
    with_truth: bool = True,
    with_pulses: bool = True,
) -> Chunk:
    """Simulate physics events [first, first + n) of a run of ``total`` events.

    ``with_truth=False`` skips the truth tables (left empty), ``with_pulses=False`` only the
    per-pulse one: both cost time and are only needed when truth is written.
    """
    k_ecal = KINDS.index("ecal")
    phase = rng.uniform(-0.5, 0.5, n) * cfg.trigger_jitter_ns
    base = cfg.trigger_sample * cfg.sample_ns + phase
    trig_peak = base[:, None] + np.asarray(cfg.detector_time_offsets_ns)[None, :]

    trig = draw_particles(rng, cfg, np.arange(n, dtype=np.int64), np.zeros(n), is_pileup=False)
    pu_event, pu_dt, n_pileup = draw_pileup_times(rng, cfg, n, trig_peak[:, k_ecal])
    pile = draw_particles(rng, cfg, pu_event, pu_dt, is_pileup=True)
    # particles sorted by event, the trigger particle first: row order of every particle table
    allp = _sort_particles(_concat_particles(trig, pile))
    first_particle = np.searchsorted(allp.event, np.arange(n + 1))
    dep = deposits(rng, cfg, readout.geometry, allp)
    events, phys_row, spill, event_in_run, in_spill = _run_structure(cfg, first, n, total)
    # amplitudes such that amplitude * mev_per_adc * LED(spill) is the true energy
    spills, spill_of_event = np.unique(spill, return_inverse=True)
    gain = readout.mev_per_adc[None, :] * readout.led_factors(spills)
    # particles are sorted by event, hence by spill: one broadcast division per spill
    spill_bounds = np.searchsorted(spill_of_event[allp.event], np.arange(spills.size + 1))
    # the deposits are only read again by the truth tables: without truth, divide them in place
    amp = np.empty_like(dep) if with_truth else dep
    for k in range(spills.size):
        rows = slice(spill_bounds[k], spill_bounds[k + 1])
        np.divide(dep[rows], gain[k], out=amp[rows])
    small = amp < cfg.min_pulse_adc
    np.copyto(amp, 0.0, where=small)
    if with_truth:
        np.copyto(dep, 0.0, where=small)
    peaks = trig_peak[allp.event] + allp.dt_ns[:, None]

    noise = draw_noise(rng, cfg, n, int(readout.chip_group.max()) + 1)
    cell_of_row = sadc_cell_order(readout)
    out_row = np.empty(N_CELLS, dtype=np.int32)
    out_row[cell_of_row] = np.arange(N_CELLS, dtype=np.int32)
    samples, sums, windows = synthesize_layout(
        cfg, cond, readout.chip_group, noise, amp, peaks, first_particle, out_row, FIRMWARE_ROW_OF_CELL,
        N_FIRMWARE_ROWS,
    )
    mask = trigger_mask_windows(rng, cfg, windows)

    events["trigger_mask"][phys_row] = mask
    f1_trigger_time = rng.integers(0, 512, n)
    straws = straw_hits(rng, cfg, readout.straws, rt, allp, n, f1_trigger_time, with_truth=with_truth)
    tdc = dict(straws.tdc)
    tdc["event"] = phys_row[tdc["event"]]

    # rows already in the raw writer's order (and sums from the kernel): the writer neither sorts nor sums
    sadc = {
        "event": np.repeat(phys_row, N_CELLS),
        **_sadc_address_columns(readout, cell_of_row, n, cfg.n_samples),
        "samples": samples.reshape(n * N_CELLS, cfg.n_samples),
        "sum": sums,
    }

    if not with_truth:
        return Chunk(events, sadc, tdc, {}, {}, {}, {}, windows, int(pile.n), cell_of_row)
    ctx = TruthContext(cfg, readout, allp, first_particle, event_in_run, dep, amp, peaks)
    truth_events = event_table(ctx, spill, in_spill, trig_peak, phase, n_pileup, mask, f1_trigger_time)
    truth_pulses = pulse_table(ctx) if with_pulses else {}
    truth_particles = particle_table(ctx)
    truth_straws = straw_table(ctx, straws.truth)
    return Chunk(
        events, sadc, tdc, truth_events, truth_pulses, truth_particles, truth_straws, windows, int(pile.n), cell_of_row
    )
