"""Vectorised rows for the bulk demo: one mission-week of each source as Arrow columns.

Everything is numpy arrays of codes and minutes, turned into Arrow string columns only at the
end, so a mission-week of ten thousand patrols costs milliseconds. Codes are the contracts'
canonical English values; ``pipelines.demo.bulk`` localises them when it writes a file.
Timestamps are minutes since 1970-01-01 in the mission's local time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.demo.people import CATEGORY_WORDS, COUNTRY_CODES, FIRST_NAMES, LAST_NAMES
from pipelines.demo.simulate import (
    AUTHORIZED,
    CATEGORIES,
    COURSE_NAMES,
    FATALITY_SHARE,
    PERPETRATORS,
    SOURCE_TYPES,
    TOPICS,
    WOMEN_SHARE,
    haversine_km,
)

EPOCH = dt.date(1970, 1, 1)
DAY = 1440  # minutes
CATEGORY_CODES = list(CATEGORIES)
PERPETRATOR_CODES = ["armed_group", "host_state_forces", "community_members", "criminals",
                     "unknown"]
SOURCE_CODES = list(SOURCE_TYPES)
MODE_CODES = ["foot", "vehicle", "boat", "air"]
RANGE_CODES = ["short", "long", "overnight"]
JOINT_CODES = ["none", "military", "host_police"]
PURPOSE_CODES = ["idp_site", "poc_site", "market_day", "escort", "alert_response",
                 "area_domination", "community_engagement", "night_presence"]
UNIT_TYPES = ["FPU", "IPO", "SPT"]
AGE_BANDS = ["18-24", "25-34", "35-49", "50+"]
RESPONDENTS_PER_SITE = 25
NULL_TEXT = pa.scalar(None, pa.string())


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def codes(rng: np.random.Generator, labels: list[str], weights: dict[str, float],
          size: int) -> np.ndarray:
    """Random codes (indexes into ``labels``) drawn with ``weights`` (label -> weight)."""
    p = np.array([weights.get(label, 0.0) for label in labels])
    return rng.choice(len(labels), size=size, p=p / p.sum())


def ids(prefix: str, count: int, width: int = 6) -> pa.Array:
    """``<prefix>000001``, ``<prefix>000002``, ... as an Arrow string array."""
    numbers = pc.cast(pa.array(np.arange(1, count + 1)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width, "0"), "")


def pick_labels(labels: list[str] | np.ndarray, index: np.ndarray) -> pa.Array:
    """Labels by index, as an Arrow string array (fast for millions of rows)."""
    dictionary = pa.array(list(labels), pa.string())
    return pc.take(dictionary, pa.array(index.astype(np.int32)))


def minutes_text(minutes: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Minutes since the epoch as ``YYYY-MM-DD HH:MM`` text (null where ``mask`` is False)."""
    stamps = pa.array(minutes.astype(np.int64) * 60, pa.timestamp("s"),
                      mask=None if mask is None else ~mask)
    return pc.strftime(stamps, format="%Y-%m-%d %H:%M")


def days_text(days: np.ndarray) -> pa.Array:
    """Days since the epoch as ``YYYY-MM-DD`` text."""
    return pc.strftime(pa.array(days.astype(np.int32), pa.date32()), format="%Y-%m-%d")


