"""dbt at scale: `dbt build` on 10M patrols and 2M incidents, per model; then incrementally.

    .venv/bin/python bench/bench_dbt_scale.py [--patrols 10000000] [--incidents 2000000]
        [--weeks 260] [--threads 2] [--memory-limit 2GB] [--reuse]

In the bench's four-mission project home (bench/work/scale/home, see scale_setup.py): bulk
inbox files, patrols and incidents loaded straight into the raw tables (a DuckDB raw load, not
ingestion: this bench measures dbt), the small sources through ingestion. Then three builds,
each timed with the peak memory of dbt's process and its per-node times (run_results.json):

1. full: `dbt build` on the fresh warehouse (every model, seed and test);
2. new week: one more week of files loaded, `dbt build` again (incremental marts);
3. superseded: corrected re-submissions of one week's patrol and incident files (same names,
   other rows) replace the loaded ones, `dbt build`; the incremental marts must then hold
   exactly the raw rows (checked).

Prints a table and writes bench/results/dbt_scale.json. ``--reuse`` keeps the generated
files and the loaded warehouse of a previous run (a copy is kept as raw_only.duckdb).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
from pathlib import Path

import scale_setup as ss

TOP = 8


def dbt_build(home: Path, env: dict[str, str], name: str, work: Path) -> dict[str, object]:
    """One timed `dbt build`; wall time, peak memory, node times (slowest first)."""
    project = home / "dbt_project"
    target = f"target/bench_{name}"
    shutil.rmtree(project / target, ignore_errors=True)
    command = [str(Path(sys.executable).with_name("dbt")), "build", "--project-dir",
               str(project), "--profiles-dir", str(project), "--target-path", target]
    outcome = ss.timed_run(command, env, work / f"dbt_{name}.log")
    results = json.loads((project / target / "run_results.json").read_text("utf-8"))
    nodes = sorted(((r["unique_id"].split(".", 2)[-1], round(r["execution_time"], 2),
                     r["status"]) for r in results["results"]), key=lambda n: -n[1])
    failed = [n for n in nodes if n[2] not in ("success", "pass")]
    return {**outcome, "dbt_elapsed_seconds": round(results["elapsed_time"], 1),
            "node_seconds": round(sum(n[1] for n in nodes), 1), "nodes": len(nodes),
            "failed": failed, "slowest": nodes[:TOP],
            "models": {n[0]: n[1] for n in nodes if not n[0].startswith(("test", "unit_test"))}}


def add_week(patrols: int, incidents: int, weeks: int, seed: int) -> list[str]:
    """One more week of bulk files after the history, loaded (raw load + small sources)."""
    from pipelines.config import get_settings
    from pipelines.demo.bulk import BULK_START, generate_bulk
    from pipelines.ingest.warehouse import connect
    from pipelines.reference import load_reference

    settings, reference = get_settings(), load_reference()
    start = BULK_START + dt.timedelta(days=7 * weeks)
    generate_bulk(settings.paths.inbox, patrols=patrols // weeks, incidents=incidents // weeks,
                  weeks=1, seed=seed, start=start, reference=reference)
    label = f"{start.isocalendar().year}-W{start.isocalendar().week:02d}"
    with connect(settings.paths.warehouse) as con:
        for source in ("patrols", "incidents"):
            files = sorted((settings.paths.inbox / source).glob(f"*_{label}_*.csv"))
            ss.raw_load(con, settings.paths.inbox, source, reference, files=files)
        ss.ingest_small_sources(con, settings.paths.inbox, reference, settings.paths.key_file)
    return [label]


def supersede_week(patrols: int, incidents: int, weeks: int, seed: int) -> dict[str, int]:
    """Corrected re-submissions of week 10's patrol and incident files of every mission."""
    from pipelines.config import get_settings
    from pipelines.demo.bulk import BULK_START, generate_bulk
    from pipelines.ingest.warehouse import connect
    from pipelines.reference import load_reference

    settings, reference = get_settings(), load_reference()
    start = BULK_START + dt.timedelta(days=7 * 9)
    replaced: list[Path] = []
    with tempfile.TemporaryDirectory(dir=ss.WORK) as folder:
        generate_bulk(Path(folder), patrols=patrols // weeks, incidents=incidents // weeks,
                      weeks=1, seed=seed + 1000, start=start, reference=reference)
        for source in ("patrols", "incidents"):
            for path in sorted((Path(folder) / source).glob("*.csv")):
                target = settings.paths.inbox / source / path.name
                shutil.copy2(path, target)
                replaced.append(target)
    with connect(settings.paths.warehouse) as con:
        for source in ("patrols", "incidents"):
            ss.raw_load(con, settings.paths.inbox, source, reference,
                        files=[p for p in replaced if p.parent.name == source])
    return {"files_replaced": len(replaced)}


