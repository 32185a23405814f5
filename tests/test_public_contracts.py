"""The public datasets' contracts: UCDP GED (CSV and GeoJSON) and UN personnel contributions,
loaded into a real DuckDB file, with each documented fault of real downloads quarantined
(file, row, column, rule) and never corrected."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from public_files import (
    ged_row,
    personnel_row,
    write_ged_csv,
    write_ged_geojson,
    write_personnel,
)

from pipelines.contracts import load_contract
from pipelines.ingest.load import ingest_source, span_covers
from pipelines.ingest.public import ImportProblem, stage

KEY = b"k" * 32
EXTENSIONS = [".csv", ".xlsx", ".geojson"]
REPO = Path(__file__).resolve().parents[1]


def _ingest(con, source: str, inbox: Path, reference):
    return ingest_source(con, source, inbox, reference, KEY, extensions=EXTENSIONS)


def _quarantine(con) -> set[tuple]:
    return set(con.execute(
        "select source_file, row_number, column_name, rule from ops.quarantine").fetchall())


# -- UCDP GED ------------------------------------------------------------------------------------

GED_FAULTS = [
    # (changes to a good event, column, rule)
    ({"latitude": "20.6750", "longitude": "5.7650"}, "latitude", "lat_lon_swapped"),
    ({"latitude": "0", "longitude": "0"}, "latitude", "zero_coordinates"),
    ({"latitude": "14.0", "longitude": "-3.0"}, "latitude", "outside_country"),
    ({"best": "5", "high": "6"}, "best", "best_equals_sum_of_deaths"),
    ({"date_end": "2020-03-01 00:00:00.000"}, "date_end", "end_after_start"),
    ({"where_prec": "9"}, "where_prec", "range"),
    ({"latitude": "95.1234"}, "latitude", "range"),
]


def test_ged_faults_are_quarantined_with_file_row_column_rule(warehouse, reference, tmp_path):
    rows = [ged_row(1), ged_row(2, type_of_violence="1", deaths_a="2", deaths_civilians="1",
                                best="3", side_b="UPC")]
    rows += [ged_row(10 + i, **changes) for i, (changes, _, _) in enumerate(GED_FAULTS)]
    # an event in a country without a configured mission: loaded, kept out of the marts
    rows.append(ged_row(30, country="Mali", latitude="14.0", longitude="-3.0"))
    write_ged_csv(tmp_path / "inbox" / "ged" / "GEDEvent_v24_1.csv", rows)
    (outcome,) = _ingest(warehouse, "ged", tmp_path / "inbox", reference).files
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (10, 3, 7)
    assert "1 row(s) of missions or countries not in the reference data" in outcome.message
    assert "source_headline" not in outcome.message  # known published columns, not loaded
    expected = {("ged/GEDEvent_v24_1.csv", 4 + i, column, rule)
                for i, (_, column, rule) in enumerate(GED_FAULTS)}
    assert _quarantine(warehouse) == expected
    messages = dict(warehouse.execute("select rule, message from ops.quarantine").fetchall())
    assert "look swapped" in messages["lat_lon_swapped"]
    assert "(0 + 0 + 3 + 0 = 3)" in messages["best_equals_sum_of_deaths"]
    # nothing corrected: the loaded rows are the published values
    assert warehouse.execute("select id, latitude, best from raw.ged order by id").fetchall() \
        == [("1", 5.765, 3), ("2", 5.765, 3), ("30", 14.0, 3)]
    assert warehouse.execute("select slot from ops.manifest").fetchone()[0] == \
        "ged|MINUSCA|2020-03..2020-03"
    # exact coordinates are never kept in the quarantine: whole degrees at most
    kept = warehouse.execute(
        "select offending_value, message from ops.quarantine where column_name = 'latitude'"
    ).fetchall()
    assert ("~21 (exact value withheld)",) in [(value,) for value, _ in kept]
    for value, message in kept:
        assert not re.search(r"\d+\.\d{2,}", f"{value} {message}"), message


def test_geojson_loads_like_the_csv(warehouse, reference, tmp_path):
    rows = [ged_row(1), ged_row(2, where_prec="4", latitude="5.9", longitude="20.4"),
            ged_row(3, latitude="0", longitude="0")]
    write_ged_csv(tmp_path / "a" / "ged" / "events.csv", rows)
    write_ged_geojson(tmp_path / "b" / "ged" / "events.geojson", rows)
    _ingest(warehouse, "ged", tmp_path / "a", reference)
    columns = "id, where_prec, latitude, longitude, date_start, best, country"
    from_csv = warehouse.execute(f"select {columns} from raw.ged order by id").fetchall()
    quarantine_csv = {(r, c, rule) for _, r, c, rule in _quarantine(warehouse)}
    warehouse.execute("delete from raw.ged; delete from ops.quarantine; delete from ops.manifest")
    (outcome,) = _ingest(warehouse, "ged", tmp_path / "b", reference).files
    assert outcome.status == "loaded" and outcome.rows_read == 3
    assert warehouse.execute(f"select {columns} from raw.ged order by id").fetchall() == from_csv
    assert {(r, c, rule) for _, r, c, rule in _quarantine(warehouse)} == quarantine_csv \
        == {(4, "latitude", "zero_coordinates")}


def test_geojson_without_features_is_rejected_whole(warehouse, reference, tmp_path):
    folder = tmp_path / "inbox" / "ged"
    folder.mkdir(parents=True)
    (folder / "empty.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    (folder / "broken.geojson").write_text('{"type": ')
    report = _ingest(warehouse, "ged", tmp_path / "inbox", reference)
    assert {f.file_name: f.status for f in report.files} == {
        "ged/empty.geojson": "rejected", "ged/broken.geojson": "rejected"}
    messages = [m for (m,) in warehouse.execute("select message from ops.quarantine").fetchall()]
    assert any("holds no features" in m for m in messages)
    assert any("not a valid GeoJSON file" in m for m in messages)


def test_a_new_release_covering_the_old_supersedes_it(warehouse, reference, tmp_path):
    inbox = tmp_path / "inbox"
    write_ged_csv(inbox / "ged" / "GEDEvent_v23_1.csv",
                  [ged_row(1), ged_row(2, date_start="2020-05-02", date_end="2020-05-02")])
    _ingest(warehouse, "ged", inbox, reference)
    # a candidate file for later months: no overlap, both stay
    write_ged_csv(inbox / "ged" / "GEDEvent_candidate_2020_06.csv",
                  [ged_row(3, date_start="2020-06-09", date_end="2020-06-09")])
    _ingest(warehouse, "ged", inbox, reference)
    # the next release covers both: it replaces them, its events are not duplicates
    write_ged_csv(inbox / "ged" / "GEDEvent_v24_1.csv",
                  [ged_row(1), ged_row(2, date_start="2020-05-02", date_end="2020-05-02"),
                   ged_row(3, date_start="2020-06-09", date_end="2020-06-09"),
                   ged_row(4, date_start="2020-07-01", date_end="2020-07-01")])
    report = _ingest(warehouse, "ged", inbox, reference)
    assert [f.superseded for f in report.files if f.status == "loaded"] == [
        "ged/GEDEvent_v23_1.csv, ged/GEDEvent_candidate_2020_06.csv"]
    assert _quarantine(warehouse) == set()
    assert warehouse.execute("select count(*), count(distinct _source_file) from raw.ged"
                             ).fetchone() == (4, 1)
    assert span_covers("ged|MINUSCA+UNMISS|2019-01..2024-12", "ged|MINUSCA|2020-01..2020-12")
    assert not span_covers("ged|MINUSCA|2020-01..2024-12", "ged|UNMISS|2020-01..2020-12")
    assert not span_covers("ged|MINUSCA|2020-06..2024-12", "ged|MINUSCA|2020-01..2020-12")


# -- UN personnel contributions -------------------------------------------------------------


def test_personnel_faults_are_quarantined(warehouse, reference, tmp_path):
    rows = [
        personnel_row("Rwanda", "MINUSCA", "Formed Police Units", 20, 120, iso3="RWA"),
        personnel_row("Senegal", "MINUSCA", "Formed Police Units", 10, 130, iso3="SEN"),
        # an all-contributors row that is not the sum of its countries (251 men, not 250)
        personnel_row("All", "MINUSCA", "Formed Police Units", 30, 251),
        # a total that is not female + male
        personnel_row("Rwanda", "MINUSCA", "Individual Police", 5, 30, total=36, iso3="RWA"),
        personnel_row("Egypt", "MINUSCA", "Staff Officer", 2, 9, iso3="EGY"),
        personnel_row("Nepal", "MINUSCA", "Troops", 40, 600, iso3="NPL"),
        personnel_row("Nepal", "MINUSCA", "Individual Police Officers", 1, 2, iso3="NPL"),
        # a consistent all-contributors row, and a mission that is not configured
        personnel_row("All", "MINUSCA", "Troops", 40, 600),
        personnel_row("Rwanda", "MONUSCO", "Troops", 5, 30, iso3="RWA"),
        personnel_row("Rwanda", "MINUSCA", "Submarine crews", 5, 30, iso3="RWA"),
    ]
    write_personnel(tmp_path / "inbox" / "personnel" / "personnel.csv", rows)
    (outcome,) = _ingest(warehouse, "personnel", tmp_path / "inbox", reference).files
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (10, 7, 3)
    assert _quarantine(warehouse) == {
        ("personnel/personnel.csv", 4, "male", "all_contributors_equals_sum"),
        ("personnel/personnel.csv", 4, "total", "all_contributors_equals_sum"),
        ("personnel/personnel.csv", 5, "total", "total_equals_female_plus_male"),
        ("personnel/personnel.csv", 11, "personnel_type", "allowed_values"),
    }
    message = warehouse.execute("select message from ops.quarantine where column_name = 'male'"
                                ).fetchone()[0]
    assert "(251) is not the sum of the 2 contributor row(s)" in message and "(250)" in message
    loaded = warehouse.execute(
        "select contributor, personnel_type, month, female, male, total from raw.personnel "
        "where mission = 'MINUSCA' order by _row_number").fetchall()
    assert [r[1] for r in loaded] == ["formed_police_units", "formed_police_units",
                                      "staff_officers", "troops", "individual_police", "troops"]
    assert {str(r[2]) for r in loaded} == {"2020-01-01"}  # 31/01/2020, the reporting date
    assert "1 row(s) of missions or countries not in the reference data" in outcome.message


def test_personnel_without_a_total_column_loads(warehouse, reference, tmp_path):
    rows = [personnel_row("Rwanda", "UNMISS", "Individual Police", 5, 30, day="2020-02-29")]
    write_personnel(tmp_path / "inbox" / "personnel" / "p.csv", rows, with_total=False)
    (outcome,) = _ingest(warehouse, "personnel", tmp_path / "inbox", reference).files
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (1, 0)
    assert warehouse.execute("select month, total from raw.personnel").fetchone()[1] is None


def test_all_contributor_words_match_the_staging_model() -> None:
    """The words that mark an all-contributors row are the contract's (total_when) and the
    staging model's: the two must not drift apart."""
    (rule,) = [r for r in load_contract("personnel").rules if r.kind == "group_total"]
    (words,) = rule.total_when.values()
    sql = (REPO / "dbt_project/models/staging/public/stg_public__personnel_contributions.sql"
           ).read_text(encoding="utf-8")
    listed = re.search(r"in \(([^)]*)\)\s+as is_all_contributors", sql).group(1)
    assert {w.strip(" '") for w in listed.split(",")} == {w.replace("_", " ") for w in words}