@dataclass
class MissionModel:
    """A mission's fixed features: site weights, units and their distances to the sites."""

    mission_id: str
    language: str
    site_ids: np.ndarray
    site_names: np.ndarray
    site_sector: np.ndarray
    site_type: np.ndarray
    population: np.ndarray
    patrol_weight: np.ndarray   # share of the mission's patrols per site
    incident_weight: np.ndarray  # share of the mission's incidents per site
    unit_ids: np.ndarray
    unit_type: np.ndarray
    unit_sector: np.ndarray
    unit_from: np.ndarray       # deployed_from, day number
    unit_to: np.ndarray         # withdrawn_on, day number (large when still deployed)
    km: np.ndarray              # units x sites, from the unit's base site
    activity: float             # relative size of the mission's operations

    @classmethod
    def build(cls, rng: np.random.Generator, mission: pd.Series, sites: pd.DataFrame,
              units: pd.DataFrame) -> MissionModel:
        sites = sites.sort_values("site_id").reset_index(drop=True)
        units = units.sort_values("unit_id").reset_index(drop=True)
        population = sites["population"].to_numpy(float)
        # busy towns and camps get most patrols, remote villages few: some site-days without
        # any patrol remain, as in a real mission
        patrol = population ** 0.6 * rng.lognormal(0, 0.8, len(sites))
        incident = np.sqrt(population) * rng.gamma(2.0, 0.5, len(sites))
        base = sites.set_index("site_id").loc[units["base_site_id"]]
        km = haversine_km(base["latitude"].to_numpy()[:, None],
                          base["longitude"].to_numpy()[:, None],
                          sites["latitude"].to_numpy()[None, :],
                          sites["longitude"].to_numpy()[None, :])
        withdrawn = pd.to_datetime(units["withdrawn_on"].replace("", None))
        deployed = pd.to_datetime(units["deployed_from"].replace("", "1970-01-01"))
        never = day_number(dt.date(9999, 1, 1))
        return cls(
            mission_id=str(mission["mission_id"]), language=str(mission["language"]),
            site_ids=sites["site_id"].to_numpy(str), site_names=sites["site_name"].to_numpy(str),
            site_sector=sites["sector_id"].to_numpy(str),
            site_type=sites["site_type"].to_numpy(str), population=population,
            patrol_weight=patrol / patrol.sum(), incident_weight=incident / incident.sum(),
            unit_ids=units["unit_id"].to_numpy(str), unit_type=units["unit_type"].to_numpy(str),
            unit_sector=units["sector_id"].to_numpy(str),
            unit_from=((deployed - pd.Timestamp(EPOCH)).dt.days).to_numpy(np.int64),
            unit_to=np.where(withdrawn.isna(), never,
                             (withdrawn - pd.Timestamp(EPOCH)).dt.days.fillna(0)
                             ).astype(np.int64),
            km=km, activity=float(len(sites)) * (0.6 + 0.8 * rng.random()),
        )

    def deployed(self, day: int) -> np.ndarray:
        """Units deployed on a day (deployed_from <= day < withdrawn_on)."""
        return (self.unit_from <= day) & (day < self.unit_to)


