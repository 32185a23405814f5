"""The dbt project against a tiny hand-made warehouse: a real `dbt build`, then the marts.

Every expected value below is computed by hand from the rows inserted here, so a change in
the models' logic shows up as a wrong number, not only as a failing dbt test.
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from raw_fixture import dbt_build, insert_manifest, insert_raw, one, ts

from pipelines.ingest.restricted import seal
from pipelines.ingest.warehouse import connect

pytestmark = pytest.mark.slow

SITES = {"MINUSCA": 20, "UNMISS": 20}  # configured sites per mission in the seeds

# A narrative and reporter pseudonyms that must never reach intermediate or mart tables.
SECRET_NARRATIVE = "SECRET-NARRATIVE-do-not-publish"
SECRET_REPORTER_KEY = "SECRET-REPORTER-KEY"


PATROLS = [
    # MINUSCA, ISO week of 2025-01-06: 3 h, 20 persons (4 women): 60 person-hours, 12 women's.
    {"patrol_id": "P1", "mission": "MINUSCA", "unit_id": "CAF-FPU-1", "unit_type": "FPU",
     "start_time": ts("2025-01-06 08:00"), "end_time": ts("2025-01-06 11:00"),
     "site_id": "CAF-S01", "mode": "foot", "range": "short", "joint_with": "none",
     "persons": 20, "women": 4, "host_police_persons": 0, "purpose": "market_day",
     "alert_id": None},
    # MINUSCA, week of 2025-01-13: 1.5 h x 6 persons = 9 person-hours.
    {"patrol_id": "P2", "mission": "MINUSCA", "unit_id": "CAF-IPO-1", "unit_type": "IPO",
     "start_time": ts("2025-01-15 09:30"), "end_time": ts("2025-01-15 11:00"),
     "site_id": "CAF-S03", "mode": "vehicle", "range": "short", "joint_with": "host_police",
     "persons": 6, "women": 2, "host_police_persons": 3, "purpose": "idp_site",
     "alert_id": None},
    # MINUSCA, week of 2025-01-20: answers alert A1, from CAF-FPU-1's base (CAF-S01).
    {"patrol_id": "P3", "mission": "MINUSCA", "unit_id": "CAF-FPU-1", "unit_type": "FPU",
     "start_time": ts("2025-01-20 13:50"), "end_time": ts("2025-01-20 16:50"),
     "site_id": "CAF-S04", "mode": "vehicle", "range": "long", "joint_with": "none",
     "persons": 12, "women": 1, "host_police_persons": 0, "purpose": "alert_response",
     "alert_id": "A1"},
    # UNMISS reuses the id P1 (ids are numbered per mission): 12 h x 30 = 360 person-hours.
    {"patrol_id": "P1", "mission": "UNMISS", "unit_id": "SSD-FPU-1", "unit_type": "FPU",
     "start_time": ts("2025-01-07 06:00"), "end_time": ts("2025-01-07 18:00"),
     "site_id": "SSD-S02", "mode": "foot", "range": "long", "joint_with": "military",
     "persons": 30, "women": 6, "host_police_persons": 0, "purpose": "poc_site",
     "alert_id": None},
]

INCIDENTS = [
    # Alert A1 received 13:40, police on site 15:05: 85 minutes.
    {"incident_id": "I1", "mission": "MINUSCA", "occurred_at": ts("2025-01-20 13:00"),
     "reported_at": ts("2025-01-20 13:30"), "site_id": "CAF-S04",
     "category": "armed_group_attack", "victims": 3, "fatalities": 1,
     "perpetrator_type": "armed_group", "source_type": "community", "alert_id": "A1",
     "alert_received_at": ts("2025-01-20 13:40"),
     "response_arrived_at": ts("2025-01-20 15:05"), "referred_at": None, "box": "blue",
     "reporter_name_key": SECRET_REPORTER_KEY, "reporter_phone_key": SECRET_REPORTER_KEY},
    {"incident_id": "I2", "mission": "MINUSCA", "occurred_at": ts("2025-01-08 22:00"),
     "reported_at": ts("2025-01-09 08:00"), "site_id": "CAF-S02",
     "category": "robbery_looting", "victims": 1, "fatalities": 0,
     "perpetrator_type": "criminals", "source_type": "host_police", "alert_id": None,
     "alert_received_at": None, "response_arrived_at": None,
     "referred_at": ts("2025-01-10 08:00"), "box": "blue",
     "reporter_name_key": None, "reporter_phone_key": None},
    # UNMISS: weeks of 2025-01-06 (patrol) and 2025-01-13 (this incident).
    {"incident_id": "I1", "mission": "UNMISS", "occurred_at": ts("2025-01-14 03:00"),
     "reported_at": ts("2025-01-14 07:00"), "site_id": "SSD-S02",
     "category": "intercommunal_clash", "victims": 2, "fatalities": 0,
     "perpetrator_type": "community_members", "source_type": "un", "alert_id": None,
     "alert_received_at": None, "response_arrived_at": None, "referred_at": None,
     "box": "blue", "reporter_name_key": None, "reporter_phone_key": None},
]

TRAININGS = [
    {"session_id": "T1", "mission": "MINUSCA", "course": "Police de proximité",
     "topic": "community_policing", "site_id": "CAF-S01", "start_date": date(2025, 1, 13),
     "end_date": date(2025, 1, 17), "host_police_unit": "Commissariat 3e",
     "participants": 25, "women": 8, "pre_test_score": 52.5, "post_test_score": 71.0,
     "certified": 20},
]

STRENGTH = [
    {"mission": "MINUSCA", "month": date(2025, 1, 1), "unit_type": "FPU", "authorized": 560,
     "deployed": 532, "women": 60, "fpu_operational_days": 300},
    {"mission": "MINUSCA", "month": date(2025, 1, 1), "unit_type": "SPT", "authorized": 0,
     "deployed": 0, "women": 0, "fpu_operational_days": None},
    {"mission": "UNMISS", "month": date(2025, 1, 1), "unit_type": "IPO", "authorized": 400,
     "deployed": 300, "women": 45, "fpu_operational_days": None},
]

# Weighted: feels safe (4-5) 3/4, would report 2/4, mean feels_safe (10 + 2 + 4) / 4 = 4.
SURVEYS = [
    {"round": "2025-R1", "mission": "MINUSCA", "site_id": "CAF-S03",
     "interview_date": date(2025, 1, 14), "respondent_key": f"R{n}", "weight": weight,
     "sex": sex, "age_band": "25-34", "feels_safe": safe, "trust_host_police": 3,
     "trust_unpol": 4, "would_report_to_police": report}
    for n, (weight, sex, safe, report) in enumerate(
        [(2.0, "female", 5, True), (1.0, "male", 2, False), (1.0, "female", 4, False)], 1
    )
]

RAW = {
    "patrols": PATROLS, "incidents": INCIDENTS, "trainings": TRAININGS,
    "strength": STRENGTH, "surveys": SURVEYS,
}


def _file_id(source: str, mission: str) -> str:
    return f"{source}-{mission.lower()}"


def _insert_raw(con: duckdb.DuckDBPyConnection, source: str, rows: list[dict]) -> None:
    """Insert rows as ingestion would: UTC twins of local times, lineage columns."""
    insert_raw(con, source, rows, lambda row: _file_id(source, row["mission"]))


def _insert_ops(con: duckdb.DuckDBPyConnection) -> None:
    """One manifest row per loaded file; one quarantined patrol row; a rejected and a
    superseded file."""
    processed = datetime(2025, 1, 27, 9, 0)
    manifest = []
    for source, rows in RAW.items():
        for mission in sorted({row["mission"] for row in rows}):
            loaded = sum(row["mission"] == mission for row in rows)
            bad = 1 if (source, mission) == ("patrols", "MINUSCA") else 0
            manifest.append((_file_id(source, mission), source, f"{source}/{mission}.csv",
                             f"{source}|{mission}|2025-W03", "loaded", loaded + bad, loaded,
                             bad, None))
    manifest += [
        ("incidents-old", "incidents", "incidents/UNMISS_v1.csv", "incidents|UNMISS|2025-W03",
         "superseded", 2, 2, 0, "incidents-unmiss"),
        ("strength-bad", "strength", "strength/broken.csv", None, "rejected", 0, 0, 0, None),
    ]
    for file_id, source, name, slot, status, read, loaded, bad, superseded_by in manifest:
        insert_manifest(con, file_id, source, slot, status, read, loaded, bad, processed,
                        processed, superseded_by, name)
    quarantine = [
        ("patrols-minusca", "patrols", "patrols/MINUSCA.csv", 6, "mode", "allowed_values",
         "bike"),
        ("patrols-minusca", "patrols", "patrols/MINUSCA.csv", 6, "women",
         "women_within_persons", "40"),
        ("strength-bad", "strength", "strength/broken.csv", None, None, "unreadable_file",
         None),
    ]
    for row in quarantine:
        con.execute(
            "insert into ops.quarantine values (?, ?, ?, 'h', ?, ?, ?, ?, 'broken', ?)",
            [*row, processed],
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A warehouse with the hand-made rows, after a real `dbt build`."""
    work = tmp_path_factory.mktemp("dbt_models")
    warehouse = work / "pocmon.duckdb"
    with connect(warehouse) as con:
        for source, rows in RAW.items():
            _insert_raw(con, source, rows)
        _insert_ops(con)
        token = seal(pd.DataFrame({"incident_id": ["I1"], "narrative": [SECRET_NARRATIVE]}),
                     b"k" * 64)
        con.execute("insert into restricted.incidents_narrative values "
                    "('incidents-minusca', 0, 1, ?)", [token])
    result = dbt_build(warehouse, work)
    return {"warehouse": warehouse, "work": work, "result": result}


