{#- Rows for which the SQL expression is not true (false or NULL) fail. With column_name the expression is
    appended to the column (e.g. expression: '>= 0'). The dbt_utils test of the same name. -#}
{%- test expression_is_true(model, expression, column_name=none) -%}
    {%- set condition = expression if column_name is none else column_name ~ ' ' ~ expression -%}
with

failing as (
    select checked.*
    from {{ model }} as checked
    where not coalesce(({{ condition }}), false)
)

select * from failing
{%- endtest %}
