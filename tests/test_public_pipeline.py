"""Public data end to end: `pocmon import-public` on files in the published layouts, then
the ingestion code (the contracts, DuckDB), dbt (the public models, the estimates and their
tests) and the dashboard page, opened in Chromium.

The files are written by the test (``pipelines.demo.public_files``: 48 months of UCDP GED
events as GeoJSON and of the UN personnel table as CSV for both configured missions, with a
planted rate ratio and the faults of real downloads). To stay within the suite's time budget
it does not start another Dagster run (test_weekly_job runs the job; test_automation checks the
public sources are in its graph): `import-public --no-run` stages the files in a private
inbox, the ingestion assets' function loads them, and one `dbt build` selects the public
models, the impact model, their ancestors and the tests of the public folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from raw_fixture import dbt_build
from typer.testing import CliRunner

from pipelines.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()
FRENCH = "MINUSCA"
SELECT = ("+path:models/marts/public +path:models/marts/impact dim_missions "
          "path:models/staging/public path:models/intermediate/public "
          "assert_no_event_coordinates_published")


def _query(sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(os.environ["POCMON_WAREHOUSE"], read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def imported(tmp_path_factory, reference):
    """Private inbox, warehouse and outputs (the environment points pocmon at them)."""
    from dashboards.build import _write, render_index
    from dashboards.civilians import DASHBOARD, render
    from dashboards.context import Context, file_name
    from dashboards.data import has_mission_months, missions
    from dashboards.page import generated_at
    from pipelines.config import PUBLIC_SOURCES, get_settings
    from pipelines.demo.public_files import write_public_demo
    from pipelines.ingest.load import ingest_source
    from pipelines.ingest.warehouse import connect

    base = tmp_path_factory.mktemp("public")
    demo = write_public_demo(base / "downloads", reference, months=48, seed=7)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("inbox", "published"):
            patch.setenv(f"POCMON_{name.upper()}", str(base / name))
        patch.setenv("POCMON_WAREHOUSE", str(base / "warehouse.duckdb"))
        # the demo's truth and ledger too: a demo another test ran in this process leaves a
        # ledger beside the session's truth file
        patch.setenv("POCMON_DEMO_TRUTH", str(base / "demo" / "demo_truth.json"))
        get_settings.cache_clear()
        try:
            settings = get_settings()
            result = runner.invoke(app, ["import-public", "--ged", str(demo.ged),
                                         "--strength", str(demo.personnel), "--no-run"])
            with connect(settings.paths.warehouse) as con:
                for source in PUBLIC_SOURCES:  # what the ingestion assets run
                    ingest_source(con, source, settings.paths.inbox, reference, b"k" * 32,
                                  extensions=settings.inbox.extensions, run_id="public-test")
            build = dbt_build(settings.paths.warehouse, base / "dbt", select=SELECT)
            assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-2000:]
            pages = base / "published" / "dashboards"
            pages.mkdir(parents=True)
            con = duckdb.connect(str(settings.paths.warehouse), read_only=True)
            try:
                contexts = [Context(con, m, None, None, generated_at()) for m in missions(con)]
                extra = {}
                for ctx in contexts:
                    if has_mission_months(con, ctx.mission_id):
                        _write(pages / file_name(DASHBOARD, ctx.mission_id), render(ctx))
                        extra[ctx.mission_id] = [DASHBOARD]
                _write(pages / "index.html", render_index(contexts, extra))
            finally:
                con.close()
            yield {"result": result, "demo": demo, "published": base / "published",
                   "inbox": settings.paths.inbox, "build": build}
        finally:
            get_settings.cache_clear()


def test_import_public_stages_the_downloads_and_reports(imported, capsys) -> None:
    result = imported["result"]
    assert result.exit_code == 0, result.output
    inbox = imported["inbox"]
    assert f"Inbox: {inbox / 'ged' / 'GEDEvent_demo.geojson'}" in result.output
    assert (inbox / "personnel" / "personnel_demo.csv").is_file()
    assert "Not run (--no-run)" in result.output
    from pipelines.cli import report_public

    report_public()  # what import-public prints after the job (private warehouse)
    printed = capsys.readouterr().out
    for text in ("Faults found in the public files", "missing_month", "lat_lon_swapped",
                 "Mission-months", "MINUSCA", "ALL: "):
        assert text in printed, text


def test_every_planted_fault_is_reported_with_file_row_column_rule(imported) -> None:
    planted = imported["demo"].planted_faults
    folder = {"GEDEvent_demo.geojson": "ged", "personnel_demo.csv": "personnel"}
    rows = {(f"{folder[f['file']]}/{f['file']}", f["row_number"], f["column"], f["rule"])
            for f in planted if f["row_number"] is not None}
    assert set(_query("select source_file, row_number, column_name, rule from ops.quarantine"
                      )) == rows
    findings = _query("select source_name, rule, file_name, row_number, column_name, "
                      "mission_id, strftime(month_start, '%Y-%m') "
                      "from marts.fct_public_data_findings where finding = 'missing_month'")
    (gap,) = [f for f in planted if f["rule"] == "missing_month"]
    assert findings == [("personnel", "missing_month", "personnel/personnel_demo.csv", None,
                         "month", gap["mission_id"], gap["month"])]
    assert _query("select count(*) from marts.fct_public_data_findings")[0][0] == len(planted)
    accounted = _query("select count(*) from ops.manifest "
                       "where rows_read <> rows_loaded + rows_quarantined")
    assert accounted == [(0,)]


def test_mission_months_lag_by_calendar_month_and_never_fill_gaps(imported) -> None:
    (gap,) = [f for f in imported["demo"].planted_faults if f["rule"] == "missing_month"]
    months = {(m, label): (reported, police, lag) for m, label, reported, police, lag in _query(
        "select mission_id, month_label, strength_reported, police, police_lag1 "
        "from marts.fct_mission_months")}
    assert {m for m, _ in months} == {"MINUSCA", "UNMISS"}
    assert months[(gap["mission_id"], gap["month"])][:2] == (False, None)
    year, month = map(int, gap["month"].split("-"))
    after = f"{year + month // 12}-{month % 12 + 1:02d}"
    assert months[(gap["mission_id"], after)][2] is None  # no lag across the gap
    for (mission, label), (_, _, lag) in months.items():
        year, month = map(int, label.split("-"))
        before = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
        if (mission, before) in months:
            assert lag == months[(mission, before)][1], (mission, label)
    # GED deaths: every in-scope one-sided death counted once, zero-filled in covered months
    (raw_deaths,) = _query("select sum(deaths_civilians) from raw.ged "
                           "where type_of_violence = 3")[0]
    (mart_deaths, missing) = _query(
        "select sum(one_sided_civilian_deaths), count(*) filter (where ged_covered and "
        "one_sided_civilian_deaths is null) from marts.fct_mission_months")[0]
    assert mart_deaths == raw_deaths and missing == 0


def test_events_are_located_no_finer_than_ged_locates_them(imported) -> None:
    levels = dict(_query("select location_level, max(where_prec) from marts.fct_ged_events "
                         "group by 1"))
    assert levels["site"] <= 2 and levels["admin1"] <= 4 and levels["country"] >= 5
    published = _query("""
        select table_name, column_name from information_schema.columns
        where table_schema in ('marts', 'intermediate') and table_name <> 'dim_sites'
          and (column_name ilike '%latitude%' or column_name ilike '%longitude%')""")
    assert published == []


def test_the_estimate_is_in_fct_impact_estimates(imported) -> None:
    rows = {(m, e): (est, low, high, sentence) for m, e, est, low, high, sentence in _query(
        "select mission_id, estimand, estimate, ci_low, ci_high, sentence_en "
        "from marts.fct_impact_estimates where question = 'police_strength'")}
    estimate, low, high, sentence = rows[("ALL", "police_irr_per_100")]
    assert low < imported["demo"].police_irr < high and estimate < 1
    assert "mission-months" in sentence and "6-month blocks" in sentence
    # 48 months of one mission are 8 six-month blocks: too few, and said so
    assert rows[(FRENCH, "police_irr_per_100")][3].startswith("Could not be estimated: 8 blocks")


def test_the_dashboard_page_renders_with_data_and_no_request(imported) -> None:
    from test_dashboards import PAGE_FACTS, _chromium_or_skip

    folder = imported["published"] / "dashboards"
    index = (folder / "index.html").read_text(encoding="utf-8")
    for mission in ("MINUSCA", "UNMISS"):
        assert f'href="civilians_{mission}.html"' in index
    _chromium_or_skip()
    from dashboards.browser import browser, open_page

    with browser() as context:
        page, visit = open_page(context, folder / f"civilians_{FRENCH}.html")
        facts = page.evaluate(PAGE_FACTS)
        page.close()
    assert visit.console_errors == [] and visit.page_errors == [] and visit.dialogs == []
    assert [u for u in visit.requests if not u.startswith(("file://", "data:", "blob:"))] == []
    assert facts["containers"] == len(facts["charts"]) >= 3
    assert all(chart["drawn"] > 0 for chart in facts["charts"]), facts["charts"]
    assert facts["lang"] == "fr"
    for text in ("Effectifs de police et victimes civiles", "Civils tués",
                 "Anomalies trouvées dans les fichiers publics", "pas la preuve"):
        assert text in facts["text"], text


def test_demo_public_writes_public_files_into_the_inbox(imported) -> None:
    """Last in the module: `demo` starts afresh (the tests above have read the warehouse;
    the paths are the module's own). The files imported above are not a demo's: it refuses
    to delete them until told to (--force)."""
    from pipelines.config import get_settings

    settings = get_settings()
    imported_files = sorted(p.name for p in settings.paths.inbox.rglob("*") if p.is_file())
    cwd = Path.cwd()
    try:
        refused = runner.invoke(app, ["demo", "--public", "--months", "24", "--no-run"])
        assert refused.exit_code == 1
        said = " ".join(refused.output.split())
        # no demo ran in this project: nothing says which files a demo wrote
        assert "no record of which files a demo wrote" in said and "--force" in said
        assert sorted(p.name for p in settings.paths.inbox.rglob("*") if p.is_file()) \
            == imported_files
        assert settings.paths.warehouse.exists()
        result = runner.invoke(app, ["demo", "--public", "--months", "24", "--no-run",
                                     "--force"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert "planted faults" in result.output and "Not run (--no-run)" in result.output
    assert [p.name for p in (settings.paths.inbox / "ged").iterdir()] == [
        "GEDEvent_demo.geojson"]
    assert [p.name for p in (settings.paths.inbox / "personnel").iterdir()] == [
        "personnel_demo.csv"]
    assert not settings.paths.warehouse.exists()
    assert (settings.paths.demo_truth.parent / "public_demo_truth.json").is_file()
