"""Reference data (missions, sectors, sites, units, and the names and bounding boxes public
datasets are matched with): versioned CSV files that dbt also seeds."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.config import get_settings, is_time_zone

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


class ReferenceDataError(ValueError):
    """A reference file is missing or has an error: the message names the file, the row (as
    a spreadsheet shows it: the header is row 1) and the column, and what to fix."""


# the columns pocmon reads of each reference file, and the key unique in it
COLUMNS = {
    "missions": (["mission_id", "timezone", "country", "country_iso3"], ["mission_id"]),
    "sectors": (["sector_id", "mission_id"], ["mission_id", "sector_id"]),
    "sites": (["site_id", "mission_id", "sector_id", "population", "latitude", "longitude"],
              ["mission_id", "site_id"]),
    "units": (["unit_id", "mission_id"], ["mission_id", "unit_id"]),
}


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise ReferenceDataError(f"{path}: the reference file is missing") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(f"{path}: not a readable CSV file ({exc})") from exc
    columns, key = COLUMNS.get(name, ([], []))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReferenceDataError(f"{path}: no column {', '.join(missing)} (its header has "
                             f"{', '.join(frame.columns)}); restore the header row")
    if key:
        twice = frame[frame.duplicated(key, keep=False)]
        if not twice.empty:  # the first key given twice, and its first two rows
            first = twice[(twice[key] == twice.iloc[0][key]).all(axis=1)]
            rows = " and ".join(str(i + 2) for i in first.index[:2])
            what = ", ".join(f"{c} {first.iloc[0][c]!r}" for c in key)
            raise ReferenceDataError(f"{path}, rows {rows}: {what} is given twice; each must be "
                                 "in the file once")
    return frame


def _numbers(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(bad.idxmax())
            raise ReferenceDataError(f"{path}, row {row + 2}, column {column}: "
                                 f"{frame.at[row, column]!r} is not a number")
        frame[column] = values


def load_reference(folder: Path | None = None) -> Reference:
    """Read the reference CSV files; every column is read as text except numbers. A file with
    an error raises ``ReferenceDataError`` naming the file, row and column."""
    folder = folder or get_settings().paths.reference
    missions = _read(folder, "missions")
    for row, zone in missions["timezone"].items():
        if not is_time_zone(zone):
            raise ReferenceDataError(
                f"{folder / 'missions.csv'}, row {row + 2}, column timezone: {zone!r} is not "
                "a time zone of the IANA database (e.g. Africa/Bangui, Africa/Juba)")
    if "date_format" in missions:
        missions["date_format"] = missions["date_format"].replace("", "iso")
        unknown = sorted(set(missions["date_format"]) - set(DATE_FORMATS))
        if unknown:
            raise ReferenceDataError(f"{folder / 'missions.csv'}: unknown date_format {unknown}; "
                                 f"use one of {', '.join(DATE_FORMATS)}")
    sites = _read(folder, "sites")
    _numbers(sites, ["population", "latitude", "longitude"], folder / "sites.csv")
    optional = {}
    for name in ("public_names", "country_bounds"):
        if (folder / f"{name}.csv").exists():
            optional[name] = _read(folder, name)
    if "country_bounds" in optional:
        _numbers(optional["country_bounds"], BOUNDS_COLUMNS[1:], folder / "country_bounds.csv")
    return Reference(missions, _read(folder, "sectors"), sites, _read(folder, "units"),
                     **optional)
