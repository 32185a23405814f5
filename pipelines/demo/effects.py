"""The effects the demo generator plants, so that estimators can be checked against the truth.

Every effect is multiplied by ``effect`` (``pocmon demo --effect``): 1 plants the values below,
0 plants none (the rate ratio becomes 1 and every other effect 0).

Deterrence
    A *planned* patrol (any purpose except ``alert_response``) starting at a site on one of the
    ``DETERRENCE_WINDOW_DAYS`` days before a day multiplies that site-day's incident rate by
    ``DETERRENCE_RATE_RATIO ** effect``. Rates also vary by site (population, a site factor) and
    by mission-week (a common seasonal factor), so a Poisson model of site-day incidents on
    presence with site and mission-week fixed effects recovers the rate ratio.
    Regular foot-patrol programmes start at about half the sites of each mission, at staggered
    weeks chosen at random (not in response to incidents), which gives an event-study design.

Response
    Minutes from alert to arrival = ``RESPONSE_BASE_MINUTES``
    + effect x (``RESPONSE_MINUTES_PER_KM`` x km + ``RESPONSE_RANGE_MINUTES[range]``)
    + an exponential delay with mean ``RESPONSE_NOISE_MEAN_MINUTES``.
    km is the great-circle distance from the responding unit's base site to the incident site.

Perception
    In survey rounds, the probability that a respondent feels safe (``feels_safe`` 4 or 5) is a
    site baseline plus ``PERCEPTION_FEELS_SAFE_GAIN x effect`` where the site's regular
    foot-patrol programme had started before the interview.

Training
    A session's mean post-test score = its pre-test score + ``TRAINING_GAIN_POINTS x effect``
    + normal noise (sd ``TRAINING_NOISE_SD``), clipped to 0-100.
"""

from __future__ import annotations

DETERRENCE_RATE_RATIO = 0.70
DETERRENCE_WINDOW_DAYS = 3

RESPONSE_BASE_MINUTES = 15.0
RESPONSE_MINUTES_PER_KM = 1.5
RESPONSE_RANGE_MINUTES = {"short": 0.0, "long": 45.0, "overnight": 120.0}
RESPONSE_NOISE_MEAN_MINUTES = 20.0

PERCEPTION_FEELS_SAFE_GAIN = 0.15
TRAINING_GAIN_POINTS = 12.0
TRAINING_NOISE_SD = 6.0


def planted_effects(effect: float) -> dict[str, dict[str, object]]:
    """The planted values at a given scale, as written to the demo truth file."""
    return {
        "deterrence": {
            "rate_ratio": DETERRENCE_RATE_RATIO**effect,
            "window_days": DETERRENCE_WINDOW_DAYS,
            "definition": "incident rate ratio on site-days with a planned (not alert-response)"
            f" patrol started at the site in the previous {DETERRENCE_WINDOW_DAYS} days",
        },
        "response": {
            "base_minutes": RESPONSE_BASE_MINUTES,
            "minutes_per_km": RESPONSE_MINUTES_PER_KM * effect,
            "range_minutes": {k: v * effect for k, v in RESPONSE_RANGE_MINUTES.items()},
            "noise_mean_minutes": RESPONSE_NOISE_MEAN_MINUTES,
            "definition": "alert-to-arrival minutes = base + per_km x distance from the "
            "responding unit's base site + range_minutes[range] + exponential noise",
        },
        "perception": {
            "feels_safe_share_gain": PERCEPTION_FEELS_SAFE_GAIN * effect,
            "definition": "gain in the probability of feels_safe >= 4 at sites whose regular "
            "foot-patrol programme started before the interview",
        },
        "training": {
            "post_minus_pre_points": TRAINING_GAIN_POINTS * effect,
            "definition": "mean post-test minus pre-test score of a session",
        },
    }
