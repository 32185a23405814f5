-- Uniformed personnel per configured mission and month, by type: the sum of the contributing
-- countries' rows, or the all-contributors row where a file has only that (a totals row that
-- disagreed with its parts was quarantined at ingestion, so its parts are what remains). A
-- type the mission reports in some month but not in this one is 0 (the published table lists
-- contributions only); a type it never reports stays NULL.
with

rows as (
    select * from {{ ref('stg_public__personnel_contributions') }}
    where mission_id is not null
),

by_type as (
    select
        mission_id,
        month_start,
        personnel_type,
        count(*) filter (where not is_all_contributors) > 0 as from_contributors,
        case
            when count(*) filter (where not is_all_contributors) > 0
                then sum(total) filter (where not is_all_contributors)
            else sum(total) filter (where is_all_contributors)
        end::bigint as personnel,
        case
            when count(*) filter (where not is_all_contributors) > 0
                then sum(female) filter (where not is_all_contributors)
            else sum(female) filter (where is_all_contributors)
        end::bigint as female,
        count(distinct contributor) filter (where not is_all_contributors) as contributors,
        string_agg(distinct file_name, ', ' order by file_name) as file_names
    from rows
    group by mission_id, month_start, personnel_type
),

months as (
    select
        mission_id,
        month_start,
        sum(personnel) filter (where personnel_type = 'individual_police')::bigint as individual_police,
        sum(personnel) filter (where personnel_type = 'formed_police_units')::bigint as formed_police,
        sum(female) filter (where personnel_type = 'individual_police')::bigint as individual_police_female,
        sum(female) filter (where personnel_type = 'formed_police_units')::bigint as formed_police_female,
        sum(personnel) filter (where personnel_type = 'experts_on_mission')::bigint as experts_on_mission,
        sum(personnel) filter (where personnel_type = 'staff_officers')::bigint as staff_officers,
        sum(personnel) filter (where personnel_type = 'troops')::bigint as troops,
        bool_and(from_contributors) as all_from_contributors,
        bool_or(from_contributors) as any_from_contributors,
        string_agg(distinct file_names, ', ' order by file_names) as file_names
    from by_type
    group by mission_id, month_start
),

reported_types as (
    select
        mission_id,
        bool_or(personnel_type = 'individual_police') as has_individual_police,
        bool_or(personnel_type = 'formed_police_units') as has_formed_police,
        bool_or(personnel_type = 'experts_on_mission') as has_experts_on_mission,
        bool_or(personnel_type = 'staff_officers') as has_staff_officers,
        bool_or(personnel_type = 'troops') as has_troops
    from rows
    group by mission_id
)

select
    -- ids
    months.mission_id,

    -- numerics
    case when has_individual_police then coalesce(individual_police, 0) end as individual_police,
    case when has_formed_police then coalesce(formed_police, 0) end as formed_police,
    case when has_individual_police then coalesce(individual_police_female, 0) end
        as individual_police_female,
    case when has_formed_police then coalesce(formed_police_female, 0) end
        as formed_police_female,
    case when has_experts_on_mission then coalesce(experts_on_mission, 0) end
        as experts_on_mission,
    case when has_staff_officers then coalesce(staff_officers, 0) end as staff_officers,
    case when has_troops then coalesce(troops, 0) end as troops,

    -- descriptions
    case
        when all_from_contributors then 'contributors'
        when not any_from_contributors then 'all_contributors_rows'
        else 'mixed'
    end as counted_from,
    file_names,

    -- dates
    months.month_start

from months
inner join reported_types on months.mission_id = reported_types.mission_id
