{#- No two rows share the values of combination_of_columns. The dbt_utils test of the same name. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
with

duplicates as (
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
)

select * from duplicates
{% endtest %}