class WeekBuilder:
    """Draws one mission-week; ``monday`` is the week's Monday as a day number."""

    def __init__(self, model: MissionModel, rng: np.random.Generator, monday: int,
                 label: str, bad_share: float):
        self.m, self.rng, self.monday, self.label = model, rng, monday, label
        self.bad_share = bad_share
        self.planted = 0  # rows that break one contract rule (quarantined at ingestion)
        thursday = monday + 3
        self.on_duty = np.flatnonzero(model.deployed(thursday))
        if not len(self.on_duty):
            raise ValueError(f"{model.mission_id}: no unit deployed in week {label}")
        self.prefix = f"{model.mission_id}-{label.replace('-', '')}"

    # -- units -----------------------------------------------------------------------------

    def _sector_units(self, site: np.ndarray) -> np.ndarray:
        """A patrolling unit for each row's site: a deployed unit of the site's sector, else
        the nearest deployed unit."""
        m, duty = self.m, self.on_duty
        candidates = []
        for s in range(len(m.site_ids)):
            local = duty[m.unit_sector[duty] == m.site_sector[s]]
            candidates.append(local if len(local) else duty[[m.km[duty, s].argmin()]])
        width = max(len(c) for c in candidates)
        table = np.array([np.resize(c, width) for c in candidates])
        count = np.array([len(c) for c in candidates])
        pick = (self.rng.random(len(site)) * count[site]).astype(int)
        return table[site, pick]

    def _responders(self, site: np.ndarray) -> np.ndarray:
        """The answering unit per alert: the nearest deployed FPU or IPO team (70%), else the
        second nearest."""
        m = self.m
        responders = self.on_duty[np.isin(m.unit_type[self.on_duty], ["FPU", "IPO"])]
        if not len(responders):
            responders = self.on_duty
        order = np.argsort(m.km[responders][:, site], axis=0)
        first = responders[order[0]]
        second = responders[order[min(1, len(responders) - 1)]]
        return np.where(self.rng.random(len(site)) < 0.7, first, second)

    # -- patrols ---------------------------------------------------------------------------

    def patrols(self, planned: int, alerts: dict[str, np.ndarray]) -> pa.Table:
        """``planned`` planned patrols plus one alert-response patrol per alert."""
        rng, m = self.rng, self.m
        site = rng.choice(len(m.site_ids), size=planned, p=m.patrol_weight)
        unit = self._sector_units(site)
        mode = codes(rng, MODE_CODES, {"vehicle": 0.66, "foot": 0.27, "air": 0.01,
                                       "boat": 0.06 if m.mission_id.startswith("UN") else 0},
                     planned)
        km = m.km[unit, site]
        range_ = np.where(mode == 0, 0, range_for_distance(rng, km))
        hours = np.select([range_ == 0, range_ == 1],
                          [rng.uniform(2, 5, planned), rng.uniform(5, 10, planned)],
                          rng.uniform(10, 14, planned))
        start_hour = np.where(range_ == 2, rng.uniform(17, 20, planned),
                              rng.uniform(6, 15, planned))
        start = (self.monday + rng.integers(0, 7, planned)) * DAY + (start_hour * 60).astype(int)
        end = start + (hours * 60).astype(int)
        routine = codes(rng, PURPOSE_CODES, {"market_day": 0.3, "area_domination": 0.3,
                                             "community_engagement": 0.3, "escort": 0.1},
                        planned)
        camp = rng.random(planned) < 0.6
        site_type = m.site_type[site]
        purpose = np.select(
            [range_ == 2, (site_type == "IDP camp") & camp, (site_type == "POC site") & camp],
            [PURPOSE_CODES.index("night_presence"), PURPOSE_CODES.index("idp_site"),
             PURPOSE_CODES.index("poc_site")], routine)

        n_alerts = len(alerts["site"])
        if n_alerts:
            a_unit = self._responders(alerts["site"])
            a_km = m.km[a_unit, alerts["site"]]
            site = np.concatenate([site, alerts["site"]])
            unit = np.concatenate([unit, a_unit])
            a_mode = np.where((rng.random(n_alerts) < 0.15) & m.mission_id.startswith("UN"), 2, 1)
            mode = np.concatenate([mode, a_mode])
            range_ = np.concatenate([range_, range_for_distance(rng, a_km)])
            start = np.concatenate([start, alerts["patrol_start"]])
            end = np.concatenate([end, alerts["arrived"] + rng.integers(60, 180, n_alerts)])
            purpose = np.concatenate([purpose,
                                      np.full(n_alerts, PURPOSE_CODES.index("alert_response"))])
        n = len(site)
        order = np.argsort(start, kind="stable")
        site, unit, mode, range_, start, end, purpose = (
            a[order] for a in (site, unit, mode, range_, start, end, purpose))
        alert_row = np.full(n, -1)
        alert_row[np.flatnonzero(order >= planned)] = order[order >= planned] - planned
        unit_type = np.searchsorted(UNIT_TYPES, m.unit_type[unit])
        persons = np.where(unit_type == 0, rng.integers(12, 31, n), rng.integers(3, 11, n))
        women = rng.binomial(persons, 0.18)
        bad = rng.random(n) < self.bad_share  # breaks women_within_persons
        women = np.where(bad, persons + 1, women)
        self.planted += int(bad.sum())
        joint = codes(rng, JOINT_CODES, {"none": 0.6, "host_police": 0.25, "military": 0.15}, n)
        host = np.where(joint == 2, rng.integers(2, 9, n), 0)
        alert_ids = pa.nulls(n, pa.string())
        if n_alerts:
            taken = pc.take(alerts["ids"], pa.array(np.maximum(alert_row, 0)))
            alert_ids = pc.if_else(pa.array(alert_row >= 0), taken, NULL_TEXT)
        return pa.table({
            "patrol_id": ids(f"{self.prefix}-P", n),
            "mission": pa.array(np.full(n, m.mission_id)),
            "unit_id": pick_labels(m.unit_ids, unit),
            "unit_type": pick_labels(UNIT_TYPES, unit_type),
            "start_time": minutes_text(start),
            "end_time": minutes_text(end),
            "site_id": pick_labels(m.site_ids, site),
            "mode": pick_labels(MODE_CODES, mode),
            "range": pick_labels(RANGE_CODES, range_),
            "joint_with": pick_labels(JOINT_CODES, joint),
            "persons": pa.array(persons),
            "women": pa.array(women),
            "host_police_persons": pa.array(host),
            "purpose": pick_labels(PURPOSE_CODES, purpose),
            "alert_id": alert_ids,
        })

    # -- incidents -------------------------------------------------------------------------

    def incidents(self, count: int, max_alerts: int) -> tuple[pa.Table, dict[str, np.ndarray]]:
        """``count`` incidents reported this week; the alerts they raised (for the patrols)."""
        rng, m = self.rng, self.m
        week_end = (self.monday + 7) * DAY - 1
        site = rng.choice(len(m.site_ids), size=count, p=m.incident_weight)
        occurred = self.monday * DAY + rng.integers(0, 7 * DAY - 4 * 60, count)
        reported = np.minimum(occurred + (rng.exponential(5, count) * 60).astype(int),
                              week_end - 3 * 60)
        category = codes(rng, CATEGORY_CODES, CATEGORIES, count)
        victims = 1 + rng.poisson(1.0, count)
        share = np.array([FATALITY_SHARE.get(c, 0.0) for c in CATEGORY_CODES])[category]
        fatalities = np.minimum(np.maximum(rng.binomial(victims, share),
                                           category == CATEGORY_CODES.index("killing")), victims)
        bad = rng.random(count) < self.bad_share  # breaks fatalities_within_victims
        fatalities = np.where(bad, victims + 1, fatalities)
        self.planted += int(bad.sum())
        fixed = np.array([PERPETRATOR_CODES.index(PERPETRATORS[c]) if c in PERPETRATORS else -1
                          for c in CATEGORY_CODES])[category]
        other = codes(rng, PERPETRATOR_CODES, {"armed_group": 0.3, "criminals": 0.35,
                                               "community_members": 0.1, "unknown": 0.25}, count)
        perpetrator = np.where(fixed >= 0, fixed, other)
        green = (category == CATEGORY_CODES.index("armed_group_attack")) & (fatalities >= 2)
        sgbv = (category == CATEGORY_CODES.index("sgbv_crsv")) & (rng.random(count) < 0.75)
        referred = reported + (rng.exponential(36, count) * 60).astype(int)

        alerted = np.flatnonzero(rng.random(count) < 0.45)[:max_alerts]
        a_site = site[alerted]
        a_unit = self._responders(a_site)
        a_km = m.km[a_unit, a_site]
        a_range = range_for_distance(rng, a_km)
        minutes = (15 + 1.5 * a_km + np.array([0, 45, 120])[a_range]
                   + rng.exponential(20, len(alerted)))
        alert_at = reported[alerted]
        arrived = alert_at + minutes.astype(int)
        patrol_start = np.minimum(alert_at + np.minimum(10, minutes * 0.3).astype(int), week_end)
        alert_ids = ids(f"{self.prefix}-A", len(alerted))
        has_alert = np.zeros(count, bool)
        has_alert[alerted] = True
        slot = np.full(count, 0)
        slot[alerted] = np.arange(len(alerted))
        alert_col = pc.if_else(pa.array(has_alert), pc.take(alert_ids, pa.array(slot)),
                               NULL_TEXT) if len(alerted) else pa.nulls(count, pa.string())
        arrived_all = np.zeros(count, np.int64)
        arrived_all[alerted] = arrived

        names, phones = people(rng, m.language, m.mission_id, count)
        has_reporter = rng.random(count) < 0.6
        narratives = narrative_texts(rng, m.language, category, m.site_names[site], victims)
        table = pa.table({
            "incident_id": ids(f"{self.prefix}-I", count),
            "mission": pa.array(np.full(count, m.mission_id)),
            "occurred_at": minutes_text(occurred),
            "reported_at": minutes_text(reported),
            "site_id": pick_labels(m.site_ids, site),
            "category": pick_labels(CATEGORY_CODES, category),
            "victims": pa.array(victims),
            "fatalities": pa.array(fatalities),
            "perpetrator_type": pick_labels(PERPETRATOR_CODES, perpetrator),
            "source_type": pick_labels(SOURCE_CODES, codes(rng, SOURCE_CODES, SOURCE_TYPES,
                                                           count)),
            "alert_id": alert_col,
            "alert_received_at": minutes_text(reported, has_alert),
            "response_arrived_at": minutes_text(arrived_all, has_alert),
            "referred_at": minutes_text(referred, sgbv),
            "box": pick_labels(["blue", "green"], green.astype(int)),
            "narrative": narratives,
            "reporter_name": pc.if_else(pa.array(has_reporter), names, NULL_TEXT),
            "reporter_phone": pc.if_else(pa.array(has_reporter), phones, NULL_TEXT),
        })
        return table, {"site": a_site, "ids": alert_ids, "patrol_start": patrol_start,
                       "arrived": arrived}

    # -- trainings -------------------------------------------------------------------------

    def trainings(self) -> pa.Table:
        rng, m = self.rng, self.m
        n = max(1, int(rng.poisson(1.5)))
        towns = np.flatnonzero(m.site_type == "town")
        topic = rng.integers(0, len(TOPICS), n)
        start = self.monday + rng.integers(0, 5, n)
        participants = rng.integers(12, 36, n)
        pre = np.clip(rng.normal(48, 10, n), 5, 90).round(1)
        post = np.clip(pre + 12 + rng.normal(0, 6, n), 0, 100).round(1)
        certified = rng.binomial(participants, np.clip(0.4 + (post - 50) / 100, 0.05, 0.98))
        post_word = "Commissariat" if m.language == "fr" else "Police post"
        return pa.table({
            "session_id": ids(f"{self.prefix}-T", n, 3),
            "mission": pa.array(np.full(n, m.mission_id)),
            "course": pick_labels([COURSE_NAMES[m.language][t] for t in TOPICS], topic),
            "topic": pick_labels(TOPICS, topic),
            "site_id": pick_labels(m.site_ids, rng.choice(towns, n)),
            "start_date": days_text(start),
            "end_date": days_text(start + rng.integers(0, 5, n)),
            "host_police_unit": pa.array([f"{post_word} {k}" for k in rng.integers(1, 9, n)]),
            "participants": pa.array(participants),
            "women": pa.array(rng.binomial(participants, 0.22)),
            "pre_test_score": pa.array(pre),
            "post_test_score": pa.array(post),
            "certified": pa.array(certified),
        })


