"""``pocmon export`` against a small hand-made warehouse holding the indicator marts' contract."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.config import get_settings
from pipelines.indicators.export import (
    ExportError,
    Period,
    normalise_period,
    period_rows,
    resolve_period,
    tracking_frame,
)
from pipelines.indicators.export import export as export_tables
from pipelines.indicators.export_writer import TRACKING_COLUMNS, sheet_names

runner = CliRunner()

HYPERLINK = '=HYPERLINK("http://evil.example","click")'
AT_SECTOR = "@Juba sector"
RESPONSE = "Civilians under imminent threat get a timely police response"
PRESENCE = "A visible police presence deters violence against civilians"
SAFETY = "Civilians feel safe where they live"
# the outcomes in French (cpas_outcome_fr), as a francophone mission's export shows them
FRENCH = {
    RESPONSE: "Les civils sous une menace imminente reçoivent une intervention policière en "
              "temps utile",
    PRESENCE: "Une présence policière visible a un effet dissuasif sur les violences contre "
              "les civils",
    SAFETY: "Les civils se sentent en sécurité là où ils vivent",
}

INDICATORS = [
    # code, name_en, name_fr, outcome, unit, direction, aggregation, levels, numerator, denom
    ("PAT_COUNT", "Patrols conducted", "Patrouilles effectuées", PRESENCE, "count", "up", "sum",
     "mission|sector|site", "count(*)", None),
    ("RSP_WITHIN_TARGET", "Alerts answered within the target time",
     "Alertes traitées dans le délai cible", RESPONSE, "percent", "up", "ratio",
     "mission|sector|site", "count(*) filter (where within_target)", "count(*)"),
    ("SRV_FEEL_SAFE", "Residents who feel safe", "Habitants qui se sentent en sécurité", SAFETY,
     "percent", "up", "weighted_ratio", "mission|sector", "sum(weight * feels_safe)",
     "sum(weight)"),
]

ORG_UNITS = [
    # mission, level, id, name, parent level, parent id
    ("MINUSCA", "mission", "MINUSCA", "MINUSCA", None, None),
    ("MINUSCA", "sector", "CAF-S1", "Secteur Centre", "mission", "MINUSCA"),
    ("MINUSCA", "site", "CAF-S1-01", HYPERLINK, "sector", "CAF-S1"),
    ("MINUSCA", "site", "CAF-S1-02", "Bria", "sector", "CAF-S1"),
    ("UNMISS", "mission", "UNMISS", "UNMISS", None, None),
    ("UNMISS", "sector", "SSD-S1", AT_SECTOR, "mission", "UNMISS"),
    ("UNMISS", "site", "SSD-S1-01", "Malakal", "sector", "SSD-S1"),
]


def calendar(first: dt.date, last: dt.date) -> pd.DataFrame:
    """dim_periods for the weeks starting first..last (Mondays), as the dbt model builds it."""
    weeks = []
    monday = first
    while monday <= last:
        thursday = monday + dt.timedelta(days=3)
        year, week, _ = thursday.isocalendar()
        month_start = thursday.replace(day=1)
        month_end = (month_start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        q = (month_start.month - 1) // 3
        quarter_start = dt.date(month_start.year, 3 * q + 1, 1)
        quarter_end = (quarter_start + dt.timedelta(days=95)).replace(day=1) \
            - dt.timedelta(days=1)
        fy = month_start.year if month_start.month >= 7 else month_start.year - 1
        weeks.append({
            "week": f"{year}-W{week:02d}", "week_start": monday,
            "week_end": monday + dt.timedelta(days=6),
            "month": month_start.strftime("%Y-%m"), "month_start": month_start,
            "month_end": month_end,
            "quarter": f"{month_start.year}-Q{q + 1}", "quarter_start": quarter_start,
            "quarter_end": quarter_end,
            "fy": f"FY{fy}-{(fy + 1) % 100:02d}", "fy_start": dt.date(fy, 7, 1),
            "fy_end": dt.date(fy + 1, 6, 30),
        })
        monday += dt.timedelta(days=7)
    weeks = pd.DataFrame(weeks)
    rows = []
    for w in weeks.itertuples():
        rows.append(("week", w.week, w.week_start, w.week_end, w.month, w.quarter, w.fy))
    for parent_cols, ptype, key, start, end in [
        (("quarter", "fy"), "month", "month", "month_start", "month_end"),
        (("fy",), "quarter", "quarter", "quarter_start", "quarter_end"),
        ((), "fiscal_year", "fy", "fy_start", "fy_end"),
    ]:
        for _, group in weeks.groupby(key, sort=True):
            first_row = group.iloc[0]
            parents = {c: first_row[c] for c in parent_cols}
            rows.append((ptype, first_row[key], first_row[start], first_row[end], None,
                         parents.get("quarter"), parents.get("fy")))
    return pd.DataFrame(rows, columns=["period_type", "period_label", "period_start",
                                       "period_end", "month_label", "quarter_label",
                                       "fiscal_year_label"])


PERIODS = calendar(dt.date(2024, 7, 1), dt.date(2026, 6, 22))
BOUNDS = {r.period_label: (r.period_type, r.period_start, r.period_end)
          for r in PERIODS.itertuples()}


def value(code, mission, level, unit, parent, label, v, baseline=None, target=None,
          status=None, suppressed=False, reason=None, disaggregation="total", category="total",
          ci=(None, None)):
    period_type, start, end = BOUNDS[label]
    if suppressed:  # the publishable mart already carries no number for suppressed rows
        v, status, ci = None, None, (None, None)
    return (code, mission, level, unit, parent, period_type, label, start, end, disaggregation,
            category, v, None, None, ci[0], ci[1], baseline, target, status, suppressed, reason)


def values() -> list[tuple]:
    rows = []
    for mission in ("MINUSCA", "UNMISS"):
        m = (mission, "mission", mission, None)
        rows += [
            value("PAT_COUNT", *m, "FY2025-26", 1200.0, 900.0, 1000.0, "on_track"),
            value("PAT_COUNT", *m, "2025-Q3", 600.0, 225.0, 250.0, "on_track"),
            value("PAT_COUNT", *m, "2025-Q4", 600.0, 225.0, 250.0, "on_track"),
            value("RSP_WITHIN_TARGET", *m, "FY2025-26", 0.755, 0.7, 0.8, "at_risk"),
            value("RSP_WITHIN_TARGET", *m, "2025-Q3", 0.6, 0.7, 0.8, "off_track"),
            value("SRV_FEEL_SAFE", *m, "FY2025-26", 0.62, 0.5, 0.6, "on_track",
                  ci=(0.55, 0.69)),
        ]
        rows += [value("PAT_COUNT", *m, month, 200.0, 75.0, 80.0, "on_track")
                 for month in ("2025-07", "2025-08", "2025-09")]
    m = ("MINUSCA", "mission", "MINUSCA", None)
    rows += [value("PAT_COUNT", *m, week, 50.0) for week in
             ("2025-W36", "2025-W37", "2025-W38", "2025-W39", "2025-W40")]
    rows += [
        value("PAT_COUNT", *m, "2025-Q3", 400.0, disaggregation="mode", category="foot"),
        value("PAT_COUNT", *m, "2025-Q3", 200.0, disaggregation="mode", category="vehicle"),
    ]
    sector = ("MINUSCA", "sector", "CAF-S1", "MINUSCA")
    rows += [value("PAT_COUNT", *sector, label, 150.0, 50.0, 60.0, "on_track")
             for label in ("2025-Q3", "2025-07", "2025-08", "2025-09")]
    rows += [value("PAT_COUNT", "UNMISS", "sector", "SSD-S1", "UNMISS", "2025-Q3", 300.0,
                   100.0, 120.0, "on_track")]
    site1 = ("MINUSCA", "site", "CAF-S1-01", "CAF-S1")
    site2 = ("MINUSCA", "site", "CAF-S1-02", "CAF-S1")
    rows += [
        value("PAT_COUNT", *site1, "2025-Q3", 3.0, 10.0, 12.0, "off_track", suppressed=True,
              reason="primary"),
        value("PAT_COUNT", *site2, "2025-Q3", 147.0, 40.0, 48.0, "on_track", suppressed=True,
              reason="complementary"),
        value("PAT_COUNT", *site1, "2025-07", 20.0, 10.0, 12.0, "on_track"),
        value("PAT_COUNT", *site2, "2025-07", 30.0, 10.0, 12.0, "on_track"),
        value("RSP_WITHIN_TARGET", *site2, "2025-Q3", 0.9),  # no target: no status
    ]
    return rows


def build_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("""
        create table marts.fct_indicator_values (
            indicator_code varchar, mission_id varchar, level varchar, org_unit_id varchar,
            parent_org_unit_id varchar, period_type varchar, period_label varchar,
            period_start date, period_end date, disaggregation varchar,
            disaggregation_value varchar, value double, numerator double, denominator double,
            ci_low double, ci_high double, baseline double, target double, status varchar,
            suppressed boolean, suppression_reason varchar)""")
    con.executemany("insert into marts.fct_indicator_values values "
                    f"({', '.join('?' * 21)})", values())
    # a fiscal year in progress: the FY rows are partial
    con.execute("alter table marts.fct_indicator_values add column is_partial_period boolean")
    con.execute("update marts.fct_indicator_values "
                "set is_partial_period = period_type = 'fiscal_year'")
    con.execute("""
        create table marts.dim_indicators (
            indicator_code varchar, indicator_family varchar, name_en varchar, name_fr varchar,
            definition_en varchar, definition_fr varchar, cpas_outcome varchar,
            cpas_outcome_fr varchar, poc_tier varchar,
            phase varchar, police_role varchar, kind varchar, source_mart varchar, unit varchar,
            direction varchar, aggregation varchar, disaggregations varchar, levels varchar,
            numerator varchar, denominator varchar)""")
    con.executemany("insert into marts.dim_indicators values "
                    f"({', '.join('?' * 20)})", [
                        (code, code.split("_")[0], en, fr, f"Definition of {en}.",
                         f"Définition : {fr}.", outcome, FRENCH[outcome], "II", "response",
                         "deterrent",
                         "outcome" if unit == "percent" else "output", "fct_x", unit, direction,
                         aggregation, "mission|mode", levels, numerator, denominator)
                        for code, en, fr, outcome, unit, direction, aggregation, levels,
                        numerator, denominator in INDICATORS])
    con.execute("""
        create table marts.dim_org_units (
            mission_id varchar, level varchar, org_unit_id varchar, parent_level varchar,
            parent_org_unit_id varchar, org_unit_name varchar, population bigint)""")
    con.executemany("insert into marts.dim_org_units values (?, ?, ?, ?, ?, ?, 1000)",
                    [(m, lv, i, pl, pi, n) for m, lv, i, n, pl, pi in ORG_UNITS])
    con.execute("""create table marts.dim_missions as select * from (values
        ('MINUSCA', 'MINUSCA', 'Central African Republic', 'fr'),
        ('UNMISS', 'UNMISS', 'South Sudan', 'en')) as t(mission_id, mission_name, country,
        language)""")
    con.register("periods", PERIODS)
    con.execute("""create table marts.dim_periods as select period_type, period_label,
        cast(period_start as date) as period_start, cast(period_end as date) as period_end,
        month_label, quarter_label, fiscal_year_label from periods""")
    con.close()
    return path


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("export") / "pocmon.duckdb")


@pytest.fixture
def env(warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point pocmon at the fixture warehouse; yield the default export folder."""
    monkeypatch.setenv("POCMON_WAREHOUSE", str(warehouse_file))
    monkeypatch.setenv("POCMON_PUBLISHED", str(tmp_path / "published"))
    get_settings.cache_clear()
    yield tmp_path / "published" / "exports"
    get_settings.cache_clear()


