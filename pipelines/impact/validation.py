"""Check the estimators against the effects the demo plants (tests and bench).

Planted values per estimand (``pipelines.demo.effects``, at scale ``effect``):

* presence_rate_ratio: DETERRENCE_RATE_RATIO ** effect, exactly the planted mechanism.
* programme_rate_ratio: not a planted number but implied by it: regular patrols raise the share
  of site-days with presence, so incidents fall by a site-specific factor. The target is the
  same Poisson difference-in-differences fitted to the simulator's *expected* incidents (the
  pseudo-true value given the realised patrols and the inferred start weeks); 1 when effect=0.
* minutes_per_km, range_*_vs_short: RESPONSE_MINUTES_PER_KM and RESPONSE_RANGE_MINUTES
  differences, times effect; mode_* contrasts: 0 (no mode effect is planted).
* feels_safe_share: PERCEPTION_FEELS_SAFE_GAIN x effect.
* trust_unpol_mean: derived from the simulator: trust_unpol = clip(feels_safe + U{-1,0,1}, 1,
  5) with feels_safe uniform on {4,5} when "high" and on {1,2,3} otherwise, so its mean is
  13/3 when high and 19/9 otherwise; the gain is PERCEPTION_FEELS_SAFE_GAIN x effect x 20/9.
* trusts_host_police_share, would_report_share: 0 (nothing planted).
* share_within_target: descriptive, no planted value.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from pipelines.demo import effects as fx
from pipelines.impact.demo_frames import DemoMarts, demo_marts
from pipelines.impact.deterrence import site_week_panel
from pipelines.impact.estimates import ALL, estimate_all
from pipelines.impact.fitting import NotEstimable, count_fe
from pipelines.impact.options import ImpactOptions
from pipelines.impact.panels import programme_starts
from pipelines.reference import Reference

TRUST_UNPOL_PER_HIGH = 13 / 3 - 19 / 9  # = 20/9


def planted_value(estimand: str, effect: float) -> float | None:
    """The planted value of an estimand at a given effect scale (None if there is none)."""
    if estimand == "presence_rate_ratio":
        return fx.DETERRENCE_RATE_RATIO**effect
    if estimand == "minutes_per_km":
        return fx.RESPONSE_MINUTES_PER_KM * effect
    if estimand.startswith("range_") and estimand.endswith("_vs_short"):
        level = estimand.removeprefix("range_").removesuffix("_vs_short")
        return (fx.RESPONSE_RANGE_MINUTES[level] - fx.RESPONSE_RANGE_MINUTES["short"]) * effect
    if estimand.startswith("mode_"):
        return 0.0
    if estimand == "feels_safe_share":
        return fx.PERCEPTION_FEELS_SAFE_GAIN * effect
    if estimand == "trust_unpol_mean":
        return fx.PERCEPTION_FEELS_SAFE_GAIN * effect * TRUST_UNPOL_PER_HIGH
    if estimand in ("trusts_host_police_share", "would_report_share"):
        return 0.0
    return None


def implied_programme_ratio(demo: DemoMarts, mission_id: str,
                            options: ImpactOptions) -> float:
    """The programme difference-in-differences fitted to expected, not drawn, incidents."""
    frames = demo.frames
    if mission_id != ALL:
        frames = {k: f[f["mission_id"] == mission_id] for k, f in frames.items()}
    starts = programme_starts(frames["fct_patrols"], frames["fct_site_weeks"], options)
    panel = site_week_panel(frames, starts)
    truth = demo.site_days
    monday = truth["date"] - pd.to_timedelta(truth["date"].dt.weekday, unit="D")
    expected = (truth.assign(site=truth["mission_id"] + "|" + truth["site_id"],
                             week=truth["mission_id"] + "|" + monday.dt.strftime("%Y-%m-%d"))
                .groupby(["site", "week"])["expected_incidents"].sum())
    panel["incidents"] = expected.reindex(pd.MultiIndex.from_frame(
        panel[["site", "week"]])).to_numpy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # non-integer counts, on purpose
            fit = count_fe(panel, "incidents", ["post"], ["site", "week"], "mission_id",
                           "site", min_clusters=2)
    except NotEstimable:
        return float("nan")
    return float(np.exp(fit.params[0]))


def run_seed(seed: int, weeks: int, effect: float, options: ImpactOptions | None = None,
             by_mission: bool = True, reference: Reference | None = None) -> pd.DataFrame:
    """Simulate one demo, estimate everything, and set each estimate beside its planted value.

    Adds: seed, effect, weeks, planted, covered (the CI holds the planted value), seconds
    (estimation time of the whole table, on every row).
    """
    options = options or ImpactOptions()
    demo = demo_marts(weeks, seed, effect, reference)
    start = time.perf_counter()
    table = estimate_all(demo.frames, options, by_mission=by_mission)
    seconds = time.perf_counter() - start
    planted = []
    for row in table.itertuples():
        if row.estimand == "programme_rate_ratio":
            planted.append(implied_programme_ratio(demo, row.mission_id, options))
        else:
            value = planted_value(row.estimand, effect)
            planted.append(np.nan if value is None else value)
    table["planted"] = planted
    covered = (table["ci_low"] <= table["planted"]) & (table["planted"] <= table["ci_high"])
    table["covered"] = covered.astype("boolean").mask(table["planted"].isna())
    return table.assign(seed=seed, effect=effect, weeks=weeks, seconds=seconds)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per effect, estimand and mission: coverage, mean estimate and planted value, the share
    of runs with a detectable effect and with a rejected pre-trend."""
    runs = runs.assign(covered=runs["covered"].astype(float),
                       detectable=runs["detectable"].astype(float),
                       pretrend_rejected=(runs["pretrend_p"] < 0.05).where(
                           runs["pretrend_p"].notna()).astype(float))
    return (runs.groupby(["effect", "question", "estimand", "mission_id"], sort=False)
            .agg(runs=("seed", "size"), coverage=("covered", "mean"),
                 mean_estimate=("estimate", "mean"), planted=("planted", "mean"),
                 detect_rate=("detectable", "mean"),
                 pretrend_reject_rate=("pretrend_rejected", "mean"),
                 seconds=("seconds", "mean"))
            .reset_index())
