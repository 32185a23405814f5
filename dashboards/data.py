"""What the dashboards read from the warehouse, and nothing else.

Counts of people and events come only from the published indicator table
``marts.fct_indicator_values`` (suppressed rows carry no value). The other tables read here hold
reference data (missions, sectors, sites with their configured coordinates, periods, the
indicator catalogue), file-level data-quality facts, and the impact estimates, which are
aggregates with confidence intervals. ``intermediate`` (unsuppressed values), ``raw``,
``restricted`` and the row-level marts are never read: ``ALLOWED_TABLES`` lists every table,
and a test checks the SQL of the package against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

ALLOWED_TABLES = (
    "marts.dim_missions", "marts.dim_sectors", "marts.dim_sites", "marts.dim_org_units",
    "marts.dim_indicators", "marts.dim_periods", "marts.dim_weeks",
    "marts.fct_indicator_values", "marts.fct_reporting_returns", "marts.fct_data_quality",
    "marts.fct_quarantine_by_rule", "marts.fct_impact_estimates",
    # public data: mission-month aggregates and the faults found in the public files
    "marts.fct_mission_months", "marts.fct_public_data_findings",
)
IMPACT_TABLE = "fct_impact_estimates"
# Indicator families in the order the dashboards list them (unknown families come last).
FAMILY_ORDER = ("DET", "RSP", "PER", "TRU", "CAP", "GEN", "PAT", "TRN", "STR", "DQ")
# The operational output that tells which week the data reach.
ACTIVITY_INDICATOR = "PAT_COUNT"


@dataclass(frozen=True)
class Mission:
    mission_id: str
    name: str
    language: str
    country: str = ""


@dataclass(frozen=True)
class AsOf:
    """The latest week with published activity and the periods it belongs to."""

    week: str
    week_start: date
    week_end: date
    previous_week: str | None
    month: str  # the month of the week (4-day rule)
    last_full_month: str | None  # latest month whose weeks all lie on or before the week
    quarter: str
    fiscal_year: str


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, name]).fetchone()[0] > 0


def missions(con: duckdb.DuckDBPyConnection) -> list[Mission]:
    rows = con.execute(
        "select mission_id, mission_name, coalesce(language, 'en'), coalesce(country, '') "
        "from marts.dim_missions order by mission_id").fetchall()
    return [Mission(mid, name or mid, lang if lang in ("en", "fr") else "en", country)
            for mid, name, lang, country in rows]


def indicator_sort_key(code: str) -> tuple[int, str]:
    family = code.split("_", 1)[0]
    rank = FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER)
    return rank, code


def catalogue(con: duckdb.DuckDBPyConnection, lang: str) -> pd.DataFrame:
    """The indicator catalogue with ``name`` and ``definition`` in the language."""
    frame = con.execute(f"""
        select indicator_code, name_{lang} as name, definition_{lang} as definition,
               cpas_outcome, kind, unit, direction, aggregation, levels
        from marts.dim_indicators""").df()
    frame["order"] = frame["indicator_code"].map(indicator_sort_key)
    return frame.sort_values("order").drop(columns="order").reset_index(drop=True)


def as_of(con: duckdb.DuckDBPyConnection, mission_id: str) -> AsOf | None:
    """The latest week with a published activity value (patrols) for the mission; failing
    that, the latest week with any published value. None when there is none."""
    row = None
    for extra in ("and indicator_code = ?", ""):
        params = [mission_id, ACTIVITY_INDICATOR] if extra else [mission_id]
        row = con.execute(f"""
            select max(period_label) from marts.fct_indicator_values
            where mission_id = ? and period_type = 'week' and level = 'mission'
              and disaggregation = 'total' and value is not null {extra}""",
                          params).fetchone()
        if row and row[0]:
            break
    if not row or not row[0]:
        return None
    week = row[0]
    info = con.execute("""
        select week_start, week_end, month_label, quarter_label, fiscal_year_label
        from marts.dim_weeks where week_label = ?""", [week]).fetchone()
    if info is None:
        return None
    week_start, week_end, month, quarter, fiscal_year = info
    previous = con.execute(
        "select week_label from marts.dim_weeks where week_end < ? order by week_end desc "
        "limit 1", [week_start]).fetchone()
    full = con.execute("""
        select max(period_label) from marts.dim_periods
        where period_type = 'month' and last_week_end <= ?""", [week_end]).fetchone()
    return AsOf(week, week_start, week_end, previous[0] if previous else None, month,
                full[0] if full else None, quarter, fiscal_year)


VALUES_SQL = """
select v.indicator_code, v.level, v.org_unit_id, o.org_unit_name, v.parent_org_unit_id,
       v.period_type, v.period_label, v.period_start, v.period_end, v.disaggregation,
       v.disaggregation_value, v.value, v.numerator, v.denominator, v.ci_low, v.ci_high,
       v.baseline, v.target, v.status, v.is_partial_period, v.suppressed
