"""Every indicator of the catalogue against a small warehouse computed by hand (issue 4).

One module-scoped warehouse: a few dozen raw rows and file records, a copy of the dbt project
whose units seed has one unit withdrawn and one deployed mid-window, a targets CSV, and one
real `dbt build` (small_cell_threshold 2). Formulas are checked on
intermediate.int_indicator_values_scored (before small-cell suppression), publication on
marts.fct_indicator_values. Every expected number below is worked out by hand from the rows,
with the arithmetic beside it; EXPECTED must hold values for every catalogue indicator.

The calendar (ISO weeks; a week belongs to the month of its Thursday; UN fiscal year 1 July to
30 June):

    MINUSCA (Africa/Bangui, UTC+1)
    2025-W23  2-8 Jun        -> 2025-06, 2025-Q2, FY2024-25
    2025-W24, W25            (no patrols, no incidents)
    2025-W26  23-29 Jun      -> 2025-06
    2025-W27  30 Jun - 6 Jul -> 2025-07, 2025-Q3, FY2025-26 (its Thursday is 3 July)
    2025-W28  7-13 Jul       -> 2025-07
    UNMISS (Africa/Juba, UTC+2)
    2026-W52  21-27 Dec 2026 -> 2026-12, 2026-Q4, FY2026-27
    2026-W53  28 Dec - 3 Jan -> 2026-12 (its Thursday is 31 December)
    2027-W01  4-10 Jan 2027  -> 2027-01, 2027-Q1, FY2026-27

MINUSCA population (seed sites), used by the per-10,000 rates:
    sectors CAF-BGI 242,000 (S01 110k, S02 60k, S03 IDP camp 18k, S04 45k, S05 9k),
    CAF-OUE 91,000 (S06 40k, S09 IDP camp 8k, ...), CAF-CEN 93,000 (S11 41k, S12/S14 IDP
    camps 12k/9k, ...), CAF-EST 61,000 (S17 IDP camp 2k, ...): mission 487,000 (48.7 x 10k);
    IDP camps 49,000 (4.9 x 10k); towns 407,000; villages 31,000.
UNMISS: 766,000 (76.6 x 10k); IDP camps and POC sites 184,000 (18.4 x 10k).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from raw_fixture import copy_project, dbt_build, insert_manifest, insert_raw, one, ts

from pipelines.indicators.catalogue import load_catalogue
from pipelines.ingest.warehouse import connect

pytestmark = pytest.mark.slow

SCORED = "intermediate.int_indicator_values_scored"
PUBLISHED = "marts.fct_indicator_values"
SMALL_CELL_THRESHOLD = 2
Z = 1.96


def _week(day: date | datetime) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --------------------------------------------------------------------------------------------
# Patrols. person-hours = persons x hours; women's person-hours = women x hours.

def _patrol(patrol_id: str, unit_id: str, site_id: str, start: str, hours: float, mode: str,
            patrol_range: str, joint_with: str, persons: int, women: int, host: int,
            purpose: str, alert_id: str | None = None) -> dict:
    begin = ts(start)
    return {
        "patrol_id": patrol_id, "mission": "MINUSCA" if unit_id.startswith("CAF") else "UNMISS",
        "unit_id": unit_id, "unit_type": unit_id.split("-")[1], "start_time": begin,
        "end_time": begin + timedelta(hours=hours), "site_id": site_id, "mode": mode,
        "range": patrol_range, "joint_with": joint_with, "persons": persons, "women": women,
        "host_police_persons": host, "purpose": purpose, "alert_id": alert_id,
    }


PATROLS = [
    # MINUSCA 2025-W23 (June): 1 h x 5 = 5 person-hours, women 1 x 1 = 1
    _patrol("P00", "CAF-FPU-1", "CAF-S01", "2025-06-02 08:00", 1, "foot", "short", "none",
            5, 1, 0, "market_day"),
    # 2025-W26 (June): 2 h x 10 = 20 (women 2 x 2 = 4); 3 h x 8 = 24 (women 0), joint with
    # 4 host-state police, an escort
    _patrol("P01", "CAF-FPU-1", "CAF-S01", "2025-06-26 08:00", 2, "foot", "short", "none",
            10, 2, 0, "market_day"),
    _patrol("P02", "CAF-FPU-2", "CAF-S06", "2025-06-24 09:00", 3, "vehicle", "long",
            "host_police", 8, 0, 4, "escort"),
    # 2025-W27: Monday 30 June, counted in July 2025 (Thursday 3 July): 3 h x 20 = 60 (12)
    _patrol("P03", "CAF-FPU-1", "CAF-S01", "2025-06-30 07:00", 3, "foot", "short", "none",
            20, 4, 0, "market_day"),
    # 1.5 h x 6 = 9 (women 3), joint with 3 host-state police, an escort
    _patrol("P04", "CAF-IPO-1", "CAF-S02", "2025-07-01 09:30", 1.5, "vehicle", "short",
            "host_police", 6, 2, 3, "escort"),
    # three patrols at the IDP camp CAF-S03 (a hot spot that week): 10 (5), 8 (2), 24 (0)
    _patrol("P05", "CAF-FPU-1", "CAF-S03", "2025-07-02 08:00", 1, "foot", "short", "none",
            10, 5, 0, "idp_site"),
    _patrol("P06", "CAF-FPU-1", "CAF-S03", "2025-07-03 08:00", 2, "vehicle", "short", "none",
            4, 1, 0, "community_engagement"),
    _patrol("P07", "CAF-FPU-1", "CAF-S03", "2025-07-01 11:20", 2, "vehicle", "short", "none",
            12, 0, 0, "alert_response", "A1"),
    # answers alert A2 at CAF-S02: 3 h x 6 = 18 (women 3 x 3 = 9)
    _patrol("P08", "CAF-IPO-1", "CAF-S02", "2025-07-02 16:15", 3, "vehicle", "long", "none",
            6, 3, 0, "alert_response", "A2"),
    # CAF-S11 (sector CAF-CEN): 1 h x 17 = 17 (women 4), an escort by boat with the military
    _patrol("P09", "CAF-FPU-3", "CAF-S11", "2025-07-04 10:00", 1, "boat", "overnight",
            "military", 17, 4, 0, "escort"),
    # 2025-W28: answers alert A4 at CAF-S06: 2 h x 6 = 12 (women 0)
    _patrol("P10", "CAF-FPU-2", "CAF-S06", "2025-07-09 05:40", 2, "foot", "short", "none",
            6, 0, 0, "alert_response", "A4"),
    # CAF-IPO-2 deployed on Thursday 10 July: 2 h x 4 = 8 (women 2 x 2 = 4), 5 host police
    _patrol("P11", "CAF-IPO-2", "CAF-S11", "2025-07-10 08:00", 2, "vehicle", "short",
            "host_police", 4, 2, 5, "market_day"),
    # UNMISS 2026-W52: 2 h x 10 = 20 at the POC site SSD-S02
    _patrol("Q1", "SSD-FPU-1", "SSD-S02", "2026-12-23 08:00", 2, "foot", "short", "none",
            10, 5, 0, "poc_site"),
    # Friday 1 January 2027 is in ISO week 2026-W53, reported in December 2026: 3 h x 5 = 15
    _patrol("Q2", "SSD-IPO-1", "SSD-S01", "2027-01-01 09:00", 3, "vehicle", "long",
            "host_police", 5, 1, 2, "escort"),
    # 2027-W01 (January 2027): 2 h x 8 = 16
    _patrol("Q3", "SSD-FPU-2", "SSD-S07", "2027-01-05 10:00", 2, "foot", "short", "none",
            8, 2, 0, "poc_site"),
]


# --------------------------------------------------------------------------------------------
# Incidents: delays are given directly (reporting delay in hours, response and referral
# measured from the alert and from the report).

def _incident(incident_id: str, site_id: str, occurred: str, reported_after_h: float,
              category: str, victims: int, perpetrator: str, source: str,
              alert: tuple[str, float | None] | None = None,
              referred_after_h: float | None = None) -> dict:
    occurred_at = ts(occurred)
    reported_at = occurred_at + timedelta(hours=reported_after_h)
    alert_id, received_at, arrived_at = None, None, None
    if alert is not None:  # (alert id, minutes from the alert to police arriving, or None)
        alert_id, minutes = alert
        received_at = reported_at + timedelta(minutes=10)
        arrived_at = None if minutes is None else received_at + timedelta(minutes=minutes)
    referred_at = (None if referred_after_h is None
                   else reported_at + timedelta(hours=referred_after_h))
    return {
        "incident_id": incident_id,
        "mission": "MINUSCA" if site_id.startswith("CAF") else "UNMISS",
        "occurred_at": occurred_at, "reported_at": reported_at, "site_id": site_id,
        "category": category, "victims": victims, "fatalities": 0,
        "perpetrator_type": perpetrator, "source_type": source, "alert_id": alert_id,
        "alert_received_at": received_at, "response_arrived_at": arrived_at,
        "referred_at": referred_at, "box": "blue", "reporter_name_key": None,
        "reporter_phone_key": None,
    }


INCIDENTS = [
    # MINUSCA 2025-W26, IDP camp CAF-S03 (sector CAF-BGI): reported after 2 h
    _incident("I01", "CAF-S03", "2025-06-25 20:00", 2, "armed_group_attack", 2,
              "armed_group", "community"),
    # 2025-W27: CAF-S03 again (so a repeat, and the site a hot spot in W27): SGBV referred
    # exactly 72 h after the report (within 72 h); alert A1 reached in 90 minutes
    _incident("I02", "CAF-S03", "2025-07-01 10:00", 1, "sgbv_crsv", 1, "criminals",
              "community", alert=("A1", 90), referred_after_h=72),
    # CAF-S02 (town): looting by host-state forces (an abuse), reported after 10 h by the
    # host police; alert A2 reached in 170 minutes (beyond the 120-minute target)
    _incident("I03", "CAF-S02", "2025-07-02 06:00", 10, "robbery_looting", 3,
              "host_state_forces", "host_police", alert=("A2", 170)),
    # CAF-S06 (town, sector CAF-OUE): host-state abuse, reported after 20 h by an NGO; alert
    # A3 never reached (no response patrol)
    _incident("I04", "CAF-S06", "2025-07-03 00:00", 20, "host_state_abuse", 1,
              "host_state_forces", "ngo", alert=("A3", None)),
    # 2025-W28: SGBV at CAF-S03 reported after 4 h, referred after 100 h (not within 72 h)
    _incident("I05", "CAF-S03", "2025-07-08 08:00", 4, "sgbv_crsv", 1, "criminals",
              "community", referred_after_h=100),
    # CAF-S06: a clash with no victim, reported after 30 h; alert A4 reached in 30 minutes
    _incident("I06", "CAF-S06", "2025-07-07 23:00", 30, "intercommunal_clash", 0,
              "community_members", "community", alert=("A4", 30)),
    # UNMISS, Saturday 2 January 2027: ISO week 2026-W53, December 2026; POC site SSD-S02
    _incident("J1", "SSD-S02", "2027-01-02 10:00", 3, "killing", 2, "armed_group", "un"),
]


# --------------------------------------------------------------------------------------------
# Trainings (MINUSCA): test gain = post - pre.

def _training(session_id: str, site_id: str | None, start: str, topic: str,
              participants: int, women: int, certified: int, pre: float | None,
              post: float | None) -> dict:
    first = date.fromisoformat(start)
    return {
        "session_id": session_id, "mission": "MINUSCA", "course": topic, "topic": topic,
        "site_id": site_id, "start_date": first, "end_date": first + timedelta(days=2),
        "host_police_unit": "Commissariat 1", "participants": participants, "women": women,
        "pre_test_score": pre, "post_test_score": post, "certified": certified,
    }


TRAININGS = [
    # 2025-W26 (June), CAF-S01 (CAF-BGI): 8 trainees (2 women), 4 certified, gain 50 - 40 = 10
    _training("T3", "CAF-S01", "2025-06-24", "community_policing", 8, 2, 4, 40, 50),
    # 2025-W27: starts Monday 30 June (July): 20 trainees (5 women), 15 certified, gain 20
    _training("T1", "CAF-S01", "2025-06-30", "community_policing", 20, 5, 15, 50, 70),
    # CAF-S06 (CAF-OUE): 10 trainees (6 women), 10 certified, gain 65 - 60 = 5
    _training("T2", "CAF-S06", "2025-07-02", "human_rights", 10, 6, 10, 60, 65),
    # no site (so in no sector) and no test: 10 trainees (4 women), 5 certified
    _training("T4", None, "2025-07-03", "human_rights", 10, 4, 5, None, None),
]


# --------------------------------------------------------------------------------------------
# Strength, one row per mission, month and unit type.

def _strength(mission: str, month: str, unit_type: str, authorized: int, deployed: int,
              women: int, fpu_days: int | None = None) -> dict:
    return {"mission": mission, "month": date.fromisoformat(month + "-01"),
            "unit_type": unit_type, "authorized": authorized, "deployed": deployed,
            "women": women, "fpu_operational_days": fpu_days}


STRENGTH = [
    _strength("MINUSCA", "2025-06", "FPU", 560, 532, 60, 300),
    _strength("MINUSCA", "2025-06", "IPO", 400, 300, 45),
    _strength("MINUSCA", "2025-06", "SPT", 0, 0, 0),  # none authorised: rate 0/0
    _strength("MINUSCA", "2025-07", "FPU", 560, 504, 56, 280),
    _strength("MINUSCA", "2025-07", "IPO", 400, 360, 60),
    _strength("MINUSCA", "2025-07", "SPT", 0, 0, 0),
    _strength("UNMISS", "2026-12", "FPU", 400, 380, 40, 200),
    _strength("UNMISS", "2026-12", "IPO", 200, 150, 30),
    _strength("UNMISS", "2027-01", "FPU", 500, 450, 45, 190),
    _strength("UNMISS", "2027-01", "IPO", 200, 190, 38),
]


# --------------------------------------------------------------------------------------------
# Survey round 2025-R1 (MINUSCA), first interviews in 2025-W27.
# CAF-S03 (IDP camp, CAF-BGI), weights 2, 1, 1: weight 4, sum of squares 4 + 1 + 1 = 6
#   feels safe (4-5): R1 (2) + R3 (1) = 3/4; trusts host police (4-5): R3 = 1/4;
#   would report: R1 = 2/4; trust in UN police (2x5 + 3 + 4) / 4 = 17/4
# CAF-S06 (town, CAF-OUE), weights 1, 2: weight 3, sum of squares 1 + 4 = 5
#   feels safe: R4 = 1/3; trusts host police: R4 = 1/3; would report: R4 = 1/3;
#   trust in UN police (2 + 2x1) / 3 = 4/3

def _respondent(key: str, site_id: str, day: str, weight: float, safe: int, host: int,
                unpol: int, report: bool) -> dict:
    return {"round": "2025-R1", "mission": "MINUSCA", "site_id": site_id,
            "interview_date": date.fromisoformat(day), "respondent_key": key, "weight": weight,
            "sex": "female", "age_band": "25-34", "feels_safe": safe, "trust_host_police": host,
            "trust_unpol": unpol, "would_report_to_police": report}


SURVEYS = [
    _respondent("R1", "CAF-S03", "2025-07-01", 2.0, 5, 3, 5, True),
    _respondent("R2", "CAF-S03", "2025-07-01", 1.0, 2, 2, 3, False),
    _respondent("R3", "CAF-S03", "2025-07-02", 1.0, 4, 5, 4, False),
    _respondent("R4", "CAF-S06", "2025-07-02", 1.0, 4, 4, 2, True),
    _respondent("R5", "CAF-S06", "2025-07-03", 2.0, 1, 1, 1, False),
]


# --------------------------------------------------------------------------------------------
# Files. Each raw row is in the file of its source, mission and period (the slot ingestion
# gives it); every file is loaded, with these quarantined rows and modification times (UTC).
# A week's deadline is the next Monday 12:00 local: 11:00 UTC in Bangui, 10:00 UTC in Juba.

def _file_id(source: str, row: dict) -> str:
    mission = row["mission"]
    if source == "patrols":
        return f"patrols-{mission}-{_week(row['start_time'])}"
    if source == "incidents":
        return f"incidents-{mission}-{_week(row['reported_at'])}"
    if source == "trainings":
        return f"trainings-{mission}-{_week(row['start_date'])}"
    if source == "strength":
        return f"strength-{mission}-{row['month']:%Y-%m}"
    return f"surveys-{mission}-{row['round']}"


RAW = {"patrols": PATROLS, "incidents": INCIDENTS, "trainings": TRAININGS,
       "strength": STRENGTH, "surveys": SURVEYS}
RECEIVED = {
    "patrols-MINUSCA-2025-W23": ts("2025-06-09 10:00"),     # on time (11:00 local)
    "patrols-MINUSCA-2025-W26": ts("2025-06-30 11:00"),     # on time: exactly 12:00 local
    "patrols-MINUSCA-2025-W27": ts("2025-07-08 09:00"),     # late, but re-sends an on-time file
    "patrols-MINUSCA-2025-W28": ts("2025-07-14 11:30"),     # late: 12:30 local
    "incidents-MINUSCA-2025-W26": ts("2025-06-30 11:30"),   # late: 12:30 local
    "incidents-MINUSCA-2025-W27": ts("2025-07-07 10:59"),   # on time
    "incidents-MINUSCA-2025-W28": ts("2025-07-14 09:00"),   # on time
    "strength-MINUSCA-2025-06": ts("2025-07-07 11:00"),     # on time: exactly Mon 7 Jul 12:00
    "strength-MINUSCA-2025-07": ts("2025-08-04 12:00"),     # late (Mon 4 Aug 11:00 UTC)
    "trainings-MINUSCA-2025-W26": ts("2025-06-30 08:00"),   # not scheduled
    "trainings-MINUSCA-2025-W27": ts("2025-07-07 08:00"),   # not scheduled
    "surveys-MINUSCA-2025-R1": ts("2025-07-03 12:00"),      # not scheduled; counts in 2025-W27
    "patrols-UNMISS-2026-W52": ts("2026-12-28 09:00"),      # on time
    "patrols-UNMISS-2026-W53": ts("2027-01-04 10:30"),      # late in Juba (12:30 local)
    "patrols-UNMISS-2027-W01": ts("2027-01-11 08:00"),      # on time
    "incidents-UNMISS-2026-W53": ts("2027-01-04 09:59"),    # on time
    "strength-UNMISS-2026-12": ts("2027-01-04 09:00"),      # on time (Mon 4 Jan 10:00 UTC)
    "strength-UNMISS-2027-01": ts("2027-02-01 09:00"),      # on time (Mon 1 Feb 10:00 UTC)
}
QUARANTINED = {"patrols-MINUSCA-2025-W27": 1, "incidents-MINUSCA-2025-W26": 1,
               "trainings-MINUSCA-2025-W27": 1, "surveys-MINUSCA-2025-R1": 1,
               "patrols-UNMISS-2027-W01": 1}
# The first version of MINUSCA's 2025-W27 patrol file, on time, replaced by the late one:
# 8 rows read, 7 loaded, 1 quarantined, all of it superseded.
SUPERSEDED = ("patrols-MINUSCA-2025-W27-v1", "patrols", ts("2025-07-07 10:30"), 8, 7, 1,
              "patrols-MINUSCA-2025-W27")

# The units seed, changed in the project copy: CAF-FPU-4 (sector CAF-EST) is withdrawn on
# 1 July 2025 (it counts in weeks up to 2025-W26, whose Thursday is 26 June), CAF-IPO-2
# (CAF-CEN) is deployed on 10 July 2025 (from 2025-W28, Thursday 10 July).
UNIT_CHANGES = {"CAF-FPU-4": {"withdrawn_on": "2025-07-01"},
                "CAF-IPO-2": {"deployed_from": "2025-07-10"}}


def _load_warehouse(warehouse: Path) -> None:
    """Raw rows in their files; one loaded manifest row per file (rows read = loaded +
    quarantined), and the superseded first version of MINUSCA's 2025-W27 patrols."""
    processed = datetime(2027, 3, 1)
    with connect(warehouse) as con:
        files: dict[str, tuple[str, str]] = {}
        loaded: Counter[str] = Counter()
        for source, rows in RAW.items():
            insert_raw(con, source, rows, lambda row, source=source: _file_id(source, row))
            for row in rows:
                files[_file_id(source, row)] = (source, row["mission"])
                loaded[_file_id(source, row)] += 1
        assert set(files) == set(RECEIVED), set(files) ^ set(RECEIVED)
        for file_id, (source, mission) in files.items():
            bad = QUARANTINED.get(file_id, 0)
            period = file_id.removeprefix(f"{source}-{mission}-")
            insert_manifest(con, file_id, source, f"{source}|{mission}|{period}", "loaded",
                            loaded[file_id] + bad, loaded[file_id], bad, RECEIVED[file_id],
                            processed)
        file_id, source, received, read, rows_loaded, bad, by = SUPERSEDED
        insert_manifest(con, file_id, source, "patrols|MINUSCA|2025-W27", "superseded", read,
                        rows_loaded, bad, received, processed, superseded_by=by)


