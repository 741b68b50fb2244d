"""Running travel-time matrices in parallel: chunks of origins on processes or a Dask cluster.

A :class:`MatrixJob` says what to compute (bundle path, optional scenario modifications, origins,
destinations, departures, modes, options). :func:`run_matrix` splits the origins into chunks and
runs :func:`compute_chunk` on each with one of three executors:

* ``"process"`` (default): a local pool of worker processes. Each worker loads the bundle *by
  path* once (``loaders.bundle.load_bundle`` memory-maps the arrays, so the workers share the
  page cache) and applies the scenario once; nothing but the small job description travels to
  the workers. A worker killed mid-run breaks the pool: the pool is rebuilt and the unfinished
  chunks run again (``retries`` times at most).
* ``"dask"``: an embedded ``dask.distributed.LocalCluster`` of ``workers`` single-threaded
  processes; ``scheduler="tcp://host:port"``: an existing Dask cluster (its workers need trajet
  installed and the bundle at the same path). Dask reschedules the tasks of a dead worker, and
  retries failed tasks ``retries`` times.
* ``"serial"``: in this process (tests, debugging).

Every executor runs the same :func:`compute_chunk` on the same chunks, so the results are
identical to the second. Workers send back the travel-time arrays; this process turns them into
the long table (:func:`chunk_table`). Default chunks: about four per worker on processes, two
on Dask (whose tasks cost more each); a rerun into the same ``out_dir`` keeps the chunking it
finds there. With ``out_dir`` each chunk's table is written there as Parquet as soon
as it finishes (``chunk-00012.parquet``), beside a ``manifest.json`` naming the job; running the
same job again reuses the chunks already there (resume), and a run that cannot finish raises
:class:`BatchError` naming the missing chunks.

Dask is imported only here (and only when asked for).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from api.scenario_io import Places, matrix_table, prepare_scenario
from engine.planning.matrix import DEFAULT_MAX_TIME_S, travel_time_matrix
from engine.planning.options import PlanOptions
from engine.scenario import Scenario

EXECUTORS = ("process", "dask", "serial")
MANIFEST = "manifest.json"
DEFAULT_RETRIES = 2


class BatchError(RuntimeError):
    """A matrix run that could not finish; ``missing`` lists the chunk indices without output."""

    def __init__(self, message: str, missing: list[int] | None = None):
        self.missing = list(missing or [])
        super().__init__(message)


@dataclass(frozen=True)
class MatrixJob:
    """What to compute. ``scenario_specs``: modification dicts (``engine.scenario``), applied in
    each worker to the bundle's network; empty for the baseline."""

    bundle: str
    origins: Places
    destinations: Places
    departures: tuple
    modes: tuple = ("TRANSIT",)
    window_min: int = 0
    percentiles: tuple = ()
    max_time_s: float = float(DEFAULT_MAX_TIME_S)
    breakdown: bool = False
    options: PlanOptions = field(default_factory=PlanOptions)
    scenario_specs: tuple = ()
    scenario_name: str = ""

    def key(self) -> str:
        """A digest of everything that determines the output (for resuming)."""
        h = hashlib.sha256()
        for part in (self.bundle, self.modes, self.window_min, self.percentiles, self.max_time_s,
                     self.breakdown, repr(self.options),
                     [d.isoformat() for d in self.departures],
                     json.dumps(list(self.scenario_specs), sort_keys=True, default=str)):
            h.update(repr(part).encode())
            h.update(b"\0")
        for places in (self.origins, self.destinations):
            h.update(places.ids.astype(str).tobytes())
            h.update(np.ascontiguousarray(places.lonlat).tobytes())
            h.update(places.weight.tobytes())
        return h.hexdigest()


@dataclass
class BatchReport:
    """How a run went: chunks computed now, reused from an earlier run, retried; pool rebuilds."""

    n_chunks: int
    chunk_size: int
    executor: str
    computed: list = field(default_factory=list)
    reused: list = field(default_factory=list)
    retried: list = field(default_factory=list)
    restarts: int = 0
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# The worker side
# ---------------------------------------------------------------------------------------------
_NETWORKS: dict = {}
_NETWORKS_LOCK = threading.Lock()


