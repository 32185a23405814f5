"""Load one source's inbox files into the warehouse: manifest, raw rows, quarantine.

For each new file (new content hash): read, validate, pseudonymise, then in one transaction
per source: supersede an earlier file of the same slot or name, insert good rows with lineage,
insert every bad row's issues into the quarantine, and record the file in the manifest.
Rows read = rows loaded + rows quarantined, for every file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.contracts import Contract, load_contract
from pipelines.ingest.pseudonymise import pseudonymise
from pipelines.ingest.read import FileRejected, ReadResult, read_file
from pipelines.ingest.validate import FILE_COLUMN, Issue, validate_frame
from pipelines.reference import Reference, name_key

Progress = Callable[[str], None]


@dataclass
class FileOutcome:
    """What happened to one inbox file in this run."""

    file_name: str
    file_id: str
    status: str  # loaded | rejected | unchanged
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    superseded: str | None = None


@dataclass
class SourceReport:
    """One source's ingestion in this run."""

    source: str
    files: list[FileOutcome] = field(default_factory=list)

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(inbox: Path, source: str, extensions: list[str]) -> list[Path]:
    """The source's inbox files, oldest first (then by name); hidden and lock files skipped."""
    folder = inbox / source
    if not folder.is_dir():
        return []
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not p.name.startswith((".", "~$"))
        and p.suffix.lower() in extensions
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.as_posix()))


# ---------------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    path: Path
    name: str  # relative to the inbox, posix
    digest: str
    file_id: str
    read: ReadResult | None = None
    rejection: str | None = None


def row_missions(contract: Contract, typed: pd.DataFrame, reference: Reference) -> pd.Series:
    """Each row's mission id: the mission column itself, or (``mission_lookup``) the mission
    its published name maps to; None where it maps to no configured mission."""
    values = typed[contract.mission_column]
    if contract.mission_lookup is None:
        return values
    lookup = reference.mission_lookup(contract.mission_lookup)
    return values.map(lambda v: lookup.get(name_key(v)), na_action="ignore")


def _slot(contract: Contract, typed: pd.DataFrame, missions_of_rows: pd.Series) -> str | None:
    """source|mission(s)|period of a file's good rows: a re-submission supersedes."""
    if typed.empty:
        return None
    missions = "+".join(sorted(missions_of_rows.dropna().astype(str).unique()))
    values = typed[contract.period.column].dropna()
    if values.empty:
        return None
    if contract.period.grain == "span":
        months = pd.to_datetime(values).dt.strftime("%Y-%m")
        return f"{contract.source}|{missions}|{months.min()}..{months.max()}"
    if contract.period.grain == "week":
        iso = pd.to_datetime(values).dt.isocalendar()
        labels = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    elif contract.period.grain == "month":
        labels = pd.to_datetime(values).dt.strftime("%Y-%m")
    else:
        labels = values.astype(str)
    return f"{contract.source}|{missions}|{labels.mode().sort_values().iloc[0]}"


def _raw_frame(contract: Contract, typed: pd.DataFrame, key: bytes, candidate: _Candidate,
               loaded_at: dt.datetime) -> pd.DataFrame:
    """Good rows shaped as ``raw.<source>``: pseudonyms in, restricted text out, lineage on."""
    out = pd.DataFrame(index=typed.index)
    for name, spec in contract.columns.items():
        if spec.restricted:
            continue
        if spec.personal:
            out[spec.pseudonym_column] = pseudonymise(typed[name], key, phone=spec.phone)
            continue
        column = typed[name]
        if spec.type == "integer":
            column = column.astype("Int64")
        elif spec.type in ("date", "month"):
            column = column.dt.date
        elif spec.type == "boolean":
            column = column.astype("boolean")
        out[name] = column
        if spec.local_time:
            out[f"{name}_utc"] = typed[f"{name}_utc"]
    out["_file_id"] = candidate.file_id
    out["_source_file"] = candidate.name
    out["_content_hash"] = candidate.digest
    out["_row_number"] = typed["__row_number"].astype("int32")
    out["_loaded_at"] = loaded_at
    return out[list(contract.raw_table_columns())]


def _key_columns(contract: Contract) -> list[str]:
    return [
        contract.columns[k].pseudonym_column if contract.columns[k].personal else k
        for k in contract.key
    ]


def _duplicates_of_loaded(con: duckdb.DuckDBPyConnection, contract: Contract,
                          rows: pd.DataFrame) -> pd.DataFrame:
    """Rows whose key is already loaded from another (current) file."""
    keys = _key_columns(contract)
    con.register("incoming_keys", rows[keys + ["_row_number"]])
    try:
        join = " and ".join(f'r."{k}" = i."{k}"' for k in keys)
        return con.execute(
            f"select i._row_number, any_value(r._source_file) as other_file "
            f"from incoming_keys i join raw.{contract.source} r on {join} "
            f"group by i._row_number"
        ).df()
    finally:
        con.unregister("incoming_keys")


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    con.register("incoming", frame)
    try:
        con.execute(f"insert into {table} ({columns}) select {columns} from incoming")
    finally:
        con.unregister("incoming")