@pytest.fixture
def con(warehouse_file: Path) -> Iterator:
    connection = duckdb.connect(str(warehouse_file), read_only=True)
    yield connection
    connection.close()


def export(*args: str):
    result = runner.invoke(app, ["export", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def french_sheets(*outcomes: str) -> dict[str, str]:
    """The sheet name of each (English) outcome in a French workbook."""
    names = sheet_names([FRENCH[o] for o in outcomes], reserved=("Dictionnaire", "Lisez-moi"))
    return {o: names[FRENCH[o]] for o in outcomes}


def rows(book: openpyxl.Workbook, sheet: str) -> list[dict]:
    ws = book[sheet]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, r, strict=True))
            for r in ws.iter_rows(min_row=2, values_only=True)]


def cell(book: openpyxl.Workbook, sheet: str, column: str, **where) -> openpyxl.cell.Cell:
    ws = book[sheet]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        record = dict(zip(header, row, strict=True))
        if all(record[k].value == v for k, v in where.items()):
            return record[column]
    raise AssertionError(f"no row {where} in {sheet}")


# ---------------------------------------------------------------------------------------------
# Periods.


@pytest.mark.parametrize(("text", "expected"), [
    ("FY2025-26", ("fiscal_year", "FY2025-26")), ("fy2025/26", ("fiscal_year", "FY2025-26")),
    ("FY2025-2026", ("fiscal_year", "FY2025-26")), ("2025-q3", ("quarter", "2025-Q3")),
    ("2025-9", ("month", "2025-09")), ("2025-W4", ("week", "2025-W04")),
    (" 2025-w14 ", ("week", "2025-W14")),
])
def test_normalise_period(text: str, expected: tuple[str, str]) -> None:
    assert normalise_period(text) == expected


