select
    quarantine.source_name,
    manifest.mission_id,
    coalesce(quarantine.column_name, '(whole file)') as column_name,
    quarantine.rule,
    count(*) as broken_rules,
    count(distinct quarantine.file_id) as files
from {{ ref('stg_ops__quarantine') }} as quarantine
left join {{ ref('stg_ops__manifest') }} as manifest on quarantine.file_id = manifest.file_id
group by all