def span_covers(new_slot: str | None, old_slot: str | None) -> bool:
    """A ``span`` slot whose missions and months include another's: the later file (e.g. a
    new GED release, or the next personnel table) replaces the earlier one."""
    if not new_slot or not old_slot or new_slot.count("|") != 2 or old_slot.count("|") != 2:
        return False
    source, missions, span = new_slot.split("|")
    old_source, old_missions, old_span = old_slot.split("|")
    if source != old_source or ".." not in span or ".." not in old_span:
        return False
    first, last = span.split("..")
    old_first, old_last = old_span.split("..")
    covered = set(filter(None, old_missions.split("+"))) <= set(missions.split("+"))
    return covered and first <= old_first and old_last <= last


def _supersede(con: duckdb.DuckDBPyConnection, contract: Contract, candidate: _Candidate,
               slot: str | None) -> str | None:
    """Retire the loaded file with the same slot or the same name (or, for ``span`` periods,
    one whose span this file covers); returns its name."""
    previous = [
        (file_id, name) for file_id, name, old_slot in con.execute(
            "select file_id, file_name, slot from ops.manifest where source = ? "
            "and status = 'loaded'", [contract.source]).fetchall()
        if name == candidate.name or (slot is not None and old_slot == slot)
        or (contract.period.grain == "span" and span_covers(slot, old_slot))
    ]
    for file_id, _ in previous:
        con.execute(f"delete from raw.{contract.source} where _file_id = ?", [file_id])
        for spec in contract.restricted_columns:
            con.execute(
                f"delete from restricted.{contract.source}_{spec.name} where _file_id = ?",
                [file_id],
            )
        con.execute("delete from ops.quarantine where file_id = ?", [file_id])
        con.execute(
            "update ops.manifest set status = 'superseded', superseded_by = ? where file_id = ?",
            [candidate.file_id, file_id],
        )
    return ", ".join(name for _, name in previous) or None


def _quarantine_frame(candidate: _Candidate, source: str, issues: list[Issue],
                      now: dt.datetime) -> pd.DataFrame:
    rows = [
        {
            "file_id": candidate.file_id,
            "source": source,
            "source_file": candidate.name,
            "content_hash": candidate.digest,
            "row_number": issue.row_number,
            "column_name": issue.column,
            "rule": issue.rule,
            "offending_value": issue.value,
            "message": format_issue(candidate.name, issue),
            "quarantined_at": now,
        }
        for issue in issues
    ]
    return pd.DataFrame(rows)


def format_issue(file_name: str, issue: Issue) -> str:
    """One line a planning officer can act on: file, row, column, rule and what is wrong."""
    where = [file_name]
    if issue.row_number is not None:
        where.append(f"row {issue.row_number}")
    if issue.column:
        where.append(f"column '{issue.column}'")
    return f"{', '.join(where)}: {issue.detail} [rule: {issue.rule}]"


def _record(con: duckdb.DuckDBPyConnection, candidate: _Candidate, source: str,
            outcome: FileOutcome, slot: str | None, run_id: str | None,
            now: dt.datetime) -> None:
    con.execute(
        "insert into ops.manifest values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?, ?)",
        [
            candidate.file_id, source, candidate.name, candidate.digest, slot, outcome.status,
            outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined,
            dt.datetime.fromtimestamp(candidate.path.stat().st_mtime, dt.UTC).replace(tzinfo=None),
            now, outcome.message or None, run_id,
        ],
    )


# ---------------------------------------------------------------------------------------------


def read_candidates(paths: list[Path], inbox: Path, contract: Contract,
                    known_hashes: set[str]) -> tuple[list[_Candidate], list[FileOutcome]]:
    """Hash and read the files not seen before; identical content is skipped."""
    candidates: list[_Candidate] = []
    unchanged: list[FileOutcome] = []
    for path in paths:
        name = path.relative_to(inbox).as_posix() if path.is_relative_to(inbox) else path.name
        digest = content_hash(path)
        file_id = f"{contract.source}-{digest[:16]}"
        if digest in known_hashes:
            unchanged.append(FileOutcome(name, file_id, "unchanged",
                                         message="already processed (same content)"))
            continue
        known_hashes.add(digest)
        candidate = _Candidate(path, name, digest, file_id)
        try:
            candidate.read = read_file(path, contract, display=name)
        except FileRejected as exc:
            candidate.rejection = str(exc)
        candidates.append(candidate)
    return candidates, unchanged


