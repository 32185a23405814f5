"""Incremental marts (fct_patrols, fct_incidents: by file) give what a full refresh gives.

Real ingestion of bulk demo files, a `dbt build`, then a corrected re-submission of one patrol
week and one incident week (same file names: they supersede the loaded files) and a new week,
ingested; an incremental `dbt build`; then a copy of that warehouse rebuilt with
`--full-refresh`. Every mart and intermediate table must be the same in both.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from raw_fixture import dbt_build

from pipelines.demo.bulk import BULK_START, generate_bulk
from pipelines.ingest.load import ingest_source
from pipelines.ingest.warehouse import connect

pytestmark = pytest.mark.slow

KEY = b"k" * 64
SUPERSEDED_WEEK = "2021-W02"


def _ingest(warehouse: Path, inbox: Path, reference) -> None:
    with connect(warehouse) as con:
        for source in ("patrols", "incidents", "trainings", "strength", "surveys"):
            ingest_source(con, source, inbox, reference, KEY, extensions=[".csv"])


def _tables(warehouse: Path) -> dict[str, pd.DataFrame]:
    """Every intermediate and mart table, rows sorted (incremental tables keep no order)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in ('intermediate', 'marts') order by all").fetchall()
        # the fiscal years a run rebuilt (all of them on a full refresh) differ by design
        names = [n for n in names if n[1] != "int_indicator_fiscal_years_changed"]
        out = {}
        for schema, name in names:
            frame = con.execute(f'select * from "{schema}"."{name}"').df()
            for column in frame.select_dtypes("object").columns:  # lists: comparable tuples
                frame[column] = frame[column].map(
                    lambda v: tuple(v) if isinstance(v, np.ndarray) else v)
            out[f"{schema}.{name}"] = frame.sort_values(list(frame.columns)).reset_index(
                drop=True)
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory, reference) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("incremental")
    inbox, warehouse = work / "inbox", work / "incremental.duckdb"
    generate_bulk(inbox, patrols=1200, incidents=300, weeks=3, seed=1, reference=reference)
    _ingest(warehouse, inbox, reference)
    first = dbt_build(warehouse, work / "first")
    assert first.returncode == 0, first.stdout[-3000:]

    # a corrected re-submission of week 2 (other rows, same file names) and a new week 4
    corrected = work / "corrected"
    generate_bulk(corrected, patrols=400, incidents=80, weeks=1, seed=2,
                  start=BULK_START + dt.timedelta(days=7), reference=reference)
    for source in ("patrols", "incidents"):
        for path in (corrected / source).glob(f"*_{SUPERSEDED_WEEK}_*.csv"):
            shutil.copy2(path, inbox / source / path.name)
    generate_bulk(inbox, patrols=400, incidents=100, weeks=1, seed=1,
                  start=BULK_START + dt.timedelta(days=21), reference=reference)
    _ingest(warehouse, inbox, reference)
    second = dbt_build(warehouse, work / "second")
    assert second.returncode == 0, second.stdout[-3000:]

    refreshed = work / "refreshed.duckdb"
    shutil.copy2(warehouse, refreshed)
    full = dbt_build(refreshed, work / "full", args=("--full-refresh",))
    assert full.returncode == 0, full.stdout[-3000:]
    return {"incremental": warehouse, "refreshed": refreshed}


def test_superseded_files_leave_the_incremental_marts(warehouses: dict[str, Path]) -> None:
    con = duckdb.connect(str(warehouses["incremental"]), read_only=True)
    try:
        superseded = con.execute(
            "select count(*) from ops.manifest where status = 'superseded'").fetchone()[0]
        assert superseded >= 4  # week 2's patrol and incident file of both missions
        for mart, source in (("fct_patrols", "patrols"), ("fct_incidents", "incidents")):
            stale = con.execute(f"""
                select count(*) from marts.{mart} where file_id in (
                    select file_id from ops.manifest where status = 'superseded')""").fetchone()
            assert stale == (0,)
            counts = con.execute(f"""
                select (select count(*) from marts.{mart}),
                       (select count(distinct file_id) from marts.{mart}),
                       (select count(*) from raw.{source}),
                       (select count(distinct _file_id) from raw.{source})""").fetchone()
            assert counts[:2] == counts[2:]
    finally:
        con.close()


def test_incremental_build_equals_a_full_refresh(warehouses: dict[str, Path]) -> None:
    incremental = _tables(warehouses["incremental"])
    refreshed = _tables(warehouses["refreshed"])
    assert incremental.keys() == refreshed.keys()
    assert {"marts.fct_patrols", "marts.fct_incidents", "marts.fct_indicator_values",
            "marts.fct_impact_estimates"} <= incremental.keys()
    for name, frame in incremental.items():
        pd.testing.assert_frame_equal(frame, refreshed[name], check_exact=False, rtol=1e-9,
                                      obj=name)


