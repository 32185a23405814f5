"""Plain sentences (English and French) whose strength follows the evidence.

Rules, for an estimate with a null value (1 for ratios, 0 for differences):

* the 95% CI includes the null: "No detectable ..." (never a direction);
* it excludes the null and p < 0.01 (the 99% CI excludes it too): "Clear evidence: ...";
* it excludes the null and 0.01 <= p < 0.05: "Some evidence: ...";
* a failed pre-trend test caps the wording at "Some evidence" and adds a warning.

Verbs describe differences and associations ("had fewer", "took longer", "was higher than
... would predict"), never causes: the caveat says what the design can and cannot show.
Descriptive estimates (no null value) are stated with their CI and no grade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PRETREND_ALPHA = 0.05


@dataclass(frozen=True)
class Phrase:
    """How one estimand is said. ``effect`` takes {size} and {dir}; ``dir`` is the pair of
    words for (below the null, above it); ``none`` is the no-detectable-effect sentence."""

    effect_en: str
    dir_en: tuple[str, str]
    none_en: str
    effect_fr: str
    dir_fr: tuple[str, str]
    none_fr: str
    n_en: str  # what n_obs counts, e.g. "site-days"
    n_fr: str
    clusters_en: str = "sites"  # what n_clusters counts
    clusters_fr: str = "sites"


GRADE = {
    "clear": ("Clear evidence: ", "Éléments solides : "),
    "some": ("Some evidence: ", "Éléments limités : "),
}
CI_WORDS = {"en": "{level}% CI {lo} to {hi}", "fr": "IC à {level}\u00a0% de {lo} à {hi}"}
PRETREND_WARNING = (
    " Caution: these sites were already diverging from the others before regular patrols "
    "began (pre-trend test p = {p}), so this comparison is not reliable.",
    " Prudence : ces sites évoluaient déjà différemment des autres avant le début des "
    "patrouilles régulières (test de tendance préalable p = {p}) ; cette comparaison n'est "
    "pas fiable.",
)
NOT_ESTIMABLE = ("Could not be estimated: {why}.", "Estimation impossible : {why}.")
FEW_CLUSTERS = (
    "Only {n} {what} (clusters): the confidence interval is approximate.",
    "Seulement {n} {what} (grappes) : l'intervalle de confiance est approximatif.",
)


def grade(low: float, high: float, null: float | None, p: float | None,
          pretrend_p: float | None = None) -> str:
    """'none', 'some' or 'clear' (see the module docstring); 'na' without an estimate."""
    if any(v is None or not math.isfinite(v) for v in (low, high)):
        return "na"
    if null is None or not math.isfinite(null):
        return "descriptive"
    if low <= null <= high:
        return "none"
    level = "clear" if p is not None and p < 0.01 else "some"
    if pretrend_p is not None and math.isfinite(pretrend_p) and pretrend_p < PRETREND_ALPHA:
        level = "some"
    return level


def number(value: float, decimals: int, lang: str, signed: bool = False) -> str:
    """A number in the language's style: 1,234.5 in English, 1 234,5 in French."""
    text = f"{value:{'+' if signed else ''},.{decimals}f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _percent(value: float, lang: str) -> str:
    decimals = 0 if abs(value) >= 9.95 else 1
    return number(value, decimals, lang) + ("%" if lang == "en" else "\u00a0%")


def size_text(unit: str, estimate: float, null: float, lang: str) -> str:
    """The magnitude of the departure from the null, in words, e.g. '30%', '45 minutes'."""
    if unit == "rate_ratio":
        return _percent(abs(estimate - 1) * 100, lang)
    if unit == "share":
        return _percent(estimate * 100, lang)
    gap = abs(estimate - null)
    if unit in ("minutes", "minutes_per_km"):
        word = "minute" if lang == "fr" and gap < 2 else "minutes"
        return f"{number(gap, 2 if unit == 'minutes_per_km' else 1, lang)} {word}"
    if unit == "share_points":
        return number(gap * 100, 1, lang) + (
            " percentage points" if lang == "en" else " points de pourcentage")
    if unit == "scale_points":
        word = "point" if lang == "fr" and gap < 2 else "points"
        return f"{number(gap, 2, lang)} {word}"
    raise ValueError(f"unknown unit {unit!r}")


