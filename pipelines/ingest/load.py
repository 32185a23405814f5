"""Load one source's inbox files into the warehouse: manifest, raw rows, quarantine.

For each new file (new content hash): read, validate, pseudonymise, then in one transaction
per source: supersede an earlier file of the same slot or name, insert good rows with lineage,
insert every bad row's issues into the quarantine, and record the file in the manifest.
Rows read = rows loaded + rows quarantined, for every file.

A bad file never stops its source: a path out of the inbox (a symbolic link, a name holding
``..``) is refused without being read, a file that cannot be read is rejected whole, and
a file whose validation fails unexpectedly is rejected on its own while the others load.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.contracts import Contract, load_contract
from pipelines.faults import checkpoint
from pipelines.forked import can_fork, forked_pool, usable_cpus
from pipelines.ingest.loaded_keys import LoadedKeys
from pipelines.ingest.pseudonymise import pseudonymise
from pipelines.ingest.read import (
    DEFAULT_MAX_FILE_MB,
    FileRejected,
    ReadResult,
    read_file,
    unsupported_type,
)
from pipelines.ingest.restricted import seal, store_sealed
from pipelines.ingest.validate import FILE_COLUMN, ContractSuite, Issue, validate_frame
from pipelines.reference import Reference, name_key
from pipelines.storage_errors import storage_problem

Progress = Callable[[str], None]
# file bytes read, validated and loaded at a time (about 100k patrol rows): memory stays
# bounded however long the history (a worker holds about 30 bytes per byte of its batch)
BATCH_BYTES = 16 << 20
# worker processes reading and validating batches while this one loads them (forked: they
# inherit the imported modules); default min(2, CPUs); 1 does everything in this process
INGEST_WORKERS_ENV = "POCMON_INGEST_WORKERS"


class WarehouseWriteError(Exception):
    """The warehouse could not be written (full disk, read-only); nothing was changed."""


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


# what operating systems leave in folders (not anyone's export)
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})


def discover(inbox: Path, source: str) -> list[Path]:
    """The source's inbox files, oldest first (then by name); hidden, lock and system files
    and the files of hidden folders skipped. Files of any type are listed:
    ``read_candidates`` rejects the types the inbox does not read, so that none in a source's
    folder is passed over without a word.

    Symbolic links to files are listed too (``read_candidates`` refuses those leading out of
    the inbox, and dangling ones); linked folders are neither listed nor entered.
    """
    folder = inbox / source
    if not folder.is_dir():
        return []
    files = [p for p in folder.rglob("*")
             if (p.is_file() or p.is_symlink()) and not p.is_dir() and not skipped(p, folder)]
    return sorted(files, key=lambda p: (p.lstat().st_mtime, p.as_posix()))


def linked_folders(inbox: Path, sources: Sequence[str]) -> list[str]:
    """Symbolic links to folders in the source folders (inbox-relative, sorted): never
    entered, since a link may lead anywhere, and named so that none is passed over in
    silence. Hidden ones are left out."""
    found = []
    for source in sources:
        folder = inbox / source
        if folder.is_dir():
            found += [p.relative_to(inbox).as_posix() for p in folder.rglob("*")
                      if p.is_symlink() and p.is_dir() and not skipped(p, folder)]
    return sorted(found)


def outside_source_folders(inbox: Path, sources: Sequence[str]) -> list[str]:
    """Inbox files that no source reads: at the inbox's top, or in a folder that is not a
    source's (a misspelt ``patrol/``, say); inbox-relative, sorted. Hidden and system files
    and folders are left out."""
    if not inbox.is_dir():
        return []
    stray = []
    for path in inbox.rglob("*"):
        relative = path.relative_to(inbox)
        if relative.parts[0] in sources or skipped(path, inbox):
            continue
        if path.is_file():
            stray.append(relative.as_posix())
    return sorted(stray)


def skipped(path: Path, root: Path | None = None) -> bool:
    """A hidden, Office lock or operating-system file, or (given the folder ``root`` it was
    found under) a file inside a hidden folder, such as a sync tool's ``.stversions`` of old
    copies: never read, never reported."""
    parts = path.relative_to(root).parts if root is not None else (path.name,)
    return any(part.startswith((".", "~$")) or part.lower() in SYSTEM_FILES for part in parts)


def unsafe_path(path: Path, inbox: Path) -> str | None:
    """Why a path must not be read: its name climbs out of the inbox, or it leads out of it."""
    try:
        relative = path.relative_to(inbox)
    except ValueError:
        return "it is not inside the inbox"
    segments = [s for part in relative.parts for s in part.replace("\\", "/").split("/")]
    if ".." in segments:
        return "its path holds '..', which leads out of the inbox"
    if any(ord(char) < 32 for char in str(relative)):
        return "its name holds a control character"
    if not path.resolve().is_relative_to(inbox.resolve()):
        return "it is a symbolic link leading out of the inbox"
    return None


# ---------------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    path: Path
    name: str  # relative to the inbox, posix
    digest: str
    file_id: str
    read: ReadResult | None = None
    rejection: str | None = None
    rejection_rule: str = "unreadable_file"

    def reject(self, message: str, rule: str = "unreadable_file") -> None:
        self.read, self.rejection, self.rejection_rule = None, message, rule


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
        days = pd.to_datetime(values)
        return f"{contract.source}|{missions}|{days.min():%Y-%m}..{days.max():%Y-%m}"
    # the most common period of the rows (the earliest of equals), counted over distinct days:
    # a file holds a week of rows, and pandas' calendar maths costs per call, not per row
    counts: Counter[str] = Counter()
    if contract.period.grain in ("week", "month"):
        for day, rows in pd.to_datetime(values).dt.normalize().value_counts().items():
            if contract.period.grain == "week":
                year, week, _ = day.isocalendar()
                counts[f"{year}-W{week:02d}"] += rows
            else:
                counts[f"{day:%Y-%m}"] += rows
    else:
        counts.update(values.astype(str).value_counts().to_dict())
    most = max(counts.values())
    return f"{contract.source}|{missions}|{min(k for k, n in counts.items() if n == most)}"


def _raw_frames(contract: Contract, prepared: list[_Prepared], key: bytes,
                loaded_at: dt.datetime) -> dict[str, pd.DataFrame]:
    """Each file's good rows shaped as ``raw.<source>``: pseudonyms in, restricted text out,
    lineage on; built once for the files together (a week of trainings is 1,000 files of a
    few rows), then split by file."""
    files = [p for p in prepared if p.good is not None and not p.good.empty]
    if not files:
        return {}
    typed = pd.concat([p.good for p in files], ignore_index=True)
    lineage = {p.candidate.file_id: p.candidate for p in files}
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
    file_ids = typed[FILE_COLUMN]
    out["_file_id"] = file_ids.to_numpy()
    out["_source_file"] = file_ids.map({f: c.name for f, c in lineage.items()}).to_numpy()
    out["_content_hash"] = file_ids.map({f: c.digest for f, c in lineage.items()}).to_numpy()
    out["_row_number"] = typed["__row_number"].astype("int32")
    out["_loaded_at"] = loaded_at
    out = out[list(contract.raw_table_columns())]
    return {file_id: rows.reset_index(drop=True)
            for file_id, rows in out.groupby("_file_id", sort=False)}


def _key_columns(contract: Contract) -> list[str]:
    return [
        contract.columns[k].pseudonym_column if contract.columns[k].personal else k
        for k in contract.key
    ]


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    # read by DuckDB's replacement scan of this function's local ``frame``: a registered view
    # would stay alive, frame and all, until the source's transaction ends (a 10-million-row
    # history held in memory at once)
    con.execute(f"insert into {table} ({columns}) select {columns} from frame")


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


def replaces(contract: Contract, name: str, slot: str | None, old_name: str,
             old_slot: str | None) -> bool:
    """A file supersedes a loaded one of the same slot (source, missions, period: a corrected
    re-submission, whatever its name), or of the same name when that one has no good row to
    lose (a file quarantined whole, corrected), or, for ``span`` periods, one of the same name
    or whose span it covers. A file of the same name for another period (an export saved
    under one name every week) is a file of its own: it never deletes the earlier week."""
    if slot is not None and old_slot == slot:
        return True
    if contract.period.grain == "span":
        return name == old_name or span_covers(slot, old_slot)
    return name == old_name and old_slot is None


def _supersede(con: duckdb.DuckDBPyConnection, contract: Contract, candidate: _Candidate,
               slot: str | None, loaded_keys: LoadedKeys) -> str | None:
    """Retire the loaded file with the same slot or the same name (or, for ``span`` periods,
    one whose span this file covers); returns its name."""
    query = ("select file_id, file_name, slot from ops.manifest where source = ? "
             "and status = 'loaded'")
    params: list[object] = [contract.source]
    if contract.period.grain != "span":  # only a span can cover other slots: ask for two
        query += " and (file_name = ? or slot = ?)"
        params += [candidate.name, slot]
    previous = [
        (file_id, name) for file_id, name, old_slot in con.execute(query, params).fetchall()
        if replaces(contract, candidate.name, slot, name, old_slot)
    ]
    for file_id, _ in previous:
        loaded_keys.forget(file_id)
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
    stat = candidate.path.lstat()
    con.execute(
        "insert into ops.manifest (file_id, source, file_name, content_hash, slot, status, "
        "rows_read, rows_loaded, rows_quarantined, received_at, processed_at, message, run_id, "
        "file_bytes, file_mtime_ns) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            candidate.file_id, source, candidate.name, candidate.digest, slot, outcome.status,
            outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined,
            dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None),
            now, outcome.message or None, run_id, stat.st_size, stat.st_mtime_ns,
        ],
    )


# ---------------------------------------------------------------------------------------------


def _refused_digest(name: str, path: Path, why: str) -> str:
    """Stands in for the content hash of a file refused unread: its name, link and reason."""
    target = str(path.readlink()) if path.is_symlink() else ""
    return hashlib.sha256(f"refused unread\0{name}\0{target}\0{why}".encode()).hexdigest()


def quick_key(name: str, path: Path) -> tuple[str, int, int] | None:
    """A file as a run knows it without reading it: (inbox path, size, mtime in ns), as
    ``ops.manifest`` records it; None when it cannot be stat'ed."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (name, stat.st_size, stat.st_mtime_ns)


