"""Settings of the impact estimators, with the reasons for their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ImpactOptions:
    """How the estimators define exposure, detect programmes and report uncertainty."""

    # Presence: a planned (not alert-response) patrol started at the site on one of the
    # previous `presence_window_days` days (the day itself excluded), as the demo plants it.
    presence_window_days: int = 3
    # Count model of the deterrence panel: Poisson (robust to overdispersion with clustered
    # errors) or NB2 with the dispersion estimated from the Poisson fit.
    family: Literal["poisson", "negbin"] = "poisson"
    # "Regular patrols begin" (not in the data, so inferred): the first "busy" week (at least
    # `programme_min_foot_patrols` planned foot patrols at the site) such that at least
    # `programme_min_run_weeks` of the `programme_run_weeks` weeks from it are busy.
    programme_min_foot_patrols: int = 2
    programme_run_weeks: int = 4
    programme_min_run_weeks: int = 3
    # Event study around the start, in blocks of event_bin_weeks weeks: the block just before
    # the start is the reference; event_leads lead blocks before it and event_lags lag blocks
    # from the start, the outermost of each open-ended (defaults: leads -8..-5 and <= -9;
    # lags 0..3, 4..7 and >= 8).
    event_bin_weeks: int = 4
    event_leads: int = 2
    event_lags: int = 2
    # Perception: each site-round counts equally ("equal") or by its survey weight total,
    # i.e. the population it stands for ("population").
    survey_site_weights: Literal["equal", "population"] = "equal"
    # fct_alert_responses.reached_within_target's threshold (dbt var), for the sentences.
    response_target_minutes: int = 120
    # Cluster-robust covariance (clusters are sites): "CR3", the cluster jackknife, or "CR1",
    # the usual sandwich. CR1 undercovers when a few sites carry most of the data (the demo's
    # sweep showed it); CR3 is conservative there.
    vcov: Literal["CR3", "CR1"] = "CR3"
    # Fewer clusters than this: no estimate. Fewer than `few_clusters`: a caveat.
    min_clusters: int = 10
    few_clusters: int = 30
    level: float = 0.95
    # The mission-month panel (public data, pipelines/impact/mission_months.py): civilians
    # killed in one-sided violence on UN police and troops a month earlier. Negative binomial
    # as in Hultman, Kathman & Shannon (2013), or Poisson (the other is reported as a
    # robustness row); mission fixed effects; calendar-month fixed effects (needs several
    # missions: with one they absorb everything); personnel counted in hundreds. Errors are
    # clustered by mission with `min_clusters` missions or more. With fewer (pocmon usually
    # holds one to four missions): "blocks" clusters by mission and block of
    # `panel_block_months` consecutive months (CR3 jackknife; in 100 synthetic runs per case
    # its 95% CIs covered the planted ratio 89-97% of the time, Newey-West's 87-92%), or
    # "hac", Newey-West within each mission's series with `panel_hac_lags` lags (None:
    # floor(4 (T/100)^(2/9)), T the longest series in months).
    panel_family: Literal["negbin", "poisson"] = "negbin"
    panel_mission_fe: bool = True
    panel_month_fe: bool = False
    panel_per: int = 100
    panel_few_missions: Literal["blocks", "hac"] = "blocks"
    panel_block_months: int = 6
    panel_hac_lags: int | None = None
    panel_min_months: int = 24
