"""Worker processes forked from a run (pipelines/forked.py): what they are given and how
their errors reach the user. That they end with a killed run and free its lock:
tests/test_run_lock.py."""

from __future__ import annotations

import duckdb
import pytest
from dagster import DagsterInstance, job, op

from pipelines.cli import _step_errors
from pipelines.forked import can_fork, forked_pool, share


def _fail() -> None:
    raise ValueError("row 12, column site_id: unknown site")


@op
def forked_step() -> None:
    with forked_pool(1) as pool:
        pool.submit(_fail).result()


@job
def forked_job():
    forked_step()


@pytest.mark.skipif(not can_fork(), reason="no fork here")
def test_a_worker_error_reaches_the_run_summary_as_itself() -> None:
    with DagsterInstance.ephemeral() as instance:
        result = forked_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    # not the last line of the worker's traceback text (concurrent.futures' cause)
    assert _step_errors(result) == [
        "forked_step: ValueError: row 12, column site_id: unknown site"]


@pytest.mark.parametrize(("config", "workers", "expected"), [
    ({"memory_limit": "2GB"}, 2, {"memory_limit": "1000MB", "threads": "1"}),
    ({"memory_limit": "1 GiB", "threads": "4"}, 4, {"memory_limit": "268MB", "threads": "1"}),
    ({"memory_limit": "500mb", "threads": "8"}, 2, {"memory_limit": "250MB", "threads": "4"}),
    ({"memory_limit": "80%", "threads": "2"}, 2, {"memory_limit": "80%", "threads": "1"}),
])
def test_workers_share_the_jobs_memory_limit_and_cpus(config, workers, expected) -> None:
    shared = share(config, workers)
    assert shared == expected
    if shared["memory_limit"].endswith("MB"):  # DuckDB reads it as given
        con = duckdb.connect(config=shared)
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
        assert limit.endswith("MiB") and abs(float(limit.split()[0]) * 1.048576
                                             - int(shared["memory_limit"][:-2])) < 1