def range_for_distance(rng: np.random.Generator, km: np.ndarray) -> np.ndarray:
    """Range codes: short near the base, long further out, overnight for the furthest."""
    u = rng.random(len(km))
    return np.where(km < 15, np.where(u < 0.85, 0, 1),
                    np.where(km < 60, np.where(u < 0.15, 0, 1), np.where(u < 0.6, 2, 1)))


def people(rng: np.random.Generator, language: str, mission: str, count: int
           ) -> tuple[pa.Array, pa.Array]:
    """Reporter names and mobile numbers in the mission country's format."""
    first = pick_labels(FIRST_NAMES[language], rng.integers(0, len(FIRST_NAMES[language]), count))
    last = pick_labels(LAST_NAMES[language], rng.integers(0, len(LAST_NAMES[language]), count))
    names = pc.binary_join_element_wise(first, last, " ")
    digits = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10_000_000, count)), pa.string()),
                          7, "0")
    code = COUNTRY_CODES.get(mission, "+000 {}").format("")
    phones = pc.binary_join_element_wise(
        code, pc.utf8_slice_codeunits(digits, 0, 1), " ",
        pc.utf8_slice_codeunits(digits, 1, 4), " ", pc.utf8_slice_codeunits(digits, 4, 7), "")
    return names, phones


