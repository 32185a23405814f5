"""Resources injected into assets: the warehouse, the inbox and dbt."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Self

import duckdb
from dagster import ConfigurableResource, InitResourceContext
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging.version import Version

from pipelines.config import get_settings
from pipelines.defs.dbt_project import dbt_project
from pipelines.ingest.pseudonymise import load_or_create_key
from pipelines.reference import Reference, load_reference
from pipelines.runlock import run_lock


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse; its folder is created on first use (a fresh clone has none).

    A run holds the warehouse's run lock (pipelines/runlock.py) from its first step to its
    last, however it was started: `pocmon run` takes it first (the job then re-enters it),
    a run from the Dagster UI, the schedule or the sensor takes it here, waiting up to
    ``run_lock_wait_seconds`` for a `pocmon run` in progress. So a `pocmon run` started
    while the UI's run writes refuses plainly, as one started beside another does.

    The connection is closed even when the step fails (dagster-duckdb closes it only on
    success, and a failed step's open connection kept the CLI from reading the warehouse
    afterwards)."""

    run_lock_wait_seconds: float = 3600

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[Self]:
        said: list[str] = []

        def waiting(message: str) -> None:  # once, not at every poll
            if not said and context.log:
                context.log.info(message)
            said.append(message)

        run_id = context.run_id or "?"
        with run_lock(Path(self.database), wait_seconds=self.run_lock_wait_seconds,
                      on_wait=waiting, holder=f"the Dagster run {run_id[:8]} of the weekly job"
                      ), super().yield_for_execution(context) as resource:
            yield resource

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with super().get_connection() as con:
            try:
                yield con
            finally:
                con.close()


class InboxResource(ConfigurableResource):
    """Where files arrive, the reference data they are checked against, and the secret key."""

    inbox_dir: str
    reference_dir: str
    key_file: str
    published_dir: str
    extensions: list[str]
    max_file_mb: float
    source_max_file_mb: dict[str, float] = {}

    @property
    def inbox(self) -> Path:
        return Path(self.inbox_dir)

    @property
    def published(self) -> Path:
        return Path(self.published_dir)

    def reference(self) -> Reference:
        return load_reference(Path(self.reference_dir))

    def key(self) -> bytes:
        return load_or_create_key(Path(self.key_file))


class PocmonDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI without two start-up costs of every ``dbt.cli`` call (about 4 s a
    run): ``dbt --version`` in a subprocess (the dbt run is the one installed beside this
    Python, so its version is dbt-core's package version), and a dbt adapter built in this
    process, which serves column metadata and row counts that pocmon does not fetch.
    Overrides private methods of the exactly pinned dagster-dbt (pyproject.toml)."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def _dbt_executable() -> str:
    """The dbt installed beside this Python (a venv's bin/ need not be on PATH)."""
    for beside in (Path(sys.executable).with_name("dbt"), Path(sys.prefix) / "bin" / "dbt"):
        if beside.exists():
            return str(beside)
    return shutil.which("dbt") or "dbt"


def build_resources() -> dict[str, object]:
    """Resources from the settings (paths from config/pocmon.yaml and the environment)."""
    settings = get_settings()
    return {
        # the job's own connections (ingestion, outputs) share dbt's memory limit when set
        "warehouse": WarehouseResource(
            database=str(settings.paths.warehouse),
            connection_config={"memory_limit": limit} if (
                limit := os.environ.get("POCMON_DUCKDB_MEMORY_LIMIT")) else {}),
        "inbox": InboxResource(
            inbox_dir=str(settings.paths.inbox),
            reference_dir=str(settings.paths.reference),
            key_file=str(settings.paths.key_file),
            published_dir=str(settings.paths.published),
            extensions=settings.inbox.extensions,
            max_file_mb=settings.inbox.max_file_mb,
            source_max_file_mb=settings.inbox.source_max_file_mb,
        ),
        "dbt": PocmonDbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_executable()),
    }
