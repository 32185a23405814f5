"""All impact estimates as one tidy table, from mart-shaped frames (no I/O but ``load_marts``)."""

from __future__ import annotations

import warnings

import duckdb
import pandas as pd

from pipelines.impact.deterrence import presence_rate_ratio, programme_rate_ratio
from pipelines.impact.mission_months import MART as MISSION_MONTHS
from pipelines.impact.mission_months import police_strength_estimates
from pipelines.impact.options import ImpactOptions
from pipelines.impact.panels import programme_starts
from pipelines.impact.perception import perception_changes
from pipelines.impact.response import response_times, share_within_target
from pipelines.impact.result import COLUMNS, Estimate

MARTS = ("fct_patrols", "fct_incidents", "fct_alert_responses", "fct_site_weeks",
         "fct_survey_site_rounds", "dim_sites")
# read when present: the public-data mission-month panel (police strength and civilian deaths)
OPTIONAL_MARTS = (MISSION_MONTHS,)
ALL = "ALL"


def load_marts(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> dict[str, pd.DataFrame]:
    """The marts the estimators read, as DataFrames keyed by mart name."""
    frames = {name: con.sql(f'select * from "{schema}"."{name}"').df() for name in MARTS}
    present = {row[0] for row in con.execute(
        "select table_name from duckdb_tables() where schema_name = ?", [schema]).fetchall()}
    for name in OPTIONAL_MARTS:
        if name in present:
            frames[name] = con.sql(f'select * from "{schema}"."{name}"').df()
    return frames


def _scope(frames: dict[str, pd.DataFrame], mission_id: str) -> dict[str, pd.DataFrame]:
    if mission_id == ALL:
        return frames
    return {name: f[f["mission_id"] == mission_id] for name, f in frames.items()}


def estimate_scope(frames: dict[str, pd.DataFrame], mission_id: str,
                   options: ImpactOptions) -> list[Estimate]:
    """Every estimate for one mission, or for all missions pooled (``ALL``)."""
    frames = _scope(frames, mission_id)
    starts = programme_starts(frames["fct_patrols"], frames["fct_site_weeks"], options)
    estimates = [
        presence_rate_ratio(frames, mission_id, options),
        programme_rate_ratio(frames, mission_id, options, starts),
        *response_times(frames, mission_id, options),
        share_within_target(frames, mission_id, options),
        *perception_changes(frames, mission_id, options, starts),
    ]
    if MISSION_MONTHS in frames:
        estimates += police_strength_estimates(frames, mission_id, options)
    return estimates


def estimate_all(frames: dict[str, pd.DataFrame], options: ImpactOptions | None = None,
                 by_mission: bool = True) -> pd.DataFrame:
    """One row per estimate: all missions pooled, then (``by_mission``) each mission.

    ``frames``: mart-shaped DataFrames keyed by mart name (see ``MARTS``; with
    ``fct_mission_months`` also the police-strength estimates on public data).
    """
    options = options or ImpactOptions()
    missing = [m for m in MARTS if m not in frames]
    if missing:
        raise KeyError(f"missing marts: {', '.join(missing)}")
    scopes = [ALL]
    if by_mission:
        scopes += sorted(frames["dim_sites"]["mission_id"].dropna().astype(str).unique())
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence chatter; failures raise
        for mission_id in scopes:
            rows += [e.row() for e in estimate_scope(frames, mission_id, options)]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["detectable"] = table["detectable"].astype("boolean")
    return table
