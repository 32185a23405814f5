"""Which dbt nodes a weekly run rebuilds: what its new data reaches, or all of them.

A run rebuilds everything downstream of the sources that received files since the last
successful ``dbt build`` (``ops.manifest.processed_at``; a rejected file counts, it changes the
data-quality marts), and nothing else, as long as what that build was made from is unchanged:
the dbt project's files, pocmon's own code (dbt Python models import it), the versions of
dbt and DuckDB and an indicator targets file named in the dbt vars. Anything else (no build
on record, a fingerprint that differs, ``--full-refresh``) rebuilds all. The record of each
successful build is ``ops.dbt_builds``, in the warehouse itself, so a new or restored
warehouse is always built in full.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from graphlib import TopologicalSorter
from importlib.metadata import version
from pathlib import Path

import duckdb
import yaml

BUILDS_DDL = """
create table if not exists ops.dbt_builds (
    run_id varchar,
    started_at timestamp not null,    -- UTC, before dbt started: files processed later count
    finished_at timestamp not null,   -- as new for the next run
    fingerprint varchar not null,     -- of what the build was made from (project_fingerprint)
    selection varchar not null        -- 'all', or the dbt selection it ran
)
"""
# every build started, successful or not: one started after the last successful build failed
# or was killed, and may have left seeds and models of another fingerprint (a reference file
# with an error, since restored), so the next build rebuilds all
ATTEMPTS_DDL = """
create table if not exists ops.dbt_build_attempts (
    run_id varchar,
    started_at timestamp not null,    -- UTC, as ops.dbt_builds.started_at
    fingerprint varchar not null
)
"""
SKIPPED_FOLDERS = {"target", "logs", "dbt_packages", "__pycache__"}
PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
# the dbt source of the file manifest and the quarantine: any processed file changes it
OPS_SOURCE = "ops"


@dataclass(frozen=True)
class BuildPlan:
    """``select``: the dbt selection to build, ``None`` for everything, empty for nothing."""

    select: tuple[str, ...] | None
    reason: str
    # the inbox sources with new files: ``select`` is the descendants of their raw tables and
    # of the ops tables
    sources: tuple[str, ...] = ()

    def unbuilt(self, manifest: dict) -> list[str]:
        """The models and seeds this plan leaves as they are, parents first: none when it
        builds all; else all but the descendants of its sources (so none of them depends on a
        node the plan rebuilds)."""
        if self.select is None:
            return []
        reached: set[str] = set()
        todo = [] if not self.select else [uid for uid, source in manifest["sources"].items()
                if source["source_name"] == OPS_SOURCE
                or (source["source_name"] == "raw" and source["name"] in self.sources)]
        while todo:
            for child in manifest["child_map"].get(todo.pop(), []):
                if child not in reached:
                    reached.add(child)
                    todo.append(child)
        left = {uid for uid, node in manifest["nodes"].items()
                if node["resource_type"] in ("model", "seed", "snapshot") and uid not in reached}
        order = TopologicalSorter({uid: [p for p in manifest["parent_map"].get(uid, [])
                                         if p in left] for uid in left})
        return list(order.static_order())

    @property
    def label(self) -> str:
        return "all" if self.select is None else " ".join(self.select)


def _files(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if p.is_file() and not p.name.startswith(".")
                  and not SKIPPED_FOLDERS & set(p.relative_to(folder).parts))


def project_fingerprint(project_dir: Path, code_dir: Path) -> str:
    """A digest of what a dbt build is made from (see the module docstring)."""
    digest = hashlib.sha256()
    files = [*_files(project_dir), *_files(code_dir, "*.py")]
    settings = yaml.safe_load((project_dir / "dbt_project.yml").read_text("utf-8")) or {}
    targets = (settings.get("vars") or {}).get("indicator_targets_file")
    if targets:
        files.append((project_dir / targets).resolve())
    for path in files:
        digest.update(str(path).encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"(missing)")
    for package in PACKAGES:
        digest.update(f"{package}=={version(package)}".encode())
    return digest.hexdigest()


def plan_build(con: duckdb.DuckDBPyConnection, fingerprint: str,
               full_refresh: bool = False) -> BuildPlan:
    """What this run's ``dbt build`` should select."""
    if full_refresh:
        return BuildPlan(None, "a full refresh was asked for")
    con.execute(BUILDS_DDL)  # a warehouse from before this record: no build on record
    last = con.execute("select started_at, fingerprint from ops.dbt_builds "
                       "order by finished_at desc limit 1").fetchone()
    if last is None:
        return BuildPlan(None, "no earlier build of this warehouse is on record")
    since, built_from = last
    con.execute(ATTEMPTS_DDL)
    (unfinished,) = con.execute("select count(*) from ops.dbt_build_attempts "
                                "where started_at > ?", [since]).fetchone()
    if unfinished:
        return BuildPlan(None, "the last dbt build did not finish (it failed or was stopped), "
                               "so every model and seed is built again")
    if built_from != fingerprint:
        return BuildPlan(None, "the dbt project, pocmon's code or a dbt or DuckDB version "
                               "changed since the last build")
    sources = [s for (s,) in con.execute(
        "select distinct source from ops.manifest where processed_at >= ? order by source",
        [since]).fetchall()]
    if not sources:
        return BuildPlan((), "no file was processed since the last build")
    select = (*(f"source:raw.{s}+" for s in sources), f"source:{OPS_SOURCE}+")
    return BuildPlan(select, f"new files of {', '.join(sources)} since the last build",
                     tuple(sources))


def record_attempt(con: duckdb.DuckDBPyConnection, run_id: str | None,
                   started_at: dt.datetime, fingerprint: str) -> None:
    """Note that a build starts (``started_at`` as its ``record_build`` will say)."""
    con.execute(ATTEMPTS_DDL)
    con.execute("insert into ops.dbt_build_attempts values (?, ?, ?)",
                [run_id, started_at, fingerprint])


def record_build(con: duckdb.DuckDBPyConnection, run_id: str | None, started_at: dt.datetime,
                 fingerprint: str, plan: BuildPlan) -> None:
    """Note a successful build (the next run's starting point)."""
    con.execute(BUILDS_DDL)
    con.execute("insert into ops.dbt_builds values (?, ?, ?, ?, ?)",
                [run_id, started_at, utc_now(), fingerprint, plan.label])


def utc_now() -> dt.datetime:
    """Now in UTC without a time zone, as ``ops.manifest`` keeps its times."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
