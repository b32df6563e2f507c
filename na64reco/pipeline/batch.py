"""What the reconstruction of one batch returns: the output file's columns, in memory.

``RecoBatch.events`` has one row per physics event (the flat branches of the TTree
``events``); ``RecoBatch.jagged[name]`` is a table whose column ``row`` is the event's row
in ``events`` (sorted), its other columns become the jagged branches ``<name>_<column>``
with the counter ``n<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..columns import Columns

if TYPE_CHECKING:
    import awkward as ak

__all__ = ["RecoBatch", "EVENT_COLUMNS", "JAGGED_COLUMNS"]

# Flat columns of the ``events`` tree, in output order, with their dtypes. The first
# fourteen are the names fixed by the design; the rest are added freely.
EVENT_COLUMNS: dict[str, str] = {
    "run": "u4",
    "spill": "u4",
    "event": "u4",
    "trigger_bits": "u8",
    "e_ecal": "f8",
    "e_prs": "f8",
    "e_hcal": "f8",
    "e_veto": "f8",
    "e_srd": "f8",
    "ecal_x": "f8",
    "ecal_y": "f8",
    "pileup": "?",
    "in_signal_box": "?",
    "status": "u4",
    "event_in_spill": "u4",
    "file_index": "i4",
    "event_index": "i8",
    "time": "u4",
    "trigger_emulated": "u8",
    "n_errors": "u4",
    "cut_failed": "i2",
    "e_ecal_3x3": "f8",
    "ecal_chi2": "f8",
    "ecal_max_x": "i2",
    "ecal_max_y": "i2",
    "hcal_r": "f8",
    "master_time": "f8",
    "e_pileup": "f8",
    "e_bad": "f8",
    "calo_status": "u4",
    "calo_missing": "u4",
    "e_ecal_max": "f8",
    "e_hcal_max": "f8",
    "veto_max_bound": "f8",
    "ecal_chi2_ndf": "f8",
    "veto_max": "f8",
    "srd_min": "f8",
    "straw_max_plane_hits": "i4",
    "selected": "?",
    "n_clusters": "i4",
    "n_straw_hits": "i4",
    "n_segments": "i4",
    "track_x": "f8",
    "track_y": "f8",
    "track_slope_x": "f8",
    "track_slope_y": "f8",
}

# Jagged tables and their columns (besides ``row``).
# Per-object quantities in single precision (7 digits: far below every resolution, a
# hundredth of an MeV on a 100 GeV cell), as ROOT files of this kind keep them: the pulses
# alone were 40 % of the file in double precision. Event-level quantities stay double.
JAGGED_COLUMNS: dict[str, dict[str, str]] = {
    "cells": {"plane": "i2", "x": "i2", "y": "i2", "energy": "f4", "time": "f4"},
    "pulses": {"plane": "i2", "x": "i2", "y": "i2", "amplitude": "f4", "time": "f4", "chi2": "f4", "hinted": "?"},
    "clusters": {"energy": "f4", "x": "f4", "y": "f4", "ncells": "i2", "pileup": "?"},
    "straw_hits": {"plane": "i2", "layer": "i1", "tube": "i2", "time": "f4", "radius": "f4"},
}


def empty_jagged(name: str, n: int = 0) -> Columns:
    cols = {"row": np.zeros(n, np.int64)}
    cols.update({k: np.zeros(n, np.dtype(dt)) for k, dt in JAGGED_COLUMNS[name].items()})
    return Columns(cols)


@dataclass
class RecoBatch:
    events: Columns
    jagged: dict[str, Columns] = field(default_factory=dict)

    @property
    def nevents(self) -> int:
        return self.events.nrows

    def counts(self, name: str) -> np.ndarray:
        rows = self.jagged[name]["row"]
        return np.bincount(rows, minlength=self.nevents).astype(np.int64) if rows.size else np.zeros(self.nevents, np.int64)

    def awkward(self, name: str) -> ak.Array:
        """Jagged table ``name`` as an awkward array of records, one list per event."""
        import awkward as ak

        table = self.jagged[name]
        fields = {k: v for k, v in table.items() if k != "row"}
        return ak.unflatten(ak.zip(fields, depth_limit=1), self.counts(name))

    def to_awkward(self) -> ak.Array:
        """The whole batch as one awkward record array (what the output file holds)."""
        import awkward as ak

        fields = dict(self.events.items())
        for name in self.jagged:
            fields[name] = self.awkward(name)
        return ak.zip(fields, depth_limit=1)

    def take(self, index: np.ndarray) -> "RecoBatch":
        """Events ``index`` (sorted integer rows) with their jagged rows, renumbered."""
        index = np.asarray(index, dtype=np.int64)
        new_row = np.full(self.nevents, -1, np.int64)
        new_row[index] = np.arange(index.size)
        jagged = {}
        for name, table in self.jagged.items():
            mapped = new_row[table["row"]] if table.nrows else np.zeros(0, np.int64)
            keep = mapped >= 0
            jagged[name] = table.take(keep).with_columns(row=mapped[keep])
        return RecoBatch(self.events.take(index), jagged)

    def slice(self, start: int, stop: int) -> "RecoBatch":
        """Events ``start:stop`` as views (jagged tables are sorted by ``row``)."""
        jagged = {}
        for name, table in self.jagged.items():
            rows = table["row"]
            lo, hi = np.searchsorted(rows, [start, stop])
            part = table.take(slice(int(lo), int(hi)))
            jagged[name] = part.with_columns(row=part["row"] - start) if start else part
        return RecoBatch(self.events.take(slice(start, stop)), jagged)

    @staticmethod
    def concatenate(parts: list["RecoBatch"]) -> "RecoBatch":
        """Stack batches in the given order (rows of jagged tables shifted accordingly)."""
        if not parts:
            raise ValueError("nothing to concatenate")
        events = Columns.concatenate([p.events for p in parts])
        jagged = {}
        for name in parts[0].jagged:
            shifted = []
            base = 0
            for p in parts:
                t = p.jagged[name]
                shifted.append(t.with_columns(row=t["row"] + base))
                base += p.nevents
            jagged[name] = Columns.concatenate(shifted)
        return RecoBatch(events, jagged)
