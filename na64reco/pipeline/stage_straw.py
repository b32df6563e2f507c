"""The straw stage: drift radii, points and the segment from the TDC hits."""

from __future__ import annotations

import numpy as np

from ..columns import Columns
from ..config import JobConfig
from . import status as st
from .chain import EventState
from .stage_common import _run_of, _PerRun


class StrawStage:
    """Drift radii, plane clusters, station points and one straight segment per event."""

    name = "straw"

    def __init__(self, config: JobConfig) -> None:
        from ..detector import load_setup
        from ..straw import load_geometry, load_rt

        self.config = config
        rt_file = config["straw"]["rt_file"]
        self.rt = load_rt(rt_file or None)
        self.geometry = _PerRun(lambda run: load_geometry(run))
        data_dir = config["detector"]["data_dir"] or None
        self.setup = _PerRun(lambda run: load_setup(run, data_dir=data_dir))

    def available(self) -> bool:
        return True

    def __call__(self, state: EventState) -> None:
        from ..straw import reconstruct_straws

        if state.n == 0:
            return
        tdc = state.raw.tdc
        run = _run_of(state, self.config)
        hits = self.setup(run).annotate_tdc(tdc)
        geometry = self.geometry(run)
        res = reconstruct_straws(
            {"event": hits["event"], "plane": hits["plane"], "layer": hits["layer"], "tube": hits["tube"], "time_ns": hits["time_ns"]},
            state.n,
            geometry,
            self.rt,
        )
        state.extras["straws"] = res
        ev = res.events
        cols = state.columns
        cols["n_straw_hits"][:] = ev["straw_hits"]
        cols["straw_max_plane_hits"][:] = ev["straw_max_plane_hits"]
        ok = ev["seg_ok"]
        cols["n_segments"][:] = ok.astype(np.int32)
        for out, src in (("track_x", "seg_x0"), ("track_y", "seg_y0"), ("track_slope_x", "seg_tx"), ("track_slope_y", "seg_ty")):
            cols[out][:] = np.where(ok, ev[src], np.nan)
        state.flag(st.NO_STRAW_SEGMENT, (ev["straw_hits"] > 0) & ~ok)
        state.jagged["straw_hits"] = Columns(
            row=hits["event"].astype(np.int64),
            plane=hits["plane"].astype(np.int16),
            layer=hits["layer"].astype(np.int8),
            tube=hits["tube"].astype(np.int16),
            time=hits["time_ns"].astype(np.float64),
            radius=res.hits["radius"],
        )