@pytest.mark.parametrize("text", ["2025-13", "FY2025-27", "Q3-2025", "2025-W54", "last week"])
def test_normalise_period_rejects(text: str) -> None:
    with pytest.raises(ExportError, match="not a period label.*FY2025-26.*2025-W14"):
        normalise_period(text)


def test_sub_periods(con) -> None:
    def labels(label: str) -> list[str]:
        return list(period_rows(con, resolve_period(con, label))["period_label"])

    assert labels("FY2025-26") == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "FY2025-26"]
    assert labels("2025-Q3") == ["2025-07", "2025-08", "2025-09", "2025-Q3"]
    # weeks whose Thursday is in September 2025: W36 (Thu 4 Sep) to W40 (Mon 29 Sep, Thu 2 Oct)
    # is October's
    assert labels("2025-09") == ["2025-W36", "2025-W37", "2025-W38", "2025-W39", "2025-09"]
    assert labels("2025-W14") == ["2025-W14"]


def test_tracking_frame(con) -> None:
    frame = tracking_frame(con, "2025-Q3", "site", "MINUSCA", "fr")
    assert list(frame.columns[:len(TRACKING_COLUMNS)]) == TRACKING_COLUMNS
    masked = frame[frame["suppressed"]]
    assert len(masked) == 2
    assert masked[["baseline", "target", "actual", "status"]].isna().all().all()
    assert set(frame["org_unit"]) == {HYPERLINK, "Bria"}
    assert set(frame["parent_org_unit"]) == {"Secteur Centre"}
    assert list(frame.loc[frame["org_unit"] == "Bria", "period"]) == \
        ["2025-07", "2025-Q3", "2025-Q3"]  # PAT_COUNT's periods, then RSP_WITHIN_TARGET's
    assert "disaggregation" not in frame.columns
    full = tracking_frame(con, Period("quarter", "2025-Q3"), "mission", "MINUSCA", "en",
                          disaggregated=True)
    assert {"mode"} <= set(full["disaggregation"])
    assert full["row_order"].is_monotonic_increasing


