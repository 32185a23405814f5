-- Rows read = rows loaded + rows quarantined, for every file; and a loaded file's rows are in
-- its raw table (a superseded file's are gone).
{{ config(meta={'dagster': {'ref': {'name': 'stg_ops__manifest'}}}) }}
with

manifest as (
    select * from {{ ref('stg_ops__manifest') }}
),

in_raw as (
    select file_id, count(*) as rows_in_raw from {{ ref('stg_pocmon__patrols') }} group by 1
    union all
    select file_id, count(*) from {{ ref('stg_pocmon__incidents') }} group by 1
    union all
    select file_id, count(*) from {{ ref('stg_pocmon__trainings') }} group by 1
    union all
    select file_id, count(*) from {{ ref('stg_pocmon__strength') }} group by 1
    union all
    select file_id, count(*) from {{ ref('stg_pocmon__surveys') }} group by 1
    union all
    select file_id, count(*) from {{ ref('stg_public__ged_events') }} group by 1
    union all
    select file_id, count(*) from {{ ref('stg_public__personnel_contributions') }} group by 1
)

select manifest.file_id, manifest.status, manifest.rows_loaded, in_raw.rows_in_raw
from manifest
left join in_raw on manifest.file_id = in_raw.file_id
where manifest.rows_read <> manifest.rows_loaded + manifest.rows_quarantined
   or (manifest.status = 'loaded' and coalesce(in_raw.rows_in_raw, 0) <> manifest.rows_loaded)
   or (manifest.status <> 'loaded' and in_raw.rows_in_raw is not null)
