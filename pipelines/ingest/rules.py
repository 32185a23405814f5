"""Rules across columns and rows that great-expectations has no expectation for.

Each rule of these kinds is computed here as a flag column per checked column
(``__rule__<name>__<column>``: True passes, False fails, None not applicable) with the reason
beside it (``...__detail``); the generated suite then expects every flag to be True, so the
failures reach the quarantine like any other expectation's (file, row, column, rule).
Nothing is corrected: a swapped or zero coordinate, a total that is not the sum of its parts
stays as published and its row is quarantined with the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.contracts import Contract, RuleSpec
from pipelines.reference import Reference, name_key

ROW_RULES = ("sum_equals", "group_total", "not_zero_point", "swapped_coordinates",
             "in_country")
FILE_COLUMN = "__file_id"


def flag_column(rule: RuleSpec, column: str) -> str:
    return f"__rule__{rule.name}__{column}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def _put(typed: pd.DataFrame, rule: RuleSpec, column: str, ok: pd.Series,
         detail: pd.Series) -> None:
    """Store a flag (True/False/None) and, where it fails, its reason."""
    flag = ok.astype(object).where(ok.notna(), None)
    typed[flag_column(rule, column)] = flag
    typed[f"{flag_column(rule, column)}__detail"] = detail.where(flag.eq(False), None)


def _sum_equals(typed: pd.DataFrame, rule: RuleSpec) -> None:
    parts = typed[rule.parts or []].astype("float64")
    total = typed[rule.column].astype("float64")
    applicable = total.notna() & parts.notna().all(axis=1)
    sums = parts.sum(axis=1)
    ok = pd.Series(np.where(applicable, total == sums, None), index=typed.index)
    names = " + ".join(rule.parts or [])
    detail = pd.Series(None, index=typed.index, dtype=object)
    failed = ok.eq(False)
    detail[failed] = [
        f"'{rule.column}' ({_number(t)}) is not {names} "
        f"({' + '.join(_number(v) for v in row)} = {_number(s)})"
        for t, row, s in zip(total[failed], parts[failed].to_numpy(), sums[failed],
                             strict=True)]
    _put(typed, rule, rule.column, ok, detail)


def _total_rows(typed: pd.DataFrame, rule: RuleSpec) -> pd.Series:
    (column, values), = (rule.total_when or {}).items()
    wanted = {name_key(v.replace("_", " ")) for v in values}
    keys = typed[column].map(lambda v: name_key(str(v).replace("_", " ")), na_action="ignore")
    return keys.isin(wanted)


def _group_total(typed: pd.DataFrame, rule: RuleSpec) -> None:
    is_total = _total_rows(typed, rule)
    keys = [*(rule.group_by or []), FILE_COLUMN]
    for column in rule.checked_columns:
        values = typed[column].astype("float64")
        parts = typed.loc[~is_total, keys].assign(value=values[~is_total])
        grouped = parts.groupby(keys, dropna=False)["value"].agg(
            ["sum", "count", "size"]).reset_index()
        totals = typed.loc[is_total, keys].assign(value=values[is_total]).reset_index()
        merged = totals.merge(grouped, on=keys, how="left").set_index(totals.columns[0])
        applicable = (merged["value"].notna() & merged["size"].fillna(0).gt(0)
                      & merged["count"].eq(merged["size"]))
        ok = pd.Series(None, index=typed.index, dtype=object)
        ok.loc[merged.index] = np.where(applicable, merged["value"] == merged["sum"], None)
        detail = pd.Series(None, index=typed.index, dtype=object)
        detail.loc[merged.index] = [
            f"the all-contributors row's '{column}' ({_number(v)}) is not the sum of the "
            f"{int(n)} contributor row(s) of the same {', '.join(rule.group_by or [])} in "
            f"this file ({_number(s)})" if a else None
            for v, n, s, a in zip(merged["value"], merged["size"].fillna(0), merged["sum"],
                                  applicable, strict=True)]
        _put(typed, rule, column, ok, detail)


def _coordinates(typed: pd.DataFrame, rule: RuleSpec) -> tuple[pd.Series, pd.Series]:
    return typed[rule.column].astype("float64"), typed[rule.other].astype("float64")


def _not_zero_point(typed: pd.DataFrame, rule: RuleSpec) -> None:
    lat, lon = _coordinates(typed, rule)
    applicable = lat.notna() & lon.notna()
    ok = pd.Series(np.where(applicable, ~((lat == 0) & (lon == 0)), None), index=typed.index)
    detail = pd.Series(f"'{rule.column}' and '{rule.other}' are both 0: a missing location "
                       "written as zeros (0, 0 lies in the Gulf of Guinea)",
                       index=typed.index, dtype=object)
    _put(typed, rule, rule.column, ok, detail)


def _in_box(contract: Contract, reference: Reference, typed: pd.DataFrame, rule: RuleSpec
            ) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Per row: applicable, inside the mission country's box, inside once swapped, country."""
    lookup = reference.mission_lookup(contract.mission_lookup or "")
    bounds = reference.mission_bounds()
    mission = typed[rule.country].map(lambda v: lookup.get(name_key(v)), na_action="ignore")
    lat, lon = _coordinates(typed, rule)
    applicable = pd.Series(False, index=typed.index)
    inside = pd.Series(False, index=typed.index)
    swapped = pd.Series(False, index=typed.index)
    country = pd.Series(None, index=typed.index, dtype=object)
    for mission_id, box in bounds.items():
        rows = (mission == mission_id) & lat.notna() & lon.notna() & ~((lat == 0) & (lon == 0))
        if not rows.any():
            continue
        applicable |= rows
        inside[rows] = lat[rows].between(box.min_latitude, box.max_latitude) & \
            lon[rows].between(box.min_longitude, box.max_longitude)
        swapped[rows] = lon[rows].between(box.min_latitude, box.max_latitude) & \
            lat[rows].between(box.min_longitude, box.max_longitude)
        country[rows] = box.country
    return applicable, inside, swapped, country


