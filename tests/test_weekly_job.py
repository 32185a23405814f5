"""The weekly job end to end: `pocmon demo` through a real Dagster run, DuckDB and dbt build.

One demo run (6 weeks) is shared by the module; later tests add files and run again, so the
order of the tests below matters and is the order a planning officer would work in.
"""

from __future__ import annotations

import csv
import json
import os
import re
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


REPO = Path(__file__).resolve().parents[1]


def _paths() -> dict[str, Path]:
    return {name: Path(os.environ[f"POCMON_{name.upper()}"])
            for name in ("inbox", "warehouse", "published", "demo_truth")}


def _query(sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(_paths()["warehouse"]), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo_run() -> dict:
    cwd = Path.cwd()
    result = runner.invoke(app, ["demo", "--weeks", "6", "--seed", "11"])
    os.chdir(cwd)
    truth = json.loads(_paths()["demo_truth"].read_text(encoding="utf-8"))
    return {"result": result, "truth": truth}


def test_demo_succeeds_and_says_where_to_look(demo_run: dict) -> None:
    result = demo_run["result"]
    assert result.exit_code == 0, result.output
    paths = _paths()
    assert str(paths["warehouse"]) in result.output
    assert "quarantine_report.html" in result.output
    assert "1 file(s) rejected" in result.output
    planted = len(demo_run["truth"]["planted_faults"])
    assert f"{planted} row(s) quarantined" in result.output


def test_quarantine_holds_exactly_the_planted_faults(demo_run: dict) -> None:
    truth = demo_run["truth"]
    rows = _query("select source_file, row_number, column_name, rule from ops.quarantine")
    expected = {(f["file"], f["row_number"], f["column"], f["rule"])
                for f in truth["planted_faults"]}
    expected |= {(f["file"], None, None, "unreadable_file") for f in truth["unreadable_files"]}
    assert set(rows) == expected
    assert len(rows) == len(expected)


def test_every_row_is_accounted_for(demo_run: dict) -> None:
    truth = demo_run["truth"]
    broken = _query("select file_name from ops.manifest "
                    "where rows_read <> rows_loaded + rows_quarantined")
    assert broken == []
    for source, rows in truth["rows"].items():
        read, loaded, quarantined = _query(
            "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from ops.manifest "
            "where source = ? and status = 'loaded'", [source])[0]
        in_raw = _query(f"select count(*) from raw.{source}")[0][0]
        assert read == rows
        assert loaded == in_raw == rows - quarantined
        faults = sum(f["source"] == source for f in truth["planted_faults"])
        assert quarantined == faults


def test_dbt_built_the_marts_from_the_loaded_rows(demo_run: dict) -> None:
    marts = {name for (name,) in _query(
        "select table_name from duckdb_tables() where schema_name = 'marts'")}
    assert {"fct_patrols", "fct_incidents", "fct_site_weeks", "dim_sites"} <= marts
    assert _query("select count(*) from marts.fct_patrols") == _query(
        "select count(*) from raw.patrols")
    assert _query("select count(*) from marts.fct_incidents") == _query(
        "select count(*) from raw.incidents")
    summary = json.loads((_paths()["published"] / "quarantine" / "run_summary.json")
                         .read_text(encoding="utf-8"))
    assert summary["mart_rows"]["fct_patrols"] > 0
    # the impact estimates ran on the demo (6 weeks: some are "not estimable", all are worded;
    # without public data the police-strength rows say so)
    questions = _query("select distinct question from marts.fct_impact_estimates")
    assert {q for (q,) in questions} == {"deterrence", "response", "perception",
                                         "police_strength"}
    assert _query("select count(*) from marts.fct_impact_estimates where question = "
                  "'police_strength' and estimate is not null") == [(0,)]
    assert _query("select count(*) from marts.fct_impact_estimates "
                  "where sentence_en is null or sentence_fr is null") == [(0,)]


ADDITIVE_SMALL_CELLS = ("value", "numerator", "denominator", "numerator_denominator")


def _indicator_table() -> pd.DataFrame:
    """fct_indicator_values with the parents suppression works over, and the unsuppressed
    value beside each published one."""
    con = duckdb.connect(str(_paths()["warehouse"]), read_only=True)
    try:
        frame = con.execute("""
            select v.*, o.parent_level, i.small_cells,
                case v.period_type when 'week' then p.month_label
                    when 'month' then p.quarter_label
                    when 'quarter' then p.fiscal_year_label end as parent_period_label,
                s.value as true_value, s.numerator as true_numerator,
                s.denominator as true_denominator, s.observations
            from marts.fct_indicator_values as v
            join marts.dim_org_units as o using (mission_id, level, org_unit_id)
            join marts.dim_periods as p using (period_type, period_label)
            join marts.dim_indicators as i using (indicator_code)
            join intermediate.int_indicator_values_scored as s
                using (indicator_code, mission_id, level, org_unit_id, period_type,
                       period_label, disaggregation, disaggregation_value)
            order by all
        """).df()
    finally:
        con.close()
    return frame


def test_indicator_values_cover_levels_periods_and_the_catalogue(demo_run: dict) -> None:
    table = _indicator_table()
    assert _query("select count(*) from marts.fct_indicator_values") == [(len(table),)]
    codes = {c for (c,) in _query("select indicator_code from marts.dim_indicators")}
    assert set(table["indicator_code"]) == codes
    assert set(table["level"]) == {"mission", "sector", "site"}
    assert set(table["period_type"]) == {"week", "month", "quarter", "fiscal_year"}
    # published numbers are the computed ones, untouched, wherever they are published
    shown = table[~table["suppressed"]]
    both = shown["value"].notna() & shown["true_value"].notna()
    assert (shown["value"].isna() == shown["true_value"].isna()).all()
    assert ((shown.loc[both, "value"] - shown.loc[both, "true_value"]).abs() < 1e-9).all()


def test_no_suppressed_count_can_be_recomputed_from_published_totals(demo_run: dict) -> None:
    from pipelines.indicators.suppression import (
        determined_positions,
        indicator_groups,
        recoverable_positions,
    )

    table = _indicator_table()
    additive = table[table["small_cells"].isin(ADDITIVE_SMALL_CELLS)].reset_index(drop=True)
    # every small count of people or events is withheld...
    for setting, column in [("value", "true_value"), ("numerator", "true_numerator"),
                            ("denominator", "true_denominator"),
                            ("numerator_denominator", "true_numerator"),
                            ("numerator_denominator", "true_denominator")]:
        rows = additive[(additive["small_cells"] == setting)
                        & additive[column].between(1, 4)]
        assert rows["suppressed"].all(), rows[["indicator_code", "org_unit_id", "period_label"]]
    reasons = set(additive["suppression_reason"].dropna())
    assert reasons == {"primary", "complementary"}  # both kinds occur in the demo
    # ...and none can be worked out from the published totals: neither by subtraction over
    # sites, sectors and mission, weeks, months, quarters and years, and categories...
    suppressed = additive["suppressed"].to_numpy(dtype=bool)
    groups = indicator_groups(additive)
    assert groups and recoverable_positions(suppressed, groups) == []
    # ...nor by any linear combination of them (per indicator and mission)
    for _, block in additive.groupby(["indicator_code", "mission_id"]):
        block = block.reset_index(drop=True)
        mask = block["suppressed"].to_numpy(dtype=bool)
        assert determined_positions(mask, indicator_groups(block)) == []


def test_export_writes_tracking_tables_from_the_warehouse(demo_run: dict, tmp_path) -> None:
    import openpyxl

    out = tmp_path / "exports"
    result = runner.invoke(app, ["export", "--period", "2025-Q1", "--level", "sector",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    french = openpyxl.load_workbook(out / "MINUSCA_2025-Q1_sector_indicators.xlsx")
    english = openpyxl.load_workbook(out / "UNMISS_2025-Q1_sector_indicators.xlsx")
    assert french.sheetnames[-2:] == ["Dictionnaire", "Lisez-moi"]
    assert english.sheetnames[-2:] == ["Dictionary", "README"]
    outcomes = {c for (c,) in _query(
        "select distinct i.cpas_outcome from marts.fct_indicator_values v "
        "join marts.dim_indicators i using (indicator_code) where v.level = 'sector'")}
    assert len(english.sheetnames) == len(outcomes) + 2
    # the weekly job published the dashboards, self-contained, one per mission and audience
    pages = {p.name for p in (_paths()["published"] / "dashboards").iterdir()}
    assert {"index.html", "leadership_MINUSCA.html", "planning_UNMISS.html",
            "budget_MINUSCA.html"} <= pages
    # the weekly job published the latest fiscal year's tables too
    published = sorted(p.name for p in (_paths()["published"] / "indicators").iterdir())
    assert "MINUSCA_FY2024-25_mission_indicators.xlsx" in published
    assert "UNMISS_FY2024-25_sector_indicators.csv" in published
    sheet = french[french.sheetnames[0]]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].value == "Code de l'indicateur"

    result = runner.invoke(app, ["export", "--period", "2025-Q1", "--level", "sector",
                                 "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "UNMISS_2025-Q1_sector_indicators.csv")
    assert {"indicator_code", "org_unit", "period", "baseline", "target", "actual", "status",
            "suppressed"} <= set(table.columns)
    assert set(table["period"]) == {"2025-01", "2025-02", "2025-Q1"}
    assert table.loc[table["suppressed"], "actual"].isna().all()
    dictionary = pd.read_csv(out / "UNMISS_2025-Q1_sector_dictionary.csv")
    assert set(table["indicator_code"]) <= set(dictionary["name"])
    assert set(table.columns) - {"indicator", "unit"} <= set(
        dictionary.loc[dictionary["entry"] == "column", "name"])


def test_the_run_is_recorded_in_the_dagster_instance(demo_run: dict, monkeypatch) -> None:
    from dagster import AssetKey, DagsterInstance, RunsFilter

    monkeypatch.chdir(os.environ["DAGSTER_HOME"])  # dagster.yaml's paths are relative to it
    instance = DagsterInstance.get()
    records = instance.get_run_records(filters=RunsFilter(job_name="weekly_job"))
    assert records and records[0].dagster_run.is_success
    assert records[0].dagster_run.tags["pocmon/trigger"] == "demo"
    home = Path(os.environ["DAGSTER_HOME"])
    assert any((home / "data" / "dagster" / "storage").rglob("*.db"))
    for key in (["raw", "patrols"], ["marts", "fct_patrols"], ["quarantine_report"]):
        event = instance.get_latest_materialization_event(AssetKey(key))
        assert event is not None, key
        assert event.run_id == records[0].dagster_run.run_id
    checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [_check_key(["raw", "patrols"], "rows_accounted_for")])
    assert all(c.status.value == "SUCCEEDED" for c in checks.values())


def _check_key(asset: list[str], name: str):
    from dagster import AssetCheckKey, AssetKey

    return AssetCheckKey(AssetKey(asset), name)


def _files_under(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


def _readable_bytes(path: Path) -> bytes:
    """A file's bytes as a reader sees them: an Excel workbook (a zip of deflated XML) is
    unzipped, or no name written into it could be found."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return b"\n".join(archive.read(member) for member in archive.namelist())
    return path.read_bytes()


def test_no_personal_data_narrative_or_key_in_clear(demo_run: dict) -> None:
    """Names, phones, narratives and the key: in no column of any schema (restricted text is
    sealed), nowhere in the bytes of the DuckDB file, the published files or Dagster's logs
    and run storage."""
    truth = demo_run["truth"]
    personal = truth["personal_values"]
    key = Path(os.environ["POCMON_KEY_FILE"]).read_text(encoding="ascii").strip()
    secrets = personal["reporter_names"] + personal["reporter_phones"]
    narratives = truth["narratives"]
    assert len(secrets) > 20 and len(narratives) > 20 and len(key) >= 32
    text_columns = _query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type in ('VARCHAR', 'BLOB')")
    assert ("restricted", "incidents_narrative", "token") in text_columns
    values: set[str] = set()
    for schema, table, column in text_columns:
        values |= {str(v) for (v,) in _query(
            f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null')}
    clear = set(secrets) | set(personal["respondent_ids"]) | set(narratives) | {key}
    assert values & clear == set()
    # nor inside a longer text (a message quoting a row, a concatenated label)
    assert not [s for s in secrets if any(s in v for v in values)]
    assert not any(n[:40] in v for v in values for n in narratives[:50])
    assert not any(key in v for v in values)
    # nor in what the run printed (its summary, the quarantine's messages, Dagster's log)
    printed = demo_run["result"].output
    assert "Running the weekly job" in printed
    assert [s for s in [*secrets, *narratives, key] if s in printed] == []
    # the bytes of the warehouse file (after a checkpoint), every published file, and the
    # Dagster instance (run storage, event logs, compute logs)
    con = duckdb.connect(str(_paths()["warehouse"]))
    con.execute("checkpoint")
    con.close()
    needles = [s.encode() for s in secrets + narratives + [key]]
    needles += [s.encode("utf-16-le") for s in secrets]
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    dbt_logs = [REPO / "dbt_project" / "logs", REPO / "dbt_project" / "target"]
    scanned = (_files_under(_paths()["published"], dagster_home, *dbt_logs)
               + [_paths()["warehouse"]])
    workbooks = [p for p in scanned if p.suffix == ".xlsx"]
    assert len(scanned) > 10 and workbooks
    assert all(b"<sheetData>" in _readable_bytes(p) for p in workbooks)  # really unzipped
    for path in scanned:
        try:
            data = _readable_bytes(path)
        except FileNotFoundError:  # a dbt file replaced by a test running beside this one
            continue
        assert [n for n in needles if n in data] == [], path


def test_cleared_staff_can_open_the_narratives(demo_run: dict) -> None:
    from pipelines.ingest.pseudonymise import load_or_create_key
    from pipelines.ingest.restricted import RestrictedKeyError, open_restricted

    key = load_or_create_key(Path(os.environ["POCMON_KEY_FILE"]))
    con = duckdb.connect(str(_paths()["warehouse"]), read_only=True)
    try:
        opened = open_restricted(con, "incidents", "narrative", key)
        assert set(opened["narrative"]) <= set(demo_run["truth"]["narratives"])
        assert len(opened) == _query("select sum(rows) from restricted.incidents_narrative")[0][0]
        assert opened["incident_id"].is_unique
        with pytest.raises(RestrictedKeyError):
            open_restricted(con, "incidents", "narrative", b"x" * 64)
    finally:
        con.close()
    first = opened.iloc[0]
    shown = runner.invoke(app, ["narratives", "--incident", first["incident_id"]])
    assert shown.exit_code == 0, shown.output
    assert first["narrative"][:30] in " ".join(shown.output.split())
    out = Path(os.environ["POCMON_PUBLISHED"]).parent / "narratives.csv"
    out.write_text("an older file anyone could read\n", encoding="utf-8")
    out.chmod(0o644)
    written = runner.invoke(app, ["narratives", "--out", str(out)])
    assert written.exit_code == 0, written.output
    written_rows = pd.read_csv(out)
    assert len(written_rows) == len(opened)
    assert list(written_rows.columns) == ["incident_id", "narrative"]
    assert written_rows["incident_id"].is_monotonic_increasing
    assert out.stat().st_mode & 0o777 == 0o600  # owner-only, even over an existing file
    out.unlink()


def test_narratives_without_the_key_fail_and_make_no_key(demo_run: dict, monkeypatch,
                                                         tmp_path: Path) -> None:
    from pipelines.config import get_settings

    missing = tmp_path / "elsewhere" / "pocmon.key"
    monkeypatch.setenv("POCMON_KEY_FILE", str(missing))
    monkeypatch.delenv("POCMON_PSEUDONYM_KEY", raising=False)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["narratives"])
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "no pseudonymisation key" in result.output and str(missing) in " ".join(
        result.output.replace("\n", "").split())
    assert not missing.exists() and not missing.parent.exists()


def test_quarantine_report_lists_every_problem(demo_run: dict) -> None:
    folder = _paths()["published"] / "quarantine"
    csv_lines = (folder / "quarantine_report.csv").read_text(encoding="utf-8").splitlines()
    quarantined = _query("select count(*) from ops.quarantine")[0][0]
    assert len(csv_lines) - 1 == quarantined
    html = (folder / "quarantine_report.html").read_text(encoding="utf-8")
    for fault in demo_run["truth"]["planted_faults"]:
        assert fault["file"] in html and fault["rule"] in html


def test_status_lists_the_run_and_counts(demo_run: dict) -> None:
    cwd = Path.cwd()
    result = runner.invoke(app, ["status"])
    os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.output and "demo" in result.output
    loaded = _query("select sum(rows_loaded) from ops.manifest where source = 'patrols' "
                    "and status = 'loaded'")[0][0]
    assert re.search(rf"patrols\s.*\b{loaded}\b", result.output)


def test_status_while_a_run_writes_says_so(demo_run: dict) -> None:
    """A run holds the warehouse's write lock (here: another process's connection); status
    still lists the runs and says why it shows no file counts, without a traceback."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; "
         f"c = duckdb.connect({str(_paths()['warehouse'])!r}); print('held', flush=True); "
         "sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        cwd = Path.cwd()
        result = runner.invoke(app, ["status"])
        os.chdir(cwd)
    finally:
        holder.communicate("", timeout=30)
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.output
    assert "File counts not shown: a run is writing" in result.output
    assert "Traceback" not in result.output


def test_status_on_a_warehouse_without_a_manifest(demo_run: dict, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A warehouse file no run has loaded into (e.g. made by hand): status says what is
    missing and what creates it, not that a run is writing."""
    from pipelines.config import get_settings

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    monkeypatch.setenv("POCMON_WAREHOUSE", str(empty))
    get_settings.cache_clear()
    try:
        cwd = Path.cwd()
        result = runner.invoke(app, ["status"])
        os.chdir(cwd)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "File counts not shown: the warehouse has no file manifest yet" in result.output
    assert "a run is writing" not in result.output


def test_validate_is_a_dry_run(demo_run: dict) -> None:
    fault = next(f for f in demo_run["truth"]["planted_faults"] if f["source"] == "incidents")
    bad = _paths()["inbox"] / fault["file"]
    good = next(p for p in (_paths()["inbox"] / "trainings").iterdir()
                if p.name not in {f["file"].split("/")[1] for f in
                                  demo_run["truth"]["planted_faults"]})
    before = _query("select count(*) from ops.manifest")
    result = runner.invoke(app, ["validate", str(bad), "--show", "5"])
    assert result.exit_code == 1
    assert f"row {fault['row_number']}" in result.output and fault["rule"] in result.output
    assert runner.invoke(app, ["validate", str(good)]).exit_code == 0
    assert _query("select count(*) from ops.manifest") == before


def _ingest_inbox() -> list:
    """The job's ingestion step on the inbox as it is, without dbt and outputs (the whole job
    on new and corrected files, killed and rerun, is tests/test_faults.py's)."""
    from pipelines.config import SOURCES, get_settings
    from pipelines.ingest.load import ingest_source
    from pipelines.ingest.pseudonymise import load_or_create_key
    from pipelines.ingest.warehouse import connect
    from pipelines.reference import load_reference

    settings = get_settings()
    with connect(_paths()["warehouse"]) as con:
        reports = [ingest_source(con, source, _paths()["inbox"], load_reference(),
                                 load_or_create_key(settings.paths.key_file),
                                 extensions=settings.inbox.extensions) for source in SOURCES]
    return [f for report in reports for f in report.files]


def test_the_same_files_again_load_nothing(demo_run: dict) -> None:
    """Idempotent: every file is known by its content hash. (A whole second `pocmon run` on
    unchanged files is run, and checked, by tests/test_faults.py.)"""
    before = {t: _query(f"select count(*) from raw.{t}") for t in demo_run["truth"]["rows"]}
    manifest = _query("select count(*) from ops.manifest")
    files = _ingest_inbox()
    assert len(files) == demo_run["truth"]["files"]
    assert {f.status for f in files} == {"unchanged"}
    assert {t: _query(f"select count(*) from raw.{t}") for t in before} == before
    assert _query("select count(*) from ops.manifest") == manifest


def test_corrected_resubmission_supersedes_the_earlier_file(demo_run: dict) -> None:
    fault = next(f for f in demo_run["truth"]["planted_faults"]
                 if f["column"] == "feels_safe")  # UNMISS, English CSV
    path = _paths()["inbox"] / fault["file"]
    with path.open(encoding="utf-8", newline="") as handle:
        dialect = csv.Sniffer().sniff(handle.readline())
        handle.seek(0)
        rows = list(csv.reader(handle, dialect))
    rows[fault["row_number"] - 1][rows[0].index(fault["column"])] = "3"  # the officer's fix
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, dialect).writerows(rows)
    source = fault["source"]
    rows_before = _query(f"select count(*) from raw.{source}")[0][0]
    old = _query("select file_id from ops.manifest where file_name = ? and status = 'loaded'",
                 [fault["file"]])[0][0]

    files = _ingest_inbox()
    changed = [f for f in files if f.status != "unchanged"]
    assert [(f.file_name, f.status, f.superseded) for f in changed] == [
        (fault["file"], "loaded", fault["file"])]
    cwd = Path.cwd()
    result = runner.invoke(app, ["status"])
    os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert "1 file(s) superseded by corrected re-submissions" in result.output
    history = _query("select file_id, status, superseded_by, rows_quarantined from ops.manifest "
                     "where file_name = ? order by processed_at", [fault["file"]])
    assert [h[1] for h in history] == ["superseded", "loaded"]
    assert history[0][0] == old and history[0][2] == history[1][0]
    assert history[1][3] == 0
    assert _query(f"select count(*) from raw.{source}")[0][0] == rows_before + 1
    assert _query(f"select count(*) from raw.{source} where _file_id = ?", [old]) == [(0,)]
    assert _query("select count(*) from ops.quarantine where source_file = ?",
                  [fault["file"]]) == [(0,)]
    dupes = _query(f"select count(*) - count(distinct (mission, {_key(source)})) "
                   f"from raw.{source}")
    assert dupes == [(0,)]


def _key(source: str) -> str:
    from pipelines.contracts import load_contract

    contract = load_contract(source)
    return ", ".join(c if not contract.columns[c].personal else
                     contract.columns[c].pseudonym_column for c in contract.key)
