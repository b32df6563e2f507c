"""The selection stage: the cut flow over the event variables."""

from __future__ import annotations

from ..config import JobConfig
from .chain import EventState


class SelectionStage:
    """The cut flow of ``na64reco.selection`` (file from ``[cuts] file``), in file order."""

    name = "selection"

    def __init__(self, config: JobConfig) -> None:
        from ..selection import CutFlow

        self.cutflow = CutFlow.load(config["cuts"]["file"] or None)
        from .batch import EVENT_COLUMNS

        missing = [v for v in self.cutflow.variables if v not in EVENT_COLUMNS]
        if missing:
            from ..config import ConfigError

            raise ConfigError(
                f"cut file {config['cuts']['file'] or 'default'} uses {', '.join(missing)}, which the reco output "
                f"does not have; event columns are {', '.join(EVENT_COLUMNS)}"
            )

    def available(self) -> bool:
        return True

    def __call__(self, state: EventState) -> None:
        result = self.cutflow.apply(state.columns)
        ev = result.events
        for cut in self.cutflow.cuts:
            state.cuts[cut.name] = ev[f"pass_{cut.name}"]
        state.columns["in_signal_box"][:] = ev["in_signal_box"]
        state.columns["selected"][:] = ev["selected"]

    def signal_box(self) -> tuple[float, float] | None:
        """(E_ECAL, E_HCAL) upper limits of the box cuts, for drawing."""
        limits: dict[str, float] = {}
        for cut in self.cutflow.cuts:
            if cut.in_box:
                for cond in cut.conditions:
                    if cond.op in ("<", "<=") and cond.variable in ("e_ecal", "e_hcal"):
                        limits[cond.variable] = cond.value
        if "e_ecal" in limits and "e_hcal" in limits:
            return limits["e_ecal"], limits["e_hcal"]
        return None
