"""Reference data (missions, sectors, sites, units): versioned CSV files that dbt also seeds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.config import get_settings

DATE_FORMATS = ("iso", "day_first")


@dataclass(frozen=True)
class Reference:
    missions: pd.DataFrame
    sectors: pd.DataFrame
    sites: pd.DataFrame
    units: pd.DataFrame

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
    return Reference(missions, read("sectors"), sites, read("units"))