def value_text(unit: str, value: float, lang: str) -> str:
    """One value as the CI shows it (ratios as ratios, shares in points or percent)."""
    if unit == "rate_ratio":
        return number(value, 2, lang)
    if unit == "share":
        return _percent(value * 100, lang)
    if unit == "share_points":
        return number(value * 100, 1, lang, signed=True)
    if unit in ("scale_points", "minutes_per_km"):
        return number(value, 2, lang, signed=True)
    return number(value, 1, lang, signed=True)


STAT_LABEL = {
    "rate_ratio": ("rate ratio {v}", "rapport des taux {v}"),
    "minutes_per_km": ("{v} minutes per km", "{v} minutes par km"),
    "minutes": ("{v} minutes", "{v} minutes"),
    "share_points": ("{v} percentage points", "{v} points de pourcentage"),
    "scale_points": ("{v} points", "{v} points"),
    "share": ("{v}", "{v}"),
}


def stats_text(unit: str, estimate: float, low: float, high: float, n_obs: int,
               n_clusters: int, phrase: Phrase, level: float, lang: str) -> str:
    """'(rate ratio 0.70; 95% CI 0.62 to 0.79; 14,440 site-days, 40 sites)'."""
    k = 0 if lang == "en" else 1
    head = STAT_LABEL[unit][k].format(v=value_text(unit, estimate, lang))
    ci = CI_WORDS[lang].format(level=number(level * 100, 0, lang),
                               lo=value_text(unit, low, lang), hi=value_text(unit, high, lang))
    n = f"{number(n_obs, 0, lang)} {phrase.n_en if k == 0 else phrase.n_fr}"
    what = phrase.clusters_en if k == 0 else phrase.clusters_fr
    if n_clusters == 1:
        what = what.removesuffix("s")
    sites = f"{number(n_clusters, 0, lang)} {what}"
    sep = "; " if lang == "en" else " ; "
    return f"({head}{sep}{ci}{sep}{n}, {sites})"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentences(phrase: Phrase, unit: str, estimate: float, low: float, high: float,
              null: float | None, p: float | None, n_obs: int, n_clusters: int,
              level: float = 0.95, pretrend_p: float | None = None,
              context: dict[str, object] | None = None) -> tuple[str, str]:
    """The English and French sentence for one estimate."""
    context = context or {}
    level_name = grade(low, high, null, p, pretrend_p)
    out = []
    for k, lang in enumerate(("en", "fr")):
        stat = stats_text(unit, estimate, low, high, n_obs, n_clusters, phrase, level, lang)
        if level_name == "none":
            body = (phrase.none_en if k == 0 else phrase.none_fr).format(**context)
            text = f"{_capital(body)} {stat}."
        else:
            below = null is not None and math.isfinite(null) and estimate < null
            words = phrase.dir_en if k == 0 else phrase.dir_fr
            body = (phrase.effect_en if k == 0 else phrase.effect_fr).format(
                size=size_text(unit, estimate, null if null is not None else 0.0, lang),
                dir=words[0] if below else words[1], **context)
            prefix = GRADE[level_name][k] if level_name in GRADE else ""
            text = f"{prefix}{body if prefix else _capital(body)} {stat}."
        if (pretrend_p is not None and math.isfinite(pretrend_p)
                and pretrend_p < PRETREND_ALPHA):
            text += PRETREND_WARNING[k].format(p=number(pretrend_p, 3, lang))
        out.append(text)
    return out[0], out[1]


def not_estimable(why_en: str, why_fr: str) -> tuple[str, str]:
    return NOT_ESTIMABLE[0].format(why=why_en), NOT_ESTIMABLE[1].format(why=why_fr)
