"""Reference data (missions, sectors, sites, units, and the names and bounding boxes public
datasets are matched with): versioned CSV files that dbt also seeds."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.config import get_settings

DATE_FORMATS = ("iso", "day_first")

BOUNDS_COLUMNS = ["country_iso3", "min_latitude", "max_latitude", "min_longitude",
                  "max_longitude"]


def name_key(text: str) -> str:
    """A published name as a lookup key: lower case, no accents, single spaces."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(text.strip().lower().split())


@dataclass(frozen=True)
class Bounds:
    """A mission country's bounding box (decimal degrees)."""

    country: str
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float

    def holds(self, latitude: float, longitude: float) -> bool:
        return (self.min_latitude <= latitude <= self.max_latitude
                and self.min_longitude <= longitude <= self.max_longitude)


@dataclass(frozen=True)
class Reference:
    missions: pd.DataFrame
    sectors: pd.DataFrame
    sites: pd.DataFrame
    units: pd.DataFrame
    # dataset, published_name, mission_id: how public datasets name the missions' countries
    # and the missions themselves
    public_names: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["dataset", "published_name", "mission_id"]))
    country_bounds: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=BOUNDS_COLUMNS))

    def timezone_of(self) -> dict[str, str]:
        """Mission id to IANA timezone name."""
        return dict(zip(self.missions["mission_id"], self.missions["timezone"], strict=True))

    def day_first_missions(self) -> set[str]:
        """Missions whose files may write dates day first (dd/mm/yyyy): ``date_format``."""
        if "date_format" not in self.missions:
            return set()
        return set(self.missions.loc[self.missions["date_format"] == "day_first", "mission_id"])

    def ids(self, table: str) -> set[str]:
        """The known ids of one reference table (missions, sectors, sites or units)."""
        frame: pd.DataFrame = getattr(self, table)
        return set(frame[f"{table.rstrip('s')}_id"].astype(str))

    def mission_lookup(self, dataset: str) -> dict[str, str]:
        """Published name (as ``name_key``) to mission id, for one public dataset."""
        rows = self.public_names[self.public_names["dataset"] == dataset]
        return {name_key(n): m for n, m in zip(rows["published_name"], rows["mission_id"],
                                               strict=True)}

    def mission_bounds(self) -> dict[str, Bounds]:
        """Mission id to the bounding box of its country (missions without one are left
        out)."""
        bounds = self.country_bounds.set_index("country_iso3")
        out: dict[str, Bounds] = {}
        for mission_id, country, iso3 in zip(self.missions["mission_id"],
                                              self.missions["country"],
                                              self.missions["country_iso3"], strict=True):
            if iso3 in bounds.index:
                box = bounds.loc[iso3]
                out[mission_id] = Bounds(country, *(float(box[c]) for c in BOUNDS_COLUMNS[1:]))
        return out


def load_reference(folder: Path | None = None) -> Reference:
    """Read the reference CSV files; every column is read as text except numbers."""
    folder = folder or get_settings().paths.reference
    read = lambda name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    missions = read("missions")
    if "date_format" in missions:
        missions["date_format"] = missions["date_format"].replace("", "iso")
        unknown = sorted(set(missions["date_format"]) - set(DATE_FORMATS))
        if unknown:
            raise ValueError(f"missions.csv: unknown date_format {unknown}; use one of "
                             f"{', '.join(DATE_FORMATS)}")
    sites = read("sites")
    for col in ("population", "latitude", "longitude"):
        sites[col] = pd.to_numeric(sites[col])
    optional = {}
    for name in ("public_names", "country_bounds"):
        if (folder / f"{name}.csv").exists():
            optional[name] = read(name)
    if "country_bounds" in optional:
        for col in BOUNDS_COLUMNS[1:]:
            optional["country_bounds"][col] = pd.to_numeric(optional["country_bounds"][col])
    return Reference(missions, read("sectors"), sites, read("units"), **optional)
