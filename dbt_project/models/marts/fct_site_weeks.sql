select
    *,
    patrols > 0 as was_patrolled,
    {{ safe_divide('incidents * 10000.0', 'population') }} as incidents_per_10k
from {{ ref('int_site_weeks_aggregated') }}
