"""Mart-shaped frames straight from the demo simulator, in memory (no files, no dbt).

``demo_marts(weeks, seed, effect)`` draws the same data as ``pocmon demo`` with the same
arguments (same missions, same order, same random generator; the planted faulty rows are left
out, as the quarantine would) and shapes it as the marts the estimators read:
``fct_patrols``, ``fct_incidents``, ``fct_alert_responses``, ``fct_site_weeks``,
``fct_survey_site_rounds`` and ``dim_sites``. Each transform mirrors the dbt model it stands for
(staging renames and derived columns, ``int_alert_responses_joined``, the zero-filled
``int_site_weeks_aggregated`` spine and ``fct_site_weeks``' hot-spot flag).

It also records what only the simulator knows, for validation: each site-day's planted
presence flag and expected incident count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.demo.effects import planted_effects
from pipelines.demo.simulate import START, MissionData, MissionSimulator, haversine_km
from pipelines.reference import Reference, load_reference

RESPONSE_TARGET_MINUTES = 120  # dbt var response_target_minutes
HOT_SPOT_TOP_SHARE = 0.1  # dbt var hot_spot_top_share
HOT_SPOT_LOOKBACK_WEEKS = 4  # dbt var hot_spot_lookback_weeks


@dataclass
class DemoMarts:
    """Mart frames from one simulated demo, with the planted truth."""

    frames: dict[str, pd.DataFrame]
    effect: float
    truth: dict[str, dict[str, object]]
    programme_starts: dict[str, dict[str, str]]
    # site-day truth: mission_id, site_id, date, presence (planted), expected_incidents
    site_days: pd.DataFrame = field(default_factory=pd.DataFrame)


class _RecordingSimulator(MissionSimulator):
    """The demo simulator, also keeping each site-day's presence flag and expected incidents.

    The expected counts are recomputed on a twin of the random generator from the draws
    ``MissionSimulator._incidents`` makes first; the twin's Poisson draws are then checked against
    the incidents actually simulated, so a change in the simulator fails loudly here.
    """

    site_days: pd.DataFrame

    def _incidents(self, presence: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        twin = np.random.Generator(type(self.rng.bit_generator)())
        twin.bit_generator.state = self.rng.bit_generator.state
        n_sites = len(self.sites)
        population = self.sites["population"].to_numpy(float)
        site_rate = (0.05 * np.sqrt(population / np.median(population))
                     * twin.gamma(4, 0.25, n_sites))
        phase = twin.uniform(0, 2 * np.pi)
        season = np.exp(0.3 * np.sin(2 * np.pi * np.arange(self.weeks + 1) / 52 + phase)
                        + twin.normal(0, 0.15, self.weeks + 1))
        rate_ratio = planted_effects(self.effect)["deterrence"]["rate_ratio"]
        week = np.arange(self.days) // 7
        lam = site_rate[None, :] * season[week][:, None] * np.where(presence, rate_ratio, 1.0)
        expected_counts = twin.poisson(lam)
        incidents, responses = super()._incidents(presence)
        day = (incidents["occurred_at"].dt.normalize() - pd.Timestamp(START)).dt.days
        site = pd.Index(self.sites["site_id"]).get_indexer(incidents["site_id"])
        counts = np.zeros_like(expected_counts)
        np.add.at(counts, (day.to_numpy(), site), 1)
        if not np.array_equal(counts, expected_counts):
            raise RuntimeError("the simulator's incident draws changed; update demo_frames")
        self.site_days = pd.DataFrame({
            "mission_id": self.mission_id,
            "site_id": np.tile(self.sites["site_id"].to_numpy(), self.days),
            "date": np.repeat(self.dates.to_numpy(), n_sites),
            "presence": presence.ravel(),
            "expected_incidents": lam.ravel(),
        })
        return incidents, responses


def simulate(weeks: int, seed: int, effect: float, reference: Reference
             ) -> tuple[dict[str, MissionData], pd.DataFrame]:
    """Each mission's simulated tables, drawn as ``generate_demo`` draws them, and site-days."""
    rng = np.random.default_rng(seed)
    out: dict[str, MissionData] = {}
    site_days = []
    for _, mission in reference.missions.sort_values("mission_id").iterrows():
        mission_id = mission["mission_id"]
        simulator = _RecordingSimulator(
            rng, mission, reference.sites[reference.sites["mission_id"] == mission_id],
            reference.units[reference.units["mission_id"] == mission_id], weeks, effect)
        out[mission_id] = simulator.run()
        site_days.append(simulator.site_days)
    return out, pd.concat(site_days, ignore_index=True)