# ---------------------------------------------------------------------------------------------
# Excel.


def test_xlsx_per_mission(env: Path) -> None:
    result = export("--period", "FY2025-26")
    assert result.exit_code == 0, result.output
    minusca = env / "MINUSCA_FY2025-26_mission_indicators.xlsx"
    unmiss = env / "UNMISS_FY2025-26_mission_indicators.xlsx"
    assert sorted(p.name for p in env.iterdir()) == sorted([minusca.name, unmiss.name])
    assert "MINUSCA_FY2025-26_mission_indicators.xlsx" in result.output
    assert "No value suppressed" in result.output

    # a sheet per outcome in the mission's language, in the same (catalogue) order
    english = sheet_names([PRESENCE, RESPONSE, SAFETY])
    french = french_sheets(PRESENCE, RESPONSE, SAFETY)
    fr = openpyxl.load_workbook(minusca)
    assert fr.sheetnames == [*french.values(), "Dictionnaire", "Lisez-moi"]
    en = openpyxl.load_workbook(unmiss)
    assert en.sheetnames == [*english.values(), "Dictionary", "README"]
    assert fr.sheetnames[0].startswith("Une présence policière")
    assert en.sheetnames[0].startswith("A visible police presence")
    for book in (fr, en):
        for name in book.sheetnames[:-1]:
            assert book[name].freeze_panes == "A2"

    presence = french[PRESENCE]
    headers = [c.value for c in fr[presence][1]]
    assert headers[:3] == ["Code de l'indicateur", "Indicateur", "Unité organisationnelle"]
    assert "Valeur réelle" in headers and "Statut" in headers
    assert "Ventilation" not in headers  # totals only
    # the FY and its quarters, sub-periods first; not the months
    assert [r["Période"] for r in rows(fr, presence)] == ["2025-Q3", "2025-Q4", "FY2025-26"]
    fy = rows(fr, presence)[-1]
    assert fy["Indicateur"] == "Patrouilles effectuées" and fy["Niveau"] == "mission"
    assert fy["Type de période"] == "exercice budgétaire" and fy["Statut"] == "en bonne voie"
    assert fy["Valeur réelle"] == 1200

    actual = cell(fr, presence, "Valeur réelle", **{"Période": "FY2025-26"})
    assert actual.number_format == "#,##0" and actual.data_type == "n"
    response = french[RESPONSE]
    actual = cell(fr, response, "Valeur réelle", **{"Période": "FY2025-26"})
    assert actual.value == pytest.approx(0.755) and actual.number_format == "0.0%"
    status = cell(fr, response, "Statut", **{"Période": "FY2025-26"})
    assert status.value == "à risque"
    assert cell(en, english[RESPONSE], "Status", Period="FY2025-26").value == "at risk"
    safety = cell(en, english[SAFETY], "95% CI low", Period="FY2025-26")
    assert safety.value == pytest.approx(0.55) and safety.number_format == "0.0%"

    dictionary = rows(fr, "Dictionnaire")
    assert [d["Code de l'indicateur"] for d in dictionary] == \
        ["PAT_COUNT", "RSP_WITHIN_TARGET", "SRV_FEEL_SAFE"]
    rsp = dictionary[1]
    assert rsp["Numérateur"] == "count(*) filter (where within_target)"
    assert rsp["Dénominateur"] == "count(*)" and rsp["Agrégation"] == "ratio de sommes"
    assert rsp["Définition"].startswith("Définition") and rsp["Unité"] == "pourcentage"
    assert dictionary[0]["Dénominateur"] is None  # no denominator: empty, not "None"
    assert [(d["Résultat CPAS"], d["Feuille"]) for d in dictionary] == \
        [(FRENCH[o], french[o]) for o in (PRESENCE, RESPONSE, SAFETY)]
    assert [(d["CPAS outcome"], d["Sheet"]) for d in rows(en, "Dictionary")] == \
        [(o, english[o]) for o in (PRESENCE, RESPONSE, SAFETY)]
    readme = [str(c.value) for c in fr["Lisez-moi"]["A"]]
    assert f"{french[PRESENCE]} : {FRENCH[PRESENCE]}" in readme
    readme = " ".join(readme)
    assert "Colonnes" in readme and "Valeur réelle : " in readme
    assert not any(outcome in readme for outcome in (PRESENCE, RESPONSE, SAFETY))
    readme = [str(c.value) for c in en["README"]["A"]]
    assert f"{english[PRESENCE]}: {PRESENCE}" in readme
    assert not any(label in " ".join(readme) for label in FRENCH.values())