def _swapped_coordinates(typed: pd.DataFrame, rule: RuleSpec, contract: Contract,
                         reference: Reference) -> None:
    applicable, inside, swapped, country = _in_box(contract, reference, typed, rule)
    ok = pd.Series(np.where(applicable, inside | ~swapped, None), index=typed.index)
    detail = "the point lies outside the bounding box of " + country.fillna("") + \
        f", and inside it once '{rule.column}' and '{rule.other}' are exchanged: they look " \
        "swapped"
    _put(typed, rule, rule.column, ok, detail)


def _in_country(typed: pd.DataFrame, rule: RuleSpec, contract: Contract,
                reference: Reference) -> None:
    applicable, inside, swapped, country = _in_box(contract, reference, typed, rule)
    ok = pd.Series(np.where(applicable, inside | swapped, None), index=typed.index)
    detail = "the point lies outside the bounding box of " + country.fillna("") + \
        f" (the row's '{rule.country}'; seed country_bounds), even with '{rule.column}' and " \
        f"'{rule.other}' exchanged"
    _put(typed, rule, rule.column, ok, detail)


def add_rule_columns(typed: pd.DataFrame, contract: Contract, reference: Reference) -> None:
    """Add the flag and reason columns of every rule of the kinds above (in place)."""
    for rule in contract.rules:
        if rule.kind == "sum_equals":
            _sum_equals(typed, rule)
        elif rule.kind == "group_total":
            _group_total(typed, rule)
        elif rule.kind == "not_zero_point":
            _not_zero_point(typed, rule)
        elif rule.kind == "swapped_coordinates":
            _swapped_coordinates(typed, rule, contract, reference)
        elif rule.kind == "in_country":
            _in_country(typed, rule, contract, reference)


def rule_detail(rule: RuleSpec, column: str, row: pd.Series) -> str | None:
    """The reason stored beside a failed flag."""
    detail = row.get(f"{flag_column(rule, column)}__detail")
    return None if detail is None or (isinstance(detail, float) and np.isnan(detail)) \
        else str(detail)
