"""The calorimeter stage: calibrated cells, clusters and event variables from the fitted pulses."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from ..columns import Columns
from ..config import JobConfig
from . import status as st
from .chain import EventState
from .stage_common import _PerRun, _split_runs


class CaloStage:
    """Calibrated cells, ECAL clusters and the calorimeter event variables."""

    name = "calo"

    def __init__(self, config: JobConfig) -> None:
        from ..calo import CaloConfig

        self.config = config
        data_dir = config["detector"]["data_dir"] or None
        self.calibration = _PerRun(lambda run: calo_calibration(run, data_dir))
        from ..calo.fit_bounds import BOUND_PLANES, REFIT_PLANES
        from ..waveform import load_template

        template_dir = config["waveform"]["template_dir"]

        def templates(planes: dict[str, str]) -> dict[str, Any]:
            return {p: load_template(str(Path(template_dir) / f"{k}.txt") if template_dir else k) for p, k in planes.items()}

        from ..calo.fit_bounds import SEEDED_PLANES
        from ..calo.fit_options import fit_options
        from ..calo.seeded_refit import SeededPlane
        from ..waveform import WaveformFitter

        noise = float(config["waveform"]["noise_rms"])
        seeded = {}
        for (plane, (kind, seed_planes, fixed)), tpl in zip(SEEDED_PLANES.items(), templates(
                {p: k for p, (k, _, _) in SEEDED_PLANES.items()}).values()):  # fmt: skip
            # pulses up to four samples past the window: a particle arriving at its end
            fitter = WaveformFitter(tpl, sampling_ns=12.5, noise_rms=noise, **{**fit_options(kind), "post_window_ns": 50.0})
            seeded[plane] = SeededPlane(fitter, seed_planes, fixed_times=fixed, bounds=plane in BOUND_PLANES)
        self.calo_config = CaloConfig(
            pileup_threshold_mev=1000.0, refit_templates=templates(REFIT_PLANES), bound_templates=templates(BOUND_PLANES),
            # the pre-shower only: measuring the main section's quiet cells as well added
            # pile-up tails to E_ECAL (signal efficiency at 3 MHz 0.886 -> 0.880)
            seeded_fitters=seeded, quiet_templates=templates({"ECAL0": "ecal"}),
        )

    def available(self) -> bool:
        return True

    def __call__(self, state: EventState) -> None:
        from ..calo import plane_presence, reconstruct_calo

        if state.n == 0:
            return
        pulses = state.extras.get("pulses")
        digits = state.extras.get("digits")
        if pulses is None or digits is None:
            state.flag(st.STAGE_MISSING)
            return
        n = state.n
        cols = state.columns
        cell_rows: list[Columns] = []
        cluster_rows: list[Columns] = []
        state.extras["calo"] = []  # (event rows, CaloResult) per run: for studies beyond the output
        for run, rows in _split_runs(state):
            calib = self.calibration(run)
            layout = calib.layout
            suspects = state.extras.get("suspects")
            failed = state.extras.get("failed_planes")
            sub_f = None if failed is None else failed[rows]
            if rows.size == n:
                sub_p, sub_d, sub_s = pulses, digits, suspects
                index = rows
            else:
                remap = np.full(n, -1, np.int64)
                remap[rows] = np.arange(rows.size)
                sub_p = pulses.take(remap[pulses["event"]] >= 0)
                sub_p = sub_p.with_columns(event=remap[sub_p["event"]])
                sub_d = digits.take(remap[digits["event"]] >= 0)
                sub_d = sub_d.with_columns(event=remap[sub_d["event"]])
                sub_s = None
                if suspects is not None:
                    sub_s = suspects.take(remap[suspects["event"]] >= 0)
                    sub_s = sub_s.with_columns(event=remap[sub_s["event"]])
                index = rows
            present = plane_presence(sub_d["event"], sub_d["plane"], rows.size, len(layout.planes))
            res = reconstruct_calo(sub_p, rows.size, calib, spills=cols["spill"][rows], present=present, config=self.calo_config,
                                  suspects=sub_s, failed=sub_f, digits=sub_d)
            state.extras["calo"].append((index, res))
            ev = res.events
            for name in ("e_ecal", "e_prs", "e_hcal", "e_veto", "e_srd", "ecal_x", "ecal_y", "e_ecal_3x3", "ecal_chi2", "hcal_r"):
                cols[name][index] = ev[name]
            cols["pileup"][index] = ev["pileup"]
            cols["e_pileup"][index] = ev["e_pileup"]
            cols["ecal_max_x"][index] = ev["ecal_max_x"]
            cols["ecal_max_y"][index] = ev["ecal_max_y"]
            cols["master_time"][index] = ev["master_time_ns"]
            cols["n_clusters"][index] = ev["ecal_nclusters"]
            cols["calo_status"][index] = ev["calo_status"]
            for name in ("e_bad", "ecal_chi2_ndf", "veto_max", "srd_min", "calo_missing", "e_ecal_max", "e_hcal_max",
                         "veto_max_bound"):
                cols[name][index] = ev[name]
            # cells with in-time energy: dense (event, cell) -> sparse rows
            e_rows, cells = np.nonzero(res.e_in > 0)
            begin = layout.begin
            p = np.searchsorted(begin, cells, side="right") - 1
            ny = np.array([q[2] for q in layout.planes])[p]
            local = cells - begin[p]
            cell_rows.append(
                Columns(
                    row=index[e_rows],
                    plane=p.astype(np.int16),
                    x=(local // ny).astype(np.int16),
                    y=(local % ny).astype(np.int16),
                    energy=res.e_in[e_rows, cells],
                    time=res.t_cell[e_rows, cells],
                )
            )
            cl = res.clusters
            cluster_rows.append(
                Columns(
                    row=index[cl["event"]],
                    energy=cl["energy"],
                    x=cl["x"],
                    y=cl["y"],
                    ncells=cl["n_cells"].astype(np.int16),
                    pileup=cl["pileup"],
                )
            )
        state.jagged["cells"] = _sorted_by_row(Columns.concatenate(cell_rows))
        state.jagged["clusters"] = _sorted_by_row(Columns.concatenate(cluster_rows))
        state.flag(st.PILEUP, cols["pileup"])
        state.flag(st.NO_ECAL, (cols["calo_status"] & 1) != 0)


@functools.lru_cache(maxsize=8)
def calo_calibration(run: int, data_dir: str | None = None) -> Any:
    """The calorimeter calibration of a run: gains and LED corrections from the detector
    description (``na64reco.detector``), time means and widths from the calorimeter's file.
    Built once per run and process (the fit and calorimeter stages share it; read only)."""
    from ..calo import calibration_from_setup
    from ..detector import load_setup

    return calibration_from_setup(run, setup=load_setup(run, data_dir=data_dir))


def _sorted_by_row(t: Columns) -> Columns:
    rows = t["row"]
    if rows.size > 1 and np.any(rows[1:] < rows[:-1]):
        return t.take(np.argsort(rows, kind="stable"))
    return t
