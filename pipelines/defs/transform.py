"""The dbt models as Dagster assets: ``dbt build`` runs models, seeds and tests together."""

import json
import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    InitLoggerContext,
    Output,
    colored_console_logger,
    logger,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipelines.config import DBT_FULL_REFRESH_ENV
from pipelines.dbt_selection import (
    BuildPlan,
    plan_build,
    project_fingerprint,
    record_attempt,
    record_build,
    utc_now,
)
from pipelines.defs.dbt_project import dbt_project
from pipelines.defs.resources import WarehouseResource

# One fixed target folder per run (runs are queued one at a time), so dagster-dbt does not
# leave a new folder behind on every run.
RUN_TARGET = Path("target") / "dagster_run"
# the published layer: its generic dbt tests are Dagster asset checks
CHECKED_LAYER = "marts"
# pocmon's own code, which the dbt Python models import (part of a build's fingerprint)
CODE_DIR = Path(__file__).resolve().parents[1]
UNIQUE_ID = "dagster_dbt/unique_id"  # dagster-dbt's metadata key on each asset spec


class PocmonDbtTranslator(DagsterDbtTranslator):
    """dbt tests as Dagster asset checks where they guard what is published: every test on a
    mart, and the singular tests of dbt_project/tests (pipeline-wide assertions). Generic tests
    on staging, intermediate models and seeds still run in ``dbt build`` (a failure fails the
    step) but are not asset checks: each check costs the run three event-log writes, about a
    third of a weekly run's time on a large warehouse before this rule."""

    def get_asset_check_spec(self, asset_spec: AssetSpec, manifest: Mapping[str, Any],
                             unique_id: str, project: DbtProject | None
                             ) -> AssetCheckSpec | None:
        if not is_reported_test(manifest, unique_id, asset_spec.key.path[0]):
            return None
        return super().get_asset_check_spec(asset_spec, manifest, unique_id, project)


def is_reported_test(manifest: Mapping[str, Any], unique_id: str, layer: str) -> bool:
    """Is this dbt test an asset check (``layer``: the first part of its model's asset key)?"""
    singular = not manifest["nodes"].get(unique_id, {}).get("test_metadata")
    return singular or layer == CHECKED_LAYER


TRANSLATOR = PocmonDbtTranslator()


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project,
            dagster_dbt_translator=TRANSLATOR)
def pocmon_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource,
                      warehouse: WarehouseResource):
    """Staging, intermediate and mart models with their dbt tests (as asset checks).

    A weekly run builds what its new files reach (pipelines/dbt_selection.py); the models it
    leaves as they were are reported with ``rebuilt: false``, so the outputs still run."""
    run_target = dbt_project.project_dir / RUN_TARGET
    shutil.rmtree(run_target, ignore_errors=True)
    # `pocmon run --full-refresh`: incremental marts rebuilt from scratch (after a change to
    # their SQL, which otherwise applies to new files only)
    full_refresh = os.environ.get(DBT_FULL_REFRESH_ENV) == "1"
    # dbt unit tests check the models' logic on fixed inputs, not the week's data: dbt
    # advises leaving them out of production runs (the test suite runs them)
    args = ["build", *(["--full-refresh"] if full_refresh else []),
            "--exclude-resource-type", "unit_test"]
    fingerprint = project_fingerprint(dbt_project.project_dir, CODE_DIR)
    if context.is_subset:  # a selection made in the Dagster UI: build just that
        plan = BuildPlan(None, "assets were selected by hand")
    else:
        with warehouse.get_connection() as con:
            plan = plan_build(con, fingerprint, full_refresh)
    context.log.info(f"no dbt build: {plan.reason}" if plan.select == () else
                     f"dbt build of {plan.label}: {plan.reason}")
    started = utc_now()
    if plan.select != () and not context.is_subset:
        with warehouse.get_connection() as con:
            record_attempt(con, context.run_id, started, fingerprint)
    # the models this run leaves as they are first: none depends on one it rebuilds, and
    # Dagster wants a multi-asset's outputs in dependency order
    manifest = json.loads(dbt_project.manifest_path.read_text("utf-8"))
    unbuilt = plan.unbuilt(manifest)
    keys = {spec.metadata.get(UNIQUE_ID): spec.key for spec in context.assets_def.specs}
    for unique_id in unbuilt:
        if keys.get(unique_id) in context.selected_asset_keys:
            yield Output(None, output_name=context.assets_def.get_output_name_for_asset_key(
                keys[unique_id]), metadata={
                    "rebuilt": False, "why": "no new file reaches it since the last build"})
    if plan.select is None:
        yield from _reported_events(context, dbt.cli(args, context=context,
                                                     target_path=RUN_TARGET))
    elif plan.select:
        yield from _reported_events(context, dbt.cli(
            [*args, "--select", " ".join(plan.select)], manifest=manifest,
            dagster_dbt_translator=TRANSLATOR, target_path=RUN_TARGET))
    if not context.is_subset:
        with warehouse.get_connection() as con:
            record_build(con, context.run_id, started, fingerprint, plan)


