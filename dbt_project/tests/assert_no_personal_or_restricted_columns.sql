-- Marts and intermediate models never hold narratives, names, phones or respondent keys.
select table_schema, table_name, column_name
from information_schema.columns
where table_schema in ('intermediate', 'marts')
  and (
    column_name ilike '%narrative%'
    or column_name ilike '%reporter%'
    or column_name ilike '%respondent%'
    or column_name ilike '%phone%'
  )