# --------------------------------------------------------------------------------------------
# Baselines and targets (var indicator_targets_file): these rows win over the seed's.
TARGETS = [
    # a fiscal-year target for a ratio applies to its weeks, months and quarters; the week of
    # Monday 30 June 2025 is in FY2025-26
    ("GEN_WOMEN_PH_SHARE", "MINUSCA", "mission", "MINUSCA", "FY2024-25", 0.05, 0.10),
    ("GEN_WOMEN_PH_SHARE", "MINUSCA", "mission", "MINUSCA", "FY2025-26", 0.15, 0.30),
    # an exact-period target wins over the fiscal year's
    ("GEN_WOMEN_PH_SHARE", "MINUSCA", "mission", "MINUSCA", "2025-W28", 0.15, 0.20),
    # sums: a fiscal-year target is not spread over the months; partial periods get no status
    ("PAT_PERSON_HOURS", "MINUSCA", "mission", "MINUSCA", "FY2025-26", 800, 1000),
    ("PAT_COUNT", "MINUSCA", "mission", "MINUSCA", "FY2025-26", 8, 12),
    ("PAT_COUNT", "MINUSCA", "mission", "MINUSCA", "2025-Q3", 8, 10),
    ("PAT_COUNT", "MINUSCA", "mission", "MINUSCA", "2025-07", 8, 12),
    ("PAT_COUNT", "MINUSCA", "mission", "MINUSCA", "2025-06", 2, 4),
    # boundaries
    ("PAT_COUNT", "MINUSCA", "mission", "MINUSCA", "2025-W27", 5, 10),
    ("PAT_COUNT", "MINUSCA", "site", "CAF-S03", "2025-W27", 1, 4.3),
    ("PAT_PERSON_HOURS", "MINUSCA", "site", "CAF-S11", "2025-W27", 10, 20),
    ("PAT_PERSON_HOURS", "MINUSCA", "sector", "CAF-CEN", "2025-W27", 10, 20.01),
    ("CAP_HOST_POLICE_JOINT", "MINUSCA", "mission", "MINUSCA", "2025-W26", 2, 5),
    # down is good
    ("DET_VICTIMS", "MINUSCA", "mission", "MINUSCA", "2025-W27", 6, 4),
    ("DET_VICTIMS", "MINUSCA", "sector", "CAF-BGI", "2025-W27", 6, 5),
    ("RSP_MEDIAN_MINUTES", "MINUSCA", "mission", "MINUSCA", "2025-W27", 150, 100),
    # target 0
    ("DET_VICTIMS", "MINUSCA", "sector", "CAF-OUE", "2025-W27", 1, 0),
    ("TRU_HOST_STATE_ABUSE", "MINUSCA", "mission", "MINUSCA", "2025-W28", 1, 0),
    ("PAT_ESCORTS", "MINUSCA", "mission", "MINUSCA", "2025-W28", 1, 0),
    # a monthly source: a whole month is not partial, the fiscal year in progress is
    ("STR_FPU_OP_DAYS", "UNMISS", "mission", "UNMISS", "2026-12", 180, 250),
    ("STR_FPU_OP_DAYS", "UNMISS", "mission", "UNMISS", "FY2026-27", 2000, 2400),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The hand-made warehouse after one real `dbt build` of a project copy."""
    work = tmp_path_factory.mktemp("indicator_values")
    project = copy_project(work / "dbt_project")
    units_csv = project / "seeds" / "reference" / "units.csv"
    with units_csv.open(newline="", encoding="utf-8") as handle:
        units = list(csv.DictReader(handle))
    for unit in units:
        unit.update(UNIT_CHANGES.get(unit["unit_id"], {}))
    with units_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(units[0]))
        writer.writeheader()
        writer.writerows(units)
    targets_csv = work / "targets.csv"
    with targets_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["indicator_code", "mission_id", "level", "org_unit_id",
                         "period_label", "baseline", "target"])
        writer.writerows(TARGETS)
    warehouse = work / "pocmon.duckdb"
    _load_warehouse(warehouse)
    result = dbt_build(warehouse, work, project=project, dbt_vars={
        "indicator_targets_file": str(targets_csv),
        "small_cell_threshold": SMALL_CELL_THRESHOLD,
    })
    return {"warehouse": warehouse, "result": result}


@pytest.fixture(scope="module")
def db(built: dict):
    con = duckdb.connect(str(built["warehouse"]), read_only=True)
    yield con
    con.close()


def test_dbt_build_passes(built: dict) -> None:
    result = built["result"]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "ERROR=0" in result.stdout and "WARN=0" in result.stdout, result.stdout[-2000:]


# --------------------------------------------------------------------------------------------
# Hand-computed values, by indicator: (org unit, period, disaggregation, expected), where the
# disaggregation is "total" or "dimension=value" and expected is the value of a sum or median,
# or (numerator, denominator) of a ratio, whose value is then numerator / denominator, and
# "no data" (NULL) when the denominator is 0.
# MINUSCA weeks: W23 = 2025-W23 ... ; months 2025-06 (W23-W26), 2025-07 (W27-W31).

EXPECTED: dict[str, list[tuple[str, str, str, float | tuple | None]]] = {
    "PAT_COUNT": [
        ("MINUSCA", "2025-W27", "total", 7),             # P03-P09
        ("CAF-BGI", "2025-W27", "total", 6),             # S01 1 + S02 2 + S03 3
        ("CAF-S03", "2025-W27", "total", 3),             # P05, P06, P07
        ("CAF-S05", "2025-W27", "total", 0),             # no patrol: 0 in a covered week
        ("CAF-EST", "2025-W27", "total", 0),
        ("MINUSCA", "2025-06", "total", 3),              # W23 1 + W26 2
        ("MINUSCA", "2025-07", "total", 9),              # W27 7 (P03 of 30 June too) + W28 2
        ("MINUSCA", "2025-Q2", "total", 3),
        ("MINUSCA", "2025-Q3", "total", 9),
        ("MINUSCA", "FY2024-25", "total", 3),
        ("MINUSCA", "FY2025-26", "total", 9),
        ("MINUSCA", "2025-W27", "mode=foot", 2),         # P03, P05
        ("MINUSCA", "2025-W27", "mode=vehicle", 4),      # P04, P06, P07, P08
        ("MINUSCA", "2025-W27", "mode=boat", 1),         # P09
        ("MINUSCA", "2025-W27", "range=short", 5),       # P03-P07
        ("MINUSCA", "2025-W27", "range=overnight", 1),   # P09
        ("MINUSCA", "2025-W27", "unit_type=FPU", 5),     # P03, P05, P06, P07, P09
        ("MINUSCA", "2025-W27", "unit_type=IPO", 2),     # P04, P08
        ("MINUSCA", "2025-W27", "site_type=IDP camp", 3),
        ("MINUSCA", "2025-W27", "site_type=town", 4),    # S01 1 + S02 2 + S11 1
        ("UNMISS", "2026-W53", "total", 1),              # Q2, Friday 1 January 2027
        ("UNMISS", "2026-12", "total", 2),               # W52 Q1 + W53 Q2
        ("UNMISS", "2027-01", "total", 1),               # W01 Q3
        ("UNMISS", "FY2026-27", "total", 3),             # 2026-Q4 2 + 2027-Q1 1
    ],
    "PAT_PERSON_HOURS": [
        ("MINUSCA", "2025-W27", "total", 146),           # 60 + 9 + 10 + 8 + 24 + 18 + 17
        ("MINUSCA", "2025-W27", "sex=women", 35),        # 12 + 3 + 5 + 2 + 0 + 9 + 4
        ("MINUSCA", "2025-W27", "sex=men", 111),         # 146 - 35
        ("CAF-S02", "2025-W27", "sex=women", 12),        # P04 3 + P08 9
        ("CAF-S02", "2025-W27", "sex=men", 15),          # (9 - 3) + (18 - 9)
        ("CAF-BGI", "2025-W27", "total", 129),           # S01 60 + S02 27 + S03 42
        ("CAF-S11", "2025-W27", "total", 17),            # P09
        ("MINUSCA", "2025-W27", "mode=vehicle", 59),     # 9 + 8 + 24 + 18
        ("MINUSCA", "2025-06", "total", 49),             # W23 5 + W26 20 + 24
        ("MINUSCA", "2025-07", "total", 166),            # W27 146 + W28 12 + 8
        ("MINUSCA", "2025-07", "sex=women", 39),         # 35 + 0 + 4
        ("UNMISS", "2026-12", "total", 35),              # Q1 20 + Q2 15
        ("UNMISS", "FY2026-27", "total", 51),            # 35 + Q3 16
    ],
    "PAT_JOINT_HOST_POLICE": [
        ("MINUSCA", "2025-W26", "total", 1),             # P02
        ("CAF-S02", "2025-W27", "total", 1),             # P04
        ("CAF-S03", "2025-W27", "total", 0),
        ("MINUSCA", "2025-07", "total", 2),              # P04 + P11 (P09 is with the military)
        ("UNMISS", "2026-12", "total", 1),               # Q2
    ],
    "PAT_ESCORTS": [
        ("MINUSCA", "2025-W27", "total", 2),             # P04 (CAF-BGI), P09 (CAF-CEN)
        ("CAF-CEN", "2025-W27", "total", 1),
        ("CAF-OUE", "2025-W27", "total", 0),
        ("MINUSCA", "2025-W28", "total", 0),             # patrols that week, no escort
        ("MINUSCA", "2025-06", "total", 1),              # P02
        ("MINUSCA", "2025-W27", "mode=boat", 1),
    ],
    "PAT_COMMUNITY": [
        ("MINUSCA", "2025-W27", "total", 3),             # on foot P03, P05; engagement P06
        ("CAF-S03", "2025-W27", "total", 2),             # P05, P06
        ("MINUSCA", "2025-06", "total", 2),              # P00, P01
        ("MINUSCA", "2025-07", "total", 4),              # 3 + P10
    ],
    "TRN_SESSIONS": [
        ("MINUSCA", "2025-W27", "total", 3),             # T1, T2, T4
        ("CAF-BGI", "2025-W27", "total", 1),             # T1 (T4 has no site, so no sector)
        ("CAF-OUE", "2025-W27", "total", 1),             # T2
        ("CAF-CEN", "2025-W27", "total", 0),
        ("MINUSCA", "2025-07", "category=human_rights", 2),  # T2, T4
        ("MINUSCA", "2025-06", "total", 1),              # T3
    ],
    "TRN_OFFICERS_TRAINED": [
        ("MINUSCA", "2025-W27", "total", 40),            # 20 + 10 + 10
        ("MINUSCA", "2025-W27", "sex=women", 15),        # 5 + 6 + 4
        ("MINUSCA", "2025-W27", "sex=men", 25),          # 15 + 4 + 6
        ("CAF-OUE", "2025-W27", "sex=women", 6),
        ("CAF-OUE", "2025-W27", "sex=men", 4),
        ("MINUSCA", "2025-07", "category=community_policing", 20),  # T1, from Monday 30 June
        ("MINUSCA", "2025-06", "total", 8),              # T3
    ],
    "STR_DEPLOYMENT_RATE": [
        ("MINUSCA", "2025-06", "total", (832, 960)),     # (532 + 300 + 0) / (560 + 400 + 0)
        ("MINUSCA", "2025-06", "unit_type=FPU", (532, 560)),
        ("MINUSCA", "2025-06", "unit_type=SPT", (0, 0)),  # none authorised: no data, not 0
        ("MINUSCA", "2025-07", "total", (864, 960)),     # (504 + 360) / 960
        ("UNMISS", "2026-Q4", "total", (530, 600)),      # December: (380 + 150) / (400 + 200)
        ("UNMISS", "2027-Q1", "total", (640, 700)),      # January: (450 + 190) / (500 + 200)
        # 1170 / 1300 = 0.9, not the mean of the months (0.8833 + 0.9143) / 2 = 0.8988
        ("UNMISS", "FY2026-27", "total", (1170, 1300)),
    ],
    "STR_FPU_OP_DAYS": [
        ("MINUSCA", "2025-06", "total", 300),
        ("MINUSCA", "2025-07", "total", 280),
        ("UNMISS", "2026-12", "total", 200),
        ("UNMISS", "2027-01", "total", 190),
        ("UNMISS", "FY2026-27", "total", 390),           # 2026-Q4 200 + 2027-Q1 190
    ],
    "RSP_WITHIN_TARGET": [
        # A1 90 min (within 120); A2 170 min; A3 never reached (counts as not in time)
        ("MINUSCA", "2025-W27", "total", (1, 3)),
        ("CAF-BGI", "2025-W27", "total", (1, 2)),        # A1, A2
        ("CAF-OUE", "2025-W27", "total", (0, 1)),        # A3: 0, not "no data"
        ("MINUSCA", "2025-07", "total", (2, 4)),         # + A4 30 min; not (1/3 + 1/1) / 2
        ("MINUSCA", "2025-W27", "mode=vehicle", (1, 2)),  # P07, P08
        ("MINUSCA", "2025-W27", "mode=not_recorded", (0, 1)),  # A3 had no response patrol
        ("MINUSCA", "2025-07", "mode=foot", (1, 1)),     # A4 by P10
    ],
    "RSP_MEDIAN_MINUTES": [
        ("MINUSCA", "2025-W27", "total", 130),           # median(90, 170); A3 has no time
        ("CAF-OUE", "2025-W27", "total", None),          # A3 only: nothing to take a median of
        ("MINUSCA", "2025-W28", "total", 30),            # A4
        ("MINUSCA", "2025-07", "total", 90),             # median(90, 170, 30), not (130 + 30)/2
        ("CAF-BGI", "2025-07", "total", 130),            # median(90, 170)
        ("CAF-OUE", "2025-07", "total", 30),             # median(30); sector medians' median 80
        ("MINUSCA", "2025-W27", "unit_type=IPO", 170),   # A2 by P08
    ],
    "DET_INC_RATE": [
        ("MINUSCA", "2025-W27", "total", (3, 48.7)),     # I02, I03, I04 / (487,000 / 10,000)
        ("CAF-BGI", "2025-W27", "total", (2, 24.2)),     # I02, I03 / 242,000
        ("CAF-CEN", "2025-W27", "total", (0, 9.3)),      # 0, not "no data"
        ("MINUSCA", "2025-06", "total", (1, 194.8)),     # I01 / (4 panel weeks W23-W26 x 48.7)
        ("MINUSCA", "2025-07", "total", (5, 97.4)),      # (3 + 2) / (2 x 48.7)
        # patrolled site-weeks in W27: S01 110k + S02 60k + S03 18k + S11 41k; incidents at
        # S02 and S03; the other 16 site-weeks (487k - 229k) had I04 at S06
        ("MINUSCA", "2025-W27", "patrol_status=patrolled", (2, 22.9)),
        ("MINUSCA", "2025-W27", "patrol_status=not_patrolled", (1, 25.8)),
        ("MINUSCA", "2025-W27", "site_type=IDP camp", (1, 4.9)),
        ("MINUSCA", "2025-W27", "site_type=town", (2, 40.7)),
        ("MINUSCA", "2025-W27", "site_type=village", (0, 3.1)),
        ("UNMISS", "2026-W53", "total", (1, 76.6)),      # J1 / 766,000
        ("UNMISS", "2026-12", "total", (1, 153.2)),      # J1 / (W52 + W53) x 76.6
    ],
    "DET_REPEAT_DISPLACEMENT": [
        ("CAF-S03", "2025-W26", "total", 0),             # I01: no incident before it
        ("CAF-S03", "2025-W27", "total", 1),             # I02 after I01
        ("CAF-S03", "2025-W28", "total", 1),             # I05 after I01, I02
        ("CAF-S06", "2025-W28", "total", 0),             # I06 repeats I04, but in a town
        ("MINUSCA", "2025-W24", "total", 0),             # panel week without any event
        ("MINUSCA", "2025-06", "total", 0),
        ("MINUSCA", "2025-07", "total", 2),
        ("UNMISS", "2026-W53", "total", 0),              # J1 is the first at SSD-S02
    ],
    "DET_HOTSPOT_DOSE": [
        ("MINUSCA", "2025-W26", "total", (0, 0)),        # no incident before: no hot spot
        ("MINUSCA", "2025-W27", "total", (1, 1)),        # S03 (I01 before), patrolled 3 times
        # S03 (2 incidents before), S02 and S06 (1 each, tied within the top ceil(20 x 0.1)
        # = 2 ranks), with 0, 0 and 1 patrols
        ("MINUSCA", "2025-W28", "total", (0, 3)),
        ("CAF-BGI", "2025-W28", "total", (0, 2)),        # S03, S02
        ("CAF-OUE", "2025-W27", "total", (0, 0)),
        ("MINUSCA", "2025-06", "total", (0, 0)),
        ("MINUSCA", "2025-07", "total", (1, 4)),         # not the mean of weeks (1 + 0) / 2
    ],
    "DET_DISPLACEMENT_INC_RATE": [
        ("MINUSCA", "2025-W27", "total", (1, 4.9)),      # I02 at S03 / IDP camps 49,000
        ("CAF-BGI", "2025-W27", "total", (1, 1.8)),      # S03 18,000
        ("CAF-S03", "2025-W27", "total", (1, 1.8)),
        ("CAF-OUE", "2025-W27", "total", (0, 0.8)),      # S09 8,000
        ("CAF-S01", "2025-W27", "total", (None, None)),  # a town: no such residents, no data
        ("MINUSCA", "2025-07", "patrol_status=patrolled", (1, 1.8)),  # S03 in W27
        # S03 in W28 (I05) and the other IDP site-weeks: (4.9 - 1.8) + 4.9
        ("MINUSCA", "2025-07", "patrol_status=not_patrolled", (1, 8.0)),
        ("UNMISS", "2026-W53", "total", (1, 18.4)),      # J1 at POC site SSD-S02 / 184,000
    ],
    "DET_VICTIMS": [
        ("MINUSCA", "2025-W27", "total", 5),             # I02 1 + I03 3 + I04 1
        ("CAF-S02", "2025-W27", "total", 3),
        ("CAF-S05", "2025-W27", "total", 0),
        ("MINUSCA", "2025-W27", "category=robbery_looting", 3),
        ("MINUSCA", "2025-W27", "site_type=town", 4),    # I03 3 + I04 1
        ("MINUSCA", "2025-07", "total", 6),              # + I05 1 + I06 0
        ("UNMISS", "2026-12", "total", 2),               # J1, Saturday 2 January 2027
    ],
    "TRU_COMMUNITY_FIRST": [
        ("MINUSCA", "2025-W27", "total", (1, 3)),        # I02; not I03 (police), I04 (NGO)
        ("CAF-BGI", "2025-W27", "total", (1, 2)),
        ("CAF-S03", "2025-W27", "total", (1, 1)),
        ("CAF-S02", "2025-W27", "total", (0, 1)),
        ("MINUSCA", "2025-07", "total", (3, 5)),         # + I05, I06; not (1/3 + 2/2) / 2
        ("CAF-BGI", "2025-07", "total", (2, 3)),         # I02, I05 of I02, I03, I05
        ("MINUSCA", "2025-07", "category=sgbv_crsv", (2, 2)),
        ("UNMISS", "2026-W53", "total", (0, 1)),         # J1 first reported by the UN
    ],
    "TRU_REPORTING_DELAY": [
        ("MINUSCA", "2025-W27", "total", 10),            # median(1, 10, 20); sectors' 5.5, 20
        ("CAF-BGI", "2025-W27", "total", 5.5),           # median(1, 10)
        ("MINUSCA", "2025-W28", "total", 17),            # median(4, 30)
        ("MINUSCA", "2025-07", "total", 10),             # median(1, 10, 20, 4, 30), not 13.5
        ("CAF-BGI", "2025-07", "total", 4),              # median(1, 10, 4)
        ("CAF-OUE", "2025-07", "total", 25),             # median(20, 30)
        ("MINUSCA", "2025-07", "category=sgbv_crsv", 2.5),  # median(1, 4)
        ("UNMISS", "2026-12", "total", 3),
    ],
    "TRU_HOST_STATE_ABUSE": [
        ("MINUSCA", "2025-W27", "total", 2),             # I03 (by host forces), I04 (category)
        ("CAF-BGI", "2025-W27", "total", 1),
        ("CAF-OUE", "2025-W27", "total", 1),
        ("MINUSCA", "2025-W28", "total", 0),
        ("MINUSCA", "2025-W27", "site_type=town", 2),
    ],
    "PER_FEELS_SAFE": [
        ("CAF-S03", "2025-W27", "total", (3, 4)),        # weights 2 + 1 of 4
        ("CAF-S06", "2025-W27", "total", (1, 3)),        # weight 1 of 3
        # (3 + 1) / (4 + 3) = 0.571: not the mean of sites (3/4 + 1/3) / 2 = 0.542, nor the
        # unweighted 3 of 5 respondents
        ("MINUSCA", "2025-W27", "total", (4, 7)),
        ("CAF-BGI", "2025-W27", "site_type=IDP camp", (3, 4)),
        ("MINUSCA", "2025-07", "total", (4, 7)),
    ],
    "PER_TRUST_HOST_POLICE": [
        ("CAF-S03", "2025-W27", "total", (1, 4)),        # R3 (weight 1)
        ("CAF-S06", "2025-W27", "total", (1, 3)),        # R4 (weight 1)
        ("MINUSCA", "2025-W27", "total", (2, 7)),
    ],
    "PER_WOULD_REPORT": [
        ("CAF-S03", "2025-W27", "total", (2, 4)),        # R1 (weight 2)
        ("CAF-S06", "2025-W27", "total", (1, 3)),        # R4
        ("MINUSCA", "2025-W27", "total", (3, 7)),
        ("MINUSCA", "2025-W27", "site_type=town", (1, 3)),
    ],
    "PER_TRUST_UNPOL": [
        ("CAF-S03", "2025-W27", "total", (17, 4)),       # (2 x 5 + 3 + 4) / 4 = 4.25
        ("CAF-S06", "2025-W27", "total", (4, 3)),        # (2 + 2 x 1) / 3
        ("MINUSCA", "2025-W27", "total", (21, 7)),       # 3.0, not (4.25 + 1.33) / 2
    ],
    "CAP_TEST_GAIN": [
        # (20 x 20 + 5 x 10) / (20 + 10): T4 had no test, so it is in neither sum; not the
        # mean of the sessions' gains (20 + 5) / 2
        ("MINUSCA", "2025-W27", "total", (450, 30)),
        ("CAF-BGI", "2025-W27", "total", (400, 20)),     # T1
        ("CAF-OUE", "2025-W27", "total", (50, 10)),      # T2
        ("MINUSCA", "2025-07", "category=human_rights", (50, 10)),  # T2 (T4 untested)
        ("MINUSCA", "2025-06", "total", (80, 8)),        # T3: 10 x 8
    ],
    "CAP_CERTIFIED_SHARE": [
        ("MINUSCA", "2025-W27", "total", (30, 40)),      # (15 + 10 + 5) / (20 + 10 + 10)
        ("CAF-BGI", "2025-W27", "total", (15, 20)),
        ("CAF-OUE", "2025-W27", "total", (10, 10)),
        ("MINUSCA", "2025-07", "category=human_rights", (15, 20)),  # T2 + T4
    ],
    "CAP_HOST_POLICE_JOINT": [
        ("MINUSCA", "2025-W26", "total", 4),             # P02
        ("MINUSCA", "2025-W27", "total", 3),             # P04
        ("CAF-S11", "2025-W28", "total", 5),             # P11
        ("MINUSCA", "2025-07", "total", 8),              # 3 + 5
        ("MINUSCA", "2025-07", "mode=vehicle", 8),
        ("UNMISS", "2026-W53", "total", 2),              # Q2
    ],
    "GEN_WOMEN_PH_SHARE": [
        ("MINUSCA", "2025-W27", "total", (35, 146)),
        # (12 + 12 + 7) / (60 + 27 + 42) = 0.240, not the mean of the sites' shares
        # (12/60 + 12/27 + 7/42) / 3 = 0.270
        ("CAF-BGI", "2025-W27", "total", (31, 129)),
        ("CAF-S01", "2025-W27", "total", (12, 60)),
        ("CAF-S02", "2025-W27", "total", (12, 27)),
        ("CAF-S03", "2025-W27", "total", (7, 42)),
        ("MINUSCA", "2025-W27", "unit_type=IPO", (12, 27)),  # P04, P08
        ("MINUSCA", "2025-06", "total", (5, 49)),        # (1 + 4 + 0) / (5 + 20 + 24)
        ("MINUSCA", "2025-07", "total", (39, 166)),      # (35 + 0 + 4) / (146 + 12 + 8)
        ("UNMISS", "FY2026-27", "total", (17, 51)),      # (10 + 3 + 4) / (20 + 15 + 16)
    ],
    "GEN_WOMEN_TRAINEES_SHARE": [
        ("MINUSCA", "2025-W27", "total", (15, 40)),
        ("CAF-BGI", "2025-W27", "total", (5, 20)),
        ("CAF-OUE", "2025-W27", "total", (6, 10)),
        ("MINUSCA", "2025-07", "category=human_rights", (10, 20)),  # (6 + 4) / (10 + 10)
    ],
    "GEN_WOMEN_DEPLOYED_SHARE": [
        ("MINUSCA", "2025-06", "total", (105, 832)),     # (60 + 45 + 0) / (532 + 300 + 0)
        ("MINUSCA", "2025-06", "unit_type=SPT", (0, 0)),
        ("UNMISS", "FY2026-27", "total", (153, 1170)),   # (40 + 30 + 45 + 38) / 1170
    ],
    "GEN_SGBV_REFERRED_72H": [
        ("MINUSCA", "2025-W27", "total", (1, 1)),        # I02, referred after exactly 72 h
        ("CAF-OUE", "2025-W27", "total", (0, 0)),        # incidents, but no SGBV: no data
        ("MINUSCA", "2025-W28", "total", (0, 1)),        # I05 after 100 h
        ("MINUSCA", "2025-W26", "total", (0, 0)),
        ("MINUSCA", "2025-07", "total", (1, 2)),
    ],
    "DQ_COMPLETENESS": [
        ("MINUSCA", "2025-W23", "total", (1, 2)),        # patrols received, incidents missing
        ("MINUSCA", "2025-W24", "total", (0, 2)),        # both missing
        ("MINUSCA", "2025-W27", "total", (2, 2)),        # trainings, surveys: not scheduled
        # W23-W26 (1 + 0 + 0 + 2 of 8) + the June strength return (1 of 1)
        ("MINUSCA", "2025-06", "total", (4, 9)),
        ("MINUSCA", "2025-07", "total", (5, 5)),         # W27, W28 (4 of 4) + July strength
        ("UNMISS", "2026-12", "total", (4, 5)),          # W52 incidents missing
        ("UNMISS", "2027-01", "total", (2, 3)),          # W01 incidents missing
        ("UNMISS", "FY2026-27", "total", (6, 8)),        # not the quarters' mean (4/5 + 2/3)/2
    ],
    "DQ_TIMELINESS": [
        ("MINUSCA", "2025-W24", "total", (0, 2)),        # missing returns are not on time
        ("MINUSCA", "2025-W26", "total", (1, 2)),        # patrols at 12:00 local; incidents 12:30
        ("MINUSCA", "2025-W27", "total", (2, 2)),        # the patrols' first version was on time
        ("MINUSCA", "2025-W28", "total", (1, 2)),        # patrols at 12:30 local (11:30 UTC)
        # W23 patrols, W26 patrols, June strength (at exactly Monday 7 July 12:00 local)
        ("MINUSCA", "2025-06", "total", (3, 9)),
        ("MINUSCA", "2025-07", "total", (3, 5)),         # W27 2, W28 1; July strength late
        ("UNMISS", "2026-W53", "total", (1, 2)),         # patrols 10:30 UTC: 12:30 in Juba
    ],
    "DQ_UNIT_RETURNS": [
        # FPU-1..4, IPO-1, SPT-1 (IPO-2 not yet deployed): FPU-1 (P01), FPU-2 (P02) report
        ("MINUSCA", "2025-W26", "total", (2, 6)),
        # FPU-4 withdrawn on 1 July: FPU-1, FPU-3 (P09), IPO-1 of FPU-1..3, IPO-1, SPT-1
        ("MINUSCA", "2025-W27", "total", (3, 5)),
        ("MINUSCA", "2025-W28", "total", (2, 6)),        # + IPO-2: FPU-2 (P10), IPO-2 (P11)
        ("MINUSCA", "2025-06", "total", (3, 24)),        # W23 1/6, W24 0/6, W25 0/6, W26 2/6
        ("MINUSCA", "2025-07", "total", (5, 11)),        # (3 + 2) / (5 + 6)
        ("CAF-EST", "2025-W26", "total", (0, 1)),        # FPU-4, before its withdrawal
        ("CAF-BGI", "2025-W27", "total", (2, 3)),        # FPU-1, IPO-1; SPT-1 never reports
        ("CAF-CEN", "2025-07", "total", (2, 3)),         # FPU-3 in W27; IPO-2 in W28
        ("MINUSCA", "2025-W27", "unit_type=FPU", (2, 3)),
        ("MINUSCA", "2025-W27", "unit_type=SPT", (0, 1)),
        ("UNMISS", "FY2026-27", "total", (3, 21)),       # 7 units x 3 weeks, 1 a week reports
    ],
    "DQ_QUARANTINE_SHARE": [
        ("MINUSCA", "2025-W24", "total", (0, 0)),        # only missing returns: no data
        ("MINUSCA", "2025-W26", "total", (1, 5)),        # patrols 0/2, incidents 1/2, trainings
        # the files in force: patrols 1/8, incidents 0/3, trainings 1/4, surveys 1/6 (received
        # that week); the superseded first patrol file is not counted
        ("MINUSCA", "2025-W27", "total", (3, 21)),
        ("MINUSCA", "2025-06", "total", (1, 9)),         # W23 1 + W26 5 + June strength 3
        ("MINUSCA", "2025-07", "total", (3, 28)),        # W27 21 + W28 4 + July strength 3
        ("UNMISS", "FY2026-27", "total", (1, 9)),        # W01 patrols 1/2; 1+1+1+2+2 more read
    ],
}

CATALOGUE = load_catalogue()
CODES = sorted(CATALOGUE["indicator_code"])
KEY = ("indicator_code", "org_unit_id", "period_label", "disaggregation", "disaggregation_value")


def _by(by: str) -> tuple[str, str]:
    if by == "total":
        return "total", "total"
    dimension, value = by.split("=", 1)
    return dimension, value


def _rows(db: duckdb.DuckDBPyConnection, table: str) -> dict[tuple, dict]:
    result = db.execute(f"select * from {table}")
    names = [column[0] for column in result.description]
    rows = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
    return {tuple(row[name] for name in KEY): row for row in rows}


@pytest.fixture(scope="module")
def scored(db: duckdb.DuckDBPyConnection) -> dict[tuple, dict]:
    return _rows(db, SCORED)


def _close(actual: float | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)


def test_every_expected_code_is_in_the_catalogue() -> None:
    assert len(CODES) == 34
    assert set(EXPECTED) <= set(CODES), set(EXPECTED) - set(CODES)


@pytest.mark.parametrize("code", CODES)
def test_indicator_values_match_the_hand_computation(code: str,
                                                     scored: dict[tuple, dict]) -> None:
    assert code in EXPECTED, f"{code} has no hand-computed expectation in EXPECTED"
    assert EXPECTED[code]
    for org, period, by, expected in EXPECTED[code]:
        key = (code, org, period, *_by(by))
        assert key in scored, f"no row for {key}"
        row = scored[key]
        if isinstance(expected, tuple):
            numerator, denominator = expected
            assert _close(row["numerator"], numerator), (key, row["numerator"], numerator)
            assert _close(row["denominator"], denominator), (key, row["denominator"],
                                                             denominator)
            expected = numerator / denominator if denominator else None
        assert _close(row["value"], expected), (key, row["value"], expected)


# --------------------------------------------------------------------------------------------
# Aggregation rules, over every indicator and disaggregation of the table.

ADDITIVE = f"""
    select values.*, indicators.aggregation, indicators.source_mart
    from {SCORED} as values
    inner join marts.dim_indicators as indicators using (indicator_code)
    where indicators.aggregation <> 'median'
"""


def _sum_mismatches(db: duckdb.DuckDBPyConnection, join: str, where: str = "true") -> tuple:
    """Parents whose numerator or denominator is not the sum of their children's (by the
    children's disaggregation), and how many sums were compared."""
    rows = db.execute(f"""
        with additive as ({ADDITIVE})
        select parent.indicator_code, parent.org_unit_id, parent.period_label,
            parent.disaggregation, parent.disaggregation_value, child.disaggregation,
            coalesce(parent.numerator, 0), sum(coalesce(child.numerator, 0)),
            coalesce(parent.denominator, 0), sum(coalesce(child.denominator, 0))
        from additive as child
        inner join additive as parent on {join}
        where {where}
        group by all
    """).fetchall()
    wrong = [row for row in rows
             if not (math.isclose(row[6], row[7], abs_tol=1e-9)
                     and math.isclose(row[8], row[9], abs_tol=1e-9))]
    return wrong, len(rows)


SAME_INDICATOR = """
    parent.indicator_code = child.indicator_code and parent.mission_id = child.mission_id"""


def test_weeks_add_up_to_months_months_to_quarters_quarters_to_fiscal_years(
        db: duckdb.DuckDBPyConnection) -> None:
    # sums, and the numerators and denominators of ratios, in total and by every breakdown
    wrong, compared = _sum_mismatches(db, f"""{SAME_INDICATOR}
        and parent.level = child.level and parent.org_unit_id = child.org_unit_id
        and parent.disaggregation = child.disaggregation
        and parent.disaggregation_value = child.disaggregation_value
        and parent.period_label = child.parent_period_label""",
        # a month's returns are its weeks' and the monthly (strength) return
        where="not (child.source_mart = 'fct_reporting_returns'"
              " and child.period_type = 'week')")
    assert wrong == []
    assert compared > 1000


def test_sites_add_up_to_sectors_and_sectors_to_missions(db: duckdb.DuckDBPyConnection) -> None:
    wrong, compared = _sum_mismatches(db, f"""{SAME_INDICATOR}
        and parent.org_unit_id = child.parent_org_unit_id
        and parent.period_label = child.period_label
        and parent.disaggregation = child.disaggregation
        and parent.disaggregation_value = child.disaggregation_value""",
        # a training without a site counts for its mission only (next test)
        where="child.level = 'site' or child.source_mart <> 'fct_trainings'")
    assert wrong == []
    assert compared > 1000


def test_a_training_without_a_site_counts_for_the_mission_only(
        scored: dict[tuple, dict]) -> None:
    sectors = sum(scored[("TRN_SESSIONS", sector, "2025-W27", "total", "total")]["value"]
                  for sector in ("CAF-BGI", "CAF-OUE", "CAF-CEN", "CAF-EST"))
    assert sectors == 2  # T1, T2
    assert scored[("TRN_SESSIONS", "MINUSCA", "2025-W27", "total", "total")]["value"] == 3


def test_breakdowns_add_up_to_the_total(db: duckdb.DuckDBPyConnection) -> None:
    # every value of a disaggregation, 'not_recorded' included; women + men for sex
    wrong, compared = _sum_mismatches(db, f"""{SAME_INDICATOR}
        and parent.level = child.level and parent.org_unit_id = child.org_unit_id
        and parent.period_label = child.period_label
        and parent.disaggregation = 'total' and child.disaggregation <> 'total'""")
    assert wrong == []
    assert compared > 1000
    sexes = db.execute(f"""
        select indicator_code, list(distinct disaggregation_value order by disaggregation_value)
        from {SCORED} where disaggregation = 'sex' group by all order by all
    """).fetchall()
    assert sexes == [("PAT_PERSON_HOURS", ["men", "women"]),
                     ("TRN_OFFICERS_TRAINED", ["men", "women"])]


# (indicator, parent org unit and period, its children): the parent is the sum of the
# children's numerators over the sum of their denominators, which here differs from the mean
# of the children's values
RATIO_PARENTS = [
    ("GEN_WOMEN_PH_SHARE", ("CAF-BGI", "2025-W27"),
     [("CAF-S01", "2025-W27"), ("CAF-S02", "2025-W27"), ("CAF-S03", "2025-W27")]),
    ("RSP_WITHIN_TARGET", ("MINUSCA", "2025-07"),
     [("MINUSCA", "2025-W27"), ("MINUSCA", "2025-W28")]),
    ("PER_FEELS_SAFE", ("MINUSCA", "2025-W27"), [("CAF-S03", "2025-W27"), ("CAF-S06", "2025-W27")]),
    ("CAP_TEST_GAIN", ("MINUSCA", "2025-W27"), [("CAF-BGI", "2025-W27"), ("CAF-OUE", "2025-W27")]),
    ("STR_DEPLOYMENT_RATE", ("UNMISS", "FY2026-27"),
     [("UNMISS", "2026-Q4"), ("UNMISS", "2027-Q1")]),
    ("DQ_COMPLETENESS", ("UNMISS", "FY2026-27"), [("UNMISS", "2026-Q4"), ("UNMISS", "2027-Q1")]),
]


@pytest.mark.parametrize(("code", "parent", "children"), RATIO_PARENTS,
                         ids=[case[0] for case in RATIO_PARENTS])
def test_ratios_are_sums_over_sums_not_means_of_ratios(code: str, parent: tuple, children: list,
                                                       scored: dict[tuple, dict]) -> None:
    rows = [scored[(code, org, period, "total", "total")] for org, period in children]
    pooled = sum(row["numerator"] for row in rows) / sum(row["denominator"] for row in rows)
    mean = sum(row["value"] for row in rows) / len(rows)
    value = scored[(code, *parent, "total", "total")]["value"]
    assert math.isclose(value, pooled, rel_tol=1e-9)
    assert not math.isclose(value, mean, rel_tol=1e-3)


# medians are taken over the rows of the parent, not over the children's medians
MEDIAN_PARENTS = [
    ("TRU_REPORTING_DELAY", ("MINUSCA", "2025-W27"), 10,  # median(1, 10, 20)
     [("CAF-BGI", "2025-W27"), ("CAF-OUE", "2025-W27")]),  # 5.5, 20: 12.75
    ("TRU_REPORTING_DELAY", ("MINUSCA", "2025-07"), 10,  # median(1, 4, 10, 20, 30)
     [("MINUSCA", "2025-W27"), ("MINUSCA", "2025-W28")]),  # 10, 17: 13.5
    ("RSP_MEDIAN_MINUTES", ("MINUSCA", "2025-07"), 90,  # median(90, 170, 30)
     [("MINUSCA", "2025-W27"), ("MINUSCA", "2025-W28")]),  # 130, 30: 80
    ("RSP_MEDIAN_MINUTES", ("MINUSCA", "2025-07"), 90,
     [("CAF-BGI", "2025-07"), ("CAF-OUE", "2025-07")]),  # 130, 30: 80
]


@pytest.mark.parametrize(("code", "parent", "expected", "children"), MEDIAN_PARENTS,
                         ids=[f"{case[0]}/{case[1][1]}/{case[3][0][0]}" for case in MEDIAN_PARENTS])
def test_medians_are_recomputed_at_each_level_and_period(
        code: str, parent: tuple, expected: float, children: list,
        scored: dict[tuple, dict]) -> None:
    medians = sorted(scored[(code, org, period, "total", "total")]["value"]
                     for org, period in children)
    median_of_medians = (medians[0] + medians[1]) / 2
    assert scored[(code, *parent, "total", "total")]["value"] == expected
    assert median_of_medians != expected


def test_sums_are_zero_filled_over_org_units_in_covered_periods(
        db: duckdb.DuckDBPyConnection, scored: dict[tuple, dict]) -> None:
    sites = db.execute(f"""
        select count(*), count(*) filter (where value = 0), sum(value) from {SCORED}
        where indicator_code = 'PAT_COUNT' and level = 'site' and mission_id = 'MINUSCA'
            and period_label = '2025-W27' and disaggregation = 'total'
    """).fetchone()
    assert sites == (20, 16, 7)  # every site; only S01, S02, S03 and S11 were patrolled
    # a week without any patrol is not covered by the patrol data: no value, not 0 ...
    assert not any(key[0] == "PAT_COUNT" and key[2] == "2025-W24" for key in scored)
    # ... while the site-week panel (patrols or incidents, first to last week) covers it
    assert db.execute(f"""
        select count(*), sum(value) from {SCORED}
        where indicator_code = 'DET_REPEAT_DISPLACEMENT' and level = 'site'
            and period_label = '2025-W24' and disaggregation = 'total'
    """).fetchone() == (20, 0)
    # ratios and breakdowns are not zero-filled: no row where there is nothing to divide
    assert ("GEN_WOMEN_PH_SHARE", "CAF-S05", "2025-W27", "total", "total") not in scored
    assert ("PAT_COUNT", "CAF-S01", "2025-W27", "mode", "boat") not in scored
    # a unit type without units leaves no row (CAF-EST's only unit is withdrawn in W27)
    assert ("DQ_UNIT_RETURNS", "CAF-EST", "2025-W27", "total", "total") not in scored


def test_zero_over_zero_is_no_data_never_zero(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(f"""
        select indicator_code, count(*) filter (where value is not null),
            count(*) filter (where value is null)
        from {SCORED} where denominator = 0 group by all order by all
    """).fetchall()
    assert all(with_value == 0 for _, with_value, _ in rows), rows
    assert {code for code, _, _ in rows} >= {
        "STR_DEPLOYMENT_RATE", "GEN_WOMEN_DEPLOYED_SHARE", "DET_HOTSPOT_DOSE",
        "GEN_SGBV_REFERRED_72H", "DQ_QUARANTINE_SHARE",
    }
    # and a ratio with something to divide always has a value
    assert db.execute(f"""
        select count(*) from {SCORED} where denominator > 0 and value is null
    """).fetchone() == (0,)


def test_a_week_across_30_june_and_1_july_counts_in_july(
        db: duckdb.DuckDBPyConnection, scored: dict[tuple, dict]) -> None:
    week = one(db, f"""
        select distinct period_start, period_end, parent_period_label, fiscal_year_label
        from {SCORED} where period_label = '2025-W27'
    """)
    assert week == (date(2025, 6, 30), date(2025, 7, 6), "2025-07", "FY2025-26")

    def count(org: str, period: str) -> float:
        return scored[("PAT_COUNT", org, period, "total", "total")]["value"]

    # CAF-S01: P00 (2 June) and P01 (26 June) in June; P03 (Monday 30 June) in July
    assert [count("CAF-S01", period) for period in ("2025-06", "2025-Q2", "FY2024-25")] \
        == [2, 2, 2]
    assert [count("CAF-S01", period) for period in ("2025-07", "2025-Q3", "FY2025-26")] \
        == [1, 1, 1]
    # the training that starts on Monday 30 June (T1) is July's too
    assert scored[("TRN_SESSIONS", "CAF-BGI", "2025-06", "total", "total")]["value"] == 1
    assert scored[("TRN_SESSIONS", "CAF-BGI", "2025-07", "total", "total")]["value"] == 1


def test_iso_week_53_counts_in_december(db: duckdb.DuckDBPyConnection,
                                        scored: dict[tuple, dict]) -> None:
    week = one(db, f"""
        select distinct period_start, period_end, parent_period_label, fiscal_year_label
        from {SCORED} where period_label = '2026-W53'
    """)
    assert week == (date(2026, 12, 28), date(2027, 1, 3), "2026-12", "FY2026-27")
    # Q2 (Friday 1 January 2027, at SSD-S01) is December's, not January's
    values = {period: scored[("PAT_COUNT", "SSD-S01", period, "total", "total")]["value"]
              for period in ("2026-W53", "2026-12", "2026-Q4", "2027-01", "2027-Q1",
                             "FY2026-27")}
    assert values == {"2026-W53": 1, "2026-12": 1, "2026-Q4": 1, "2027-01": 0,
                      "2027-Q1": 0, "FY2026-27": 1}
    # J1 (Saturday 2 January 2027): December; the incident data cover no January week
    assert scored[("DET_VICTIMS", "UNMISS", "2026-12", "total", "total")]["value"] == 2
    assert ("DET_VICTIMS", "UNMISS", "2027-01", "total", "total") not in scored


# --------------------------------------------------------------------------------------------
# Targets and status: on track within 15% of the target (or beyond it in the good
# direction), at risk within 30%, off track beyond; for down-is-good indicators the distance
# is value - target. Shortfall = (target - value) / target for up, (value - target) / target
# for down.

STATUS = [
    # (indicator, org unit, period, breakdown): (baseline, target, status)
    # the week of Monday 30 June 2025 is in FY2025-26: its target is 0.30, not FY2024-25's
    # 0.10; (0.30 - 35/146) / 0.30 = 0.201
    (("GEN_WOMEN_PH_SHARE", "MINUSCA", "2025-W27", "total"), (0.15, 0.30, "at_risk")),
    (("GEN_WOMEN_PH_SHARE", "MINUSCA", "2025-W26", "total"),  # (0.10 - 4/44) / 0.10 = 0.09
     (0.05, 0.10, "on_track")),
    # a fiscal-year target applies to the months and quarters of a ratio: 39/166 = 0.235
    (("GEN_WOMEN_PH_SHARE", "MINUSCA", "2025-07", "total"), (0.15, 0.30, "at_risk")),
    (("GEN_WOMEN_PH_SHARE", "MINUSCA", "2025-Q3", "total"), (0.15, 0.30, "at_risk")),
    # an exact-period target wins: 4/20 = 0.20 meets 0.20 (0.30 would be 33% short)
    (("GEN_WOMEN_PH_SHARE", "MINUSCA", "2025-W28", "total"), (0.15, 0.20, "on_track")),
    # mission targets are not a sector's, nor a breakdown's
    (("GEN_WOMEN_PH_SHARE", "CAF-BGI", "2025-W27", "total"), (None, None, None)),
    (("GEN_WOMEN_PH_SHARE", "MINUSCA", "2025-W27", "mode=foot"), (None, None, None)),
    # a fiscal-year target of a sum is not spread over its months
    (("PAT_PERSON_HOURS", "MINUSCA", "2025-07", "total"), (None, None, None)),
    # the fiscal year in progress (data to 13 July) is partial: no status for a sum
    (("PAT_PERSON_HOURS", "MINUSCA", "FY2025-26", "total"), (800, 1000, None)),
    (("PAT_COUNT", "MINUSCA", "FY2025-26", "total"), (8, 12, None)),
    (("PAT_COUNT", "MINUSCA", "2025-Q3", "total"), (8, 10, None)),
    (("PAT_COUNT", "MINUSCA", "2025-07", "total"), (8, 12, None)),  # W27-W31, data to W28
    # June's weeks (W23, 2 June, to W26, 29 June) are all within the data: 3 of 4 is 25% short
    (("PAT_COUNT", "MINUSCA", "2025-06", "total"), (2, 4, "at_risk")),
    # boundaries: exactly 30% short is at risk, 30.2% off track; exactly 15% on track,
    # 15.04% at risk
    (("PAT_COUNT", "MINUSCA", "2025-W27", "total"), (5, 10, "at_risk")),     # (10 - 7) / 10
    (("PAT_COUNT", "CAF-S03", "2025-W27", "total"), (1, 4.3, "off_track")),  # 1.3 / 4.3
    (("PAT_PERSON_HOURS", "CAF-S11", "2025-W27", "total"), (10, 20, "on_track")),  # 3 / 20
    (("PAT_PERSON_HOURS", "CAF-CEN", "2025-W27", "total"),
     (10, 20.01, "at_risk")),                                                # 3.01 / 20.01
    (("CAP_HOST_POLICE_JOINT", "MINUSCA", "2025-W26", "total"),
     (2, 5, "at_risk")),                                                     # (5 - 4) / 5
    # down is good: 4 against 5 is 20% better (up, above, it is 20% short), 5 against 4 is 25%
    # worse; a median 30% above its target is at risk
    (("DET_VICTIMS", "CAF-BGI", "2025-W27", "total"), (6, 5, "on_track")),
    (("DET_VICTIMS", "MINUSCA", "2025-W27", "total"), (6, 4, "at_risk")),
    (("RSP_MEDIAN_MINUTES", "MINUSCA", "2025-W27", "total"),
     (150, 100, "at_risk")),                                                 # (130 - 100) / 100
    # target 0
    (("DET_VICTIMS", "CAF-OUE", "2025-W27", "total"), (1, 0, "off_track")),  # 1 victim
    (("TRU_HOST_STATE_ABUSE", "MINUSCA", "2025-W28", "total"), (1, 0, "on_track")),  # 0
    (("PAT_ESCORTS", "MINUSCA", "2025-W28", "total"), (1, 0, "on_track")),   # 0, up
    # a monthly source: December is whole (200 against 250 is 20% short), the year is not
    (("STR_FPU_OP_DAYS", "UNMISS", "2026-12", "total"), (180, 250, "at_risk")),
    (("STR_FPU_OP_DAYS", "UNMISS", "FY2026-27", "total"), (2000, 2400, None)),
]


@pytest.mark.parametrize(("key", "expected"), STATUS,
                         ids=["/".join(key) for key, _ in STATUS])
def test_targets_and_status(key: tuple, expected: tuple, scored: dict[tuple, dict]) -> None:
    code, org, period, by = key
    row = scored[(code, org, period, *_by(by))]
    assert (row["baseline"], row["target"], row["status"]) == expected


def test_partial_periods(scored: dict[tuple, dict]) -> None:
    def partial(code: str, org: str, period: str) -> bool:
        return scored[(code, org, period, "total", "total")]["is_partial_period"]

    # weekly patrol data from 2025-W23 (2 June) to 2025-W28 (13 July)
    assert not partial("PAT_COUNT", "MINUSCA", "2025-W27")
    assert not partial("PAT_COUNT", "MINUSCA", "2025-06")   # its weeks run 2 to 29 June
    assert partial("PAT_COUNT", "MINUSCA", "2025-07")       # its weeks run 30 June to 3 Aug
    assert partial("PAT_COUNT", "MINUSCA", "2025-Q2")       # April and May have no data
    # monthly strength data for June and July 2025
    assert not partial("STR_FPU_OP_DAYS", "MINUSCA", "2025-06")
    assert partial("STR_FPU_OP_DAYS", "MINUSCA", "2025-Q3")


# --------------------------------------------------------------------------------------------
# Weighted survey shares: 95% Wilson interval on the Kish effective sample size
# n = (sum of weights)^2 / (sum of squared weights).

def _wilson(p: float, n: float) -> tuple[float, float]:
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


SURVEY_INTERVALS = [
    # (org unit, p, Kish n, interval worked out by hand)
    # MINUSCA: p = 4/7, n = 7^2 / (6 + 5) = 49/11 = 4.4545; z^2/n = 0.8624;
    # centre = (0.5714 + 0.4312) / 1.8624 = 0.5384, half = 1.96 x sqrt(0.05498 + 0.04840)
    # / 1.8624 = 0.3384
    ("MINUSCA", 4 / 7, 49 / 11, (0.19998, 0.87673)),
    ("CAF-S03", 3 / 4, 16 / 6, (0.23850, 0.96637)),   # weights 2, 1, 1: 4^2 / 6
    ("CAF-S06", 1 / 3, 9 / 5, (0.04161, 0.85204)),    # weights 1, 2: 3^2 / 5
]


@pytest.mark.parametrize(("org", "share", "kish_n", "by_hand"), SURVEY_INTERVALS,
                         ids=[case[0] for case in SURVEY_INTERVALS])
def test_survey_share_confidence_interval(org: str, share: float, kish_n: float,
                                          by_hand: tuple, scored: dict[tuple, dict]) -> None:
    row = scored[("PER_FEELS_SAFE", org, "2025-W27", "total", "total")]
    assert row["value"] == pytest.approx(share, rel=1e-9)
    assert row["effective_n"] == pytest.approx(kish_n, rel=1e-9)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(_wilson(share, kish_n), rel=1e-9)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(by_hand, abs=1e-5)


def test_no_interval_for_means_or_unweighted_ratios(scored: dict[tuple, dict]) -> None:
    # a weighted mean score (points) and a participant-weighted gain have no interval, nor
    # has an ordinary ratio
    for code in ("PER_TRUST_UNPOL", "CAP_TEST_GAIN", "GEN_WOMEN_PH_SHARE"):
        row = scored[(code, "MINUSCA", "2025-W27", "total", "total")]
        assert (row["ci_low"], row["ci_high"]) == (None, None), code


# --------------------------------------------------------------------------------------------
# Returns and deadlines behind the data-quality indicators.

def test_reporting_returns_deadlines_in_utc(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute("""
        select mission_id, source_name, period_label, deadline_at, received, on_time,
            rows_read, rows_quarantined
        from marts.fct_reporting_returns
        where (mission_id, source_name, period_label) in (
            ('MINUSCA', 'patrols', '2025-W26'), ('MINUSCA', 'incidents', '2025-W26'),
            ('MINUSCA', 'patrols', '2025-W27'), ('MINUSCA', 'incidents', '2025-W24'),
            ('MINUSCA', 'strength', '2025-06'), ('MINUSCA', 'strength', '2025-07'),
            ('UNMISS', 'patrols', '2026-W53'))
        order by all
    """).fetchall()
    assert rows == [
        # missing: expected, not received, not on time
        ("MINUSCA", "incidents", "2025-W24", ts("2025-06-16 11:00"), False, False, 0, 0),
        ("MINUSCA", "incidents", "2025-W26", ts("2025-06-30 11:00"), True, False, 2, 1),
        ("MINUSCA", "patrols", "2025-W26", ts("2025-06-30 11:00"), True, True, 2, 0),
        # the first (superseded) version came on time; the rows are those of the file in force
        ("MINUSCA", "patrols", "2025-W27", ts("2025-07-07 11:00"), True, True, 8, 1),
        # a month's deadline: the first Monday after it ends, 12:00 local
        ("MINUSCA", "strength", "2025-06", ts("2025-07-07 11:00"), True, True, 3, 0),
        ("MINUSCA", "strength", "2025-07", ts("2025-08-04 11:00"), True, False, 3, 0),
        ("UNMISS", "patrols", "2026-W53", ts("2027-01-04 10:00"), True, False, 1, 0),
    ]


# --------------------------------------------------------------------------------------------
# Publication: marts.fct_indicator_values, with small_cell_threshold 2.

def test_published_values_are_the_computed_ones(db: duckdb.DuckDBPyConnection) -> None:
    columns = ["value", "numerator", "denominator", "ci_low", "ci_high", "baseline", "target",
               "status", "is_partial_period"]
    different = " or ".join(
        f"published.{name} is distinct from computed.{name}" for name in columns
        if name in ("status", "is_partial_period", "baseline", "target")
    ) + " or " + " or ".join(
        f"abs(coalesce(published.{name}, 0) - coalesce(computed.{name}, 0)) > 1e-9"
        f" or (published.{name} is null) <> (computed.{name} is null)"
        for name in ("value", "numerator", "denominator", "ci_low", "ci_high")
    )
    joined = f"""
        from {PUBLISHED} as published
        inner join {SCORED} as computed
            using (indicator_code, mission_id, level, org_unit_id, period_type, period_label,
                   disaggregation, disaggregation_value)
        where not published.suppressed
    """
    assert db.execute(f"select count(*) {joined}").fetchone()[0] > 1000
    assert db.execute(f"select count(*) {joined} and ({different})").fetchone() == (0,)
    # every published row is a computed one
    assert db.execute(f"""
        select count(*) from {PUBLISHED} as published
        anti join {SCORED} as computed
            using (indicator_code, mission_id, level, org_unit_id, period_type, period_label,
                   disaggregation, disaggregation_value)
    """).fetchone() == (0,)


def test_small_cells_are_suppressed_and_marked(db: duckdb.DuckDBPyConnection) -> None:
    def published(code: str, org: str, period: str) -> tuple:
        return one(db, f"""
            select value, target, status, suppressed, suppression_reason from {PUBLISHED}
            where indicator_code = ? and org_unit_id = ? and period_label = ?
                and disaggregation = 'total'
        """, [code, org, period])

    # one victim in CAF-OUE in July (I04): a small count of people, withheld
    assert published("DET_VICTIMS", "CAF-OUE", "2025-07") == (None, None, None, True, "primary")
    # a median resting on one alert (A4), withheld with its status, keeping its target (the
    # seed's FY2025-26 80 minutes)
    value, target, status, suppressed, reason = published("RSP_MEDIAN_MINUTES", "MINUSCA",
                                                          "2025-W28")
    assert (value, status, suppressed, reason) == (None, None, True, "primary")
    assert target is not None
    # counts of patrols are operational: published however small, with their status
    assert published("PAT_COUNT", "MINUSCA", "2025-W27") == (7, 10, "at_risk", False, None)
    # a survey share on two respondents, at the threshold: published with its interval
    row = one(db, f"""
        select value, ci_low, ci_high, suppressed from {PUBLISHED}
        where indicator_code = 'PER_FEELS_SAFE' and org_unit_id = 'CAF-S06'
            and period_label = '2025-W27' and disaggregation = 'total'
    """)
    assert row == pytest.approx((1 / 3, 0.04161, 0.85204, False), abs=1e-5)
