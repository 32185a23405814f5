"""The Dagster code location: ``dagster dev -m pipelines.definitions`` shows the whole graph."""

from dagster import Definitions, in_process_executor

from pipelines.defs.automation import build_schedule, inbox_sensor, weekly_job
from pipelines.defs.ingestion import ingestion_assets
from pipelines.defs.outputs import dashboards, indicator_tracking_tables, quarantine_report
from pipelines.defs.resources import build_resources
from pipelines.defs.transform import console_logger, pocmon_dbt_models

defs = Definitions(
    assets=[
        *ingestion_assets, pocmon_dbt_models, quarantine_report, indicator_tracking_tables,
        dashboards,
    ],
    jobs=[weekly_job],
    schedules=[build_schedule()],
    sensors=[inbox_sensor],
    resources=build_resources(),
    executor=in_process_executor,
    loggers={"console": console_logger},
)
