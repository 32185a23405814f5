"""Every run holds the warehouse's run lock, however it was started: `pocmon run` (the CLI
takes it) and runs Dagster starts (the UI, the schedule, the sensor: the warehouse resource
takes it). Real processes and a real flock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import build_init_resource_context

from pipelines.defs.resources import WarehouseResource
from pipelines.runlock import RunInProgress, run_lock

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