# -- import-public: downloads into the inbox --------------------------------------------------


def test_downloads_are_staged_in_the_inbox_as_they_are(tmp_path):
    download = write_ged_csv(tmp_path / "downloads" / "GEDEvent_v24_1.csv", [ged_row(1)])
    archive = tmp_path / "downloads" / "ged241-csv.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(download, "GEDEvent_v24_1.csv")
        bundle.writestr("__MACOSX/._GEDEvent_v24_1.csv", b"junk")
        bundle.writestr("README.txt", b"codebook")
    inbox = tmp_path / "inbox"
    assert stage(archive, "ged", inbox) == [inbox / "ged" / "GEDEvent_v24_1.csv"]
    assert (inbox / "ged" / "GEDEvent_v24_1.csv").read_bytes() == download.read_bytes()
    geo = write_ged_geojson(tmp_path / "downloads" / "ged.json", [ged_row(1)])
    assert stage(geo, "ged", inbox) == [inbox / "ged" / "ged.geojson"]
    for bad, why in ((tmp_path / "missing.csv", "no such file"),
                     (tmp_path / "downloads" / "README.txt", "not a data file")):
        bad.parent.mkdir(parents=True, exist_ok=True)
        if "README" in bad.name:
            bad.write_text("x")
        with pytest.raises(ImportProblem, match=why):
            stage(bad, "ged", inbox)
