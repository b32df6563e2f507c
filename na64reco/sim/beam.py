"""Beam particles: species, energy, impact point, slopes, arrival time, invisible signal.

One call draws a whole batch of particles (the trigger particle of every event, or the
pile-up particles of a chunk) as a structure of arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import ELECTRON_MASS_MEV, PARTICLE_CODES, SimConfig

__all__ = [
    "Particles",
    "draw_particles",
    "draw_pileup_times",
    "signal_missing_energy",
    "SPECIES_ELECTRON",
    "SPECIES_HADRON",
    "SPECIES_MUON",
]

SPECIES_ELECTRON = 0  # electron or positron, whichever the beam is
SPECIES_HADRON = 1
SPECIES_MUON = 2


@dataclass
class Particles:
    """One row per beam particle (structure of arrays)."""

    event: np.ndarray  # int64, row in the chunk
    species: np.ndarray  # int8, SPECIES_*
    pdg: np.ndarray  # int16
    energy_mev: np.ndarray  # float64, beam energy of the particle
    e_missing_mev: np.ndarray  # float64, invisible energy (signal), 0 otherwise
    is_signal: np.ndarray  # bool
    x_mm: np.ndarray  # impact at the ECAL face, ECAL frame
    y_mm: np.ndarray
    tx: np.ndarray  # slopes dx/dz, dy/dz
    ty: np.ndarray
    dt_ns: np.ndarray  # arrival relative to the trigger particle (0 for it)
    is_pileup: np.ndarray  # bool

    @property
    def n(self) -> int:
        return int(self.event.size)


def _brems_inverse_cdf(mass_mev: float, e_beam_mev: float) -> tuple[np.ndarray, np.ndarray]:
    """Tabulated inverse CDF of the A' energy fraction x = E_A'/E_0 (Weizsacker-Williams form).

    dsigma/dx ~ (1 - x + x^2/3) / (m^2 (1 - x) / x + m_e^2 x); the grid is dense near x = 1
    where the spectrum peaks for m >> m_e.
    """
    x_lo = min(mass_mev / e_beam_mev, 0.5)
    one_minus = np.geomspace(1e-7, 1.0 - x_lo, 4000)[::-1]
    x = 1.0 - one_minus
    pdf = (1.0 - x + x * x / 3.0) / (mass_mev**2 * (1.0 - x) / x + ELECTRON_MASS_MEV**2 * x)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(x))])
    return cdf / cdf[-1], x


def signal_missing_energy(rng: np.random.Generator, cfg: SimConfig, energy_mev: np.ndarray) -> np.ndarray:
    """Invisible energy of signal events, by the configured spectrum."""
    n = energy_mev.size
    if cfg.signal_spectrum == "uniform":
        x = rng.uniform(cfg.signal_x_min, cfg.signal_x_max, n)
        return x * energy_mev
    if cfg.signal_spectrum == "resonance":
        e_miss = cfg.resonance_energy_mev * (1.0 + cfg.resonance_width * rng.standard_normal(n))
        return np.clip(e_miss, 0.0, energy_mev)
    cdf, x = _brems_inverse_cdf(cfg.signal_mass_mev, cfg.beam_energy_gev * 1000.0)
    return np.interp(rng.random(n), cdf, x) * energy_mev


def draw_particles(
    rng: np.random.Generator,
    cfg: SimConfig,
    event: np.ndarray,
    dt_ns: np.ndarray,
    is_pileup: bool,
) -> Particles:
    """Draw one beam particle per entry of ``event`` arriving at ``dt_ns``.

    Pile-up particles never carry the invisible signal: the truth's missing energy belongs
    to the trigger particle.
    """
    n = event.size
    u = rng.random(n)
    species = np.full(n, SPECIES_ELECTRON, dtype=np.int8)
    species[u < cfg.hadron_fraction] = SPECIES_HADRON
    species[(u >= cfg.hadron_fraction) & (u < cfg.hadron_fraction + cfg.muon_fraction)] = SPECIES_MUON
    lepton_pdg = PARTICLE_CODES[cfg.beam_particle]
    pdg = np.full(n, lepton_pdg, dtype=np.int16)
    pdg[species == SPECIES_HADRON] = PARTICLE_CODES[cfg.hadron_name]
    pdg[species == SPECIES_MUON] = PARTICLE_CODES[cfg.muon_name]

    signal_cut = cfg.hadron_fraction + cfg.muon_fraction
    is_signal = np.zeros(n, dtype=bool)
    if not is_pileup and cfg.signal_fraction > 0:
        is_signal = (u >= signal_cut) & (u < signal_cut + cfg.signal_fraction)

    e0 = cfg.beam_energy_gev * 1000.0
    energy = e0 * (1.0 + cfg.beam_energy_spread * rng.standard_normal(n))
    np.maximum(energy, 1.0, out=energy)
    e_missing = np.zeros(n)
    if is_signal.any():
        e_missing[is_signal] = signal_missing_energy(rng, cfg, energy[is_signal])

    spot = rng.standard_normal((4, n))
    return Particles(
        event=np.asarray(event, dtype=np.int64),
        species=species,
        pdg=pdg,
        energy_mev=energy,
        e_missing_mev=e_missing,
        is_signal=is_signal,
        x_mm=cfg.beam_x_mm + cfg.beam_spot_mm * spot[0],
        y_mm=cfg.beam_y_mm + cfg.beam_spot_mm * spot[1],
        tx=1e-3 * cfg.beam_divergence_mrad * spot[2],
        ty=1e-3 * cfg.beam_divergence_mrad * spot[3],
        dt_ns=np.asarray(dt_ns, dtype=np.float64),
        is_pileup=np.full(n, is_pileup),
    )


def draw_pileup_times(rng: np.random.Generator, cfg: SimConfig, n_events: int, trigger_peak_ns: np.ndarray):
    """Poisson arrivals of extra beam particles around each trigger particle.

    Extra particles fall uniformly in time from ``pileup_before_ns`` before the readout
    window to its end, measured in the peak-time frame of the trigger particle. Returns
    (event index, arrival relative to the trigger particle), sorted by event.
    """
    span_ns = cfg.pileup_before_ns + cfg.window_ns
    mean = cfg.rate_hz * span_ns * 1e-9
    counts = rng.poisson(mean, n_events) if mean > 0 else np.zeros(n_events, dtype=np.int64)
    event = np.repeat(np.arange(n_events, dtype=np.int64), counts)
    peak_in_window = rng.uniform(-cfg.pileup_before_ns, cfg.window_ns, event.size)
    return event, peak_in_window - trigger_peak_ns[event], counts
