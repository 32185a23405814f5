"""Published outputs: the quarantine report, the run summary, the indicator tracking tables and
the dashboards, each swapped in atomically."""

import json
from pathlib import Path

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from dashboards.build import build_dashboards_from
from dashboards.quarantine_report import build_quarantine_report
from pipelines.defs.ingestion import ingestion_assets
from pipelines.defs.resources import InboxResource, WarehouseResource
from pipelines.defs.transform import pocmon_dbt_models
from pipelines.forked import usable_cpus
from pipelines.indicators.export import ExportError, export
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


LATEST_FISCAL_YEAR_SQL = """
select max(period_label) from marts.fct_indicator_values
where period_type = 'fiscal_year' and value is not null
"""


@asset(
    group_name="outputs",
    kinds={"xlsx", "csv"},
    deps=[pocmon_dbt_models],
    description="data/published/indicators/: the indicator tracking tables of the latest fiscal "
    "year with data, per mission in its language, at mission and sector level, as Excel and "
    "CSV with their data dictionaries (what `pocmon export` writes), swapped in atomically.",
)
def indicator_tracking_tables(context: AssetExecutionContext, warehouse: WarehouseResource,
                              inbox: InboxResource) -> MaterializeResult:
    with warehouse.get_connection() as con:
        (fiscal_year,) = con.execute(LATEST_FISCAL_YEAR_SQL).fetchone()
    target = inbox.published / "indicators"
    files: list[str] = []
    suppressed = 0
    if fiscal_year is not None:
        with publish_folder(target) as folder:
            for level in ("mission", "sector"):
                try:
                    result = export(Path(warehouse.database), fiscal_year, folder, level,
                                    ("xlsx", "csv"))
                except ExportError as problem:  # e.g. no sector-level values yet
                    context.log.warning(f"{fiscal_year} {level}: {problem}")
                    continue
                files += [f.path.name for f in result.files]
                suppressed += result.suppressed
    context.log.info(f"indicator tracking tables {fiscal_year}: {len(files)} file(s) -> "
                     f"{target}")
    return MaterializeResult(metadata={
        "fiscal_year": fiscal_year or "none", "files": len(files),
        "suppressed_values": suppressed, "folder": MetadataValue.path(str(target)),
    })


@asset(
    group_name="outputs",
    kinds={"html", "plotly"},
    deps=[pocmon_dbt_models],
    description="data/published/dashboards/: the leadership, planning and budget dashboards of "
    "each mission in its language (self-contained HTML that opens offline) and index.html, "
    "from the published marts only; swapped in atomically.",
)
def dashboards(context: AssetExecutionContext, warehouse: WarehouseResource,
               inbox: InboxResource) -> MaterializeResult:
    target = inbox.published / "dashboards"
    with publish_folder(target) as folder:
        pages = build_dashboards_from(Path(warehouse.database), folder, workers=usable_cpus(),
                                      config=warehouse.connection_config)
    context.log.info(f"dashboards: {len(pages)} page(s) -> {target}")
    return MaterializeResult(metadata={
        "pages": len(pages), "index": MetadataValue.path(str(target / "index.html")),
    })
