"""The reporting calendar (issue 4): dim_weeks, dim_periods and macros/calendar.sql.

Builds only the two calendar models (and runs their dbt tests and unit tests) into a fresh
DuckDB file, then checks them against a pure-Python version of the rules: a week belongs to
the month holding 4 or more of its days, and through it to a calendar quarter and a UN fiscal
year (1 July to 30 June, labelled FY2025-26).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")

# The default range (vars calendar_start, calendar_end), widened to whole fiscal years.
CALENDAR_START, CALENDAR_END = date(2020, 1, 1), date(2035, 12, 31)
FIRST_FY_START, LAST_FY_END = date(2019, 7, 1), date(2036, 6, 30)


def _dbt(args: list[str], work: Path, warehouse: str = "calendar.duckdb"
         ) -> subprocess.CompletedProcess:
    env = {**os.environ, "POCMON_WAREHOUSE": str(work / warehouse),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(
        [str(DBT), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir",
         str(DBT_PROJECT), "--target-path", str(work / "target"), "--log-path",
         str(work / "logs"), "--no-use-colors"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("calendar")


@pytest.fixture(scope="module")
def con(work: Path):
    """The warehouse after `dbt build` of the calendar models (data tests and unit tests)."""
    # cautious: leave out tests that also need models not selected here
    result = _dbt(["build", "--select", "dim_weeks", "dim_periods", "--indirect-selection",
                   "cautious"], work)
    assert result.returncode == 0, result.stdout + result.stderr
    # the unit tests of the edge weeks ran (and passed) too
    assert "ERROR=0" in result.stdout and "unit_test dim_weeks::" in result.stdout
    with duckdb.connect(str(work / "calendar.duckdb"), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def weeks(con) -> dict[date, dict]:
    cursor = con.execute("select * from marts.dim_weeks order by week_start")
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


# --- the rules in plain Python ------------------------------------------------------------


def py_month_start(monday: date) -> date:
    """The month holding 4 or more of the week's 7 days, counted day by day."""
    days = Counter(date(d.year, d.month, 1) for d in (monday + timedelta(i) for i in range(7)))
    [month] = [m for m, held in days.items() if held >= 4]
    return month


def py_fiscal_year_start(day: date) -> date:
    return date(day.year if day.month >= 7 else day.year - 1, 7, 1)


def py_fiscal_year_label(day: date) -> str:
    start = py_fiscal_year_start(day).year
    return f"FY{start}-{(start + 1) % 100:02d}"


