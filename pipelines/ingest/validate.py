"""Validate text rows against a contract with great-expectations, row by row.

The suite is generated from the contract (types, required, allowed values, ranges, references,
keys, cross-field rules). Each failing cell becomes an ``Issue`` naming row, column and rule.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import pandas as pd

from pipelines.contracts import ColumnSpec, Contract, RuleSpec
from pipelines.ingest.read import normalise_name
from pipelines.ingest.rules import (
    FILE_COLUMN,
    ROW_RULES,
    add_rule_columns,
    flag_column,
    rule_detail,
)
from pipelines.reference import Reference

__all__ = ["FILE_COLUMN", "Issue", "validate_frame"]
REDACTED = "<redacted: personal or restricted data>"
TRUE_WORDS = {"yes", "y", "true", "1", "oui", "o", "vrai"}
FALSE_WORDS = {"no", "n", "false", "0", "non", "faux"}


@dataclass(frozen=True)
class Issue:
    """One broken rule in one cell (or one row, when ``column`` is None)."""

    file_id: str
    row_number: int | None
    column: str | None
    rule: str
    value: str | None
    detail: str


# ---------------------------------------------------------------------------------------------
# Typing: text cells to typed columns; a cell that does not parse is flagged, not guessed.


def _normalised_values(text: pd.Series, spec: ColumnSpec, ids: set[str] | None) -> pd.Series:
    """Map allowed values, French aliases and reference ids to their canonical spelling."""
    canon = {normalise_name(v): v for v in (spec.allowed or [])}
    canon |= {normalise_name(k): v for k, v in spec.values_fr.items()}
    canon |= {normalise_name(k): v for k, v in spec.value_aliases.items()}
    canon |= {normalise_name(v): v for v in (ids or ())}
    if not canon:
        return text
    keys = text.map(normalise_name, na_action="ignore")
    return keys.map(canon).where(keys.map(canon).notna(), text)


def _to_number(text: pd.Series) -> pd.Series:
    cleaned = text.str.replace(r"\s", "", regex=True)
    comma_decimal = cleaned.str.fullmatch(r"-?\d+,\d+", na=False)
    cleaned = cleaned.where(~comma_decimal, cleaned.str.replace(",", ".", regex=False))
    return pd.to_numeric(cleaned, errors="coerce").astype("float64")


def _to_timestamp(text: pd.Series, fmt: str = "ISO8601") -> pd.Series:
    return pd.to_datetime(text, format=fmt, errors="coerce")


def _to_month(text: pd.Series) -> pd.Series:
    """YYYY-MM (or an ISO date in the month), else a day-first date (31/07/2020, as the UN
    peacekeeping personnel tables write their reporting dates): the month's first day."""
    month = _to_timestamp(text.str.slice(0, 7), "%Y-%m")
    if month.isna().sum() > text.isna().sum():
        day_first = _to_timestamp(text.str.slice(0, 10), "%d/%m/%Y")
        month = month.fillna(day_first - pd.to_timedelta(day_first.dt.day - 1, unit="D"))
    return month


def _to_boolean(text: pd.Series) -> pd.Series:
    words = text.map(normalise_name, na_action="ignore")
    return words.map(lambda w: True if w in TRUE_WORDS else False if w in FALSE_WORDS else None)


def coerce(frame: pd.DataFrame, contract: Contract, reference: Reference) -> pd.DataFrame:
    """Typed columns, plus ``<col>__text`` (the cell as read) and ``<col>__parsed`` flags."""
    out = pd.DataFrame(index=frame.index)
    for name, spec in contract.columns.items():
        text = frame[name].astype(object).where(frame[name].notna(), None)
        out[f"{name}__text"] = text
        if spec.type == "string":
            ids = reference.ids(spec.reference) if spec.reference else None
            typed = _normalised_values(text, spec, ids) if not spec.personal else text
        elif spec.type in ("integer", "number"):
            typed = _to_number(text.astype("string"))
            if spec.type == "integer":
                typed = typed.where(typed.isna() | (typed == typed.round()))
        elif spec.type in ("timestamp", "date"):
            typed = _to_timestamp(text.astype("string"))
            if spec.type == "date":
                typed = typed.dt.normalize()
        elif spec.type == "month":
            typed = _to_month(text.astype("string").str.strip())
        else:  # boolean
            typed = _to_boolean(text)
        out[name] = typed
        out[f"{name}__parsed"] = text.isna() | typed.notna()
    return out


