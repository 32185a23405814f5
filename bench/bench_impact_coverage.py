"""Check the impact estimators against the demo's planted effects, over many seeds; print a
table and write bench/results/impact_coverage.json.

    .venv/bin/python bench/bench_impact_coverage.py [--weeks 52] [--seeds 40] [--first-seed 0]

Each seed simulates the demo in memory (``pipelines.impact.demo_frames``, the same draws as
``pocmon demo --seed``) at effect 1 and at effect 0, and runs ``estimate_all`` on the mart-shaped
frames. Per estimand and scope (all missions pooled, then each mission): how often the 95% CI
covers the planted value, the mean estimate, the planted value, how often effect 0 is reported
as "no detectable effect", how often the pre-trend test rejects, and the estimation time.
Targets: coverage >= 0.85 and no-detect rate under effect 0 >= 0.85.
"""

from __future__ import annotations

import os

# The estimators make many small matrix solves: threads only add contention (on a busy
# 2-CPU machine multi-threaded OpenBLAS made them 50x slower). Set before numpy loads.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
TARGET = 0.85


def _rate(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.2f}"


def _number(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()

    from pipelines.impact.options import ImpactOptions
    from pipelines.impact.validation import run_seed, summarise
    from pipelines.reference import load_reference

    reference = load_reference()
    options = ImpactOptions()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    runs = []
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for effect in (1.0, 0.0):
            for seed in seeds:
                runs.append(run_seed(seed, args.weeks, effect, options, reference=reference))
    wall = time.perf_counter() - start
    runs = pd.concat(runs, ignore_index=True)
    summary = summarise(runs)
    one, zero = (summary[summary["effect"] == e].set_index(
        ["question", "estimand", "mission_id"]) for e in (1.0, 0.0))
    null_columns = ["coverage", "mean_estimate", "detect_rate", "pretrend_reject_rate"]
    table = one[["runs", "coverage", "mean_estimate", "planted", "detect_rate",
                 "pretrend_reject_rate", "seconds"]].join(
        zero[null_columns].rename(columns=lambda c: f"{c}_null"))
    table["no_detect_rate_null"] = 1 - table["detect_rate_null"]
    table["meets_targets"] = [
        None if pd.isna(c) else bool(c >= TARGET and c0 >= TARGET and nd >= TARGET)
        for c, c0, nd in zip(table["coverage"], table["coverage_null"],
                             table["no_detect_rate_null"], strict=True)]
    table = table.reset_index()

    result = {
        "benchmark": "impact_coverage",
        "weeks": args.weeks,
        "seeds": list(seeds),
        "effects": [1.0, 0.0],
        "target": {"coverage": TARGET, "no_detect_rate_null": TARGET},
        "options": {k: getattr(options, k) for k in options.__dataclass_fields__},
        "estimands": json.loads(table.to_json(orient="records")),
        "all_targets_met": bool(table["meets_targets"].dropna().all()),
        "wall_seconds": round(wall, 1),
        "python_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "impact_coverage.json").write_text(json.dumps(result, indent=2) + "\n")

    from rich.console import Console
    from rich.table import Table

    out = Table(title=f"impact estimators vs planted effects: {args.seeds} seeds x effect "
                      f"1 and 0, {args.weeks} weeks")
    for name, justify in [("estimand", "left"), ("scope", "left"), ("coverage", "right"),
                          ("mean est.", "right"), ("planted", "right"), ("power", "right"),
                          ("cov. (eff 0)", "right"), ("no-detect (eff 0)", "right"),
                          ("pre-trend rej. 1/0", "right"), ("s/run", "right"), ("ok", "left")]:
        out.add_column(name, justify=justify)
    for row in table.itertuples():
        pretrend = ("" if pd.isna(row.pretrend_reject_rate) else
                    f"{row.pretrend_reject_rate:.2f}/{row.pretrend_reject_rate_null:.2f}")
        ok = "" if row.meets_targets is None else ("yes" if row.meets_targets else "NO")
        out.add_row(f"{row.question}.{row.estimand}", row.mission_id, _rate(row.coverage),
                    _number(row.mean_estimate), _number(row.planted), _rate(row.detect_rate),
                    _rate(row.coverage_null), _rate(row.no_detect_rate_null), pretrend,
                    f"{row.seconds:.2f}", ok)
    console = Console(width=160)
    console.print(out)
    console.print(f"all targets met: {result['all_targets_met']}; {len(runs):,} estimates in "
                  f"{wall:.0f} s; written to {RESULTS / 'impact_coverage.json'}")


if __name__ == "__main__":
    main()
