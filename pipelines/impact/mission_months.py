"""Police strength and civilian deaths: the mission-month count model on public data.

``police_strength_estimates`` fits, on ``marts.fct_mission_months``,

    civilians killed in one-sided violence_mt ~ exp(mission_m [+ month_t]
        + b * police_{m,t-1} / 100 + c * troops_{m,t-1} / 100)

by negative binomial (NB2, the dispersion from the Poisson fit, as ``fitting.count_fe``) or
Poisson, and reports exp(b), the incidence rate ratio per 100 UN police (individual police and
formed police units) in the previous month, and exp(c) per 100 troops, each with its 95% CI.

Specification followed: Hultman, Kathman & Shannon (2013), "United Nations Peacekeeping and
Civilian Protection in Civil War", American Journal of Political Science 57(4): monthly counts
of civilians killed in one-sided violence (UCDP) against the numbers of UN troops and police
deployed, in negative binomial regressions on conflict-months (African civil wars, 1991-2008).
pocmon's differences, stated in every row's caveat: the unit is the configured mission's month
(its country's GED deaths), so there is no comparison with conflicts without a mission (the
point of dispute in Kocher's re-analysis and the authors' reply); personnel come from the UN
public personnel table, lagged one calendar month and counted in hundreds; mission fixed
effects (optional calendar-month fixed effects) replace the paper's controls.

Errors: clustered by mission (CR3 jackknife, t with G-1 df) when there are at least
``min_clusters`` missions; with fewer (pocmon usually holds one to four), clustered by mission
and block of consecutive months (6 by default), which assumes months in different blocks are
independent, or (option) Newey-West within each mission's series. The sentences say
association, never cause: police are sent where violence is feared or has been.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from pipelines.impact.fitting import (
    Fit,
    NotEstimable,
    cluster_cov,
    drop_separated,
    fe_design,
    hac_cov,
)
from pipelines.impact.options import ImpactOptions
from pipelines.impact.result import Estimate, build, exp
from pipelines.impact.wording import Phrase

MART = "fct_mission_months"
OUTCOME = "one_sided_civilian_deaths"
QUESTION = "police_strength"
REFERENCE = ("Hultman, Kathman & Shannon (2013), United Nations Peacekeeping and Civilian "
             "Protection in Civil War, AJPS 57(4)")


def _phrase(who_en: str, who_fr: str) -> Phrase:
    return Phrase(
        effect_en=f"each additional {{per}} {who_en} in the previous month was associated "
        "with {size} {dir} civilians killed in one-sided violence (UCDP GED) in the "
        "mission-month{held_en}",
        dir_en=("fewer", "more"),
        none_en=f"no detectable association between the number of {who_en} in the previous "
        "month and civilians killed in one-sided violence (UCDP GED) in the mission-month"
        "{held_en}",
        effect_fr=f"chaque tranche de {{per}} {who_fr} supplémentaires le mois précédent "
        "était associée à {dir} de {size} du nombre de civils tués dans des violences "
        "unilatérales (UCDP GED) au cours du mois{held_fr}",
        dir_fr=("une baisse", "une hausse"),
        none_fr=f"aucune association détectable entre le nombre de {who_fr} le mois précédent "
        "et les civils tués dans des violences unilatérales (UCDP GED) au cours du mois"
        "{held_fr}",
        n_en="mission-months", n_fr="mois-missions",
        clusters_en="missions", clusters_fr="missions",
    )


POLICE = _phrase("UN police (individual officers and formed units)",
                 "policiers des Nations Unies (agents individuels et unités constituées)")
TROOPS = _phrase("UN troops", "militaires des contingents des Nations Unies")
CAVEAT = (
    "An association across mission-months, not proof of cause: the UN sends police and troops "
    "where violence is expected or has already happened, so the ratio can be biased either "
    "way; mission fixed effects (with several missions) remove only stable differences "
    "between missions. Deaths are UCDP GED's best estimates of reported killings in the whole "
    "country, not only where police deploy. The design follows Hultman, Kathman & Shannon "
    "(2013, AJPS): monthly civilians killed in one-sided violence against UN police and troop "
    "numbers, negative binomial; here on the configured missions' months only, so there is no "
    "comparison with conflicts without a mission.",
    "Une association entre mois-missions, pas la preuve d'une cause : l'ONU envoie policiers "
    "et militaires là où la violence est attendue ou a déjà eu lieu, si bien que le rapport "
    "peut être biaisé dans un sens ou dans l'autre ; les effets fixes par mission (s'il y en "
    "a plusieurs) n'éliminent que les différences stables entre missions. Les décès sont les "
    "meilleures estimations de l'UCDP GED des tueries signalées dans tout le pays, pas "
    "seulement là où la police est déployée. Le modèle suit Hultman, Kathman et Shannon "
    "(2013, AJPS) : civils tués chaque mois dans des violences unilatérales rapportés aux "
    "effectifs de police et de troupes de l'ONU, binomiale négative ; ici sur les seuls mois "
    "des missions configurées, sans comparaison avec des conflits sans mission.",
)
BLOCK_CAVEAT = (
    " With {n} mission(s) the errors cannot be clustered by mission: they are clustered by "
    "mission and block of {months} consecutive months (cluster jackknife), which assumes "
    "months in different blocks are independent.",
    " Avec {n} mission(s), les erreurs ne peuvent pas être groupées par mission : elles sont "
    "groupées par mission et par bloc de {months} mois consécutifs (jackknife par grappes), ce "
    "qui suppose des mois de blocs différents indépendants.",
)
HAC_CAVEAT = (
    " With {n} mission(s) the errors cannot be clustered by mission: they are Newey-West "
    "(HAC) within each mission's series ({lags} months), which assumes months further apart "
    "are independent.",
    " Avec {n} mission(s), les erreurs ne peuvent pas être groupées par mission : elles sont "
    "de Newey-West (HAC) au sein de la série de chaque mission ({lags} mois), ce qui suppose "
    "des mois plus éloignés indépendants.",
)


def panel_frame(months: pd.DataFrame, per: int) -> pd.DataFrame:
    """Mission-months usable by the model: GED-covered, with last month's police known."""
    frame = pd.DataFrame({
        "mission_id": months["mission_id"].astype(str),
        "month": pd.to_datetime(months["month_start"]),
        "deaths": pd.to_numeric(months[OUTCOME], errors="coerce"),
        "police": pd.to_numeric(months["police_lag1"], errors="coerce") / per,
        "troops": pd.to_numeric(months["troops_lag1"], errors="coerce") / per,
    })
    frame["period"] = frame["month"].dt.year * 12 + frame["month"].dt.month
    return frame[frame["deaths"].notna() & frame["police"].notna()].reset_index(drop=True)