def read_candidates(paths: list[Path], inbox: Path, contract: Contract,
                    known_hashes: set[str], *, max_file_mb: float = DEFAULT_MAX_FILE_MB,
                    read: bool = True, known_files: dict[tuple, str] | None = None,
                    extensions: Sequence[str] | None = None
                    ) -> tuple[list[_Candidate], list[FileOutcome]]:
    """Hash and (unless ``read`` is false) read the files not seen before; identical content
    is skipped. A file whose name, size and modification time (to the nanosecond) are those
    of a processed file (``known_files``, to its hash) is known without being read again, as
    rsync and make know theirs: a weekly run does not re-read years of history.

    A path leading out of the inbox is refused (rule ``unsafe_path``) before it is opened,
    a file that cannot be opened or whose type is not one of ``extensions`` (when given) is
    rejected, and a file beyond ``max_file_mb`` is hashed (streamed) but never parsed.
    """
    candidates: list[_Candidate] = []
    unchanged: list[FileOutcome] = []
    for path in paths:
        name = path.relative_to(inbox).as_posix() if path.is_relative_to(inbox) else path.name
        refusal: tuple[str, str] | None = None
        unsafe = unsafe_path(path, inbox)
        if unsafe:
            refusal = ("unsafe_path", f"{name}: refused and not read: {unsafe}")
        elif extensions is not None and (why := unsupported_type(path, extensions)):
            refusal = ("unreadable_file", f"{name}: {why}")
        elif (quick := quick_key(name, path)) in (known_files or {}):
            digest = known_files[quick]
        else:
            try:
                digest = content_hash(path)
            except OSError as exc:  # gone since listed, a dangling link, no permission
                refusal = ("unreadable_file",
                           f"{name}: the file cannot be opened ({exc.strerror or exc})")
        if refusal:
            digest = _refused_digest(name, path, refusal[1])
        file_id = f"{contract.source}-{digest[:16]}"
        if digest in known_hashes:
            unchanged.append(FileOutcome(name, file_id, "unchanged",
                                         message="already processed (same content)"))
            continue
        known_hashes.add(digest)
        candidate = _Candidate(path, name, digest, file_id)
        if refusal:
            candidate.reject(refusal[1], refusal[0])
        elif read:
            read_candidate(candidate, contract, max_file_mb)
        candidates.append(candidate)
    return candidates, unchanged