@pytest.fixture(scope="module")
def db(built: dict):
    con = duckdb.connect(str(built["warehouse"]), read_only=True)
    yield con
    con.close()


def test_dbt_build_passes(built: dict) -> None:
    result = built["result"]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "ERROR=0" in result.stdout and "WARN=0" in result.stdout, result.stdout[-2000:]
    # the dbt unit tests run here (the weekly job leaves them out, as dbt advises for
    # production runs)
    manifest = json.loads((built["work"] / "target" / "manifest.json").read_text("utf-8"))
    assert manifest["unit_tests"]
    assert result.stdout.count("START unit_test") == len(manifest["unit_tests"])


def test_patrol_person_hours(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        "select mission_id, patrol_id, duration_hours, person_hours, women_person_hours,"
        " week_start from marts.fct_patrols order by mission_id, patrol_id"
    ).fetchall()
    assert rows == [
        ("MINUSCA", "P1", 3.0, 60.0, 12.0, date(2025, 1, 6)),
        ("MINUSCA", "P2", 1.5, 9.0, 3.0, date(2025, 1, 13)),
        ("MINUSCA", "P3", 3.0, 36.0, 3.0, date(2025, 1, 20)),
        ("UNMISS", "P1", 12.0, 360.0, 72.0, date(2025, 1, 6)),
    ]


