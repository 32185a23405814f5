"""Read an inbox file (CSV, .xlsx or GeoJSON) into a frame of text cells under the contract's names.

Everything here works on text: typing and rules are the contract's job (``validate``).
A file that cannot be read at all raises ``FileRejected`` with one clear message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.contracts import Contract

DELIMITERS = ",;\t|"


class FileRejected(Exception):
    """The whole file is unreadable for the contract; the message says why."""


@dataclass
class RowProblem:
    """A row that could not be split into the header's columns."""

    row_number: int
    rule: str
    message: str
    value: str | None = None


@dataclass
class ReadResult:
    """The file's rows as text, indexed by row number (the header is row 1)."""

    frame: pd.DataFrame
    rows_read: int
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def normalise_name(text: str) -> str:
    """Header or value key: lower case, no accents, words joined by underscores."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return "_".join(text.strip().lower().replace("-", " ").replace("/", " ").split())


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
        notes.append("read as UTF-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="strict") if _is_cp1252(data) else ""
            if not text:
                raise FileRejected(
                    f"{name}: not a text CSV file (it is neither UTF-8 nor Windows-1252 text); "
                    "save it again as 'CSV UTF-8'"
                ) from None
            notes.append("read as Windows-1252 (Latin-1); save as 'CSV UTF-8' to be sure")
    if "\x00" in text:
        raise FileRejected(f"{name}: not a text CSV file (it holds binary data)")
    return text, notes


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _read_csv_rows(path: Path, display: str) -> tuple[list[str], list[list[str]], list[str]]:
    text, notes = _decode(path.read_bytes(), display)
    if not text.strip():
        raise FileRejected(f"{display}: the file is empty (no header row)")
    first_line = text.lstrip("\r\n").splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise FileRejected(f"{display}: not a valid CSV file ({exc})") from exc
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    if not rows:
        raise FileRejected(f"{display}: the file is empty (no header row)")
    return rows[0], rows[1:], notes


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx_rows(path: Path, display: str) -> tuple[list[str], list[list[str]], list[str]]:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        raise FileRejected(f"{display}: not an Excel workbook (.xlsx); it cannot be opened")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise FileRejected(f"{display}: the Excel workbook cannot be opened ({exc})") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    notes = []
    if len(workbook.sheetnames) > 1:
        notes.append(f"read the first sheet '{workbook.sheetnames[0]}' only")
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    if not rows:
        raise FileRejected(f"{display}: the workbook's first sheet is empty (no header row)")
    header = rows[0]
    while header and not header[-1].strip():
        header = header[:-1]
    width = len(header)
    body = [row + [""] * (width - len(row)) for row in rows[1:]]  # Excel drops empty tails
    return header, body, notes


def _read_geojson_rows(path: Path, display: str) -> tuple[list[str], list[list[str]], list[str]]:
    """A GeoJSON FeatureCollection as UCDP publishes GED: each feature's properties are one
    row (the same columns as the CSV download); a Point geometry fills latitude and longitude
    only where the properties lack them. Rows are numbered as in the CSV (first feature = 2)."""
    text, notes = _decode(path.read_bytes(), display)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected(f"{display}: not a valid GeoJSON file ({exc.msg}, line {exc.lineno})"
                           ) from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise FileRejected(f"{display}: not a GeoJSON FeatureCollection (no 'features' list)")
    if not features:
        raise FileRejected(f"{display}: the GeoJSON file holds no features")
    header: dict[str, None] = {}
    records: list[dict[str, object]] = []
    for feature in features:
        properties = dict((feature or {}).get("properties") or {})
        geometry = (feature or {}).get("geometry") or {}
        point = geometry.get("coordinates") if geometry.get("type") == "Point" else None
        if isinstance(point, list) and len(point) >= 2:
            for name, value in (("longitude", point[0]), ("latitude", point[1])):
                if properties.get(name) in (None, ""):
                    properties[name] = value
        header.update(dict.fromkeys(properties))
        records.append(properties)
    names = list(header)
    rows = [[_cell_text(record.get(name)) for name in names] for record in records]
    return names, rows, notes


def _map_header(header: list[str], contract: Contract, display: str) -> tuple[list, list[str]]:
    """Canonical column name for each header cell (None when the column is not in the contract)."""
    lookup: dict[str, str] = {}
    for spec in contract.columns.values():
        for alias in (spec.name, *spec.aliases):
            lookup[normalise_name(alias)] = spec.name
    mapped = [lookup.get(normalise_name(cell)) for cell in header]
    seen: set[str] = set()
    for name in mapped:
        if name is not None and name in seen:
            raise FileRejected(f"{display}: column '{name}' appears twice in the header")
        if name is not None:
            seen.add(name)
    missing = [c for c in contract.required_columns if c not in seen]
    if missing:
        found = ", ".join(repr(c) for c in header[:20]) or "nothing"
        raise FileRejected(
            f"{display}: wrong header for a {contract.source} file: missing required "
            f"column(s) {', '.join(missing)}; the first row holds {found}"
        )
    known = {normalise_name(c) for c in contract.unused_columns}
    ignored = [cell for cell, name in zip(header, mapped, strict=True)
               if name is None and cell and normalise_name(cell) not in known]
    return mapped, ignored


def read_file(path: Path, contract: Contract, display: str | None = None) -> ReadResult:
    """Read one CSV or .xlsx file as text cells, columns renamed to the contract's names."""
    display = display or path.name
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, rows, notes = _read_csv_rows(path, display)
    elif suffix == ".xlsx":
        header, rows, notes = _read_xlsx_rows(path, display)
    elif suffix in (".geojson", ".json"):
        header, rows, notes = _read_geojson_rows(path, display)
    else:
        raise FileRejected(f"{display}: unsupported file type '{suffix}' (use .csv, .xlsx or "
                           ".geojson)")
    mapped, ignored = _map_header(header, contract, display)
    width = len(header)
    problems: list[RowProblem] = []
    records: list[list[str | None]] = []
    index: list[int] = []
    for offset, row in enumerate(rows):
        row_number = offset + 2
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not rows
        extra = any(cell.strip() for cell in row[width:])
        if len(row) < width or extra:
            problems.append(
                RowProblem(
                    row_number,
                    "field_count",
                    f"row has {len(row)} fields but the header has {width}",
                )
            )
            continue
        records.append([cell.strip() or None for cell in row[:width]])
        index.append(row_number)
    frame = pd.DataFrame(records, columns=range(width), index=pd.Index(index, name="row_number"))
    keep = [i for i, name in enumerate(mapped) if name is not None]
    frame = frame[keep].set_axis([mapped[i] for i in keep], axis=1).astype(object)
    for column in contract.columns:
        if column not in frame.columns:
            frame[column] = None
    frame = frame[list(contract.columns)]
    return ReadResult(frame, len(records) + len(problems), problems, ignored, notes)
