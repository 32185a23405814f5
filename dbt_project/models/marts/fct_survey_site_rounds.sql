-- Weighted survey results per site and round; respondents are never listed one by one.
with

responses as (
    select * from {{ ref('stg_pocmon__surveys') }}
)

select
    mission_id,
    site_id,
    survey_round,
    min(interview_date) as first_interview,
    max(interview_date) as last_interview,
    count(*) as respondents,
    sum(weight) as weight_total,
    -- with weight_total, the Kish effective sample size (sum w)^2 / sum w^2
    sum(weight * weight) as weight_sq_total,
    {{ safe_divide('sum(weight * feels_safe)', 'sum(weight)') }} as feels_safe_mean,
    {{ safe_divide('sum(weight * trust_host_police)', 'sum(weight)') }}
        as trust_host_police_mean,
    {{ safe_divide('sum(weight * trust_unpol)', 'sum(weight)') }} as trust_unpol_mean,
    {{ safe_divide('sum(weight * cast(feels_safe_high as integer))', 'sum(weight)') }}
        as feels_safe_share,
    {{ safe_divide('sum(weight * cast(trusts_host_police as integer))', 'sum(weight)') }}
        as trusts_host_police_share,
    {{ safe_divide('sum(weight * cast(would_report_to_police as integer))', 'sum(weight)') }}
        as would_report_share
from responses
group by mission_id, site_id, survey_round
