"""Response: how long police take to arrive after an alert, by distance, range and mode.

``response_times``: OLS on fct_alert_responses,
``minutes_i = mission_m + b * distance_km_i + sum_r c_r [range_i = r] + sum_m d_m [mode_i = m]``,
short range and vehicle the references; SE clustered by incident site (CR1, t with G-1 df).
``share_within_target``: the share of answered alerts reached within the target, with a
site-clustered CI.
"""

from __future__ import annotations

import pandas as pd

from pipelines.impact.fitting import Coef, NotEstimable, cluster_mean, ols_fe
from pipelines.impact.options import ImpactOptions
from pipelines.impact.panels import site_key
from pipelines.impact.result import Estimate, build, se_words
from pipelines.impact.wording import Phrase

RANGE_WORDS = {"short": ("short-range", "à courte portée"),
               "long": ("long-range", "à longue portée"),
               "overnight": ("overnight", "de nuit")}
MODE_WORDS = {"vehicle": ("by vehicle", "en véhicule"), "boat": ("by boat", "en bateau"),
              "foot": ("on foot", "à pied"), "air": ("by air", "par voie aérienne")}
PER_KM = Phrase(
    effect_en="each additional km between the responding unit's base and the incident site "
    "went with {size} {dir} to arrive, for the same range and mode",
    dir_en=("less", "more"),
    none_en="no detectable link between the distance from the responding unit's base and the "
    "time to arrive, for the same range and mode",
    effect_fr="chaque km supplémentaire entre la base de l'unité qui répond et le site de "
    "l'incident allait de pair avec {size} {dir} pour arriver, à portée et mode égaux",
    dir_fr=("de moins", "de plus"),
    none_fr="aucun lien détectable entre la distance à la base de l'unité qui répond et le "
    "délai d'arrivée, à portée et mode égaux",
    n_en="alerts", n_fr="alertes",
)
RANGE = Phrase(
    effect_en="{level_en} responses took {size} {dir} to arrive than {base_en} responses at "
    "the same distance",
    dir_en=("less", "more"),
    none_en="no detectable difference in arrival time between {level_en} and {base_en} "
    "responses at the same distance",
    effect_fr="les interventions {level_fr} ont mis {size} {dir} à arriver que les "
    "interventions {base_fr}, à distance égale",
    dir_fr=("de moins", "de plus"),
    none_fr="aucune différence détectable de délai d'arrivée entre les interventions "
    "{level_fr} et {base_fr}, à distance égale",
    n_en="alerts", n_fr="alertes",
)
MODE = Phrase(
    effect_en="responses {level_en} took {size} {dir} to arrive than responses {base_en} at "
    "the same distance and range",
    dir_en=("less", "more"),
    none_en="no detectable difference in arrival time between responses {level_en} and "
    "{base_en} at the same distance and range",
    effect_fr="les interventions {level_fr} ont mis {size} {dir} à arriver que les "
    "interventions {base_fr}, à distance et portée égales",
    dir_fr=("de moins", "de plus"),
    none_fr="aucune différence détectable de délai d'arrivée entre les interventions "
    "{level_fr} et {base_fr}, à distance et portée égales",
    n_en="alerts", n_fr="alertes",
)
SHARE = Phrase(
    effect_en="{size} of answered alerts were reached within the {target}-minute target",
    dir_en=("", ""), none_en="",
    effect_fr="{size} des alertes traitées ont été atteintes dans le délai cible de {target} "
    "minutes",
    dir_fr=("", ""), none_fr="",
    n_en="alerts", n_fr="alertes",
)
RESPONSE_CAVEAT = (
    "Descriptive comparison of recorded responses: the range is partly chosen by distance, "
    "and conditions not in the data (roads, weather, which unit was free) also vary, so the "
    "differences are not effects of range or mode as such. Distance is the straight line from "
    "the responding unit's base site to the incident site.",
    "Comparaison descriptive des interventions enregistrées : la portée dépend en partie de la "
    "distance, et des conditions absentes des données (routes, météo, unité disponible) varient "
    "aussi ; les écarts ne sont donc pas des effets de la portée ou du mode en tant que tels. "
    "La distance est la ligne droite entre la base de l'unité qui répond et le site de "
    "l'incident.",
)
SHARE_CAVEAT = (
    "Over alerts with a recorded arrival time; alerts that no patrol answered are not counted, "
    "so the share may be overstated.",
    "Calculée sur les alertes dont l'heure d'arrivée est enregistrée ; les alertes sans "
    "patrouille ne sont pas comptées, la part peut donc être surestimée.",
)
METHOD = ("OLS of alert-to-arrival minutes on distance (km), range and mode dummies (short "
          "range and vehicle the references) and mission fixed effects; ")


