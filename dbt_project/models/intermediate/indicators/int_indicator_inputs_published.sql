-- The inputs (int_indicator_inputs_fingerprinted) of the indicator values as last
-- published: built only after fct_indicator_values and its tests succeed, so a failed run
-- leaves the previous record and the next run rebuilds the same fiscal years again.
-- depends_on: {{ ref('fct_indicator_values') }}
select * from {{ ref('int_indicator_inputs_fingerprinted') }}