from marts.fct_indicator_values as v
left join marts.dim_org_units as o using (mission_id, level, org_unit_id)
where v.mission_id = ? {where}
order by v.indicator_code, v.level, v.org_unit_id, v.period_start, v.period_type
"""


def values(con: duckdb.DuckDBPyConnection, mission_id: str, *,
           codes: list[str] | None = None, levels: list[str] | None = None,
           period_types: list[str] | None = None, total_only: bool = True,
           disaggregation: str | None = None) -> pd.DataFrame:
    """Published indicator values of a mission (suppressed rows have no numbers)."""
    where, params = [], [mission_id]
    for column, wanted in (("v.indicator_code", codes), ("v.level", levels),
                           ("v.period_type", period_types)):
        if wanted:
            where.append(f"{column} in ({', '.join('?' for _ in wanted)})")
            params += list(wanted)
    if disaggregation:
        where.append("v.disaggregation = ?")
        params.append(disaggregation)
    elif total_only:
        where.append("v.disaggregation = 'total'")
    sql = VALUES_SQL.format(where="".join(f" and {w}" for w in where))
    frame = con.execute(sql, params).df()
    frame["suppressed"] = frame["suppressed"].fillna(False).astype(bool)
    frame["status"] = frame["status"].astype(object).where(frame["status"].notna(), None)
    return frame


def sites(con: duckdb.DuckDBPyConnection, mission_id: str) -> pd.DataFrame:
    """Sites with their sector names and configured reference coordinates."""
    return con.execute("""
        select s.site_id, s.site_name, s.site_type, s.population, s.latitude, s.longitude,
               s.sector_id, c.sector_name
        from marts.dim_sites as s
        left join marts.dim_sectors as c using (sector_id)
        where s.mission_id = ? order by s.sector_id, s.site_id""", [mission_id]).df()


def sectors(con: duckdb.DuckDBPyConnection, mission_id: str) -> pd.DataFrame:
    return con.execute(
        "select sector_id, sector_name from marts.dim_sectors where mission_id = ? "
        "order by sector_id", [mission_id]).df()


def periods(con: duckdb.DuckDBPyConnection, period_type: str) -> pd.DataFrame:
    return con.execute(
        "select period_label, period_start, period_end from marts.dim_periods "
        "where period_type = ? order by period_start", [period_type]).df()


def impact_estimates(con: duckdb.DuckDBPyConnection, mission_id: str) -> pd.DataFrame | None:
    """The mission's and the pooled ('ALL') impact estimates; None when the table is absent."""
    if not table_exists(con, "marts", IMPACT_TABLE):
        return None
    return con.execute(f"""
        select * from marts.{IMPACT_TABLE}
        where mission_id in (?, 'ALL') order by question, estimand, mission_id = 'ALL'""",
                       [mission_id]).df()


def reporting_returns(con: duckdb.DuckDBPyConnection, mission_id: str) -> pd.DataFrame:
    """One row per source and reporting period: expected, received, on time."""
    return con.execute("""
        select source_name, period_label, period_grain, period_start, period_end,
               deadline_at, first_received_at, files, rows_read, rows_loaded,
               rows_quarantined, expected, received, on_time
        from marts.fct_reporting_returns where mission_id = ?
        order by source_name, period_start""", [mission_id]).df()


def quarantine_by_rule(con: duckdb.DuckDBPyConnection, mission_id: str) -> pd.DataFrame:
    """Broken rules of the mission's quarantined rows, and of files whose mission could not be
    read (``mission_id`` null: shown on every mission's page)."""
    return con.execute("""
        select source_name, mission_id, column_name, rule, broken_rules, files
        from marts.fct_quarantine_by_rule
        where mission_id = ? or mission_id is null
        order by broken_rules desc, source_name, column_name""", [mission_id]).df()


def rejected_files(con: duckdb.DuckDBPyConnection, mission_id: str) -> pd.DataFrame:
    """Files rejected whole (the mission's, and those whose mission could not be read)."""
    return con.execute("""
        select source_name, file_name, mission_id, received_at
        from marts.fct_data_quality
        where status = 'rejected' and (mission_id = ? or mission_id is null)
        order by received_at""", [mission_id]).df()


def has_mission_months(con: duckdb.DuckDBPyConnection, mission_id: str) -> bool:
    """The mission has public-data mission-months (so it gets the civilians page)."""
    if not table_exists(con, "marts", "fct_mission_months"):
        return False
    return con.execute("select count(*) from marts.fct_mission_months where mission_id = ?",
                       [mission_id]).fetchone()[0] > 0


def mission_months(con: duckdb.DuckDBPyConnection, mission_id: str) -> pd.DataFrame:
    """The mission's months of public data: UN personnel and UCDP GED civilian deaths."""
    return con.execute("""
        select month_start, month_label, individual_police, formed_police, police, troops,
               police_lag1, troops_lag1, one_sided_civilian_deaths, civilian_deaths,
               strength_reported, ged_covered
        from marts.fct_mission_months where mission_id = ? order by month_start""",
                       [mission_id]).df()


def public_findings(con: duckdb.DuckDBPyConnection, mission_id: str) -> pd.DataFrame:
    """Faults found in the public files: all quarantined rows (public files are not one
    mission's) and the mission's own missing months."""
    if not table_exists(con, "marts", "fct_public_data_findings"):
        return pd.DataFrame(columns=["source_name", "rule", "mission_id", "month_start"])
    return con.execute("""
        select source_name, finding, rule, file_name, mission_id, month_start
        from marts.fct_public_data_findings
        where finding <> 'missing_month' or mission_id = ?
        order by source_name, rule""", [mission_id]).df()
