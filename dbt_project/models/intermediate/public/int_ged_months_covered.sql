-- The months the current GED files cover: from each file's first to its last event month (all
-- countries). In a covered month a mission without events had none; outside, the count is
-- unknown (NULL), never zero.
with

files as (
    select
        file_id,
        min(month_start) as first_month,
        max(month_start) as last_month
    from {{ ref('stg_public__ged_events') }}
    group by file_id
),

months as (
    select
        cast(unnest(generate_series(
            cast(first_month as timestamp), cast(last_month as timestamp), interval 1 month
        )) as date) as month_start
    from files
)

select distinct month_start from months