def month_blocks(frame: pd.DataFrame, months: int) -> pd.Series:
    """Mission and block of ``months`` consecutive calendar months (from the mission's first
    month): the clusters when there are too few missions to cluster on."""
    start = frame.groupby("mission_id")["period"].transform("min")
    return frame["mission_id"] + ":" + ((frame["period"] - start) // months).astype(str)


def hac_lags(frame: pd.DataFrame, options: ImpactOptions) -> int:
    if options.panel_hac_lags is not None:
        return options.panel_hac_lags
    longest = int(frame.groupby("mission_id").size().max())
    return max(1, math.floor(4 * (longest / 100) ** (2 / 9)))


def fit_panel(frame: pd.DataFrame, regressors: list[str], family: str,
              options: ImpactOptions) -> tuple[Fit, str]:
    """The count model on the panel; returns the fit and how its errors were computed."""
    units = frame["mission_id"].nunique()
    effects = ["mission_id"] if options.panel_mission_fe and units > 1 else ["_all"]
    if options.panel_month_fe and units > 1:
        effects.append("period")
    data = drop_separated(frame.assign(_all=1), "deaths", effects)
    if len(data) < options.panel_min_months:
        raise NotEstimable(
            f"{len(data)} mission-months with UCDP GED deaths and last month's UN police, "
            f"fewer than the {options.panel_min_months} needed",
            f"{len(data)} mois-missions avec les décès UCDP GED et la police du mois précédent, "
            f"moins que les {options.panel_min_months} requis")
    for name in regressors:
        if data[name].nunique() < 2:
            raise NotEstimable(f"no variation in {name}", f"aucune variation de {name}")
    x = fe_design(data, regressors, effects)
    y = data["deaths"].to_numpy(float)
    result = GLM(y, x, family=families.Poisson()).fit(maxiter=100)
    alpha = 0.0
    if family == "negbin":
        mu = result.mu
        alpha = max(float(np.sum(mu**2 * ((y - mu) ** 2 - y)) / np.sum(mu**4)), 1e-8)
        result = GLM(y, x, family=families.NegativeBinomial(alpha=alpha)).fit(
            maxiter=100)
    mu = np.asarray(result.mu)
    w, r = mu / (1 + alpha * mu), (y - mu) / (1 + alpha * mu)
    k = len(regressors)
    units = data["mission_id"].nunique()
    params = np.asarray(result.params)[:k]
    if units >= options.min_clusters:
        cov = cluster_cov(x, w, r, data["mission_id"], options.vcov, units / (units - 1))
        kind = "CR3 cluster jackknife" if options.vcov == "CR3" else "CR1"
        how = f"SE clustered by mission ({kind}, t with G-1 df)"
        fit = Fit(regressors, params, cov[:k, :k], len(data), units)
    elif options.panel_few_missions == "blocks":
        blocks = month_blocks(data, options.panel_block_months)
        n_blocks = blocks.nunique()
        if n_blocks < options.min_clusters:
            raise NotEstimable(
                f"{n_blocks} blocks of {options.panel_block_months} months, fewer than the "
                f"{options.min_clusters} needed to cluster the errors",
                f"{n_blocks} blocs de {options.panel_block_months} mois, moins que les "
                f"{options.min_clusters} requis pour grouper les erreurs")
        cov = cluster_cov(x, w, r, blocks, "CR3", n_blocks / (n_blocks - 1))
        how = (f"SE clustered by mission and {options.panel_block_months}-month block (CR3 "
               f"cluster jackknife, {n_blocks} blocks, t with G-1 df; too few missions to "
               "cluster by mission)")
        fit = Fit(regressors, params, cov[:k, :k], len(data), n_blocks)
    else:
        lags = hac_lags(data, options)
        cov = hac_cov(x, w, r, data["mission_id"], data["period"], lags)
        how = f"SE Newey-West (HAC) within each mission's series, {lags} lag(s), t with N-K df"
        fit = Fit(regressors, params, cov[:k, :k], len(data), units,
                  resid_df=max(len(data) - x.shape[1], 1))
    return fit, how


def _method(family: str, regressors: list[str], options: ImpactOptions, units: int,
            how: str) -> str:
    model = ("Negative binomial (NB2, dispersion from the Poisson fit)" if family == "negbin"
             else "Poisson")
    held = " and troops" if "troops" in regressors else ""
    effects = "mission fixed effects" if options.panel_mission_fe and units > 1 else \
        "no fixed effects (one mission)"
    if options.panel_month_fe and units > 1:
        effects += " and calendar-month fixed effects"
    return (f"{model} regression of monthly civilians killed in one-sided violence (UCDP GED, "
            f"deaths_civilians of type 3 events) on UN police (individual + formed units)"
            f"{held} in the previous month, per {options.panel_per}; {effects}; {how}. "
            f"Follows {REFERENCE}.")


def police_strength_estimates(frames: dict[str, pd.DataFrame], mission_id: str,
                              options: ImpactOptions) -> list[Estimate]:
    """IRR per 100 police and per 100 troops (the configured family), and the police IRR by
    the other family as a robustness row; worded 'could not be estimated' when the data
    cannot support them."""
    frame = panel_frame(frames[MART], options.panel_per)
    regressors = ["police"]
    if not frame.empty and frame["troops"].notna().all() and frame["troops"].nunique() > 1:
        regressors.append("troops")
    other = "poisson" if options.panel_family == "negbin" else "negbin"
    held = {
        "police": ({"held_en": ", troops held constant", "held_fr": ", à effectifs militaires "
                    "égaux"} if "troops" in regressors else {"held_en": "", "held_fr": ""}),
        "troops": {"held_en": ", police held constant", "held_fr": ", à effectifs de police "
                   "égaux"},
    }
    wanted = [(options.panel_family, "police", f"police_irr_per_{options.panel_per}", POLICE)]
    if "troops" in regressors:
        wanted.append((options.panel_family, "troops", f"troops_irr_per_{options.panel_per}",
                       TROOPS))
    wanted.append((other, "police", f"police_irr_per_{options.panel_per}_{other}", POLICE))
    fits: dict[str, tuple[Fit, str] | NotEstimable] = {}
    out = []
    for family, name, estimand, phrase in wanted:
        if family not in fits:
            try:
                if frame.empty:
                    raise NotEstimable(
                        "no mission-months with both UCDP GED deaths and last month's UN "
                        "police strength (load them with pocmon import-public)",
                        "aucun mois-mission avec à la fois les décès UCDP GED et les effectifs "
                        "de police du mois précédent (les charger avec pocmon import-public)")
                fits[family] = fit_panel(frame, regressors, family, options)
            except NotEstimable as error:
                fits[family] = error
        outcome = fits[family]
        units = frame["mission_id"].nunique()
        common = {"question": QUESTION, "estimand": estimand, "mission_id": mission_id,
                  "unit": "rate_ratio", "phrase": phrase, "options": options,
                  "context": {"per": options.panel_per, **held[name]}}
        if isinstance(outcome, NotEstimable):
            out.append(build(method=_method(family, regressors, options, units, "not fitted"),
                             caveat=CAVEAT, error=outcome, **common))
            continue
        fit, how = outcome
        caveat = CAVEAT
        if units < options.min_clusters:
            extra = (HAC_CAVEAT if fit.resid_df is not None else BLOCK_CAVEAT)
            caveat = tuple(c + h.format(n=units, lags=hac_lags(frame, options),
                                        months=options.panel_block_months)
                           for c, h in zip(CAVEAT, extra, strict=True))
            if fit.resid_df is None:  # clusters are blocks of months
                common["phrase"] = replace(
                    phrase, clusters_en=f"{options.panel_block_months}-month blocks",
                    clusters_fr=f"blocs de {options.panel_block_months} mois")
        out.append(build(method=_method(family, regressors, options, units, how),
                         caveat=caveat, coef=fit.coef(name), transform=exp,
                         few_clusters_caveat=fit.resid_df is None, **common))
    return out