def test_xlsx_sites_suppressed_and_neutralised(env: Path) -> None:
    result = export("--period", "2025-Q3", "--level", "site", "--mission", "minusca")
    assert result.exit_code == 0, result.output
    path = env / "MINUSCA_2025-Q3_site_indicators.xlsx"
    assert [p.name for p in env.iterdir()] == [path.name]
    assert "2 of 5 value(s) suppressed" in result.output
    assert "not reported at site level: SRV_FEEL_SAFE" in result.output

    book = openpyxl.load_workbook(path)
    outcomes = french_sheets(PRESENCE, RESPONSE)
    assert book.sheetnames == [*outcomes.values(), "Dictionnaire", "Lisez-moi"]
    table = rows(book, outcomes[PRESENCE])
    assert {r["Unité organisationnelle"] for r in table} == {"'" + HYPERLINK, "Bria"}
    assert {r["Unité de rattachement"] for r in table} == {"Secteur Centre"}
    assert [r["Période"] for r in table] == ["2025-07", "2025-Q3"] * 2  # months of the quarter
    masked = [r for r in table if r["Masqué"] == "oui"]
    assert len(masked) == 2
    for r in masked:
        assert r["Valeur réelle"] == "masqué"
        assert (r["Référence"], r["Cible"], r["Statut"]) == (None, None, None)
    no_target = rows(book, outcomes[RESPONSE])[0]
    assert no_target["Valeur réelle"] == pytest.approx(0.9) and no_target["Statut"] is None
    texts = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)
    assert all(c.data_type != "f" for ws in book.worksheets for row in ws.iter_rows()
               for c in row)


