-- Marts and intermediate models never hold narratives, reporter names or phones (even as
-- pseudonyms) or respondent keys. The refs make the test run after the models it inspects.
-- depends_on: {{ ref('fct_incidents') }}
-- depends_on: {{ ref('fct_survey_site_rounds') }}
-- depends_on: {{ ref('int_alert_responses_joined') }}
{{ config(meta={'dagster': {'ref': {'name': 'fct_incidents'}}}) }}

select table_schema, table_name, column_name
from information_schema.columns
where table_schema in ('intermediate', 'marts')
  and (
    column_name ilike '%narrative%'
    or column_name ilike '%reporter%'
    or column_name ilike '%phone%'
    or column_name in ('respondent_id', 'respondent_key')
  )
