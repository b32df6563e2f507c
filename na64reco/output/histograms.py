"""The standard histograms of a reco job, filled per chunk and summed in input order.

Counts are integers held in int64 arrays, so summing chunk histograms gives the same result
whatever the chunking or the order; ``to_hist`` turns them into ``hist.Hist`` objects
(written to ROOT as TH1D/TH2D by uproot, drawn with mplhep).
"""

from __future__ import annotations

from dataclasses import dataclass

import hist
import numpy as np

__all__ = ["HistSpec", "HISTOGRAMS", "StandardHistograms"]


@dataclass(frozen=True)
class HistSpec:
    name: str
    title: str
    x: tuple[str, int, float, float]  # column label, bins, low, high
    y: tuple[str, int, float, float] | None = None


HISTOGRAMS: tuple[HistSpec, ...] = (
    # The NA64 invisible-mode picture: E_HCAL vs E_ECAL, signal box in the lower left.
    HistSpec("ecal_vs_hcal", "E_{HCAL} vs E_{ECAL}", ("E_ECAL [GeV]", 150, 0.0, 150.0), ("E_HCAL [GeV]", 120, 0.0, 120.0)),
    HistSpec("e_ecal", "ECAL energy", ("E_ECAL [GeV]", 150, 0.0, 150.0)),
    HistSpec("e_hcal", "HCAL energy", ("E_HCAL [GeV]", 120, 0.0, 120.0)),
    HistSpec("pulse_time", "Fitted pulse peak times", ("t [ns]", 160, 0.0, 400.0)),
    HistSpec("ecal_xy", "ECAL centre of gravity", ("x [mm]", 60, -115.0, 115.0), ("y [mm]", 60, -115.0, 115.0)),
)


def _edges(axis: tuple[str, int, float, float]) -> np.ndarray:
    return np.linspace(axis[2], axis[3], axis[1] + 1)


def _bin(values: np.ndarray, axis: tuple[str, int, float, float]) -> np.ndarray:
    """Bin numbers with under/overflow: 0 = underflow, 1..n = bins, n+1 = overflow, -1 = NaN."""
    _, n, lo, hi = axis
    v = np.asarray(values, dtype=np.float64)
    nan = np.isnan(v)
    scaled = np.where(nan, lo - 1.0, v)
    # Clip in float first: huge values would overflow the integer cast.
    pos = np.clip(np.floor((scaled - lo) / (hi - lo) * n), -1, n) + 1
    idx = pos.astype(np.int64)
    idx[nan] = -1
    return idx


class StandardHistograms:
    """int64 counts (flow bins included) of every ``HISTOGRAMS`` entry plus the cut flow."""

    def __init__(self) -> None:
        self.counts: dict[str, np.ndarray] = {}
        for spec in HISTOGRAMS:
            shape = (spec.x[1] + 2,) if spec.y is None else (spec.x[1] + 2, spec.y[1] + 2)
            self.counts[spec.name] = np.zeros(shape, np.int64)
        self.cutflow_labels: list[str] = []
        self.cutflow: np.ndarray = np.zeros(0, np.int64)

    def fill(self, spec_name: str, x: np.ndarray, y: np.ndarray | None = None) -> None:
        spec = next(s for s in HISTOGRAMS if s.name == spec_name)
        ix = _bin(x, spec.x)
        if spec.y is None:
            ok = ix >= 0
            self.counts[spec_name] += np.bincount(ix[ok], minlength=spec.x[1] + 2)
        else:
            assert y is not None
            iy = _bin(y, spec.y)
            ok = (ix >= 0) & (iy >= 0)
            ny = spec.y[1] + 2
            flat = np.bincount(ix[ok] * ny + iy[ok], minlength=(spec.x[1] + 2) * ny)
            self.counts[spec_name] += flat.reshape(spec.x[1] + 2, ny)

    def set_cutflow(self, labels: list[str], counts: np.ndarray) -> None:
        self.cutflow_labels = list(labels)
        self.cutflow = np.asarray(counts, dtype=np.int64).copy()

    def add(self, other: "StandardHistograms") -> None:
        for k, v in other.counts.items():
            self.counts[k] += v
        if other.cutflow_labels:
            if not self.cutflow_labels:
                self.set_cutflow(other.cutflow_labels, np.zeros(len(other.cutflow_labels), np.int64))
            if other.cutflow_labels != self.cutflow_labels:
                raise ValueError(f"cut flows differ: {other.cutflow_labels} vs {self.cutflow_labels}")
            self.cutflow += other.cutflow

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {f"hist/{k}": v for k, v in self.counts.items()}
        out["hist/cutflow"] = self.cutflow
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], cutflow_labels: list[str]) -> "StandardHistograms":
        h = cls()
        for k in h.counts:
            h.counts[k] = np.asarray(arrays[f"hist/{k}"], dtype=np.int64).copy()
        h.set_cutflow(cutflow_labels, arrays["hist/cutflow"])
        return h

    def to_hist(self) -> dict[str, hist.Hist]:
        """``hist.Hist`` objects (flow bins kept) of every histogram and the cut flow."""
        out: dict[str, hist.Hist] = {}
        for spec in HISTOGRAMS:
            axes = [hist.axis.Regular(spec.x[1], spec.x[2], spec.x[3], name="x", label=spec.x[0])]
            if spec.y is not None:
                axes.append(hist.axis.Regular(spec.y[1], spec.y[2], spec.y[3], name="y", label=spec.y[0]))
            h = hist.Hist(*axes, storage=hist.storage.Double(), label=spec.title)
            h.view(flow=True)[...] = self.counts[spec.name]
            out[spec.name] = h
        if self.cutflow_labels:
            h = hist.Hist(hist.axis.StrCategory(self.cutflow_labels, name="cut", label="cut"), storage=hist.storage.Double())
            h.view(flow=False)[...] = self.cutflow
            out["cutflow"] = h
        return out

    def edges(self, spec_name: str) -> tuple[np.ndarray, ...]:
        spec = next(s for s in HISTOGRAMS if s.name == spec_name)
        return (_edges(spec.x),) if spec.y is None else (_edges(spec.x), _edges(spec.y))