def test_site_weeks_panel_is_complete_and_zero_filled(db: duckdb.DuckDBPyConnection) -> None:
    # MINUSCA has data in 3 ISO weeks (6, 13, 20 January), UNMISS in 2 (6 and 13 January).
    weeks = {"MINUSCA": 3, "UNMISS": 2}
    counts = dict(db.execute(
        "select mission_id, count(*) from marts.fct_site_weeks group by mission_id"
    ).fetchall())
    assert counts == {mission: SITES[mission] * weeks[mission] for mission in weeks}
    totals = one(db, "select sum(patrols), sum(person_hours), sum(incidents), sum(victims),"
                      " count(*) filter (where patrols = 0 and incidents = 0)"
                      " from marts.fct_site_weeks")
    assert totals == (4, 465.0, 3, 6, 100 - 6)
    quiet = one(db, "select patrols, foot_patrols, person_hours, incidents, population"
                     " from marts.fct_site_weeks"
                     " where site_id = 'CAF-S01' and week_start = date '2025-01-13'")
    assert quiet == (0, 0, 0.0, 0, 110000)
    busy = one(db, "select patrols, foot_patrols, patrol_hours, person_hours"
                    " from marts.fct_site_weeks"
                    " where site_id = 'CAF-S01' and week_start = date '2025-01-06'")
    assert busy == (1, 1, 3.0, 60.0)


def test_alert_response_minutes_and_distance(db: duckdb.DuckDBPyConnection) -> None:
    row = one(db, "select incident_id, response_patrol_id, response_unit_id, response_mode,"
                   " response_range, response_minutes, distance_km, reached_within_target"
                   " from marts.fct_alert_responses")
    assert row[:6] == ("I1", "P3", "CAF-FPU-1", "vehicle", "long", 85)
    # Hand computation, flat-earth approximation (good to metres at this scale): base
    # CAF-S01 (4.3650 N, 18.5420 E) to incident site CAF-S04 (4.2570 N, 18.4160 E).
    km_per_degree = 6371.0 * math.pi / 180
    dlat = (4.3650 - 4.2570) * km_per_degree
    dlon = (18.5420 - 18.4160) * km_per_degree * math.cos(math.radians((4.3650 + 4.2570) / 2))
    assert row[6] == pytest.approx(math.hypot(dlat, dlon), abs=0.5)
    assert row[7] is True  # 85 <= response_target_minutes (120)


def test_incident_delays(db: duckdb.DuckDBPyConnection) -> None:
    row = one(db, "select reporting_delay_hours, referral_hours, response_minutes, week_start"
                   " from marts.fct_incidents where mission_id = 'MINUSCA'"
                   " and incident_id = 'I2'")
    assert row == (10.0, 24.0, None, date(2025, 1, 6))


