"""The weekly job at scale: `pocmon run` on 10M patrols, then one more week, incrementally.

    .venv/bin/python bench/bench_scale.py [--patrols 10000000] [--incidents 2000000]
        [--weeks 260] [--threads 2] [--memory-limit 2GB] [--ingest real|raw-load]
        [--memory-cap-gb 8] [--timeout 3600]

In a four-mission project home (bench/work/scale_job/home, see scale_setup.py), from an empty
warehouse:

1. generate: `pocmon demo --patrols N --incidents M --weeks W --no-run` (bulk files);
2. full job: `pocmon run` (ingestion, dbt build, outputs through Dagster, in process), wall
   time and the peak memory of its whole process tree (PSS of the Dagster process and the dbt
   subprocess, sampled); with ``--ingest raw-load`` the patrol and incident files are loaded
   into the raw tables beforehand by the bench's DuckDB raw load (timed apart) and the job's
   ingestion only sees they are known, so the run measures dbt and the outputs;
3. one more week: `pocmon demo ... --weeks 1 --start <next Monday> --keep --no-run`;
4. incremental job: `pocmon run` again (real ingestion of the new week's files);
5. nothing new: `pocmon run` once more with no new file in the inbox, the fixed cost of any
   run (start-up, the Dagster run record, dashboards and tracking tables rebuilt): the part
   of the incremental run that does not depend on the week's data.

Each run's Dagster steps (from the run's events) and slowest dbt nodes are reported too.
A run over ``--memory-cap-gb`` is killed (the machine is shared) and reported as such.
Prints a table and writes bench/results/scale.json (``--result`` names another file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import scale_setup as ss


def pocmon(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("pocmon")), *args]


def last_run_steps(home: Path) -> dict[str, object]:
    """The latest Dagster run of the instance: its status and seconds per step (from the
    run's events; dagster.yaml's storage paths are relative to the home)."""
    from dagster import DagsterInstance

    here = os.getcwd()
    os.chdir(home)
    try:
        with DagsterInstance.get() as instance:
            records = instance.get_run_records(limit=1)
            if not records:
                return {}
            run = records[0].dagster_run
            stats = instance.get_run_step_stats(run.run_id)
    finally:
        os.chdir(here)
    steps = {s.step_key: round((s.end_time or s.start_time or 0) - (s.start_time or 0), 1)
             for s in stats}
    return {"run_id": run.run_id, "status": run.status.value, "steps": steps}


def dbt_nodes(home: Path, top: int = 6) -> dict[str, object]:
    """Slowest nodes of the job's `dbt build` (dagster-dbt's fixed target folder)."""
    path = home / "dbt_project" / "target" / "dagster_run" / "run_results.json"
    if not path.exists():
        return {}
    results = json.loads(path.read_text("utf-8"))
    nodes = sorted(((r["unique_id"].split(".", 2)[-1], round(r["execution_time"], 1))
                    for r in results["results"]), key=lambda n: -n[1])
    return {"dbt_elapsed_seconds": round(results["elapsed_time"], 1), "slowest": nodes[:top]}


def grouped(steps: dict[str, float]) -> dict[str, float]:
    """Step seconds as ingestion, dbt and outputs."""
    out = {"ingestion": 0.0, "dbt": 0.0, "outputs": 0.0}
    for key, seconds in steps.items():
        part = ("ingestion" if key.startswith("raw") else
                "dbt" if "dbt" in key else "outputs")
        out[part] = round(out[part] + seconds, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ss.add_data_arguments(parser)
    parser.add_argument("--ingest", choices=["real", "raw-load"], default="real")
    parser.add_argument("--memory-cap-gb", type=float, default=8.0)
    parser.add_argument("--result", default="scale", help="bench/results/<name>.json")
    args = parser.parse_args()

    work = ss.WORK / "scale_job"
    shutil.rmtree(work / "home" / "data", ignore_errors=True)
    home = ss.build_home(work)
    ss.use_home(home, args.threads)
    env = ss.home_env(home, args.threads) | {"POCMON_DUCKDB_MEMORY_LIMIT": args.memory_limit}
    cap = args.memory_cap_gb * 1024
    logs = work / "logs"
    from pipelines.demo.bulk import BULK_START

    machine_before = ss.machine()
    print(f"generate: {args.patrols:,} patrols, {args.incidents:,} incidents, "
          f"{args.weeks} weeks...", flush=True)
    generate = ss.timed_run(pocmon("demo", "--patrols", str(args.patrols), "--incidents",
                                   str(args.incidents), "--weeks", str(args.weeks),
                                   "--seed", str(args.seed), "--no-run"), env,
                            logs / "generate.log")
    preload = None
    if args.ingest == "raw-load":
        print("raw load of patrols and incidents (bench only)...", flush=True)
        preload = ss.timed_run([sys.executable, "-c", (
            f"import sys; sys.path.insert(0, {str(ss.REPO / 'bench')!r})\n"
            "import scale_setup as ss\n"
            "from pipelines.config import get_settings\n"
            "from pipelines.ingest.warehouse import connect\n"
            "from pipelines.reference import load_reference\n"
            "s, r = get_settings(), load_reference()\n"
            "with connect(s.paths.warehouse) as con:\n"
            "    [ss.raw_load(con, s.paths.inbox, x, r) for x in ('patrols', 'incidents')]\n")],
            env | {"POCMON_DUCKDB_MEMORY_LIMIT": args.memory_limit}, logs / "raw_load.log")
    print("full job: pocmon run...", flush=True)
    full = ss.timed_run(pocmon("run"), env, logs / "full_run.log", memory_cap_mb=cap)
    full |= last_run_steps(home) | dbt_nodes(home)

    start = BULK_START + dt.timedelta(days=7 * args.weeks)
    print(f"one more week from {start}...", flush=True)
    added = ss.timed_run(pocmon("demo", "--patrols", str(args.patrols // args.weeks),
                                "--incidents", str(args.incidents // args.weeks), "--weeks",
                                "1", "--start", start.isoformat(), "--seed", str(args.seed),
                                "--keep", "--no-run"), env, logs / "add_week.log")
    print("incremental job: pocmon run...", flush=True)
    incremental = ss.timed_run(pocmon("run"), env, logs / "incremental_run.log",
                               memory_cap_mb=cap)
    incremental |= last_run_steps(home) | dbt_nodes(home)
    print("nothing new: pocmon run once more...", flush=True)
    idle = ss.timed_run(pocmon("run"), env, logs / "idle_run.log", memory_cap_mb=cap)
    idle |= last_run_steps(home)

    def row(name: str, run: dict) -> tuple:
        parts = grouped(run.get("steps", {}))
        state = ("killed (memory cap)" if run.get("killed_over_memory_cap")
                 else "ok" if run["returncode"] == 0 else f"exit {run['returncode']}")
        return (name, run["seconds"], run["peak_mb"], parts["ingestion"], parts["dbt"],
                parts["outputs"], state)

    rows = [("generate (bulk demo)", generate["seconds"], generate["peak_mb"], "", "", "",
             "ok" if generate["returncode"] == 0 else "failed")]
    if preload:
        rows.append(("raw load (bench, before the job)", preload["seconds"],
                     preload["peak_mb"], "", "", "", "ok" if preload["returncode"] == 0
                     else "failed"))
    rows += [row("full job (pocmon run)", full),
             row("incremental job, one new week (pocmon run)", incremental),
             row("nothing new in the inbox (pocmon run)", idle)]
    print()
    print(ss.table(rows, ("step", "wall s", "peak MB", "ingestion s", "dbt s", "outputs s",
                          "result")))
    ratio = (incremental["seconds"] / full["seconds"]) if full["seconds"] else None
    targets = {
        "full_job_at_most_300_s": full["returncode"] == 0 and full["seconds"] <= 300,
        "full_job_peak_at_most_4096_mb": full["returncode"] == 0 and full["peak_mb"] <= 4096,
        "incremental_at_most_10_percent": (full["returncode"] == 0
                                           and incremental["returncode"] == 0
                                           and ratio is not None and ratio <= 0.10),
    }
    idle_ratio = (idle["seconds"] / full["seconds"]) if full["seconds"] else None
    print(f"\nincremental / full = {ratio:.3f}; nothing new / full = {idle_ratio:.3f}; "
          f"targets: {json.dumps(targets)}")
    for name, run in (("full", full), ("incremental", incremental), ("nothing new", idle)):
        print(f"{name} steps: {json.dumps(run.get('steps', {}))}")
        print(f"{name} slowest dbt nodes: {run.get('slowest', [])}")
    path = ss.write_result(args.result, {
        "bench": "scale", "args": vars(args), "machine_before": machine_before,
        "machine_after": ss.machine(), "generate": generate, "raw_load": preload,
        "full": full, "added_week": added, "incremental": incremental,
        "incremental_over_full": None if ratio is None else round(ratio, 3),
        "nothing_new": idle,
        "nothing_new_over_full": None if idle_ratio is None else round(idle_ratio, 3),
        "targets": targets,
    })
    print(f"wrote {path.relative_to(ss.REPO)}")


if __name__ == "__main__":
    main()
