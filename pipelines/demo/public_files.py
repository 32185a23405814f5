"""``pocmon demo --public``: small files in the layouts UCDP and the UN publish, from the
synthetic mission-month panel (``public_panel``), with the faults real downloads have.

* ``GEDEvent_demo.geojson``: UCDP GED events as a GeoJSON FeatureCollection (each feature's
  properties hold the CSV's 49 columns but the coordinates, which are the Point geometry), one
  event per killing episode, near configured sites (where_prec 1-2), at an admin-1 centroid (4)
  or only in the country (6); plus state-based events.
* ``personnel_demo.csv``: the UN personnel table as the Peace and Security Data Hub publishes
  it (Contributing_Country, ISOCode3, Mission_Acronym, Personnel_Type, Female_Personnel,
  Male_Personnel, Last_Reporting_Date as dd/mm/yyyy), with a Total column and, for one
  mission, rows for all contributors.

Planted faults, each of which the pipeline must report and not fix: a total that is not
female + male, an all-contributors row that is not the sum of its countries, a month missing
from one mission's series, swapped latitude and longitude, a (0, 0) location, and a GED best
estimate that is not the sum of its deaths. ``write_public_demo`` returns them with file, row,
column and rule, and writes a truth file beside the regular demo's.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.demo.public_panel import simulate_mission_months
from pipelines.reference import Reference

GED_COLUMNS = (
    "id relid year active_year code_status type_of_violence conflict_dset_id conflict_new_id "
    "conflict_name dyad_dset_id dyad_new_id dyad_name side_a_dset_id side_a_new_id side_a "
    "side_b_dset_id side_b_new_id side_b number_of_sources source_article source_office "
    "source_date source_headline source_original where_prec where_coordinates "
    "where_description adm_1 adm_2 latitude longitude geom_wkt priogrid_gid country "
    "country_id region event_clarity date_prec date_start date_end deaths_a deaths_b "
    "deaths_civilians deaths_unknown best high low gwnoa gwnob").split()
PERSONNEL_COLUMNS = ["Contributing_Country", "ISOCode3", "Mission_Acronym", "Personnel_Type",
                     "Female_Personnel", "Male_Personnel", "Total", "Last_Reporting_Date"]
CONTRIBUTORS = [("Rwanda", "RWA"), ("Senegal", "SEN"), ("Bangladesh", "BGD"),
                ("Egypt", "EGY"), ("Nepal", "NPL"), ("Indonesia", "IDN")]
# personnel type as published, and the share of women
TYPES = {"individual_police": ("Individual Police", 0.25),
         "formed_police": ("Formed Police Units", 0.15),
         "experts": ("Experts on Mission", 0.2), "staff": ("Staff Officer", 0.18),
         "troops": ("Troops", 0.06)}
POLICE_IRR = 0.85
START = dt.date(2016, 1, 1)


@dataclass
class PublicDemo:
    """What ``write_public_demo`` wrote."""

    ged: Path
    personnel: Path
    planted_faults: list[dict[str, object]]
    police_irr: float
    truth_path: Path | None


def _published_names(reference: Reference) -> list[tuple[str, str, str]]:
    """(mission_id, DPO acronym, GED country name) for each mission both datasets name."""
    names = reference.public_names
    dpo = names[names["dataset"] == "dpo_mission"].drop_duplicates("mission_id")
    ged = names[names["dataset"] == "ged_country"].drop_duplicates("mission_id")
    both = dpo.merge(ged, on="mission_id", suffixes=("_dpo", "_ged"))
    return sorted(zip(both["mission_id"], both["published_name_dpo"],
                      both["published_name_ged"], strict=True))


def _split(total: int, parts: int, rng: np.random.Generator) -> list[int]:
    weights = rng.dirichlet(np.ones(parts))
    counts = np.floor(weights * total).astype(int)
    counts[0] += total - counts.sum()
    return [int(c) for c in counts]


def _personnel_rows(panel: pd.DataFrame, acronyms: dict[str, str], all_rows_for: str | None,
                    rng: np.random.Generator) -> list[list[object]]:
    rows: list[list[object]] = []
    for (mission_id, month), month_rows in panel.groupby(["mission_id", "month"], sort=True):
        strength = month_rows.iloc[0]
        day = (month + pd.offsets.MonthEnd(0)).strftime("%d/%m/%Y")
        for kind, (label, women) in TYPES.items():
            count = int(strength[kind])
            if count <= 0:
                continue
            countries = CONTRIBUTORS[: 3 + int(rng.integers(3))]
            female_all = male_all = 0
            for (country, iso3), n in zip(countries, _split(count, len(countries), rng),
                                          strict=True):
                female = int(rng.binomial(n, women))
                rows.append([country, iso3, acronyms[mission_id], label, female, n - female,
                             n, day])
                female_all, male_all = female_all + female, male_all + n - female
            if mission_id == all_rows_for:
                rows.append(["All", "", acronyms[mission_id], label, female_all, male_all,
                             female_all + male_all, day])
    return rows


def _strength_by_month(panel: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Strength by type for every month of the personnel file: the month before the panel's
    first (its lags) and each panel month."""
    out = []
    for mission_id, rows in panel.groupby("mission_id", sort=True):
        rows = rows.sort_values("month_start")
        first = rows.iloc[0]
        ipo_share = first["individual_police"] / first["police"]
        before = {"individual_police": round(first["police_lag1"] * ipo_share),
                  "troops": first["troops_lag1"]}
        before["formed_police"] = first["police_lag1"] - before["individual_police"]
        months = [(first["month_start"] - pd.DateOffset(months=1), before)] + [
            (r["month_start"], {"individual_police": r["individual_police"],
                                "formed_police": r["formed_police"], "troops": r["troops"]})
            for _, r in rows.iterrows()]
        for month, strength in months:
            out.append({"mission_id": mission_id, "month": pd.Timestamp(month),
                        **{k: int(v) for k, v in strength.items()},
                        "experts": int(rng.integers(20, 60)),
                        "staff": int(rng.integers(80, 200))})
    return pd.DataFrame(out)


