"""Notebook-facing API: ``nr.reconstruct`` on a batch gives the columns the output file holds."""

from __future__ import annotations

import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _pipeline_raw import write_run  # noqa: E402

import na64reco as nr  # noqa: E402
from na64reco.cli import main  # noqa: E402
from na64reco.output import read_events  # noqa: E402
from na64reco.pipeline import EVENT_COLUMNS, JAGGED_COLUMNS, STATUS_BITS  # noqa: E402

DESIGN_COLUMNS = ["run", "spill", "event", "trigger_bits", "e_ecal", "e_prs", "e_hcal", "e_veto", "e_srd",
                  "ecal_x", "ecal_y", "pileup", "in_signal_box", "status"]


@pytest.fixture(scope="module")
def raw_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "run.dat"
    write_run(path, nspills=2, per_spill=30, seed=5)
    return path


def test_reconstruct_batch_equals_the_file_rows(raw_file, tmp_path):
    batch = nr.open_raw(raw_file).read_all()
    reco = nr.reconstruct(batch)
    assert list(reco.events)[: len(DESIGN_COLUMNS)] == DESIGN_COLUMNS
    assert set(reco.jagged) == set(JAGGED_COLUMNS)
    for name, dt in EVENT_COLUMNS.items():
        assert reco.events[name].dtype == np.dtype(dt), name
    out = tmp_path / "out.parquet"
    nr.run_job([raw_file], out, force=True)
    from_file = read_events(out)
    in_memory = reco.to_awkward()
    assert from_file.fields == in_memory.fields
    for field in in_memory.fields:
        a = ak.to_packed(in_memory[field])
        b = ak.to_packed(from_file[field])
        assert ak.to_list(ak.num(a, axis=1) if a.ndim > 1 else len(a)) == ak.to_list(ak.num(b, axis=1) if b.ndim > 1 else len(b))
        np.testing.assert_array_equal(ak.to_numpy(ak.flatten(a, axis=None)), ak.to_numpy(ak.flatten(b, axis=None)), err_msg=field)


def test_status_bits_are_distinct_powers_of_two():
    values = list(STATUS_BITS.values())
    assert len(set(values)) == len(values)
    assert all(v & (v - 1) == 0 for v in values)


def test_root_output_reads_with_plain_uproot(raw_file, tmp_path):
    import uproot

    out = tmp_path / "out.root"
    nr.run_job([raw_file], out, force=True)
    with uproot.open(out) as f:
        tree = f["events"]
        keys = set(tree.keys())
        assert set(DESIGN_COLUMNS) <= keys
        assert {"ncells", "cells_energy", "npulses", "pulses_time", "nstraw_hits", "straw_hits_radius"} <= keys
        assert tree.num_entries == 60
        ncells = tree["ncells"].array(library="np")
        energy = tree["cells_energy"].array()
        assert np.array_equal(ak.to_numpy(ak.num(energy)), ncells)
        assert f["hist_ecal_vs_hcal"].to_hist().ndim == 2
        assert "accounting" in f and "cutflow" in f


def test_scheduler_address_runs_on_a_dask_cluster(raw_file, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask.parquet"
    ref = tmp_path / "ref.parquet"
    assert main(["reco", str(raw_file), "-o", str(ref), "--no-progress", "--events-per-chunk", "20"]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        code = main(["reco", str(raw_file), "-o", str(out), "--no-progress", "--events-per-chunk", "7",
                     "--scheduler", cluster.scheduler_address])
    assert code == 0
    assert "Dask cluster" in capsys.readouterr().out
    assert out.read_bytes() == ref.read_bytes()
    assert main(["reco", str(raw_file), "-o", str(tmp_path / "x.root"), "--no-progress",
                 "--scheduler", "tcp://127.0.0.1:9"]) == 2
