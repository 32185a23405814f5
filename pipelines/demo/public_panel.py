"""A synthetic mission-month panel with a planted police effect, for the count model's checks
and for ``pocmon demo --public`` (which writes it out as public-format files).

Per mission: UN police (individual officers and formed units) and troops follow multiplicative
random walks; civilians killed in one-sided violence each month are negative binomial (NB2,
dispersion ``alpha``) with mean exp(a_m + log(police_irr) x police_{t-1} / 100 +
log(troops_irr) x troops_{t-1} / 100): the rate ratio per 100 police in the previous month is
``police_irr`` exactly, per 100 troops ``troops_irr``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

BASE_RATE = 12.0  # mean civilian deaths a month at the average mission's starting strength


def _walk(rng: np.random.Generator, start: float, months: int, step: float) -> np.ndarray:
    return start * np.exp(np.cumsum(rng.normal(0.0, step, months)))


def simulate_mission_months(missions: list[str], months: int, *, seed: int = 7,
                            police_irr: float = 0.85, troops_irr: float = 1.0,
                            alpha: float = 0.5, start: dt.date = dt.date(2015, 1, 1)
                            ) -> pd.DataFrame:
    """Mission-months shaped like ``marts.fct_mission_months`` (the columns the model reads,
    and the strength by type), the first month of each mission without lags."""
    rng = np.random.default_rng(seed)
    first = pd.Timestamp(start)
    rows = []
    for mission_id in missions:
        ipo = np.rint(_walk(rng, rng.uniform(150, 600), months + 1, 0.08))
        fpu = np.rint(_walk(rng, rng.uniform(300, 1500), months + 1, 0.08))
        troops = np.rint(_walk(rng, rng.uniform(2000, 12000), months + 1, 0.05))
        police = ipo + fpu
        level = np.log(BASE_RATE) + rng.normal(0, 0.5) \
            - np.log(police_irr) * police[0] / 100 - np.log(troops_irr) * troops[0] / 100
        for t in range(1, months + 1):
            mu = np.exp(level + np.log(police_irr) * police[t - 1] / 100
                        + np.log(troops_irr) * troops[t - 1] / 100)
            deaths = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu))
            rows.append({
                "mission_id": mission_id, "month_start": first + pd.DateOffset(months=t - 1),
                "individual_police": ipo[t], "formed_police": fpu[t], "police": police[t],
                "troops": troops[t], "police_lag1": police[t - 1],
                "troops_lag1": troops[t - 1], "one_sided_civilian_deaths": int(deaths),
                "strength_reported": True, "ged_covered": True,
            })
    return pd.DataFrame(rows)
