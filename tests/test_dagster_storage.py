"""The Dagster event log of dagster.yaml (pipelines/dagster_storage.py), on a real instance:
connections kept open, nothing lost, and a running run still followed live by another
process's instance (as the Dagster UI follows it)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from dagster import DagsterInstance, job, op

from pipelines.dagster_storage import OPEN_RUN_SHARDS, ReusingSqliteEventLogStorage

REPO = Path(__file__).resolve().parents[1]


@op
def hello() -> int:
    return 1


@job
def tiny_job() -> None:
    hello()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.chdir(tmp_path)  # dagster.yaml's paths are relative to the home
    return tmp_path


def test_dagster_yaml_uses_it_in_the_usual_folders(home: Path) -> None:
    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, ReusingSqliteEventLogStorage)
        result = tiny_job.execute_in_process(instance=instance)
        assert result.success
    # where `storage: sqlite: base_dir: data/dagster/storage` keeps them
    storage = home / "data" / "dagster" / "storage"
    assert (storage / "history" / "runs.db").exists()
    assert (storage / "history" / "runs" / f"{result.run_id}.db").exists()
    assert (storage / "history" / "runs" / "index.db").exists()


def test_events_are_kept_and_seen_by_another_instance(home: Path) -> None:
    with DagsterInstance.from_config(str(home)) as writer:
        runs = [tiny_job.execute_in_process(instance=writer) for _ in range(OPEN_RUN_SHARDS + 2)]
        storage = writer.event_log_storage
        # the index and the most recent run shards stay open, the others are closed
        assert len(storage._engines) == OPEN_RUN_SHARDS + 1
        counts = {r.run_id: len(writer.all_logs(r.run_id)) for r in runs}
        assert min(counts.values()) > 5
        with DagsterInstance.from_config(str(home)) as reader:
            assert {r.run_id: len(reader.all_logs(r.run_id)) for r in runs} == counts
            # an event written while the reader holds its own connections is seen at once
            run = writer.get_run_by_id(runs[0].run_id)
            writer.report_engine_event("written after the run", run)
            assert len(reader.all_logs(run.run_id)) == counts[run.run_id] + 1


def test_a_run_is_followed_live_by_another_instance(home: Path) -> None:
    """The UI's live log watches the run's .db file: each event must still change it."""
    with DagsterInstance.from_config(str(home)) as writer:
        run = writer.get_run_by_id(tiny_job.execute_in_process(instance=writer).run_id)
        with DagsterInstance.from_config(str(home)) as watcher:
            seen: list[str] = []
            arrived = threading.Event()

            def on_event(entry, cursor) -> None:
                seen.append(entry.dagster_event.message if entry.dagster_event else "")
                if seen[-1] == "third":
                    arrived.set()

            watcher.watch_event_logs(run.run_id, None, on_event)
            try:
                for message in ("first", "second", "third"):
                    writer.report_engine_event(message, run)
                assert arrived.wait(10), seen[-4:]  # without the checkpoint: nothing
            finally:
                watcher.end_watch_event_logs(run.run_id, on_event)
            assert seen[-3:] == ["first", "second", "third"], seen


def test_wipe_closes_the_connections(home: Path) -> None:
    with DagsterInstance.from_config(str(home)) as instance:
        run_id = tiny_job.execute_in_process(instance=instance).run_id
        assert instance.event_log_storage._engines
        instance.event_log_storage.wipe()  # run shards deleted: their connections closed
        assert list(instance.event_log_storage._engines) == ["index"]
        assert instance.all_logs(run_id) == []
        assert tiny_job.execute_in_process(instance=instance).success