def _event(event_id: int, mission: str, country: str, month: pd.Timestamp, kind: int,
           civilians: int, rng: np.random.Generator, reference: Reference) -> dict[str, object]:
    """One GED event (properties), located as precisely as its where_prec says."""
    sites = reference.sites[reference.sites["mission_id"] == mission]
    sectors = reference.sectors.set_index("sector_id")
    site = sites.iloc[int(rng.integers(len(sites)))]
    precision = int(rng.choice([1, 2, 4, 6], p=[0.45, 0.3, 0.15, 0.1]))
    if precision <= 2:  # the place itself, or within about 25 km of it
        spread = 0.02 if precision == 1 else 0.08
        latitude = float(site["latitude"] + rng.normal(0, spread))
        longitude = float(site["longitude"] + rng.normal(0, spread))
    elif precision == 4:  # GED uses the admin-1 centroid: here the sector's headquarters
        hq = sites.set_index("site_id").loc[sectors.at[site["sector_id"], "hq_site_id"]]
        latitude, longitude = float(hq["latitude"]), float(hq["longitude"])
    else:  # the country's centroid: here the middle of the mission's sites
        latitude, longitude = float(sites["latitude"].mean()), float(sites["longitude"].mean())
    latitude, longitude = round(latitude, 4), round(longitude, 4)
    day = month + pd.Timedelta(days=int(rng.integers(0, month.days_in_month)))
    deaths_a = deaths_b = 0
    if kind == 1:
        deaths_a, deaths_b = int(rng.integers(0, 6)), int(rng.integers(0, 10))
    side_a = f"Government of {country}" if kind == 1 or rng.random() < 0.3 else "Armed group A"
    side_b = "Civilians" if kind == 3 else "Armed group B"
    best = deaths_a + deaths_b + civilians
    adm_1 = f"{sectors.at[site['sector_id'], 'sector_name']} (demo admin-1)"
    return {
        "id": str(event_id), "relid": f"{mission}-{day:%Y}-{kind}-{event_id}",
        "year": str(day.year), "active_year": "1", "code_status": "Clear",
        "type_of_violence": str(kind), "conflict_new_id": str(1000 + kind),
        "conflict_name": f"{side_a} - {side_b}", "dyad_new_id": str(2000 + kind),
        "dyad_name": f"{side_a} - {side_b}", "side_a": side_a, "side_b": side_b,
        "number_of_sources": "2", "where_prec": str(precision),
        "adm_1": adm_1 if precision <= 4 else "", "adm_2": "",
        "country": country, "region": "Africa", "event_clarity": "1",
        "date_prec": "1", "date_start": f"{day:%Y-%m-%d} 00:00:00.000",
        "date_end": f"{day:%Y-%m-%d} 00:00:00.000", "deaths_a": str(deaths_a),
        "deaths_b": str(deaths_b), "deaths_civilians": str(civilians), "deaths_unknown": "0",
        "best": str(best), "high": str(best + int(rng.integers(0, 3))), "low": str(best),
        "_point": (longitude, latitude),
    }


def _ged_events(panel: pd.DataFrame, countries: dict[str, str], rng: np.random.Generator,
                reference: Reference) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    for _, row in panel.sort_values(["month_start", "mission_id"]).iterrows():
        month = pd.Timestamp(row["month_start"])
        deaths = int(row["one_sided_civilian_deaths"])
        while deaths > 0:
            victims = min(deaths, int(rng.integers(1, 9)))
            events.append(_event(len(events) + 1, row["mission_id"],
                                 countries[row["mission_id"]], month, 3, victims, rng,
                                 reference))
            deaths -= victims
        for _ in range(int(rng.poisson(1.5))):
            events.append(_event(len(events) + 1, row["mission_id"],
                                 countries[row["mission_id"]], month, 1,
                                 int(rng.integers(0, 2)), rng, reference))
    return events


