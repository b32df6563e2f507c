"""Truth tables of one chunk, as numpy columns (docs/simulation.md lists them).

Particles are numbered inside their event: 0 is the trigger particle, 1.. the pile-up
particles. Energies are MeV, times ns (pulse peak time from the first sample), lengths mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .beam import Particles
from .cells import CELL_KIND, CELL_PLANE, CELL_X, CELL_Y, KINDS, N_CELLS, PLANE_SLICES, plane_index
from .config import SimConfig
from .readout import Readout

__all__ = ["TruthContext", "event_table", "pulse_table", "particle_table", "straw_table"]


@dataclass
class TruthContext:
    cfg: SimConfig
    readout: Readout
    particles: Particles  # sorted by event, trigger particle first
    first_particle: np.ndarray  # (n_events + 1,)
    event_in_run: np.ndarray  # (n_events,)
    deposits: np.ndarray  # (P, N_CELLS) MeV, zero where no pulse was generated
    amplitude: np.ndarray  # (P, N_CELLS) ADC
    peak_ns: np.ndarray  # (P, n_kinds)

    @property
    def rank_in_event(self) -> np.ndarray:
        p = self.particles
        return (np.arange(p.n) - self.first_particle[p.event]).astype(np.int32)

    def run_column(self, n: int) -> np.ndarray:
        return np.full(n, self.cfg.run, dtype=np.int64)


def _planes(dep: np.ndarray, *names: str) -> np.ndarray:
    return np.concatenate([dep[:, PLANE_SLICES[plane_index(nm)]] for nm in names], axis=1)


def event_table(ctx: TruthContext, spill, in_spill, trig_peak, phase, n_pileup, mask, f1_trigger_time):
    trig_rows = ctx.first_particle[:-1]
    p = ctx.particles
    dep = ctx.deposits[trig_rows]
    ecal = _planes(dep, "ECAL0", "ECAL1")
    hcal = _planes(dep, "HCAL0", "HCAL1", "HCAL2", "HCAL3")
    veto = _planes(dep, "VETO")
    srd = _planes(dep, "SRD")
    counters = _planes(dep, "S1", "S2", "S3", "S4", "V1", "V2")
    n = trig_rows.size
    return {
        "run": ctx.run_column(n),
        "spill": spill,
        "event": ctx.event_in_run,
        "event_in_spill": in_spill,
        "particle": p.pdg[trig_rows],
        "is_signal": p.is_signal[trig_rows],
        "e_beam": p.energy_mev[trig_rows],
        "e_missing": p.e_missing_mev[trig_rows],
        "e_ecal_true": ecal.sum(axis=1),
        "e_prs_true": ecal[:, :36].sum(axis=1),
        "e_hcal_true": hcal.sum(axis=1),
        "e_veto_true": veto.sum(axis=1),
        "e_srd_true": srd.sum(axis=1),
        "n_pileup": n_pileup.astype(np.int32),
        "x0": p.x_mm[trig_rows],
        "y0": p.y_mm[trig_rows],
        "tx": p.tx[trig_rows],
        "ty": p.ty[trig_rows],
        "z_ref": np.full(n, ctx.readout.straws.z_ref_mm),
        "trigger_phase_ns": phase,
        "t_ecal_ns": trig_peak[:, KINDS.index("ecal")],
        "trigger_mask": mask,
        "f1_trigger_time": f1_trigger_time.astype(np.int32),
        "ecal_cells": ecal.astype(np.float32),
        "hcal_cells": hcal.astype(np.float32),
        "veto_cells": veto.astype(np.float32),
        "srd_cells": srd.astype(np.float32),
        "counter_cells": counters.astype(np.float32),
    }


def pulse_table(ctx: TruthContext) -> dict[str, np.ndarray]:
    """One row per generated pulse, ordered by event, cell, then particle."""
    p_idx, cell = np.nonzero(ctx.amplitude)
    event = ctx.particles.event[p_idx]
    order = np.argsort(event * N_CELLS + cell, kind="stable")
    p_idx, cell, event = p_idx[order], cell[order], event[order]
    return {
        "run": ctx.run_column(p_idx.size),
        "event": ctx.event_in_run[event],
        "plane": CELL_PLANE[cell],
        "x": CELL_X[cell],
        "y": CELL_Y[cell],
        "amplitude_adc": ctx.amplitude[p_idx, cell].astype(np.float32),
        "time_ns": ctx.peak_ns[p_idx, CELL_KIND[cell]].astype(np.float32),
        "energy_mev": ctx.deposits[p_idx, cell].astype(np.float32),
        "is_pileup": ctx.particles.is_pileup[p_idx],
        "particle": ctx.rank_in_event[p_idx],
    }


def particle_table(ctx: TruthContext) -> dict[str, np.ndarray]:
    p = ctx.particles
    return {
        "run": ctx.run_column(p.n),
        "event": ctx.event_in_run[p.event],
        "particle": ctx.rank_in_event,
        "pdg": p.pdg,
        "energy_mev": p.energy_mev,
        "e_missing_mev": p.e_missing_mev,
        "dt_ns": p.dt_ns,
        "is_pileup": p.is_pileup,
        "x0": p.x_mm,
        "y0": p.y_mm,
        "tx": p.tx,
        "ty": p.ty,
    }


def straw_table(ctx: TruthContext, hits: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = dict(hits)
    out["event"] = ctx.event_in_run[hits["event"]]
    from_particle = hits["particle"] >= 0
    out["particle"] = np.where(from_particle, ctx.rank_in_event[np.maximum(hits["particle"], 0)], -1).astype(np.int32)
    return {"run": ctx.run_column(out["event"].size), **out}
