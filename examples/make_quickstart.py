"""Regenerate quickstart.ipynb (the notebook is committed; this keeps its source reviewable).

    python examples/make_quickstart.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    ("md", """# na64reco quick start

Simulate a small NA64 run, decode and reconstruct it from Python, draw an event and a
waveform, run the full reconstruction job to a ROOT file and read it back.

Set `NA64RECO_NB_EVENTS` to change the size of the run (CI runs it with a few hundred)."""),
    ("code", """%matplotlib inline
import os
from pathlib import Path

import numpy as np
import awkward as ak
import uproot

import na64reco as nr
from na64reco import plotting, output

N_EVENTS = int(os.environ.get("NA64RECO_NB_EVENTS", "3000"))
workdir = Path(os.environ.get("NA64RECO_NB_DIR", "na64reco-notebook"))
workdir.mkdir(exist_ok=True)
raw_path, truth_path = workdir / "run.dat", workdir / "truth.parquet"
for stale in [raw_path, truth_path, *workdir.glob("truth.*.parquet")]:
    stale.unlink(missing_ok=True)"""),
    ("md", "## 1. Simulate a run (fixed seed: same bytes every time)"),
    ("code", """from na64reco.sim import simulate

summary = simulate(N_EVENTS, 1, raw_path, truth=truth_path)
summary"""),
    ("md", "## 2. Decode a batch: numpy columns, no Python object per event"),
    ("code", """raw = nr.open_raw(raw_path)
batch = next(raw.batches(1000))
print(batch)
batch.events"""),
    ("md", """## 3. Reconstruct the batch

`nr.reconstruct` runs the whole chain (waveform fits, calibration, clusters, straws, trigger
emulation, selection) and returns the same columns the ROOT file holds."""),
    ("code", """reco = nr.reconstruct(batch)
events = reco.to_awkward()
print(len(events), "physics events;", len(events.fields), "columns")
events[["run", "spill", "event", "e_ecal", "e_hcal", "e_prs", "ecal_x", "ecal_y", "status"]][:5].tolist()"""),
    ("md", "## 4. Event display of the most energetic shower"),
    ("code", """k = int(np.argmax(np.nan_to_num(ak.to_numpy(events.e_ecal), nan=-1)))
plotting.plot_event(events[k])"""),
    ("md", "## 5. A waveform with its fitted pulses"),
    ("code", """from na64reco.pipeline.single import reconstruct_event
from na64reco.plotting.draw import waveform_figure

with_digits = int(batch.events["index"][batch.sadc["event"][np.argmax(batch.sadc["samples"].max(axis=1))]])
waveform_figure(raw_path, with_digits)"""),
    ("md", "## 6. The full job: chunks, (optionally) processes, ROOT output with histograms and accounting"),
    ("code", """out = workdir / "reco.root"
result = nr.run_job([raw_path], out, jobs=1, force=True)
print(result.summary())"""),
    ("md", "## 7. Read it back with plain uproot: the same columns as `nr.reconstruct`"),
    ("code", """with uproot.open(out) as f:
    tree = f["events"]
    arrays = tree.arrays(["run", "event", "e_ecal", "e_hcal", "ncells", "cells_energy"])
    print(tree.num_entries, "rows;", sorted(tree.keys())[:12], "...")
first = len(events)
same = np.array_equal(ak.to_numpy(arrays.e_ecal[:first]), ak.to_numpy(events.e_ecal), equal_nan=True)
print("first batch identical to nr.reconstruct:", same)
output.read_accounting(out)"""),
    ("md", "## 8. Standard DQM plots: E_HCAL vs E_ECAL with the signal box, E_ECAL, pulse times, cut flow"),
    ("code", """plotting.plot_dqm(output.read_histograms(out))"""),
    ("md", "## 9. Compare with the simulation truth"),
    ("code", """import pyarrow.parquet as pq

reco_all = output.read_events(out)
t = pq.read_table(truth_path)
key = lambda r, s, e: (np.asarray(r, np.int64) << 40) | (np.asarray(s, np.int64) << 20) | np.asarray(e, np.int64)
truth_key = key(t["run"].to_numpy(), t["spill"].to_numpy(), t["event"].to_numpy())
reco_key = key(ak.to_numpy(reco_all.run), ak.to_numpy(reco_all.spill), ak.to_numpy(reco_all.event))
common, it, ir = np.intersect1d(truth_key, reco_key, return_indices=True)
from matplotlib.figure import Figure
fig = Figure(figsize=(5, 4), layout="constrained")
ax = fig.add_subplot()
# truth energies are MeV (na64reco.sim), the reco output's GeV
ax.plot(t["e_ecal_true"].to_numpy()[it] / 1000.0, ak.to_numpy(reco_all.e_ecal)[ir], ".", ms=2)
ax.set_xlabel("true E$_{ECAL}$ [GeV]"); ax.set_ylabel("reconstructed E$_{ECAL}$ [GeV]")
print(len(common), "events matched to the truth")
fig"""),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


if __name__ == "__main__":
    target = Path(__file__).with_name("quickstart.ipynb")
    nbformat.write(build(), target)
    print(f"wrote {target}")
