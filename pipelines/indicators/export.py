"""``pocmon export``: the indicator performance tracking table of a period, per mission.

Reads the publishable marts of the warehouse (``marts.fct_indicator_values``, whose suppressed
rows already carry no value, with ``dim_indicators``, ``dim_org_units``, ``dim_missions`` and
``dim_periods``) and writes, for each mission, the tracking table and its data dictionary with
``pipelines.indicators.export_writer``: one Excel workbook (a sheet per CPAS outcome, the
Dictionary and README sheets) or two CSV files (``..._indicators.csv`` and
``..._dictionary.csv``).

Choices, documented:

* Rows: the requested period and the periods one level below it (a fiscal year and its four
  quarters, a quarter and its three months, a month and its weeks, i.e. the weeks whose
  Thursday falls in it; a week alone), ordered by indicator (catalogue order), org unit,
  disaggregation, then period (sub-periods in date order, the requested period last).
* Only the org units of the requested level; only ``total`` rows unless ``disaggregated``.
* Labels, names, definitions and CPAS outcomes (sheet names included) in the mission's
  language (``dim_missions.language``) unless the caller forces one; the CSV keeps machine
  column names and codes (``on_track``, ``mission``) and the dictionary explains them.
* The reason of a suppression (primary or complementary) is not published: telling which cell
  is the small one would narrow it down.
* Every file is written to a temporary name in the output folder, then renamed: a reader never
  sees a half-written file, and a failed export leaves the previous file in place.
"""

from __future__ import annotations

import bisect
import difflib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.indicators.catalogue import load_catalogue
from pipelines.indicators.export_writer import (
    LABELS,
    LANGUAGES,
    TRACKING_COLUMNS,
    outcome_sheets,
    write_dictionary_csv,
    write_tracking_csv,
    write_tracking_xlsx,
)

LEVELS = ("mission", "sector", "site")
FORMATS = ("csv", "xlsx")
PERIOD_TYPES = ("week", "month", "quarter", "fiscal_year")
PERIOD_NAMES = {"week": "weeks", "month": "months", "quarter": "quarters",
                "fiscal_year": "fiscal years"}
# the period type one level down, and the dim_periods column naming its parent
SUB_PERIODS = {
    "fiscal_year": ("quarter", "fiscal_year_label"),
    "quarter": ("month", "quarter_label"),
    "month": ("week", "month_label"),
}
PERIOD_FORMATS = (
    "a fiscal year FY2025-26, a quarter 2025-Q3, a month 2025-09 or an ISO week 2025-W14"
)
REQUIRED_TABLES = ("fct_indicator_values", "dim_indicators", "dim_org_units", "dim_missions",
                   "dim_periods")
CATALOGUE_COLUMNS = [
    "indicator_code", "name_en", "name_fr", "definition_en", "definition_fr", "cpas_outcome",
    "cpas_outcome_fr", "kind", "unit", "direction", "numerator", "denominator", "aggregation",
    "levels",
]
BUILD_HINT = "run `pocmon run` or `pocmon demo` first"


class ExportError(Exception):
    """A problem the user can fix (bad period, no data, no warehouse...): one clear message."""


@dataclass(frozen=True)
class Period:
    """A reporting period of ``marts.dim_periods``."""

    period_type: str
    label: str
    start: object = None
    end: object = None


@dataclass(frozen=True)
class Mission:
    mission_id: str
    name: str
    language: str


@dataclass
class ExportedFile:
    path: Path
    mission_id: str
    language: str
    kind: str  # "tracking table" or "dictionary"
    rows: int
    sheets: list[str] = field(default_factory=list)


@dataclass
class ExportResult:
    period: Period
    level: str
    files: list[ExportedFile] = field(default_factory=list)
    suppressed: int = 0
    rows: int = 0
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Periods.


def normalise_period(text: str) -> tuple[str, str]:
    """(period type, canonical label) of a label typed by a user, e.g. ``fy2025/26``.

    Raises ExportError when the text is no period label at all.
    """
    raw = text.strip().upper().replace(" ", "")
    if m := re.fullmatch(r"FY(\d{4})[-/](\d{2}|\d{4})", raw):
        start, end = int(m[1]), int(m[2][-2:])
        if end == (start + 1) % 100:
            return "fiscal_year", f"FY{start}-{end:02d}"
    elif m := re.fullmatch(r"(\d{4})-?Q([1-4])", raw):
        return "quarter", f"{m[1]}-Q{m[2]}"
    elif m := re.fullmatch(r"(\d{4})-(\d{1,2})", raw):
        if 1 <= int(m[2]) <= 12:
            return "month", f"{m[1]}-{int(m[2]):02d}"
    elif m := re.fullmatch(r"(\d{4})-?W(\d{1,2})", raw):
        if 1 <= int(m[2]) <= 53:
            return "week", f"{m[1]}-W{int(m[2]):02d}"
    raise ExportError(f"'{text}' is not a period label: use {PERIOD_FORMATS}")