def validate_candidates(candidates: list[_Candidate], contract: Contract,
                        reference: Reference) -> tuple[pd.DataFrame, list[Issue]]:
    """One great-expectations run over the rows of every readable file of a source."""
    frames = []
    for candidate in candidates:
        if candidate.read is None:
            continue
        frame = candidate.read.frame.reset_index()
        frame = frame.rename(columns={"row_number": "__row_number"})
        frame[FILE_COLUMN] = candidate.file_id
        frames.append(frame)
    if not frames:
        return pd.DataFrame(), []
    batch = pd.concat(frames, ignore_index=True)
    return validate_frame(batch, contract, reference)


def ingest_source(con: duckdb.DuckDBPyConnection, source: str, inbox: Path,
                  reference: Reference, key: bytes, *, extensions: list[str],
                  run_id: str | None = None, progress: Progress | None = None) -> SourceReport:
    """Ingest every new file of one source, in one transaction."""
    contract = load_contract(source)
    report = SourceReport(source)
    say = progress or (lambda _message: None)
    paths = discover(inbox, source, extensions)
    known = {
        row[0]
        for row in con.execute(
            "select content_hash from ops.manifest where source = ?", [source]
        ).fetchall()
    }
    candidates, report.files = read_candidates(paths, inbox, contract, known)
    if not candidates:
        say(f"{source}: {len(paths)} file(s), nothing new")
        return report
    say(f"{source}: validating {len(candidates)} new file(s) against the contract")
    typed, issues = validate_candidates(candidates, contract, reference)
    issues_by_file: dict[str, list[Issue]] = {}
    for issue in issues:
        issues_by_file.setdefault(issue.file_id, []).append(issue)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        for number, candidate in enumerate(candidates, start=1):
            outcome = _load_candidate(con, contract, candidate, typed,
                                      issues_by_file.get(candidate.file_id, []), key, run_id,
                                      now, reference)
            report.files.append(outcome)
            if number % 25 == 0 or number == len(candidates):
                say(f"{source}: loaded {number}/{len(candidates)} new file(s)")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return report


def _load_candidate(con: duckdb.DuckDBPyConnection, contract: Contract, candidate: _Candidate,
                    typed: pd.DataFrame, issues: list[Issue], key: bytes,
                    run_id: str | None, now: dt.datetime, reference: Reference
                    ) -> FileOutcome:
    source = contract.source
    if candidate.read is None:
        issue = Issue(candidate.file_id, None, None, "unreadable_file", None,
                      (candidate.rejection or "").split(": ", 1)[-1])
        outcome = FileOutcome(candidate.name, candidate.file_id, "rejected", 0, 0, 0,
                              message=candidate.rejection or "")
        _insert(con, "ops.quarantine", _quarantine_frame(candidate, source, [issue], now))
        _record(con, candidate, source, outcome, None, run_id, now)
        return outcome

    read = candidate.read
    issues = issues + [
        Issue(candidate.file_id, p.row_number, None, p.rule, p.value, p.message)
        for p in read.problems
    ]
    rows = typed[typed[FILE_COLUMN] == candidate.file_id]
    bad_rows = {i.row_number for i in issues}
    good = rows[~rows["__row_number"].isin(bad_rows)]
    missions = row_missions(contract, good, reference)
    slot = _slot(contract, good, missions)
    superseded = _supersede(con, contract, candidate, slot)
    raw = _raw_frame(contract, good, key, candidate, now)
    duplicates = _duplicates_of_loaded(con, contract, raw)
    for row_number, other in duplicates.itertuples(index=False):
        issues.append(Issue(candidate.file_id, int(row_number), contract.key[-1],
                            "unique_across_files", None,
                            f"the key ({', '.join(contract.key)}) is already loaded from "
                            f"{other}"))
    if not duplicates.empty:
        raw = raw[~raw["_row_number"].isin(duplicates["_row_number"])]
        good = good[good["__row_number"].isin(raw["_row_number"])]
    _insert(con, f"raw.{source}", raw)
    for spec in contract.restricted_columns:
        restricted = good[[*contract.key, spec.name]].copy()
        restricted["_file_id"] = candidate.file_id
        restricted["_row_number"] = good["__row_number"].astype("int32")
        _insert(con, f"restricted.{source}_{spec.name}", restricted[restricted[spec.name].notna()])
    _insert(con, "ops.quarantine", _quarantine_frame(candidate, source, issues, now))
    quarantined = len({i.row_number for i in issues})
    notes = list(read.notes)
    if read.ignored_columns:
        notes.append("ignored column(s) not in the contract: " + ", ".join(read.ignored_columns))
    if contract.mission_lookup is not None:
        outside = int(missions[good["__row_number"].isin(raw["_row_number"])].isna().sum())
        if outside:
            notes.append(f"{outside} row(s) of missions or countries not in the reference data "
                         f"(seed public_names, {contract.mission_lookup}): loaded, not in the "
                         "marts")
    if superseded:
        notes.append(f"supersedes {superseded}")
    outcome = FileOutcome(candidate.name, candidate.file_id, "loaded", read.rows_read,
                          len(raw), quarantined, "; ".join(notes), superseded)
    _record(con, candidate, source, outcome, slot, run_id, now)
    return outcome
