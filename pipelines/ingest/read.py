"""Read an inbox file (CSV, .xlsx or GeoJSON) into a frame of text cells under the contract's names.

Everything here works on text: typing and rules are the contract's job (``validate``).
A file that cannot be read at all raises ``FileRejected`` with one clear message; a row that
cannot be split into the header's columns becomes a ``RowProblem`` and the other rows go on.
Row numbers are the file's own (the row a spreadsheet shows), whatever sits above the header.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.config import READABLE_TYPES, InboxSettings
from pipelines.contracts import Contract, load_contracts

DELIMITERS = ",;\t|"
MB = 1 << 20
DEFAULT_MAX_FILE_MB = InboxSettings().max_file_mb
# The header is looked for in a file's first rows (title banners, merged group labels above).
HEADER_SCAN_ROWS = 20
# A workbook member unzipping to more than this many times its stored size is a zip bomb;
# members smaller than RATIO_CHECK_FROM are no threat whatever their ratio.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM = 1 * MB
UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


class FileRejected(Exception):
    """The whole file is unreadable for the contract; the message says why."""

    def __init__(self, message: str, rule: str = "unreadable_file") -> None:
        super().__init__(message)
        self.rule = rule


@dataclass
class RowProblem:
    """A row that could not be split into the header's columns."""

    row_number: int
    rule: str
    message: str
    value: str | None = None


@dataclass
class ReadResult:
    """The file's rows as text, indexed by row number (the header's row + 1 onwards)."""

    frame: pd.DataFrame
    rows_read: int
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Table:
    """A file's rows as text cells, row ``i`` of the list being the file's row ``i + 1``."""

    rows: list[list[str]]
    broken: dict[int, RowProblem] = field(default_factory=dict)  # by row number
    notes: list[str] = field(default_factory=list)
    delimiter: str | None = None  # CSV only; a spreadsheet's short rows are padded instead


@dataclass
class _Header:
    index: int  # in _Table.rows
    cells: list[str]
    mapped: list[str | None]
    ignored: list[str]


def normalise_name(text: str) -> str:
    """Header or value key: lower case, no accents, words joined by underscores."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return "_".join(text.strip().lower().replace("-", " ").replace("/", " ").split())


def column_letter(index: int) -> str:
    """A spreadsheet column name for a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# ---------------------------------------------------------------------------------------------
# Whole-file checks, before any parsing.


def check_size(path: Path, display: str, max_file_mb: float) -> None:
    """Refuse a file bigger than ``inbox.max_file_mb`` without reading it."""
    size = path.stat().st_size
    if size > max_file_mb * MB:
        raise FileRejected(
            f"{display}: the file is {size / MB:,.0f} MB, more than the {max_file_mb:g} MB "
            "allowed (inbox.max_file_mb in config/pocmon.yaml); it was not read: split it "
            "(one file per week) or raise the limit", rule="file_too_large")


def check_zip(path: Path, display: str, max_file_mb: float) -> None:
    """Refuse a workbook whose members would unzip too large, from the zip's directory only.

    The declared sizes can be trusted: Python's zipfile never inflates a member beyond its
    declared size (it stops there and fails the CRC check), so nothing is decompressed here.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejected(f"{display}: not an Excel workbook (.xlsx); it cannot be opened "
                           f"({exc})") from exc
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_CHECK_FROM and ratio > MAX_COMPRESSION_RATIO:
            raise FileRejected(
                f"{display}: '{member.filename}' inside the workbook would unzip to "
                f"{member.file_size / MB:,.0f} MB, {ratio:,.0f} times its stored size (at most "
                f"{MAX_COMPRESSION_RATIO} allowed): a zip bomb or a damaged file; it was not "
                "unpacked", rule="zip_bomb")
    total = sum(m.file_size for m in members)
    if total > max_file_mb * MB:
        raise FileRejected(
            f"{display}: the workbook unzips to {total / MB:,.0f} MB, more than the "
            f"{max_file_mb:g} MB allowed (inbox.max_file_mb in config/pocmon.yaml); it was not "
            "unpacked: split it or raise the limit", rule="file_too_large")


# ---------------------------------------------------------------------------------------------
# CSV


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when every other byte of the start is NUL (ASCII in UTF-16)."""
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.3 and even_nul < 0.02:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.02:
        return "utf-16-be"
    return None