def _reported_events(context: AssetExecutionContext, invocation) -> Iterator[object]:
    """dagster-dbt's events for the models and the tests that are asset checks; the other
    tests' results are in dbt's log and run_results.json only (not one observation each)."""
    checks = {key.name for key in context.selected_asset_check_keys}
    manifest = invocation.manifest
    for event in invocation.stream_raw_events():
        unique_id = event.raw_event["data"].get("node_info", {}).get("unique_id") or ""
        if (unique_id.startswith("test.") and event.is_result_event
                and manifest["nodes"].get(unique_id, {}).get("name") not in checks):
            continue
        yield from event.to_default_asset_events(
            manifest=manifest, dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=context, target_path=invocation.target_path, project=invocation.project)


class UnbuiltChecksFilter(logging.Filter):
    """Drop Dagster's notes that checks of the dbt step gave no result.

    Two notes: the warning that a blocking check "emitted no result" in the dbt step (logged by
    dagster/_core/execution/plan/active.py), which Dagster logs once per unbuilt model's check
    and downstream step, about 400 lines on a weekly run; and the run log's line that the dbt
    op "did not yield or return expected outputs", which names every check of the models left
    as they were (about 7,000 characters on a weekly run), burying the run's own summary.

    Every check of the dbt step is dropped from them, not only those of the models a weekly
    run leaves as they were (reported ``rebuilt: false``): a test the step runs always emits
    a result, and a dbt build that fails fails the step, so the outputs never run after it.
    The run's event log keeps the second note for the Dagster UI."""

    def __init__(self, step_key: str):
        super().__init__()
        self.checks = f"emitted no result in step {step_key!r}"
        self.outputs = f"op '{step_key}' did not yield or return expected outputs"

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno == logging.INFO:  # the run log's note, not a failure naming it
            return self.outputs not in message
        return not (message.startswith("Blocking asset check") and self.checks in message)


UNBUILT_CHECKS = UnbuiltChecksFilter(pocmon_dbt_models.op.name)
# the Dagster module that logs the first note (dagster/_core/execution/plan/active.py)
logging.getLogger("dagster._core.execution.plan.active").addFilter(UNBUILT_CHECKS)


class WithoutStackTraces(logging.Formatter):
    """A console formatter that leaves out the stack traces of failures: a failed step's
    record keeps each error and cause ("cannot publish ...: the disk is full"), not the 30
    to 100 lines of frames under each, which buried the message a user can act on. The run's
    event log keeps the whole record (the Dagster UI shows it: ``pocmon dev``)."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        if "Stack Trace:" not in text:
            return text
        kept: list[str] = []
        in_frames = False
        for line in text.splitlines():
            if line.strip() == "Stack Trace:":
                in_frames = True
                continue
            if in_frames and (line.startswith(" ") or not line.strip()):
                continue
            in_frames = False
            if line.strip() or (kept and kept[-1].strip()):
                kept.append(line)
        kept.append("(stack traces: the run in the Dagster UI, `pocmon dev`)")
        return "\n".join(kept)


@logger(colored_console_logger.config_schema,
        description="Dagster's coloured console logger, without the notes on the dbt step's "
        "unbuilt checks (UnbuiltChecksFilter) and without the stack traces of failures "
        "(WithoutStackTraces; the run's event log keeps them).")
def console_logger(init_context: InitLoggerContext) -> logging.Logger:
    """The run's console log (``console`` in the weekly job's config)."""
    log = colored_console_logger.logger_fn(init_context)
    log.addFilter(UNBUILT_CHECKS)
    for handler in log.handlers:
        handler.setFormatter(WithoutStackTraces(handler.formatter or logging.Formatter()))
    return log
