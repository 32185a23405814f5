"""Validate text rows against a contract with great-expectations, row by row.

The suite is generated from the contract (types, required, allowed values, ranges, references,
keys, no formula-like text, no future dates, cross-field rules). Each failing cell becomes an
``Issue`` naming row, column and rule.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
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
DAY_FIRST = "__day_first"
TRUE_WORDS = {"yes", "y", "true", "1", "oui", "o", "vrai"}
FALSE_WORDS = {"no", "n", "false", "0", "non", "faux"}
DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
# Text a spreadsheet would run as a formula (CSV injection, OWASP); read.py strips the cells.
FORMULA_START = r"^[=+\-@\t\r]"
# A date or time is in the future when it falls after the run's date plus this tolerance.
FUTURE_TOLERANCE = dt.timedelta(days=1)
DATE_KINDS = ("timestamp", "date", "month")
# dd/mm/yyyy [hh:mm[:ss]] (also with - or . between, and 8h30): read only for day-first missions
DAY_FIRST_DATE = (r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"
                  r"(?:[ T]+(?P<H>\d{1,2})[:hH](?P<M>\d{2})(?::(?P<S>\d{2}))?)?$")
TIME_ZONE = re.compile(r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
EXCEL_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
EPOCH = dt.datetime(1970, 1, 1)
EXCEL_ERRORS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"}


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
    canon |= {normalise_name(k): v for k, v in spec.value_aliases.items()}
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


def _to_local_timestamp(text: pd.Series, day_first: pd.Series) -> pd.Series:
    """ISO dates and times; dd/mm/yyyy too on rows whose mission writes day first.

    A value with a time zone is not parsed (times are the mission's local time), and a
    dd/mm/yyyy value of another mission is never guessed: both fail the ``type`` rule.
    Each distinct value is parsed once (a week of patrols repeats its start minutes).
    """
    parts = []
    for flag in (False, True):
        rows = text[day_first == flag]
        if rows.empty:
            continue
        codes, uniques = pd.factorize(rows, use_na_sentinel=True)
        parsed = _parse_local_timestamps(pd.Series(uniques, dtype="string"), flag).to_numpy()
        values = np.append(parsed, np.array([np.datetime64("NaT")], dtype=parsed.dtype))
        parts.append(pd.Series(values[codes], index=rows.index))
    if not parts:
        return _to_timestamp(text)
    return pd.concat(parts).reindex(text.index)


def _parse_local_timestamps(text: pd.Series, day_first: bool) -> pd.Series:
    zoned = text.str.contains(TIME_ZONE, na=False)
    typed = _to_timestamp(text.where(~zoned))
    retry = typed.isna() & text.notna() & ~zoned & day_first
    if day_first and retry.any():
        parts = text[retry].str.strip().str.extract(DAY_FIRST_DATE)
        iso = (parts["y"] + "-" + parts["m"].str.zfill(2) + "-" + parts["d"].str.zfill(2) + " "
               + parts["H"].fillna("0").str.zfill(2) + ":" + parts["M"].fillna("00") + ":"
               + parts["S"].fillna("00"))
        typed.loc[retry] = _to_timestamp(iso, "%Y-%m-%d %H:%M:%S").to_numpy()
    return typed


def _to_month(text: pd.Series) -> pd.Series:
    """YYYY-MM (or an ISO date in the month), else a day-first date (31/07/2020, as the UN
    peacekeeping personnel tables write their reporting dates): the month's first day."""
    month = _to_timestamp(text.str.slice(0, 7), "%Y-%m")
    if month.isna().sum() > text.isna().sum():
        day_first = _to_timestamp(text.str.slice(0, 10), "%d/%m/%Y")
        month = month.fillna(day_first - pd.to_timedelta(day_first.dt.day - 1, unit="D"))
    return month


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
    """Typed columns, plus ``<col>__text`` (the cell as read) and ``<col>__parsed`` flags.

    ``__day_first`` says which rows belong to a mission whose ``date_format`` is day first.
    """
    out = pd.DataFrame(index=frame.index)
    mission_spec = contract.columns[contract.mission_column]
    mission_text = frame[contract.mission_column].astype(object)
    missions = _normalised_values(mission_text.where(mission_text.notna(), None), mission_spec,
                                  reference.ids("missions"))
    day_first = missions.isin(reference.day_first_missions())
    for name, spec in contract.columns.items():
        text = frame[name].astype(object).where(frame[name].notna(), None)
        out[f"{name}__text"] = text
        if name == contract.mission_column:
            typed = missions
        elif spec.type == "string":
            ids = reference.ids(spec.reference) if spec.reference else None
            typed = _normalised_values(text, spec, ids) if not spec.personal else text
        elif spec.type in ("integer", "number"):
            typed = _to_number(text.astype("string"))
            if spec.type == "integer":
                typed = typed.where(typed.isna() | (typed == typed.round()))
        elif spec.type in ("timestamp", "date"):
            typed = _to_local_timestamp(text.astype("string"), day_first)
            if spec.type == "date":
                typed = typed.dt.normalize()
        elif spec.type == "month":
            typed = _to_month(text.astype("string").str.strip())
        else:  # boolean
            typed = _to_boolean(text)
        out[name] = typed
        out[f"{name}__parsed"] = text.isna() | typed.notna()
        if spec.type in DATE_KINDS:
            out[f"{name}__days"] = (typed - EPOCH) / dt.timedelta(days=1)
    for name, spec in contract.columns.items():
        if _checks_mission(spec, name, contract):
            pair = out[contract.mission_column].astype("string") + "|" + out[name].astype("string")
            out[f"{name}__mission_pair"] = pair.astype(object).where(pair.notna(), None)
    out[DAY_FIRST] = day_first
    return out


def add_utc_columns(typed: pd.DataFrame, contract: Contract, reference: Reference) -> None:
    """Local timestamps to UTC, by each row's mission timezone (in place)."""
    zones = reference.timezone_of()
    mission = typed[contract.mission_column]
    for spec in contract.columns.values():
        if not spec.local_time:
            continue
        # microseconds, not nanoseconds: a year 9999 must fail its rule, not overflow here
        utc = pd.Series(pd.NaT, index=typed.index, dtype="datetime64[us]")
        for mission_id, zone in zones.items():
            rows = mission == mission_id
            if rows.any():
                local = typed.loc[rows, spec.name].astype("datetime64[us]")
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


def _free_text(spec: ColumnSpec) -> bool:
    """Text kept as written: ids and labels (coded columns already refuse unknown text).

    Personal text is pseudonymised and restricted text is never published: neither is checked.
    """
    return (spec.type == "string" and not (spec.allowed or spec.reference)
            and not (spec.personal or spec.restricted))


def epoch_days(when: dt.datetime) -> float:
    """Days since 1970-01-01 (a number great-expectations compares fast)."""
    return (when - EPOCH).total_seconds() / 86400


def future_limit(as_of: dt.date) -> dt.datetime:
    """The latest date and time a file may hold when validated on ``as_of``."""
    return dt.datetime.combine(as_of + FUTURE_TOLERANCE, dt.time.max)


def build_expectations(contract: Contract, reference: Reference,
                       as_of: dt.date | None = None) -> list:
    """Every expectation of the contract, each tagged with the column and rule it checks.

    ``as_of`` is the run's date (today, UTC, by default): dates beyond it plus
    ``FUTURE_TOLERANCE`` break ``not_in_future`` unless the column allows the future.
    """
    import great_expectations.expectations as gxe

    limit = future_limit(as_of or dt.datetime.now(dt.UTC).date())
    expectations: list = []
    for name, spec in contract.columns.items():
        meta = lambda rule, col=name: {"column": col, "rule": rule}  # noqa: E731
        if _free_text(spec):
            expectations.append(
                gxe.ExpectColumnValuesToNotMatchRegex(
                    column=f"{name}__text", regex=FORMULA_START, meta=meta("formula_like")
                )
            )
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
        if spec.type in DATE_KINDS and not spec.allow_future:
            # on the column's days since 1970 (coerce adds it): great-expectations compares
            # microsecond datetimes value by value in Python, 4 s per million rows
            expectations.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=f"{name}__days", max_value=epoch_days(limit),
                    meta=meta("not_in_future") | {"limit": limit.date().isoformat()},
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
                    # the missions are few: the message lists them
                    meta=meta("reference") | ({"known": sorted(reference.ids("missions"))}
                                              if spec.reference == "missions" else {}),
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


class ContractSuite:
    """A contract's great-expectations suite, built once and run on many typed frames."""

    def __init__(self, contract: Contract, reference: Reference,
                 as_of: dt.date | None = None) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        import great_expectations as gx
        from great_expectations.execution_engine import pandas_execution_engine

        # great-expectations fingerprints every pandas batch below this size by hashing all
        # of its rows (5 s per million here); pocmon never reuses a batch, so skip it
        pandas_execution_engine.HASH_THRESHOLD = 0
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = {"globally": False, "metric_calculations": False}
        batch = (
            context.data_sources.add_pandas(contract.source)
            .add_dataframe_asset(contract.source)
            .add_batch_definition_whole_dataframe("batch")
        )
        expectations = build_expectations(contract, reference, as_of)
        # the whole suite at once: add_expectation re-serialises the suite on each call
        suite = context.suites.add(gx.ExpectationSuite(name=f"{contract.source}_contract",
                                                       expectations=expectations))
        self.contract, self.reference = contract, reference
        # the columns the expectations read, and those of the rules' row conditions (``when``):
        # great-expectations copies the frame it is given for every expectation, and the
        # typed frame is four times wider (texts, flags)
        self.columns = list(dict.fromkeys([
            *(column for e in expectations
              for column in (getattr(e, "column", None), getattr(e, "column_A", None),
                             getattr(e, "column_B", None), *(getattr(e, "column_list", None)
                                                             or ()))
              if column is not None),
            *(column for rule in contract.rules for column in (rule.when or {})),
        ]))
        self._definition = gx.ValidationDefinition(
            name=f"{contract.source}_validation", data=batch, suite=suite)

    def run(self, typed: pd.DataFrame) -> list:
        """The results on a typed frame, with the indexes of the failing rows."""
        result = self._definition.run(
            batch_parameters={"dataframe": typed[self.columns]},
            result_format={"result_format": "COMPLETE"},
        )
        return list(result.results)


def run_suite(typed: pd.DataFrame, contract: Contract, reference: Reference,
              as_of: dt.date | None = None) -> list:
    """Run the contract's suite on a typed frame; the results with failing row indexes."""
    return ContractSuite(contract, reference, as_of).run(typed)


# ---------------------------------------------------------------------------------------------
# Results to issues.


def _type_hint(text: str, spec: ColumnSpec, day_first: bool) -> str:
    """Why a cell probably failed to parse, when a common export mistake explains it."""
    if text in EXCEL_ERRORS:
        return ": it is an Excel error value; fix the formula in the workbook"
    if spec.type not in DATE_KINDS:
        return ""
    if EXCEL_SERIAL.fullmatch(text) and 20000 <= float(text) < 80000:
        as_date = EXCEL_EPOCH + dt.timedelta(days=float(text))
        return (f": it looks like an Excel serial date ({as_date:%Y-%m-%d}); format the column "
                "as a date before exporting")
    if TIME_ZONE.search(text):
        return ": it has a time zone; give the mission's local time without one"
    if re.match(DAY_FIRST_DATE, text) and not day_first:
        return (": day and month could be either way round; write YYYY-MM-DD, or set the "
                "mission's date_format to day_first in missions.csv if it writes dd/mm/yyyy")
    return ""


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
            contract: Contract, row: pd.Series, meta: dict) -> str:
    shown = REDACTED if spec and (spec.personal or spec.restricted) else repr(
        shown_value(spec, text))
    if rule == "required":
        return f"'{column}' is required but empty"
    if rule == "type":
        day_first = bool(row.get(DAY_FIRST))
        kind = {"month": "month (YYYY-MM)", "timestamp": "date and time (YYYY-MM-DD HH:MM)",
                "date": "date (YYYY-MM-DD)", "boolean": "yes/no"}.get(spec.type, spec.type)
        if day_first and spec.type in ("timestamp", "date"):
            kind = {"timestamp": "date and time (DD/MM/YYYY HH:MM or YYYY-MM-DD HH:MM)",
                    "date": "date (DD/MM/YYYY or YYYY-MM-DD)"}[spec.type]
        hint = "" if shown == REDACTED or text is None else _type_hint(text, spec, day_first)
        return f"{shown} is not a valid {kind}{hint}"
    if rule == "formula_like":
        return (f"{shown} begins with {text[:1]!r}, which a spreadsheet would run as a formula; "
                "remove that first character")
    if rule == "not_in_future":
        return (f"{shown} is in the future (after {meta['limit']}: the run's date plus "
                f"{FUTURE_TOLERANCE.days} day)")
    if rule == "allowed_values":
        return f"{shown} is not one of: {', '.join(spec.allowed)}"
    if rule == "range":
        return f"{shown} is outside the allowed range {spec.min:g} to {spec.max:g}"
    if rule == "reference":
        known = meta.get("known")
        return (f"{shown} is not a known {spec.reference[:-1]} in the reference data"
                + (f" (the missions are {', '.join(known)}; a new one is added to "
                   "missions.csv in the reference data)" if known else ""))
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
                    detail=_detail(rule, column, value, spec, contract, row, meta),
                )
            )
    return issues


def validate_frame(frame: pd.DataFrame, contract: Contract, reference: Reference,
                   as_of: dt.date | None = None, suite: ContractSuite | None = None
                   ) -> tuple[pd.DataFrame, list[Issue]]:
    """Validate rows of one or more files (``__file_id``/``__row_number`` columns).

    Returns the typed frame of *all* rows (with UTC twins) and the issues found; rows named
    by an issue must not be loaded. ``as_of`` is the run's date (default today, UTC); pass a
    ``suite`` built once to validate many frames of a source.
    """
    typed = coerce(frame.drop(columns=[FILE_COLUMN, "__row_number"]), contract, reference)
    typed[FILE_COLUMN] = frame[FILE_COLUMN].to_numpy()
    typed["__row_number"] = frame["__row_number"].to_numpy()
    if typed.empty:
        return typed, []
    add_utc_columns(typed, contract, reference)
    add_rule_columns(typed, contract, reference)
    suite = suite or ContractSuite(contract, reference, as_of)
    return typed, issues_from_results(suite.run(typed), typed, contract)
