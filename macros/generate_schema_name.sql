{#- Layers live in schemas named after the layer (staging, intermediate, marts), not <target>_<layer>:
    readers and grants name them directly; a model without a custom schema goes to the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
