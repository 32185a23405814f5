-- Every fault found in the public files, one row each: rows quarantined by their contract
-- (totals that are not the sum of their parts, swapped or zero coordinates, ...) with file,
-- row, column and rule, and months missing from a mission's personnel series (named by the
-- files on either side of the gap). Nothing here was corrected.
with

quarantined as (
    select
        quarantine.source_name,
        'quarantined_row' as finding,
        quarantine.rule,
        quarantine.file_name,
        quarantine.row_number,
        quarantine.column_name,
        cast(null as varchar) as mission_id,
        cast(null as date) as month_start,
        quarantine.message
    from {{ ref('stg_ops__quarantine') }} as quarantine
    inner join {{ ref('stg_ops__manifest') }} as manifest
        on quarantine.file_id = manifest.file_id
    where quarantine.source_name in (
        {%- for source in var('public_sources') %}'{{ source }}'{{ ', ' if not loop.last }}{% endfor -%}
    )
        and manifest.status in ('loaded', 'rejected')
),

gaps as (
    select
        'personnel' as source_name,
        'missing_month' as finding,
        'missing_month' as rule,
        coalesce(files_before, files_after) as file_name,
        cast(null as integer) as row_number,
        'month' as column_name,
        mission_id,
        month_start,
        printf(
            '%s: no personnel row for %s in %s, between %s (%s) and %s (%s) [rule: missing_month]',
            coalesce(files_before, files_after), mission_id, strftime(month_start, '%Y-%m'),
            strftime(month_before, '%Y-%m'), files_before,
            strftime(month_after, '%Y-%m'), files_after
        ) as message
    from {{ ref('int_personnel_series_gaps') }}
)

select * from quarantined
union all
select * from gaps
