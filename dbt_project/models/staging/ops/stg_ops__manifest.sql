with

source as (
    select * from {{ source('ops', 'manifest') }}
),

renamed as (
    select
        -- ids
        file_id,
        source as source_name,
        nullif(split_part(slot, '|', 2), '') as mission_id,
        nullif(split_part(slot, '|', 3), '') as period_label,
        file_name,
        content_hash,
        superseded_by,
        run_id,

        -- descriptions
        status,
        message,

        -- numerics
        rows_read,
        rows_loaded,
        rows_quarantined,

        -- timestamps
        received_at,
        processed_at

    from source
)

select * from renamed
