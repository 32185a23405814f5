"""The bulk demo generator (``pocmon demo --patrols N``): contract-valid files at any scale."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.demo.bulk import BULK_START, generate_bulk
from pipelines.ingest.dry_run import dry_run
from pipelines.ingest.load import _worker_count, ingest_source
from pipelines.ingest.warehouse import connect


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.csv"))}


@pytest.fixture(scope="module")
def bulk(tmp_path_factory: pytest.TempPathFactory, reference):
    inbox = tmp_path_factory.mktemp("bulk") / "inbox"
    summary = generate_bulk(inbox, patrols=1200, incidents=300, weeks=3, seed=5,
                            bad_share=0, reference=reference)
    return inbox, summary


def test_exact_totals_one_file_per_mission_and_period(bulk) -> None:
    inbox, summary = bulk
    assert summary.rows["patrols"] == 1200 and summary.rows["incidents"] == 300
    names = {p.relative_to(inbox).as_posix() for p in inbox.rglob("*.csv")}
    assert summary.files == len(names)
    for mission in ("MINUSCA", "UNMISS"):
        for week in ("2021-W01", "2021-W02", "2021-W03"):
            for source in ("patrols", "incidents", "trainings"):
                assert f"{source}/{mission}_{week}_{source}.csv" in names
        assert f"strength/{mission}_2021-01_strength.csv" in names


def test_ingestion_loads_every_row_pseudonymised_and_sealed(bulk, reference,
                                                            tmp_path: Path) -> None:
    inbox, summary = bulk
    with connect(tmp_path / "pocmon.duckdb") as con:
        for source in summary.rows:
            report = ingest_source(con, source, inbox, reference, b"k" * 64,
                                   extensions=[".csv"])
            assert report.count("rejected") == 0, source
            assert report.total("rows_quarantined") == 0, source
            assert report.total("rows_loaded") == summary.rows[source], source
        reporters, sealed = con.execute(
            "select (select count(reporter_name_key) from raw.incidents),"
            " (select count(distinct _file_id) from restricted.incidents_narrative)").fetchone()
    assert reporters > 0 and sealed == 6  # one sealed token per incident file


def test_planted_bad_rows_break_one_rule(reference, tmp_path: Path) -> None:
    generate_bulk(tmp_path, patrols=3000, incidents=500, weeks=1, bad_share=0.01,
                  reference=reference)
    result = dry_run(tmp_path / "patrols" / "UNMISS_2021-W01_patrols.csv", reference)
    assert result.rows_quarantined > 0
    assert {issue.rule for issue in result.issues} == {"women_within_persons"}


def test_francophone_files_and_filled_personal_columns(bulk) -> None:
    inbox, _ = bulk
    with (inbox / "incidents/MINUSCA_2021-W02_incidents.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert {"id_incident", "recit", "nom_informateur", "telephone_informateur"} <= set(rows[0])
    assert all(r["recit"].startswith("Témoin n°") for r in rows)
    assert any(r["telephone_informateur"].startswith("+236 7") for r in rows)
    assert {r["categorie"] for r in rows} <= {"meurtre", "enlevement", "vsbg", "vol_pillage",
                                              "affrontement_intercommunautaire",
                                              "attaque_groupe_arme", "abus_forces_etatiques",
                                              "trouble_ordre_public"}


def test_same_arguments_same_files_and_a_next_week_adds_new_ids(bulk, tmp_path: Path,
                                                                reference) -> None:
    inbox, _ = bulk
    generate_bulk(tmp_path / "again", patrols=1200, incidents=300, weeks=3, seed=5,
                  bad_share=0, reference=reference)
    assert _digests(tmp_path / "again") == _digests(inbox)
    generate_bulk(tmp_path / "next", patrols=1000, incidents=200, weeks=1, seed=5,
                  start=BULK_START + dt.timedelta(days=21), reference=reference)
    week = (tmp_path / "next/patrols/UNMISS_2021-W04_patrols.csv").read_text("utf-8")
    assert '"UNMISS-2021W04-P000001"' in week


def test_start_must_be_a_monday(reference, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Monday"):
        generate_bulk(tmp_path, patrols=10, incidents=1, weeks=1,
                      start=dt.date(2021, 1, 5), reference=reference)


def test_demo_command_switches_to_bulk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.config import get_settings

    for name, value in {"POCMON_INBOX": tmp_path / "inbox",
                        "POCMON_WAREHOUSE": tmp_path / "warehouse" / "pocmon.duckdb",
                        "POCMON_PUBLISHED": tmp_path / "published",
                        "POCMON_DEMO_TRUTH": tmp_path / "truth.json"}.items():
        monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()
    bulk = ["demo", "--patrols", "1500", "--incidents", "300", "--weeks", "2", "--no-run"]
    try:
        result = CliRunner().invoke(app, bulk)
        assert result.exit_code == 0, result.output
        assert "1,500 patrols and 300 incidents" in result.output
        assert len(list((tmp_path / "inbox" / "patrols").glob("*.csv"))) == 4
        # the demo again starts afresh: every file there is one a demo wrote
        again = CliRunner().invoke(app, bulk)
        assert again.exit_code == 0, again.output
        # a file no demo wrote, or one written over at a demo's path: the demo refuses and
        # changes nothing, fresh or --keep (its weeks would supersede), unless --force. A
        # sync tool's old copy in a hidden folder counts too (ingestion skips it, the demo
        # would delete it)
        real = tmp_path / "inbox" / "patrols" / "UNMISS_2026-W01_patrols.csv"
        real.write_text("patrol_id\n", encoding="utf-8")
        old_copy = tmp_path / "inbox" / "patrols" / ".stversions" / "UNMISS_2025-W52.csv"
        old_copy.parent.mkdir()
        old_copy.write_text("patrol_id\n", encoding="utf-8")
        overwritten = sorted((tmp_path / "inbox" / "patrols").glob("MINUSCA_*.csv"))[0]
        overwritten.write_text("patrol_id\nreal\n", encoding="utf-8")
        refused = CliRunner().invoke(app, bulk)
        kept = CliRunner().invoke(app, [*bulk, "--keep"])
        still = real.read_text(encoding="utf-8"), overwritten.read_text(encoding="utf-8")
        forced = CliRunner().invoke(app, [*bulk, "--force"])
    finally:
        get_settings.cache_clear()
    assert refused.exit_code == kept.exit_code == 1
    text = " ".join(refused.output.split())
    assert "holds 3 file(s) that no demo wrote" in text
    assert any(name in text for name in ("patrols/UNMISS_2026-W01_patrols.csv",
                                         overwritten.name, "patrols/.stversions/"))
    assert "Nothing was changed" in text and "--force" in text
    assert "supersede" in " ".join(kept.output.split())
    assert still == ("patrol_id\n", "patrol_id\nreal\n")
    assert forced.exit_code == 0, forced.output
    assert not real.exists() and not old_copy.exists()
    assert "real" not in overwritten.read_text(encoding="utf-8")


def test_worker_processes_load_what_one_process_loads(reference, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches read and validated by two worker processes (here one file per batch) give the
    same raw rows, quarantine and manifest as everything in this process."""
    inbox = tmp_path / "inbox"
    generate_bulk(inbox, patrols=900, incidents=300, weeks=3, seed=3, bad_share=0.05,
                  reference=reference)
    monkeypatch.setattr("pipelines.ingest.load.BATCH_BYTES", 1)
    tables = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("POCMON_INGEST_WORKERS", workers)
        with connect(tmp_path / f"w{workers}.duckdb") as con:
            for source in ("patrols", "incidents"):
                ingest_source(con, source, inbox, reference, b"k" * 64, extensions=[".csv"])
            tables[workers] = [
                con.execute(f"select * exclude ({skip}) from {table} order by all").fetchall()
                for table, skip in (("raw.patrols", "_loaded_at"),
                                    ("raw.incidents", "_loaded_at"),
                                    ("ops.quarantine", "quarantined_at"),
                                    ("ops.manifest", "processed_at, run_id"))]
    assert tables["1"] == tables["2"]
    assert tables["1"][2], "the bulk demo plants a few bad rows"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_reader_processes_follow_the_cpus_this_process_may_use(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Under ``taskset`` or a container's CPU set, ingestion forks no more readers than it may
    run at once."""
    monkeypatch.delenv("POCMON_INGEST_WORKERS", raising=False)
    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(allowed)})
        assert _worker_count(batches=8) == 1
    finally:
        os.sched_setaffinity(0, allowed)
    assert _worker_count(batches=8) == min(2, len(allowed))
    assert _worker_count(batches=1) == 1
