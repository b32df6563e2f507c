"""A reconstruction job: raw files in, one output file (ROOT or Parquet) out.

``run_job`` plans chunks, runs them (serial, local processes or Dask), merges the results
in input order into the writer, checks that every input event is accounted for and
commits the output atomically. The CLI ``na64reco reco`` is a thin shell over it.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import JobConfig
from ..output.histograms import StandardHistograms
from ..output.writers import open_writer  # with the job runner (the main process), not in workers
from .accounting import Accounting
from .chain import REPORT_ONLY_ERRORS
from .chunks import Chunk, FileScan, plan_chunks, scan_file
from .collector import quiet_collector
from .executors import SerialExecutor, make_executor
from .parts import PartStore
from .process import ChunkResult, decoder_available, release_read_buffer

__all__ = ["JobResult", "NothingReadError", "StrictModeError", "run_job", "plan_job"]


class NothingReadError(RuntimeError):
    """No input file could be read at all."""


class StrictModeError(RuntimeError):
    """Strict mode and some input was unreadable or had decode errors."""


@dataclass
class JobResult:
    output: Path
    accounting: Accounting
    histograms: StandardHistograms
    timings: dict[str, float]
    elapsed_s: float
    nchunks: int
    chunks_resumed: int
    executor: str
    stage_report: dict[str, bool] = field(default_factory=dict)
    cpu_s: float = float("nan")  # CPU seconds of the job: the parent's main thread + every chunk's thread

    @property
    def events_per_cpu_second(self) -> float:
        """Events per second of CPU: the rate of one core, whatever the load of the machine."""
        return self.accounting.events_read / self.cpu_s if self.cpu_s > 0 else float("nan")

    @property
    def events_per_second(self) -> float:
        return self.accounting.events_read / self.elapsed_s if self.elapsed_s > 0 else float("nan")

    def summary(self) -> str:
        lines = [self.accounting.summary()]
        lines.append(
            f"{self.nchunks} chunks ({self.chunks_resumed} resumed) on {self.executor} in {self.elapsed_s:.2f} s"
            f" = {self.events_per_second:,.0f} events/s; CPU {self.cpu_s:.2f} s = {self.events_per_cpu_second:,.0f} events per CPU-second"
        )
        missing = [k for k, ok in self.stage_report.items() if not ok]
        if missing:
            lines.append("stages not in this build (columns left NaN, status bit STAGE_MISSING): " + ", ".join(missing))
        lines.append(f"output: {self.output}")
        return "\n".join(lines)

    def stage_breakdown(self) -> str:
        total = sum(self.timings.values()) or 1.0
        return "\n".join(f"  {k:<12}{v:9.3f} s  {100 * v / total:5.1f} %" for k, v in self.timings.items())


def plan_job(inputs: Sequence[str | os.PathLike[str]], config: JobConfig) -> tuple[list[FileScan], list[Chunk], dict[str, str]]:
    """Scan the inputs and cut them into chunks; unreadable files are returned by name."""
    scans: list[FileScan] = []
    failed: dict[str, str] = {}
    for path in inputs:
        p = str(path)
        try:
            scan = scan_file(p)
        except OSError as exc:
            failed[p] = exc.strerror or str(exc)
            continue
        if scan.nevents == 0 and not (scan.size and decoder_available()):
            failed[p] = scan.problem or "no DATE events"
            continue
        scans.append(scan)
    return scans, plan_chunks(scans, int(config["job"]["events_per_chunk"])), failed


def _manifest(scans: list[FileScan], config: JobConfig, output: Path) -> dict[str, Any]:
    files = []
    for s in scans:
        st = os.stat(s.path)
        files.append({"path": os.path.abspath(s.path), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return {"version": __version__, "files": files, "config": config.digest(), "output": output.name}


class _Progress:
    def __init__(self, total_events: int, total_bytes: int, enabled: bool) -> None:
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.bytes = 0
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total_events, unit="ev", unit_scale=True, desc="reco", file=sys.stderr, dynamic_ncols=True)
            self.total_bytes = total_bytes

    def update(self, events: int, nbytes: int) -> None:
        self.bytes += nbytes
        if self.bar is not None:
            dt = max(time.perf_counter() - self.t0, 1e-9)
            self.bar.set_postfix_str(f"{self.bytes / 1e6 / dt:.1f} MB/s", refresh=False)
            self.bar.update(events)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_job(
    inputs: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    config: JobConfig | None = None,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    client: Any = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
) -> JobResult:
    """Reconstruct ``inputs`` into ``output`` (format from ``config["output"]["format"]``).

    Raises ``NothingReadError`` when no input could be read, ``StrictModeError`` in strict
    mode on any unreadable file or decode error, ``OutputExistsError`` when ``output``
    exists and ``force`` is false. An interrupted job leaves no file at ``output``.
    """
    t_start = time.perf_counter()
    cpu_start = time.thread_time()
    config = config or JobConfig()
    if not inputs:
        raise ValueError("no input files given")
    out_cfg = config["output"]
    strict = bool(config["job"]["strict"])

    # Refuse an existing output before any work (the writer checks again when it opens).
    from ..output.atomic import check_target

    target = check_target(output, force or resume)
    if resume and target.exists() and not force:
        raise FileExistsError(f"output {target} is already complete; pass --force to recompute it")

    t0 = time.perf_counter()
    scans, chunks, failed = plan_job(inputs, config)
    t_plan = time.perf_counter() - t0
    if failed and strict:
        raise StrictModeError("strict mode: unreadable input " + "; ".join(f"{p}: {w}" for p, w in failed.items()))
    if not chunks:
        raise NothingReadError("nothing could be read: " + "; ".join(f"{p}: {w}" for p, w in failed.items()))

    store = PartStore(target, _manifest(scans, config, target)) if resume else None
    done = store.open() if store else set()
    todo = [c for c in chunks if c.index not in done]

    accounting = Accounting()
    accounting.files_failed.update(failed)
    for p in failed:
        try:
            accounting.unreadable_bytes += os.path.getsize(p)
        except OSError:
            pass
    histograms = StandardHistograms()
    timings: Counter[str] = Counter({"plan": t_plan})
    events_per_file: Counter[int] = Counter()
    chunk_cpu = 0.0  # CPU of chunks computed in other threads or processes
    total_bytes = sum(c.nbytes for c in chunks)
    bar = _Progress(sum(c.nevents for c in chunks), total_bytes, progress)

    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    # more processes than chunks to compute would only start idle (the output is the same)
    executor = make_executor(jobs=min(jobs, max(1, len(todo))), scheduler=scheduler, client=client)
    # Other processes or a cluster start on the first chunks now, while this one opens the
    # output and sets up; serial chunks run only once asked for.
    computed: Iterator[ChunkResult] = executor.map_ordered(todo, config)
    try:
        writer = open_writer(
            target, out_cfg["format"], int(out_cfg["rows_per_basket"]), bool(out_cfg["jagged"]), out_cfg["compression"],
            force=True, expected_rows=sum(c.nevents for c in chunks),
        )  # fmt: skip
    except BaseException:
        executor.close()
        raise
    # this process runs the serial chunks, merges and writes: the collector stays quiet
    # until the job ends (pool workers quiet theirs for good; executors.py)
    cleanup = ExitStack()
    cleanup.enter_context(quiet_collector(bool(config["job"]["quiet_collector"])))
    try:
        from .chain import Reconstruction

        stage_report = Reconstruction(config).stage_report()
        for chunk in chunks:
            if chunk.index in done:
                assert store is not None
                result = store.load(chunk.index)
            else:
                result = next(computed)
                chunk_cpu += result.cpu_s
                if result.index != chunk.index:
                    raise RuntimeError(f"chunk {result.index} arrived where chunk {chunk.index} was expected")
                if store:
                    store.save(result)
            faults = {k: v for k, v in result.accounting.errors_by_name.items() if k not in REPORT_ONLY_ERRORS}
            if strict and faults:
                raise StrictModeError(
                    f"strict mode: decode errors in {chunk.path} bytes {chunk.start}-{chunk.stop}: "
                    + ", ".join(f"{k} x{v}" for k, v in sorted(faults.items()))
                )
            t0 = time.perf_counter()
            writer.write(result.reco)
            events_per_file[chunk.file_index] += result.accounting.events_read
            timings["output"] += time.perf_counter() - t0
            accounting.add(result.accounting)
            histograms.add(result.histograms)
            timings.update(result.timings)
            bar.update(result.accounting.events_read, chunk.nbytes)
        # A file whose header walk failed at once was handed whole to the decoder, which
        # resynchronises; if even that found no event, the file was unreadable.
        for file_index, scan in enumerate(scans):
            if events_per_file[file_index] == 0:
                accounting.files_failed[scan.path] = scan.problem or "no DATE events"
        if accounting.events_read == 0:
            raise NothingReadError("nothing could be read: " + "; ".join(f"{p}: {w}" for p, w in accounting.files_failed.items()))
        if strict and accounting.files_failed:
            raise StrictModeError("strict mode: unreadable input " + "; ".join(f"{p}: {w}" for p, w in accounting.files_failed.items()))
        accounting.check()
        t0 = time.perf_counter()
        # Only what determines the contents: the chunking and parallelism do not.
        stored_config = {k: v for k, v in config.to_dict().items() if k != "job"}
        metadata = {"na64reco_version": __version__, "inputs": [str(p) for p in inputs], "config": stored_config}
        writer.finish(histograms, accounting, metadata)
        timings["output"] += time.perf_counter() - t0
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
        executor.close()
        release_read_buffer()
        cleanup.close()
    if store:
        store.remove()
    # Serial chunks ran in this thread: their CPU is already in the parent's.
    parent_cpu = time.thread_time() - cpu_start
    cpu_s = parent_cpu if isinstance(executor, SerialExecutor) else parent_cpu + chunk_cpu
    return JobResult(
        output=target,
        accounting=accounting,
        histograms=histograms,
        timings=dict(timings),
        elapsed_s=time.perf_counter() - t_start,
        nchunks=len(chunks),
        chunks_resumed=len(done & {c.index for c in chunks}),
        executor=executor.description,
        stage_report=stage_report,
        cpu_s=cpu_s,
    )
