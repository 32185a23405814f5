"""The dbt models as Dagster assets: ``dbt build`` runs models, seeds and tests together."""

import os
import shutil
from pathlib import Path

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.config import DBT_FULL_REFRESH_ENV
from pipelines.defs.dbt_project import dbt_project

# One fixed target folder per run (runs are queued one at a time), so dagster-dbt does not
# leave a new folder behind on every run.
RUN_TARGET = Path("target") / "dagster_run"


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def pocmon_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    """Staging, intermediate and mart models with their dbt tests (as asset checks)."""
    run_target = dbt_project.project_dir / RUN_TARGET
    shutil.rmtree(run_target, ignore_errors=True)
    # `pocmon run --full-refresh`: incremental marts rebuilt from scratch (after a change to
    # their SQL, which otherwise applies to new files only)
    args = ["build"] + (["--full-refresh"] if os.environ.get(DBT_FULL_REFRESH_ENV) == "1"
                        else [])
    yield from dbt.cli(args, context=context, target_path=RUN_TARGET).stream()
