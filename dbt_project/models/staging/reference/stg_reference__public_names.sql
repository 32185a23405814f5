with

source as (
    select * from {{ ref('public_names') }}
),

renamed as (
    select
        -- ids
        dataset,
        published_name,
        {{ name_key('published_name') }} as name_key,
        mission_id

    from source
)

select * from renamed