def _meant(text: str) -> list[str]:
    """The labels a malformed one most likely meant: a fiscal year written with one year
    (FY2025: the one ending or the one starting in 2025) or without FY (2025-26), week 0."""
    raw = text.strip().upper().replace(" ", "")
    if m := re.fullmatch(r"FY(\d{4})", raw):
        year = int(m[1])
        return [f"FY{year - 1}-{year % 100:02d}", f"FY{year}-{(year + 1) % 100:02d}"]
    if m := re.fullmatch(r"(?:FY)?(\d{4})[-/](\d{2})", raw):
        start = int(m[1])
        return [f"FY{start}-{(start + 1) % 100:02d}"]
    if m := re.fullmatch(r"(\d{4})-?W0+", raw):
        return [f"{m[1]}-W01"]
    return []


def _nearest(labels: list[str], label: str, n: int = 2) -> list[str]:
    """Up to n labels either side of label; same-type labels sort in date order."""
    labels = sorted(set(labels))
    at = bisect.bisect_left(labels, label)
    return labels[max(at - n, 0):at + n]


def _span(labels: list[str]) -> str:
    labels = sorted(set(labels))
    return labels[0] if len(labels) == 1 else f"{labels[0]} to {labels[-1]}"


def resolve_period(con, text: str) -> Period:
    """The period of ``dim_periods`` a label names; ExportError with suggestions otherwise."""
    try:
        period_type, label = normalise_period(text)
    except ExportError as exc:
        known = [r[0] for r in con.execute("select period_label from marts.dim_periods")
                 .fetchall()]
        close = [label for label in _meant(text) if label in known] or \
            difflib.get_close_matches(text.strip().upper(), known, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ExportError(f"{exc}{hint}") from None
    row = con.execute(
        "select period_start, period_end from marts.dim_periods "
        "where period_type = ? and period_label = ?", [period_type, label],
    ).fetchone()
    if row is None:
        known = [r[0] for r in con.execute(
            "select period_label from marts.dim_periods where period_type = ?", [period_type]
        ).fetchall()]
        if not known:
            raise ExportError(f"period {label} is not in the reporting calendar "
                              f"(marts.dim_periods has no {PERIOD_NAMES[period_type]})")
        raise ExportError(
            f"period {label} is not in the reporting calendar, which has "
            f"{PERIOD_NAMES[period_type]} {_span(known)}; nearest: "
            f"{', '.join(_nearest(known, label))}"
        )
    return Period(period_type, label, row[0], row[1])


def period_rows(con, period: Period) -> pd.DataFrame:
    """The requested period and its sub-periods, with ``period_rank`` (the period last)."""
    query = ("select period_type, period_label, period_start from marts.dim_periods "
             "where period_type = ? and period_label = ?")
    params: list = [period.period_type, period.label]
    if period.period_type in SUB_PERIODS:
        sub_type, parent_column = SUB_PERIODS[period.period_type]
        query += f" or (period_type = ? and {parent_column} = ?)"
        params += [sub_type, period.label]
    frame = con.execute(query, params).df()
    frame["_parent"] = frame["period_type"] == period.period_type
    frame = frame.sort_values(["_parent", "period_start", "period_label"], kind="stable")
    frame["period_rank"] = range(len(frame))
    return frame[["period_type", "period_label", "period_rank"]]


# ---------------------------------------------------------------------------------------------
# Warehouse.


@contextmanager
def open_warehouse(path: Path) -> Iterator:
    """A read-only connection to the warehouse, with its indicator marts checked."""
    import duckdb

    path = Path(path)
    if not path.exists():
        raise ExportError(f"no warehouse at {path}: {BUILD_HINT}")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExportError(f"cannot open the warehouse {path} (is a run writing to it? try "
                          f"again when it has finished): {first}") from None
    try:
        present = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()}
        missing = [t for t in REQUIRED_TABLES if t not in present]
        if missing:
            raise ExportError(
                f"the warehouse {path} has no indicator marts yet (missing "
                f"{', '.join('marts.' + t for t in missing)}): {BUILD_HINT}"
            )
        yield con
    finally:
        con.close()