def _decode_utf16(data: bytes, encoding: str, name: str, notes: list[str]) -> str:
    if len(data) % 2:
        data = data[:-1]
        notes.append("the file ends in the middle of a character (cut short?)")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileRejected(f"{name}: not valid UTF-16 text ({exc.reason} at byte "
                           f"{exc.start}); save it again as 'CSV UTF-8'") from None


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    if data.startswith(b"PK\x03\x04"):
        raise FileRejected(f"{name}: not a text CSV file: it is an Excel workbook or a zip "
                           "file; give it the .xlsx extension or export it as CSV")
    unmarked_utf16 = _utf16_without_bom(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode_utf16(data, "utf-16", name, notes)
        notes.append("read as UTF-16")
    elif unmarked_utf16:
        text = _decode_utf16(data, unmarked_utf16, name, notes)
        notes.append(f"read as {unmarked_utf16.upper()} (no byte order mark)")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            if UTF8_MULTIBYTE.search(data):
                raise FileRejected(
                    f"{name}: mixes UTF-8 with another encoding (line {line} holds the first "
                    "byte that is not UTF-8); save the whole file again as 'CSV UTF-8'"
                ) from None
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise FileRejected(
                    f"{name}: not a text CSV file (it is neither UTF-8 nor Windows-1252 text, "
                    f"line {line}); save it again as 'CSV UTF-8'"
                ) from None
            notes.append("read as Windows-1252 (Latin-1); save as 'CSV UTF-8' to be sure")
    if "\x00" in text:
        raise FileRejected(f"{name}: not a text CSV file (it holds binary data)")
    return text, notes


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _quoting_problem(row_number: int, error: csv.Error, first_line: int,
                     last_line: int) -> RowProblem:
    lines = (f"line {first_line}" if first_line >= last_line
             else f"lines {first_line} to {last_line}")
    if "unexpected end of data" in str(error):
        return RowProblem(row_number, "unterminated_quote",
                          f"a quoted cell opened in this row is never closed: the file ends "
                          f"inside it ({lines} of the file); the file may be cut short")
    return RowProblem(row_number, "csv_syntax",
                      f"the row is not valid CSV ({error}, {lines}); check its quotes")


def _fast_csv(text: str, contract: Contract, display: str,
              notes: list[str]) -> ReadResult | None:
    """The common case read in C (pyarrow): the header on the first line, no blank line, no
    quote left open or followed by stray text, every row as wide as the header. Anything else
    returns None and is read row by row, which reports each broken row; both give the same
    frame."""
    first_line, _, _ = text.partition("\n")
    delimiter = _sniff_delimiter(first_line)
    body = text.rstrip()
    if "\n\n" in body or "\n\r\n" in body or _quotes_need_care(text, delimiter):
        return None
    header_cells = next(csv.reader([first_line.rstrip("\r")], delimiter=delimiter))
    try:
        header = _find_header([header_cells], contract, display)
    except FileRejected:
        return None  # the row-by-row reader finds the header further down, or says why not
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(header.cells))]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid:
        return None
    columns: dict[str, object] = {}
    empty = None  # rows whose every cell is empty: the row-by-row reader skips them
    for i, name in enumerate(header.mapped):
        cells = pc.utf8_trim_whitespace(table.column(i))
        blank = pc.equal(cells, "")
        empty = blank if empty is None else pc.and_(empty, blank)
        if name is not None:
            cells = pc.if_else(blank, pa.scalar(None, pa.string()), cells)
            columns[name] = cells.to_numpy(zero_copy_only=False)
    if empty is not None and pc.any(empty).as_py():
        return None
    rows = table.num_rows
    index = pd.RangeIndex(2, rows + 2, name="row_number")
    frame = pd.DataFrame({name: columns.get(name, [None] * rows) for name in contract.columns},
                         index=index, dtype=object)
    return ReadResult(frame, rows, [], header.ignored, notes)


