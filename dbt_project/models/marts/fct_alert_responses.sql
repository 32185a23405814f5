select
    *,
    response_minutes <= {{ var('response_target_minutes') }} as reached_within_target
from {{ ref('int_alert_responses_joined') }}
