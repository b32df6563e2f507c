# Stubs for na64reco._core.straw (csrc/bindings/straw_bind.cpp). Times ns, lengths mm.
import numpy as np
import numpy.typing as npt

class RtRelation:
    @staticmethod
    def table(t_ns: list[float], r_mm: list[float], err_mm: list[float]) -> RtRelation: ...
    @staticmethod
    def polynomial(coefficients: list[float], t_min_ns: float, t_max_ns: float, err_mm: float) -> RtRelation: ...
    @property
    def t_min(self) -> float: ...
    @property
    def t_max(self) -> float: ...
    def radius(
        self, t_ns: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]: ...

class StrawPlane:
    station: int
    axis: int
    z_mm: float
    layer_dz_mm: float
    pitch_mm: float
    u_first_mm: float
    layer_shift_mm: float
    n_tubes: int
    t0_ns: float
    def __init__(self) -> None: ...

class StrawConfig:
    tube_radius_mm: float
    ambiguity_chi2: float
    max_cluster_hits: int
    max_combinations: int
    def __init__(self) -> None: ...

def reconstruct_straws(
    event: npt.ArrayLike,
    plane: npt.ArrayLike,
    layer: npt.ArrayLike,
    tube: npt.ArrayLike,
    time_ns: npt.ArrayLike,
    n_events: int,
    planes: list[StrawPlane],
    rt: RtRelation,
    config: StrawConfig,
) -> dict[str, dict[str, np.ndarray]]: ...
