"""``na64reco demo``: simulate a small run, reconstruct it, draw it. The first thing to run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import JobConfig
from .job import JobResult, run_job

__all__ = ["DemoResult", "run_demo"]


@dataclass
class DemoResult:
    directory: Path
    raw: Path
    truth: Path
    output: Path
    event_png: Path
    dqm_png: Path
    job: JobResult
    simulate_s: float

    def report(self) -> str:
        return "\n".join(
            [
                self.job.summary(),
                "",
                f"simulated {self.raw} in {self.simulate_s:.1f} s (truth: {self.truth})",
                f"reconstructed events: {self.output}",
                f"event display:        {self.event_png}",
                f"DQM plots:            {self.dqm_png}",
                "",
                "next: na64reco display " + str(self.raw) + " --event 5 -o event5.png",
                "      python -c \"import na64reco.output as o; print(o.read_events('" + str(self.output) + "'))\"",
            ]
        )


def _pick_event(path: Path) -> int:
    """Row worth drawing: a clean signal-box candidate with a straw segment if there is one,
    else a typical beam electron (E_ECAL nearest the median of the showers) with a segment."""
    from ..output import read_events

    ev = read_events(path)
    e = np.nan_to_num(ev["e_ecal"].to_numpy(), nan=-1.0)
    if not e.size:
        return 0
    # status 0: no saturated or failed fit, no pile-up (a saturated central cell loses its
    # energy and fakes a signal-box event)
    segment = (ev["n_segments"].to_numpy() > 0) & (ev["status"].to_numpy() == 0)
    candidates = np.flatnonzero(ev["in_signal_box"].to_numpy() & segment & (e > 0))
    if candidates.size:
        return int(candidates[0])
    showers = np.flatnonzero((e > 10.0) & segment)
    if not showers.size:
        return int(np.argmax(e))
    median = np.median(e[showers])
    return int(showers[np.argmin(np.abs(e[showers] - median))])


def run_demo(directory: str | Path = "na64reco-demo", n_events: int = 3000, seed: int = 1, jobs: int = 1, progress: bool = False) -> DemoResult:
    """Simulate ``n_events`` (fixed seed) into ``directory``, reconstruct to ROOT, draw."""
    try:
        from ..sim import simulate
    except ImportError as exc:
        raise RuntimeError(f"the demo needs the simulator (na64reco.sim), which this build lacks: {exc}") from None
    from ..output import read_events, read_histograms
    from ..plotting import plot_dqm, plot_event, save

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    raw = d / "run.dat"
    truth = d / "truth.parquet"
    out = d / "reco.root"
    t0 = time.perf_counter()
    for stale in [raw, truth, *d.glob("truth.*.parquet")]:
        stale.unlink(missing_ok=True)
    simulate(n_events, seed, raw, truth=truth)
    t_sim = time.perf_counter() - t0
    job = run_job([raw], out, JobConfig(), jobs=jobs, force=True, progress=progress)
    row = _pick_event(out)
    event_png = save(plot_event(read_events(out)[row]), d / "event.png")
    from .stages import SelectionStage

    box = SelectionStage(JobConfig()).signal_box()
    dqm_png = save(plot_dqm(read_histograms(out), box=box), d / "dqm.png")
    return DemoResult(d, raw, truth, out, event_png, dqm_png, job, t_sim)
