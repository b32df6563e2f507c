"""Parameter validation of the simulator: clear messages naming the parameter and range."""

import numpy as np
import pytest

from na64reco.sim import SimConfig, simulate
from na64reco.sim.config import ELECTRON_MASS_MEV


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rate_hz": -1.0}, r"rate_hz = -1.0 is out of range; allowed \[0.0, 1000000000.0\]"),
        ({"hadron_fraction": 1.5}, r"hadron_fraction = 1.5 is out of range; allowed \[0.0, 1.0\]"),
        ({"signal_fraction": -0.1}, r"signal_fraction = -0.1 is out of range; allowed \[0.0, 1.0\]"),
        ({"muon_fraction": float("nan")}, r"muon_fraction = nan is out of range"),
        ({"beam_particle": "mu-"}, r"beam_particle = 'mu-' is unknown; allowed \['e-', 'e\+'\]"),
        ({"signal_spectrum": "flat"}, r"signal_spectrum = 'flat' is unknown; allowed \['brems', 'uniform', 'resonance'\]"),
        ({"hadron_fraction": 0.6, "signal_fraction": 0.6}, r"exceeds 1; allowed sum \[0, 1\]"),
        ({"noise_sample_correlation": 1.0}, r"noise_sample_correlation = 1.0 is out of range; allowed \(-1.0, 1.0\)"),
        ({"events_per_spill": 0}, r"events_per_spill = 0 is out of range; allowed integers \[1, 1048575\]"),
        ({"n_samples": 16}, r"n_samples = 16 is not supported; allowed 32"),
        ({"srd_mev": (1.0, 2.0)}, r"srd_mev has 2 values; expected 3"),
        ({"tdc_window_ns": (10.0, -10.0)}, r"tdc_window_ns = \(10.0, -10.0\); expected \(start, end\)"),
        ({"signal_x_min": 0.8, "signal_x_max": 0.5}, r"signal_x_max = 0.5 is out of range; allowed \[0.8, 1.0\]"),
    ],
)
def test_invalid_parameters_name_the_parameter_and_range(changes, message):
    with pytest.raises(ValueError, match=message):
        SimConfig().with_updates(**changes).validate()


def test_unknown_parameter_is_rejected_with_the_known_names():
    with pytest.raises(ValueError, match=r"unknown simulation parameter\(s\) \['rate'\]; known: .*'rate_hz'"):
        SimConfig().with_updates(rate=5.0)


def test_resonance_above_the_beam_energy_is_rejected():
    # E_R = M^2 / 2 m_e = 100 GeV needs M = sqrt(2 m_e 100 GeV) ~ 320 MeV
    mass = float(np.sqrt(2 * ELECTRON_MASS_MEV * 120e3))
    cfg = SimConfig(beam_particle="e+", signal_fraction=0.1, signal_spectrum="resonance", signal_mass_mev=mass)
    with pytest.raises(ValueError, match=r"signal_mass_mev = .* gives E_R = M\^2/\(2 m_e\) = 120 GeV, above beam_energy_gev = 100"):
        cfg.validate()


def test_resonance_energy_formula():
    cfg = SimConfig(signal_mass_mev=17.0)
    assert cfg.resonance_energy_mev == pytest.approx(17.0**2 / (2 * 0.51099895))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_events": 0}, r"events = 0 is out of range; allowed integers \[1, "),
        ({"n_events": 2.5}, r"events = 2.5 is out of range"),
        ({"seed": -1}, r"seed = -1 is out of range; allowed integers \[0, "),
    ],
)
def test_bad_counts_are_rejected_before_any_file_is_opened(tmp_path, kwargs, message):
    args = {"n_events": 10, "seed": 1, "output": tmp_path / "run.dat"} | kwargs
    with pytest.raises(ValueError, match=message):
        simulate(**args)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_paths_are_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"output = .*missing/run.dat': folder .*missing' does not exist"):
        simulate(10, 1, tmp_path / "missing" / "run.dat")
    with pytest.raises(ValueError, match=r"output = .* is a directory; expected a file path"):
        simulate(10, 1, tmp_path)
    with pytest.raises(ValueError, match=r"truth = .*nowhere/t.parquet': folder .* does not exist"):
        simulate(10, 1, tmp_path / "run.dat", truth=tmp_path / "nowhere" / "t.parquet")
    assert list(tmp_path.iterdir()) == []