def _quotes_need_care(text: str, delimiter: str) -> bool:
    """A quote left open, or one with cell text on both sides: text after a closing quote
    (strict CSV refuses it, pyarrow would join it), a quote inside a cell or a doubled one."""
    if '"' not in text:
        return False
    if text.count('"') % 2:
        return True
    # a quote followed by cell text, and preceded by neither a delimiter nor a line start (an
    # opening quote starts a cell): one regex search in C, not a Python loop over the quotes.
    # The quote comes first and a lookbehind checks the character before it, so the search
    # jumps from quote to quote (ten times faster than a pattern opening on a class)
    d = re.escape(delimiter)
    return re.search(f'"(?<=[^{d}\n]")[^"\r\n{d}]', text) is not None


def _csv_table(text: str, notes: list[str], display: str) -> _Table:
    first_line = next((line for line in io.StringIO(text) if line.strip()), None)
    if first_line is None:
        raise FileRejected(f"{display}: the file is empty (no header row)")
    delimiter = _sniff_delimiter(first_line)
    # strict: a quote left open is reported on its row, not silently swallowing the rest
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table = _Table([], notes=notes, delimiter=delimiter)
    while True:
        first = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            number = len(table.rows) + 1
            table.broken[number] = _quoting_problem(number, exc, first, reader.line_num)
            row = []
        table.rows.append(row)
    return table


# ---------------------------------------------------------------------------------------------
# Excel


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


def _sheet_rows(sheet: Any, limit: int | None = None) -> list[list[str]]:
    rows = sheet.iter_rows(values_only=True)
    return [[_cell_text(v) for v in row] for row in islice(rows, limit)]


