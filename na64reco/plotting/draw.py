"""Figures from files: what ``na64reco display`` draws (also handy in notebooks)."""

from __future__ import annotations

import os
from pathlib import Path

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
    """Samples and fitted pulses of the largest channel of DATE event ``event`` (raw file),
    fitted as the reconstruction fits it (the template of the channel's detector)."""
    from ..pipeline.single import decode_event
    from ..pipeline.stages import FitStage, template_kind
    from .waveform import plot_waveform

    if is_reco_output(path):
        raise ValueError(f"{path} is a reco output; --waveform needs the raw file (samples are not stored)")
    index = _first_physics(path) if event is None else event
    raw = decode_event(path, index)
    sadc = raw.sadc
    if not sadc.nrows:
        raise ValueError(f"{path}: DATE event {index} has no MSADC channel")
    samples = sadc["samples"].astype(float)
    k = int(np.argmax(samples.max(axis=1) - np.median(samples[:, :4], axis=1)))
    n = int(sadc["nsamples"][k])
    stage = FitStage(config or JobConfig())
    run = int(raw.events["run"][0])
    digit = stage.setup(run).annotate_sadc(sadc.take(slice(k, k + 1)))
    plane = int(digit["plane"][0])
    kind = template_kind(plane) if plane >= 0 else "counter"
    fitter = stage.fitters[kind]
    res = fitter.fit(sadc["samples"][k : k + 1], nsamples=sadc["nsamples"][k : k + 1])
    p = res.pulses
    pulses = {"amplitude": p["amplitude"], "time_ns": p["time_ns"]}
    w = res.waves
    pedestal = (float(w["pedestal_even"][0]), float(w["pedestal_odd"][0]))
    where = f"plane {plane} ({kind} template)" if plane >= 0 else "unmapped channel"
    title = (
        f"event {index}: source {int(sadc['source_id'][k])} port {int(sadc['port'][k])} chip {int(sadc['chip'][k])} "
        f"channel {int(sadc['channel'][k])}\n{where}, chi2/ndf {float(w['chi2'][0]):.1f}/{int(w['ndf'][0])}"
    )
    return plot_waveform(samples[k, :n], pulses, template=fitter.template, pedestal=pedestal, title=title)


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
