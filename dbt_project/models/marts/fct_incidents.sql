-- No narrative and no reporter pseudonym: those never leave ingestion and staging.
select
    incident_id,
    mission_id,
    site_id,
    alert_id,
    category,
    perpetrator_type,
    source_type,
    box,
    victims,
    fatalities,
    response_minutes,
    reporting_delay_hours,
    referral_hours,
    occurred_at,
    reported_at,
    alert_received_at,
    response_arrived_at,
    referred_at,
    occurred_date,
    week_start,
    file_id
from {{ ref('stg_pocmon__incidents') }}
