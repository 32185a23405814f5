"""The schedule comes from configuration; the sensor fires when inbox files land or change."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import RunRequest, SkipReason, build_sensor_context

from pipelines.config import get_settings
from pipelines.defs.automation import build_schedule, inbox_sensor


def test_schedule_uses_configured_day_and_time():
    schedule = build_schedule()
    settings = get_settings()
    assert schedule.cron_schedule == settings.schedule.cron
    assert schedule.execution_timezone == settings.schedule.timezone
    assert schedule.job_name == "weekly_job"


def test_sensor_requests_a_run_only_when_the_inbox_changes(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("POCMON_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("POCMON_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    get_settings.cache_clear()
    try:
        empty = build_sensor_context()
        first = inbox_sensor(empty)
        assert isinstance(first, SkipReason) and "empty" in first.skip_message

        landed = tmp_path / "inbox" / "patrols" / "UNMISS_2025-W01_patrols.csv"
        landed.parent.mkdir(parents=True)
        landed.write_text("patrol_id\n")
        context = build_sensor_context(cursor=empty.cursor)
        request = inbox_sensor(context)
        assert isinstance(request, RunRequest)
        cursor = context.cursor

        again = inbox_sensor(build_sensor_context(cursor=cursor))
        assert isinstance(again, SkipReason)

        landed.write_text("patrol_id\nP-1\n")
        os.utime(landed, (1e9, 1e9))
        changed = inbox_sensor(build_sensor_context(cursor=cursor))
        assert isinstance(changed, RunRequest) and changed.run_key != request.run_key

        # a file of a type the job does not read still starts it (the run rejects it, and
        # says why), so does one in a sub-folder; hidden and system files, and those in a hidden
        # folder (a sync tool's old copies), do not
        cursor = changed.run_key.removeprefix("inbox-")
        for name in (".~lock.x.csv#", "Thumbs.db", ".stversions/UNMISS_2024-W52_patrols.csv"):
            (landed.parent / name).parent.mkdir(exist_ok=True)
            (landed.parent / name).write_text("x")
        assert isinstance(inbox_sensor(build_sensor_context(cursor=cursor)), SkipReason)
        (landed.parent / "week.zip").write_bytes(b"PK")
        assert isinstance(inbox_sensor(build_sensor_context(cursor=cursor)), RunRequest)
    finally:
        get_settings.cache_clear()


def test_sensor_first_look_records_the_inbox_without_a_run(tmp_path: Path, monkeypatch):
    """With no record yet (e.g. `pocmon dev` opened after `pocmon run`), the files already
    there are recorded, not run again; one added after is a change. The sensor never opens
    the warehouse (a read-only connection would block a run from writing)."""
    monkeypatch.setenv("POCMON_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("POCMON_WAREHOUSE", str(tmp_path / "missing" / "warehouse.duckdb"))
    get_settings.cache_clear()
    try:
        there = tmp_path / "inbox" / "patrols" / "UNMISS_2025-W01_patrols.csv"
        there.parent.mkdir(parents=True)
        there.write_text("patrol_id\n")
        context = build_sensor_context()
        skipped = inbox_sensor(context)
        assert isinstance(skipped, SkipReason) and "recorded the inbox" in skipped.skip_message
        assert context.cursor

        (there.parent / "UNMISS_2025-W02_patrols.csv").write_text("patrol_id\n")
        assert isinstance(inbox_sensor(build_sensor_context(cursor=context.cursor)),
                          RunRequest)
        assert not (tmp_path / "missing").exists()
    finally:
        get_settings.cache_clear()


def test_definitions_hold_the_whole_graph():
    """What `dagster dev` shows: ingestion, dbt models with their tests as checks, outputs."""
    from dagster import AssetKey

    from pipelines.cli import prepare_dbt

    prepare_dbt()  # a fresh clone has no dbt manifest yet
    from pipelines.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {f"raw/{s}" for s in ("patrols", "incidents", "trainings", "strength", "surveys",
                                 "ged", "personnel")} <= keys
    assert {"staging/stg_pocmon__patrols", "marts/fct_site_weeks", "quarantine_report"} <= keys
    checks = {(c.asset_key, c.name) for c in defs.resolve_asset_graph().asset_check_keys}
    assert (AssetKey(["raw", "patrols"]), "rows_accounted_for") in checks
    assert any(key == AssetKey(["marts", "fct_patrols"]) and name.startswith("unique")
               for key, name in checks)
    assert (AssetKey(["staging", "stg_ops__manifest"]),
            "assert_manifest_rows_accounted_for") in checks
    # the public datasets' dbt models are fed by their ingestion assets (one lineage)
    graph = defs.resolve_asset_graph()
    for source, model in (("ged", "stg_public__ged_events"),
                          ("personnel", "stg_public__personnel_contributions")):
        assert AssetKey(["raw", source]) in graph.get(AssetKey(["staging", model])).parent_keys
    assert "marts/fct_mission_months" in keys
    assert defs.resolve_job_def("weekly_job") is not None
    assert {s.name for s in defs.sensors} == {"inbox_sensor"}


def test_dbt_is_found_without_the_venv_on_path(monkeypatch):
    """`dagster dev` starts a code server whose PATH may not hold the venv's bin/."""
    from pipelines.defs.resources import _dbt_executable

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert Path(_dbt_executable()).is_file()