def test_xlsx_language_override_and_disaggregated(env: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    result = export("-p", "2025-Q3", "-m", "MINUSCA", "--language", "en", "--disaggregated",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out / "MINUSCA_2025-Q3_mission_disaggregated_indicators.xlsx")
    # the forced language names the sheets too
    assert book.sheetnames == [*sheet_names([PRESENCE, RESPONSE]).values(), "Dictionary",
                               "README"]
    table = rows(book, sheet_names([PRESENCE])[PRESENCE])
    q3 = [(r["Disaggregation"], r["Category"], r["Actual"]) for r in table
          if r["Period"] == "2025-Q3"]
    assert q3 == [("total", "total", 600), ("patrol mode", "foot", 400),
                  ("patrol mode", "vehicle", 200)]
    assert not env.exists()


def test_week_and_month(env: Path) -> None:
    assert export("-p", "2025-09", "-m", "MINUSCA").exit_code == 0
    book = openpyxl.load_workbook(env / "MINUSCA_2025-09_mission_indicators.xlsx")
    periods = [r["Période"] for r in rows(book, french_sheets(PRESENCE)[PRESENCE])]
    assert periods == ["2025-W36", "2025-W37", "2025-W38", "2025-W39", "2025-09"]
    assert export("-p", "2025-w37", "-m", "MINUSCA").exit_code == 0
    book = openpyxl.load_workbook(env / "MINUSCA_2025-W37_mission_indicators.xlsx")
    assert [r["Période"] for r in rows(book, book.sheetnames[0])] == ["2025-W37"]


# ---------------------------------------------------------------------------------------------
# CSV.


def test_csv(env: Path) -> None:
    result = export("--period", "2025-Q3", "--level", "sector", "--format", "csv")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in env.iterdir())
    assert names == sorted(f"{m}_2025-Q3_sector_{kind}.csv" for m in ("MINUSCA", "UNMISS")
                           for kind in ("indicators", "dictionary"))

    table = pd.read_csv(env / "UNMISS_2025-Q3_sector_indicators.csv", encoding="utf-8-sig")
    assert list(table.columns) == [
        *TRACKING_COLUMNS, "indicator", "unit", "org_unit_id", "parent_org_unit",
        "period_type", "period_start", "period_end", "ci_low", "ci_high", "partial_period",
    ]
    assert table.loc[table["period"] == "FY2025-26", "partial_period"].all()
    assert not table.loc[table["period"] != "FY2025-26", "partial_period"].any()
    row = table.iloc[0]
    assert row["org_unit"] == "'" + AT_SECTOR and row["org_unit_id"] == "SSD-S1"
    assert (row["period"], row["actual"], row["target"], row["status"]) == \
        ("2025-Q3", 300, 120, "on_track")
    assert (row["period_start"], row["period_end"]) == ("2025-07-01", "2025-09-30")
    assert row["indicator"] == "Patrols conducted" and not row["suppressed"]

    fr = pd.read_csv(env / "MINUSCA_2025-Q3_sector_indicators.csv", encoding="utf-8-sig")
    assert list(fr["period"]) == ["2025-07", "2025-08", "2025-09", "2025-Q3"]
    assert set(fr["indicator"]) == {"Patrouilles effectuées"}
    assert set(fr["parent_org_unit"]) == {"MINUSCA"}

    dictionary = pd.read_csv(env / "MINUSCA_2025-Q3_sector_dictionary.csv",
                             encoding="utf-8-sig", keep_default_na=False)
    columns = dictionary[dictionary["entry"] == "column"]
    assert list(columns["name"]) == list(fr.columns)
    assert columns.set_index("name").loc["actual", "label"] == "Valeur réelle"
    indicator = dictionary[dictionary["entry"] == "indicator"].iloc[0]
    assert (indicator["name"], indicator["label"], indicator["unit"], indicator["numerator"]) \
        == ("PAT_COUNT", "Patrouilles effectuées", "nombre", "count(*)")
    assert indicator["cpas_outcome"] == FRENCH[PRESENCE] and indicator["aggregation"] == "somme"
    english = pd.read_csv(env / "UNMISS_2025-Q3_sector_dictionary.csv", encoding="utf-8-sig",
                          keep_default_na=False)
    assert english.loc[english["entry"] == "indicator", "cpas_outcome"].iloc[0] == PRESENCE


