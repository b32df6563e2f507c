"""Parameters of a simulated run, validated up front.

Every number a physicist may want to change lives here (beam, composition, pile-up rate,
shower model, readout, straws). ``SimConfig.validate()`` names the offending parameter and
its allowed range, so the CLI and notebooks fail before any file is opened.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

__all__ = ["SimConfig", "BEAM_PARTICLES", "SIGNAL_SPECTRA", "PARTICLE_CODES", "PARTICLE_NAMES"]

BEAM_PARTICLES = ("e-", "e+")
SIGNAL_SPECTRA = ("brems", "uniform", "resonance")

# Particle codes stored in the truth (``particle`` column): PDG numbers.
PARTICLE_CODES = {"e-": 11, "e+": -11, "pi-": -211, "pi+": 211, "mu-": 13, "mu+": -13}
PARTICLE_NAMES = {v: k for k, v in PARTICLE_CODES.items()}

ELECTRON_MASS_MEV = 0.51099895


def _check_range(name: str, value: float, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> None:
    bad = (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or (value <= lo if lo_open else value < lo)
        or (value >= hi if hi_open else value > hi)
    )
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise ValueError(f"{name} = {value!r} is out of range; allowed {left}{lo}, {hi}{right}")


@dataclass(frozen=True)
class SimConfig:
    """Everything that defines a simulated run except the event count and the seed."""

    # --- run bookkeeping -------------------------------------------------------------
    run: int = 4000
    events_per_spill: int = 10000
    start_time: int = 1_700_000_000  # DATE time (s since 1970) of the first spill
    spill_period_s: float = 14.8  # SPS super-cycle seen by the experiment
    spill_length_s: float = 4.8

    # --- beam --------------------------------------------------------------------------
    beam_particle: str = "e-"
    beam_energy_gev: float = 100.0
    beam_energy_spread: float = 0.01  # relative sigma
    hadron_fraction: float = 0.005  # pions (charge of the beam)
    muon_fraction: float = 0.001
    beam_x_mm: float = 19.1  # mean impact at the ECAL face, ECAL frame (centre of cell 3,3)
    beam_y_mm: float = 19.1
    beam_spot_mm: float = 3.0  # Gaussian sigma in x and y
    beam_divergence_mrad: float = 0.15  # Gaussian sigma of the slopes

    # --- invisible signal (A' -> invisible) ----------------------------------------------
    signal_fraction: float = 0.0
    signal_spectrum: str = "brems"  # brems | uniform | resonance
    signal_mass_mev: float = 16.7  # A' mass: shapes "brems", sets E_R for "resonance"
    signal_x_min: float = 0.5  # "uniform": E_miss / E_beam range
    signal_x_max: float = 1.0
    resonance_width: float = 0.02  # relative sigma of E_miss around E_R

    # --- pile-up -------------------------------------------------------------------------
    rate_hz: float = 3.0e6  # beam particles per second in the spill; 0 disables pile-up
    pileup_before_ns: float = 400.0  # extra particles are generated this long before the window

    # --- electromagnetic showers ----------------------------------------------------------
    ecal_stochastic: float = 0.10  # sigma/E = a / sqrt(E/GeV) (+) c
    ecal_constant: float = 0.015
    preshower_x0: float = 4.0
    ecal_x0: float = 40.0
    critical_energy_mev: float = 9.0
    preshower_fraction_rel_spread: float = 0.5
    moliere_radius_mm: float = 36.0
    lateral_core_fraction: float = 0.8
    lateral_cell_fluctuation: float = 0.03  # relative per-cell fluctuation at 1 GeV, ~1/sqrt(E)
    hcal_leak_fraction: float = 0.002  # mean of the exponential leakage into HCAL0 (electrons)
    veto_leak_probability: float = 0.01  # charged leakage into one VETO module (electrons)
    srd_mev: tuple[float, float, float] = (6.0, 9.0, 4.0)  # mean synchrotron signal per SRD module
    srd_shape: float = 3.0  # Gamma shape of the SRD signal

    # --- hadrons and muons ------------------------------------------------------------------
    ecal_lambda: float = 1.6  # ECAL depth in nuclear interaction lengths
    preshower_lambda: float = 0.16
    hcal_module_lambda: float = 7.0
    hadron_profile_lambda: float = 0.9  # scale of the Gamma(2) longitudinal hadron profile
    hadron_response: float = 0.85  # e/h-like visible fraction
    hadron_stochastic: float = 0.6
    hadron_constant: float = 0.05
    hcal_lateral_mm: float = 60.0
    mip_ecal0_mev: float = 30.0  # most probable electron-equivalent MIP deposits
    mip_ecal1_mev: float = 300.0
    mip_hcal_mev: float = 750.0  # per HCAL module
    mip_veto_mev: float = 8.0
    mip_counter_mev: float = 2.0
    mip_width: float = 0.12  # Moyal scale relative to the most probable value
    halo_probability: float = 0.003  # V1/V2 hit by any beam particle (halo)

    # --- SADC readout ------------------------------------------------------------------------
    n_samples: int = 32
    sample_ns: float = 12.5
    trigger_sample: float = 11.0  # in-time pulse peak position (samples), before the phase jitter
    trigger_jitter_ns: float = 12.5  # full width of the uniform trigger phase
    detector_time_offsets_ns: tuple[float, float, float, float, float] = (0.0, 8.0, 4.0, -12.0, -10.0)
    pedestal_mean: float = 150.0
    pedestal_spread: float = 25.0
    pedestal_even_odd: float = 3.0  # sigma of the odd-minus-even pedestal difference
    noise_rms_adc: float = 1.5
    noise_rms_spread: float = 0.1  # relative channel-to-channel spread
    noise_sample_correlation: float = 0.0  # AR(1) coefficient between consecutive samples
    noise_common_fraction: float = 0.0  # variance fraction shared by the channels of one ADC chip
    min_pulse_adc: float = 0.25  # pulses below this true amplitude are not generated

    # --- straws --------------------------------------------------------------------------------
    straw_efficiency: float = 0.95
    straw_sigma_r_mm: float = 0.15
    straw_noise_per_layer: float = 0.02  # mean noise hits per layer and event
    straw_t0_ns: float = 20.0  # cable/electronics delay added to the drift time
    tdc_window_ns: tuple[float, float] = (-300.0, 500.0)  # hits outside are not recorded
    trigger_random_probability: float = 0.001  # random-trigger bit

    # --- output ---------------------------------------------------------------------------------
    chunk_events: int = 2048

    def with_updates(self, **changes: Any) -> "SimConfig":
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown simulation parameter(s) {unknown}; known: {sorted(names)}")
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def window_ns(self) -> float:
        return self.n_samples * self.sample_ns

    @property
    def hadron_name(self) -> str:
        return "pi-" if self.beam_particle == "e-" else "pi+"

    @property
    def muon_name(self) -> str:
        return "mu-" if self.beam_particle == "e-" else "mu+"

    @property
    def resonance_energy_mev(self) -> float:
        """E_R = M^2 / (2 m_e): the positron energy of resonant A' production on atomic electrons."""
        return self.signal_mass_mev**2 / (2.0 * ELECTRON_MASS_MEV)

    def validate(self) -> "SimConfig":
        if self.beam_particle not in BEAM_PARTICLES:
            raise ValueError(f"beam_particle = {self.beam_particle!r} is unknown; allowed {list(BEAM_PARTICLES)}")
        if self.signal_spectrum not in SIGNAL_SPECTRA:
            raise ValueError(f"signal_spectrum = {self.signal_spectrum!r} is unknown; allowed {list(SIGNAL_SPECTRA)}")
        if not isinstance(self.run, int) or not 0 <= self.run < 2**32:
            raise ValueError(f"run = {self.run!r} is out of range; allowed integers [0, {2**32 - 1}]")
        if not isinstance(self.events_per_spill, int) or not 1 <= self.events_per_spill < 2**20:
            raise ValueError(
                f"events_per_spill = {self.events_per_spill!r} is out of range; allowed integers [1, {2**20 - 1}]"
            )
        if not isinstance(self.start_time, int) or not 0 <= self.start_time < 2**32:
            raise ValueError(f"start_time = {self.start_time!r} is out of range; allowed integers [0, {2**32 - 1}]")
        _check_range("spill_period_s", self.spill_period_s, 0.0, 3600.0, lo_open=True)
        _check_range("spill_length_s", self.spill_length_s, 0.0, self.spill_period_s, lo_open=True)
        _check_range("beam_energy_gev", self.beam_energy_gev, 1.0, 1000.0)
        _check_range("beam_energy_spread", self.beam_energy_spread, 0.0, 0.2)
        for name in ("hadron_fraction", "muon_fraction", "signal_fraction"):
            _check_range(name, getattr(self, name), 0.0, 1.0)
        total = self.hadron_fraction + self.muon_fraction + self.signal_fraction
        if total > 1.0:
            raise ValueError(
                f"hadron_fraction + muon_fraction + signal_fraction = {total:g} exceeds 1; allowed sum [0, 1]"
            )
        _check_range("signal_mass_mev", self.signal_mass_mev, 0.0, 1.0e5, lo_open=True)
        _check_range("signal_x_min", self.signal_x_min, 0.0, 1.0)
        _check_range("signal_x_max", self.signal_x_max, self.signal_x_min, 1.0)
        _check_range("resonance_width", self.resonance_width, 0.0, 0.5)
        if self.signal_fraction > 0 and self.signal_spectrum == "resonance":
            e_r = self.resonance_energy_mev
            if e_r >= self.beam_energy_gev * 1000.0:
                raise ValueError(
                    f"signal_mass_mev = {self.signal_mass_mev:g} gives E_R = M^2/(2 m_e) = {e_r / 1000:.4g} GeV, "
                    f"above beam_energy_gev = {self.beam_energy_gev:g}; allowed signal_mass_mev "
                    f"(0, {math.sqrt(2 * ELECTRON_MASS_MEV * self.beam_energy_gev * 1000):.4g})"
                )
        _check_range("rate_hz", self.rate_hz, 0.0, 1.0e9)
        _check_range("pileup_before_ns", self.pileup_before_ns, 0.0, 10000.0)
        for name, hi in (
            ("ecal_stochastic", 1.0),
            ("ecal_constant", 0.5),
            ("lateral_cell_fluctuation", 0.5),
            ("hcal_leak_fraction", 0.5),
            ("veto_leak_probability", 1.0),
            ("hadron_constant", 0.5),
            ("hadron_stochastic", 2.0),
            ("mip_width", 1.0),
            ("halo_probability", 1.0),
            ("preshower_fraction_rel_spread", 2.0),
        ):
            _check_range(name, getattr(self, name), 0.0, hi)
        for name, hi in (
            ("preshower_x0", 50.0),
            ("critical_energy_mev", 100.0),
            ("moliere_radius_mm", 500.0),
            ("ecal_lambda", 20.0),
            ("hcal_module_lambda", 50.0),
            ("hadron_profile_lambda", 10.0),
            ("hcal_lateral_mm", 2000.0),
            ("srd_shape", 100.0),
        ):
            _check_range(name, getattr(self, name), 0.0, hi, lo_open=True)
        _check_range("ecal_x0", self.ecal_x0, self.preshower_x0, 200.0, lo_open=True)
        _check_range("preshower_lambda", self.preshower_lambda, 0.0, self.ecal_lambda, lo_open=True, hi_open=True)
        _check_range("lateral_core_fraction", self.lateral_core_fraction, 0.0, 1.0)
        _check_range("hadron_response", self.hadron_response, 0.0, 2.0, lo_open=True)
        for name in ("mip_ecal0_mev", "mip_ecal1_mev", "mip_hcal_mev", "mip_veto_mev", "mip_counter_mev"):
            _check_range(name, getattr(self, name), 0.0, 1.0e5)
        if len(self.srd_mev) != 3:
            raise ValueError(f"srd_mev has {len(self.srd_mev)} values; expected 3 (one per SRD module)")
        for i, v in enumerate(self.srd_mev):
            _check_range(f"srd_mev[{i}]", v, 0.0, 1.0e4)
        if self.n_samples != 32:
            raise ValueError(f"n_samples = {self.n_samples!r} is not supported; allowed 32 (MSADC)")
        _check_range("sample_ns", self.sample_ns, 0.0, 1000.0, lo_open=True)
        _check_range("trigger_sample", self.trigger_sample, 0.0, self.n_samples - 1.0)
        _check_range("trigger_jitter_ns", self.trigger_jitter_ns, 0.0, 100.0)
        if len(self.detector_time_offsets_ns) != 5:
            raise ValueError(
                f"detector_time_offsets_ns has {len(self.detector_time_offsets_ns)} values; "
                "expected 5 (ecal, hcal, veto, srd, counter)"
            )
        for i, v in enumerate(self.detector_time_offsets_ns):
            _check_range(f"detector_time_offsets_ns[{i}]", v, -200.0, 200.0)
        _check_range("pedestal_mean", self.pedestal_mean, 0.0, 4000.0)
        _check_range("pedestal_spread", self.pedestal_spread, 0.0, 500.0)
        _check_range("pedestal_even_odd", self.pedestal_even_odd, 0.0, 100.0)
        _check_range("noise_rms_adc", self.noise_rms_adc, 0.0, 500.0)
        _check_range("noise_rms_spread", self.noise_rms_spread, 0.0, 1.0)
        _check_range("noise_sample_correlation", self.noise_sample_correlation, -1.0, 1.0, lo_open=True, hi_open=True)
        _check_range("noise_common_fraction", self.noise_common_fraction, 0.0, 1.0)
        _check_range("min_pulse_adc", self.min_pulse_adc, 0.0, 100.0)
        _check_range("straw_efficiency", self.straw_efficiency, 0.0, 1.0)
        _check_range("straw_sigma_r_mm", self.straw_sigma_r_mm, 0.0, 3.0)
        _check_range("straw_noise_per_layer", self.straw_noise_per_layer, 0.0, 64.0)
        _check_range("straw_t0_ns", self.straw_t0_ns, -1000.0, 1000.0)
        if len(self.tdc_window_ns) != 2 or not self.tdc_window_ns[0] < self.tdc_window_ns[1]:
            raise ValueError(f"tdc_window_ns = {self.tdc_window_ns!r}; expected (start, end) with start < end")
        for i, v in enumerate(self.tdc_window_ns):
            # F1 time bins are folded to int16: |t| must stay below 32768 * 0.1 ns
            _check_range(f"tdc_window_ns[{i}]", v, -3000.0, 3000.0)
        _check_range("trigger_random_probability", self.trigger_random_probability, 0.0, 1.0)
        if not isinstance(self.chunk_events, int) or not 1 <= self.chunk_events <= 1 << 20:
            raise ValueError(f"chunk_events = {self.chunk_events!r} is out of range; allowed integers [1, {1 << 20}]")
        return self
