"""Every run holds the warehouse's run lock, however it was started: `pocmon run` (the CLI
takes it) and runs Dagster starts (the UI, the schedule, the sensor: the warehouse resource
takes it). Real processes and a real flock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import build_init_resource_context

from pipelines.defs.resources import WarehouseResource
from pipelines.runlock import RunInProgress, lock_path, run_lock

REPO = Path(__file__).resolve().parents[1]

HOLD = """
import sys, time
from pathlib import Path
from pipelines.runlock import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _resource_run(warehouse: Path, wait: float):
    """What Dagster does with the warehouse resource for the length of a run."""
    resource = WarehouseResource(database=str(warehouse), run_lock_wait_seconds=wait)
    return resource.yield_for_execution(build_init_resource_context())


def test_pocmon_run_refuses_while_a_dagster_run_holds_the_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse" / "pocmon.duckdb"
    # every path of the refused run is the test's own (were the lock not held, it would run)
    env = {**os.environ, "POCMON_WAREHOUSE": str(warehouse),
           "POCMON_INBOX": str(tmp_path / "inbox"),
           "POCMON_PUBLISHED": str(tmp_path / "published"),
           "POCMON_KEY_FILE": str(tmp_path / "secrets" / "k.key"),
           "POCMON_DEMO_TRUTH": str(tmp_path / "demo" / "truth.json"),
           "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_bytes(
        (REPO / "dagster.yaml").read_bytes())
    with _resource_run(warehouse, 0):
        refused = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "run"], cwd=REPO, text=True,
            capture_output=True, timeout=120, env=env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    message = " ".join((refused.stdout + refused.stderr).split())
    assert "another pocmon run is using the warehouse" in message
    assert f"pid {os.getpid()}" in message and "Nothing was changed" in message
    assert "the Dagster run" in message and "of the weekly job" in message
    assert not warehouse.exists()  # the refused run opened nothing
    with run_lock(warehouse):  # and the lock was let go when the run ended
        pass


def test_a_dagster_run_waits_for_pocmon_run_then_refuses_after_its_limit(tmp_path: Path
                                                                         ) -> None:
    warehouse = tmp_path / "pocmon.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse), "3"], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunInProgress, match=f"pid {holder.pid}"), _resource_run(
                warehouse, 0):
            pass
        started = time.monotonic()
        with _resource_run(warehouse, 60) as resource:
            waited = time.monotonic() - started
            assert isinstance(resource, WarehouseResource)
        assert 0.5 < waited < 30
    finally:
        holder.kill()
        holder.wait()


def test_a_run_that_waited_names_itself_to_the_next_one(tmp_path: Path) -> None:
    """`pocmon run --wait`: once the lock is its own, others are told about this run, not the
    one it waited for."""
    warehouse = tmp_path / "pocmon.duckdb"
    first = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse), "2"], cwd=REPO,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "held"
        waits: list[str] = []
        with run_lock(warehouse, wait_seconds=60, on_wait=waits.append):
            assert waits and f"pid {first.pid}" in waits[0]
            shown = json.loads(lock_path(warehouse).read_text("utf-8"))
            assert shown["pid"] == os.getpid()
            assert str(first.pid) not in shown["command"]
            assert shown["command"].startswith("pocmon")
    finally:
        first.kill()
        first.wait()


# A run killed with -9 while it has forked workers: they must not keep its lock held.
KILLED_WITH_WORKERS = """
import multiprocessing, os, sys, time
from pathlib import Path
from pipelines.forked import forked_pool
from pipelines.runlock import run_lock

def note_and_sleep(path):
    Path(path).write_text(str(os.getpid()))
    time.sleep(60)

with run_lock(Path(sys.argv[1])):
    if sys.argv[2] == "pool":  # a worker of pipelines.forked
        pool = forked_pool(1)
        pool.submit(note_and_sleep, sys.argv[3])
    else:  # any other forked child
        multiprocessing.get_context("fork").Process(
            target=note_and_sleep, args=(sys.argv[3],)).start()
    while not Path(sys.argv[3]).exists():
        time.sleep(0.05)
    print("held", flush=True)
    time.sleep(60)
"""


def _kill_holding(warehouse: Path, kind: str, pid_file: Path) -> int:
    """Start a process that holds the lock and forks a worker, kill it with -9 once the
    worker runs; return the worker's pid."""
    holder = subprocess.Popen([sys.executable, "-c", KILLED_WITH_WORKERS, str(warehouse),
                               kind, str(pid_file)], cwd=REPO, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
    finally:
        holder.kill()
        holder.wait()
    return int(pid_file.read_text())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:  # a zombie is not alive
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG: Linux")
def test_workers_of_a_killed_run_end_with_it_and_free_the_lock(tmp_path: Path) -> None:
    warehouse = tmp_path / "pocmon.duckdb"
    worker = _kill_holding(warehouse, "pool", tmp_path / "worker.pid")
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)
    with run_lock(warehouse):
        pass


def test_a_forked_child_does_not_hold_the_run_lock(tmp_path: Path) -> None:
    warehouse = tmp_path / "pocmon.duckdb"
    child = _kill_holding(warehouse, "process", tmp_path / "child.pid")
    try:
        assert _alive(child)  # it outlived the run that forked it...
        with run_lock(warehouse):  # ...and the lock was let go with the run all the same
            pass
    finally:
        os.kill(child, 9)