def _network_for(bundle: str, scenario_specs: tuple, scenario_name: str = ""):
    """The bundle's network (memory-mapped, loaded once per process), with the scenario applied."""
    from loaders.bundle import load_bundle

    key = (bundle, json.dumps(list(scenario_specs), sort_keys=True, default=str))
    with _NETWORKS_LOCK:
        hit = _NETWORKS.get(key)
        if hit is not None:
            return hit
        base_key = (bundle, "[]")
        base = _NETWORKS.get(base_key)
        if base is None:
            base = load_bundle(bundle, verify=False)
            _NETWORKS[base_key] = base
        network = base
        if scenario_specs:
            scenario = prepare_scenario(Scenario.from_dicts(list(scenario_specs), name=scenario_name), base)
            network, _ = scenario.apply(base)
            _NETWORKS[key] = network
        return network


def compute_chunk(job: MatrixJob, lo: int, hi: int) -> list:
    """The travel times from origins ``lo:hi`` of ``job``: one MatrixResult per departure.

    Runs in the workers. It returns the arrays, not the long table: a chunk's table repeats its
    origin and destination codes on every row, twice the bytes of the times, and the table is
    built once, in the process that collects the chunks (:func:`chunk_table`)."""
    network = _network_for(job.bundle, job.scenario_specs, job.scenario_name)
    origins = job.origins.take(slice(lo, hi))
    return [travel_time_matrix(network, origins.lonlat, job.destinations.lonlat, departure=departure,
                               modes=job.modes, window_min=job.window_min, percentiles=job.percentiles,
                               max_time_s=job.max_time_s, breakdown=job.breakdown, options=job.options)
            for departure in job.departures]


def chunk_table(job: MatrixJob, lo: int, hi: int, results: list):
    """The long table of origins ``lo:hi`` (all departures) from :func:`compute_chunk`'s results."""
    import pandas as pd

    origins = job.origins.take(slice(lo, hi))
    tables = [matrix_table(result, origins, job.destinations, origin_offset=lo, all_origins=job.origins,
                           departure_label=departure.isoformat() if len(job.departures) > 1 else None)
              for departure, result in zip(job.departures, results, strict=True)]
    return pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]


def _compute_indexed(job: MatrixJob, index: int, lo: int, hi: int):
    return index, compute_chunk(job, lo, hi)


# ---------------------------------------------------------------------------------------------
# Chunk files and the manifest
# ---------------------------------------------------------------------------------------------
def chunk_ranges(n_origins: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + chunk_size, n_origins)) for lo in range(0, n_origins, chunk_size)]


def _chunk_path(out_dir: Path, index: int) -> Path:
    return out_dir / f"chunk-{index:05d}.parquet"