def read_candidate(candidate: _Candidate, contract: Contract, max_file_mb: float) -> None:
    """Read a new file's rows, or reject it with the reason."""
    if candidate.rejection is not None:
        return
    try:
        candidate.read = read_file(candidate.path, contract, display=candidate.name,
                                   max_file_mb=max_file_mb)
    except FileRejected as exc:
        candidate.reject(str(exc), exc.rule)
    except Exception as exc:  # a damaged file must never stop its source
        candidate.reject(f"{candidate.name}: the file cannot be read "
                         f"({type(exc).__name__}: {exc})")


def _batch(candidates: list[_Candidate]) -> pd.DataFrame:
    frames = []
    for candidate in candidates:
        frame = candidate.read.frame.reset_index()  # type: ignore[union-attr]
        frame = frame.rename(columns={"row_number": "__row_number"})
        frame[FILE_COLUMN] = candidate.file_id
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def validate_candidates(candidates: list[_Candidate], contract: Contract,
                        reference: Reference, as_of: dt.date | None = None,
                        suite: ContractSuite | None = None
                        ) -> tuple[pd.DataFrame, list[Issue]]:
    """One great-expectations run over the rows of every readable file of a source.

    Should that run fail, each file is validated on its own and a file that still fails is
    rejected whole: one bad file never stops the others.
    """
    readable = [c for c in candidates if c.read is not None]
    if not readable:
        return pd.DataFrame(), []
    try:
        return validate_frame(_batch(readable), contract, reference, as_of, suite)
    except Exception:  # one of the files breaks validation: find it, below
        pass
    typed_frames, issues = [], []
    for candidate in readable:
        try:
            typed, found = validate_frame(_batch([candidate]), contract, reference, as_of,
                                          suite)
        except Exception as exc:
            candidate.reject(f"{candidate.name}: the file cannot be validated "
                             f"({type(exc).__name__}: {exc}); please report it with the file")
            continue
        typed_frames.append(typed)
        issues += found
    if not typed_frames:
        return pd.DataFrame(), []
    return pd.concat(typed_frames, ignore_index=True), issues