def add_utc_columns(typed: pd.DataFrame, contract: Contract, reference: Reference) -> None:
    """Local timestamps to UTC, by each row's mission timezone (in place)."""
    zones = reference.timezone_of()
    mission = typed[contract.mission_column]
    for spec in contract.columns.values():
        if not spec.local_time:
            continue
        utc = pd.Series(pd.NaT, index=typed.index, dtype="datetime64[ns]")
        for mission_id, zone in zones.items():
            rows = mission == mission_id
            if rows.any():
                local = typed.loc[rows, spec.name].astype("datetime64[ns]")
                converted = local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
                utc.loc[rows] = converted.dt.tz_convert("UTC").dt.tz_localize(None)
        typed[f"{spec.name}_utc"] = utc


# ---------------------------------------------------------------------------------------------
# The great-expectations suite, generated from the contract.


def _rule_expectations(rule: RuleSpec) -> list:
    import great_expectations.expectations as gxe

    if rule.kind in ROW_RULES:  # flags computed by pipelines.ingest.rules
        return [
            gxe.ExpectColumnValuesToBeInSet(
                column=flag_column(rule, column), value_set=[True],
                meta={"column": column, "rule": rule.name, "involves": rule.involves(column)},
            )
            for column in rule.checked_columns
        ]
    meta = {"column": rule.column, "rule": rule.name,
            "involves": [rule.column, *([rule.other] if rule.other else [])]}
    if rule.kind == "not_before":
        return [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=rule.column, column_B=rule.other, or_equal=True,
                ignore_row_if="either_value_is_missing", meta=meta,
            )
        ]
    if rule.kind == "at_most":
        return [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=rule.other, column_B=rule.column, or_equal=True,
                ignore_row_if="either_value_is_missing", meta=meta,
            )
        ]
    condition = " and ".join(f'{col}=="{value}"' for col, value in (rule.when or {}).items())
    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column=f"{rule.column}__text", row_condition=condition,
            condition_parser="pandas", meta=meta,
        )
    ]


def build_expectations(contract: Contract, reference: Reference) -> list:
    """Every expectation of the contract, each tagged with the column and rule it checks."""
    import great_expectations.expectations as gxe

    expectations: list = []
    for name, spec in contract.columns.items():
        meta = lambda rule, col=name: {"column": col, "rule": rule}  # noqa: E731
        if spec.required:
            expectations.append(
                gxe.ExpectColumnValuesToNotBeNull(column=f"{name}__text", meta=meta("required"))
            )
        if spec.type != "string":
            expectations.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=f"{name}__parsed", value_set=[True], meta=meta("type")
                )
            )
        if spec.allowed:
            expectations.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=name, value_set=spec.allowed, meta=meta("allowed_values")
                )
            )
        if spec.min is not None or spec.max is not None:
            expectations.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=name, min_value=spec.min, max_value=spec.max, meta=meta("range")
                )
            )
        if spec.reference:
            expectations.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=name, value_set=sorted(reference.ids(spec.reference)),
                    meta=meta("reference"),
                )
            )
            if spec.reference in ("sites", "units") and contract.mission_column != name:
                table = getattr(reference, spec.reference)
                pairs = list(zip(table["mission_id"], table[f"{spec.reference[:-1]}_id"],
                                 strict=True))
                expectations.append(
                    gxe.ExpectColumnPairValuesToBeInSet(
                        column_A=contract.mission_column, column_B=name,
                        value_pairs_set=pairs, ignore_row_if="either_value_is_missing",
                        meta=meta("belongs_to_mission") | {
                            "involves": [name, contract.mission_column]},
                    )
                )
    key_meta = {"column": contract.key[-1], "rule": "unique_in_file"}
    expectations.append(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=[*contract.key, FILE_COLUMN], meta=key_meta
        )
    )
    for rule in contract.rules:
        expectations.extend(_rule_expectations(rule))
    return expectations


