"""Deterrence: are there fewer incidents where and when police are present?

``presence_rate_ratio``: site-day Poisson (or NB2) regression,
``incidents_sd ~ exp(site_s + mission_week_w + b * presence_sd)``, presence = a planned patrol
started at the site on one of the previous 3 days; SE clustered by site. exp(b) is the
incident rate ratio. (Fitted on site x week x presence cells with days as exposure: for
Poisson this is the same likelihood as the site-days, only faster.)

``programme_rate_ratio``: difference-in-differences on the site-week panel where regular foot
patrols begin (start inferred from patrol records), ``incidents_sw ~ exp(site_s +
mission_week_w + g * post_sw)``; never- and not-yet-started sites are the comparison. Its
pre-trend check is an event study with the same fixed effects and event-time dummies in 4-week
blocks (leads -8..-5 and -9 and before; weeks -4..-1 the reference; lags 0..3, 4..7, 8 and
after): the joint test that the lead coefficients are zero (a cluster-robust score test with a
wild score bootstrap p-value) gives ``pretrend_p``. Blocks, not weeks: with a few incidents per
site-week, weekly leads left the test far too ready to reject (see ``fitting.score_test``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.impact.fitting import Fit, NotEstimable, count_fe, score_test
from pipelines.impact.options import ImpactOptions
from pipelines.impact.panels import (
    event_time,
    period_key,
    presence_cells,
    site_day_panel,
    site_key,
)
from pipelines.impact.result import Estimate, build, exp, se_words
from pipelines.impact.wording import Phrase

PRESENCE = Phrase(
    effect_en="site-days within {window} days after a planned patrol at the site had {size} "
    "{dir} incidents than other days at the same site in the same week",
    dir_en=("fewer", "more"),
    none_en="no detectable difference in incident rates between site-days within {window} "
    "days after a planned patrol and other days at the same site in the same week",
    effect_fr="les jours suivant de {window} jours au plus une patrouille planifiée sur le site "
    "ont compté {size} d'incidents {dir} que les autres jours du même site la même semaine",
    dir_fr=("de moins", "de plus"),
    none_fr="aucune différence détectable du taux d'incidents entre les jours suivant de "
    "{window} jours au plus une patrouille planifiée et les autres jours du même site la même "
    "semaine",
    n_en="site-days", n_fr="jours-sites",
)
PRESENCE_CAVEAT = (
    "Observational comparison within the same site and week: if patrols are planned for days "
    "when trouble is expected (or avoided), the ratio is biased either way; it does not prove "
    "that patrols prevent incidents. Only reported incidents are counted.",
    "Comparaison observationnelle au sein d'un même site et d'une même semaine : si les "
    "patrouilles sont planifiées les jours où des troubles sont attendus (ou évités), le "
    "rapport est biaisé dans un sens ou dans l'autre ; il ne prouve pas que les patrouilles "
    "préviennent les incidents. Seuls les incidents signalés sont comptés.",
)
PROGRAMME = Phrase(
    effect_en="after regular foot patrols began at a site, its incident rate was {size} {dir} "
    "than the change at sites without them would predict",
    dir_en=("lower", "higher"),
    none_en="no detectable change in incident rates after regular foot patrols began, "
    "compared with sites without them",
    effect_fr="après le début des patrouilles pédestres régulières sur un site, son taux "
    "d'incidents était {dir} de {size} à ce que l'évolution des sites sans ces patrouilles "
    "laissait attendre",
    dir_fr=("inférieur", "supérieur"),
    none_fr="aucune évolution détectable du taux d'incidents après le début des patrouilles "
    "pédestres régulières, par rapport aux sites sans ces patrouilles",
    n_en="site-weeks", n_fr="semaines-sites",
)
PROGRAMME_CAVEAT = (
    "Difference-in-differences: credible only if sites with and without regular foot patrols "
    "would otherwise have followed parallel trends, which the pre-trend test can contradict "
    "but not prove. Start dates are inferred from patrol records (the first week of a "
    "sustained run of planned foot patrols); they are not recorded.",
    "Double différence : crédible seulement si les sites avec et sans patrouilles pédestres "
    "régulières auraient sinon suivi des tendances parallèles, ce que le test de tendance "
    "préalable peut contredire mais pas prouver. Les dates de début sont déduites des "
    "registres de patrouille (première semaine d'une série soutenue de patrouilles pédestres "
    "planifiées) ; elles ne sont pas enregistrées.",
)


def presence_rate_ratio(frames: dict[str, pd.DataFrame], mission_id: str,
                        options: ImpactOptions) -> Estimate:
    """Incident rate ratio of site-days with recent planned-patrol presence."""
    window = options.presence_window_days
    method = (f"{'Poisson' if options.family == 'poisson' else 'Negative binomial (NB2)'} "
              f"regression of site-day incidents on presence (planned patrol at the site in "
              f"the previous {window} days), site and mission-week fixed effects; "
              f"{se_words(options)}")
    common = {"question": "deterrence", "estimand": "presence_rate_ratio",
              "mission_id": mission_id, "method": method, "unit": "rate_ratio",
              "phrase": PRESENCE, "caveat": PRESENCE_CAVEAT, "options": options,
              "context": {"window": window}}
    panel = site_day_panel(frames["fct_patrols"], frames["fct_incidents"],
                           frames["dim_sites"], window)
    try:
        if options.family == "poisson":
            data, exposure = presence_cells(panel), "days"
        else:
            data, exposure = panel.assign(presence=panel["presence"].astype(float)), None
        fit = count_fe(data, "incidents", ["presence"], ["site", "week"], "mission_id",
                       "site", exposure=exposure, family=options.family,
                       min_clusters=options.min_clusters, vcov=options.vcov, n_obs_column=exposure)
        coef = fit.coef("presence")
    except NotEstimable as error:
        return build(error=error, **common)
    return build(coef=coef, transform=exp, **common)


def _event_columns(k: pd.Series, options: ImpactOptions) -> dict[str, pd.Series]:
    """Event-time dummies in blocks of ``event_bin_weeks`` (0 for never-started sites); the
    block just before the start (weeks -w..-1) is the reference, the outer blocks are open."""
    w = options.event_bin_weeks
    block = np.floor(k / w)
    columns: dict[str, pd.Series] = {}
    for b in range(-options.event_leads - 1, options.event_lags + 1):
        if b == -1:
            continue
        first, last = b * w, b * w + w - 1
        if b == -options.event_leads - 1:
            columns[f"lead_le_{last}"] = block <= b
        elif b == options.event_lags:
            columns[f"lag_ge_{first}"] = block >= b
        else:
            columns[f"{'lead' if b < 0 else 'lag'}_{first}_{last}"] = block == b
    return {name: c.fillna(False).astype(float) for name, c in columns.items()}


def site_week_panel(frames: dict[str, pd.DataFrame], starts: pd.DataFrame) -> pd.DataFrame:
    """fct_site_weeks with site and mission-week keys, event time and the post flag; sites
    whose run was already on in the first week of data are left out."""
    weeks = frames["fct_site_weeks"]
    panel = pd.DataFrame({
        "mission_id": weeks["mission_id"].astype(str),
        "site": site_key(weeks),
        "week": period_key(weeks, "week_start"),
        "incidents": weeks["incidents"].astype(float),
    })
    censored = set(starts.loc[starts["left_censored"], "site"])
    panel = panel[~panel["site"].isin(censored)].copy()
    panel["k"] = event_time(weeks.loc[panel.index, "week_start"], panel["site"],
                            starts[~starts["left_censored"]])
    panel["post"] = (panel["k"] >= 0).astype(float)
    return panel


def event_dummies(panel: pd.DataFrame, options: ImpactOptions) -> pd.DataFrame:
    """The event-time dummies that vary in this panel."""
    dummies = pd.DataFrame(_event_columns(panel["k"], options), index=panel.index)
    return dummies.loc[:, dummies.sum() > 0]


def event_study(panel: pd.DataFrame, options: ImpactOptions) -> Fit:
    """The event-study fit (every lead and lag coefficient), e.g. for a chart."""
    dummies = event_dummies(panel, options)
    return count_fe(pd.concat([panel, dummies], axis=1), "incidents", list(dummies.columns),
                    ["site", "week"], "mission_id", "site", min_clusters=options.min_clusters,
                    vcov=options.vcov)


def pretrend_p(panel: pd.DataFrame, options: ImpactOptions) -> float:
    """Joint test that all lead coefficients are zero, given the lags: a score test with a
    wild score bootstrap p-value (NaN when no lead can be estimated)."""
    dummies = event_dummies(panel, options)
    leads = [c for c in dummies.columns if c.startswith("lead_")]
    lags = [c for c in dummies.columns if c.startswith("lag_")]
    if not leads or not lags:
        return np.nan
    return score_test(pd.concat([panel, dummies], axis=1), "incidents", lags, leads,
                      ["site", "week"], "mission_id", "site", min_clusters=options.min_clusters)


def programme_rate_ratio(frames: dict[str, pd.DataFrame], mission_id: str,
                         options: ImpactOptions, starts: pd.DataFrame) -> Estimate:
    """Difference-in-differences rate ratio where regular foot patrols begin, with the
    event-study pre-trend test."""
    method = ("Difference-in-differences, Poisson regression of site-week incidents on "
              "'after regular foot patrols began' (start inferred from patrol records), site "
              f"and mission-week fixed effects; {se_words(options)}; pre-trend: joint score "
              f"test of {options.event_bin_weeks}-week event-study leads, wild score "
              "bootstrap p")
    common = {"question": "deterrence", "estimand": "programme_rate_ratio",
              "mission_id": mission_id, "method": method, "unit": "rate_ratio",
              "phrase": PROGRAMME, "caveat": PROGRAMME_CAVEAT, "options": options}
    panel = site_week_panel(frames, starts)
    treated = panel.loc[panel["k"].notna(), "site"].nunique()
    if treated < 2:
        return build(error=NotEstimable(
            f"regular foot patrols began at {treated} site(s) during the data",
            f"les patrouilles pédestres régulières ont commencé sur {treated} site(s) "
            "pendant la période"), **common)
    try:
        coef = count_fe(panel, "incidents", ["post"], ["site", "week"], "mission_id", "site",
                        min_clusters=options.min_clusters, vcov=options.vcov).coef("post")
    except NotEstimable as error:
        return build(error=error, **common)
    try:
        pretrend = pretrend_p(panel, options)
    except (NotEstimable, np.linalg.LinAlgError):
        pretrend = np.nan
    return build(coef=coef, transform=exp, pretrend_p=pretrend, **common)