def narrative_texts(rng: np.random.Generator, language: str, category: np.ndarray,
                    site_names: np.ndarray, victims: np.ndarray) -> pa.Array:
    """Short free-text accounts (restricted: they must never leave ingestion in clear)."""
    count = len(category)
    what = pick_labels([CATEGORY_WORDS[language][c] for c in CATEGORY_CODES], category)
    times = ["matin", "soir", "nuit"] if language == "fr" else ["morning", "evening", "night"]
    when = pick_labels(times, rng.integers(0, 3, count))
    token = pc.cast(pa.array(rng.integers(1000, 9999, count)), pa.string())
    victims_text = pc.cast(pa.array(victims), pa.string())
    site = pa.array(site_names, pa.string())
    if language == "fr":
        parts = ["Témoin n°", token, ": ", what, " signalé le ", when, " près de ", site, ", ",
                 victims_text, " victime(s). Le témoin demande l'anonymat."]
    else:
        parts = ["Witness no. ", token, ": ", what, " reported in the ", when, " near ", site,
                 ", ", victims_text, " victim(s). The witness asks for anonymity."]
    return pc.binary_join_element_wise(*parts, "")


def strength_month(model: MissionModel, rng: np.random.Generator, month: dt.date) -> pa.Table:
    """The mission's strength return for a month: one row per unit type."""
    middle = day_number(month) + 14
    deployed_units = model.deployed(middle)
    days = pd.Period(month, "M").days_in_month
    rows: dict[str, list] = {k: [] for k in ("mission", "month", "unit_type", "authorized",
                                             "deployed", "women", "fpu_operational_days")}
    for unit_type in UNIT_TYPES:
        units = int((deployed_units & (model.unit_type == unit_type)).sum())
        authorized = {"FPU": 160 * max(units, 1)}.get(unit_type, AUTHORIZED[unit_type])
        deployed = int(authorized * rng.uniform(0.85, 0.99))
        rows["mission"].append(model.mission_id)
        rows["month"].append(f"{month:%Y-%m}")
        rows["unit_type"].append(unit_type)
        rows["authorized"].append(authorized)
        rows["deployed"].append(deployed)
        rows["women"].append(int(rng.binomial(deployed, WOMEN_SHARE[unit_type])))
        rows["fpu_operational_days"].append(
            units * days - int(rng.integers(0, 6)) if unit_type == "FPU" else None)
    return pa.table(rows)