def test_csv_suppressed_and_disaggregated(env: Path) -> None:
    assert export("-p", "2025-Q3", "-l", "site", "-f", "csv", "-m", "MINUSCA").exit_code == 0
    table = pd.read_csv(env / "MINUSCA_2025-Q3_site_indicators.csv", encoding="utf-8-sig")
    masked = table[table["suppressed"]]
    assert len(masked) == 2
    assert masked[["baseline", "target", "actual", "status"]].isna().all().all()
    assert "suppression_reason" not in table.columns
    assert set(table["org_unit"]) == {"'" + HYPERLINK, "Bria"}
    assert export("-p", "2025-Q3", "-f", "csv", "-m", "MINUSCA", "--disaggregated"
                  ).exit_code == 0
    table = pd.read_csv(env / "MINUSCA_2025-Q3_mission_disaggregated_indicators.csv",
                        encoding="utf-8-sig")
    assert {"disaggregation", "disaggregation_value"} <= set(table.columns)
    assert set(table["disaggregation_value"]) == {"total", "foot", "vehicle"}


def test_several_formats_in_one_call(warehouse_file: Path, tmp_path: Path) -> None:
    """The weekly job writes Excel and CSV in one call: the same files, byte for byte in
    CSV, as one call per format, and the rows and suppressed values counted once."""
    both = export_tables(warehouse_file, "2025-Q3", tmp_path / "both", "sector", ("xlsx", "csv"))
    xlsx = export_tables(warehouse_file, "2025-Q3", tmp_path / "apart", "sector", "xlsx")
    csv = export_tables(warehouse_file, "2025-Q3", tmp_path / "apart", "sector", "csv")
    assert [f.path.name for f in both.files] != []
    assert sorted(f.path.name for f in both.files) == sorted(
        f.path.name for f in xlsx.files + csv.files)
    assert (both.rows, both.suppressed) == (xlsx.rows, xlsx.suppressed) == (csv.rows,
                                                                            csv.suppressed)
    for name in (f.path.name for f in csv.files):
        assert (tmp_path / "both" / name).read_bytes() == (tmp_path / "apart" / name
                                                           ).read_bytes()
    with pytest.raises(ExportError, match="unknown format 'pdf'"):
        export_tables(warehouse_file, "2025-Q3", tmp_path / "x", "sector", ("xlsx", "pdf"))


def test_rewrites_atomically(env: Path) -> None:
    env.mkdir(parents=True)
    target = env / "UNMISS_2025-Q3_mission_indicators.xlsx"
    target.write_text("old")
    assert export("-p", "2025-Q3", "-m", "UNMISS").exit_code == 0
    assert openpyxl.load_workbook(target).sheetnames
    assert [p.name for p in env.iterdir()] == [target.name]  # no temporary file left


# ---------------------------------------------------------------------------------------------
# Problems: one line, exit code 1.