def _base(levels: pd.Series, preferred: str) -> str:
    return preferred if (levels == preferred).any() else levels.mode().iloc[0]


def response_times(frames: dict[str, pd.DataFrame], mission_id: str,
                   options: ImpactOptions) -> list[Estimate]:
    """Minutes per km, and minutes by range and by mode against their references."""
    alerts = frames["fct_alert_responses"]
    data = alerts.dropna(subset=["response_minutes", "distance_km", "response_range",
                                 "response_mode"]).copy()
    data["site"] = site_key(data)
    common = {"question": "response", "mission_id": mission_id,
              "method": METHOD + se_words(options, "incident site"), "unit": "minutes",
              "caveat": RESPONSE_CAVEAT, "options": options}
    if data.empty:
        return [build(estimand="minutes_per_km", phrase=PER_KM,
                      **(common | {"unit": "minutes_per_km"}))]
    ranges, modes = data["response_range"].astype(str), data["response_mode"].astype(str)
    base_range, base_mode = _base(ranges, "short"), _base(modes, "vehicle")
    terms: dict[str, tuple[str, Phrase, dict[str, str]]] = {"distance_km": (
        "minutes_per_km", PER_KM, {})}
    for column, values, base, words, phrase, kind in [
            ("range", ranges, base_range, RANGE_WORDS, RANGE, "range"),
            ("mode", modes, base_mode, MODE_WORDS, MODE, "mode")]:
        for level in sorted(set(values.unique()) - {base}):
            name = f"{column}_{level}"
            data[name] = (values == level).astype(float)
            w_level, w_base = words.get(level, (level, level)), words.get(base, (base, base))
            terms[name] = (f"{kind}_{level}_vs_{base}", phrase, {
                "level_en": w_level[0], "level_fr": w_level[1],
                "base_en": w_base[0], "base_fr": w_base[1]})
    try:
        fit = ols_fe(data, "response_minutes", list(terms), ["mission_id"], None, "site",
                     min_clusters=options.min_clusters, vcov=options.vcov)
        coefs: dict[str, Coef | NotEstimable] = {}
        for name in terms:
            try:
                coefs[name] = fit.coef(name)
            except NotEstimable as error:
                coefs[name] = error
    except NotEstimable as error:
        coefs = dict.fromkeys(terms, error)
    out = []
    for name, (estimand, phrase, context) in terms.items():
        value = coefs[name]
        unit = "minutes_per_km" if name == "distance_km" else "minutes"
        kwargs = ({"coef": value} if isinstance(value, Coef) else {"error": value})
        out.append(build(estimand=estimand, phrase=phrase, context=context,
                         **(common | {"unit": unit}), **kwargs))
    return out


def share_within_target(frames: dict[str, pd.DataFrame], mission_id: str,
                        options: ImpactOptions) -> Estimate:
    """Share of answered alerts reached within the target time."""
    alerts = frames["fct_alert_responses"]
    data = alerts[alerts["reached_within_target"].notna()].copy()
    data["site"] = site_key(data)
    data["reached"] = data["reached_within_target"].astype(float)
    common = {"question": "response", "estimand": "share_within_target",
              "mission_id": mission_id, "unit": "share", "phrase": SHARE,
              "method": "Share of answered alerts reached within the target; "
              + se_words(options, "incident site"),
              "caveat": SHARE_CAVEAT, "options": options,
              "context": {"target": options.response_target_minutes}}
    try:
        coef = cluster_mean(data, "reached", "site", min_clusters=options.min_clusters,
                            vcov=options.vcov)
    except NotEstimable as error:
        return build(error=error, **common)
    return build(coef=coef, transform=lambda v: min(max(v, 0.0), 1.0), **common)