def survey_round(model: MissionModel, rng: np.random.Generator, monday: int,
                 label: str) -> pa.Table:
    """One perception-survey round: RESPONDENTS_PER_SITE respondents at every site."""
    n_sites = len(model.site_ids)
    n = n_sites * RESPONDENTS_PER_SITE
    site = np.repeat(np.arange(n_sites), RESPONDENTS_PER_SITE)
    feels_high = rng.random(n) < rng.uniform(0.25, 0.55, n_sites)[site]
    feels_safe = np.where(feels_high, rng.integers(4, 6, n), rng.integers(1, 4, n))
    trust_host = np.clip(np.round(rng.normal(2.8, 1.1, n)), 1, 5).astype(int)
    weight = model.population[site] / RESPONDENTS_PER_SITE / model.population.mean()
    return pa.table({
        "round": pa.array(np.full(n, label)),
        "mission": pa.array(np.full(n, model.mission_id)),
        "site_id": pick_labels(model.site_ids, site),
        "interview_date": days_text(monday + rng.integers(0, 7, n)),
        "respondent_id": ids(f"{model.mission_id}-{label}-", n, 5),
        "weight": pa.array((weight * rng.uniform(0.8, 1.2, n)).round(4)),
        "sex": pick_labels(["female", "male"], (rng.random(n) >= 0.52).astype(int)),
        "age_band": pick_labels(AGE_BANDS, rng.choice(4, n, p=[0.25, 0.3, 0.28, 0.17])),
        "feels_safe": pa.array(feels_safe),
        "trust_host_police": pa.array(trust_host),
        "trust_unpol": pa.array(np.clip(feels_safe + rng.integers(-1, 2, n), 1, 5)),
        "would_report_to_police": pa.array(rng.random(n) < 0.35 + 0.1 * (trust_host >= 4)),
    })
