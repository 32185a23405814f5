"""What a weekly run's dbt build selects, from the warehouse's own record (a real DuckDB file)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.config import DBT_PROJECT_DIR
from pipelines.dbt_selection import (
    BuildPlan,
    plan_build,
    project_fingerprint,
    record_attempt,
    record_build,
    utc_now,
)
from pipelines.ingest.warehouse import connect

CODE = Path(__file__).resolve().parents[1] / "pipelines"


def _processed(con: duckdb.DuckDBPyConnection, source: str, at: dt.datetime,
               status: str = "loaded") -> None:
    con.execute(
        "insert into ops.manifest (file_id, source, file_name, content_hash, status, rows_read,"
        " rows_loaded, rows_quarantined, processed_at) values (?, ?, ?, ?, ?, 1, 1, 0, ?)",
        [f"{source}-{at.isoformat()}", source, f"{source}.csv", at.isoformat(), status, at])


@pytest.fixture
def con(tmp_path: Path):
    with connect(tmp_path / "w.duckdb") as con:
        yield con


def test_a_warehouse_without_a_build_on_record_is_built_in_full(con) -> None:
    assert plan_build(con, "f").select is None


def test_only_what_new_files_reach_is_built(con) -> None:
    before = utc_now() - dt.timedelta(hours=1)
    _processed(con, "incidents", before)  # loaded before the last build: not new
    started = utc_now()
    record_build(con, "run-1", started, "f", BuildPlan(None, "first"))
    assert plan_build(con, "f").select == ()  # nothing since: nothing to build

    _processed(con, "patrols", started + dt.timedelta(seconds=5))
    _processed(con, "surveys", started + dt.timedelta(seconds=6), status="rejected")
    plan = plan_build(con, "f")
    assert plan.select == ("source:raw.patrols+", "source:raw.surveys+", "source:ops+")
    assert plan.sources == ("patrols", "surveys")
    # the dbt project, pocmon's code or a version changed, or a full refresh: all of it
    assert plan_build(con, "g").select is None
    assert plan_build(con, "f", full_refresh=True).select is None

    # the next build starts from the latest successful one
    record_build(con, "run-2", started + dt.timedelta(seconds=10), "f", plan)
    assert plan_build(con, "f").select == ()
    assert [r[0] for r in con.execute(
        "select selection from ops.dbt_builds order by finished_at").fetchall()] == [
        "all", "source:raw.patrols+ source:raw.surveys+ source:ops+"]


def test_after_a_build_that_did_not_finish_everything_is_built(con) -> None:
    """A build that failed or was killed may have left seeds and models of another
    fingerprint (a reference file with an error, loaded as a seed, then restored): the next
    build builds all, whatever the fingerprint says, until one succeeds."""
    started = utc_now()
    record_attempt(con, "run-1", started, "f")
    record_build(con, "run-1", started, "f", BuildPlan(None, "first"))
    assert plan_build(con, "f").select == ()  # its own attempt, finished
    later = started + dt.timedelta(seconds=10)
    record_attempt(con, "run-2", later, "g")  # the reference changed; the build failed
    _processed(con, "patrols", later + dt.timedelta(seconds=5))
    plan = plan_build(con, "f")  # the file restored: the same fingerprint as run-1's
    assert plan.select is None and "did not finish" in plan.reason
    record_attempt(con, "run-3", later + dt.timedelta(seconds=20), "f")
    record_build(con, "run-3", later + dt.timedelta(seconds=20), "f", plan)
    assert plan_build(con, "f").select == ()


def test_models_left_as_they_are_come_parents_first_and_none_is_downstream() -> None:
    manifest = {
        "sources": {"source.p.raw.patrols": {"source_name": "raw", "name": "patrols"},
                    "source.p.raw.ged": {"source_name": "raw", "name": "ged"},
                    "source.p.ops.manifest": {"source_name": "ops", "name": "manifest"}},
        "nodes": {
            "seed.p.sites": {"resource_type": "seed"},
            "model.p.dim_sites": {"resource_type": "model"},
            "model.p.stg_ged": {"resource_type": "model"},
            "model.p.fct_patrols": {"resource_type": "model"},
            "model.p.fct_quality": {"resource_type": "model"},
            "test.p.unique_dim_sites": {"resource_type": "test"},
        },
        "child_map": {
            "source.p.raw.patrols": ["model.p.fct_patrols"],
            "source.p.raw.ged": ["model.p.stg_ged"],
            "source.p.ops.manifest": ["model.p.fct_quality"],
            "seed.p.sites": ["model.p.dim_sites"],
            "model.p.dim_sites": ["model.p.fct_patrols", "test.p.unique_dim_sites"],
        },
        "parent_map": {"model.p.dim_sites": ["seed.p.sites"],
                       "model.p.fct_patrols": ["source.p.raw.patrols", "model.p.dim_sites"],
                       "model.p.stg_ged": ["source.p.raw.ged"],
                       "model.p.fct_quality": ["source.p.ops.manifest"]},
    }
    plan = BuildPlan(("source:raw.patrols+", "source:ops+"), "new patrols", ("patrols",))
    unbuilt = plan.unbuilt(manifest)
    assert set(unbuilt) == {"seed.p.sites", "model.p.dim_sites", "model.p.stg_ged"}
    assert unbuilt.index("seed.p.sites") < unbuilt.index("model.p.dim_sites")
    assert BuildPlan(None, "all").unbuilt(manifest) == []
    assert set(BuildPlan((), "nothing").unbuilt(manifest)) == {
        uid for uid, n in manifest["nodes"].items() if n["resource_type"] != "test"}


def test_the_fingerprint_follows_the_dbt_project_and_the_code(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    code = tmp_path / "pipelines"
    code.mkdir()
    (code / "estimates.py").write_text("A = 1\n", "utf-8")
    first = project_fingerprint(project, code)
    (project / "target").mkdir()
    (project / "target" / "run_results.json").write_text("{}", "utf-8")  # artefacts: no
    assert project_fingerprint(project, code) == first
    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text("utf-8") + "\n-- edited\n", "utf-8")
    edited = project_fingerprint(project, code)
    assert edited != first
    (code / "estimates.py").write_text("A = 2\n", "utf-8")
    assert project_fingerprint(project, code) not in {first, edited}
