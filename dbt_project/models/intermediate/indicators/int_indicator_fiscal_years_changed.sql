-- The fiscal years the indicator chain rebuilds in this run: those with an input whose
-- fingerprint differs from the one recorded when the values were last published
-- (int_indicator_inputs_published, read by name: it is built after fct_indicator_values), on
-- either side (a fiscal year that lost its rows is rebuilt too); every fiscal year when
-- nothing was recorded yet and on a full refresh.
{%- set published = adapter.get_relation(database=this.database, schema=this.schema,
                                          identifier='int_indicator_inputs_published') %}

with

current_inputs as (
    select * from {{ ref('int_indicator_inputs_fingerprinted') }}
),

{% if published is not none and not flags.FULL_REFRESH %}
published_inputs as (
    select * from {{ published }}
),

changed as (
    select unnest(list_concat(coalesce(cur.fiscal_years, []),
                              coalesce(pub.fiscal_years, []))) as fiscal_year_label
    from current_inputs as cur
    full outer join published_inputs as pub
        on cur.input_kind = pub.input_kind
        and cur.source_mart = pub.source_mart
        and cur.mission_id = pub.mission_id
        and cur.input_key = pub.input_key
        and cur.fiscal_year_label = pub.fiscal_year_label
    where cur.fingerprint is distinct from pub.fingerprint
)
{% else %}
changed as (
    select unnest(fiscal_years) as fiscal_year_label
    from current_inputs
    where input_kind = 'global'
)
{% endif %}

select distinct fiscal_year_label
from changed
where fiscal_year_label is not null
