"""One estimate as a row of the output table, with its sentences and caveats."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

from pipelines.impact import wording
from pipelines.impact.fitting import Coef, NotEstimable
from pipelines.impact.options import ImpactOptions

NAN = float("nan")
COLUMNS = [
    "estimate_id", "mission_id", "question", "estimand", "method", "estimate", "ci_low",
    "ci_high", "p_value", "n_obs", "n_clusters", "unit", "null_value", "detectable",
    "pretrend_p", "sentence_en", "sentence_fr", "caveat_en", "caveat_fr",
]
NULL_VALUE = {"rate_ratio": 1.0, "share": NAN}  # every other unit is a difference: 0


@dataclass
class Estimate:
    """A row of ``fct_impact_estimates``."""

    estimate_id: str
    mission_id: str
    question: str
    estimand: str
    method: str
    unit: str
    estimate: float = NAN
    ci_low: float = NAN
    ci_high: float = NAN
    p_value: float = NAN
    n_obs: int = 0
    n_clusters: int = 0
    pretrend_p: float = NAN
    sentence_en: str = ""
    sentence_fr: str = ""
    caveat_en: str = ""
    caveat_fr: str = ""

    @property
    def null_value(self) -> float:
        return NULL_VALUE.get(self.unit, 0.0)

    @property
    def detectable(self) -> bool | None:
        """The CI excludes the null value; None for descriptive estimates."""
        if math.isnan(self.null_value):
            return None
        if math.isnan(self.ci_low) or math.isnan(self.ci_high):
            return False
        return not self.ci_low <= self.null_value <= self.ci_high

    def row(self) -> dict[str, object]:
        return {**asdict(self), "null_value": self.null_value, "detectable": self.detectable}


def build(*, question: str, estimand: str, mission_id: str, method: str, unit: str,
          phrase: wording.Phrase, caveat: tuple[str, str], options: ImpactOptions,
          coef: Coef | None = None, error: NotEstimable | None = None,
          transform: Callable[[float], float] = lambda v: v,
          pretrend_p: float | None = None, context: dict[str, object] | None = None,
          few_clusters_caveat: bool = True) -> Estimate:
    """An estimate from a fitted coefficient (or the reason there is none)."""
    est = Estimate(f"{question}.{estimand}.{mission_id}", mission_id, question, estimand,
                   method, unit, pretrend_p=NAN if pretrend_p is None else pretrend_p)
    caveat_en, caveat_fr = caveat
    if coef is None:
        error = error or NotEstimable("no data", "aucune donnée")
        est.sentence_en, est.sentence_fr = wording.not_estimable(error.en, error.fr)
    else:
        low, high = coef.ci(options.level)
        est.estimate, est.ci_low, est.ci_high = transform(coef.estimate), transform(low), \
            transform(high)
        est.p_value = NAN if math.isnan(est.null_value) else coef.p_value
        est.n_obs, est.n_clusters = coef.n_obs, coef.n_clusters
        est.sentence_en, est.sentence_fr = wording.sentences(
            phrase, unit, est.estimate, est.ci_low, est.ci_high, est.null_value,
            est.p_value, est.n_obs, est.n_clusters, options.level, pretrend_p, context)
        if few_clusters_caveat and coef.n_clusters < options.few_clusters:
            few_en, few_fr = (text.format(n=coef.n_clusters, what=what) for text, what in zip(
                wording.FEW_CLUSTERS, (phrase.clusters_en, phrase.clusters_fr), strict=True))
            caveat_en, caveat_fr = f"{caveat_en} {few_en}", f"{caveat_fr} {few_fr}"
    est.caveat_en, est.caveat_fr = caveat_en, caveat_fr
    return est


def exp(value: float) -> float:
    return math.exp(value)


def se_words(options: ImpactOptions, cluster: str = "site") -> str:
    """How the standard errors were computed, for the method column."""
    kind = "CR3 cluster jackknife" if options.vcov == "CR3" else "CR1"
    return f"SE clustered by {cluster} ({kind}, t with G-1 df)"
