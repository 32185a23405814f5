-- Exact coordinates are never published: no mart column holds a latitude, longitude or
-- geometry, except the configured sites' own reference coordinates (dim_sites, which the
-- dashboards' maps show). GED's are used only inside staging and intermediate models.
-- depends_on: {{ ref('fct_ged_events') }}
-- depends_on: {{ ref('fct_mission_months') }}
-- depends_on: {{ ref('fct_ged_area_months') }}
{{ config(meta={'dagster': {'ref': {'name': 'fct_ged_events'}}}) }}

select table_schema, table_name, column_name
from information_schema.columns
where table_schema = 'marts'
  and table_name <> 'dim_sites'
  and (
    column_name ilike '%latitude%'
    or column_name ilike '%longitude%'
    or column_name ilike '%geom%'
    or column_name in ('lat', 'lon', 'lng')
  )