def _week_start(ts: pd.Series) -> pd.Series:
    day = ts.dt.normalize()
    return day - pd.to_timedelta(day.dt.weekday, unit="D")


def _minutes(start: pd.Series, end: pd.Series) -> pd.Series:
    return (end - start).dt.total_seconds() / 60


def patrols_mart(raw: pd.DataFrame) -> pd.DataFrame:
    """stg_pocmon__patrols / fct_patrols."""
    hours = _minutes(raw["start_time"], raw["end_time"]) / 60
    return pd.DataFrame({
        "patrol_id": raw["patrol_id"], "mission_id": raw["mission"],
        "unit_id": raw["unit_id"], "unit_type": raw["unit_type"], "site_id": raw["site_id"],
        "alert_id": raw["alert_id"], "mode": raw["mode"], "patrol_range": raw["range"],
        "joint_with": raw["joint_with"], "purpose": raw["purpose"],
        "is_planned": raw["purpose"] != "alert_response",
        "persons": raw["persons"], "women": raw["women"],
        "host_police_persons": raw["host_police_persons"],
        "duration_hours": hours, "person_hours": raw["persons"] * hours,
        "women_person_hours": raw["women"] * hours,
        "start_time": raw["start_time"], "end_time": raw["end_time"],
        "patrol_date": raw["start_time"].dt.normalize(),
        "week_start": _week_start(raw["start_time"]),
        "file_id": "demo-" + raw["mission"] + "-patrols",
    })


def incidents_mart(raw: pd.DataFrame) -> pd.DataFrame:
    """stg_pocmon__incidents / fct_incidents."""
    return pd.DataFrame({
        "incident_id": raw["incident_id"], "mission_id": raw["mission"],
        "site_id": raw["site_id"], "alert_id": raw["alert_id"], "category": raw["category"],
        "perpetrator_type": raw["perpetrator_type"], "source_type": raw["source_type"],
        "box": raw["box"], "victims": raw["victims"], "fatalities": raw["fatalities"],
        "response_minutes": _minutes(raw["alert_received_at"], raw["response_arrived_at"]),
        "reporting_delay_hours": _minutes(raw["occurred_at"], raw["reported_at"]) / 60,
        "referral_hours": _minutes(raw["reported_at"], raw["referred_at"]) / 60,
        "occurred_at": raw["occurred_at"], "reported_at": raw["reported_at"],
        "alert_received_at": raw["alert_received_at"],
        "response_arrived_at": raw["response_arrived_at"], "referred_at": raw["referred_at"],
        "occurred_date": raw["occurred_at"].dt.normalize(),
        "week_start": _week_start(raw["occurred_at"]),
        "file_id": "demo-" + raw["mission"] + "-incidents",
    })


