-- One row per file received, with what happened to it; the quarantine by rule is beside it.
with

manifest as (
    select * from {{ ref('stg_ops__manifest') }}
),

by_rule as (
    select
        file_id,
        count(*) as broken_rules,
        string_agg(distinct rule, ', ' order by rule) as rules_broken
    from {{ ref('stg_ops__quarantine') }}
    group by file_id
)

select
    manifest.file_id,
    manifest.source_name,
    manifest.mission_id,
    manifest.period_label,
    manifest.file_name,
    manifest.status,
    manifest.rows_read,
    manifest.rows_loaded,
    manifest.rows_quarantined,
    {{ safe_divide('manifest.rows_quarantined', 'manifest.rows_read') }} as quarantined_share,
    coalesce(by_rule.broken_rules, 0) as broken_rules,
    by_rule.rules_broken,
    manifest.superseded_by,
    manifest.received_at,
    manifest.processed_at
from manifest
left join by_rule on manifest.file_id = by_rule.file_id
