"""``pocmon validate``: check files against their contracts without loading anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.config import SOURCES
from pipelines.contracts import Contract, load_contract
from pipelines.ingest.read import DEFAULT_MAX_FILE_MB, FileRejected, read_file, unsupported_type
from pipelines.ingest.validate import FILE_COLUMN, Issue, validate_frame
from pipelines.reference import Reference


@dataclass
class DryRunResult:
    """What loading one file would do."""

    path: Path
    source: str | None
    rows_read: int = 0
    issues: list[Issue] = field(default_factory=list)
    rejection: str | None = None
    rejection_rule: str | None = None

    @property
    def rows_quarantined(self) -> int:
        return len({i.row_number for i in self.issues})

    @property
    def ok(self) -> bool:
        return self.rejection is None and not self.issues


def guess_source(path: Path, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> str | None:
    """The source a file belongs to: its folder name, else the contract its header fits."""
    for part in reversed(path.resolve().parts[:-1]):
        if part in SOURCES:
            return part
    for source in SOURCES:
        try:
            read_file(path, load_contract(source), max_file_mb=max_file_mb)
        except FileRejected:
            continue
        return source
    return None


def dry_run(path: Path, reference: Reference, source: str | None = None, *,
            max_file_mb: float = DEFAULT_MAX_FILE_MB, as_of: dt.date | None = None,
            extensions: Sequence[str] | None = None) -> DryRunResult:
    """Read and validate one file as ingestion would; nothing is written anywhere.
    ``extensions``: the file types the inbox reads (inbox.extensions), when given."""
    if extensions is not None and (why := unsupported_type(path, extensions)):
        return DryRunResult(path, source, rejection=f"{path}: {why}",
                            rejection_rule="unreadable_file")
    source = source or guess_source(path, max_file_mb)
    if source is None:
        return DryRunResult(path, None, rejection=(
            f"{path}: cannot tell which source this file is: put it under "
            f"inbox/<source>/ (one of {', '.join(SOURCES)}) or fix its header"),
            rejection_rule="unreadable_file")
    contract: Contract = load_contract(source)
    try:
        read = read_file(path, contract, display=str(path), max_file_mb=max_file_mb)
    except FileRejected as exc:
        return DryRunResult(path, source, rejection=str(exc), rejection_rule=exc.rule)
    frame = read.frame.reset_index().rename(columns={"row_number": "__row_number"})
    frame[FILE_COLUMN] = path.name
    _, issues = validate_frame(frame, contract, reference, as_of)
    issues += [Issue(path.name, p.row_number, None, p.rule, p.value, p.message)
               for p in read.problems]
    return DryRunResult(path, source, read.rows_read, sorted(
        issues, key=lambda i: (i.row_number or 0, i.column or "")))
