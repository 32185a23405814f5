"""Validate text rows against a contract with great-expectations, row by row.

The suite is generated from the contract (types, required, allowed values, ranges, references,
keys, cross-field rules). Each failing cell becomes an ``Issue`` naming row, column and rule.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.contracts import ColumnSpec, Contract, RuleSpec
from pipelines.ingest.read import normalise_name
from pipelines.reference import Reference

FILE_COLUMN = "__file_id"
REDACTED = "<redacted: personal or restricted data>"
TRUE_WORDS = {"yes", "y", "true", "1", "oui", "o", "vrai"}
FALSE_WORDS = {"no", "n", "false", "0", "non", "faux"}
DECIMAL_COMMA = re.compile(r"-?\d+,\d+")


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


def per_value(text: pd.Series, function: Callable[[str], object]) -> pd.Series:
    """``function`` applied once per distinct value (columns repeat a few codes millions of
    times); missing values stay missing."""
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [function(value) for value in uniques]
    mapped[-1] = None
    return pd.Series(mapped[codes], index=text.index, dtype=object)


def _normalised_values(text: pd.Series, spec: ColumnSpec, ids: set[str] | None) -> pd.Series:
    """Map allowed values, French aliases and reference ids to their canonical spelling."""
    canon = {normalise_name(v): v for v in (spec.allowed or [])}
    canon |= {normalise_name(k): v for k, v in spec.values_fr.items()}
    canon |= {normalise_name(v): v for v in (ids or ())}
    if not canon:
        return text
    return per_value(text, lambda value: canon.get(normalise_name(value), value))


def _to_number(text: pd.Series) -> pd.Series:
    return per_value(text, _number).astype("float64")


def _number(text: str) -> float:
    """A number as written: spaces ignored, a decimal comma accepted ("2,5"); else NaN."""
    cleaned = "".join(text.split())
    if DECIMAL_COMMA.fullmatch(cleaned):
        cleaned = cleaned.replace(",", ".")
    if "_" in cleaned:  # float() would read "1_000"
        return float("nan")
    try:
        return float(cleaned)
    except ValueError:
        return float("nan")


def _to_timestamp(text: pd.Series, fmt: str = "ISO8601") -> pd.Series:
    return pd.to_datetime(text, format=fmt, errors="coerce")


def _to_boolean(text: pd.Series) -> pd.Series:
    def word(value: str) -> bool | None:
        key = normalise_name(value)
        return True if key in TRUE_WORDS else False if key in FALSE_WORDS else None

    return per_value(text, word)


def _checks_mission(spec: ColumnSpec, name: str, contract: Contract) -> bool:
    """A site or unit column is checked to belong to the row's mission."""
    return spec.reference in ("sites", "units") and contract.mission_column != name


def _mission_pairs(reference: Reference, table_name: str) -> set[str]:
    table = getattr(reference, table_name)
    ids = table[f"{table_name[:-1]}_id"]
    return set(table["mission_id"].astype(str) + "|" + ids.astype(str))


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
            as_text = text.astype("string").str.strip()
            typed = _to_timestamp(as_text.str.slice(0, 7), "%Y-%m")
        else:  # boolean
            typed = _to_boolean(text)
        out[name] = typed
        out[f"{name}__parsed"] = text.isna() | typed.notna()
    for name, spec in contract.columns.items():
        if _checks_mission(spec, name, contract):
            pair = out[contract.mission_column].astype("string") + "|" + out[name].astype("string")
            out[f"{name}__mission_pair"] = pair.astype(object).where(pair.notna(), None)
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
            if _checks_mission(spec, name, contract):
                # on the "mission|id" column coerce() adds: great-expectations' own column-pair
                # expectation walks the rows one by one (iterrows), 1000x slower
                expectations.append(
                    gxe.ExpectColumnValuesToBeInSet(
                        column=f"{name}__mission_pair",
                        value_set=sorted(_mission_pairs(reference, spec.reference)),
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


def _detail(rule: str, column: str, text: str | None, spec: ColumnSpec | None,
            contract: Contract, row: pd.Series) -> str:
    shown = REDACTED if spec and (spec.personal or spec.restricted) else repr(text)
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
            redacted = spec is not None and (spec.personal or spec.restricted)
            issues.append(
                Issue(
                    file_id=row[FILE_COLUMN],
                    row_number=int(row["__row_number"]),
                    column=column,
                    rule=rule,
                    value=REDACTED if redacted and value is not None else value,
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
    results = run_suite(typed, contract, reference)
    return typed, issues_from_results(results, typed, contract)
