{#- Every non-NULL value of the column lies in [min_value, max_value] (either bound optional; inclusive by
    default). The dbt_utils test of the same name, which cannot be installed here. -#}
{%- test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) -%}
    {%- set below = '<' if inclusive else '<=' -%}
    {%- set above = '>' if inclusive else '>=' -%}
    {%- set lower = column_name ~ ' ' ~ below ~ ' ' ~ min_value if min_value is not none else 'false' -%}
    {%- set upper = column_name ~ ' ' ~ above ~ ' ' ~ max_value if max_value is not none else 'false' -%}
with

out_of_range as (
    select checked.*
    from {{ model }} as checked
    where
        {{ column_name }} is not null
        and ({{ lower }} or {{ upper }})
)

select * from out_of_range
{%- endtest %}
