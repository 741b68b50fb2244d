"""Matrix chunks on a process pool, a Dask LocalCluster and in-process: the same table to the
second; a killed worker's chunk runs again; a rerun resumes; a failure names the missing chunks."""
from __future__ import annotations

import datetime as dt
import os
import signal

import numpy as np
import pandas as pd
import pytest

from api.batch import BatchError, MatrixJob, default_chunk_size, open_pool, run_matrix
from api.scenario_io import grid_places, stop_places

SATURDAY_15H = dt.datetime(2026, 1, 10, 15, 0)


@pytest.fixture(scope="module")
def job(monaco_bundle, monaco):
    origins = grid_places(monaco, 700.0)
    destinations = stop_places(monaco, sample=30, seed=4)
    return MatrixJob(bundle=str(monaco_bundle), origins=origins, destinations=destinations,
                     departures=(SATURDAY_15H,), modes=("WALK", "TRANSIT"), window_min=5,
                     percentiles=(25, 75))


@pytest.fixture(scope="module")
def serial_table(job):
    table, report = run_matrix(job, executor="serial", chunk_size=3)
    assert report.n_chunks == -(-len(job.origins) // 3)
    return table


def test_the_table_is_long_one_row_per_pair_in_origin_order(job, serial_table):
    n_o, n_d = len(job.origins), len(job.destinations)
    assert list(serial_table.columns) == ["from_id", "to_id", "travel_time_s", "travel_time_p25_s",
                                          "travel_time_p75_s"]
    assert len(serial_table) == n_o * n_d
    assert list(serial_table["from_id"].iloc[::n_d]) == list(job.origins.ids)
    assert list(serial_table["to_id"].iloc[:n_d]) == list(job.destinations.ids)
    assert serial_table["travel_time_s"].notna().mean() > 0.9


def test_process_pool_and_dask_local_cluster_give_the_same_table(job, serial_table):
    by_process, rep_p = run_matrix(job, executor="process", workers=2, chunk_size=3)
    by_dask, rep_d = run_matrix(job, executor="dask", workers=2, chunk_size=3)
    assert rep_p.executor == "process" and rep_d.executor == "dask"
    pd.testing.assert_frame_equal(by_process, serial_table)
    pd.testing.assert_frame_equal(by_dask, serial_table)


def test_an_existing_dask_cluster_by_its_scheduler_address(job, serial_table):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        table, report = run_matrix(job, scheduler=cluster.scheduler_address, chunk_size=5)
    assert report.executor == "dask"
    pd.testing.assert_frame_equal(table, serial_table)


def _slow_job(job: MatrixJob) -> MatrixJob:
    # a dozen departures per chunk: chunks take long enough to kill a worker in the middle
    deps = tuple(SATURDAY_15H + dt.timedelta(minutes=7 * k) for k in range(12))
    return MatrixJob(**{**job.__dict__, "departures": deps, "window_min": 0, "percentiles": ()})


def test_a_killed_worker_process_has_its_chunk_run_again(job):
    slow = _slow_job(job)
    expected, _ = run_matrix(slow, executor="serial", chunk_size=2)
    killed = []
    with open_pool("process", workers=2) as pool:
        def kill_one(index, report):
            if not killed:
                pid = pool.worker_pids()[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        table, report = run_matrix(slow, pool=pool, chunk_size=2, on_chunk=kill_one)
    assert killed and report.restarts == 1 and report.retried
    pd.testing.assert_frame_equal(table, expected)


def test_a_killed_dask_worker_has_its_chunk_rescheduled(job):
    slow = _slow_job(job)
    expected, _ = run_matrix(slow, executor="serial", chunk_size=2)
    killed = []
    with open_pool("dask", workers=2) as pool:
        def kill_one(index, report):
            if not killed:
                pid = pool.worker_pids()[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        table, _ = run_matrix(slow, pool=pool, chunk_size=2, on_chunk=kill_one)
    assert killed
    pd.testing.assert_frame_equal(table, expected)


def test_a_rerun_resumes_from_the_chunks_on_disk(job, serial_table, tmp_path):
    out = tmp_path / "chunks"
    _, first = run_matrix(job, executor="serial", chunk_size=3, out_dir=out)
    files = sorted(p.name for p in out.glob("chunk-*.parquet"))
    assert files == [f"chunk-{i:05d}.parquet" for i in range(first.n_chunks)]
    (out / "chunk-00001.parquet").unlink()
    table, second = run_matrix(job, executor="serial", chunk_size=3, out_dir=out)
    assert second.computed == [1]
    assert second.reused == [i for i in range(first.n_chunks) if i != 1]
    pd.testing.assert_frame_equal(table, serial_table)
    # another job, or another chunk size, must not mix with these chunks
    with pytest.raises(BatchError, match="holds chunks of another matrix job"):
        run_matrix(job, executor="serial", chunk_size=4, out_dir=out)


def test_a_failed_run_names_the_missing_chunks(job, tmp_path):
    outside = MatrixJob(**{**job.__dict__, "departures": (dt.datetime(2027, 6, 1, 8, 0),)})
    with pytest.raises(BatchError) as err:
        run_matrix(outside, executor="serial", chunk_size=3, out_dir=tmp_path / "c")
    n = -(-len(job.origins) // 3)
    assert err.value.missing == list(range(n))
    assert "OutsideServicePeriod" in str(err.value)
    assert f"chunks {', '.join(str(i) for i in range(min(n, 12)))}" in str(err.value)


def test_default_chunks_are_about_four_per_worker():
    assert default_chunk_size(1000, 2) == 125
    assert default_chunk_size(10, 2) == 8
    assert default_chunk_size(100_000, 2) == 256
    assert np.ceil(1000 / default_chunk_size(1000, 2)) == 8


def test_dask_defaults_to_fewer_longer_chunks_than_the_process_pool():
    from api.batch import DaskPool, ProcessPool

    assert (ProcessPool.chunks_per_worker, DaskPool.chunks_per_worker) == (4, 2)
    assert default_chunk_size(1000, 2, DaskPool.chunks_per_worker) == 250


def test_a_rerun_with_another_default_chunking_resumes_from_the_chunks_on_disk(job, serial_table, tmp_path):
    out = tmp_path / "chunks"
    _, first = run_matrix(job, executor="serial", chunk_size=3, out_dir=out)
    (out / "chunk-00001.parquet").unlink()
    table, second = run_matrix(job, executor="process", workers=2, out_dir=out)   # default chunking
    assert second.chunk_size == 3 and second.computed == [1]
    pd.testing.assert_frame_equal(table, serial_table)
