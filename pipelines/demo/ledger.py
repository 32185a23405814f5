"""Which inbox files the demo wrote, so that `pocmon demo` never deletes anyone else's.

The demo starts from an empty project: it deletes the inbox, the warehouse and the outputs.
Before it does, ``foreign_files`` lists the files of the inbox and of the warehouse's file
manifest that no demo wrote; the demo refuses while there are any. The ledger,
``demo_files.txt`` beside the demo's truth file, holds each file a demo wrote as its
inbox-relative path (as ``ops.manifest.file_name`` has it), size and modification time: a file
since written over at a demo's path counts as foreign. Hidden, lock and system files are left
out, as ingestion leaves them (pipelines.ingest.load.skipped). Files inside a hidden folder are
not: ingestion skips them too, but such a folder may hold a sync tool's old copies of real
files, which the demo must not delete unasked.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.ingest.load import quick_key, skipped

LEDGER_NAME = "demo_files.txt"
Entry = tuple[str, int, int]  # pipelines.ingest.load.quick_key: inbox path, size, mtime


def ledger_path(demo_truth: Path) -> Path:
    return demo_truth.parent / LEDGER_NAME


def inbox_files(inbox: Path) -> set[Entry]:
    """Every file under the inbox that ingestion would look at."""
    if not inbox.is_dir():
        return set()
    return {entry for path in inbox.rglob("*") if path.is_file() and not skipped(path)
            if (entry := quick_key(path.relative_to(inbox).as_posix(), path))}


def read_ledger(path: Path) -> set[Entry] | None:
    """The files demos wrote; None when no demo has kept a ledger here."""
    if not path.exists():
        return None
    entries = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        name, size, mtime = line.rsplit("\t", 2)
        entries.add((name, int(size), int(mtime)))
    return entries


def write_ledger(path: Path, entries: set[Entry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}\t{size}\t{mtime}\n" for name, size, mtime
                            in sorted(entries)), encoding="utf-8")


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
        return {name for (name,) in con.execute(
            "select file_name from ops.manifest").fetchall()}
    finally:
        con.close()


def foreign_files(inbox: Path, warehouse: Path, demo_truth: Path) -> tuple[list[str], bool]:
    """The files of the inbox or the warehouse that no demo wrote (sorted), and whether a
    ledger was there to tell (without one, every file counts as foreign)."""
    ledger = read_ledger(ledger_path(demo_truth))
    written = ledger or set()
    names = {name for name, _, _ in written}
    foreign = {name for name, size, mtime in inbox_files(inbox)
               if (name, size, mtime) not in written}
    foreign |= warehouse_files(warehouse) - names
    return sorted(foreign), ledger is not None
