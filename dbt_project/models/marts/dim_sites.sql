-- Site coordinates are those of the place (a town, a camp), never of an incident's source.
select
    site_id,
    mission_id,
    sector_id,
    site_name,
    site_type,
    site_type in ('IDP camp', 'POC site') as is_displacement_site,
    population,
    latitude,
    longitude
from {{ ref('stg_reference__sites') }}
