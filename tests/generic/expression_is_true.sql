{#- Rows for which the SQL expression is not true (false or NULL) fail. With column_name the expression is
    appended to the column (e.g. expression: '>= 0'). The dbt_utils test of the same name. -#}
{% test expression_is_true(model, expression, column_name=none) %}
with

failing as (
    select *
    from {{ model }}
    {%- if column_name is none %}
        where not coalesce(({{ expression }}), false)
    {%- else %}
        where not coalesce(({{ column_name }} {{ expression }}), false)
    {%- endif %}
)

select * from failing
{% endtest %}