def ingest_source(con: duckdb.DuckDBPyConnection, source: str, inbox: Path,
                  reference: Reference, key: bytes, *, extensions: list[str],
                  run_id: str | None = None, progress: Progress | None = None,
                  max_file_mb: float = DEFAULT_MAX_FILE_MB,
                  as_of: dt.date | None = None) -> SourceReport:
    """Ingest every new file of one source, in one transaction.

    Files are read, validated and loaded a batch at a time (about ``BATCH_BYTES`` of files), so
    that memory stays bounded however long the history. ``max_file_mb`` is
    ``inbox.max_file_mb`` of the settings; ``as_of`` the run's date for the
    ``not_in_future`` rule (default today, UTC).
    """
    contract = load_contract(source)
    report = SourceReport(source)
    say = progress or (lambda _message: None)
    paths = discover(inbox, source)
    processed = con.execute(
        "select content_hash, file_name, file_bytes, file_mtime_ns from ops.manifest "
        "where source = ?", [source]).fetchall()
    known = {row[0] for row in processed}
    quick = {(name, size, mtime): digest for digest, name, size, mtime in processed
             if size is not None}
    candidates, report.files = read_candidates(paths, inbox, contract, known,
                                               max_file_mb=max_file_mb, read=False,
                                               known_files=quick, extensions=extensions)
    for copy, original in _copies(contract.source, report.files, candidates, processed):
        say(f"{source}: {copy} holds the same content as {original}: not loaded again")
    if not candidates:
        say(f"{source}: {len(paths)} file(s), nothing new")
        return report
    say(f"{source}: validating and loading {len(candidates)} new file(s)")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    done = rows = 0
    con.execute("begin transaction")
    try:
        loaded_keys = LoadedKeys(con, source, _key_columns(contract))
        for batch, typed, issues in _validated_batches(candidates, contract, reference, as_of,
                                                       max_file_mb):
            report.files += _load_batch(con, contract, batch, typed, issues, key, run_id,
                                        now, reference, loaded_keys)
            done += len(batch)
            rows += sum(c.read.rows_read for c in batch if c.read is not None)
            for candidate in batch:
                candidate.read = None  # free the rows
            say(f"{source}: loaded {done}/{len(candidates)} new file(s), {rows:,} rows")
        loaded_keys.drop()
        checkpoint(f"ingest:{source}")  # fault tests kill the job here, before the commit
        con.execute("commit")
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):  # a failed commit has already rolled back
            con.execute("rollback")
        problem = storage_problem(exc)
        if problem is None:
            raise
        raise WarehouseWriteError(
            f"cannot write the warehouse: {problem}. Nothing from the {len(candidates)} new "
            f"{source} file(s) was loaded (the transaction was rolled back) and what was "
            "loaded before is unchanged; free space or fix the permissions and run again."
        ) from exc
    return report


