with

source as (
    select * from {{ source('ops', 'quarantine') }}
),

renamed as (
    select
        -- ids
        file_id,
        source as source_name,
        source_file as file_name,
        row_number,
        column_name,

        -- descriptions (values of personal or restricted columns were never stored)
        rule,
        offending_value,
        message,

        -- timestamps
        quarantined_at

    from source
)

select * from renamed
