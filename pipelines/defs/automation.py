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

weekly_job = define_asset_job(
    "weekly_job",
    selection=AssetSelection.all(),
    description="Ingest the inbox, build the dbt models and tests, publish the outputs.",
)


def inbox_fingerprint() -> tuple[str, int]:
    """A digest of every inbox file's name, size and modification time, and the file count."""
    settings = get_settings()
    entries = []
    for source in SOURCES:
        folder = settings.paths.inbox / source
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix.lower() in settings.inbox.extensions:
                stat = path.stat()
                entries.append(f"{path.relative_to(settings.paths.inbox)}|{stat.st_size}|"
                               f"{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()[:20], len(entries)


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
        return SkipReason("the inbox is empty")
    if fingerprint == context.cursor:
        return SkipReason(f"no change in the inbox ({count} file(s))")
    context.update_cursor(fingerprint)
    return RunRequest(run_key=f"inbox-{fingerprint}", tags={"pocmon/trigger": "inbox_sensor"})