def _copies(source: str, unchanged: list[FileOutcome], candidates: list[_Candidate],
            processed: list[tuple]) -> list[tuple[str, str]]:
    """(copy, original) for each file skipped as the same content as another file of another
    name (a 'Copy of ...' beside the original, processed before or in this run), so that
    none is passed over in silence."""
    names: dict[str, list[str]] = {}
    for digest, name, *_ in processed:
        names.setdefault(f"{source}-{digest[:16]}", []).append(name)
    for candidate in candidates:
        names.setdefault(candidate.file_id, []).append(candidate.name)
    return [(outcome.file_name, names[outcome.file_id][0]) for outcome in unchanged
            if outcome.file_id in names and outcome.file_name not in names[outcome.file_id]]


def _planned_batches(candidates: list[_Candidate]) -> list[list[_Candidate]]:
    """The candidates, in order, in batches of about ``BATCH_BYTES`` of files."""
    batches: list[list[_Candidate]] = [[]]
    size = 0
    for candidate in candidates:
        if size >= BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(candidate)
        with contextlib.suppress(OSError):
            size += candidate.path.lstat().st_size
    return batches


def _worker_count(batches: int) -> int:
    """Reader processes for ``batches``: POCMON_INGEST_WORKERS, else up to 2, no more than the
    CPUs this process may use (a container or ``taskset`` may allow fewer than the machine has)."""
    wanted = int(os.environ.get(INGEST_WORKERS_ENV) or min(2, usable_cpus()))
    if not can_fork():
        return 1
    return max(1, min(wanted, batches))