def _open_out_dir(out_dir: Path, job_key: str, ranges: list) -> set[int]:
    """Create or check the chunk folder; returns the indices of chunks already done."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MANIFEST
    manifest = {"format": "trajet-matrix-chunks", "job": job_key, "chunks": [list(r) for r in ranges]}
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            old = None
        if not isinstance(old, dict) or old.get("format") != manifest["format"]:
            raise BatchError(f"{out_dir}: {MANIFEST} is not a trajet chunk manifest; use an empty folder")
        if old.get("job") != job_key or old.get("chunks") != manifest["chunks"]:
            raise BatchError(f"{out_dir} holds chunks of another matrix job (other inputs, options or "
                             "chunk size): use another folder, or empty this one")
    else:
        tmp = path.with_name(f".{MANIFEST}.tmp")
        tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        tmp.replace(path)
    done = set()
    for i in range(len(ranges)):
        if _chunk_path(out_dir, i).is_file():
            done.add(i)
    return done


def _manifest_chunk_size(out_dir: Path, job_key: str) -> int | None:
    """The chunk size of an earlier run of the same job in ``out_dir`` (None when there is none)."""
    try:
        old = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        chunks = old["chunks"] if old.get("job") == job_key else None
        return int(chunks[0][1] - chunks[0][0]) if chunks else None
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _write_chunk(out_dir: Path | None, index: int, df) -> None:
    if out_dir is None:
        return
    path = _chunk_path(out_dir, index)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)


def _read_chunk(out_dir: Path, index: int):
    import pandas as pd

    return pd.read_parquet(_chunk_path(out_dir, index))


# ---------------------------------------------------------------------------------------------
# Executors: pools that can be kept open across several matrices (baseline and scenario)
# ---------------------------------------------------------------------------------------------
class SerialPool:
    """Runs chunks in this process."""

    executor = "serial"
    workers = 1
    # default chunks per worker: enough to even out origins that cost more than others (and to
    # resume a long run from its chunk files), few enough that the per-chunk cost stays small
    chunks_per_worker = 4

    def run(self, job, todo, store, report, retries):
        for i, (lo, hi) in todo.items():
            store(i, compute_chunk(job, lo, hi))

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ProcessPool(SerialPool):
    """A local pool of worker processes, kept between matrices; rebuilt when a worker dies.

    Workers start from a fork server that has imported trajet already (``forkserver`` with
    preload: safe with threads in this process, and a new worker costs a fork, not an import
    of numpy, scipy, numba and pandas). Each worker loads the bundle by path on its first chunk.
    """

    executor = "process"

    def __init__(self, workers: int):
        import multiprocessing

        self.workers = int(workers)
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["api.batch"])
        self._pool = None

    def _executor(self):
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._ctx)
        return self._pool

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and monitoring)."""
        pool = self._pool
        return [p.pid for p in (pool._processes or {}).values()] if pool is not None else []

    def run(self, job, todo, store, report, retries):
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        pending = dict(todo)
        attempts = dict.fromkeys(pending, 0)
        while pending:
            pool = self._executor()
            futures = {pool.submit(_compute_indexed, job, i, lo, hi): i for i, (lo, hi) in pending.items()}
            broken = False
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    _, results = fut.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                store(i, results)
                del pending[i]
            if not broken:
                continue
            # a worker died (killed, out of memory): every unfinished chunk runs again on a new pool
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            report.restarts += 1
            for i in pending:
                attempts[i] += 1
                if i not in report.retried:
                    report.retried.append(i)
            if any(attempts[i] > retries for i in pending):
                raise BatchError(f"worker processes died {report.restarts} times; chunks "
                                 f"{_ranges_text(sorted(pending))} have no output (rerun to resume)",
                                 sorted(pending))

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskPool(SerialPool):
    """A Dask cluster: an embedded LocalCluster of ``workers`` single-threaded processes, or an
    existing one at ``scheduler`` (tcp://host:port). Dask reschedules the chunks of a dead
    worker; chunks that fail are retried ``retries`` times."""

    executor = "dask"
    # a Dask task costs scheduler round trips and a few ms of the workers' and the scheduler's
    # CPU (Dask's guidance: tasks of 100 ms or more); half as many, twice as long chunks as the
    # process pool: measured on bench/matrix.py, 1,000 origins on 2 workers, 8 chunks of 75 ms
    # made Dask 1.2x the pool's time, 4 chunks 1.06x
    chunks_per_worker = 2
    # an embedded cluster runs matrices and stops: no dashboard, no statistical profiler (it
    # samples every worker's stack every 10 ms), no MALLOC_TRIM_THRESHOLD_ (dask sets it to
    # 64 KiB for long-lived workers, and in this process's environment too; the kernels' arrays
    # then go back to the OS after every chunk), and its housekeeping (event-loop ticks, memory
    # and system monitors) at 1-5 s instead of 20-500 ms: on 2 cores every poll is taken from a
    # worker
    EMBEDDED_SETTINGS = {
        "distributed.worker.profile.enabled": False,
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        "distributed.admin.tick.interval": "1s",
        "distributed.admin.system-monitor.interval": "5s",
        "distributed.admin.system-monitor.gil.enabled": False,
        "distributed.worker.memory.monitor-interval": "1s",
    }
    # jobs larger than this (pickled) go to the workers once (scatter), smaller ones with each task
    SCATTER_BYTES = 1 << 20

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        import dask
        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler:
            self.client = Client(scheduler, timeout="30s")
        else:
            with dask.config.set(self.EMBEDDED_SETTINGS):
                self.cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        self.workers = len(self.client.scheduler_info().get("workers", {})) or int(workers or 1)

    def worker_pids(self) -> list[int]:
        return list(self.client.run(os.getpid).values())

    def run(self, job, todo, store, report, retries):
        import pickle

        from distributed import as_completed

        key = job.key()[:12]
        # a small job travels inside each task; a large one (many origins or destinations) once
        # to every worker (one more round trip)
        payload = job
        if len(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)) > self.SCATTER_BYTES:
            payload = self.client.scatter(job, broadcast=True, hash=False)
        futures = {self.client.submit(_compute_indexed, payload, i, lo, hi, retries=retries, pure=False,
                                      key=f"trajet-chunk-{key}-{i:05d}-{os.urandom(3).hex()}"): i
                   for i, (lo, hi) in todo.items()}
        for fut in as_completed(list(futures)):
            _, results = fut.result()
            store(futures[fut], results)

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def open_pool(executor: str = "process", *, workers: int | None = None, scheduler: str | None = None):
    """A pool to pass to :func:`run_matrix` (close it, or use it as a context manager)."""
    if scheduler:
        return DaskPool(scheduler=scheduler)
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    workers = int(workers or os.cpu_count() or 1)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if executor == "serial":
        return SerialPool()
    if executor == "process":
        return ProcessPool(workers)
    return DaskPool(workers=workers)