def _write_geojson(path: Path, events: list[dict[str, object]]) -> None:
    features = []
    for event in events:
        properties = {c: event.get(c, "") for c in GED_COLUMNS
                      if c not in ("latitude", "longitude")}
        for name in ("id", "year", "type_of_violence", "where_prec", "deaths_a", "deaths_b",
                     "deaths_civilians", "deaths_unknown", "best", "high", "low"):
            properties[name] = int(properties[name])
        features.append({"type": "Feature", "properties": properties,
                         "geometry": {"type": "Point", "coordinates": list(event["_point"])}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")


def write_public_demo(folder: Path, reference: Reference, *, months: int = 96, seed: int = 7,
                      effect: float = 1.0, truth_path: Path | None = None) -> PublicDemo:
    """Write the two public-format files into ``folder`` (not the inbox: ``pocmon
    import-public`` takes them there); the same arguments give the same files."""
    names = _published_names(reference)
    if not names:
        raise ValueError("no mission is named in both public datasets (seed public_names)")
    rng = np.random.default_rng([seed, 7])
    police_irr = math.exp(effect * math.log(POLICE_IRR))
    panel = simulate_mission_months([m for m, _, _ in names], months, seed=seed,
                                    police_irr=police_irr, start=START)
    acronyms = {m: a for m, a, _ in names}
    countries = {m: c for m, _, c in names}
    strength = _strength_by_month(panel, rng)
    faults: list[dict[str, object]] = []

    # personnel: drop one month of the first mission (a gap), then two inconsistent totals
    gap_mission = names[0][0]
    gap_month = strength[strength["mission_id"] == gap_mission]["month"].iloc[months // 2]
    strength = strength[~((strength["mission_id"] == gap_mission)
                          & (strength["month"] == gap_month))]
    rows = _personnel_rows(strength, acronyms, names[-1][0], rng)
    personnel = folder / "personnel_demo.csv"
    total_row = next(i for i, r in enumerate(rows) if r[0] != "All" and r[6] > 10)
    rows[total_row][6] += 3
    all_row = next(i for i, r in enumerate(rows) if r[0] == "All" and i > len(rows) // 3)
    rows[all_row][5] += 7
    rows[all_row][6] += 7
    faults += [
        {"file": personnel.name, "row_number": total_row + 2, "column": "total",
         "rule": "total_equals_female_plus_male"},
        {"file": personnel.name, "row_number": all_row + 2, "column": "male",
         "rule": "all_contributors_equals_sum"},
        {"file": personnel.name, "row_number": all_row + 2, "column": "total",
         "rule": "all_contributors_equals_sum"},
        {"file": personnel.name, "row_number": None, "column": "month", "rule": "missing_month",
         "mission_id": gap_mission, "month": f"{gap_month:%Y-%m}"},
    ]
    folder.mkdir(parents=True, exist_ok=True)
    with personnel.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PERSONNEL_COLUMNS)
        writer.writerows(rows)

    # GED: swap one event's coordinates, zero another's, break one best estimate
    events = _ged_events(panel, countries, rng, reference)
    ged = folder / "GEDEvent_demo.geojson"
    swapped, zeroed, summed = (len(events) // 4, len(events) // 2, 3 * len(events) // 4)
    longitude, latitude = events[swapped]["_point"]
    events[swapped]["_point"] = (latitude, longitude)
    events[zeroed]["_point"] = (0.0, 0.0)
    events[summed]["best"] = str(int(events[summed]["best"]) + 2)
    events[summed]["high"] = str(int(events[summed]["best"]) + 1)
    events[summed]["low"] = str(int(events[summed]["best"]) - 2)
    faults += [
        {"file": ged.name, "row_number": swapped + 2, "column": "latitude",
         "rule": "lat_lon_swapped"},
        {"file": ged.name, "row_number": zeroed + 2, "column": "latitude",
         "rule": "zero_coordinates"},
        {"file": ged.name, "row_number": summed + 2, "column": "best",
         "rule": "best_equals_sum_of_deaths"},
    ]
    _write_geojson(ged, events)
    if truth_path is not None:
        truth = {"seed": seed, "months": months, "effect": effect,
                 "police_irr_per_100": police_irr, "start": START.isoformat(),
                 "missions": [m for m, _, _ in names], "files": [ged.name, personnel.name],
                 "ged_events": len(events), "personnel_rows": len(rows),
                 "planted_faults": faults}
        truth_path.parent.mkdir(parents=True, exist_ok=True)
        truth_path.write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return PublicDemo(ged, personnel, faults, police_irr, truth_path)
