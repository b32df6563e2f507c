"""The reco job: accounting, chunking/parallelism invariance, atomic output, resume, bad input."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _pipeline_raw import date_events, write_run  # noqa: E402
from na64reco.config import load_config
from na64reco.output import OutputExistsError, read_accounting, read_events, read_histograms
from na64reco.pipeline import NothingReadError, StrictModeError, run_job
from na64reco.pipeline import executors as executors_module


@pytest.fixture(scope="module")
def run_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("raw")
    a, b = d / "a.dat", d / "b.dat"
    na = write_run(a, nspills=3, per_spill=40, seed=1)
    nb = write_run(b, nspills=2, per_spill=25, run=3662, seed=2)
    return [a, b], na + nb


def _cfg(**kw):
    return load_config(overrides={"job.events_per_chunk": 17, "output.rows_per_basket": 23, **kw})


def assert_same_arrays(a: ak.Array, b: ak.Array) -> None:
    """Same structure and the same bytes in every buffer (NaN compares equal to itself)."""
    fa, na, ba = ak.to_buffers(ak.to_packed(a))
    fb, nb, bb = ak.to_buffers(ak.to_packed(b))
    assert fa == fb and na == nb
    assert ba.keys() == bb.keys()
    for key in ba:
        assert np.asarray(ba[key]).tobytes() == np.asarray(bb[key]).tobytes(), key


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_event_is_counted_once_and_stored(run_files, tmp_path):
    inputs, ntotal = run_files
    res = run_job(inputs, tmp_path / "out.root", _cfg())
    acc = res.accounting
    assert acc.events_read == ntotal
    assert sum(acc.outcomes.values()) == ntotal
    assert acc.outcomes["type:start_of_burst"] == 5 and acc.outcomes["type:end_of_burst"] == 5
    assert acc.written == ntotal - 10 == acc.physics
    stored = read_accounting(res.output)
    assert stored["events_read"] == ntotal and stored["written"] == acc.written
    events = read_events(res.output)
    assert len(events) == acc.written
    # rows are in input order: file 0 then file 1, event index increasing within a file
    fi = events.file_index.to_numpy()
    assert np.all(np.diff(fi) >= 0)
    for f in (0, 1):
        assert np.all(np.diff(events.event_index.to_numpy()[fi == f]) > 0)
    assert set(events.run.to_numpy().tolist()) == {3661, 3662}
    cut = read_histograms(res.output)["cutflow"]
    assert list(cut.axes[0]) [:2] == ["physics", "decoded"]
    assert cut.values()[0] == acc.written
    assert "E_ECAL" in res.summary() or "events read" in res.summary()


def test_output_does_not_depend_on_chunking_or_parallelism(run_files, tmp_path):
    inputs, _ = run_files
    ref = run_job(inputs, tmp_path / "ref.parquet", _cfg(**{"output.format": "parquet"}))
    other_chunks = run_job(
        inputs, tmp_path / "c5.parquet", load_config(overrides={"job.events_per_chunk": 5, "output.rows_per_basket": 23, "output.format": "parquet"})
    )
    two_procs = run_job(inputs, tmp_path / "j2.parquet", _cfg(**{"output.format": "parquet"}), jobs=2)
    assert _sha(ref.output) == _sha(other_chunks.output) == _sha(two_procs.output)

    root_ref = run_job(inputs, tmp_path / "ref.root", _cfg())
    root_j2 = run_job(inputs, tmp_path / "j2.root", _cfg(**{"job.events_per_chunk": 9}), jobs=2)
    a, b = read_events(root_ref.output), read_events(root_j2.output)
    assert_same_arrays(a, b)
    assert len(a) == len(read_events(ref.output))


def test_forkserver_preloads_the_chain_only_where_it_imports_this_package(tmp_path, monkeypatch):
    # a directory of the package's name in the working directory (a source checkout without
    # the compiled core, next to an installed build) would be what a forkserver imports
    package_dir = Path(executors_module.__file__).resolve().parents[1]
    monkeypatch.chdir(tmp_path)
    assert executors_module._server_imports_this_package()
    (tmp_path / package_dir.name).mkdir()
    assert not executors_module._server_imports_this_package()
    monkeypatch.chdir(package_dir.parent)
    assert executors_module._server_imports_this_package()


def test_dask_local_cluster_gives_identical_output(run_files, tmp_path):
    distributed = pytest.importorskip("distributed")
    inputs, _ = run_files
    ref = run_job(inputs, tmp_path / "ref.parquet", _cfg(**{"output.format": "parquet"}))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            res = run_job(inputs, tmp_path / "dask.parquet", _cfg(**{"output.format": "parquet"}), client=client)
    assert "Dask" in res.executor
    assert _sha(ref.output) == _sha(res.output)


def test_existing_output_needs_force(run_files, tmp_path):
    inputs, _ = run_files
    out = tmp_path / "out.root"
    out.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="--force"):
        run_job(inputs, out, _cfg())
    assert out.read_bytes() == b"precious"
    run_job(inputs, out, _cfg(), force=True)
    assert len(read_events(out)) > 0


def _fail_on_chunk(monkeypatch, bad_index):
    real = executors_module.process_chunk

    def flaky(chunk, config):
        if chunk.index == bad_index:
            raise KeyboardInterrupt("simulated interruption")
        return real(chunk, config)

    monkeypatch.setattr(executors_module, "process_chunk", flaky)


def test_interrupted_job_leaves_no_output_and_resume_finishes_it(run_files, tmp_path, monkeypatch):
    inputs, ntotal = run_files
    out = tmp_path / "out.parquet"
    cfg = _cfg(**{"output.format": "parquet"})
    _fail_on_chunk(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        run_job(inputs, out, cfg, resume=True)
    assert not out.exists()
    assert not list(tmp_path.glob("*.tmp-*"))
    parts = sorted((tmp_path / "out.parquet.parts").glob("chunk-*.npz"))
    assert [p.name for p in parts] == [f"chunk-{k:06d}.npz" for k in range(4)]
    monkeypatch.undo()

    res = run_job(inputs, out, cfg, resume=True)
    assert res.chunks_resumed == 4
    assert res.accounting.events_read == ntotal
    assert not (tmp_path / "out.parquet.parts").exists()
    fresh = run_job(inputs, tmp_path / "fresh.parquet", cfg)
    assert _sha(fresh.output) == _sha(out)


def test_resume_ignores_parts_from_other_config(run_files, tmp_path, monkeypatch):
    inputs, _ = run_files
    out = tmp_path / "out.parquet"
    _fail_on_chunk(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        run_job(inputs, out, _cfg(**{"output.format": "parquet"}), resume=True)
    monkeypatch.undo()
    res = run_job(inputs, out, _cfg(**{"output.format": "parquet", "waveform.noise_rms": 2.5}), resume=True)
    assert res.chunks_resumed == 0


def test_unreadable_files_are_reported_and_the_rest_processed(run_files, tmp_path):
    inputs, ntotal = run_files
    garbage = tmp_path / "garbage.dat"
    garbage.write_bytes(b"\x00\x01not a DATE file" * 10)
    missing = tmp_path / "missing.dat"
    res = run_job([inputs[0], garbage, missing, inputs[1]], tmp_path / "out.root", _cfg())
    assert res.accounting.events_read == ntotal
    assert set(res.accounting.files_failed) == {str(garbage), str(missing)}
    assert "bad DATE magic" in res.accounting.files_failed[str(garbage)]
    assert "FAILED file" in res.summary()
    with pytest.raises(NothingReadError, match="garbage.dat"):
        run_job([garbage, missing], tmp_path / "none.root", _cfg())
    with pytest.raises(StrictModeError, match="garbage.dat"):
        run_job([inputs[0], garbage], tmp_path / "strict.root", _cfg(**{"job.strict": True}))
    assert not (tmp_path / "none.root").exists() and not (tmp_path / "strict.root").exists()


def test_truncated_file_keeps_the_whole_events_before_the_cut(tmp_path):
    bare = tmp_path / "bare.dat"
    data = date_events(11)  # 68-byte events: a 30-byte cut leaves a header fragment
    bare.write_bytes(data[:-30])
    acc = run_job([bare], tmp_path / "bare.root", _cfg()).accounting
    assert acc.events_read == 10 and acc.decoded_clean == 10
    assert acc.unreadable_bytes == 38 and acc.errors_by_name["truncated_header"] == 1

    full = tmp_path / "full.dat"
    n = write_run(full, nspills=1, per_spill=12)
    full.write_bytes(_cut_inside_last_physics(full))
    res = run_job([full], tmp_path / "full.root", _cfg())
    acc = res.accounting
    assert acc.events_read == n - 1  # the end-of-burst event after the cut is gone
    assert sum(acc.outcomes.values()) == acc.events_read
    assert acc.outcomes["error:event_truncated"] == 1
    status = read_events(res.output).status.to_numpy()
    assert status[-1] & 1 and not np.any(status[:-1] & 1)


def _cut_inside_last_physics(path: Path) -> bytes:
    from na64reco.pipeline import scan_file

    scan = scan_file(path)
    last_physics = int(scan.offsets[-2])
    return path.read_bytes()[: last_physics + int(scan.sizes[-2]) - 8]


def test_garbage_before_the_first_event_is_skipped_by_the_decoder(tmp_path):
    path = tmp_path / "junkfirst.dat"
    path.write_bytes(b"\x07" * 64 + date_events(5))
    res = run_job([path], tmp_path / "out.root", _cfg())
    assert res.accounting.events_read == 5 and res.accounting.decoded_clean == 5
    assert res.accounting.unreadable_bytes == 64
    assert res.accounting.errors_by_name["bytes_skipped"] == 1
    assert not res.accounting.files_failed


def test_chunks_read_into_a_reused_buffer_give_the_same_bytes(tmp_path):
    from na64reco.pipeline.chunks import Chunk

    path = tmp_path / "bytes.bin"
    payload = np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    path.write_bytes(payload)
    chunks = [Chunk(0, 0, str(path), a, b, 0, 1) for a, b in ((0, 100), (100, 3000), (3000, 3050), (3050, 5000))]
    buffer = bytearray()
    for c in chunks:
        assert bytes(c.read(into=buffer)) == payload[c.start : c.stop] == c.read()
    assert len(buffer) == 2900  # grown to the largest chunk, then reused
    held = chunks[0].read(into=buffer)  # a view still alive: the buffer cannot grow, a fresh one is used
    big = Chunk(4, 0, str(path), 0, 5000, 0, 1)
    assert bytes(big.read(into=buffer)) == payload and bytes(held) == payload[:100]
    with pytest.raises(OSError, match="expected 10 bytes at offset 4995, read 5"):
        Chunk(5, 0, str(path), 4995, 5005, 0, 1).read(into=buffer)


def test_job_quiets_the_collector_and_restores_it(run_files, tmp_path, monkeypatch):
    import gc

    from na64reco.pipeline import collector

    inputs, _ = run_files
    seen = []
    real = executors_module.process_chunk

    def spy(chunk, config):
        seen.append((gc.get_threshold()[0], gc.get_freeze_count() > 0))
        return real(chunk, config)

    monkeypatch.setattr(executors_module, "process_chunk", spy)
    before = gc.get_threshold(), gc.get_freeze_count()
    quiet = run_job(inputs, tmp_path / "q.parquet", _cfg(**{"output.format": "parquet"}))
    assert seen and all(s == (collector.GEN0_THRESHOLD, True) for s in seen)
    assert (gc.get_threshold(), gc.get_freeze_count()) == before  # the caller's collector as it was
    seen.clear()
    loud = run_job(inputs, tmp_path / "l.parquet", _cfg(**{"output.format": "parquet", "job.quiet_collector": False}))
    assert seen and all(s == (before[0][0], before[1] > 0) for s in seen)
    assert _sha(quiet.output) == _sha(loud.output)
