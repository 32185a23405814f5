"""Check the mission-month count model (police strength against civilian deaths) on synthetic
panels with a planted rate ratio; print a table and write bench/results/panel_coverage.json.

    .venv/bin/python bench/bench_panel_coverage.py [--seeds 100]

For each case (missions x months, and how the errors are computed: clustered by mission with
30 missions; by mission and 6-month block, or Newey-West, with one or two), it simulates
``pipelines.demo.public_panel`` at rate ratio 0.85 per 100 police and at 1 (none), fits
``police_strength_estimates`` and reports how often the 95% CI covers the planted value, how
often the estimate is called detectable, and the mean estimate.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CASES = [  # missions, months, errors when there are too few missions to cluster on
    (30, 48, "blocks"), (2, 48, "blocks"), (2, 48, "hac"), (1, 60, "blocks"), (1, 60, "hac"),
]
PLANTED = (0.85, 1.0)


def run(seeds: int) -> list[dict]:
    import numpy as np

    from pipelines.demo.public_panel import simulate_mission_months
    from pipelines.impact.mission_months import police_strength_estimates
    from pipelines.impact.options import ImpactOptions

    rows = []
    for missions, months, few in CASES:
        options = ImpactOptions(panel_few_missions=few)
        for irr in PLANTED:
            started = time.monotonic()
            covered = detected = 0
            estimates = []
            for seed in range(seeds):
                panel = simulate_mission_months([f"M{i:02d}" for i in range(missions)], months,
                                                seed=seed, police_irr=irr)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row = police_strength_estimates({"fct_mission_months": panel}, "ALL",
                                                    options)[0]
                covered += row.ci_low < irr < row.ci_high
                detected += bool(row.detectable)
                estimates.append(row.estimate)
            rows.append({
                "missions": missions, "months": months,
                "errors": "mission clusters" if missions >= options.min_clusters else few,
                "planted": irr, "seeds": seeds, "coverage": covered / seeds,
                "detect_rate": detected / seeds, "mean_estimate": float(np.mean(estimates)),
                "seconds_per_fit": (time.monotonic() - started) / seeds,
            })
            print(f"{missions:>3} x {months:>3} {rows[-1]['errors']:<16} planted {irr:.2f}: "
                  f"coverage {rows[-1]['coverage']:.2f}, detected {rows[-1]['detect_rate']:.2f}"
                  f", mean {rows[-1]['mean_estimate']:.3f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    rows = run(args.seeds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "panel_coverage.json"
    out.write_text(json.dumps({
        "measured_at": time.strftime("%Y-%m-%d"), "machine": platform.platform(),
        "cpus": os.cpu_count(), "cases": rows}, indent=1), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