def _read_xlsx_table(path: Path, display: str, contract: Contract) -> tuple[_Table, _Header]:
    """The one sheet holding the contract's table (its header within the first rows)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise FileRejected(f"{display}: the Excel workbook cannot be opened ({exc})") from exc
    try:
        names = workbook.sheetnames
        found: list[tuple[Any, _Header]] = []
        refusals: list[FileRejected] = []
        for sheet in workbook.worksheets:
            where = display if len(names) == 1 else f"{display} (sheet '{sheet.title}')"
            try:
                header = _find_header(_sheet_rows(sheet, HEADER_SCAN_ROWS), contract, where)
            except FileRejected as exc:
                refusals.append(exc)
                continue
            found.append((sheet, header))
        if len(found) > 1:
            raise FileRejected(
                f"{display}: sheets {', '.join(repr(s.title) for s, _ in found)} each hold a "
                f"{contract.source} table; put one table per file")
        if not found:
            for refusal in refusals:
                if "is empty" not in str(refusal):
                    raise refusal
            raise FileRejected(f"{display}: the workbook's sheets are empty (no header row)")
        sheet, header = found[0]
        table = _Table(_sheet_rows(sheet))
    except FileRejected:
        raise
    except Exception as exc:  # a damaged sheet fails while it is read, not only when opened
        raise FileRejected(f"{display}: the Excel workbook is damaged and cannot be read "
                           f"({type(exc).__name__}: {exc})") from exc
    finally:
        workbook.close()
    if len(names) > 1:
        others = ", ".join(repr(n) for n in names if n != sheet.title)
        table.notes.append(f"read sheet '{sheet.title}'; ignored other sheet(s) {others}")
    return table, header


# ---------------------------------------------------------------------------------------------
# GeoJSON (UCDP GED)


def _read_geojson_table(path: Path, display: str) -> _Table:
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
    return _Table([names, *rows], notes=notes)


# ---------------------------------------------------------------------------------------------
# The header


def _trimmed(row: list[str]) -> list[str]:
    end = len(row)
    while end and not row[end - 1].strip():
        end -= 1
    return row[:end]


def _map_header(header: list[str], contract: Contract, display: str,
                row_number: int) -> tuple[list[str | None], list[str]]:
    """Canonical column name for each header cell (None when the column is not in the contract)."""
    lookup: dict[str, str] = {}
    for spec in contract.columns.values():
        for alias in (spec.name, *spec.aliases):
            lookup[normalise_name(alias)] = spec.name
    mapped = [lookup.get(normalise_name(cell)) for cell in header]
    seen: set[str] = set()
    for name in mapped:
        if name is not None and name in seen:
            raise FileRejected(f"{display}: column '{name}' appears twice in the header "
                               f"(row {row_number})")
        if name is not None:
            seen.add(name)
    missing = [c for c in contract.required_columns if c not in seen]
    if missing:
        found = _cells_shown(header)
        hints = []
        if len(header) == 1:
            hints.append("it has one column only: separate columns with , ; tab or |")
        elif all(name is None for name in mapped):
            hints.append("none of its cells is a column name: is the header row missing?")
        unnamed = [column_letter(i) for i, cell in enumerate(header) if not cell.strip()]
        if unnamed:
            hints.append(f"column(s) {', '.join(unnamed)} have no name (merged header "
                         "cells?): give every column its own name in one header row")
        hints += [f"it looks like {'an' if other[0] in 'aeiou' else 'a'} {other} file: put "
                  f"it in the inbox's {other}/ folder"
                  for other in _sources_matching(header) if other != contract.source]
        raise FileRejected(
            f"{display}: wrong header for a {contract.source} file: missing required "
            f"column(s) {', '.join(missing)}; row {row_number} holds {found}"
            + "".join(f"; {h}" for h in hints)
        )
    known = {normalise_name(c) for c in contract.unused_columns}
    ignored = [cell for cell, name in zip(header, mapped, strict=True)
               if name is None and cell and normalise_name(cell) not in known]
    return mapped, ignored


@lru_cache(maxsize=1)
def _sources_columns() -> dict[str, tuple[dict[str, str], frozenset[str]]]:
    """Each source's column lookup (normalised name or alias to column) and required
    columns, from its contract."""
    return {source: ({normalise_name(a): spec.name for spec in contract.columns.values()
                      for a in (spec.name, *spec.aliases)},
                     frozenset(contract.required_columns))
            for source, contract in load_contracts().items()}


def _sources_matching(header: list[str]) -> list[str]:
    """The sources whose every required column this header row names."""
    cells = {normalise_name(cell) for cell in header}
    return [source for source, (lookup, required) in _sources_columns().items()
            if required and required <= {lookup[c] for c in cells if c in lookup}]


def _cells_shown(header: list[str]) -> str:
    """The cells of a row that is not a valid header, as an error message may quote them.

    The row may be data (a file without its header row, or an incidents file in another
    source's folder): only the cells that are column names of some source are quoted, the
    others counted by column letter, so that no name, phone number or narrative reaches the
    message (which goes to the quarantine report, the manifest and the run's logs).
    """
    if not any(cell.strip() for cell in header):
        return "nothing"
    names = {name for lookup, _ in _sources_columns().values() for name in lookup}
    quoted = [repr(cell) for cell in header if normalise_name(cell) in names]
    other = [column_letter(i) for i, cell in enumerate(header)
             if cell.strip() and normalise_name(cell) not in names]  # empty: "no name"
    parts = [", ".join(quoted[:20])] if quoted else []
    if other:
        letters = ", ".join(other[:10]) + (", ..." if len(other) > 10 else "")
        parts.append(f"{len(other)} {'other ' if quoted else ''}cell(s) that are not column "
                     f"names (column(s) {letters}), not quoted: they may hold personal data")
    return "; ".join(parts)


def _find_header(rows: list[list[str]], contract: Contract, display: str) -> _Header:
    """The first of the first rows that holds every required column (title rows above it)."""
    best: tuple[int, FileRejected] | None = None
    names = {normalise_name(a) for s in contract.columns.values() for a in (s.name, *s.aliases)}
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = _trimmed(row)
        if not any(cell.strip() for cell in cells):
            continue
        try:
            mapped, ignored = _map_header(cells, contract, display, index + 1)
        except FileRejected as exc:
            score = sum(normalise_name(cell) in names for cell in cells)
            if best is None or score > best[0]:
                best = (score, exc)
            continue
        return _Header(index, cells, mapped, ignored)
    if best is None:
        raise FileRejected(f"{display}: the file is empty (no header row)")
    raise best[1]


# ---------------------------------------------------------------------------------------------


# what to do with a file of a type pocmon does not read
TYPE_HINTS = {
    ".xls": "save it as an Excel Workbook (.xlsx)",
    ".xlsm": "save it as an Excel Workbook (.xlsx)",
    ".xlsb": "save it as an Excel Workbook (.xlsx)",
    ".ods": "save it as an Excel Workbook (.xlsx): in LibreOffice, File > Save As, "
            "Excel 2007-365",
    ".numbers": "export it as an Excel Workbook (.xlsx)",
    ".zip": "extract its files into the inbox instead",
    ".txt": "if it is a delimited text export, give it the .csv extension",
    ".tsv": "give it the .csv extension (the separator is detected)",
}


def unsupported_type(path: Path, extensions: Sequence[str] | None = None) -> str | None:
    """Why a file's type cannot be read, with what to do about it, or None. ``extensions``:
    the types the inbox accepts (inbox.extensions); None: every type pocmon reads."""
    suffix = path.suffix.lower()
    accepted = READABLE_TYPES if extensions is None else extensions
    if suffix in accepted:
        return None
    kind = f"'{suffix}'" if suffix else "without an extension"
    hint = TYPE_HINTS.get(suffix)
    reads = "pocmon reads" if extensions is None else "the inbox reads"
    return (f"unsupported file type {kind}: {reads} {', '.join(accepted)} files"
            + (f"; {hint}" if hint else ""))


def read_file(path: Path, contract: Contract, display: str | None = None, *,
              max_file_mb: float = DEFAULT_MAX_FILE_MB) -> ReadResult:
    """Read one CSV or .xlsx file as text cells, columns renamed to the contract's names."""
    display = display or path.name
    suffix = path.suffix.lower()
    if why := unsupported_type(path):
        raise FileRejected(f"{display}: {why}")
    check_size(path, display, max_file_mb)
    if suffix == ".csv":
        text, notes = _decode(path.read_bytes(), display)
        fast = _fast_csv(text, contract, display, notes)
        if fast is not None:
            return fast
        table = _csv_table(text, notes, display)
        header = _find_header(table.rows, contract, display)
    elif suffix == ".xlsx":
        check_zip(path, display, max_file_mb)
        table, header = _read_xlsx_table(path, display, contract)
    else:
        table = _read_geojson_table(path, display)
        header = _find_header(table.rows, contract, display)
    notes = list(table.notes)
    skipped = sum(any(c.strip() for c in row) for row in table.rows[: header.index])
    if skipped:
        notes.append(f"header on row {header.index + 1}; {skipped} row(s) above it skipped")
    width = len(header.cells)
    last = len(table.rows)  # the last row with content: a short one there means a cut file
    while (last > header.index + 1 and last not in table.broken
           and not any(c.strip() for c in table.rows[last - 1])):
        last -= 1
    problems: list[RowProblem] = []
    records: list[list[str | None]] = []
    index: list[int] = []
    short: list[int] = []
    for row_number in range(header.index + 2, len(table.rows) + 1):
        row = table.rows[row_number - 1]
        if row_number in table.broken:
            problems.append(table.broken[row_number])
            continue
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not rows
        if table.delimiter is None and len(row) < width:
            row = row + [""] * (width - len(row))  # Excel drops empty tails
        extra = any(cell.strip() for cell in row[width:])
        if len(row) < width or extra:
            problems.append(RowProblem(row_number, "field_count", _field_count_message(
                len(row), width, header.index + 1, table.delimiter)))
            if len(row) < width:
                short.append(row_number)
            continue
        records.append([cell.strip() or None for cell in row[:width]])
        index.append(row_number)
    if short == [last]:  # only the last row is short: the file was probably cut
        problems[-1].message += "; it is the file's last row: the file may be cut short"
    frame = pd.DataFrame(records, columns=range(width), index=pd.Index(index, name="row_number"))
    keep = [i for i, name in enumerate(header.mapped) if name is not None]
    frame = frame[keep].set_axis([header.mapped[i] for i in keep], axis=1).astype(object)
    for column in contract.columns:
        if column not in frame.columns:
            frame[column] = None
    frame = frame[list(contract.columns)]
    return ReadResult(frame, len(records) + len(problems), problems, header.ignored, notes)


def _field_count_message(fields: int, width: int, header_row: int,
                         delimiter: str | None) -> str:
    separated = f", separated by {delimiter!r}" if delimiter else ""
    return f"row has {fields} field(s) but the header (row {header_row}) has {width}{separated}"
