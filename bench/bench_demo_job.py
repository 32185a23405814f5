"""Time the demo job and each of its stages; print a table and write bench/results/demo_job.json.

    .venv/bin/python bench/bench_demo_job.py [--weeks 52] [--seed 7]

Stages are timed one by one on a fresh warehouse (generate, validate and ingest per source,
dbt build, outputs), then the whole weekly job is timed through Dagster as `pocmon demo` runs
it, on a second fresh warehouse with the same files. Everything runs in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def _point_at(base: Path) -> None:
    """Send every pocmon path and the Dagster instance to ``base`` (before pocmon imports)."""
    home = base / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    os.environ.update({
        "POCMON_INBOX": str(base / "inbox"),
        "POCMON_WAREHOUSE": str(base / "warehouse" / "pocmon.duckdb"),
        "POCMON_PUBLISHED": str(base / "published"),
        "POCMON_KEY_FILE": str(base / "secrets" / "pseudonym.key"),
        "POCMON_DEMO_TRUTH": str(base / "demo" / "demo_truth.json"),
        "DAGSTER_HOME": str(home),
        "GX_ANALYTICS_ENABLED": "false",
    })


def _peak_mb() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"python_peak_mb": round(own, 1), "subprocess_peak_mb": round(children, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="pocmon-bench-"))
    _point_at(base)
    from pipelines.config import DBT_PROJECT_DIR, SOURCES, get_settings
    from pipelines.demo.generator import generate_demo
    from pipelines.ingest.load import ingest_source
    from pipelines.ingest.pseudonymise import load_or_create_key
    from pipelines.ingest.warehouse import connect
    from pipelines.reference import load_reference

    settings = get_settings()
    timings: list[tuple[str, float, str]] = []

    def timed(stage: str, detail: str = ""):
        class _Timer:
            def __enter__(self):
                self.start = time.perf_counter()
                return self

            def __exit__(self, *exc):
                timings.append((stage, time.perf_counter() - self.start, detail))

        return _Timer()

    try:
        with timed("generate demo files"):
            summary = generate_demo(settings.paths.inbox, weeks=args.weeks, seed=args.seed,
                                    truth_path=settings.paths.demo_truth)
        rows_total = sum(summary.rows.values())
        reference = load_reference()
        key = load_or_create_key(settings.paths.key_file)
        ingest_start = time.perf_counter()
        with connect(settings.paths.warehouse) as con:
            for source in SOURCES:
                start = time.perf_counter()
                report = ingest_source(con, source, settings.paths.inbox, reference, key,
                                       extensions=settings.inbox.extensions)
                timings.append((f"  validate + ingest {source}", time.perf_counter() - start,
                                f"{report.total('rows_read'):,} rows, "
                                f"{len(report.files)} files"))
        timings.append(("validate + ingest (all sources)", time.perf_counter() - ingest_start,
                        f"{rows_total:,} rows"))
        with timed("dbt build (models + tests)"):
            subprocess.run(
                [sys.executable, "-c", "from dbt.cli.main import cli; cli()", "build",
                 "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                 "--target-path", str(base / "dbt_target"), "--quiet"],
                check=True, cwd=DBT_PROJECT_DIR,
            )
        from dashboards.quarantine_report import build_quarantine_report

        with timed("outputs (quarantine report)"), connect(settings.paths.warehouse) as con:
            build_quarantine_report(con, settings.paths.published / "quarantine")

        # The whole job as `pocmon demo` runs it: same files, fresh warehouse, through Dagster.
        shutil.rmtree(settings.paths.warehouse.parent)
        shutil.rmtree(settings.paths.published, ignore_errors=True)
        from pipelines.cli import run_weekly_job

        with timed("full weekly job through Dagster", "ingest + dbt build + outputs"):
            outcome = run_weekly_job("bench")
        if not outcome["success"]:
            raise SystemExit("the weekly job failed; see the messages above")
    finally:
        shutil.rmtree(base, ignore_errors=True)

    result = {
        "benchmark": "demo_job",
        "weeks": args.weeks,
        "seed": args.seed,
        "rows_generated": rows_total,
        "files_generated": len(summary.files),
        "stages": [{"stage": s.strip(), "seconds": round(t, 2), "detail": d}
                   for s, t, d in timings],
        **_peak_mb(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "demo_job.json").write_text(json.dumps(result, indent=2) + "\n")

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"pocmon demo job, {args.weeks} weeks, {rows_total:,} rows")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("detail")
    for stage, seconds, detail in timings:
        table.add_row(stage, f"{seconds:.2f}", detail)
    console = Console()
    console.print(table)
    console.print(f"peak memory: {result['python_peak_mb']} MB (this process), "
                  f"{result['subprocess_peak_mb']} MB (largest subprocess)")
    console.print(f"written to {RESULTS / 'demo_job.json'}")


if __name__ == "__main__":
    main()
