"""Figures from files: what ``na64reco display`` draws (also handy in notebooks)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..config import JobConfig

__all__ = ["event_figure", "waveform_figure", "dqm_figure", "is_reco_output"]


def is_reco_output(path: str | os.PathLike[str]) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return head in (b"root", b"PAR1")


def _first_physics(path: str | os.PathLike[str]) -> int:
    from ..pipeline.chunks import read_headers

    data = Path(path).read_bytes()
    events, _ = read_headers(data)
    physics = np.flatnonzero(events["type"] == 7)
    if not physics.size:
        raise ValueError(f"{path}: no physics event")
    return int(physics[0])


def event_figure(path: str | os.PathLike[str], event: int | None, config: JobConfig | None = None) -> Figure:
    """Event display of DATE event ``event`` of a raw file, or of row ``event`` of a reco output."""
    from .event_display import plot_event

    if is_reco_output(path):
        from ..output import read_events

        rows = read_events(path)
        k = 0 if event is None else event
        if not 0 <= k < len(rows):
            raise ValueError(f"{path}: no row {k}; the output has rows 0..{len(rows) - 1}")
        return plot_event(rows[k])
    from ..pipeline.single import reconstruct_event

    index = _first_physics(path) if event is None else event
    reco, _ = reconstruct_event(path, index, config)
    return plot_event(reco.to_awkward()[0])


def waveform_figure(path: str | os.PathLike[str], event: int | None, config: JobConfig | None = None) -> Figure:
    """Samples and fitted pulses of the largest channel of DATE event ``event`` (raw file)."""
    from ..pipeline.single import reconstruct_event
    from .waveform import plot_waveform

    if is_reco_output(path):
        raise ValueError(f"{path} is a reco output; --waveform needs the raw file (samples are not stored)")
    index = _first_physics(path) if event is None else event
    reco, raw = reconstruct_event(path, index, config)
    sadc = raw.sadc
    if not sadc.nrows:
        raise ValueError(f"{path}: DATE event {index} has no MSADC channel")
    samples = sadc["samples"].astype(float)
    k = int(np.argmax(samples.max(axis=1) - np.median(samples[:, :4], axis=1)))
    n = int(sadc["nsamples"][k])
    pulses, template, label = _pulses_of(reco, sadc, k)
    title = (
        f"event {index}: source {int(sadc['source_id'][k])} port {int(sadc['port'][k])} "
        f"chip {int(sadc['chip'][k])} channel {int(sadc['channel'][k])}{label}"
    )
    return plot_waveform(samples[k, :n], pulses, template=template, title=title)


def _pulses_of(reco: Any, sadc: Any, k: int) -> tuple[dict[str, np.ndarray] | None, Any, str]:
    """Fitted pulses of digit ``k`` when the fit stage stored them (with its digit index)."""
    pulses = reco.jagged.get("pulses")
    if pulses is None or not pulses.nrows or "digit" not in pulses:
        return None, None, ""
    sel = pulses["digit"] == k
    if not np.any(sel):
        return None, None, ""
    from ..pipeline.stages import template_for_plane

    plane = int(pulses["plane"][sel][0])
    return (
        {"amplitude": pulses["amplitude"][sel], "time_ns": pulses["time"][sel]},
        template_for_plane(plane),
        f" (plane {plane})",
    )


def dqm_figure(path: str | os.PathLike[str], config: JobConfig | None = None) -> Figure:
    """The standard DQM plots of a reco output."""
    from ..output import read_histograms
    from .dqm import plot_dqm

    if not is_reco_output(path):
        raise ValueError(f"{path} is not a reco output (.root/.parquet); run `na64reco reco` first")
    cfg = config or JobConfig()
    box: tuple[float, float] | None = None
    try:
        from ..pipeline.stages import SelectionStage

        box = SelectionStage(cfg).signal_box()
    except ImportError:
        box = None
    return plot_dqm(read_histograms(path), box=box)
