"""When the weekly job runs: on a schedule from the settings, and when files land."""

from __future__ import annotations

import contextlib
import hashlib

import duckdb
from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)

from pipelines.config import SOURCES, get_settings
from pipelines.ingest.load import discover

weekly_job = define_asset_job(
    "weekly_job",
    selection=AssetSelection.all(),
    description="Ingest the inbox, build the dbt models and tests, publish the outputs.",
)


def inbox_entries() -> set[tuple[str, int, int]]:
    """Every file the weekly job would look at (pipelines.ingest.load.discover: any type, so
    that one it cannot read gets its rejection), as (inbox path, size, mtime in ns)."""
    inbox = get_settings().paths.inbox
    entries = set()
    for source in SOURCES:
        for path in discover(inbox, source):
            with contextlib.suppress(OSError):  # gone since listed, a dangling link
                stat = path.stat()
                entries.add((path.relative_to(inbox).as_posix(), stat.st_size,
                             stat.st_mtime_ns))
    return entries


def inbox_fingerprint(entries: set[tuple[str, int, int]] | None = None) -> tuple[str, int]:
    """A digest of every inbox file's name, size and modification time, and the file count."""
    entries = inbox_entries() if entries is None else entries
    lines = sorted(f"{name}|{size}|{mtime}" for name, size, mtime in entries)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:20], len(lines)


def unprocessed(entries: set[tuple[str, int, int]]) -> int | None:
    """How many of the files no run has processed yet, as the weekly job knows them (name,
    size and mtime in ``ops.manifest``); None when the warehouse cannot be read now (a run
    is writing to it)."""
    warehouse = get_settings().paths.warehouse
    if not warehouse.exists():
        return len(entries)
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        known = set(con.execute(
            "select file_name, file_bytes, file_mtime_ns from ops.manifest").fetchall())
    except duckdb.Error:  # no manifest yet
        known = set()
    finally:
        con.close()
    return len(entries - known)


def build_schedule() -> ScheduleDefinition:
    schedule = get_settings().schedule
    return ScheduleDefinition(
        name="weekly_schedule",
        job=weekly_job,
        cron_schedule=schedule.cron,
        execution_timezone=schedule.timezone,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"The weekly job at '{schedule.cron}' ({schedule.timezone}), "
        "set in config/pocmon.yaml",
    )


@sensor(
    job=weekly_job,
    minimum_interval_seconds=get_settings().sensor.minimum_interval_seconds,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts the weekly job when files are added to or changed in the inbox.",
)
def inbox_sensor(context: SensorEvaluationContext):
    entries = inbox_entries()
    fingerprint, count = inbox_fingerprint(entries)
    if count == 0:
        return SkipReason("the inbox is empty")
    if fingerprint == context.cursor:
        return SkipReason(f"no change in the inbox ({count} file(s))")
    new = unprocessed(entries)
    if new is None:
        return SkipReason("a run is writing to the warehouse; looking again at the next tick")
    context.update_cursor(fingerprint)
    if new == 0:  # e.g. the first look after `pocmon run`, or a file removed
        return SkipReason(f"every inbox file ({count}) has been processed already")
    return RunRequest(run_key=f"inbox-{fingerprint}", tags={"pocmon/trigger": "inbox_sensor"})
