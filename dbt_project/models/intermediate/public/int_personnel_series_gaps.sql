-- Months missing from a mission's personnel series: between its first and last reported month,
-- a month with no row at all. Reported as data-quality findings (fct_public_data_findings),
-- never filled in: the mission-month panel leaves their strength NULL.
with

present as (
    select
        mission_id,
        month_start,
        string_agg(distinct file_name, ', ' order by file_name) as file_names
    from {{ ref('stg_public__personnel_contributions') }}
    where mission_id is not null
    group by mission_id, month_start
),

spans as (
    select mission_id, min(month_start) as first_month, max(month_start) as last_month
    from present
    group by mission_id
),

spine as (
    select
        mission_id,
        cast(unnest(generate_series(
            cast(first_month as timestamp), cast(last_month as timestamp), interval 1 month
        )) as date) as month_start
    from spans
),

missing as (
    select spine.mission_id, spine.month_start
    from spine
    left join present
        on spine.mission_id = present.mission_id and spine.month_start = present.month_start
    where present.month_start is null
),

with_before as (
    select
        missing.mission_id,
        missing.month_start,
        present.month_start as month_before,
        present.file_names as files_before
    from missing
    asof left join present
        on missing.mission_id = present.mission_id
        and missing.month_start > present.month_start
)

select
    -- ids
    with_before.mission_id,

    -- descriptions
    with_before.files_before,
    after.file_names as files_after,

    -- dates
    with_before.month_start,
    with_before.month_before,
    after.month_start as month_after

from with_before
asof left join present as after
    on with_before.mission_id = after.mission_id
    and with_before.month_start < after.month_start
