"""The DuckDB warehouse: schemas and tables that ingestion writes and dbt reads.

Schemas: ``raw`` (one table per source, good rows with lineage), ``restricted`` (free-text
narratives, sealed per file: ``pipelines/ingest/restricted.py``; never read by dbt), ``ops``
(the file manifest and the quarantine).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.contracts import load_contracts
from pipelines.ingest.restricted import store_sealed

MANIFEST_DDL = """
create table if not exists ops.manifest (
    file_id varchar primary key,      -- content hash prefix + source: one per distinct file
    source varchar not null,
    file_name varchar not null,       -- path relative to the inbox
    content_hash varchar not null,    -- sha256 of the file's bytes
    slot varchar,                     -- source|mission|period: a re-submission supersedes
    status varchar not null,          -- loaded | rejected | superseded
    rows_read integer not null,
    rows_loaded integer not null,
    rows_quarantined integer not null,
    received_at timestamp,            -- the file's modification time
    processed_at timestamp not null,
    superseded_by varchar,
    message varchar,
    run_id varchar,
    file_bytes bigint,                -- size and modification time (ns) when processed: an
    file_mtime_ns bigint              -- unchanged file is known again without reading it
)
"""

QUARANTINE_DDL = """
create table if not exists ops.quarantine (
    file_id varchar not null,
    source varchar not null,
    source_file varchar not null,
    content_hash varchar not null,
    row_number integer,               -- row in the file as a spreadsheet shows it (header = 1)
    column_name varchar,
    rule varchar not null,
    offending_value varchar,          -- personal and restricted values are never kept
    message varchar not null,
    quarantined_at timestamp not null
)
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema and table ingestion needs, if missing."""
    for schema in ("raw", "restricted", "ops"):
        con.execute(f"create schema if not exists {schema}")
    con.execute(MANIFEST_DDL)
    for column in ("file_bytes", "file_mtime_ns"):  # warehouses made before these columns
        con.execute(f"alter table ops.manifest add column if not exists {column} bigint")
    con.execute(QUARANTINE_DDL)
    for source, contract in load_contracts().items():
        columns = ", ".join(f'"{n}" {t}' for n, t in contract.raw_table_columns().items())
        con.execute(f"create table if not exists raw.{source} ({columns})")
        for spec in contract.restricted_columns:
            _ensure_restricted_table(con, f"restricted.{source}_{spec.name}")


RESTRICTED_DDL = """
create table if not exists {table} (
    _file_id varchar not null,
    part integer not null,            -- the token's parts, joined in this order
    rows integer not null,            -- rows sealed in the file's token (on part 0; 0 after)
    token blob not null,
    primary key (_file_id, part)
)
"""


def _ensure_restricted_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The table of a restricted column; one made before tokens were stored in parts (one
    row per file) is rewritten in parts, in the caller's transaction if any."""
    schema, name = table.split(".")
    columns = {c for (c,) in con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
        [schema, name]).fetchall()}
    if columns and "part" not in columns:
        old = con.execute(f"select _file_id, rows, token from {table}").fetchall()
        con.execute(f"drop table {table}")
        con.execute(RESTRICTED_DDL.format(table=table))
        store_sealed(con, table, [(f, rows, bytes(token)) for f, rows, token in old])
        return
    con.execute(RESTRICTED_DDL.format(table=table))


@contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating its folder and schema when writable) and always close it."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        if not read_only:
            ensure_schema(con)
        yield con
    finally:
        con.close()
