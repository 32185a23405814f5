"""Worker processes forked from a run (pipelines/forked.py): what they are given and how
their errors reach the user. That they end with a killed run and free its lock:
tests/test_run_lock.py."""

from __future__ import annotations

from pathlib import Path

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


def _publish_fails() -> None:
    from pipelines.publish import publish_folder

    with publish_folder(Path("/proc/pocmon-test/dashboards")):  # /proc: no folder can be made
        pass


def _dbt_disk_full() -> None:
    raise duckdb.TransactionException(
        'Failed to commit: Could not write file "pocmon.duckdb.wal": No space left on device')


@op
def publishing_step() -> None:
    _publish_fails()


@op
def dbt_step() -> None:
    _dbt_disk_full()


@job
def storage_job():
    publishing_step()
    dbt_step()


def test_a_storage_failure_reaches_the_run_summary_in_words() -> None:
    """pocmon's own error says what its OSError cause says in system terms; an error left in
    system terms gets its plain words."""
    with DagsterInstance.ephemeral() as instance:
        result = storage_job.execute_in_process(instance=instance, raise_on_error=False)
    dbt, published = sorted(_step_errors(result))
    assert published.startswith("publishing_step: pipelines.publish.PublishError: cannot "
                                "publish /proc/pocmon-test/dashboards:"), published
    assert "previous outputs there are unchanged" in published
    assert dbt.startswith("dbt_step: ") and dbt.endswith(
        "No space left on device (the disk is full: free space or fix the permissions and "
        "run again)"), dbt
