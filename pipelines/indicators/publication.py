"""fct_indicator_values at scale: ``suppress_indicator_values``'s rules, row work in DuckDB.

The published table has millions of rows on a multi-year, multi-mission warehouse, and pandas
would hold them all to suppress a few. Here DuckDB drops the withheld rows, flags primary
suppression and hides values; only the independent blocks (indicator, mission, fiscal year) of
counts of people that hold a primary-suppressed cell go to pandas, where
``suppression.suppress_indicator_values`` adds their complementary suppression exactly as it
would on the whole table (no published total links two blocks).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.indicators.suppression import (
    ADDITIVE_SETTINGS,
    COUNTS_BROKEN_DOWN_AT,
    COUNTS_PERIODS,
    HIDDEN_COLUMNS,
    INDICATOR_KEY,
    REASON_COL,
    SMALL_CELL_COUNTS,
    SUPPRESSED_COL,
    suppress_indicator_values,
)

COLUMNS = [
    "indicator_code", "mission_id", "level", "org_unit_id", "parent_org_unit_id",
    "period_type", "period_label", "period_start", "period_end", "disaggregation",
    "disaggregation_value", "value", "numerator", "denominator", "ci_low", "ci_high",
    "baseline", "target", "status", "is_partial_period", "suppressed", "suppression_reason",
]
# what suppress_indicator_values reads of a block
BLOCK_COLUMNS = [*INDICATOR_KEY, "parent_level", "parent_org_unit_id", "parent_period_label",
                 "fiscal_year_label", "value", "numerator", "denominator", "observations",
                 "ci_low", "ci_high", "status"]


def _quoted(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _primary_sql(threshold: int) -> str:
    """SQL: the row is primary-suppressed (the catalogue setting in column ``setting``)."""
    small = "(coalesce(cast({c} as double), 0) > 0 and coalesce(cast({c} as double), 0) < {t})"
    cases = []
    for name, columns in SMALL_CELL_COUNTS.items():
        if columns:
            test = " or ".join(small.format(c=f"v.{c}", t=threshold) for c in columns)
            cases.append(f"when '{name}' then {test}")
    cases.append(f"when 'observations' then {small.format(c='v.observations', t=threshold)}")
    return f"case s.setting {' '.join(cases)} else false end"


def publish_indicator_values(con: duckdb.DuckDBPyConnection, scored: str,
                             small_cells: dict[str, str], threshold: int = 5
                             ) -> duckdb.DuckDBPyRelation:
    """The published indicator table (``COLUMNS``) from the relation named ``scored``
    (``int_indicator_values_scored``): the same rows, suppression and reasons as
    ``suppress_indicator_values`` on the whole table, as a DuckDB relation."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    con.register("_publish_settings", pd.DataFrame(
        {"indicator_code": list(small_cells), "setting": list(small_cells.values())}))
    unknown = [code for (code,) in con.execute(f"""
        select distinct v.indicator_code from {scored} as v
        anti join _publish_settings using (indicator_code) order by 1""").fetchall()]
    if unknown:
        raise ValueError(f"no small_cells setting for {unknown}")
    additive = _quoted(ADDITIVE_SETTINGS)
    con.execute(f"""
        create or replace temp table _publish_kept as
        select v.*, s.setting in ({additive}) as _additive, {_primary_sql(threshold)} as _primary
        from {scored} as v
        inner join _publish_settings as s using (indicator_code)
        where not (s.setting in ({additive}) and (
            v.period_type not in ({_quoted(COUNTS_PERIODS)})
            or (v.disaggregation <> 'total'
                and v.level not in ({_quoted(COUNTS_BROKEN_DOWN_AT)}))))""")
    blocks = con.execute(f"""
        select {', '.join(f'k.{c}' for c in BLOCK_COLUMNS)} from _publish_kept as k
        semi join (
            select indicator_code, mission_id, fiscal_year_label from _publish_kept
            where _additive group by all having bool_or(_primary)
        ) as b using (indicator_code, mission_id, fiscal_year_label)
        where k._additive
        order by {', '.join(f'k.{c}' for c in INDICATOR_KEY)}""").df()
    decided = pd.DataFrame({c: pd.Series([], dtype=object)
                            for c in [*INDICATOR_KEY, SUPPRESSED_COL, REASON_COL]})
    if not blocks.empty:
        out = suppress_indicator_values(blocks, small_cells, threshold)
        decided = out.loc[out[SUPPRESSED_COL], [*INDICATOR_KEY, SUPPRESSED_COL, REASON_COL]]
    con.register("_publish_decided", con.from_df(decided).project(", ".join(
        [f"cast({c} as varchar) as {c}" for c in [*INDICATOR_KEY, REASON_COL]]
        + [f"cast({SUPPRESSED_COL} as boolean) as {SUPPRESSED_COL}"])))
    suppressed = "coalesce(d.suppressed, k._primary)"
    columns = []
    for column in COLUMNS:
        if column in HIDDEN_COLUMNS:
            columns.append(f"case when {suppressed} then null else k.{column} end as {column}")
        elif column == SUPPRESSED_COL:
            columns.append(f"{suppressed} as {column}")
        elif column == REASON_COL:
            columns.append("cast(coalesce(d.suppression_reason, case when k._primary then "
                           f"'primary' end) as varchar) as {column}")
        else:
            columns.append(f"k.{column}")
    keys = " and ".join(f"k.{c} = d.{c}" for c in INDICATOR_KEY)
    return con.sql(f"""
        select {', '.join(columns)}
        from _publish_kept as k
        left join _publish_decided as d on {keys}""")
