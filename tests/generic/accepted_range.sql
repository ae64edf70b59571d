{#- Every non-NULL value of the column lies in [min_value, max_value] (either bound optional; inclusive by
    default). The dbt_utils test of the same name, which cannot be installed here. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
with

out_of_range as (
    select *
    from {{ model }}
    where
        {{ column_name }} is not null
        and (
            false
            {%- if min_value is not none %}
                or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
            {%- endif %}
            {%- if max_value is not none %}
                or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
            {%- endif %}
        )
)

select * from out_of_range
{% endtest %}