def _ranges_text(indices: list[int]) -> str:
    if len(indices) > 12:
        return ", ".join(str(i) for i in indices[:12]) + f" and {len(indices) - 12} more"
    return ", ".join(str(i) for i in indices)


def default_chunk_size(n_origins: int, workers: int, chunks_per_worker: int = 4) -> int:
    """About ``chunks_per_worker`` chunks per worker, at least 8 and at most 256 origins each."""
    return int(min(256, max(8, math.ceil(n_origins / max(1, chunks_per_worker * workers)))))


def run_matrix(job: MatrixJob, *, pool=None, executor: str = "process", workers: int | None = None,
               chunk_size: int | None = None, scheduler: str | None = None, out_dir=None,
               retries: int = DEFAULT_RETRIES, progress: bool = False,
               on_chunk: Callable[[int, BatchReport], None] | None = None):
    """Compute ``job`` in chunks of origins; returns (long table DataFrame, BatchReport).

    ``pool``: an open pool (:func:`open_pool`), kept open by the caller across matrices; without
    it one is opened for this call from ``executor`` ("process", "dask" or "serial"),
    ``workers`` (default: CPU count) and ``scheduler`` (an existing Dask cluster). ``out_dir``:
    where chunk files and the manifest go (resume; see the module docstring).
    ``on_chunk(index, report)`` is called in this process after each chunk is stored. Raises
    BatchError naming the missing chunks, ValueError for bad arguments.
    """
    import time

    import pandas as pd

    if not Path(job.bundle).is_dir():
        raise ValueError(f"bundle {job.bundle}: no such folder")
    own = pool is None
    if own:
        pool = open_pool(executor, workers=workers, scheduler=scheduler)
    try:
        n_o = len(job.origins)
        job = dataclasses.replace(job, bundle=str(Path(job.bundle).resolve()))
        out = Path(out_dir) if out_dir is not None else None
        if chunk_size is None and out is not None:
            # resuming with another executor (other default chunks) keeps the chunks on disk
            chunk_size = _manifest_chunk_size(out, job.key())
        chunk_size = int(chunk_size or default_chunk_size(n_o, pool.workers, pool.chunks_per_worker))
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        ranges = chunk_ranges(n_o, chunk_size)
        report = BatchReport(n_chunks=len(ranges), chunk_size=chunk_size, executor=pool.executor)
        done = _open_out_dir(out, job.key(), ranges) if out is not None else set()
        report.reused = sorted(done)
        frames: dict[int, object] = {}
        todo = {i: r for i, r in enumerate(ranges) if i not in done}
        t0 = time.perf_counter()
        bar = None
        if progress:
            from loaders.progress import progress_bar

            bar = progress_bar(total=len(ranges), initial=len(done), unit="chunk",
                               desc=f"matrix {job.scenario_name}".strip(), leave=False)

        def store(i, results):
            lo, hi = ranges[i]
            df = chunk_table(job, lo, hi, results)
            _write_chunk(out, i, df)
            frames[i] = df
            report.computed.append(i)
            if bar is not None:
                bar.update(1)
            if on_chunk is not None:
                on_chunk(i, report)

        try:
            if todo:
                pool.run(job, todo, store, report, retries)
        except BatchError:
            raise
        except Exception as exc:
            missing = sorted(set(range(len(ranges))) - set(frames) - done)
            where = f" (the chunks done are in {out}: rerun to resume)" if out else ""
            raise BatchError(f"{type(exc).__name__}: {exc}; chunks {_ranges_text(missing)} have no "
                             f"output{where}", missing) from exc
        finally:
            if bar is not None:
                bar.close()
        missing = sorted(set(range(len(ranges))) - set(frames) - done)
        if missing:
            raise BatchError(f"chunks {_ranges_text(missing)} have no output", missing)
        parts = [frames[i] if i in frames else _read_chunk(out, i) for i in range(len(ranges))]
        report.seconds = time.perf_counter() - t0
        report.computed.sort()
        return (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()), report
    finally:
        if own:
            pool.close()


__all__ = ["EXECUTORS", "BatchError", "BatchReport", "MatrixJob", "compute_chunk", "chunk_table",
           "run_matrix", "open_pool", "SerialPool", "ProcessPool", "DaskPool", "chunk_ranges",
           "default_chunk_size"]
