"""The keys a source has loaded, for finding rows loaded before without scanning the raw table.

A history of 10 million patrols holds 10 million text keys: joining each batch of new rows to
the raw table reads them all again, batch after batch. ``LoadedKeys`` keeps a 64-bit hash of
every loaded key in a temporary table (80 MB for 10 million rows); a batch is joined to the
hashes, and only its rows whose hash is there (a duplicate, or rarely a collision) are compared
with the raw table itself, so the answer is exact.
"""

from __future__ import annotations

import duckdb
import pandas as pd


class LoadedKeys:
    """Hashes of the keys of ``raw.<source>``, kept in step with what this run inserts."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source: str, keys: list[str]) -> None:
        self.con, self.source, self.keys = con, source, keys
        self.table = f"_loaded_keys_{source}"
        con.execute(f"create or replace temp table {self.table} as "
                    f"select {self._hash()} as h from raw.{source}")

    def _hash(self, alias: str = "") -> str:
        # as text: the same key hashes the same from a pandas column and from the table
        prefix = f"{alias}." if alias else ""
        return "hash(" + ", ".join(f'cast({prefix}"{k}" as varchar)' for k in self.keys) + ")"

    def already_loaded(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``frame`` (``_file_id``, ``_row_number``, the key columns) whose key is in
        the raw table: ``_file_id``, ``_row_number`` and ``other_file``, a file holding it."""
        # ``frame`` and ``hits`` are read by DuckDB's replacement scan of these locals
        hits = self.con.execute(
            f"select i.* from frame i semi join {self.table} s on s.h = {self._hash('i')}"
        ).df()
        if hits.empty:
            return pd.DataFrame(columns=["_file_id", "_row_number", "other_file"])
        same = " and ".join(f'o."{k}" = i."{k}"' for k in self.keys)
        return self.con.execute(f"""
            select i._file_id, i._row_number, any_value(o._source_file) as other_file
            from hits i join raw.{self.source} o on {same}
            group by all
        """).df()

    def add(self, frame: pd.DataFrame) -> None:
        """Record the keys of rows just inserted into the raw table."""
        if not frame.empty:
            self.con.execute(f"insert into {self.table} select {self._hash()} from frame")

    def forget(self, file_id: str) -> None:
        """Forget the keys of a file whose rows are about to leave the raw table (superseded):
        its re-submission then finds no hash hits to confirm. Keys are unique across loaded
        files, so no other file's key goes with them."""
        self.con.execute(f"delete from {self.table} where h in (select {self._hash()} "
                         f"from raw.{self.source} where _file_id = ?)", [file_id])

    def drop(self) -> None:
        self.con.execute(f"drop table if exists {self.table}")
