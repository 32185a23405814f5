"""Split simulated tables into inbox files and write them the way missions export them.

A francophone mission writes French headers and French codes, ``;``-separated CSV with decimal
commas (one source in Windows-1252) and Excel workbooks; an anglophone one writes English CSV.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pipelines.contracts import Contract

# Per language: which sources are written as Excel workbooks, and CSV details.
EXCEL_SOURCES = {"fr": {"patrols", "strength"}, "en": set()}
CSV_DELIMITER = {"fr": ";", "en": ","}
CSV_ENCODING = {("fr", "trainings"): "cp1252"}
BOOLEAN_WORDS = {"fr": ("oui", "non"), "en": ("yes", "no")}
EXPORTED_AT = dt.datetime(2025, 1, 1)


def period_labels(contract: Contract, frame: pd.DataFrame) -> pd.Series:
    """The period each row belongs to: ISO week, month or the label itself (e.g. a round)."""
    values = frame[contract.period.column]
    if contract.period.grain == "week":
        iso = pd.to_datetime(values).dt.isocalendar()
        return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    if contract.period.grain == "month":
        return pd.to_datetime(values).dt.strftime("%Y-%m")
    return values.astype(str)


def file_name(contract: Contract, mission: str, period: str, language: str) -> str:
    """Inbox path of one file, relative to the inbox: ``<source>/<MISSION>_<period>_<source>``."""
    ext = "xlsx" if contract.source in EXCEL_SOURCES[language] else "csv"
    return f"{contract.source}/{mission}_{period}_{contract.source}.{ext}"


def split_into_files(contract: Contract, mission: str, language: str, frame: pd.DataFrame
                     ) -> dict[str, pd.DataFrame]:
    """One frame per inbox file (a mission's week, month or round), rows in file order."""
    labels = period_labels(contract, frame)
    return {
        file_name(contract, mission, label, language): part.reset_index(drop=True).astype(object)
        for label, part in frame.groupby(labels, sort=True)
    }


def french_values(contract: Contract) -> dict[str, dict[str, str]]:
    """Per column, canonical code to the first French spelling the contract accepts."""
    out: dict[str, dict[str, str]] = {}
    for name, spec in contract.columns.items():
        inverse: dict[str, str] = {}
        for french, canonical in spec.values_fr.items():
            inverse.setdefault(canonical, french)
        if inverse:
            out[name] = inverse
    return out


def _cell(value: object, kind: str, language: str, excel: bool) -> object:
    """One cell as the mission's export would hold it."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "timestamp" and isinstance(value, dt.datetime | pd.Timestamp):
        return pd.Timestamp(value).to_pydatetime() if excel else f"{value:%Y-%m-%d %H:%M}"
    if kind == "date" and isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time()) if excel else value.isoformat()
    if kind == "month" and isinstance(value, dt.date):
        return f"{value:%Y-%m}"
    if kind == "boolean" and isinstance(value, bool):
        return BOOLEAN_WORDS[language][0 if value else 1]
    if kind == "number" and isinstance(value, float) and language == "fr" and not excel:
        return f"{value:g}".replace(".", ",")
    return value


def localise(contract: Contract, frame: pd.DataFrame, language: str, excel: bool
             ) -> pd.DataFrame:
    """Headers and codes in the mission's language, cells formatted for CSV or Excel."""
    french = french_values(contract) if language == "fr" else {}
    columns = {}
    for name, spec in contract.columns.items():
        header = spec.aliases[0] if language == "fr" and spec.aliases else name
        values = frame[name]
        if name in french:
            values = values.map(lambda v, m=french[name]: m.get(v, v) if isinstance(v, str) else v)
        columns[header] = [_cell(v, spec.type, language, excel) for v in values]
    return pd.DataFrame(columns)


def write_file(path: Path, contract: Contract, frame: pd.DataFrame, language: str) -> None:
    """Write one inbox file, CSV or Excel by its extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    excel = path.suffix == ".xlsx"
    table = localise(contract, frame, language, excel)
    if excel:
        with pd.ExcelWriter(path, engine="xlsxwriter",
                            datetime_format="yyyy-mm-dd hh:mm") as writer:
            sheet = "Rapport" if language == "fr" else "Report"
            writer.book.set_properties({"created": EXPORTED_AT})  # same seed, same bytes
            table.to_excel(writer, sheet_name=sheet, index=False)
        return
    encoding = CSV_ENCODING.get((language, contract.source), "utf-8")
    table.to_csv(path, sep=CSV_DELIMITER[language], index=False, encoding=encoding,
                 lineterminator="\r\n" if encoding == "cp1252" else "\n")
