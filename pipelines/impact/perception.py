"""Perception: do people feel safer, and trust police more, where regular patrols began?

Difference-in-differences by OLS on the site-round panel of fct_survey_site_rounds,
``y_sr = site_s + mission_round_r + b * after_sr``, where ``after_sr`` is the share of the
round's interview days on or after the site's (inferred) programme start (0 or 1 unless the
start falls inside the fieldwork); SE clustered by site (CR1, t with G-1 df). Site-rounds count
equally by default (``survey_site_weights``). Pre-trend: the same model plus a lead dummy for
rounds two or more before the first treated one (round -1 the reference); its p-value.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from pipelines.impact.fitting import NotEstimable, ols_fe
from pipelines.impact.options import ImpactOptions
from pipelines.impact.panels import day, period_key, site_key, start_weeks
from pipelines.impact.result import Estimate, build, se_words
from pipelines.impact.wording import Phrase

OUTCOMES = {  # mart column: (unit, English subject, French subject)
    "feels_safe_share": ("share_points", "the weighted share of respondents who feel safe",
                         "la part pondérée des personnes interrogées qui se sentent en "
                         "sécurité"),
    "trusts_host_police_share": ("share_points", "the weighted share of respondents who "
                                 "trust the host police", "la part pondérée des personnes "
                                 "interrogées qui font confiance à la police nationale"),
    "would_report_share": ("share_points", "the weighted share of respondents who would "
                           "report a crime to the police", "la part pondérée des personnes "
                           "interrogées qui signaleraient un crime à la police"),
    "trust_unpol_mean": ("scale_points", "the weighted mean trust in UN police (1 to 5)",
                         "la confiance moyenne pondérée dans la police des Nations Unies "
                         "(de 1 à 5)"),
}
PHRASE = Phrase(
    effect_en="after regular foot patrols began at a site, {outcome_en} there was {size} {dir} "
    "than the change at other sites would predict",
    dir_en=("lower", "higher"),
    none_en="no detectable change in {outcome_en} after regular foot patrols began, compared "
    "with other sites",
    effect_fr="après le début des patrouilles pédestres régulières sur un site, {outcome_fr} y "
    "était {dir} de {size} à ce que l'évolution des autres sites laissait attendre",
    dir_fr=("inférieure", "supérieure"),
    none_fr="aucune évolution détectable de {outcome_fr} après le début des patrouilles "
    "pédestres régulières, par rapport aux autres sites",
    n_en="site-rounds", n_fr="sites-vagues",
)
CAVEAT = (
    "Difference-in-differences between survey rounds: credible only if perceptions at sites "
    "with and without regular foot patrols would otherwise have moved in parallel, which the "
    "pre-trend test (when there are enough rounds) can contradict but not prove. Start dates "
    "are inferred from patrol records. Uses weighted site-round results, not respondents, so "
    "the interval reflects variation between site-rounds.",
    "Double différence entre vagues d'enquête : crédible seulement si les perceptions sur les "
    "sites avec et sans patrouilles pédestres régulières auraient sinon évolué en parallèle, "
    "ce que le test de tendance préalable (s'il y a assez de vagues) peut contredire mais pas "
    "prouver. Les dates de début sont déduites des registres de patrouille. Repose sur les "
    "résultats pondérés par site et vague, pas sur les répondants : l'intervalle reflète la "
    "variation entre sites-vagues.",
)


def site_round_panel(frames: dict[str, pd.DataFrame], starts: pd.DataFrame) -> pd.DataFrame:
    """Site-rounds with keys, the treated share ``after`` and round event time ``k``."""
    rounds = frames["fct_survey_site_rounds"]
    rounds = rounds[rounds["respondents"] > 0]
    censored = set(starts.loc[starts["left_censored"], "site"])
    panel = rounds.assign(site=site_key(rounds), round=period_key(rounds, "survey_round"))
    panel = panel[~panel["site"].isin(censored)].copy()
    start = start_weeks(panel["site"], starts)
    first, last = day(panel["first_interview"]), day(panel["last_interview"])
    span = (last - first).dt.days + 1
    after = ((last - start).dt.days + 1) / span
    panel["after"] = after.clip(0, 1).fillna(0.0).to_numpy()
    # event time in rounds: the rank of the round (by its first interview anywhere) among the
    # mission's rounds, relative to the site's first treated round
    round_start = first.groupby([panel["mission_id"], panel["survey_round"]]).transform("min")
    order = round_start.groupby(panel["mission_id"]).rank(method="dense")
    first_treated = order.where(panel["after"] > 0).groupby(panel["site"]).transform("min")
    panel["k"] = order - first_treated
    panel["lead"] = (panel["k"] <= -2).astype(float)
    return panel


def perception_changes(frames: dict[str, pd.DataFrame], mission_id: str,
                       options: ImpactOptions, starts: pd.DataFrame) -> list[Estimate]:
    """One difference-in-differences estimate per perception outcome."""
    weights = "weight_total" if options.survey_site_weights == "population" else None
    method = ("Difference-in-differences, OLS of the weighted site-round result on the share "
              "of the round after regular foot patrols began (start inferred from patrol "
              "records), site and mission-round fixed effects"
              + (", site-rounds weighted by survey weight total" if weights else "")
              + f"; {se_words(options)}; pre-trend: t test of a lead of 2+ rounds")
    panel = site_round_panel(frames, starts)
    out = []
    for outcome, (unit, subject_en, subject_fr) in OUTCOMES.items():
        common = {"question": "perception", "estimand": outcome, "mission_id": mission_id,
                  "method": method, "unit": unit, "phrase": PHRASE, "caveat": CAVEAT,
                  "options": options,
                  "context": {"outcome_en": subject_en, "outcome_fr": subject_fr}}
        data = panel.dropna(subset=[outcome])
        fit = functools.partial(ols_fe, data, outcome, fixed_effects=["site", "round"],
                                nest="mission_id", cluster="site", weights=weights,
                                first_fe_nested_in_cluster=True,
                                min_clusters=options.min_clusters, vcov=options.vcov)
        try:
            coef = fit(["after"]).coef("after")
        except NotEstimable as error:
            out.append(build(error=error, **common))
            continue
        pretrend = np.nan
        if data["lead"].sum() > 0:
            try:
                pretrend = fit(["after", "lead"]).coef("lead").p_value
            except NotEstimable:
                pass
        out.append(build(coef=coef, pretrend_p=pretrend, **common))
    return out
