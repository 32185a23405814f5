"""Which inbox files the demo wrote, so that `pocmon demo` never deletes anyone else's.

The demo starts from an empty project: it deletes the inbox, the warehouse and the outputs.
Before it does, ``foreign_files`` lists the files of the inbox and of the warehouse's file
manifest that no demo wrote (the ledger, ``demo_files.txt`` beside the demo's truth file,
holds the inbox paths each demo added); the demo refuses while there are any. Paths are
relative to the inbox, as ``ops.manifest.file_name`` has them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

LEDGER_NAME = "demo_files.txt"


def ledger_path(demo_truth: Path) -> Path:
    return demo_truth.parent / LEDGER_NAME


def inbox_files(inbox: Path) -> set[str]:
    """Every file under the inbox, as an inbox-relative POSIX path."""
    if not inbox.is_dir():
        return set()
    return {p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if p.is_file()}


def read_ledger(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {line for line in path.read_text(encoding="utf-8").splitlines() if line}


def write_ledger(path: Path, files: set[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}\n" for name in sorted(files)), encoding="utf-8")


def warehouse_files(warehouse: Path) -> set[str]:
    """The file names of the warehouse's manifest (every file a run ever processed)."""
    if not warehouse.exists():
        return set()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        known = con.execute("select count(*) from duckdb_tables() where schema_name = 'ops' "
                            "and table_name = 'manifest'").fetchone()[0]
        if not known:
            return set()
        return {name for (name,) in con.execute("select file_name from ops.manifest").fetchall()}
    finally:
        con.close()


def foreign_files(inbox: Path, warehouse: Path, demo_truth: Path) -> list[str]:
    """Files of the inbox or the warehouse that no demo wrote, sorted."""
    written = read_ledger(ledger_path(demo_truth))
    return sorted((inbox_files(inbox) | warehouse_files(warehouse)) - written)
