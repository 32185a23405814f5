"""Small files in the layouts the public datasets are published in, written by the tests.

* UCDP GED: the 49 columns of the CSV download (GEDEvent_v24_1.csv), or a GeoJSON
  FeatureCollection whose features' properties hold the same columns.
* UN peacekeeping personnel contributions: the Peace and Security Data Hub's columns
  (Contributing_Country, ISOCode3, Mission_Acronym, Personnel_Type, Female_Personnel,
  Male_Personnel, Last_Reporting_Date as dd/mm/yyyy), optionally with a Total column.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pipelines.demo.public_files import GED_COLUMNS

PERSONNEL_COLUMNS = ["Contributing_Country", "ISOCode3", "Mission_Acronym", "Personnel_Type",
                     "Female_Personnel", "Male_Personnel", "Total", "Last_Reporting_Date"]


def ged_row(event_id: int, **changes: str) -> dict[str, str]:
    """A one-sided violence event at Bambari (CAF-S11), exactly located, 3 civilians killed."""
    row = dict.fromkeys(GED_COLUMNS, "")
    row.update({
        "id": str(event_id), "relid": f"CAF-2020-3-{event_id}", "year": "2020",
        "active_year": "1", "code_status": "Clear", "type_of_violence": "3",
        "conflict_new_id": "14", "conflict_name": "UPC - Civilians", "dyad_new_id": "15",
        "dyad_name": "UPC - Civilians", "side_a": "UPC", "side_b": "Civilians",
        "source_headline": "Attack near Bambari", "where_prec": "1",
        "where_coordinates": "Bambari town", "adm_1": "Ouaka prefecture", "adm_2": "Bambari",
        "latitude": "5.7650", "longitude": "20.6750", "geom_wkt": "POINT (20.675 5.765)",
        "country": "Central African Republic", "country_id": "482", "region": "Africa",
        "event_clarity": "1", "date_prec": "1", "date_start": "2020-03-04 00:00:00.000",
        "date_end": "2020-03-04 00:00:00.000", "deaths_a": "0", "deaths_b": "0",
        "deaths_civilians": "3", "deaths_unknown": "0", "best": "3", "high": "4", "low": "3",
    })
    row.update(changes)
    return row


def write_ged_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=GED_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_ged_geojson(path: Path, rows: list[dict[str, str]]) -> Path:
    """Features with every column as a property (numbers as numbers) and a Point geometry."""
    features = []
    for row in rows:
        properties = {k: (int(v) if v.isdigit() else v) for k, v in row.items()}
        for name in ("latitude", "longitude"):
            properties[name] = float(row[name])
        features.append({"type": "Feature", "properties": properties, "geometry": {
            "type": "Point", "coordinates": [float(row["longitude"]), float(row["latitude"])]}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    return path


def personnel_row(country: str, mission: str, kind: str, female: int, male: int,
                  day: str = "31/01/2020", total: int | None = None,
                  iso3: str = "") -> list[object]:
    return [country, iso3, mission, kind, female, male,
            female + male if total is None else total, day]


def write_personnel(path: Path, rows: list[list[object]], with_total: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = PERSONNEL_COLUMNS if with_total else [c for c in PERSONNEL_COLUMNS
                                                    if c != "Total"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(row if with_total else row[:6] + row[7:])
    return path