def test_incremental_build_rebuilds_only_the_changed_fiscal_year(
        warehouses: dict[str, Path]) -> None:
    """The indicator chain is incremental by fiscal year: the second build rebuilt only the
    fiscal year holding the superseded and the new week, the full refresh all of them."""
    rebuilt = {}
    for name, path in warehouses.items():
        con = duckdb.connect(str(path), read_only=True)
        try:
            rebuilt[name] = [r[0] for r in con.execute(
                "select fiscal_year_label from intermediate.int_indicator_fiscal_years_changed "
                "order by 1").fetchall()]
            weeks_fy = con.execute("""
                select distinct fiscal_year_label from marts.dim_weeks
                where week_label in (?, '2021-W04')""", [SUPERSEDED_WEEK]).fetchall()
        finally:
            con.close()
    assert rebuilt["incremental"] == [fy for (fy,) in weeks_fy]
    assert len(rebuilt["refreshed"]) > 10  # every fiscal year of the calendar


def test_key_tests_check_new_files_against_every_row(warehouses: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """Once published, the key tests of the marts incremental by file look only for the new
    files' keys, but in the whole table: a new file repeating a published patrol fails."""
    warehouse = tmp_path / "duplicate.duckdb"
    shutil.copy2(warehouses["incremental"], warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        for table, file_id in (("raw.patrols", "_file_id"), ("marts.fct_patrols", "file_id")):
            con.execute(f"""
                insert into {table}
                select * replace ('patrols-duplicate' as {file_id}) from {table} limit 1""")
    finally:
        con.close()
    for model in ("stg_pocmon__patrols", "fct_patrols"):
        build = dbt_build(warehouse, tmp_path / model,
                          select=f"{model}+1,test_name:unique_combination")
        assert build.returncode == 1, model
        assert f"Failure in test unique_combination_{model}" in build.stdout, model


def test_indicator_key_tests_check_the_rebuilt_fiscal_years(warehouses: dict[str, Path],
                                                            tmp_path: Path) -> None:
    """The key test of int_indicator_values looks only at the fiscal years the build rebuilt:
    a repeated key there fails; one in a fiscal year left as it was is not read again."""
    results = {}
    for case, fiscal_year in (("rebuilt", "in"), ("unchanged", "not in")):
        warehouse = tmp_path / f"{case}.duckdb"
        shutil.copy2(warehouses["incremental"], warehouse)
        con = duckdb.connect(str(warehouse))
        try:
            con.execute(f"""
                insert into intermediate.int_indicator_values
                select * from intermediate.int_indicator_values
                where fiscal_year_label {fiscal_year} (
                    select fiscal_year_label
                    from intermediate.int_indicator_fiscal_years_changed)
                limit 1""")
            assert con.execute("select count(*) from (select count(*) from "
                               "intermediate.int_indicator_values group by all "
                               "having count(*) > 1)").fetchone() == (1,), case
        finally:
            con.close()
        results[case] = dbt_build(warehouse, tmp_path / case,
                                  select="int_indicator_values+1,test_name:unique_combination")
    assert results["rebuilt"].returncode == 1, results["rebuilt"].stdout[-3000:]
    assert ("Failure in test unique_combination_int_indicator_values"
            in results["rebuilt"].stdout)
    assert results["unchanged"].returncode == 0, results["unchanged"].stdout[-3000:]
    assert "PASS unique_combination_int_indicator_values" in results["unchanged"].stdout


def test_weeks_in_a_later_fiscal_year_rebuild_that_year_only(warehouses: dict[str, Path],
                                                              tmp_path: Path, reference) -> None:
    """The first and the last week with rows are separate inputs: two new weeks in a later
    fiscal year move the last only, so the second build leaves the first fiscal year (the
    first week's) as it is, and still equals a full refresh."""
    warehouse, inbox = tmp_path / "later.duckdb", tmp_path / "inbox"
    shutil.copy2(warehouses["incremental"], warehouse)
    for n, start in enumerate((dt.date(2021, 7, 5), dt.date(2021, 7, 12))):
        generate_bulk(inbox, patrols=400, incidents=100, weeks=1, seed=5 + n, start=start,
                      reference=reference)
        _ingest(warehouse, inbox, reference)
        build = dbt_build(warehouse, tmp_path / f"week{n}")
        assert build.returncode == 0, build.stdout[-3000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rebuilt = con.execute("select fiscal_year_label from "
                              "intermediate.int_indicator_fiscal_years_changed").fetchall()
        later = con.execute("select fiscal_year_label from marts.dim_weeks "
                            "where week_start = date '2021-07-12'").fetchall()
    finally:
        con.close()
    assert rebuilt == later == [("FY2021-22",)]

    refreshed = tmp_path / "later_refreshed.duckdb"
    shutil.copy2(warehouse, refreshed)
    full = dbt_build(refreshed, tmp_path / "full", args=("--full-refresh",))
    assert full.returncode == 0, full.stdout[-3000:]
    incremental, rebuilt_all = _tables(warehouse), _tables(refreshed)
    for name, frame in incremental.items():
        pd.testing.assert_frame_equal(frame, rebuilt_all[name], check_exact=False, rtol=1e-9,
                                      obj=name)
