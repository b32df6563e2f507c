# Stubs for na64reco._core.calo (csrc/bindings/calo_bind.cpp). Energies MeV, times ns, mm.
import numpy as np
import numpy.typing as npt

from .waveform import PulseTemplate

class ShowerProfile:
    def __init__(self, weights: list[float], widths_mm: list[float]) -> None: ...
    @property
    def weights(self) -> list[float]: ...
    @property
    def widths_mm(self) -> list[float]: ...
    def fraction(self, x1: float, x2: float, y1: float, y2: float) -> float: ...
    def cell_fractions(self, dx: npt.ArrayLike, dy: npt.ArrayLike, pitch: float) -> npt.NDArray[np.float64]: ...

class ClusterConfig:
    pitch_mm: float
    cell_threshold_mev: float
    seed_threshold_mev: float
    log_weight_w0: float
    move_tolerance_mm: float
    max_iterations: int
    profile: ShowerProfile
    chi2_noise_mev: float
    chi2_stochastic_mev: float
    chi2_fraction: float
    def __init__(self) -> None: ...
    def validate(self) -> None: ...

class CaloLayout:
    n_cells: int
    ecal_begin: int
    ecal_sections: int
    ecal_nx: int
    ecal_ny: int
    hcal_begin: int
    hcal_modules: int
    hcal_nx: int
    hcal_ny: int
    veto_begin: int
    veto_modules: int
    srd_begin: int
    srd_modules: int
    ecal_pitch_mm: float
    def __init__(self) -> None: ...
    def validate(self) -> None: ...

def calibrate_cells(
    offsets: npt.ArrayLike,
    cell: npt.ArrayLike,
    amplitude: npt.ArrayLike,
    time_ns: npt.ArrayLike,
    time_err: npt.ArrayLike | None,
    spill_row: npt.ArrayLike,
    mev_per_adc: npt.ArrayLike,
    time_mean_ns: npt.ArrayLike,
    time_sigma_ns: npt.ArrayLike,
    led_run: npt.ArrayLike,
    led_spill: npt.ArrayLike,
    counter_cells: list[int],
    counter_offset_ns: list[float],
    nominal_ns: float,
    search_ns: float,
    n_sigma: float,
    near_sigma: float,
    max_time_err_ns: float = 3.0,
    median: bool = False,
    refine_cells: list[int] = ...,
    refine_min_mev: float = 1000.0,
    refine_search_ns: float = 5.0,
    refine_cluster_ns: float = 2.0,
    refine_window_ns: float = 1e9,
    refine_anchor: str = "counters",
    refine_spread_ns: float = 0.5,
    refine_min_fraction: float = 0.0,
    refine_local_ns: float = 0.0,
    refine_main_cells: list[int] = ...,
    refine_ok: npt.ArrayLike | None = None,
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int32],
    npt.NDArray[np.bool_],
]: ...
def cluster_grid(energies: npt.ArrayLike, config: ClusterConfig, pileup: bool = False) -> dict[str, np.ndarray]: ...
def event_variables(
    e_in: npt.ArrayLike, e_near: npt.ArrayLike, e_out: npt.ArrayLike, layout: CaloLayout, veto_ratio: float = 0.3
) -> dict[str, np.ndarray]: ...
def cell_index(
    plane: npt.ArrayLike,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    plane_begin: list[int],
    plane_nx: list[int],
    plane_ny: list[int],
) -> npt.NDArray[np.int32]: ...
def veto_module_energy(a: float, b: float, veto_ratio: float = 0.3) -> float: ...

def amplitude_upper_bound(
    samples: npt.ArrayLike,
    nsamples: npt.ArrayLike,
    t_lo_ns: npt.ArrayLike,
    t_hi_ns: npt.ArrayLike,
    peak_floor: npt.ArrayLike,
    pedestal: npt.ArrayLike | None,
    template: PulseTemplate | None,
    sampling_ns: float,
    noise_adc: float,
    saturation_adc: float,
    step_ns: float,
) -> npt.NDArray[np.float64]: ...

def lowest_median_by_key(
    key: np.ndarray, lowest: np.ndarray, recorded: np.ndarray, query: np.ndarray, min_waveforms: int
) -> np.ndarray:
    """Per query key: the lower median of ``lowest`` over the digits of that key (int32, >= -1),
    digits with ``recorded <= 0`` left out; inf where fewer than min_waveforms."""
def fixed_time_amplitude(
    samples: npt.ArrayLike,
    nsamples: npt.ArrayLike,
    t_peak_ns: npt.ArrayLike,
    template: PulseTemplate,
    sampling_ns: float,
    before: float,
    after: float,
    saturation_adc: float,
    neighbour_ns: float,
    neighbour_min_sep_ns: float,
    neighbour_step_ns: float,
    neighbour_dchi2: float,
    noise_adc: float,
) -> npt.NDArray[np.float64]: ...