@pytest.mark.parametrize(("args", "message"), [
    (["-p", "2025-13"], "'2025-13' is not a period label: use a fiscal year FY2025-26"),
    (["-p", "Q3 2025"], "is not a period label"),
    (["-p", "FY2025"], "(did you mean FY2024-25, FY2025-26?)"),
    (["-p", "2025-26"], "(did you mean FY2025-26?)"),
    (["-p", "2025-W00"], "(did you mean 2025-W01?)"),
    (["-p", "2031-Q3"], "period 2031-Q3 is not in the reporting calendar, which has quarters "
                        "2024-Q3 to 2026-Q2; nearest: 2026-Q1, 2026-Q2"),
    (["-p", "FY2024-25"], "no indicator values for FY2024-25 (or its quarters) in any "
                          "mission; fiscal years with values: FY2025-26"),
    (["-p", "2025-Q3", "-l", "site", "-m", "UNMISS"],
     "no indicator values at site level for 2025-Q3 (or its months) in mission UNMISS; "
     "levels with values: mission, sector"),
    (["-p", "2025-Q3", "-l", "region"], "unknown level 'region': use mission, sector, site"),
    (["-p", "2025-Q3", "-f", "pdf"], "unknown format 'pdf': use csv or xlsx"),
    (["-p", "2025-Q3", "--language", "de"], "unknown language 'de': use en or fr"),
    (["-p", "2025-Q3", "-m", "MONUSCO"], "unknown mission 'MONUSCO': the warehouse has "
                                         "MINUSCA, UNMISS"),
])
def test_errors(env: Path, args: list[str], message: str) -> None:
    result = export(*args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert not env.exists()


def test_missing_warehouse(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POCMON_WAREHOUSE", str(tmp_path / "none" / "pocmon.duckdb"))
    get_settings.cache_clear()
    result = export("-p", "2025-Q3")
    assert result.exit_code == 1
    assert "no warehouse at" in result.output
    assert "run `pocmon run` or `pocmon demo` first" in result.output


def test_warehouse_without_marts(env: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    monkeypatch.setenv("POCMON_WAREHOUSE", str(empty))
    get_settings.cache_clear()
    result = export("-p", "2025-Q3")
    assert result.exit_code == 1
    assert "no indicator marts yet" in result.output and "marts.fct_indicator_values" in \
        " ".join(result.output.split())


def test_out_not_writable(env: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = export("-p", "2025-Q3", "--out", str(blocker / "exports"))
    assert result.exit_code == 1
    assert "cannot write to" in result.output and "is a file, not a folder" in result.output
    result = export("-p", "2025-Q3", "--out", str(blocker))
    assert result.exit_code == 1 and "is a file, not a folder" in result.output
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        result = export("-p", "2025-Q3", "--out", str(locked))
        assert result.exit_code == 1 and "permission denied" in result.output


def test_help_has_examples() -> None:
    result = runner.invoke(app, ["export", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for fragment in ("pocmon export --period FY2025-26", "--level", "--format", "--out",
                     "--mission", "--language", "--disaggregated", "2025-W14",
                     "mission|sector|site", "xlsx|csv", "en|fr"):  # the choices, not <str>
        assert fragment in text


def test_warehouse_without_french_outcomes(env: Path, tmp_path: Path, warehouse_file: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A warehouse built before dim_indicators had cpas_outcome_fr: rebuild it, no English."""
    old = tmp_path / "old.duckdb"
    old.write_bytes(warehouse_file.read_bytes())
    with duckdb.connect(str(old)) as con:
        con.execute("alter table marts.dim_indicators drop column cpas_outcome_fr")
    monkeypatch.setenv("POCMON_WAREHOUSE", str(old))
    get_settings.cache_clear()
    result = export("-p", "2025-Q3", "-m", "MINUSCA")
    text = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "lacks columns ['cpas_outcome_fr']" in text and "pocmon run" in text
    assert not env.exists() or not any(env.iterdir())


def test_inconsistent_marts(env: Path, tmp_path: Path, warehouse_file: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(warehouse_file.read_bytes())
    with duckdb.connect(str(broken)) as con:
        con.execute("update marts.fct_indicator_values set status = 'great' "
                    "where mission_id = 'UNMISS'")
    monkeypatch.setenv("POCMON_WAREHOUSE", str(broken))
    get_settings.cache_clear()
    result = export("-p", "2025-Q3", "-m", "UNMISS")
    assert result.exit_code == 1 and "unknown status values" in result.output
    assert not env.exists() or not any(env.iterdir())


def test_help_wraps_at_the_terminal_not_at_the_source_lines() -> None:
    """Docstring paragraphs reach the help as single lines: at 80 columns the description
    fills each line instead of breaking where the source did."""
    result = runner.invoke(app, ["demo", "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = [line.strip() for line in result.output.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("MINUSCA (francophone"))
    paragraph = lines[start:lines.index("", start)]
    assert len(paragraph) >= 3
    assert all(len(line) > 60 for line in paragraph[:-1]), paragraph