def test_weighted_survey_shares(db: duckdb.DuckDBPyConnection) -> None:
    row = one(db, "select respondents, weight_total, feels_safe_mean, feels_safe_share,"
                   " would_report_share, trust_unpol_mean from marts.fct_survey_site_rounds")
    assert row == pytest.approx((3, 4.0, 4.0, 0.75, 0.5, 4.0))


def test_deployment_rate_is_null_on_zero_authorized(db: duckdb.DuckDBPyConnection) -> None:
    rates = dict(db.execute(
        "select mission_id || '/' || unit_type, deployment_rate"
        " from marts.fct_strength_monthly"
    ).fetchall())
    assert rates == {"MINUSCA/FPU": pytest.approx(0.95), "MINUSCA/SPT": None,
                     "UNMISS/IPO": pytest.approx(0.75)}


def test_training_gain(db: duckdb.DuckDBPyConnection) -> None:
    assert one(db, "select test_gain, duration_days from marts.fct_trainings") == (18.5, 5)


def test_data_quality_per_file_and_rule(db: duckdb.DuckDBPyConnection) -> None:
    row = one(db, "select mission_id, status, rows_read, rows_loaded, rows_quarantined,"
                   " broken_rules from marts.fct_data_quality"
                   " where file_id = 'patrols-minusca'")
    assert row == ("MINUSCA", "loaded", 4, 3, 1, 2)
    statuses = dict(db.execute(
        "select status, count(*) from marts.fct_data_quality group by status").fetchall())
    assert statuses == {"loaded": 8, "superseded": 1, "rejected": 1}
    rules = db.execute("select source_name, mission_id, column_name, rule, broken_rules"
                       " from marts.fct_quarantine_by_rule order by rule").fetchall()
    assert rules == [
        ("patrols", "MINUSCA", "mode", "allowed_values", 1),
        ("strength", None, "(whole file)", "unreadable_file", 1),
        ("patrols", "MINUSCA", "women", "women_within_persons", 1),
    ]


def test_no_personal_or_restricted_data_downstream(db: duckdb.DuckDBPyConnection) -> None:
    columns = db.execute(
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in ('intermediate', 'marts')"
    ).fetchall()
    assert columns
    banned = ("narrative", "reporter", "phone", "respondent_id", "respondent_key")
    leaks = [c for c in columns if any(word in c[2].lower() for word in banned)]
    assert leaks == []
    # and no value anywhere downstream carries the narrative or a reporter pseudonym
    for schema, table in {(s, t) for s, t, _ in columns}:
        hits = db.execute(
            f"select count(*) from {schema}.{table} as t"
            " where contains(cast(t as varchar), ?) or contains(cast(t as varchar), ?)",
            [SECRET_NARRATIVE, SECRET_REPORTER_KEY],
        ).fetchone()
        assert hits == (0,), (schema, table)


def test_build_passes_on_an_empty_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "empty.duckdb"
    with connect(warehouse):
        pass
    result = dbt_build(warehouse, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert one(con, "select count(*) from marts.fct_site_weeks") == (0,)
        assert one(con, "select count(*) from marts.dim_sites") == (40,)
    finally:
        con.close()


def test_alert_responses_of_an_older_pocmon_are_built_again(built: dict, tmp_path: Path
                                                            ) -> None:
    """int_alert_responses_joined became incremental: a table an older pocmon built (without
    file_id, response_file_id and inputs_loaded_at, here with a stale row too) is emptied and
    built whole by the next incremental build, not failed on or appended to."""
    warehouse = tmp_path / "older.duckdb"
    shutil.copy2(built["warehouse"], warehouse)
    table = "intermediate.int_alert_responses_joined"
    con = duckdb.connect(str(warehouse))
    try:
        expected = con.execute(f"select * from {table} order by all").df()
        assert len(expected) > 0
        con.execute(f"alter table {table} drop column inputs_loaded_at")
        con.execute(f"alter table {table} drop column response_file_id")
        con.execute(f"alter table {table} drop column file_id")
        con.execute(f"insert into {table} (incident_id, mission_id, alert_id) "
                    "values ('STALE', 'MINUSCA', 'GONE')")
    finally:
        con.close()
    result = dbt_build(warehouse, tmp_path, select="int_alert_responses_joined")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "incremental model intermediate.int_alert_responses_joined" in result.stdout
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rebuilt = con.execute(f"select * from {table} order by all").df()
    finally:
        con.close()
    pd.testing.assert_frame_equal(rebuilt[list(expected.columns)], expected)
