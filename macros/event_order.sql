{#- The one event order of trades (docs/canonical-events.md, migrations 032-034): block_time, slot (NULL =
    unknown, first), slot_order, signature, event_index. `prefix` is a table alias with its dot;
    `direction` 'desc' gives the exact reverse (newest first). -#}
{% macro event_order(prefix='', direction='asc') -%}
    {%- if direction == 'desc' -%}
        {{ prefix }}block_time desc, {{ prefix }}slot desc nulls last, {{ prefix }}slot_order desc nulls last,
        {{ prefix }}signature desc, {{ prefix }}event_index desc
    {%- else -%}
        {{ prefix }}block_time, {{ prefix }}slot nulls first, {{ prefix }}slot_order nulls first,
        {{ prefix }}signature, {{ prefix }}event_index
    {%- endif -%}
{%- endmacro %}

{#- The as-of time: var('as_of') when given, else now(). -#}
{% macro as_of_time() -%}
    {%- if var('as_of', none) -%}
        '{{ var("as_of") }}'::timestamptz
    {%- else -%}
        now()
    {%- endif -%}
{%- endmacro %}
