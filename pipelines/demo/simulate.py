"""Simulate one mission's weeks: patrols, incidents, trainings, strength and survey rounds.

Everything is drawn from one numpy generator, so a seed gives the same data. The tables use the
contracts' canonical column names and English codes; ``pipelines.demo.files`` localises them.
The planted effects are documented in ``pipelines.demo.effects``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.demo import effects as fx
from pipelines.demo.people import narrative, reporter_names, reporter_phones

START = dt.date(2024, 12, 30)  # the Monday of ISO week 2025-W01

CATEGORIES = {
    "killing": 0.09, "abduction": 0.08, "sgbv_crsv": 0.15, "robbery_looting": 0.24,
    "intercommunal_clash": 0.10, "armed_group_attack": 0.12, "host_state_abuse": 0.07,
    "public_disorder": 0.15,
}
SOURCE_TYPES = {"community": 0.45, "host_police": 0.2, "un": 0.15, "ngo": 0.12, "media": 0.08}
PERPETRATORS = {
    "host_state_abuse": "host_state_forces", "armed_group_attack": "armed_group",
    "intercommunal_clash": "community_members",
}
FATALITY_SHARE = {"killing": 0.9, "armed_group_attack": 0.3, "intercommunal_clash": 0.2}
TOPICS = ["community_policing", "sgbv_investigation", "human_rights", "public_order",
          "crime_scene", "detention_standards", "leadership"]
COURSE_NAMES = {
    "en": {"community_policing": "Community-oriented policing", "sgbv_investigation":
           "Investigating SGBV", "human_rights": "Human rights in policing", "public_order":
           "Public order management", "crime_scene": "Crime scene management",
           "detention_standards": "Detention standards", "leadership": "Command and leadership"},
    "fr": {"community_policing": "Police de proximité", "sgbv_investigation":
           "Enquêtes sur les VSBG", "human_rights": "Droits humains et police", "public_order":
           "Maintien de l'ordre public", "crime_scene": "Gestion de la scène de crime",
           "detention_standards": "Normes de détention", "leadership": "Commandement"},
}
AUTHORIZED = {"FPU": 560, "IPO": 400, "SPT": 80}
WOMEN_SHARE = {"FPU": 0.12, "IPO": 0.28, "SPT": 0.32}
AGE_BANDS = ["18-24", "25-34", "35-49", "50+"]
ROUND_EVERY_WEEKS = 13
LETTERS = list("ABCDEFGHJKMNPQRSTUVWXYZ")
RESPONDENTS_PER_SITE = 25


@dataclass
class MissionData:
    """A mission's simulated tables, and what was planted in them."""

    mission: str
    tables: dict[str, pd.DataFrame]
    programme_starts: dict[str, str] = field(default_factory=dict)
    personal_values: dict[str, list[str]] = field(default_factory=dict)
    narratives: list[str] = field(default_factory=list)


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km (numpy arrays or scalars)."""
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 6371.0 * 2 * np.arcsin(np.sqrt(a))


def _pick(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys])
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


def _range_for_distance(rng: np.random.Generator, km: np.ndarray) -> np.ndarray:
    """Short near the base, long further out, overnight for the furthest (with some noise)."""
    u = rng.random(len(km))
    return np.where(km < 15, np.where(u < 0.85, "short", "long"),
                    np.where(km < 60, np.where(u < 0.15, "short", "long"),
                             np.where(u < 0.6, "overnight", "long"))).astype(object)


class MissionSimulator:
    """Draws one mission's data; call :meth:`run`."""

    def __init__(self, rng: np.random.Generator, mission: pd.Series, sites: pd.DataFrame,
                 units: pd.DataFrame, weeks: int, effect: float):
        self.rng, self.weeks, self.effect = rng, weeks, effect
        self.mission_id: str = mission["mission_id"]
        self.language: str = mission["language"]
        self.sites = sites.reset_index(drop=True)
        self.units = units.reset_index(drop=True)
        self.days = weeks * 7
        self.dates = pd.to_datetime(START) + pd.to_timedelta(np.arange(self.days), unit="D")
        self.end = pd.Timestamp(START) + pd.Timedelta(days=self.days) - pd.Timedelta(minutes=1)
        base = self.sites.set_index("site_id")
        unit_sites = base.loc[self.units["base_site_id"]]
        # km from each unit's base (rows) to each site (columns)
        self.unit_km = haversine_km(
            unit_sites["latitude"].to_numpy()[:, None], unit_sites["longitude"].to_numpy()[:, None],
            self.sites["latitude"].to_numpy()[None, :], self.sites["longitude"].to_numpy()[None, :])
        self._serial = {"P": 0}

    # -- helpers ---------------------------------------------------------------------------

    def _ids(self, prefix: str, count: int) -> np.ndarray:
        start = self._serial.get(prefix, 0)
        self._serial[prefix] = start + count
        return np.array([f"{self.mission_id}-{prefix}{n:06d}"
                         for n in range(start + 1, start + count + 1)], dtype=object)

    def _unit_for_sites(self, site_index: np.ndarray) -> np.ndarray:
        """A patrolling unit for each site: one of its sector's units, else the nearest."""
        choices = []
        sectors = self.units["sector_id"].to_numpy()
        for s in range(len(self.sites)):
            local = np.flatnonzero(sectors == self.sites.at[s, "sector_id"])
            choices.append(local if len(local) else np.array([self.unit_km[:, s].argmin()]))
        pick = self.rng.random(len(site_index))
        return np.array([choices[s][int(u * len(choices[s]))]
                         for s, u in zip(site_index, pick, strict=True)], dtype=int)

    # -- the tables ------------------------------------------------------------------------

    def run(self) -> MissionData:
        rng, n_sites = self.rng, len(self.sites)
        # Regular foot-patrol programmes: half the sites, staggered start weeks.
        programme = rng.choice(n_sites, size=n_sites // 2, replace=False)
        low, high = max(1, self.weeks // 4), max(2, (3 * self.weeks) // 4)
        start_day = np.full(n_sites, np.iinfo(np.int32).max)
        start_day[programme] = rng.integers(low, high + 1, size=len(programme)) * 7
        active = np.arange(self.days)[:, None] >= start_day[None, :]  # days x sites

        # Planned patrols: a base rate at every site, plus near-daily foot patrols in programmes.
        base_p = 0.08 + 0.12 * rng.random(n_sites)
        base = rng.random((self.days, n_sites)) < base_p[None, :]
        foot = active & (rng.random((self.days, n_sites)) < 0.6)
        planned = base | foot
        counts = np.vstack([np.zeros((1, n_sites), int), np.cumsum(planned, axis=0)])
        window = fx.DETERRENCE_WINDOW_DAYS
        days = np.arange(self.days)
        presence = (counts[days] - counts[np.maximum(days - window, 0)]) > 0

        patrols = self._planned_patrols(base, foot)
        incidents, responses = self._incidents(presence)
        data = MissionData(
            self.mission_id,
            {
                "patrols": pd.concat([patrols, responses], ignore_index=True)
                .sort_values("start_time", kind="stable").reset_index(drop=True),
                "incidents": incidents,
                "trainings": self._trainings(),
                "strength": self._strength(),
                "surveys": self._surveys(start_day),
            },
        )
        data.programme_starts = {
            self.sites.at[s, "site_id"]: (START + dt.timedelta(days=int(start_day[s]))).isoformat()
            for s in sorted(programme)
        }
        data.personal_values = {
            "reporter_names": sorted(set(incidents["reporter_name"].dropna())),
            "reporter_phones": sorted(set(incidents["reporter_phone"].dropna())),
            "respondent_ids": sorted(set(data.tables["surveys"]["respondent_id"])),
        }
        data.narratives = incidents["narrative"].dropna().tolist()
        return data

    def _patrol_rows(self, day: np.ndarray, site: np.ndarray, unit: np.ndarray,
                     mode: np.ndarray, range_: np.ndarray, start: pd.Series,
                     hours: np.ndarray, purpose: np.ndarray) -> pd.DataFrame:
        rng, n = self.rng, len(day)
        unit_type = self.units["unit_type"].to_numpy()[unit]
        persons = np.where(unit_type == "FPU", rng.integers(12, 31, n), rng.integers(3, 11, n))
        joint = _pick(rng, {"none": 0.6, "host_police": 0.25, "military": 0.15}, n)
        host = np.where(joint == "host_police", rng.integers(2, 9, n), 0)
        return pd.DataFrame({
            "patrol_id": self._ids("P", n),
            "mission": self.mission_id,
            "unit_id": self.units["unit_id"].to_numpy()[unit],
            "unit_type": unit_type,
            "start_time": start.dt.floor("min").to_numpy(),
            "end_time": (start + pd.to_timedelta(hours, unit="h")).dt.floor("min").to_numpy(),
            "site_id": self.sites["site_id"].to_numpy()[site],
            "mode": mode,
            "range": range_,
            "joint_with": joint,
            "persons": persons,
            "women": rng.binomial(persons, 0.18),
            "host_police_persons": host,
            "purpose": purpose,
            "alert_id": None,
        })

    def _planned_patrols(self, base: np.ndarray, foot: np.ndarray) -> pd.DataFrame:
        rng = self.rng
        day_b, site_b = np.nonzero(base)
        day_f, site_f = np.nonzero(foot)
        day = np.concatenate([day_b, day_f])
        site = np.concatenate([site_b, site_f])
        n = len(day)
        unit = self._unit_for_sites(site)
        modes = {"vehicle": 0.78, "foot": 0.15, "air": 0.02}
        if self.mission_id.startswith("UN"):
            modes |= {"boat": 0.08}
        mode = np.concatenate([_pick(rng, modes, len(day_b)),
                               np.full(len(day_f), "foot", dtype=object)])
        km = self.unit_km[unit, site]
        range_ = np.where(mode == "foot", "short", _range_for_distance(rng, km)).astype(object)
        hours = np.select([range_ == "short", range_ == "long"],
                          [rng.uniform(2, 5, n), rng.uniform(5, 10, n)], rng.uniform(10, 14, n))
        start_hour = np.where(range_ == "overnight", rng.uniform(17, 20, n), rng.uniform(6, 15, n))
        start = pd.Series(self.dates[day]) + pd.to_timedelta(start_hour, unit="h")
        site_type = self.sites["site_type"].to_numpy()[site]
        routine = _pick(rng, {"market_day": 0.3, "area_domination": 0.3,
                              "community_engagement": 0.3, "escort": 0.1}, n)
        camp = rng.random(n) < 0.6
        purpose = np.select(
            [range_ == "overnight", (site_type == "IDP camp") & camp,
             (site_type == "POC site") & camp],
            ["night_presence", "idp_site", "poc_site"], routine).astype(object)
        return self._patrol_rows(day, site, unit, mode, range_, start, hours, purpose)

    def _incidents(self, presence: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        rng, n_sites = self.rng, len(self.sites)
        population = self.sites["population"].to_numpy(float)
        site_rate = 0.05 * np.sqrt(population / np.median(population)) * rng.gamma(4, 0.25, n_sites)
        week = np.arange(self.days) // 7
        phase = rng.uniform(0, 2 * np.pi)
        season = np.exp(0.3 * np.sin(2 * np.pi * np.arange(self.weeks + 1) / 52 + phase)
                        + rng.normal(0, 0.15, self.weeks + 1))
        rate_ratio = fx.DETERRENCE_RATE_RATIO ** self.effect
        lam = site_rate[None, :] * season[week][:, None] * np.where(presence, rate_ratio, 1.0)
        counts = rng.poisson(lam)
        day, site = np.nonzero(counts)
        day, site = np.repeat(day, counts[day, site]), np.repeat(site, counts[day, site])
        n = len(day)
        category = _pick(rng, CATEGORIES, n)
        victims = 1 + rng.poisson(1.0, n)
        share = np.array([FATALITY_SHARE.get(c, 0.0) for c in category])
        fatalities = np.maximum(rng.binomial(victims, share), (category == "killing").astype(int))
        fatalities = np.minimum(fatalities, victims)
        perpetrator = np.array(
            [PERPETRATORS.get(c) for c in category], dtype=object)
        other = _pick(rng, {"armed_group": 0.3, "criminals": 0.35, "community_members": 0.1,
                            "unknown": 0.25}, n)
        perpetrator = np.where(pd.isna(perpetrator), other, perpetrator)
        occurred = pd.Series(self.dates[day]) + pd.to_timedelta(rng.uniform(0, 24, n), unit="h")
        reported = occurred + pd.to_timedelta(rng.exponential(5, n), unit="h")
        reported = reported.where(reported <= self.end, self.end)
        green = (category == "armed_group_attack") & (fatalities >= 2)
        names = reporter_names(rng, self.language, n)
        has_reporter = rng.random(n) < 0.6
        incidents = pd.DataFrame({
            "incident_id": self._ids("I", n),
            "mission": self.mission_id,
            "occurred_at": occurred.dt.floor("min"),
            "reported_at": reported.dt.floor("min"),
            "site_id": self.sites["site_id"].to_numpy()[site],
            "category": category,
            "victims": victims,
            "fatalities": fatalities,
            "perpetrator_type": perpetrator,
            "source_type": _pick(rng, SOURCE_TYPES, n),
            "alert_id": None,
            "alert_received_at": pd.NaT,
            "response_arrived_at": pd.NaT,
            "referred_at": pd.NaT,
            "box": np.where(green, "green", "blue"),
            "narrative": [narrative(rng, self.language, c, self.sites.at[s, "site_name"], v)
                          for c, s, v in zip(category, site, victims, strict=True)],
            "reporter_name": np.where(has_reporter, names, None),
            "reporter_phone": np.where(has_reporter, reporter_phones(rng, self.mission_id, n),
                                       None),
        })
        sgbv = (category == "sgbv_crsv") & (rng.random(n) < 0.75)
        incidents.loc[sgbv, "referred_at"] = (
            incidents.loc[sgbv, "reported_at"]
            + pd.to_timedelta(rng.exponential(36, sgbv.sum()), unit="h")).dt.floor("min")
        alerted = np.flatnonzero((rng.random(n) < 0.45) & (day < self.days - 1))
        responses = self._responses(incidents, alerted, site[alerted], day[alerted])
        return incidents, responses

    def _responses(self, incidents: pd.DataFrame, alerted: np.ndarray, site: np.ndarray,
                   day: np.ndarray) -> pd.DataFrame:
        """Alert-response patrols; arrival time follows the planted response-time effect."""
        rng, n = self.rng, len(alerted)
        responders = np.flatnonzero(self.units["unit_type"].isin(["FPU", "IPO"]).to_numpy())
        nearest = responders[np.argsort(self.unit_km[responders][:, site], axis=0)[:2]]
        unit = np.where(rng.random(n) < 0.7, nearest[0], nearest[min(1, len(nearest) - 1)])
        km = self.unit_km[unit, site]
        range_ = _range_for_distance(rng, km)
        offsets = np.array([fx.RESPONSE_RANGE_MINUTES[r] for r in range_])
        minutes = (fx.RESPONSE_BASE_MINUTES
                   + self.effect * (fx.RESPONSE_MINUTES_PER_KM * km + offsets)
                   + rng.exponential(fx.RESPONSE_NOISE_MEAN_MINUTES, n))
        alert_at = incidents.loc[alerted, "reported_at"].reset_index(drop=True)
        arrived = (alert_at + pd.to_timedelta(minutes, unit="m")).dt.floor("min")
        alert_ids = self._ids("A", n)
        columns = incidents.columns
        incidents.iloc[alerted, columns.get_loc("alert_id")] = alert_ids
        incidents.iloc[alerted, columns.get_loc("alert_received_at")] = alert_at.to_numpy()
        incidents.iloc[alerted, columns.get_loc("response_arrived_at")] = arrived.to_numpy()
        modes = {"vehicle": 0.85, "boat": 0.15} if self.mission_id.startswith("UN") else {
            "vehicle": 1.0}
        start = alert_at + pd.to_timedelta(np.minimum(10, minutes * 0.3), unit="m")
        hours = ((arrived - start).dt.total_seconds() / 3600 + rng.uniform(1, 3, n)).to_numpy()
        rows = self._patrol_rows(day, site, unit, _pick(rng, modes, n), range_, start, hours,
                                 np.full(n, "alert_response", dtype=object))
        rows["alert_id"] = alert_ids
        return rows

    def _trainings(self) -> pd.DataFrame:
        rng = self.rng
        sessions = rng.poisson(0.8, self.weeks)
        sessions[0] = max(sessions[0], 1)
        week = np.repeat(np.arange(self.weeks), sessions)
        n = len(week)
        towns = self.sites[self.sites["site_type"] == "town"]["site_id"].to_numpy()
        topic = rng.choice(TOPICS, n)
        start = pd.Series(pd.to_datetime(START) + pd.to_timedelta(
            week * 7 + rng.integers(0, 5, n), unit="D"))
        participants = rng.integers(12, 36, n)
        pre = np.clip(rng.normal(48, 10, n), 5, 90)
        post = np.clip(pre + fx.TRAINING_GAIN_POINTS * self.effect
                       + rng.normal(0, fx.TRAINING_NOISE_SD, n), 0, 100)
        certified = rng.binomial(participants, np.clip(0.4 + (post - 50) / 100, 0.05, 0.98))
        units = [f"{'Commissariat' if self.language == 'fr' else 'Police post'} {k}"
                 for k in rng.integers(1, 9, n)]
        return pd.DataFrame({
            "session_id": self._ids("T", n),
            "mission": self.mission_id,
            "course": [COURSE_NAMES[self.language][t] for t in topic],
            "topic": topic.astype(object),
            "site_id": rng.choice(towns, n),
            "start_date": start.dt.date,
            "end_date": (start + pd.to_timedelta(rng.integers(0, 5, n), unit="D")).dt.date,
            "host_police_unit": units,
            "participants": participants,
            "women": rng.binomial(participants, 0.22),
            "pre_test_score": pre.round(1),
            "post_test_score": post.round(1),
            "certified": certified,
        })

    def _strength(self) -> pd.DataFrame:
        rng = self.rng
        months = pd.period_range(self.dates[0], self.dates[-1], freq="M")
        fpus = int((self.units["unit_type"] == "FPU").sum())
        rows = []
        for month in months:
            for unit_type, authorized in AUTHORIZED.items():
                deployed = int(authorized * rng.uniform(0.85, 0.99))
                rows.append({
                    "mission": self.mission_id,
                    "month": month.start_time.date(),
                    "unit_type": unit_type,
                    "authorized": authorized,
                    "deployed": deployed,
                    "women": int(rng.binomial(deployed, WOMEN_SHARE[unit_type])),
                    "fpu_operational_days": (fpus * month.days_in_month
                                             - int(rng.integers(0, 6)))
                    if unit_type == "FPU" else None,
                })
        return pd.DataFrame(rows)

    def _surveys(self, start_day: np.ndarray) -> pd.DataFrame:
        rng, n_sites = self.rng, len(self.sites)
        baseline = rng.uniform(0.25, 0.45, n_sites)
        population = self.sites["population"].to_numpy(float)
        frames = []
        for k, first_week in enumerate(range(0, self.weeks, ROUND_EVERY_WEEKS), start=1):
            first_day = first_week * 7
            label = f"{(START + dt.timedelta(days=first_day)).isocalendar().year}-R{k}"
            n = n_sites * RESPONDENTS_PER_SITE
            site = np.repeat(np.arange(n_sites), RESPONDENTS_PER_SITE)
            day = first_day + rng.integers(0, min(7, self.days - first_day), n)
            gain = fx.PERCEPTION_FEELS_SAFE_GAIN * self.effect * (day >= start_day[site])
            high = rng.random(n) < np.clip(baseline[site] + rng.normal(0, 0.03) + gain, 0, 1)
            feels_safe = np.where(high, rng.integers(4, 6, n), rng.integers(1, 4, n))
            trust_host = np.clip(np.round(rng.normal(2.8, 1.1, n)), 1, 5).astype(int)
            weight = population[site] / RESPONDENTS_PER_SITE / population.mean()
            frames.append(pd.DataFrame({
                "round": label,
                "mission": self.mission_id,
                "site_id": self.sites["site_id"].to_numpy()[site],
                "interview_date": (pd.Series(pd.to_datetime(START) + pd.to_timedelta(
                    day, unit="D"))).dt.date,
                "respondent_id": [
                    f"{self.mission_id[:3]}-{''.join(rng.choice(LETTERS, 3))}{v:05d}"
                    for v in rng.choice(100_000, n, replace=False)],
                "weight": (weight * rng.uniform(0.8, 1.2, n)).round(4),
                "sex": np.where(rng.random(n) < 0.52, "female", "male"),
                "age_band": rng.choice(AGE_BANDS, n, p=[0.25, 0.3, 0.28, 0.17]),
                "feels_safe": feels_safe,
                "trust_host_police": trust_host,
                "trust_unpol": np.clip(feels_safe + rng.integers(-1, 2, n), 1, 5),
                "would_report_to_police": rng.random(n) < 0.35 + 0.1 * (trust_host >= 4),
            }))
        return pd.concat(frames, ignore_index=True)