def alert_responses_mart(incidents: pd.DataFrame, patrols: pd.DataFrame,
                         reference: Reference,
                         target_minutes: int = RESPONSE_TARGET_MINUTES) -> pd.DataFrame:
    """int_alert_responses_joined / fct_alert_responses: the first answering patrol and km."""
    alerted = incidents[incidents["alert_id"].notna()]
    first = (patrols[patrols["purpose"] == "alert_response"]
             .sort_values(["start_time", "patrol_id"])
             .drop_duplicates(["mission_id", "alert_id"]))
    joined = alerted.merge(first, on=["mission_id", "alert_id"], how="left",
                           suffixes=("", "_patrol"))
    sites = reference.sites.set_index("site_id")
    base = reference.units.set_index("unit_id")["base_site_id"]
    base_site = joined["unit_id"].map(base)
    km = haversine_km(base_site.map(sites["latitude"]).to_numpy(float),
                      base_site.map(sites["longitude"]).to_numpy(float),
                      joined["site_id"].map(sites["latitude"]).to_numpy(float),
                      joined["site_id"].map(sites["longitude"]).to_numpy(float))
    return pd.DataFrame({
        "incident_id": joined["incident_id"], "mission_id": joined["mission_id"],
        "site_id": joined["site_id"], "alert_id": joined["alert_id"],
        "response_patrol_id": joined["patrol_id"], "response_unit_id": joined["unit_id"],
        "category": joined["category"], "response_unit_type": joined["unit_type"],
        "response_mode": joined["mode"], "response_range": joined["patrol_range"],
        "response_minutes": joined["response_minutes"], "distance_km": np.round(km, 2),
        "reached_within_target": joined["response_minutes"] <= target_minutes,
        "alert_received_at": joined["alert_received_at"],
        "response_arrived_at": joined["response_arrived_at"],
        "week_start": joined["week_start"],
    })


def site_weeks_mart(patrols: pd.DataFrame, incidents: pd.DataFrame,
                    reference: Reference) -> pd.DataFrame:
    """int_site_weeks_aggregated / fct_site_weeks: zero-filled, with the hot-spot flag."""
    weeks = pd.concat([patrols[["mission_id", "week_start"]],
                       incidents[["mission_id", "week_start"]]])
    bounds = weeks.groupby("mission_id")["week_start"].agg(["min", "max"])
    spine = pd.concat([
        pd.DataFrame({"mission_id": m, "week_start": pd.date_range(lo, hi, freq="7D")})
        for m, (lo, hi) in bounds.iterrows()])
    sites = reference.sites[["mission_id", "sector_id", "site_id", "site_type", "population"]]
    spine = sites.merge(spine, on="mission_id")
    flags = patrols.assign(foot=patrols["mode"] == "foot",
                           joint=patrols["joint_with"] == "host_police")
    p = flags.groupby(["site_id", "week_start"]).agg(
        patrols=("patrol_id", "size"), planned_patrols=("is_planned", "sum"),
        foot_patrols=("foot", "sum"), joint_host_police_patrols=("joint", "sum"),
        patrol_hours=("duration_hours", "sum"), person_hours=("person_hours", "sum"),
        women_person_hours=("women_person_hours", "sum"))
    i = incidents.groupby(["site_id", "week_start"]).agg(
        incidents=("incident_id", "size"), victims=("victims", "sum"),
        fatalities=("fatalities", "sum"))
    out = spine.join(p, on=["site_id", "week_start"]).join(i, on=["site_id", "week_start"])
    for column in [*p.columns, *i.columns]:
        out[column] = out[column].fillna(0)
        if column not in ("patrol_hours", "person_hours", "women_person_hours"):
            out[column] = out[column].astype("int64")
    out = out.sort_values(["site_id", "week_start"]).reset_index(drop=True)
    out["incidents_per_10k"] = out["incidents"] * 10000.0 / out["population"]
    total = out.groupby("site_id")["incidents"].cumsum()  # rows are consecutive weeks
    before = total.groupby(out["site_id"]).shift(HOT_SPOT_LOOKBACK_WEEKS + 1).fillna(0)
    out["incidents_prior_weeks"] = (total - out["incidents"] - before).astype("int64")
    by_week = out.groupby(["mission_id", "week_start"])["incidents_prior_weeks"]
    rank = by_week.rank(method="min", ascending=False)
    cutoff = np.ceil(by_week.transform("size") * HOT_SPOT_TOP_SHARE)
    out["was_patrolled"] = out["patrols"] > 0
    out["is_hot_spot"] = (out["incidents_prior_weeks"] > 0) & (rank <= cutoff)
    return out[["mission_id", "sector_id", "site_id", "site_type", "week_start", "population",
                *p.columns, *i.columns, "incidents_per_10k", "incidents_prior_weeks",
                "was_patrolled", "is_hot_spot"]]