def _loaded_columns(typed: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """What loading reads of a validated frame (a worker sends back no more)."""
    keep = [*contract.columns, *(f"{s.name}_utc" for s in contract.columns.values()
                                 if s.local_time), FILE_COLUMN, "__row_number"]
    return typed[[c for c in keep if c in typed.columns]]


_worker_state: dict[str, object] = {}


def _start_worker(contract: Contract, reference: Reference, as_of: dt.date | None,
                  max_file_mb: float) -> None:
    _worker_state.update(contract=contract, reference=reference, as_of=as_of,
                         max_file_mb=max_file_mb, suite=None)


def _read_and_validate(batch: list[_Candidate], state: dict[str, object]
                       ) -> tuple[list[_Candidate], pd.DataFrame, list[Issue]]:
    """Read a batch's files and validate their rows (the suite built on first use)."""
    contract, reference = state["contract"], state["reference"]
    for candidate in batch:
        read_candidate(candidate, contract, state["max_file_mb"])
    if state["suite"] is None and any(c.read is not None for c in batch):
        state["suite"] = ContractSuite(contract, reference, state["as_of"])
    typed, issues = validate_candidates(batch, contract, reference, state["as_of"],
                                        state["suite"])
    return batch, typed, issues


def _worker_batch(batch: list[_Candidate]) -> tuple[list[_Candidate], pd.DataFrame, list[Issue]]:
    batch, typed, issues = _read_and_validate(batch, _worker_state)
    for candidate in batch:  # the text rows stay here: loading needs the typed ones
        if candidate.read is not None:
            candidate.read.frame = candidate.read.frame.iloc[:0]
    return batch, _loaded_columns(typed, _worker_state["contract"]), issues


def _validated_batches(candidates: list[_Candidate], contract: Contract,
                       reference: Reference, as_of: dt.date | None, max_file_mb: float
                       ) -> Iterator[tuple[list[_Candidate], pd.DataFrame, list[Issue]]]:
    """Each batch of candidates read and validated, in order: by worker processes while this
    one loads the batch before (one batch per worker in flight), or here."""
    batches = _planned_batches(candidates)
    workers = _worker_count(len(batches))
    if workers == 1:
        state = {"contract": contract, "reference": reference, "as_of": as_of,
                 "max_file_mb": max_file_mb, "suite": None}
        for batch in batches:
            yield _read_and_validate(batch, state)
        return
    import great_expectations  # noqa: F401  (imported once, here: the workers inherit it)

    pool = forked_pool(workers, initializer=_start_worker,
                       initargs=(contract, reference, as_of, max_file_mb))
    with pool:
        todo = iter(batches)
        pending = deque(pool.submit(_worker_batch, b) for b in
                        (next(todo) for _ in range(min(len(batches), workers))))
        while pending:
            result = pending.popleft().result()
            following = next(todo, None)
            if following is not None:
                pending.append(pool.submit(_worker_batch, following))
            yield result


def _load_batch(con: duckdb.DuckDBPyConnection, contract: Contract, batch: list[_Candidate],
                typed: pd.DataFrame, issues: list[Issue], key: bytes, run_id: str | None,
                now: dt.datetime, reference: Reference, loaded_keys: LoadedKeys
                ) -> list[FileOutcome]:
    """Load a validated batch, file by file in order; files of one slot go one at a time."""
    issues_by_file: dict[str, list[Issue]] = {}
    for issue in issues:
        issues_by_file.setdefault(issue.file_id, []).append(issue)
    by_file = dict(tuple(typed.groupby(FILE_COLUMN, sort=False))) if len(typed) else {}
    outcomes: list[FileOutcome] = []
    group: list[_Prepared] = []
    for candidate in batch:
        prepared = _prepare(contract, candidate, by_file.get(candidate.file_id),
                            issues_by_file.get(candidate.file_id, []), reference)
        if any(prepared.collides_with(earlier, contract) for earlier in group):
            outcomes += _load_group(con, contract, group, key, run_id, now, loaded_keys)
            group = []
        group.append(prepared)
    return outcomes + _load_group(con, contract, group, key, run_id, now, loaded_keys)


@dataclass
class _Prepared:
    """A file of a batch ready to load: its good rows, its issues and the slot it fills."""

    candidate: _Candidate
    good: pd.DataFrame | None  # None when the file is rejected
    issues: list[Issue]
    slot: str | None = None
    missions: pd.Series | None = None  # each good row's configured mission (None: not one)

    def collides_with(self, other: _Prepared, contract: Contract) -> bool:
        """One would supersede the other: they must load one after the other."""
        if self.good is None or other.good is None:
            return False
        return (replaces(contract, self.candidate.name, self.slot, other.candidate.name,
                         other.slot)
                or replaces(contract, other.candidate.name, other.slot, self.candidate.name,
                            self.slot))


def _prepare(contract: Contract, candidate: _Candidate, rows: pd.DataFrame | None,
             issues: list[Issue], reference: Reference) -> _Prepared:
    if candidate.read is None:
        return _Prepared(candidate, None, [])
    issues = issues + [Issue(candidate.file_id, p.row_number, None, p.rule, p.value, p.message)
                       for p in candidate.read.problems]
    if rows is None:  # a file with a header and no rows
        return _Prepared(candidate, pd.DataFrame(), issues)
    good = rows[~rows["__row_number"].isin({i.row_number for i in issues})]
    missions = row_missions(contract, good, reference)
    return _Prepared(candidate, good, issues, _slot(contract, good, missions), missions)


def _already_loaded(con: duckdb.DuckDBPyConnection, contract: Contract,
                    incoming: pd.DataFrame, loaded: LoadedKeys) -> pd.DataFrame:
    """Rows whose key is already in the raw table, or in an earlier file of ``incoming``:
    ``_file_id``, ``_row_number`` and the file that holds the key first."""
    keys = _key_columns(contract)
    frame = incoming[[*keys, "_file_id", "_row_number", "_source_file"]].copy()
    frame["_seq"] = range(len(frame))
    same = " and ".join(f'o."{k}" = i."{k}"' for k in keys)
    # ``frame`` is read by DuckDB's replacement scan (see ``_insert``)
    within = con.execute(f"""
        select i._file_id, i._row_number, arg_min(o._source_file, o._seq) as other_file
        from frame i join frame o
          on {same} and o._seq < i._seq and o._file_id <> i._file_id
        group by all
    """).df()
    return (pd.concat([loaded.already_loaded(frame), within], ignore_index=True)
            .drop_duplicates(["_file_id", "_row_number"]))


def _load_group(con: duckdb.DuckDBPyConnection, contract: Contract, group: list[_Prepared],
                key: bytes, run_id: str | None, now: dt.datetime, loaded_keys: LoadedKeys
                ) -> list[FileOutcome]:
    """Supersede, insert raw, restricted and quarantine rows, and record each file."""
    source = contract.source
    superseded = {p.candidate.file_id: _supersede(con, contract, p.candidate, p.slot,
                                                  loaded_keys)
                  for p in group if p.good is not None}
    raws = _raw_frames(contract, group, key, now)
    duplicates = (_already_loaded(con, contract, pd.concat(raws.values(), ignore_index=True),
                                  loaded_keys)
                  if raws else pd.DataFrame(columns=["_file_id", "_row_number", "other_file"]))
    duplicates_by_file = dict(tuple(duplicates.groupby("_file_id"))) if len(duplicates) else {}
    loaded: list[pd.DataFrame] = []
    quarantine: list[pd.DataFrame] = []
    outcomes: list[FileOutcome] = []
    for prepared in group:
        candidate, file_id = prepared.candidate, prepared.candidate.file_id
        if prepared.good is None:
            issue = Issue(file_id, None, None, candidate.rejection_rule, None,
                          (candidate.rejection or "").split(": ", 1)[-1])
            quarantine.append(_quarantine_frame(candidate, source, [issue], now))
            outcome = FileOutcome(candidate.name, file_id, "rejected", 0, 0, 0,
                                  message=candidate.rejection or "")
            _record(con, candidate, source, outcome, None, run_id, now)
            outcomes.append(outcome)
            continue
        issues, raw, good = list(prepared.issues), raws.get(file_id), prepared.good
        dupes = duplicates_by_file.get(file_id)
        if dupes is not None:
            for row_number, other in dupes[["_row_number", "other_file"]].itertuples(index=False):
                issues.append(Issue(file_id, int(row_number), contract.key[-1],
                                    "unique_across_files", None,
                                    f"the key ({', '.join(contract.key)}) is already loaded "
                                    f"from {other}"))
            raw = raw[~raw["_row_number"].isin(dupes["_row_number"])]
            good = good[good["__row_number"].isin(raw["_row_number"])]
        if raw is not None:
            loaded.append(raw)
        _insert_restricted(con, contract, candidate, good, key)
        quarantine.append(_quarantine_frame(candidate, source, issues, now))
        read = candidate.read
        notes = list(read.notes)
        if read.ignored_columns:
            notes.append("ignored column(s) not in the contract: "
                         + ", ".join(read.ignored_columns))
        if contract.mission_lookup is not None and raw is not None:
            loaded_rows = good["__row_number"].isin(raw["_row_number"])
            outside = int(prepared.missions[loaded_rows].isna().sum())
            if outside:
                notes.append(f"{outside} row(s) of missions or countries not in the reference "
                             f"data (seed public_names, {contract.mission_lookup}): loaded, "
                             "not in the marts")
        if superseded[file_id]:
            notes.append(f"supersedes {superseded[file_id]}")
        outcome = FileOutcome(candidate.name, file_id, "loaded", read.rows_read,
                              0 if raw is None else len(raw),
                              len({i.row_number for i in issues}), "; ".join(notes),
                              superseded[file_id])
        _record(con, candidate, source, outcome, prepared.slot, run_id, now)
        outcomes.append(outcome)
    if loaded:
        rows = pd.concat(loaded, ignore_index=True)
        _insert(con, f"raw.{source}", rows)
        loaded_keys.add(rows[_key_columns(contract)])
    quarantine = [q for q in quarantine if not q.empty]
    if quarantine:
        _insert(con, "ops.quarantine", pd.concat(quarantine, ignore_index=True))
    return outcomes


def _insert_restricted(con: duckdb.DuckDBPyConnection, contract: Contract,
                       candidate: _Candidate, good: pd.DataFrame, key: bytes) -> None:
    """Each restricted column of a file's good rows, sealed as one token."""
    for spec in contract.restricted_columns:
        if good.empty:
            continue
        text = good.loc[good[spec.name].notna(), [*contract.key, spec.name]]
        text.insert(len(contract.key), "_row_number", good["__row_number"])
        if not text.empty:
            store_sealed(con, f"restricted.{contract.source}_{spec.name}",
                         [(candidate.file_id, len(text), seal(text, key))])
