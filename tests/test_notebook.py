"""The example notebook runs top to bottom on a small simulated run and draws its figures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def test_quickstart_notebook_executes(tmp_path, monkeypatch):
    pytest.importorskip("na64reco.sim", reason="the notebook simulates its run with na64reco.sim")
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    import na64reco

    # The kernel must import the same na64reco as this test: an installed one, or the
    # in-place build of the working tree.
    package_root = str(Path(na64reco.__file__).resolve().parents[1])
    monkeypatch.setenv("NA64RECO_NB_EVENTS", "400")
    monkeypatch.setenv("NA64RECO_NB_DIR", str(tmp_path / "nb"))
    monkeypatch.setenv("PYTHONPATH", package_root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 4, "event display, waveform, DQM and truth comparison are drawn inline"
    assert (tmp_path / "nb" / "reco.root").exists()