def run_suite(typed: pd.DataFrame, contract: Contract, reference: Reference) -> list:
    """Run the contract's suite on a typed frame; the results with failing row indexes."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    batch = (
        context.data_sources.add_pandas(contract.source)
        .add_dataframe_asset(contract.source)
        .add_batch_definition_whole_dataframe("batch")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=f"{contract.source}_contract"))
    for expectation in build_expectations(contract, reference):
        suite.add_expectation(expectation)
    definition = gx.ValidationDefinition(name=f"{contract.source}_validation", data=batch,
                                         suite=suite)
    result = definition.run(
        batch_parameters={"dataframe": typed}, result_format={"result_format": "COMPLETE"}
    )
    return list(result.results)


# ---------------------------------------------------------------------------------------------
# Results to issues.


def shown_value(spec: ColumnSpec | None, value: str | None) -> str | None:
    """A cell as the quarantine may keep it: personal and restricted values redacted, exact
    coordinates to the whole degree only (enough to see a swap or a zero)."""
    if value is None or spec is None:
        return value
    if spec.personal or spec.restricted:
        return REDACTED
    if spec.location:
        number = _to_number(pd.Series([value], dtype="string")).iloc[0]
        return value if pd.isna(number) else f"~{number:.0f} (exact value withheld)"
    return value


def _detail(rule: str, column: str, text: str | None, spec: ColumnSpec | None,
            contract: Contract, row: pd.Series) -> str:
    shown = REDACTED if spec and (spec.personal or spec.restricted) else repr(
        shown_value(spec, text))
    if rule == "required":
        return f"'{column}' is required but empty"
    if rule == "type":
        kind = {"month": "month (YYYY-MM)", "timestamp": "date and time (YYYY-MM-DD HH:MM)",
                "date": "date (YYYY-MM-DD)", "boolean": "yes/no"}.get(spec.type, spec.type)
        return f"{shown} is not a valid {kind}"
    if rule == "allowed_values":
        return f"{shown} is not one of: {', '.join(spec.allowed)}"
    if rule == "range":
        return f"{shown} is outside the allowed range {spec.min:g} to {spec.max:g}"
    if rule == "reference":
        return f"{shown} is not a known {spec.reference[:-1]} in the reference data"
    if rule == "belongs_to_mission":
        return f"{shown} does not belong to the row's mission"
    if rule == "unique_in_file":
        return f"the key ({', '.join(contract.key)}) appears more than once in this file"
    for custom in contract.rules:
        if custom.name == rule and custom.kind in ROW_RULES:
            return rule_detail(custom, column, row) or f"breaks rule {rule}"
        if custom.name == rule:
            other = row.get(f"{custom.other}__text")
            if custom.kind == "not_before":
                return f"'{custom.column}' ({text}) is before '{custom.other}' ({other})"
            if custom.kind == "at_most":
                return f"'{custom.column}' ({text}) is more than '{custom.other}' ({other})"
            when = ", ".join(f"{k} is {v}" for k, v in (custom.when or {}).items())
            return f"'{custom.column}' is required when {when}"
    return f"{shown} breaks rule {rule}"


def issues_from_results(results: list, typed: pd.DataFrame, contract: Contract) -> list[Issue]:
    """One issue per failing cell; a row is reported once per column.

    Rules across columns (``involves``) are checked last and left out where one of their
    columns already broke a rule of its own: a negative count is reported as out of range,
    not also as smaller than another column.
    """
    issues: list[Issue] = []
    seen: set[tuple[int, str]] = set()
    failed_columns: dict[int, set[str]] = {}
    results = sorted(results, key=lambda r: "involves" in r.expectation_config.meta)
    for result in results:
        if result.success:
            continue
        meta = result.expectation_config.meta
        column, rule = meta["column"], meta["rule"]
        involves = set(meta.get("involves", ()))
        spec = contract.columns.get(column)
        for index in result.result.get("unexpected_index_list") or []:
            if (index, column) in seen or failed_columns.get(index, set()) & involves:
                continue
            seen.add((index, column))
            failed_columns.setdefault(index, set()).add(column)
            row = typed.loc[index]
            text = row.get(f"{column}__text")
            value = None if text is None or pd.isna(text) else str(text)
            issues.append(
                Issue(
                    file_id=row[FILE_COLUMN],
                    row_number=int(row["__row_number"]),
                    column=column,
                    rule=rule,
                    value=shown_value(spec, value),
                    detail=_detail(rule, column, value, spec, contract, row),
                )
            )
    return issues


def validate_frame(frame: pd.DataFrame, contract: Contract, reference: Reference
                   ) -> tuple[pd.DataFrame, list[Issue]]:
    """Validate rows of one or more files (``__file_id``/``__row_number`` columns).

    Returns the typed frame of *all* rows (with UTC twins) and the issues found; rows named
    by an issue must not be loaded.
    """
    typed = coerce(frame.drop(columns=[FILE_COLUMN, "__row_number"]), contract, reference)
    typed[FILE_COLUMN] = frame[FILE_COLUMN].to_numpy()
    typed["__row_number"] = frame["__row_number"].to_numpy()
    if typed.empty:
        return typed, []
    add_utc_columns(typed, contract, reference)
    add_rule_columns(typed, contract, reference)
    results = run_suite(typed, contract, reference)
    return typed, issues_from_results(results, typed, contract)