def indicator_catalogue(con) -> pd.DataFrame:
    """``dim_indicators`` (the catalogue as this run resolved it), in the seed's order."""
    frame = con.execute("select * from marts.dim_indicators").df()
    missing = [c for c in CATALOGUE_COLUMNS if c not in frame.columns]
    if missing:
        raise ExportError(f"marts.dim_indicators lacks columns {missing}: rebuild the "
                          "warehouse with `pocmon run`")
    try:
        seed = list(load_catalogue()["indicator_code"])
    except (OSError, ValueError):
        seed = []
    rank = {code: i for i, code in enumerate(seed)}
    frame["_rank"] = frame["indicator_code"].map(rank).fillna(len(rank))
    frame = frame.sort_values(["_rank", "indicator_code"], kind="stable").drop(columns="_rank")
    text = [c for c in frame.columns if frame[c].dtype == object
            or pd.api.types.is_string_dtype(frame[c])]
    frame[text] = frame[text].astype(object).where(frame[text].notna(), "")
    return frame.reset_index(drop=True)


def missions(con, mission: str | None = None) -> list[Mission]:
    """The missions to export: all, or the one named (case-insensitive)."""
    rows = [Mission(r[0], r[1] or r[0], r[2] or "en") for r in con.execute(
        "select mission_id, mission_name, lower(language) from marts.dim_missions "
        "order by mission_id").fetchall()]
    if mission is None:
        return rows
    chosen = [m for m in rows if m.mission_id.casefold() == mission.strip().casefold()]
    if not chosen:
        known = ", ".join(m.mission_id for m in rows) or "none"
        raise ExportError(f"unknown mission '{mission}': the warehouse has {known}")
    return chosen


