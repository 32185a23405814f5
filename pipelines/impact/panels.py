"""Panels built from the marts: site-days with presence, programme starts, event time.

Sites are keyed by ``mission_id|site_id`` (ids are unique per mission only); time fixed
effects are per mission (``mission_id|week``), so missions never share a seasonal factor.

Patrol and incident frames may come pre-aggregated (``ROWS``: how many mart rows a row
stands for, e.g. patrols per site, day and mode), as ``fct_impact_estimates`` reads them from
a 10-million-row warehouse; without the column every row counts once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.impact.options import ImpactOptions

ROWS = "rows"


def row_weights(frame: pd.DataFrame) -> np.ndarray:
    """How many mart rows each row stands for (1 unless pre-aggregated)."""
    if ROWS in frame.columns:
        return frame[ROWS].to_numpy(np.int64)
    return np.ones(len(frame), np.int64)


def day(values: pd.Series) -> pd.Series:
    """Dates or timestamps (as DuckDB or pandas hold them) as midnight timestamps."""
    return pd.to_datetime(values).dt.normalize().astype("datetime64[ns]")


def site_key(frame: pd.DataFrame) -> pd.Series:
    return frame["mission_id"].astype(str) + "|" + frame["site_id"].astype(str)


def period_key(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column]
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        values = day(values).dt.strftime("%Y-%m-%d")
    return frame["mission_id"].astype(str) + "|" + values.astype(str)


def site_day_panel(patrols: pd.DataFrame, incidents: pd.DataFrame, sites: pd.DataFrame,
                   window_days: int) -> pd.DataFrame:
    """Every site-day of each mission's data span, with incidents and presence.

    ``presence``: a planned patrol started at the site on one of the previous ``window_days``
    days. The first ``window_days`` days of each mission are dropped (presence unknown).
    Columns: mission_id, site_id, site, date, week, incidents, presence.
    """
    planned = patrols[patrols["is_planned"].fillna(False).astype(bool)]
    planned = planned.assign(date=day(planned["patrol_date"]))
    events = incidents.assign(date=day(incidents["occurred_date"]))
    frames = []
    for mission, mission_sites in sites.groupby("mission_id"):
        dates = pd.concat([planned.loc[planned["mission_id"] == mission, "date"],
                           events.loc[events["mission_id"] == mission, "date"]])
        if dates.empty:
            continue
        days = pd.date_range(dates.min(), dates.max(), freq="D")
        ids = pd.Index(sorted(mission_sites["site_id"].astype(str)))

        def grid(rows: pd.DataFrame, ids: pd.Index = ids, days: pd.DatetimeIndex = days
                 ) -> np.ndarray:
            """(sites x days) counts of rows."""
            counts = np.zeros((len(ids), len(days)), int)
            s = ids.get_indexer(rows["site_id"].astype(str))
            d = days.get_indexer(rows["date"])
            ok = (s >= 0) & (d >= 0)
            np.add.at(counts, (s[ok], d[ok]), row_weights(rows)[ok])
            return counts

        patrolled = grid(planned[planned["mission_id"] == mission])
        cum = np.hstack([np.zeros((len(ids), 1), int), np.cumsum(patrolled, axis=1)])
        t = np.arange(len(days))
        presence = (cum[:, t] - cum[:, np.maximum(t - window_days, 0)]) > 0
        count = grid(events[events["mission_id"] == mission])
        keep = slice(window_days, None)
        n_days = len(days[keep])
        frame = pd.DataFrame({
            "mission_id": mission,
            "site_id": np.repeat(ids.to_numpy(), n_days),
            "date": np.tile(days[keep].to_numpy(), len(ids)),
            "incidents": count[:, keep].ravel(),
            "presence": presence[:, keep].ravel(),
        })
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["mission_id", "site_id", "site", "date", "week",
                                     "incidents", "presence"])
    panel = pd.concat(frames, ignore_index=True)
    panel["site"] = site_key(panel)
    monday = panel["date"] - pd.to_timedelta(panel["date"].dt.weekday, unit="D")
    panel["week"] = panel["mission_id"] + "|" + monday.dt.strftime("%Y-%m-%d")
    return panel


def presence_cells(panel: pd.DataFrame) -> pd.DataFrame:
    """Site-days summed by site, week and presence (days as exposure): the Poisson likelihood
    of the presence coefficient is the same as on the site-days themselves."""
    cells = panel.groupby(["mission_id", "site", "week", "presence"], as_index=False).agg(
        incidents=("incidents", "sum"), days=("incidents", "size"))
    cells["presence"] = cells["presence"].astype(float)
    return cells


def programme_starts(patrols: pd.DataFrame, site_weeks: pd.DataFrame,
                     options: ImpactOptions) -> pd.DataFrame:
    """The week regular foot patrols began at each site where they did (inferred: the first
    busy week with most of the run ahead busy; see ImpactOptions). A stray busy week just
    before the real start makes the inferred start early rather than late, which blurs the
    first lags but does not fake a pre-trend.

    Columns: mission_id, site_id, site, start_week, left_censored (the run was already on in
    the first week of data, so its start is unknown).
    """
    spine = site_weeks[["mission_id", "site_id"]].copy()
    spine["week_start"] = day(site_weeks["week_start"])
    foot = patrols[patrols["is_planned"].fillna(False).astype(bool)
                   & (patrols["mode"] == "foot")]
    counts = (foot.assign(week_start=day(foot["week_start"]), _rows=row_weights(foot))
              .groupby(["mission_id", "site_id", "week_start"])["_rows"].sum().rename("foot"))
    spine = spine.join(counts, on=["mission_id", "site_id", "week_start"])
    spine["foot"] = spine["foot"].fillna(0)
    spine = spine.sort_values(["mission_id", "site_id", "week_start"]).reset_index(drop=True)
    first_week = spine.groupby("mission_id")["week_start"].transform("min")
    spine["busy"] = (spine["foot"] >= options.programme_min_foot_patrols).astype(int)
    run = options.programme_run_weeks
    grouped = spine.groupby(["mission_id", "site_id"])["busy"]
    # busy weeks among this week and the next run-1, and how many such weeks exist
    ahead = sum(grouped.shift(-j).fillna(0) for j in range(run))
    available = np.minimum(grouped.cumcount(ascending=False) + 1, run)
    needed = np.ceil(available * options.programme_min_run_weeks / run)
    spine["starts"] = (spine["busy"] == 1) & (ahead >= needed) & (available >= 2)
    starts = (spine[spine["starts"]].groupby(["mission_id", "site_id"], as_index=False)
              .agg(start_week=("week_start", "min")))
    starts = starts.merge(spine.assign(first_week=first_week)[["mission_id", "first_week"]]
                          .drop_duplicates(), on="mission_id")
    starts["left_censored"] = starts["start_week"] <= starts.pop("first_week")
    starts["site"] = site_key(starts)
    return starts


def event_time(weeks: pd.Series, sites: pd.Series, starts: pd.DataFrame) -> pd.Series:
    """Weeks since the site's programme start (NaN where it has none)."""
    return (day(weeks) - start_weeks(sites, starts)).dt.days / 7


def start_weeks(sites: pd.Series, starts: pd.DataFrame) -> pd.Series:
    """Each site's programme start week (NaT where it has none).

    A plain dict lookup on object values: ``Series.map`` with a datetime mapper fails on an
    empty or all-NaN (float) series of sites, as on an empty warehouse.
    """
    lookup = dict(zip(starts["site"], pd.to_datetime(starts["start_week"]), strict=True))
    return pd.to_datetime(sites.astype(object).map(lookup), errors="coerce")