def test_every_run_logs_through_the_console_logger_that_drops_the_unbuilt_checks_note(capsys):
    """Runs from the UI, the schedule or the sensor pass no run config, so the job's own
    config names its console logger; that logger drops Dagster's INFO note on the dbt step's
    unbuilt checks, never a failure that quotes it."""
    from dagster import build_init_logger_context

    from pipelines.definitions import defs
    from pipelines.defs.transform import console_logger, pocmon_dbt_models

    job = defs.resolve_job_def("weekly_job")
    assert job.loggers["console"] is console_logger
    assert "console" in job.run_config["loggers"]
    log = console_logger.logger_fn(build_init_logger_context(
        logger_config={"log_level": "INFO", "name": "pocmon-test"}))
    note = (f"op '{pocmon_dbt_models.op.name}' did not yield or return expected outputs "
            "{'marts__dim_sites_unique_dim_sites_site_id'}.")
    log.info(note)
    log.info("dbt build of all")
    log.error(f"Step failed: {note}")
    printed = capsys.readouterr()
    said = printed.out + printed.err
    assert "dbt build of all" in said
    assert said.count("did not yield or return expected outputs") == 1
    assert "Step failed" in said


def test_the_console_shows_a_failure_without_its_stack_trace(capsys):
    """A failed step's error and cause reach the console; the frames under them stay in the
    run's event log (the Dagster UI)."""
    from dagster import DagsterInstance, job, op

    from pipelines.defs.transform import console_logger

    @op
    def publish_step() -> None:
        try:
            raise OSError(30, "Read-only file system", "/data/published/.dashboards.tmp-1")
        except OSError as exc:
            raise RuntimeError("cannot publish /data/published/dashboards: the folder is on "
                               "a read-only file system") from exc

    @job(logger_defs={"console": console_logger},
         config={"loggers": {"console": {"config": {"log_level": "INFO"}}}})
    def failing_job():
        publish_step()

    with DagsterInstance.ephemeral() as instance:
        result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
        logged = "\n".join(str(e.dagster_event.event_specific_data.error.to_string())
                           for e in instance.all_logs(result.run_id)
                           if e.dagster_event and e.dagster_event.is_step_failure)
    printed = capsys.readouterr()
    said = printed.out + printed.err
    assert not result.success
    assert "the folder is on a read-only file system" in said
    assert "OSError: [Errno 30] Read-only file system" in said  # the cause, one line
    assert "Stack Trace:" not in said and '  File "' not in said
    assert "pocmon dev" in said
    assert 'in publish_step' in logged  # the event log keeps the frames
