"""The dbt project, as Dagster sees it."""

from __future__ import annotations

from dagster_dbt import DbtProject

from pipelines.config import DBT_PROJECT_DIR, get_settings

get_settings()  # sets POCMON_WAREHOUSE, which dbt's profiles.yml reads

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
