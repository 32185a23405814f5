"""Each contract, with good and bad rows, loaded into a real DuckDB file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import write_csv

from pipelines.ingest.load import ingest_source

KEY = b"k" * 32
EXTENSIONS = [".csv", ".xlsx"]

GOOD_ROWS: dict[str, dict[str, str]] = {
    "patrols": {
        "patrol_id": "P-1", "mission": "UNMISS", "unit_id": "SSD-FPU-1", "unit_type": "FPU",
        "start_time": "2025-01-06 08:00", "end_time": "2025-01-06 12:00", "site_id": "SSD-S01",
        "mode": "foot", "range": "short", "joint_with": "none", "persons": "20", "women": "3",
        "host_police_persons": "0", "purpose": "market_day", "alert_id": "",
    },
    "incidents": {
        "incident_id": "I-1", "mission": "UNMISS", "occurred_at": "2025-01-06 08:00",
        "reported_at": "2025-01-06 09:00", "site_id": "SSD-S02", "category": "killing",
        "victims": "2", "fatalities": "1", "perpetrator_type": "armed_group",
        "source_type": "community", "alert_id": "A-1", "alert_received_at": "2025-01-06 08:10",
        "response_arrived_at": "2025-01-06 09:00", "referred_at": "", "box": "blue",
        "narrative": "Shots were heard near the market.", "reporter_name": "Test Reporter",
        "reporter_phone": "+211 912 345 678",
    },
    "trainings": {
        "session_id": "T-1", "mission": "UNMISS", "course": "Community policing basics",
        "topic": "community_policing", "site_id": "SSD-S01", "start_date": "2025-01-06",
        "end_date": "2025-01-10", "host_police_unit": "Juba police station", "participants": "20",
        "women": "5", "pre_test_score": "50", "post_test_score": "62.5", "certified": "15",
    },
    "strength": {
        "mission": "UNMISS", "month": "2025-01", "unit_type": "FPU", "authorized": "600",
        "deployed": "560", "women": "80", "fpu_operational_days": "1400",
    },
    "surveys": {
        "round": "2025-R1", "mission": "UNMISS", "site_id": "SSD-S01",
        "interview_date": "2025-01-10", "respondent_id": "R-1", "weight": "1.2",
        "sex": "female", "age_band": "25-34", "feels_safe": "4", "trust_host_police": "3",
        "trust_unpol": "4", "would_report_to_police": "yes",
    },
}

# (source, changes to the good row, column expected in the quarantine, rule expected)
BAD_ROWS = [
    ("patrols", {"persons": "-1"}, "persons", "range"),
    ("patrols", {"persons": "many"}, "persons", "type"),
    ("patrols", {"persons": "2.5"}, "persons", "type"),
    ("patrols", {"mode": "submarine"}, "mode", "allowed_values"),
    ("patrols", {"site_id": "XXX-S99"}, "site_id", "reference"),
    ("patrols", {"site_id": "CAF-S01"}, "site_id", "belongs_to_mission"),
    ("patrols", {"mission": "MINUSMA"}, "mission", "reference"),
    ("patrols", {"end_time": "2025-01-06 07:00"}, "end_time", "end_after_start"),
    ("patrols", {"women": "21"}, "women", "women_within_persons"),
    ("patrols", {"patrol_id": ""}, "patrol_id", "required"),
    ("patrols", {"start_time": "2025-13-01 08:00"}, "start_time", "type"),
    ("patrols", {"purpose": "alert_response"}, "alert_id", "alert_id_for_alert_response"),
    ("incidents", {"fatalities": "3"}, "fatalities", "fatalities_within_victims"),
    ("incidents", {"reported_at": "2025-01-05 09:00"}, "reported_at",
     "reported_after_occurred"),
    ("incidents", {"response_arrived_at": "2025-01-06 08:00"}, "response_arrived_at",
     "arrival_after_alert"),
    ("incidents", {"category": "traffic"}, "category", "allowed_values"),
    ("incidents", {"box": "red"}, "box", "allowed_values"),
    ("trainings", {"certified": "21"}, "certified", "certified_within_participants"),
    ("trainings", {"end_date": "2025-01-05"}, "end_date", "end_after_start"),
    ("trainings", {"post_test_score": "120"}, "post_test_score", "range"),
    ("trainings", {"topic": "cooking"}, "topic", "allowed_values"),
    ("strength", {"month": "2025-13"}, "month", "type"),
    ("strength", {"women": "561"}, "women", "women_within_deployed"),
    ("strength", {"authorized": "-5"}, "authorized", "range"),
    ("surveys", {"feels_safe": "7"}, "feels_safe", "range"),
    ("surveys", {"would_report_to_police": "maybe"}, "would_report_to_police", "type"),
    ("surveys", {"sex": "x"}, "sex", "allowed_values"),
    ("surveys", {"respondent_id": ""}, "respondent_id", "required"),
]


def _second_row(source: str, changes: dict[str, str]) -> dict[str, str]:
    """A second good row with its own key, then the changes."""
    row = dict(GOOD_ROWS[source])
    for key in {"patrols": ["patrol_id"], "incidents": ["incident_id", "alert_id"],
                "trainings": ["session_id"], "surveys": ["respondent_id"]}.get(source, []):
        row[key] = row[key] + "b"
    if source == "strength":
        row["unit_type"] = "IPO"
    return row | changes


def _quarantine(con) -> list[tuple]:
    return con.execute(
        "select row_number, column_name, rule, offending_value from ops.quarantine "
        "order by row_number, column_name"
    ).fetchall()


def _manifest(con) -> list[tuple]:
    return con.execute(
        "select file_name, status, rows_read, rows_loaded, rows_quarantined from ops.manifest "
        "order by processed_at, file_name"
    ).fetchall()


@pytest.mark.parametrize("source", list(GOOD_ROWS))
def test_good_rows_load_with_lineage(source, warehouse, reference, tmp_path: Path):
    write_csv(tmp_path / "inbox" / source / "good.csv",
              [GOOD_ROWS[source], _second_row(source, {})])
    report = ingest_source(warehouse, source, tmp_path / "inbox", reference, KEY,
                           extensions=EXTENSIONS)
    assert [(f.status, f.rows_read, f.rows_loaded, f.rows_quarantined)
            for f in report.files] == [("loaded", 2, 2, 0)]
    assert _quarantine(warehouse) == []
    lineage = warehouse.execute(
        f"select _source_file, _row_number, length(_content_hash), _loaded_at is not null "
        f"from raw.{source} order by _row_number"
    ).fetchall()
    assert lineage == [(f"{source}/good.csv", 2, 64, True), (f"{source}/good.csv", 3, 64, True)]


@pytest.mark.parametrize(("source", "changes", "column", "rule"), BAD_ROWS,
                         ids=[f"{s}-{r}-{c}" for s, _, c, r in BAD_ROWS])
def test_bad_row_is_quarantined_with_file_row_column_rule(source, changes, column, rule,
                                                          warehouse, reference, tmp_path):
    write_csv(tmp_path / "inbox" / source / "week.csv",
              [GOOD_ROWS[source], _second_row(source, changes)])
    report = ingest_source(warehouse, source, tmp_path / "inbox", reference, KEY,
                           extensions=EXTENSIONS)
    (outcome,) = report.files
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (2, 1, 1)
    found = _quarantine(warehouse)
    assert [(r[0], r[1], r[2]) for r in found] == [(3, column, rule)]
    message = warehouse.execute("select message from ops.quarantine").fetchone()[0]
    assert message.startswith(f"{source}/week.csv, row 3, column '{column}'")
    assert f"[rule: {rule}]" in message
    assert warehouse.execute(f"select count(*) from raw.{source}").fetchone()[0] == 1


def test_duplicate_key_in_one_file_quarantines_both_rows(warehouse, reference, tmp_path):
    row = GOOD_ROWS["patrols"]
    write_csv(tmp_path / "inbox" / "patrols" / "dup.csv", [row, row, _second_row("patrols", {})])
    ingest_source(warehouse, "patrols", tmp_path / "inbox", reference, KEY, extensions=EXTENSIONS)
    assert [(r[0], r[2]) for r in _quarantine(warehouse)] == [
        (2, "unique_in_file"), (3, "unique_in_file")]
    assert _manifest(warehouse) == [("patrols/dup.csv", "loaded", 3, 1, 2)]


def test_key_already_loaded_from_another_file_is_quarantined(warehouse, reference, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv(inbox / "patrols" / "week1.csv", [GOOD_ROWS["patrols"]])
    ingest_source(warehouse, "patrols", inbox, reference, KEY, extensions=EXTENSIONS)
    week3 = {"start_time": "2025-01-20 08:00", "end_time": "2025-01-20 10:00"}
    write_csv(inbox / "patrols" / "week3.csv",
              [GOOD_ROWS["patrols"] | week3, _second_row("patrols", week3)])
    report = ingest_source(warehouse, "patrols", inbox, reference, KEY, extensions=EXTENSIONS)
    assert [(f.file_name, f.rows_loaded, f.rows_quarantined) for f in report.files
            if f.status == "loaded"] == [("patrols/week3.csv", 1, 1)]
    rules = [(r[0], r[2]) for r in _quarantine(warehouse)]
    assert rules == [(2, "unique_across_files")]
    assert warehouse.execute("select count(*) from raw.patrols").fetchone()[0] == 2


def test_key_loaded_by_an_earlier_batch_of_the_same_run_is_quarantined(
        warehouse, reference, tmp_path, monkeypatch):
    """One file per batch: the second file's repeat of the first's patrol is found among the
    keys loaded earlier in the run (pipelines/ingest/loaded_keys.py), not within its batch."""
    monkeypatch.setattr("pipelines.ingest.load.BATCH_BYTES", 1)
    monkeypatch.setenv("POCMON_INGEST_WORKERS", "1")
    inbox = tmp_path / "inbox"
    week3 = {"start_time": "2025-01-20 08:00", "end_time": "2025-01-20 10:00"}
    write_csv(inbox / "patrols" / "a_week1.csv", [GOOD_ROWS["patrols"]])
    write_csv(inbox / "patrols" / "b_week3.csv",
              [_second_row("patrols", week3), GOOD_ROWS["patrols"] | week3])
    report = ingest_source(warehouse, "patrols", inbox, reference, KEY, extensions=EXTENSIONS)
    assert [(f.file_name, f.rows_loaded, f.rows_quarantined) for f in report.files] == [
        ("patrols/a_week1.csv", 1, 0), ("patrols/b_week3.csv", 1, 1)]
    (issue,) = _quarantine(warehouse)
    assert (issue[0], issue[2]) == (3, "unique_across_files")
    message = warehouse.execute("select message from ops.quarantine").fetchone()[0]
    assert "already loaded from patrols/a_week1.csv" in message
    assert warehouse.execute("select count(*) from raw.patrols").fetchone()[0] == 2


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("header.csv", b"id,when,where\n1,2,3\n", "missing required column(s) patrol_id"),
        ("binary.csv", b"\x00\x01\x02PK\x00\x00", "not a text CSV file"),
        ("fake.xlsx", b"%PDF-1.4 not a workbook", "not an Excel workbook"),
        ("notes.txt", b"hello", "unsupported file type '.txt'"),
        ("week.ods", b"PK\x03\x04 a LibreOffice sheet", "save it as an Excel Workbook (.xlsx)"),
    ],
)
def test_unreadable_file_is_rejected_whole_with_one_message(name, content, fragment, warehouse,
                                                            reference, tmp_path):
    folder = tmp_path / "inbox" / "patrols"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(content)
    write_csv(folder / "good.csv", [GOOD_ROWS["patrols"]])
    report = ingest_source(warehouse, "patrols", tmp_path / "inbox", reference, KEY,
                           extensions=EXTENSIONS)
    statuses = {f.file_name: f.status for f in report.files}
    assert statuses["patrols/good.csv"] == "loaded"
    assert statuses[f"patrols/{name}"] == "rejected"
    (message,) = warehouse.execute(
        "select message from ops.quarantine where rule = 'unreadable_file'").fetchone()
    assert fragment in message and name in message
    assert warehouse.execute("select count(*) from raw.patrols").fetchone()[0] == 1


def test_french_headers_values_and_semicolons_load(warehouse, reference, tmp_path):
    row = {
        "id_patrouille": "P-FR-1", "mission_id": "MINUSCA", "unite": "CAF-FPU-1",
        "type_unite": "FPU", "debut": "2025-01-06 08:00", "fin": "2025-01-06 12:00",
        "site": "CAF-S03", "mode": "à pied", "portée": "courte", "conjointe_avec": "police_locale",
        "effectif": "30", "femmes": "4", "police_locale_effectif": "6", "objet": "site_pdi",
        "id_alerte": "",
    }
    write_csv(tmp_path / "inbox" / "patrols" / "fr.csv", [row], delimiter=";")
    ingest_source(warehouse, "patrols", tmp_path / "inbox", reference, KEY, extensions=EXTENSIONS)
    assert _quarantine(warehouse) == []
    loaded = warehouse.execute(
        "select patrol_id, mode, range, joint_with, purpose, start_time, start_time_utc "
        "from raw.patrols").fetchone()
    assert loaded[:5] == ("P-FR-1", "foot", "short", "host_police", "idp_site")
    # Bangui is UTC+1: local time is kept and its UTC twin is one hour earlier
    assert (loaded[5].hour, loaded[6].hour) == (8, 7)


def test_xlsx_file_loads_like_csv(warehouse, reference, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    rows = [GOOD_ROWS["strength"], _second_row("strength", {"women": "900"})]
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append([int(v) if v.isdigit() else v for v in row.values()])
    path = tmp_path / "inbox" / "strength" / "month.xlsx"
    path.parent.mkdir(parents=True)
    workbook.save(path)
    ingest_source(warehouse, "strength", tmp_path / "inbox", reference, KEY,
                  extensions=EXTENSIONS)
    assert [(r[0], r[1], r[2]) for r in _quarantine(warehouse)] == [
        (3, "women", "women_within_deployed")]
    assert warehouse.execute("select month, deployed from raw.strength").fetchall()[0][1] == 560


def test_a_known_file_is_not_read_again_unless_it_changed(warehouse, reference, tmp_path,
                                                          monkeypatch):
    """Name, size and modification time known: not even hashed (a weekly run does not re-read
    years of history); touched: hashed again, and still loaded once."""
    from pipelines.ingest import load

    path = write_csv(tmp_path / "patrols" / "week.csv", [GOOD_ROWS["patrols"]])
    ingest_source(warehouse, "patrols", tmp_path, reference, KEY, extensions=EXTENSIONS)
    hashed: list[Path] = []
    real_hash = load.content_hash
    monkeypatch.setattr(load, "content_hash", lambda p: hashed.append(p) or real_hash(p))
    again = ingest_source(warehouse, "patrols", tmp_path, reference, KEY, extensions=EXTENSIONS)
    assert [f.status for f in again.files] == ["unchanged"] and hashed == []
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    touched = ingest_source(warehouse, "patrols", tmp_path, reference, KEY,
                            extensions=EXTENSIONS)
    assert [f.status for f in touched.files] == ["unchanged"] and hashed == [path]
    assert warehouse.execute("select count(*) from raw.patrols").fetchone() == (1,)


def test_a_file_saved_under_last_weeks_name_is_a_week_of_its_own(warehouse, reference,
                                                                   tmp_path):
    """One export name every week (export.csv, overwritten): the new week loads beside the
    earlier one, which it never deletes; a corrected file for the same week supersedes
    whatever its name, and so does a file of the same name when the earlier one had no good
    row (quarantined whole, then corrected)."""
    inbox = tmp_path / "inbox"
    week3 = {"start_time": "2025-01-20 08:00", "end_time": "2025-01-20 10:00"}
    export = inbox / "patrols" / "export.csv"

    def run() -> list[tuple]:
        report = ingest_source(warehouse, "patrols", inbox, reference, KEY,
                               extensions=EXTENSIONS)
        return [(f.file_name, f.status, f.superseded) for f in report.files
                if f.status != "unchanged"]

    write_csv(export, [GOOD_ROWS["patrols"], _second_row("patrols", {})])
    assert run() == [("patrols/export.csv", "loaded", None)]
    write_csv(export, [GOOD_ROWS["patrols"] | week3 | {"patrol_id": "P-3"}])
    os.utime(export, (2_000_000_000, 2_000_000_000))
    assert run() == [("patrols/export.csv", "loaded", None)]  # week 3, week 2 kept
    assert warehouse.execute("select count(*) from raw.patrols").fetchone()[0] == 3
    # a corrected week 3 under another name supersedes the week-3 export
    write_csv(inbox / "patrols" / "week3_fixed.csv",
              [GOOD_ROWS["patrols"] | week3 | {"patrol_id": "P-3", "persons": "12"}])
    assert run() == [("patrols/week3_fixed.csv", "loaded", "patrols/export.csv")]
    assert warehouse.execute("select count(*) from raw.patrols").fetchone()[0] == 3
    # a file quarantined whole, then corrected under the same name
    bad = inbox / "patrols" / "week5.csv"
    week5 = {"start_time": "2025-02-03 08:00", "end_time": "2025-02-03 10:00"}
    write_csv(bad, [GOOD_ROWS["patrols"] | week5 | {"patrol_id": "P-5", "site_id": "NOWHERE"}])
    assert run() == [("patrols/week5.csv", "loaded", None)]
    write_csv(bad, [GOOD_ROWS["patrols"] | week5 | {"patrol_id": "P-5"}])
    os.utime(bad, (2_000_000_100, 2_000_000_100))
    assert run() == [("patrols/week5.csv", "loaded", "patrols/week5.csv")]
    assert warehouse.execute("select count(*) from raw.patrols").fetchone()[0] == 4
    assert warehouse.execute("select count(*) from ops.quarantine").fetchone()[0] == 0


def test_the_run_summary_names_each_supersession_and_warns_of_a_shrunken_week() -> None:
    from pipelines.cli import _superseded_lines

    corrected, late = _superseded_lines([
        ("patrols/UNMISS_2025-W15_patrols.csv", 30, "patrols/UNMISS_2025-W15_v2.csv", 29),
        ("patrols/UNMISS_2025-W16_patrols.csv", 30, "patrols/UNMISS_2025-W16_late.csv", 2)])
    assert corrected == ("patrols/UNMISS_2025-W15_patrols.csv (30 rows) replaced by "
                         "patrols/UNMISS_2025-W15_v2.csv (29 rows)")
    assert late.startswith("patrols/UNMISS_2025-W16_patrols.csv (30 rows) replaced by "
                           "patrols/UNMISS_2025-W16_late.csv (2 rows): ")
    assert "fewer than half the rows" in late and "full file" in late


def test_a_copy_of_a_file_under_another_name_is_named_not_loaded(warehouse, reference,
                                                                 tmp_path):
    inbox = tmp_path / "inbox"
    original = write_csv(inbox / "patrols" / "week1.csv", [GOOD_ROWS["patrols"]])
    said: list[str] = []

    def run() -> None:
        ingest_source(warehouse, "patrols", inbox, reference, KEY, extensions=EXTENSIONS,
                      progress=said.append)

    run()
    (inbox / "patrols" / "Copy of week1.csv").write_bytes(original.read_bytes())
    run()  # a copy of a file loaded before: nothing new, but said
    assert ("patrols: patrols/Copy of week1.csv holds the same content as patrols/week1.csv: "
            "not loaded again") in said
    week3 = {"start_time": "2025-01-20 08:00", "end_time": "2025-01-20 10:00",
             "patrol_id": "P-3"}
    first = write_csv(inbox / "patrols" / "a_week3.csv", [GOOD_ROWS["patrols"] | week3])
    (inbox / "patrols" / "b_week3.csv").write_bytes(first.read_bytes())
    run()  # two identical new files in one run: the first loads, the other is named
    assert ("patrols: patrols/b_week3.csv holds the same content as patrols/a_week3.csv: "
            "not loaded again") in said
    assert warehouse.execute("select count(*) from raw.patrols").fetchone()[0] == 2