def py_quarter_label(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def py_week_label(monday: date) -> str:
    iso_year, iso_week, _ = monday.isocalendar()
    return f"{iso_year}-W{iso_week:02d}"


# --- the edge weeks of the issue ----------------------------------------------------------


@pytest.mark.parametrize(
    ("monday", "week_label", "month_label", "quarter_label", "fiscal_year_label"),
    [
        (date(2025, 6, 30), "2025-W27", "2025-07", "2025-Q3", "FY2025-26"),
        (date(2024, 6, 24), "2024-W26", "2024-06", "2024-Q2", "FY2023-24"),
        (date(2024, 7, 1), "2024-W27", "2024-07", "2024-Q3", "FY2024-25"),
        (date(2020, 12, 28), "2020-W53", "2020-12", "2020-Q4", "FY2020-21"),
        (date(2026, 12, 28), "2026-W53", "2026-12", "2026-Q4", "FY2026-27"),
        (date(2024, 12, 30), "2025-W01", "2025-01", "2025-Q1", "FY2024-25"),
    ],
)
def test_edge_weeks(weeks, monday, week_label, month_label, quarter_label, fiscal_year_label):
    week = weeks[monday]
    assert week["week_end"] == monday + timedelta(6)
    assert (week["week_label"], week["month_label"], week["quarter_label"],
            week["fiscal_year_label"]) == (week_label, month_label, quarter_label,
                                           fiscal_year_label)


def test_2025_w01_starts_on_monday_2024_12_30(con):
    assert con.execute(
        "select period_start, period_end, month_label, fiscal_year_label from marts.dim_periods"
        " where period_type = 'week' and period_label = '2025-W01'"
    ).fetchall() == [(date(2024, 12, 30), date(2025, 1, 5), "2025-01", "FY2024-25")]


# --- the whole calendar -------------------------------------------------------------------


def test_weeks_are_contiguous_and_cover_whole_fiscal_years(weeks):
    mondays = list(weeks)
    assert all(b - a == timedelta(7) for a, b in zip(mondays, mondays[1:], strict=False))
    assert all(m.isoweekday() == 1 for m in mondays)
    # the first week is the first whose Thursday is in July 2019, the last the last in June 2036
    assert mondays[0] + timedelta(3) >= FIRST_FY_START > mondays[0] - timedelta(4)
    assert mondays[-1] + timedelta(3) <= LAST_FY_END < mondays[-1] + timedelta(10)
    assert mondays[0] <= CALENDAR_START and mondays[-1] + timedelta(6) >= CALENDAR_END


def test_every_week_matches_the_python_rules(weeks):
    for monday, week in weeks.items():
        month = py_month_start(monday)
        iso_year, iso_week, _ = monday.isocalendar()
        expected = {
            "week_end": monday + timedelta(6),
            "iso_year": iso_year,
            "iso_week": iso_week,
            "week_label": py_week_label(monday),
            "month_start": month,
            "month_label": f"{month:%Y-%m}",
            "days_in_month_start_month": sum(
                (monday + timedelta(i)).month == month.month for i in range(7)),
            "quarter_label": py_quarter_label(month),
            "fiscal_year_start": py_fiscal_year_start(month),
            "fiscal_year_label": py_fiscal_year_label(month),
        }
        assert {k: week[k] for k in expected} == expected, monday


def test_every_week_belongs_to_exactly_one_period_of_each_type(con, weeks):
    periods = con.execute(
        "select period_type, period_label, period_start, period_end, weeks_in_period"
        " from marts.dim_periods"
    ).fetchall()
    by_type: dict[str, dict[str, tuple]] = {}
    for period_type, label, start, end, n_weeks in periods:
        by_type.setdefault(period_type, {})[label] = (start, end, n_weeks)
    assert set(by_type) == {"week", "month", "quarter", "fiscal_year"}
    assert len(by_type["week"]) == len(weeks)

    column = {"month": "month_label", "quarter": "quarter_label",
              "fiscal_year": "fiscal_year_label"}
    for period_type, label_column in column.items():
        members: Counter[str] = Counter()
        for monday, week in weeks.items():
            # the week's Thursday lies in exactly one period of the type, the week's own
            thursday = monday + timedelta(3)
            holding = [label for label, (start, end, _) in by_type[period_type].items()
                       if start <= thursday <= end]
            assert holding == [week[label_column]], (period_type, monday)
            members[week[label_column]] += 1
        assert {label: n for label, (_, _, n) in by_type[period_type].items()} == members
        assert sum(members.values()) == len(weeks)


def test_parent_labels_exist(con):
    orphans = con.execute("""
        select child.period_type, child.period_label
        from marts.dim_periods as child
        left join marts.dim_periods as m
            on m.period_type = 'month' and m.period_label = child.month_label
        left join marts.dim_periods as q
            on q.period_type = 'quarter' and q.period_label = child.quarter_label
        left join marts.dim_periods as fy
            on fy.period_type = 'fiscal_year' and fy.period_label = child.fiscal_year_label
        where (child.month_label is not null and m.period_label is null)
           or (child.quarter_label is not null and q.period_label is null)
           or (child.fiscal_year_label is not null and fy.period_label is null)
    """).fetchall()
    assert orphans == []


def test_fiscal_years_run_july_to_june_with_52_or_53_weeks(con):
    years = con.execute(
        "select period_label, period_start, period_end, weeks_in_period"
        " from marts.dim_periods where period_type = 'fiscal_year' order by period_start"
    ).fetchall()
    assert [label for label, *_ in years] == [
        f"FY{y}-{(y + 1) % 100:02d}" for y in range(2019, 2036)]
    for label, start, end, n_weeks in years:
        assert (start, end) == (date(start.year, 7, 1), date(start.year + 1, 6, 30)), label
        assert label == py_fiscal_year_label(start)
        # weeks are those whose Thursday is in the year
        thursdays = sum((start + timedelta(i)).isoweekday() == 4
                        for i in range((end - start).days + 1))
        assert n_weeks == thursdays and n_weeks in (52, 53), label


def test_months_and_quarters_are_whole(con):
    rows = con.execute(
        "select period_type, period_label, period_start, period_end, weeks_in_period"
        " from marts.dim_periods where period_type in ('month', 'quarter')"
    ).fetchall()
    assert sum(t == "month" for t, *_ in rows) == 17 * 12
    assert sum(t == "quarter" for t, *_ in rows) == 17 * 4
    for period_type, label, start, end, n_weeks in rows:
        assert start.day == 1 and (end + timedelta(1)).day == 1, label
        assert label == (f"{start:%Y-%m}" if period_type == "month" else py_quarter_label(start))
        thursdays = sum((start + timedelta(i)).isoweekday() == 4
                        for i in range((end - start).days + 1))
        assert n_weeks == thursdays, label


def test_iso_years_with_week_53(weeks):
    def has_week_53(year: int) -> bool:
        try:
            date.fromisocalendar(year, 53, 1)
        except ValueError:
            return False
        return True

    expected = {y for y in range(2020, 2036) if has_week_53(y)}
    found = {w["iso_year"] for w in weeks.values()
             if w["iso_week"] == 53 and 2020 <= w["iso_year"] <= 2035}
    assert found == expected
    assert {2020, 2026, 2032} <= found and 2025 not in found
    for year in expected:  # and week 53 is always reported in December
        assert weeks[date.fromisocalendar(year, 53, 1)]["month_label"] == f"{year}-12"


# --- the macros, for indicator models -----------------------------------------------------


def test_macros_on_every_day(work):
    """The macros applied to every day from 2019 to 2037 agree with the Python rules."""
    query = """
        select
            cast(day as date) as day,
            {{ iso_week_start('day') }} as week_start,
            {{ iso_week_label('day') }} as week_label,
            {{ week_month_start('day') }} as week_month_start,
            {{ month_label('day') }} as month_label,
            {{ quarter_label('day') }} as quarter_label,
            {{ fiscal_year_start('day') }} as fiscal_year_start,
            {{ fiscal_year_label('day') }} as fiscal_year_label,
            {{ fiscal_year_label(week_month_start('day')) }} as week_fiscal_year_label
        from generate_series(timestamp '2019-01-01', timestamp '2037-12-31', interval 1 day)
            as series(day)
        order by 1
    """
    # its own warehouse file: the module's is held open (read-only) by the other tests
    result = _dbt(["--quiet", "compile", "--inline", query], work, "compile.duckdb")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = duckdb.sql(result.stdout).fetchall()
    assert len(rows) == (date(2037, 12, 31) - date(2019, 1, 1)).days + 1
    for (day, week_start, week_label, week_month, month, quarter, fy_start, fy_label,
         week_fy_label) in rows:
        monday = day - timedelta(day.isoweekday() - 1)
        assert week_start == monday, day
        assert week_label == py_week_label(monday), day
        assert week_month == py_month_start(monday), day
        assert month == f"{day:%Y-%m}", day
        assert quarter == py_quarter_label(day), day
        assert fy_start == py_fiscal_year_start(day), day
        assert fy_label == py_fiscal_year_label(day), day
        assert week_fy_label == py_fiscal_year_label(py_month_start(monday)), day
