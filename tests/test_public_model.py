"""The mission-month count model: civilians killed in one-sided violence against UN police a
month earlier, on synthetic panels with a planted rate ratio (and without one)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from pipelines.demo.public_panel import simulate_mission_months
from pipelines.impact.estimates import estimate_all
from pipelines.impact.fitting import hac_cov
from pipelines.impact.mission_months import police_strength_estimates
from pipelines.impact.options import ImpactOptions
from pipelines.impact.result import COLUMNS

PLANTED = 0.85  # rate ratio per 100 police in the previous month
OPTIONS = ImpactOptions()


def _estimates(missions: int, months: int, irr: float, seed: int = 3, **options) -> dict:
    panel = simulate_mission_months([f"M{i:02d}" for i in range(missions)], months, seed=seed,
                                    police_irr=irr)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        rows = police_strength_estimates({"fct_mission_months": panel}, "ALL",
                                         ImpactOptions(**options))
    return {row.estimand: row for row in rows}


def test_recovers_the_planted_rate_ratio_clustered_by_mission() -> None:
    rows = _estimates(30, 48, PLANTED)
    police = rows["police_irr_per_100"]
    assert police.ci_low < PLANTED < police.ci_high
    assert police.estimate < 1 and police.ci_high < 1 and police.detectable
    assert police.sentence_en.startswith("Clear evidence: each additional 100 UN police")
    assert "fewer civilians killed" in police.sentence_en
    assert "30 missions" in police.sentence_en and "1,440 mission-months" in police.sentence_en
    assert police.sentence_fr.startswith("Éléments solides : chaque tranche de 100 policiers")
    assert "clustered by mission (CR3" in police.method
    assert "Hultman, Kathman & Shannon (2013)" in police.method
    assert "not proof of cause" in police.caveat_en and "pas la preuve" in police.caveat_fr
    # the other family agrees, and troops (no effect planted) are not taken for one
    poisson = rows["police_irr_per_100_poisson"]
    assert poisson.ci_low < PLANTED < poisson.ci_high
    assert rows["troops_irr_per_100"].ci_low < 1 < rows["troops_irr_per_100"].ci_high


def test_says_no_detectable_association_without_an_effect() -> None:
    police = _estimates(30, 48, 1.0)["police_irr_per_100"]
    assert police.ci_low < 1 < police.ci_high and not police.detectable
    assert police.sentence_en.startswith("No detectable association between the number of UN "
                                         "police")
    assert "fewer" not in police.sentence_en and "more" not in police.sentence_en
    assert police.sentence_fr.startswith("Aucune association détectable")


@pytest.mark.parametrize("irr", [PLANTED, 1.0])
def test_few_missions_cluster_by_mission_and_block_of_months(irr: float) -> None:
    police = _estimates(2, 120, irr, seed=5)["police_irr_per_100"]
    assert police.ci_low < irr < police.ci_high
    assert police.detectable == (irr != 1.0)
    assert "clustered by mission and 6-month block (CR3 cluster jackknife, 40 blocks" \
        in police.method
    assert "cannot be clustered by mission" in police.caveat_en
    assert "(clusters)" not in police.caveat_en  # 40 blocks: not few
    assert "240 mission-months, 40 6-month blocks" in police.sentence_en


def test_newey_west_option_and_too_few_blocks() -> None:
    police = _estimates(2, 120, PLANTED, seed=5, panel_few_missions="hac")["police_irr_per_100"]
    assert police.ci_low < PLANTED < police.ci_high
    assert "Newey-West (HAC) within each mission's series, 4 lag(s)" in police.method
    assert "(clusters)" not in police.caveat_en and "2 missions" in police.sentence_en
    short = _estimates(1, 48, PLANTED)["police_irr_per_100"]  # 8 six-month blocks
    assert short.sentence_en == ("Could not be estimated: 8 blocks of 6 months, fewer than "
                                 "the 10 needed to cluster the errors.")


def test_options_poisson_and_month_fixed_effects() -> None:
    rows = _estimates(30, 48, PLANTED, panel_family="poisson", panel_month_fe=True)
    police = rows["police_irr_per_100"]
    assert police.method.startswith("Poisson regression")
    assert "calendar-month fixed effects" in police.method
    assert police.ci_low < PLANTED < police.ci_high
    assert "police_irr_per_100_negbin" in rows


def test_missing_lags_leave_months_out_and_too_few_are_not_estimated() -> None:
    panel = simulate_mission_months(["M00"], 30, seed=1, police_irr=PLANTED)
    panel.loc[panel.index[5:12], "police_lag1"] = np.nan  # months after a gap
    rows = police_strength_estimates({"fct_mission_months": panel}, "ALL", OPTIONS)
    assert {r.n_obs for r in rows} == {0}
    assert rows[0].sentence_en.startswith("Could not be estimated: 23 mission-months")
    empty = police_strength_estimates({"fct_mission_months": panel.iloc[0:0]}, "ALL", OPTIONS)
    assert "pocmon import-public" in empty[0].sentence_en and math.isnan(empty[0].estimate)


def test_hac_without_lags_is_the_sandwich() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(50), rng.normal(size=50)])
    r = rng.normal(size=50)
    w = np.ones(50)
    units = pd.Series(["a"] * 25 + ["b"] * 25)
    times = pd.Series(list(range(25)) * 2)
    bread = np.linalg.inv(x.T @ x)
    sandwich = 50 / 48 * bread @ (x * r[:, None]).T @ (x * r[:, None]) @ bread
    assert np.allclose(hac_cov(x, w, r, units, times, 0), sandwich)
    # a gap in time is not bridged: shuffling rows changes nothing
    order = rng.permutation(50)
    assert np.allclose(hac_cov(x[order], w[order], r[order], units[order], times[order], 3),
                       hac_cov(x, w, r, units, times, 3))


def test_estimate_all_adds_the_rows_in_the_common_columns(small_demo_frames) -> None:
    frames = dict(small_demo_frames)
    frames["fct_mission_months"] = simulate_mission_months(["MINUSCA", "UNMISS"], 36, seed=2)
    table = estimate_all(frames, by_mission=False)
    assert list(table.columns) == COLUMNS
    rows = table[table["question"] == "police_strength"]
    assert set(rows["estimand"]) == {"police_irr_per_100", "troops_irr_per_100",
                                     "police_irr_per_100_poisson"}
    assert (rows["unit"] == "rate_ratio").all() and (rows["null_value"] == 1).all()
    assert table["estimate_id"].is_unique


@pytest.fixture(scope="module")
def small_demo_frames() -> dict:
    from pipelines.impact.demo_frames import demo_marts

    return demo_marts(weeks=6, seed=3).frames