def survey_site_rounds_mart(raw: pd.DataFrame) -> pd.DataFrame:
    """stg_pocmon__surveys / fct_survey_site_rounds: weighted means and shares."""
    w = raw["weight"].astype(float)
    frame = pd.DataFrame({
        "mission_id": raw["mission"], "site_id": raw["site_id"], "survey_round": raw["round"],
        "interview_date": pd.to_datetime(raw["interview_date"]), "w": w,
        "wfs": w * raw["feels_safe"], "wth": w * raw["trust_host_police"],
        "wtu": w * raw["trust_unpol"], "wfs_high": w * (raw["feels_safe"] >= 4),
        "wth_high": w * (raw["trust_host_police"] >= 4),
        "wreport": w * raw["would_report_to_police"].astype(float),
    })
    g = frame.groupby(["mission_id", "site_id", "survey_round"], as_index=False).agg(
        first_interview=("interview_date", "min"), last_interview=("interview_date", "max"),
        respondents=("w", "size"), weight_total=("w", "sum"), wfs=("wfs", "sum"),
        wth=("wth", "sum"), wtu=("wtu", "sum"), wfs_high=("wfs_high", "sum"),
        wth_high=("wth_high", "sum"), wreport=("wreport", "sum"))
    for name, column in [("feels_safe_mean", "wfs"), ("trust_host_police_mean", "wth"),
                         ("trust_unpol_mean", "wtu"), ("feels_safe_share", "wfs_high"),
                         ("trusts_host_police_share", "wth_high"),
                         ("would_report_share", "wreport")]:
        g[name] = g[column] / g["weight_total"]
    return g.drop(columns=["wfs", "wth", "wtu", "wfs_high", "wth_high", "wreport"])


def dim_sites(reference: Reference) -> pd.DataFrame:
    """dim_sites."""
    sites = reference.sites.copy()
    sites["is_displacement_site"] = sites["site_type"].isin(["IDP camp", "POC site"])
    return sites[["site_id", "mission_id", "sector_id", "site_name", "site_type",
                  "is_displacement_site", "population", "latitude", "longitude"]]


def mart_frames(missions: dict[str, MissionData], reference: Reference) -> dict[str, pd.DataFrame]:
    """The marts the estimators read, from simulated mission tables."""
    table = lambda name: pd.concat(  # noqa: E731
        [m.tables[name] for m in missions.values()], ignore_index=True)
    patrols = patrols_mart(table("patrols"))
    incidents = incidents_mart(table("incidents"))
    return {
        "fct_patrols": patrols,
        "fct_incidents": incidents,
        "fct_alert_responses": alert_responses_mart(incidents, patrols, reference),
        "fct_site_weeks": site_weeks_mart(patrols, incidents, reference),
        "fct_survey_site_rounds": survey_site_rounds_mart(table("surveys")),
        "dim_sites": dim_sites(reference),
    }


def demo_marts(weeks: int = 52, seed: int = 7, effect: float = 1.0,
               reference: Reference | None = None) -> DemoMarts:
    """Simulate the demo in memory and return its mart frames with the planted truth."""
    reference = reference or load_reference()
    missions, site_days = simulate(weeks, seed, effect, reference)
    return DemoMarts(
        frames=mart_frames(missions, reference),
        effect=effect,
        truth=planted_effects(effect),
        programme_starts={m: d.programme_starts for m, d in missions.items()},
        site_days=site_days,
    )
