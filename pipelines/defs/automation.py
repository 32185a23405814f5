"""When the weekly job runs: on a schedule from the settings, and when files land."""

from __future__ import annotations

import hashlib

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
from pipelines.ingest.load import discover, quick_key

weekly_job = define_asset_job(
    "weekly_job",
    selection=AssetSelection.all(),
    description="Ingest the inbox, build the dbt models and tests, publish the outputs.",
    # the job's console logger (pipelines/definitions.py) for every run, however started:
    # Dagster uses a job's own loggers only when the run's config names them
    config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
)


def inbox_fingerprint() -> tuple[str, int]:
    """A digest of every file the weekly job would look at (pipelines.ingest.load.discover:
    any type, so that one it cannot read gets its rejection) by name, size and modification
    time, and the file count."""
    inbox = get_settings().paths.inbox
    entries = [entry for source in SOURCES for path in discover(inbox, source)
               if (entry := quick_key(path.relative_to(inbox).as_posix(), path))]
    lines = sorted(f"{name}|{size}|{mtime}" for name, size, mtime in entries)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:20], len(lines)


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
    fingerprint, count = inbox_fingerprint()
    if count == 0:
        context.update_cursor(fingerprint)  # seen, empty: its first files are a change
        return SkipReason("the inbox is empty")
    if fingerprint == context.cursor:
        return SkipReason(f"no change in the inbox ({count} file(s))")
    first_look = context.cursor is None
    context.update_cursor(fingerprint)
    if first_look:  # e.g. `pocmon dev` opened after `pocmon run`: what is there now is known
        return SkipReason(f"recorded the inbox ({count} file(s)); a run starts when files "
                          "are added or changed (or at the schedule, or with `pocmon run`)")
    return RunRequest(run_key=f"inbox-{fingerprint}", tags={"pocmon/trigger": "inbox_sensor"})
