"""Published outputs: the quarantine report and the run summary, swapped in atomically."""

import json

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from dashboards.quarantine_report import build_quarantine_report
from pipelines.defs.ingestion import ingestion_assets
from pipelines.defs.resources import InboxResource, WarehouseResource
from pipelines.defs.transform import pocmon_dbt_models
from pipelines.publish import publish_folder

MART_COUNTS_SQL = """
select table_name, estimated_size as rows
from duckdb_tables() where schema_name = 'marts' order by table_name
"""


@asset(
    group_name="outputs",
    kinds={"html", "csv"},
    deps=[*ingestion_assets, pocmon_dbt_models],
    description="data/published/quarantine/: every rejected file and quarantined row "
    "(CSV and HTML), plus run_summary.json with the warehouse's file and mart counts.",
)
def quarantine_report(context: AssetExecutionContext, warehouse: WarehouseResource,
                      inbox: InboxResource) -> MaterializeResult:
    target = inbox.published / "quarantine"
    with warehouse.get_connection() as con, publish_folder(target) as folder:
        counts = build_quarantine_report(con, folder)
        marts = dict(con.execute(MART_COUNTS_SQL).fetchall())
        summary = {"run_id": context.run_id, **counts, "mart_rows": marts}
        (folder / "run_summary.json").write_text(json.dumps(summary, indent=2), "utf-8")
    context.log.info(
        f"quarantine report: {counts['rejected_files']} rejected file(s), "
        f"{counts['quarantined_rows']} quarantined row(s) -> {target}"
    )
    return MaterializeResult(metadata={
        **counts,
        "report": MetadataValue.path(str(target / "quarantine_report.html")),
    })
