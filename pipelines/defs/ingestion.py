"""One ingestion asset per source, with its contract results as asset checks beside it."""

from collections import Counter

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipelines.config import SOURCES
from pipelines.contracts import load_contract
from pipelines.defs.resources import InboxResource, WarehouseResource
from pipelines.ingest.load import SourceReport, ingest_source, linked_folders
from pipelines.ingest.warehouse import ensure_schema

ACCOUNTING_SQL = """
select m.file_name, m.rows_read, m.rows_loaded, m.rows_quarantined,
       (select count(*) from raw.{source} r where r._file_id = m.file_id) as rows_in_raw
from ops.manifest m
where m.source = '{source}' and m.status = 'loaded'
  and (m.rows_read <> m.rows_loaded + m.rows_quarantined
       or m.rows_loaded <> (select count(*) from raw.{source} r where r._file_id = m.file_id))
"""


def _summary(report: SourceReport) -> dict[str, object]:
    return {
        "files_new": len([f for f in report.files if f.status != "unchanged"]),
        "files_loaded": report.count("loaded"),
        "files_rejected": report.count("rejected"),
        "files_unchanged": report.count("unchanged"),
        "files_superseding": sum(f.superseded is not None for f in report.files),
        "rows_read": report.total("rows_read"),
        "rows_loaded": report.total("rows_loaded"),
        "rows_quarantined": report.total("rows_quarantined"),
    }


def build_ingestion_asset(source: str) -> AssetsDefinition:
    """The asset ``raw/<source>``: new inbox files validated and loaded into DuckDB."""
    contract = load_contract(source)
    key = AssetKey(["raw", source])

    @asset(
        key=key,
        group_name="ingestion",
        kinds={"duckdb", "python"},
        description=f"{contract.description} Loaded from data/inbox/{source}/ after the "
        "great-expectations contract; bad rows go to ops.quarantine.",
        check_specs=[
            AssetCheckSpec("contract", asset=key, description=(
                "great-expectations contract: no row of this run's new files was quarantined "
                "and no file was rejected (warns; bad rows never block good ones)")),
            AssetCheckSpec("rows_accounted_for", asset=key, description=(
                "for every loaded file: rows read = rows loaded + rows quarantined, and the "
                "raw table holds exactly the rows loaded")),
        ],
    )
    def ingest(context: AssetExecutionContext, warehouse: WarehouseResource,
               inbox: InboxResource) -> object:
        with warehouse.get_connection() as con:
            ensure_schema(con)
            report = ingest_source(
                con, source, inbox.inbox, inbox.reference(), inbox.key(),
                extensions=inbox.extensions, run_id=context.run_id, progress=context.log.info,
                max_file_mb=inbox.source_max_file_mb.get(source, inbox.max_file_mb),
            )
            for linked in linked_folders(inbox.inbox, [source]):
                context.log.warning(f"{linked}: a linked folder, not entered (pocmon never "
                                    "follows a link to a folder); copy its files into the "
                                    "inbox")
            mismatches = con.execute(ACCOUNTING_SQL.format(source=source)).fetchall()
            rules = Counter(
                rule for (rule,) in con.execute(
                    "select rule from ops.quarantine q join ops.manifest m using (file_id) "
                    "where m.source = ? and m.run_id = ?", [source, context.run_id]
                ).fetchall()
            )
            total_rows = con.execute(f"select count(*) from raw.{source}").fetchone()[0]
        summary = _summary(report)
        problems = [f"{f.file_name}: {f.message}" for f in report.files if f.status == "rejected"]
        yield MaterializeResult(
            asset_key=key,
            metadata={**summary, "rows_in_table": total_rows,
                      "rejected_files": MetadataValue.md("\n".join(f"- {p}" for p in problems)
                                                         or "none")},
        )
        yield AssetCheckResult(
            check_name="contract", asset_key=key,
            passed=summary["rows_quarantined"] == 0 and summary["files_rejected"] == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={"rows_validated": summary["rows_read"],
                      "rows_quarantined": summary["rows_quarantined"],
                      "files_rejected": summary["files_rejected"],
                      "broken_rules": MetadataValue.json(dict(rules))},
        )
        yield AssetCheckResult(
            check_name="rows_accounted_for", asset_key=key, passed=not mismatches,
            severity=AssetCheckSeverity.ERROR,
            metadata={"files_out_of_balance": MetadataValue.json(
                [list(map(str, m)) for m in mismatches])},
        )

    return ingest


ingestion_assets = [build_ingestion_asset(source) for source in SOURCES]