def check_marts() -> dict[str, object]:
    """The incremental marts hold exactly the raw rows (no superseded file left)."""
    import duckdb

    from pipelines.config import get_settings

    con = duckdb.connect(str(get_settings().paths.warehouse), read_only=True)
    try:
        out = {}
        for mart, source in (("fct_patrols", "patrols"), ("fct_incidents", "incidents")):
            rows, raw, stale = con.execute(f"""
                select (select count(*) from marts.{mart}), (select count(*) from raw.{source}),
                       (select count(*) from marts.{mart} where file_id in (
                           select file_id from ops.manifest where status = 'superseded'))
            """).fetchone()
            out[mart] = {"rows": rows, "raw_rows": raw, "rows_of_superseded_files": stale,
                         "ok": rows == raw and stale == 0}
        return out
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ss.add_data_arguments(parser)
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the files and raw-loaded warehouse of a previous run")
    args = parser.parse_args()

    home = ss.build_home(ss.WORK / "scale")
    ss.use_home(home, args.threads)
    env = ss.home_env(home, args.threads) | {"POCMON_DUCKDB_MEMORY_LIMIT": args.memory_limit}
    from pipelines.config import get_settings

    warehouse = get_settings().paths.warehouse
    snapshot = warehouse.with_name("raw_only.duckdb")
    work = ss.WORK / "scale" / "logs"
    prepared: dict[str, object] = {"reused": True}
    if not (args.reuse and snapshot.exists()):
        print(f"Generating {args.patrols:,} patrols and {args.incidents:,} incidents "
              f"({args.weeks} weeks) and loading the raw tables...", flush=True)
        prepared = ss.prepare_warehouse(args.patrols, args.incidents, args.weeks, args.seed)
        shutil.copy2(warehouse, snapshot)
    else:
        shutil.copy2(snapshot, warehouse)
        for extra in warehouse.parent.glob("pocmon.duckdb.wal"):
            extra.unlink()
        # files of weeks added by an earlier run would be loaded again: drop them
        from pipelines.demo.bulk import BULK_START

        last = BULK_START + dt.timedelta(days=7 * (args.weeks - 1))
        for path in get_settings().paths.inbox.rglob("*.csv"):
            stamp = path.stem.split("_")[1]
            if "-W" in stamp and dt.date.fromisocalendar(
                    int(stamp[:4]), int(stamp[6:]), 1) > last:
                path.unlink()
    machine_before = ss.machine()
    print("dbt build (full)...", flush=True)
    full = dbt_build(home, env, "full", work)
    print("dbt build (one new week)...", flush=True)
    added = add_week(args.patrols, args.incidents, args.weeks, args.seed)
    week = dbt_build(home, env, "new_week", work)
    print("dbt build (superseded files)...", flush=True)
    replaced = supersede_week(args.patrols, args.incidents, args.weeks, args.seed)
    superseded = dbt_build(home, env, "superseded", work)
    checked = check_marts()
    runs = {"full": full, "new_week": week, "superseded": superseded}

    rows = [(name, run["seconds"], run["dbt_elapsed_seconds"], run["node_seconds"],
             run["peak_mb"], ", ".join(f"{n} {s:.0f}s" for n, s, _ in run["slowest"][:3]))
            for name, run in runs.items()]
    print()
    print(ss.table(rows, ("dbt build", "wall s", "dbt elapsed s", "sum of nodes s",
                          "peak MB", "slowest nodes")))
    models = sorted(full["models"], key=lambda m: -full["models"][m])[:TOP]
    print()
    print(ss.table([(m, full["models"][m], week["models"].get(m, ""),
                     superseded["models"].get(m, "")) for m in models],
                   ("model", "full s", "new week s", "superseded s")))
    print(f"\nincremental marts after the supersession: {json.dumps(checked)}")
    failed = [n for run in runs.values() for n in run["failed"]]
    if failed:
        print(f"FAILED nodes: {failed}")
    path = ss.write_result("dbt_scale", {
        "bench": "dbt_scale", "args": vars(args), "machine_before": machine_before,
        "machine_after": ss.machine(), "prepared": prepared, "added_week": added,
        "replaced": replaced, "runs": runs, "incremental_marts": checked,
    })
    print(f"wrote {path.relative_to(ss.REPO)}")


if __name__ == "__main__":
    main()
