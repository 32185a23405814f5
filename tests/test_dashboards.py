"""The dashboards, built from a real demo warehouse and opened in headless Chromium.

The warehouse is made here, not by the weekly job: 8 weeks of demo files, ingested by the
ingestion code and built by a real `dbt build` (seeds and models) into a temporary folder, with
its own dbt target and log paths (the repository's dbt target is never touched). A copy then
gets hostile names (a site called ``<script>alert(1)</script>``, a sector with HTML in its
name), a forced suppression and a few impact estimates, and the dashboards are built from it
through a read-only connection.

Every page is opened once in the system's Chromium (playwright; no network): no console error,
no request other than file://, every chart drawn with data, French labels on the francophone
mission's pages, hostile names shown as text and no dialog.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dashboards import build as dashboard_build
from dashboards import data
from dashboards.build import DashboardError, build_dashboards, build_dashboards_from
from dashboards.context import make_context
from dashboards.leadership import render as render_leadership
from dashboards.page import generated_at

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
WEEKS = 8
SCRIPT_SITE = "<script>alert(1)</script>"
HTML_SECTOR = '<b>Est & "Co"</b>'
FRENCH, ENGLISH = "MINUSCA", "UNMISS"  # dim_missions.language fr and en in the demo


# --------------------------------------------------------------------------------------------
# Fixtures: one demo warehouse, one hostile copy, one build.


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory, reference) -> Path:
    """A warehouse built from demo files by the ingestion code and dbt (seeds and models)."""
    from pipelines.config import SOURCES
    from pipelines.demo.generator import generate_demo
    from pipelines.ingest.load import ingest_source
    from pipelines.ingest.pseudonymise import load_or_create_key
    from pipelines.ingest.warehouse import connect, ensure_schema

    base = tmp_path_factory.mktemp("dashboards-demo")
    inbox, warehouse = base / "inbox", base / "warehouse.duckdb"
    generate_demo(inbox, weeks=WEEKS, seed=3, truth_path=base / "truth.json",
                  reference=reference)
    key = load_or_create_key(base / "pseudonym.key")
    with connect(warehouse) as con:
        ensure_schema(con)
        for source in SOURCES:
            ingest_source(con, source, inbox, reference, key, extensions=[".csv", ".xlsx"],
                          run_id="dashboards-test")
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "POCMON_WAREHOUSE": str(warehouse),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(
        [str(dbt), "build", "--resource-type", "seed", "--resource-type", "model",
         "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
         "--target-path", str(base / "dbt_target"), "--log-path", str(base / "dbt_logs"),
         "--no-use-colors"],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return warehouse


IMPACT_ROWS = [
    # estimate_id, mission, question, estimand, unit, estimate, low, high, null, detectable
    ("deterrence.presence_rate_ratio.MINUSCA", FRENCH, "deterrence", "presence_rate_ratio",
     "rate_ratio", 0.65, 0.52, 0.80, 1.0, True,
     "Clear evidence: 35% fewer incidents (rate ratio 0.65).",
     "Éléments solides : 35 % d'incidents de moins après une patrouille (rapport 0,65).",
     "Observational.", "Comparaison observationnelle."),
    ("deterrence.presence_rate_ratio.ALL", "ALL", "deterrence", "presence_rate_ratio",
     "rate_ratio", 0.69, 0.57, 0.84, 1.0, True,
     "Clear evidence: 31% fewer incidents, all missions.",
     "Éléments solides : 31 % d'incidents de moins, toutes missions.",
     "Observational.", "Comparaison observationnelle."),
    ("response.minutes_per_km.MINUSCA", FRENCH, "response", "minutes_per_km",
     "minutes_per_km", 1.5, 1.4, 1.6, 0.0, True,
     "Each km adds 1.5 minutes.", "Chaque km ajoute 1,5 minute.", "Descriptive.",
     "Descriptif."),
]


@pytest.fixture(scope="module")
def hostile_warehouse(demo_warehouse, tmp_path_factory) -> dict:
    """A copy with a script tag as a site name, HTML in a sector name, one value forced to
    suppressed and impact estimates for the francophone mission only."""
    path = tmp_path_factory.mktemp("dashboards-hostile") / "warehouse.duckdb"
    shutil.copy(demo_warehouse, path)
    con = duckdb.connect(str(path))
    try:
        site_id = con.execute(
            "select min(site_id) from marts.dim_sites where mission_id = ?", [FRENCH]
        ).fetchone()[0]
        sector_id = con.execute(
            "select min(sector_id) from marts.dim_sectors where mission_id = ?", [FRENCH]
        ).fetchone()[0]
        con.execute("update marts.dim_sites set site_name = ? where site_id = ?",
                    [SCRIPT_SITE, site_id])
        con.execute("update marts.dim_org_units set org_unit_name = ? "
                    "where level = 'site' and org_unit_id = ?", [SCRIPT_SITE, site_id])
        con.execute("update marts.dim_sectors set sector_name = ? where sector_id = ?",
                    [HTML_SECTOR, sector_id])
        con.execute("update marts.dim_org_units set org_unit_name = ? "
                    "where level = 'sector' and org_unit_id = ?", [HTML_SECTOR, sector_id])
        # the English mission's latest published outcome value of its headline quarter,
        # suppressed as the mart would: no numbers left on the row
        as_of = data.as_of(con, ENGLISH)
        code, value = con.execute("""
            select indicator_code, value from marts.fct_indicator_values v
            join marts.dim_indicators i using (indicator_code)
            where v.mission_id = ? and v.level = 'mission' and v.period_type = 'quarter'
              and v.period_label = ? and v.disaggregation = 'total' and i.kind = 'outcome'
              and i.unit = 'percent' and v.value is not null
            order by indicator_code limit 1""", [ENGLISH, as_of.quarter]).fetchone()
        con.execute("""
            update marts.fct_indicator_values
            set value = null, numerator = null, denominator = null, ci_low = null,
                ci_high = null, baseline = null, target = null, status = null,
                suppressed = true, suppression_reason = 'primary'
            where indicator_code = ? and mission_id = ? and level = 'mission'
              and period_type = 'quarter' and period_label = ?
              and disaggregation = 'total'""", [code, ENGLISH, as_of.quarter])
        # dbt builds the estimates (when the impact model is there): replace them with
        # known rows, for the francophone mission and the pool only
        con.execute("""
            create table if not exists marts.fct_impact_estimates (
                estimate_id varchar, mission_id varchar, question varchar, estimand varchar,
                method varchar, estimate double, ci_low double, ci_high double,
                p_value double, n_obs bigint, n_clusters bigint, unit varchar,
                null_value double, detectable boolean, pretrend_p double,
                sentence_en varchar, sentence_fr varchar, caveat_en varchar,
                caveat_fr varchar)""")
        con.execute("delete from marts.fct_impact_estimates")
        for (eid, mission, question, estimand, unit, est, low, high, null, detectable,
             s_en, s_fr, c_en, c_fr) in IMPACT_ROWS:
            con.execute(
                "insert into marts.fct_impact_estimates (estimate_id, mission_id, question, "
                "estimand, method, estimate, ci_low, ci_high, p_value, n_obs, n_clusters, "
                "unit, null_value, detectable, sentence_en, sentence_fr, caveat_en, "
                "caveat_fr) values (?, ?, ?, ?, 'Poisson regression', ?, ?, ?, 0.001, 1000, "
                "20, ?, ?, ?, ?, ?, ?, ?)",
                [eid, mission, question, estimand, est, low, high, unit, null, detectable,
                 s_en, s_fr, c_en, c_fr])
    finally:
        con.close()
    return {"path": path, "site_id": site_id, "sector_id": sector_id,
            "suppressed_code": code, "suppressed_value": value}


@pytest.fixture(scope="module")
def built(hostile_warehouse, tmp_path_factory) -> dict:
    """The pages as the weekly job builds them: from the file, the missions side by side."""
    out = tmp_path_factory.mktemp("dashboards-out")
    when = generated_at()
    paths = build_dashboards_from(hostile_warehouse["path"], out, workers=2, generated=when)
    return {"out": out, "paths": paths, "generated": when,
            "html": {p.name: p.read_text(encoding="utf-8") for p in paths}}


def _without_plotlyjs(page_html: str) -> str:
    """The page without the embedded plotly.js (which holds URLs as code strings)."""
    return re.sub(r"<script>/\*\*\s*\* plotly\.js.*?</script>", "<script></script>",
                  page_html, count=1, flags=re.S)


# --------------------------------------------------------------------------------------------
# Without a browser.


def test_one_page_per_dashboard_per_mission_and_an_index(built) -> None:
    names = sorted(p.name for p in built["paths"])
    expected = sorted(f"{d}_{m}.html" for d in ("leadership", "planning", "budget")
                      for m in (FRENCH, ENGLISH)) + ["index.html"]
    assert sorted(names) == sorted(expected)
    assert built["paths"][-1].name == "index.html"
    index = built["html"]["index.html"]
    for name in expected[:-1]:
        assert f'href="{name}"' in index


def test_missions_built_side_by_side_give_the_pages_of_one_process(
        built, hostile_warehouse, tmp_path, monkeypatch) -> None:
    con = duckdb.connect(str(hostile_warehouse["path"]), read_only=True)
    try:
        paths = build_dashboards(con, tmp_path / "serial", generated=built["generated"])
    finally:
        con.close()
    assert [p.name for p in paths] == [p.name for p in built["paths"]]
    assert {p.name: p.read_text(encoding="utf-8") for p in paths} == built["html"]
    # the pages were written by worker processes, one mission each
    mission_pages, builders = dashboard_build._mission_pages, tmp_path / "builders"
    builders.mkdir()

    def noted(ctx, out_dir):
        (builders / ctx.mission_id).write_text(str(os.getpid()))
        return mission_pages(ctx, out_dir)

    monkeypatch.setattr(dashboard_build, "_mission_pages", noted)
    build_dashboards_from(hostile_warehouse["path"], tmp_path / "side", workers=2)
    pids = {f.name: int(f.read_text()) for f in builders.iterdir()}
    assert sorted(pids) == sorted((FRENCH, ENGLISH))
    assert os.getpid() not in pids.values()


def test_a_mission_whose_pages_fail_in_a_worker_is_named(hostile_warehouse, tmp_path,
                                                          monkeypatch) -> None:
    def broken(ctx):
        raise KeyError("status")

    monkeypatch.setitem(dashboard_build.BUILDERS, "budget", broken)  # the workers inherit it
    with pytest.raises(DashboardError, match=f"the dashboards of {FRENCH}: KeyError: 'status'"):
        build_dashboards_from(hostile_warehouse["path"], tmp_path, workers=2)


def test_pages_are_self_contained_and_name_no_host(built) -> None:
    for name, page in built["html"].items():
        rest = _without_plotlyjs(page)
        assert "<script src" not in rest and "<link" not in rest, name
        assert not re.search(r"https?://", rest), (name, re.findall(r"https?://\S{0,40}",
                                                                     rest)[:3])
        assert "MathJax" not in rest, name
        assert "default-src 'none'" in page, name  # the page may fetch nothing at all
        for href in re.findall(r'href="([^"]*)"', rest):
            assert (built["out"] / href).is_file(), (name, href)
        if name != "index.html":
            assert page.count("Plotly.newPlot(") > 0, name
            assert "plotly.js v" in page  # embedded, not fetched


def test_hostile_names_are_escaped_in_the_html(built) -> None:
    for name, page in built["html"].items():
        rest = _without_plotlyjs(page)
        assert SCRIPT_SITE not in rest, name
        assert HTML_SECTOR not in rest, name
    leadership = built["html"][f"leadership_{FRENCH}.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in leadership  # shown, as text


def test_pages_read_only_published_tables() -> None:
    """No dashboard reads unsuppressed values or row-level facts (the quarantine report,
    the planning officer's fix list, reads ops.quarantine by design and is not a dashboard)."""
    source = "\n".join(p.read_text(encoding="utf-8")
                       for p in (REPO / "dashboards").glob("*.py")
                       if p.name != "quarantine_report.py")
    for forbidden in ("intermediate.", "raw.", "restricted.", "fct_site_weeks",
                      "fct_incidents", "fct_patrols", "fct_alert_responses",
                      "fct_survey_site_rounds", "ops."):
        assert forbidden not in source, forbidden
    named = set(re.findall(r"marts\.(?:\{IMPACT_TABLE\}|[a-z_]+)", source))
    named = {n.replace("{IMPACT_TABLE}", data.IMPACT_TABLE) for n in named}
    assert named <= set(data.ALLOWED_TABLES), named - set(data.ALLOWED_TABLES)


def test_titles_state_findings_from_published_values(built, hostile_warehouse) -> None:
    con = duckdb.connect(str(hostile_warehouse["path"]), read_only=True)
    try:
        as_of = data.as_of(con, ENGLISH)
        patrols = con.execute("""
            select value from marts.fct_indicator_values
            where indicator_code = 'PAT_COUNT' and mission_id = ? and level = 'mission'
              and period_type = 'week' and period_label = ? and disaggregation = 'total'""",
                              [ENGLISH, as_of.week]).fetchone()[0]
    finally:
        con.close()
    planning = built["html"][f"planning_{ENGLISH}.html"]
    heading = re.search(r'<h3 class="finding">Patrols conducted, week ([^<]*)</h3>', planning)
    assert heading, "the planning page opens with this week's patrols"
    assert heading.group(1).startswith(f"{as_of.week}: {int(patrols):,}")
    leadership = built["html"][f"leadership_{ENGLISH}.html"]
    assert re.search(r'<h3 class="finding">[^<]*: \d+ of \d+ outcome indicators with a '
                     r"target on track", leadership)


def test_suppressed_value_shows_as_suppressed_never_a_number(built, hostile_warehouse) -> None:
    page = built["html"][f"leadership_{ENGLISH}.html"]
    con = duckdb.connect(str(hostile_warehouse["path"]), read_only=True)
    try:
        name = con.execute("select name_en from marts.dim_indicators where indicator_code = ?",
                           [hostile_warehouse["suppressed_code"]]).fetchone()[0]
    finally:
        con.close()
    import html as html_lib

    card = re.search(r'<div class="card"><div class="name">'
                     + re.escape(html_lib.escape(name, quote=False))
                     + r"</div>(.*?)</div></div>", page, flags=re.S)
    assert card, name
    big = re.search(r'<div class="big">(.*?)</div>', card.group(1)).group(1)
    assert re.sub(r"<[^>]+>", "", big).strip() == "suppressed"
    assert "status-suppressed" in card.group(1)  # no on-track/off-track verdict either


def test_impact_estimates_shown_or_said_to_be_missing(built, demo_warehouse, tmp_path) -> None:
    french = built["html"][f"leadership_{FRENCH}.html"]
    english = built["html"][f"leadership_{ENGLISH}.html"]
    assert "Éléments solides : 35 % d'incidents de moins" in french
    assert "Not estimated yet for this mission." in english
    # a warehouse without the table at all says so
    bare = tmp_path / "no_estimates.duckdb"
    shutil.copy(demo_warehouse, bare)
    con = duckdb.connect(str(bare))
    try:
        con.execute("drop table if exists marts.fct_impact_estimates")
        mission = next(m for m in data.missions(con) if m.mission_id == ENGLISH)
        page = render_leadership(make_context(con, mission, generated_at()))
    finally:
        con.close()
    assert "Not estimated yet: the impact estimates" in page


# --------------------------------------------------------------------------------------------
# In the browser.


def _chromium_or_skip() -> None:
    from dashboards.browser import chromium_path

    allowed = bool(os.environ.get("POCMON_ALLOW_BROWSER_SKIP"))
    try:
        import playwright  # noqa: F401
    except ImportError:
        if allowed:
            pytest.skip("playwright is not installed (POCMON_ALLOW_BROWSER_SKIP is set)")
        pytest.fail("playwright is not installed: pip install -e '.[test]'")
    if chromium_path() is None:
        if allowed:
            pytest.skip("no Chromium (POCMON_ALLOW_BROWSER_SKIP is set)")
        pytest.fail("no Chromium at /usr/bin/chromium: apt-get install -y chromium")


PAGE_FACTS = """() => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  return {
    lang: document.documentElement.lang,
    text: document.body.innerText,
    containers: document.querySelectorAll('.plot-container').length,
    charts: divs.map(d => ({
      types: [...new Set(d._fullData.map(t => t.type))],
      drawn: d.querySelectorAll('.point').length + d.querySelectorAll('.hm').length,
    })),
    svgText: divs.map(d => [...d.querySelectorAll('text')].map(t => t.textContent)).flat(),
    countryPaths: [...document.querySelectorAll('.geo .countries path')]
      .filter(p => (p.getAttribute('d') || '').length > 100).length,
    injected: [...document.querySelectorAll('script')]
      .filter(s => s.textContent.trim() === 'alert(1)').length,
  };
}"""


@pytest.fixture(scope="module")
def visits(built) -> dict:
    """Every page opened once in headless Chromium: what it logged, requested and showed."""
    _chromium_or_skip()
    from dashboards.browser import browser, open_page

    seen = {}
    with browser() as context:
        for path in built["paths"]:
            if path.name == "index.html":
                page = context.new_page()
                page.goto(path.resolve().as_uri())
                seen[path.name] = {"links": page.eval_on_selector_all(
                    "a", "links => links.map(a => a.href)")}
                page.close()
                continue
            page, visit = open_page(context, path)
            seen[path.name] = {"visit": visit, **page.evaluate(PAGE_FACTS)}
            page.close()
    return seen


def test_no_console_error_and_no_request_off_the_file(visits) -> None:
    for name, facts in visits.items():
        if "visit" not in facts:
            continue
        visit = facts["visit"]
        assert visit.console_errors == [], (name, visit.console_errors)
        assert visit.page_errors == [], (name, visit.page_errors)
        off = [u for u in visit.requests if not u.startswith(("file://", "data:", "blob:"))]
        assert off == [], (name, off)
        assert visit.requests and visit.requests[0].startswith("file://")


def test_every_chart_is_drawn_with_data(visits) -> None:
    for name, facts in visits.items():
        if "visit" not in facts:
            continue
        assert facts["containers"] == len(facts["charts"]) > 0, name
        empty = [c for c in facts["charts"] if c["drawn"] == 0]
        assert empty == [], (name, empty)
        if name.startswith("leadership_"):
            assert any("scattergeo" in c["types"] for c in facts["charts"]), name
            # the embedded world outline was drawn: countries, without any request
            assert facts["countryPaths"] > 0, name


def test_french_mission_reads_in_french(visits) -> None:
    for dashboard in ("leadership", "planning", "budget"):
        french = visits[f"{dashboard}_{FRENCH}.html"]
        english = visits[f"{dashboard}_{ENGLISH}.html"]
        assert french["lang"] == "fr" and english["lang"] == "en"
        assert "Tableau de bord" in french["text"]
        assert "À propos de ces chiffres" in french["text"]
        for word in ("Leadership dashboard", "Planning dashboard", "Budget dashboard",
                     "About these figures", "on track", "suppressed"):
            assert word not in french["text"], (dashboard, word)
        assert "About these figures" in english["text"]
    leadership = visits[f"leadership_{FRENCH}.html"]
    assert any(t in leadership["text"] for t in ("en bonne voie", "à risque",
                                                 "hors trajectoire", "sans cible"))
    # chart labels too: French month names on the axes
    assert any(t.startswith(("janv.", "févr.")) for t in leadership["svgText"])


def test_hostile_names_appear_as_text_and_run_nothing(visits) -> None:
    for name, facts in visits.items():
        if "visit" in facts:
            assert facts["visit"].dialogs == [], (name, facts["visit"].dialogs)
            assert facts["injected"] == 0, name
    leadership = visits[f"leadership_{FRENCH}.html"]
    assert SCRIPT_SITE in leadership["text"]
    planning = visits[f"planning_{FRENCH}.html"]
    # plotly draws the sector's name as typed, tags and all, on the bar chart's axis
    assert HTML_SECTOR in planning["svgText"]
    assert HTML_SECTOR in planning["text"] or HTML_SECTOR in leadership["text"]


def test_index_links_every_dashboard(visits, built) -> None:
    links = visits["index.html"]["links"]
    pages = {p.resolve().as_uri() for p in built["paths"] if p.name != "index.html"}
    assert pages <= set(links)


def test_the_budget_year_counts_outputs_it_cannot_rate_yet(demo_warehouse, tmp_path) -> None:
    """A sum over a year in progress has no status: the year's finding says how many such
    outputs and outcomes with a target there are, instead of leaving them out of its count."""
    from dashboards.budget import render as render_budget

    copy = tmp_path / "partial_year.duckdb"
    shutil.copy(demo_warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        latest = """(select max(period_label) from marts.fct_indicator_values
                     where mission_id = $m and period_type = 'fiscal_year')"""
        rows = """mission_id = $m and level = 'mission' and period_type = 'fiscal_year'
                  and disaggregation = 'total' and period_label = {latest}
                  and indicator_code in (select indicator_code from marts.dim_indicators
                                         where kind = 'output' and aggregation = 'sum')"""
        con.execute(f"update marts.fct_indicator_values set status = null, target = 100, "
                    f"suppressed = false, is_partial_period = true "
                    f"where {rows.format(latest=latest)}", {"m": ENGLISH})
        (unrated,) = con.execute(f"select count(*) from marts.fct_indicator_values "
                                 f"where {rows.format(latest=latest)}", {"m": ENGLISH}).fetchone()
        mission = next(m for m in data.missions(con) if m.mission_id == ENGLISH)
        page = render_budget(make_context(con, mission, generated_at()))
    finally:
        con.close()
    assert unrated >= 2
    assert re.search(rf'<h3 class="finding">[^<]*outputs with a target on track[^<]*not rated '
                     rf"yet: {unrated} more with a target", page), page[:2000]
