# Stubs for na64reco._core.sim (bindings of csrc/bindings/sim_bind.cpp).
import numpy as np
import numpy.typing as npt

def synthesize(
    pedestal: npt.ArrayLike,
    noise_rms: npt.ArrayLike,
    noise_seed: int,
    noise_rho: float,
    amplitude: npt.ArrayLike,
    peak_ns: npt.ArrayLike,
    templates: npt.ArrayLike,
    template_t0: npt.ArrayLike,
    template_step: float,
    sample_ns: float,
    kind: npt.ArrayLike,
    first_particle: npt.ArrayLike,
    common: npt.ArrayLike | None = None,
    group: npt.ArrayLike | None = None,
    white_weight: float = 1.0,
    common_weight: float = 0.0,
) -> npt.NDArray[np.uint16]: ...
def noise_windows(seed: int, n_windows: int, window: int, rho: float = 0.0) -> npt.NDArray[np.float32]: ...
def synthesize_layout(
    pedestal: npt.ArrayLike,
    noise_rms: npt.ArrayLike,
    noise_seed: int,
    noise_rho: float,
    amplitude: npt.ArrayLike,
    peak_ns: npt.ArrayLike,
    templates: npt.ArrayLike,
    template_t0: npt.ArrayLike,
    template_step: float,
    sample_ns: float,
    kind: npt.ArrayLike,
    first_particle: npt.ArrayLike,
    common: npt.ArrayLike | None,
    group: npt.ArrayLike | None,
    white_weight: float,
    common_weight: float,
    out_row: npt.ArrayLike,
    trigger_row: npt.ArrayLike,
    n_trigger_rows: int,
) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint16], npt.NDArray[np.uint16]]: ...