def tracking_frame(
    con, period: Period | str, level: str, mission: str, language: str = "en",
    disaggregated: bool = False, catalogue: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The tracking table of one mission: ``TRACKING_COLUMNS`` and the optional columns.

    ``org_unit`` is the org unit's name (its id when it has none), ``period`` the period label;
    ``row_order`` orders the rows (see the module doc). Baseline, target, value, interval and
    status of suppressed rows are emptied here, whatever the mart holds (the writers empty them
    too).
    """
    period = resolve_period(con, period) if isinstance(period, str) else period
    if level not in LEVELS:
        raise ExportError(f"unknown level '{level}': use {', '.join(LEVELS)}")
    if language not in LANGUAGES:
        raise ExportError(f"unknown language '{language}': use {' or '.join(LANGUAGES)}")
    catalogue = indicator_catalogue(con) if catalogue is None else catalogue
    periods = period_rows(con, period)
    con.register("_export_periods", periods)
    try:
        frame = con.execute(
            f"""
            with v as (
                select
                    * exclude (suppressed),
                    coalesce(suppressed, false) as suppressed
                from marts.fct_indicator_values
            )

            select
                v.indicator_code,
                coalesce(i.name_{language}, v.indicator_code) as indicator,
                i.unit,
                coalesce(o.org_unit_name, v.org_unit_id) as org_unit,
                v.org_unit_id,
                coalesce(p.org_unit_name, v.parent_org_unit_id) as parent_org_unit,
                v.level,
                v.period_label as period,
                v.period_type,
                strftime(cast(v.period_start as date), '%Y-%m-%d') as period_start,
                strftime(cast(v.period_end as date), '%Y-%m-%d') as period_end,
                v.disaggregation,
                v.disaggregation_value,
                case when v.suppressed then null else v.baseline end as baseline,
                case when v.suppressed then null else v.target end as target,
                case when v.suppressed then null else v.value end as actual,
                case when v.suppressed then null else v.ci_low end as ci_low,
                case when v.suppressed then null else v.ci_high end as ci_high,
                case when v.suppressed then null else v.status end as status,
                coalesce(v.is_partial_period, false) as partial_period,
                v.suppressed,
                r.period_rank
            from v
            inner join _export_periods as r
                on v.period_type = r.period_type and v.period_label = r.period_label
            left join marts.dim_indicators as i on v.indicator_code = i.indicator_code
            left join marts.dim_org_units as o
                on v.mission_id = o.mission_id and v.level = o.level
                and v.org_unit_id = o.org_unit_id
            left join marts.dim_org_units as p
                on v.mission_id = p.mission_id and v.parent_org_unit_id = p.org_unit_id
                and p.level = case v.level when 'site' then 'sector'
                                           when 'sector' then 'mission' end
            where v.mission_id = ? and v.level = ?
                and (? or v.disaggregation = 'total')
            """,
            [mission, level, disaggregated],
        ).df()
    finally:
        con.unregister("_export_periods")
    catalogue_order = {code: i for i, code in enumerate(catalogue["indicator_code"])}
    frame["_indicator"] = frame["indicator_code"].map(catalogue_order).fillna(
        len(catalogue_order))
    frame["_breakdown"] = frame["disaggregation"] != "total"
    frame = frame.sort_values(
        ["_indicator", "indicator_code", "parent_org_unit", "org_unit", "org_unit_id",
         "_breakdown", "disaggregation", "disaggregation_value", "period_rank"],
        kind="stable", na_position="first",
    )
    frame["row_order"] = range(len(frame))
    frame["suppressed"] = frame["suppressed"].astype(bool)
    columns = [
        *TRACKING_COLUMNS, "indicator", "unit", "org_unit_id", "parent_org_unit",
        "period_type", "period_start", "period_end",
        *(["disaggregation", "disaggregation_value"] if disaggregated else []),
        "ci_low", "ci_high", "partial_period", "row_order",
    ]
    return frame[columns].reset_index(drop=True)


def _no_data(con, period: Period, level: str, chosen: list[Mission]) -> ExportError:
    """Say why the period has no rows: another level has them, or nearby periods do."""
    ids = [m.mission_id for m in chosen]
    where = f"mission {ids[0]}" if len(ids) == 1 else "any mission"
    periods = period_rows(con, period)
    labels = list(periods["period_label"])
    scope = period.label if len(labels) == 1 else \
        f"{period.label} (or its {PERIOD_NAMES[SUB_PERIODS[period.period_type][0]]})"
    levels = [r[0] for r in con.execute(
        f"select distinct level from marts.fct_indicator_values where period_label in "
        f"({', '.join('?' * len(labels))}) and mission_id in ({', '.join('?' * len(ids))})",
        [*labels, *ids]).fetchall()]
    if levels:
        present = ", ".join(lv for lv in LEVELS if lv in levels)
        return ExportError(f"no indicator values at {level} level for {scope} in {where}; "
                           f"levels with values: {present}")
    known = [r[0] for r in con.execute(
        "select distinct period_label from marts.fct_indicator_values where period_type = ? "
        f"and level = ? and mission_id in ({', '.join('?' * len(ids))})",
        [period.period_type, level, *ids]).fetchall()]
    if not known:
        return ExportError(f"no indicator values for {scope} in {where}: the warehouse has no "
                           f"{level}-level {PERIOD_NAMES[period.period_type]} with values "
                           f"({BUILD_HINT}, or try another period type)")
    return ExportError(
        f"no indicator values for {scope} in {where}; {PERIOD_NAMES[period.period_type]} with "
        f"values: {_span(known)} (nearest: {', '.join(_nearest(known, period.label))})"
    )


# ---------------------------------------------------------------------------------------------
# Files.


def _check_out_dir(out: Path) -> None:
    """Fail early when the output folder cannot be created or written to."""
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ExportError(f"cannot write to {out}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write to {out}: permission denied on {probe}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_set(out: Path, writers: dict[str, Callable[[Path], object]]) -> None:
    """Write each file to a temporary name in ``out``, then rename them all into place."""
    staged: dict[Path, Path] = {}
    try:
        for name, write in writers.items():
            fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}.", suffix=".part")
            os.close(fd)
            staged[Path(tmp)] = out / name
            write(Path(tmp))
            os.chmod(tmp, 0o666 & ~_umask())
        for tmp, final in staged.items():
            os.replace(tmp, final)
    except OSError as exc:
        raise ExportError(f"cannot write to {out}: {exc.strerror or exc}") from None
    except ValueError as exc:  # the writers' checks: unknown indicator or status
        raise ExportError(f"the warehouse marts disagree with each other ({exc}): rebuild "
                          "them with `pocmon run`") from None
    finally:
        for tmp in staged:
            tmp.unlink(missing_ok=True)


def file_stem(mission_id: str, period: Period, level: str, disaggregated: bool = False) -> str:
    """``MINUSCA_FY2025-26_mission`` (``..._disaggregated`` when disaggregated)."""
    stem = f"{mission_id}_{period.label}_{level}"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)
    return f"{stem}_disaggregated" if disaggregated else stem


def export(
    warehouse: Path, period: str, out: Path, level: str = "mission",
    fmt: str | Sequence[str] = "xlsx", mission: str | None = None,
    language: str | None = None, disaggregated: bool = False,
) -> ExportResult:
    """Write the tracking table and data dictionary of each mission, in the format ``fmt``
    or in each of several (the tables are read once); ExportError on a problem."""
    level = level.strip().lower()
    formats = [f.strip().lower() for f in ([fmt] if isinstance(fmt, str) else fmt)]
    if level not in LEVELS:
        raise ExportError(f"unknown level '{level}': use {', '.join(LEVELS)}")
    for f in formats or [""]:
        if f not in FORMATS:
            raise ExportError(f"unknown format '{f}': use {' or '.join(FORMATS)}")
    if language is not None:
        language = language.strip().lower()
        if language not in LANGUAGES:
            raise ExportError(f"unknown language '{language}': use {' or '.join(LANGUAGES)}")
    out = Path(out).expanduser().absolute()
    _check_out_dir(out)

    import duckdb

    with open_warehouse(warehouse) as con:
        try:
            resolved = resolve_period(con, period)
            chosen = missions(con, mission)
            catalogue = indicator_catalogue(con)
            frames: list[tuple[Mission, str, pd.DataFrame]] = []
            skipped = []
            for m in chosen:
                lang = language or (m.language if m.language in LANGUAGES else "en")
                frame = tracking_frame(con, resolved, level, m.mission_id, lang,
                                       disaggregated, catalogue)
                if frame.empty:
                    skipped.append(m.mission_id)
                else:
                    frames.append((m, lang, frame))
            if not frames:
                raise _no_data(con, resolved, level, chosen)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise ExportError(f"the warehouse marts are not what export expects ({first}): "
                              "rebuild them with `pocmon run`") from None

    result = ExportResult(resolved, level)
    if skipped:
        result.notes.append(f"No {level}-level values for {resolved.label} in "
                            f"{', '.join(skipped)}: no file written for it.")
    absent = [code for code, levels in zip(catalogue["indicator_code"], catalogue["levels"],
                                           strict=True)
              if levels and level not in str(levels).split("|")]
    if absent:
        result.notes.append(f"{len(absent)} indicator(s) are not reported at {level} level: "
                            f"{', '.join(absent)}.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the output folder {out}: {exc.strerror or exc}"
                          ) from None

    for m, lang, frame in frames:
        stem = file_stem(m.mission_id, resolved, level, disaggregated)
        used = catalogue[catalogue["indicator_code"].isin(frame["indicator_code"])]
        result.suppressed += int(frame["suppressed"].sum())
        result.rows += len(frame)
        for fmt in formats:
            result.files += _write_tables(out, fmt, stem, m.mission_id, lang, frame, used)
    return result


def _write_tables(out: Path, fmt: str, stem: str, mission_id: str, lang: str,
                  frame: pd.DataFrame, used: pd.DataFrame) -> list[ExportedFile]:
    """Write one mission's tracking table and dictionary in ``fmt``; the files written."""
    if fmt == "xlsx":
        name = f"{stem}_indicators.xlsx"
        _write_set(out, {name: lambda p: write_tracking_xlsx(frame, used, p, lang)})
        labels = LABELS[lang]
        sheets = [name for _, name in outcome_sheets(used, lang).values()] + [
            labels["dictionary"], labels["readme"]]
        return [ExportedFile(out / name, mission_id, lang, "tracking table", len(frame),
                             sheets)]
    table, dictionary = f"{stem}_indicators.csv", f"{stem}_dictionary.csv"
    columns = [c for c in frame.columns if c != "row_order"]
    _write_set(out, {
        table: lambda p: write_tracking_csv(frame, p),
        dictionary: lambda p: write_dictionary_csv(used, columns, p, lang),
    })
    return [ExportedFile(out / table, mission_id, lang, "tracking table", len(frame)),
            ExportedFile(out / dictionary, mission_id, lang, "dictionary",
                         len(columns) + len(used))]
