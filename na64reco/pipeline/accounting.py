"""Where every input event went: one count per outcome, each event in exactly one.

Outcomes, in this order:

- ``type:<name>``: a DATE event that is not a physics event (start/end of burst,
  calibration, ...), counted by type;
- ``error:<name>``: a physics event with a decode error, named by its first error;
- ``cut:<name>``: a physics event that decoded cleanly and failed cut ``<name>`` first
  in the cut flow;
- ``selected``: a physics event that passed every cut.

Beside the partition: ``written`` (rows in the output tree: every physics event, rejected
ones flagged), ``errors_by_name`` (every decode error, several per event possible),
``bytes``, ``unreadable_bytes`` and ``files_failed`` (inputs that could not be read).
``check()`` verifies that the outcomes add up to the events read.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Accounting"]


@dataclass
class Accounting:
    events_read: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors_by_name: Counter[str] = field(default_factory=Counter)
    written: int = 0
    bytes_read: int = 0
    unreadable_bytes: int = 0
    files_failed: dict[str, str] = field(default_factory=dict)
    cut_order: list[str] = field(default_factory=list)

    def add(self, other: "Accounting") -> None:
        """Add another chunk's counts (addition: order does not change the totals)."""
        self.events_read += other.events_read
        self.outcomes.update(other.outcomes)
        self.errors_by_name.update(other.errors_by_name)
        self.written += other.written
        self.bytes_read += other.bytes_read
        self.unreadable_bytes += other.unreadable_bytes
        self.files_failed.update(other.files_failed)
        for cut in other.cut_order:
            if cut not in self.cut_order:
                self.cut_order.append(cut)

    @property
    def physics(self) -> int:
        return sum(v for k, v in self.outcomes.items() if not k.startswith("type:"))

    @property
    def with_errors(self) -> int:
        return sum(v for k, v in self.outcomes.items() if k.startswith("error:"))

    @property
    def decoded_clean(self) -> int:
        """Physics events without decode errors (rejected by a cut or selected)."""
        return self.physics - self.with_errors

    @property
    def selected(self) -> int:
        return self.outcomes.get("selected", 0)

    def check(self) -> None:
        """Raise if some event is not in exactly one outcome."""
        total = sum(self.outcomes.values())
        if total != self.events_read:
            raise RuntimeError(
                f"event accounting broken: {self.events_read} events read but outcomes add up to {total}: "
                f"{dict(self.outcomes)}"
            )
        if self.written != self.physics:
            raise RuntimeError(f"event accounting broken: {self.physics} physics events but {self.written} rows written")

    def ordered_outcomes(self) -> list[tuple[str, int]]:
        """Outcomes in reading order: event types, decode errors, cuts in cut-flow order, selected."""
        keys = list(self.outcomes)
        types = sorted(k for k in keys if k.startswith("type:"))
        errors = sorted(k for k in keys if k.startswith("error:"))
        cuts = [f"cut:{c}" for c in self.cut_order if f"cut:{c}" in self.outcomes]
        cuts += sorted(k for k in keys if k.startswith("cut:") and k not in cuts)
        tail = ["selected"] if "selected" in self.outcomes else []
        return [(k, self.outcomes[k]) for k in types + errors + cuts + tail]

    def to_dict(self) -> dict[str, Any]:
        return {
            "events_read": self.events_read,
            "outcomes": dict(self.ordered_outcomes()),
            "errors_by_name": dict(sorted(self.errors_by_name.items())),
            "written": self.written,
            "bytes_read": self.bytes_read,
            "unreadable_bytes": self.unreadable_bytes,
            "files_failed": dict(self.files_failed),
            "cut_order": list(self.cut_order),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Accounting":
        return cls(
            events_read=int(d["events_read"]),
            outcomes=Counter({k: int(v) for k, v in d["outcomes"].items()}),
            errors_by_name=Counter({k: int(v) for k, v in d["errors_by_name"].items()}),
            written=int(d["written"]),
            bytes_read=int(d["bytes_read"]),
            unreadable_bytes=int(d["unreadable_bytes"]),
            files_failed=dict(d["files_failed"]),
            cut_order=list(d["cut_order"]),
        )

    def summary(self) -> str:
        """The end-of-job table people read."""
        lines = [f"events read            {self.events_read:>12,}   ({self.bytes_read / 1e6:,.1f} MB)"]
        types = [(k, v) for k, v in self.ordered_outcomes() if k.startswith("type:")]
        for k, v in types:
            lines.append(f"  {k[5:]:<21}{v:>12,}")
        errs = [(k, v) for k, v in self.ordered_outcomes() if k.startswith("error:")]
        n_err = sum(v for _, v in errs)
        lines.append(f"  physics, decoded     {self.physics - n_err:>12,}")
        lines.append(f"  physics, with errors {n_err:>12,}")
        for k, v in errs:
            lines.append(f"    {k[6:]:<27}{v:>10,}")
        cuts = [(k, v) for k, v in self.ordered_outcomes() if k.startswith("cut:")]
        if cuts:
            lines.append("  rejected by cut (first failed):")
            for k, v in cuts:
                lines.append(f"    {k[4:]:<27}{v:>10,}")
        lines.append(f"  selected (all cuts)  {self.selected:>12,}")
        lines.append(f"written (rows)         {self.written:>12,}")
        if self.errors_by_name:
            lines.append("decode errors by name (all occurrences):")
            for k, v in sorted(self.errors_by_name.items()):
                lines.append(f"    {k:<27}{v:>10,}")
        if self.unreadable_bytes:
            lines.append(f"unreadable bytes       {self.unreadable_bytes:>12,}")
        for path, why in self.files_failed.items():
            lines.append(f"FAILED file {path}: {why}")
        return "\n".join(lines)
