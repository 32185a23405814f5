"""Hand-made warehouses for the dbt tests: rows inserted as ingestion would insert them, then a
real `dbt build` (test_dbt_models, test_indicator_values).

Rows are given in the mission's local time, as the files carry them; ``insert_raw`` adds the
UTC twins and the lineage columns, ``insert_manifest`` the ops.manifest rows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import yaml

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
# Africa/Bangui and Africa/Juba (Juba has been UTC+2 since February 2021)
UTC_OFFSET_HOURS = {"MINUSCA": 1, "UNMISS": 2}
TIMESTAMPS = {
    "patrols": ["start_time", "end_time"],
    "incidents": ["occurred_at", "reported_at", "alert_received_at", "response_arrived_at",
                  "referred_at"],
}
LOADED_AT = datetime(2025, 1, 27, 9, 0)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def insert_raw(con: duckdb.DuckDBPyConnection, source: str, rows: list[dict],
               file_id: Callable[[dict], str], loaded_at: datetime = LOADED_AT) -> None:
    """Insert rows into raw.<source> as ingestion would: UTC twins of local times, lineage
    columns (``file_id(row)`` names the row's file; rows are numbered from 2 in each file, as
    a spreadsheet shows them under the header)."""
    numbers: dict[str, int] = {}
    for row in rows:
        full = dict(row)
        for name in TIMESTAMPS.get(source, []):
            local = full[name]
            shift = timedelta(hours=UTC_OFFSET_HOURS[full["mission"]])
            full[f"{name}_utc"] = None if local is None else local - shift
        file = file_id(row)
        numbers[file] = numbers.get(file, 1) + 1
        full.update({
            "_file_id": file, "_source_file": f"{source}/{file}.csv",
            "_content_hash": "0" * 64, "_row_number": numbers[file], "_loaded_at": loaded_at,
        })
        columns = ", ".join(f'"{name}"' for name in full)
        marks = ", ".join("?" for _ in full)
        con.execute(f"insert into raw.{source} ({columns}) values ({marks})", list(full.values()))


def insert_manifest(con: duckdb.DuckDBPyConnection, file_id: str, source: str, slot: str | None,
                    status: str, rows_read: int, rows_loaded: int, rows_quarantined: int,
                    received_at: datetime | None, processed_at: datetime,
                    superseded_by: str | None = None, file_name: str | None = None) -> None:
    """One ops.manifest row (received_at is the file's modification time, in UTC)."""
    con.execute(
        "insert into ops.manifest (file_id, source, file_name, content_hash, slot, status,"
        " rows_read, rows_loaded, rows_quarantined, received_at, processed_at,"
        " superseded_by, message, run_id)"
        " values (?, ?, ?, 'h', ?, ?, ?, ?, ?, ?, ?, ?, null, 'run-1')",
        [file_id, source, file_name or f"{source}/{file_id}.csv", slot, status, rows_read,
         rows_loaded, rows_quarantined, received_at, processed_at, superseded_by],
    )


def copy_project(destination: Path) -> Path:
    """A copy of the dbt project (without its target and logs), so a test can change a seed
    without touching the repository's."""
    shutil.copytree(DBT_PROJECT, destination,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"))
    return destination


def dbt_build(warehouse: Path, work: Path, *, project: Path = DBT_PROJECT,
              dbt_vars: dict | None = None, select: str | None = None,
              args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """A real `dbt build` of ``project`` into ``warehouse``; target and logs under ``work``.
    ``select``: only these nodes (dbt selection syntax), with no test selected indirectly
    (select tests by their folder or name); ``args`` are added (e.g. ``--full-refresh``)."""
    env = {**os.environ, "POCMON_WAREHOUSE": str(warehouse),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [str(DBT), "build", "--project-dir", str(project), "--profiles-dir",
               str(project), "--target-path", str(work / "target"), "--log-path",
               str(work / "logs"), "--no-use-colors", *args]
    if dbt_vars:
        command += ["--vars", yaml.safe_dump(dbt_vars, default_flow_style=True).strip()]
    if select:
        command += ["--select", select, "--indirect-selection", "empty"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The single row a query returns (fails on none or several)."""
    rows = con.execute(sql, params or []).fetchall()
    assert len(rows) == 1, rows
    return rows[0]
