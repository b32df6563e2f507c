"""Event display, waveform and DQM figures: drawn from arrays, saved as PNG, from the CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _pipeline_raw import write_run  # noqa: E402

from na64reco.cli import main  # noqa: E402
from na64reco.output import StandardHistograms  # noqa: E402
from na64reco.plotting import plot_dqm, plot_event, plot_waveform, save  # noqa: E402
from na64reco.plotting.event_display import _grid  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _event():
    cells = {
        "plane": np.array([0, 1, 1, 2, 6], np.int16),
        "x": np.array([2, 2, 3, 1, 4], np.int16),
        "y": np.array([3, 3, 3, 1, 0], np.int16),
        "energy": np.array([800.0, 60000.0, 9000.0, 300.0, 2.0]),
        "time": np.zeros(5),
    }
    hits = {"plane": np.array([0, 0, 1]), "layer": np.array([0, 1, 0]), "tube": np.array([10, 10, 11]),
            "time": np.zeros(3), "radius": np.array([1.0, 2.0, 0.5])}
    row = {"run": 3661, "spill": 2, "event": 17, "trigger_bits": 1, "e_ecal": 69.0, "e_prs": 0.8, "e_hcal": 0.3,
           "e_veto": 0.002, "ecal_x": 5.0, "ecal_y": 10.0, "status": 0, "in_signal_box": False,
           "track_x": 60.0, "track_slope_x": 1.5, "n_straw_hits": 3, "n_segments": 1,
           "cells": [dict(zip(cells, v)) for v in zip(*cells.values())],
           "straw_hits": [dict(zip(hits, v)) for v in zip(*hits.values())]}
    return ak.Array([row])[0]


def test_cell_grid_places_energies_in_gev():
    ev = _event()
    cells = {k: np.asarray(ev["cells"][k]) for k in ("plane", "x", "y", "energy")}
    grid = _grid(cells, "ECAL1")
    assert grid.shape == (6, 6)
    assert grid[3, 2] == pytest.approx(60.0) and grid[3, 3] == pytest.approx(9.0)
    assert grid.sum() == pytest.approx(69.0)
    assert _grid(cells, "VETO").ravel()[4] == pytest.approx(0.002)


def test_event_display_and_waveform_save_png(tmp_path):
    fig = plot_event(_event())
    titles = [ax.get_title() for ax in fig.axes]
    assert any("E_ECAL=69" in t for t in titles)
    assert "event 17" in fig._suptitle.get_text()
    assert save(fig, tmp_path / "ev.png").read_bytes()[:8] == PNG

    t = np.arange(32) * 12.5
    samples = 100 + 800 * np.exp(-0.5 * ((t - 150) / 20) ** 2)
    tpl = (np.linspace(-50, 100, 301), np.exp(-0.5 * (np.linspace(-50, 100, 301) / 20) ** 2))
    fig = plot_waveform(samples, {"amplitude": [800.0], "time_ns": [150.0]}, template=tpl, pedestal=100.0)
    ax = fig.axes[0]
    fit = next(line for line in ax.get_lines() if line.get_label() == "fit (sum)")
    x, y = fit.get_data()
    assert y.max() == pytest.approx(900.0, rel=1e-3) and x[np.argmax(y)] == pytest.approx(150.0, abs=1.0)
    assert save(fig, tmp_path / "wf.png").read_bytes()[:8] == PNG


def test_dqm_from_histograms(tmp_path):
    h = StandardHistograms()
    rng = np.random.default_rng(3)
    h.fill("ecal_vs_hcal", rng.uniform(0, 100, 500), rng.uniform(0, 20, 500))
    h.fill("e_ecal", rng.uniform(0, 100, 500))
    h.fill("pulse_time", rng.uniform(0, 400, 500))
    h.set_cutflow(["physics", "decoded", "e_ecal"], np.array([500, 490, 10]))
    hists = h.to_hist()
    assert hists["ecal_vs_hcal"].values().sum() == 500
    fig = plot_dqm(hists)
    assert len(fig.axes) >= 4
    assert save(fig, tmp_path / "dqm.png").read_bytes()[:8] == PNG


def test_display_cli_on_raw_and_output(tmp_path, capsys):
    raw = tmp_path / "run.dat"
    write_run(raw, nspills=1, per_spill=6)
    out = tmp_path / "reco.root"
    assert main(["display", str(raw), "--event", "2", "-o", str(tmp_path / "e.png")]) == 0
    assert (tmp_path / "e.png").read_bytes()[:8] == PNG
    assert main(["display", str(raw), "--event", "2", "-o", str(tmp_path / "e.png")]) == 2
    assert main(["display", str(raw), "--event", "0", "-o", str(tmp_path / "sob.png")]) == 2
    assert "start_of_burst" in capsys.readouterr().err
    assert main(["display", str(raw), "--event", "99", "-o", str(tmp_path / "x.png")]) == 2
    import na64reco as nr

    batch = nr.open_raw(raw).read_all()
    with_digits = int(batch.events["index"][batch.sadc["event"][0]])
    assert main(["display", str(raw), "--waveform", "--event", str(with_digits), "-o", str(tmp_path / "w.png")]) == 0
    assert (tmp_path / "w.png").read_bytes()[:8] == PNG
    from na64reco.plotting.draw import waveform_figure

    labels = [line.get_label() for line in waveform_figure(raw, with_digits).axes[0].get_lines()]
    assert labels[:2] == ["samples", "pedestal"] and "fit (sum)" in labels and any(x.startswith("pulse 1") for x in labels)
    assert main(["reco", str(raw), "-o", str(out), "--no-progress"]) == 0
    assert main(["display", str(out), "--dqm", "-o", str(tmp_path / "d.png")]) == 0
    assert main(["display", str(out), "--event", "1", "-o", str(tmp_path / "r.png")]) == 0
    assert (tmp_path / "r.png").read_bytes()[:8] == PNG
