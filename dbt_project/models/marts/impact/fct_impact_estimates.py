"""fct_impact_estimates: are civilians safer where and when police are present?

One row per estimate (deterrence, response, perception, and police strength against civilian
deaths on the public mission-month panel), for all missions pooled and for each mission, with
its N, 95% CI, method and a plain sentence in English and French whose strength follows the
evidence. Computed by pipelines/impact from the marts below (a dbt Python model, so it rebuilds
whenever they do).
"""

from pipelines.impact.estimates import MARTS, estimate_all
from pipelines.impact.options import ImpactOptions
from pipelines.impact.panels import ROWS


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt needs each ref spelled out (it reads them without running the code)
    refs = {
        "fct_patrols": dbt.ref("fct_patrols"),
        "fct_incidents": dbt.ref("fct_incidents"),
        "fct_alert_responses": dbt.ref("fct_alert_responses"),
        "fct_site_weeks": dbt.ref("fct_site_weeks"),
        "fct_survey_site_rounds": dbt.ref("fct_survey_site_rounds"),
        "dim_sites": dbt.ref("dim_sites"),
        "fct_mission_months": dbt.ref("fct_mission_months"),
    }
    missing = set(MARTS) - set(refs)
    if missing:
        raise ValueError(f"fct_impact_estimates: add dbt.ref for {sorted(missing)}")
    options = ImpactOptions(
        response_target_minutes=int(dbt.config.get("response_target_minutes")))
    # the estimators need planned patrols per site, day and mode, and incidents per site and
    # day: read those counts (pipelines.impact.panels.ROWS), not 10 million rows
    refs["fct_patrols"] = refs["fct_patrols"].filter("is_planned").aggregate(
        f"mission_id, site_id, patrol_date, week_start, is_planned, mode, count(*) as {ROWS}",
        "mission_id, site_id, patrol_date, week_start, is_planned, mode")
    refs["fct_incidents"] = refs["fct_incidents"].aggregate(
        f"mission_id, site_id, occurred_date, count(*) as {ROWS}",
        "mission_id, site_id, occurred_date")
    refs["fct_alert_responses"] = refs["fct_alert_responses"].project(
        "mission_id, site_id, response_minutes, distance_km, response_range, response_mode, "
        "reached_within_target")
    return estimate_all({name: relation.df() for name, relation in refs.items()}, options)
