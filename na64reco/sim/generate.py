"""One chunk of simulated events, all tables in memory: raw-writer input plus truth.

A chunk is generated from its own random stream (``SeedSequence(seed)`` spawned per chunk),
so a run is reproducible for a given seed and ``chunk_events``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .beam import Particles, draw_particles, draw_pileup_times
from .cells import CELL_KIND, CELL_PLANE, CELL_X, CELL_Y, KINDS, N_CELLS, PLANE_SLICES, plane_index
from .config import SimConfig
from .readout import Readout
from .showers import deposits
from .straws import RtRelation, straw_hits
from .trigger import trigger_mask
from .waveforms import ChannelConditions, synthesize

__all__ = ["Chunk", "generate_chunk", "EVENT_TYPE_SOB", "EVENT_TYPE_EOB", "EVENT_TYPE_PHYSICS"]

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
    samples: np.ndarray  # (n_physics, N_CELLS, 32) uint16, the same values as sadc["samples"]


def _concat_particles(a: Particles, b: Particles) -> Particles:
    return Particles(**{f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in fields(Particles)})


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
) -> Chunk:
    """Simulate physics events [first, first + n) of a run of ``total`` events."""
    k_ecal = KINDS.index("ecal")
    phase = rng.uniform(-0.5, 0.5, n) * cfg.trigger_jitter_ns
    base = cfg.trigger_sample * cfg.sample_ns + phase
    trig_peak = base[:, None] + np.asarray(cfg.detector_time_offsets_ns)[None, :]

    trig = draw_particles(rng, cfg, np.arange(n, dtype=np.int64), np.zeros(n), is_pileup=False)
    pu_event, pu_dt, n_pileup = draw_pileup_times(rng, cfg, n, trig_peak[:, k_ecal])
    pile = draw_particles(rng, cfg, pu_event, pu_dt, is_pileup=True)
    allp = _concat_particles(trig, pile)
    dep = deposits(rng, cfg, readout.geometry, allp)
    amp = dep / readout.mev_per_adc[None, :]
    small = amp < cfg.min_pulse_adc
    amp[small] = 0.0
    dep[small] = 0.0
    peaks = trig_peak[allp.event] + allp.dt_ns[:, None]

    samples = synthesize(
        rng, cfg, cond, readout.chip_group,
        amp[:n], peaks[:n], pile.event, amp[n:], peaks[n:],
    )
    pedestal_mean = 0.5 * (cond.pedestal_even + cond.pedestal_odd).astype(np.float32)
    mask = trigger_mask(rng, cfg, samples, pedestal_mean, readout.mev_per_adc)

    events, phys_row, spill, event_in_run, in_spill = _run_structure(cfg, first, n, total)
    events["trigger_mask"][phys_row] = mask
    f1_trigger_time = rng.integers(0, 512, n)
    straws = straw_hits(rng, cfg, readout.straws, rt, allp, n, f1_trigger_time)
    tdc = dict(straws.tdc)
    tdc["event"] = phys_row[tdc["event"]]

    sadc = {
        "event": np.repeat(phys_row, N_CELLS),
        "source_id": np.tile(readout.source_id, n),
        "port": np.tile(readout.port, n),
        "chip": np.tile(readout.chip, n),
        "channel": np.tile(readout.channel, n),
        "nsamples": np.full(n * N_CELLS, cfg.n_samples, dtype=np.int64),
        "samples": samples.reshape(n * N_CELLS, cfg.n_samples),
    }

    run = np.full(n, cfg.run, dtype=np.int64)
    truth_events = _truth_events(cfg, readout, trig, dep[:n], trig_peak, phase, n_pileup, mask, f1_trigger_time)
    truth_events = {"run": run, "spill": spill, "event": event_in_run, "event_in_spill": in_spill, **truth_events}

    # one row per generated pulse: (particle, cell) with a non-zero amplitude
    p_idx, cell = np.nonzero(amp)
    kind_of_cell = CELL_KIND[cell]
    truth_pulses = {
        "run": np.full(p_idx.size, cfg.run, dtype=np.int64),
        "event": event_in_run[allp.event[p_idx]],
        "plane": CELL_PLANE[cell],
        "x": CELL_X[cell],
        "y": CELL_Y[cell],
        "amplitude_adc": amp[p_idx, cell].astype(np.float32),
        "time_ns": peaks[p_idx, kind_of_cell].astype(np.float32),
        "energy_mev": dep[p_idx, cell].astype(np.float32),
        "is_pileup": allp.is_pileup[p_idx],
        "particle": p_idx.astype(np.int32),
    }
    order = np.lexsort((truth_pulses["time_ns"], cell, truth_pulses["event"]))
    truth_pulses = {k: v[order] for k, v in truth_pulses.items()}

    truth_particles = {
        "run": np.full(allp.n, cfg.run, dtype=np.int64),
        "event": event_in_run[allp.event],
        "particle": np.arange(allp.n, dtype=np.int32),
        "pdg": allp.pdg,
        "energy_mev": allp.energy_mev,
        "e_missing_mev": allp.e_missing_mev,
        "dt_ns": allp.dt_ns,
        "is_pileup": allp.is_pileup,
        "x0": allp.x_mm,
        "y0": allp.y_mm,
        "tx": allp.tx,
        "ty": allp.ty,
    }
    truth_straws = dict(straws.truth)
    truth_straws["event"] = event_in_run[truth_straws["event"]]
    truth_straws = {"run": np.full(truth_straws["event"].size, cfg.run, dtype=np.int64), **truth_straws}
    return Chunk(events, sadc, tdc, truth_events, truth_pulses, truth_particles, truth_straws, samples)


def _truth_events(cfg, readout, trig: Particles, dep, trig_peak, phase, n_pileup, mask, f1_trigger_time):
    def plane_sum(*names: str) -> np.ndarray:
        return sum(dep[:, PLANE_SLICES[plane_index(nm)]].sum(axis=1) for nm in names)

    ecal = np.concatenate([dep[:, PLANE_SLICES[plane_index("ECAL0")]], dep[:, PLANE_SLICES[plane_index("ECAL1")]]], 1)
    hcal_names = ("HCAL0", "HCAL1", "HCAL2", "HCAL3")
    hcal = np.concatenate([dep[:, PLANE_SLICES[plane_index(nm)]] for nm in hcal_names], 1)
    counters = np.concatenate(
        [dep[:, PLANE_SLICES[plane_index(nm)]] for nm in ("S1", "S2", "S3", "S4", "V1", "V2")], 1
    )
    return {
        "particle": trig.pdg,
        "is_signal": trig.is_signal,
        "e_beam": trig.energy_mev,
        "e_missing": trig.e_missing_mev,
        "e_ecal_true": ecal.sum(axis=1),
        "e_prs_true": plane_sum("ECAL0"),
        "e_hcal_true": hcal.sum(axis=1),
        "e_veto_true": plane_sum("VETO"),
        "e_srd_true": plane_sum("SRD"),
        "n_pileup": n_pileup.astype(np.int32),
        "x0": trig.x_mm,
        "y0": trig.y_mm,
        "tx": trig.tx,
        "ty": trig.ty,
        "z_ref": np.full(trig.n, readout.straws.z_ref_mm),
        "trigger_phase_ns": phase,
        "t_ecal_ns": trig_peak[:, KINDS.index("ecal")],
        "trigger_mask": mask,
        "f1_trigger_time": f1_trigger_time.astype(np.int32),
        "ecal_cells": ecal.astype(np.float32),
        "hcal_cells": hcal.astype(np.float32),
        "veto_cells": dep[:, PLANE_SLICES[plane_index("VETO")]].astype(np.float32),
        "srd_cells": dep[:, PLANE_SLICES[plane_index("SRD")]].astype(np.float32),
        "counter_cells": counters.astype(np.float32),
    }
