{#- The scoring thresholds live in seeds (seeds/scoring/*.csv) that analysts edit. These macros read them when the
    model compiles (run_query) and write them into the SQL as CASE expressions, so the scoring query carries
    constants, not a join per trade. While dbt parses (execute is false) they return placeholders. -#}

{#- name -> value of seeds/scoring/scoring_technical_parameters.csv (numbers as numbers). -#}
{% macro scoring_parameters() -%}
    {%- set relation = ref('scoring_technical_parameters') -%}
    {%- set params = {} -%}
    {%- if execute -%}
        {%- set result = run_query('select name, value from ' ~ relation) -%}
        {%- for row in result.rows -%}
            {%- do params.update({row[0]: row[1]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(params) }}
{%- endmacro %}

{#- One number of the parameters: `params` from scoring_parameters(); an unknown name is an error that names it. -#}
{% macro scoring_param(params, name) -%}
    {%- if not execute -%}
        {{- return('0') -}}
    {%- endif -%}
    {%- if name not in params -%}
        {{ exceptions.raise_compiler_error("seeds/scoring/scoring_technical_parameters.csv has no row named " ~ name) }}
    {%- endif -%}
    {{- return(params[name] | string) -}}
{%- endmacro %}

{#- Points of `expression` under band set `band_set` of seeds/scoring/scoring_technical_bands.csv: the first band
    (by priority) whose range holds the value gives points_at_lower + (value - lower) / (upper - lower) x
    (points_at_upper - points_at_lower) (a step when both are equal); no band, or a NULL value: `otherwise`. -#}
{% macro band_points(band_set, expression, otherwise='0') -%}
    {%- set relation = ref('scoring_technical_bands') -%}
    {%- if not execute -%}
        ({{ otherwise }})::numeric
    {%- else -%}
        {%- set result = run_query(
            "select lower_bound, lower_inclusive, upper_bound, upper_inclusive, points_at_lower, points_at_upper "
            ~ "from " ~ relation ~ " where band_set = '" ~ band_set ~ "' order by priority") -%}
        {%- if result.rows | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "seeds/scoring/scoring_technical_bands.csv has no band set " ~ band_set) }}
        {%- endif -%}
        case
        {%- for row in result.rows %}
            {%- set lower, lower_inclusive, upper, upper_inclusive, at_lower, at_upper = row %}
            {%- set conditions = [] %}
            {%- if lower is not none %}
                {%- do conditions.append(expression ~ (' >= ' if lower_inclusive else ' > ') ~ lower) %}
            {%- endif %}
            {%- if upper is not none %}
                {%- do conditions.append(expression ~ (' <= ' if upper_inclusive else ' < ') ~ upper) %}
            {%- endif %}
            {%- if conditions | length == 0 %}{% do conditions.append(expression ~ ' is not null') %}{% endif %}
            when {{ conditions | join(' and ') }} then
            {%- if at_lower == at_upper or lower is none or upper is none %} {{ at_lower }}::numeric
            {%- else %} {{ at_lower }}
                + ({{ expression }} - {{ lower }}) / ({{ upper }} - {{ lower }})::numeric * ({{ at_upper }} - {{ at_lower }})
            {%- endif %}
        {%- endfor %}
            else ({{ otherwise }})::numeric
        end
    {%- endif -%}
{%- endmacro %}

{#- The weight of a trade of age `age` (an interval) under weight set `weight_set` of
    seeds/scoring/scoring_technical_weights.csv: the first max_age_minutes above the age; older: 0. -#}
{% macro age_weight(weight_set, age) -%}
    {%- set relation = ref('scoring_technical_weights') -%}
    {%- if not execute -%}
        1.0
    {%- else -%}
        {%- set result = run_query(
            "select max_age_minutes, weight from " ~ relation
            ~ " where weight_set = '" ~ weight_set ~ "' order by max_age_minutes") -%}
        case
        {%- for row in result.rows %}
            when {{ age }} < interval '{{ row[0] }} minutes' then {{ row[1] }}::numeric
        {%- endfor %}
            else 0::numeric
        end
    {%- endif -%}
{%- endmacro %}

{#- A measure rounded to 4 places and clamped into a numeric(10,4) column (+-999999.9999; +-infinity included). -#}
{% macro scoring_clamp(expression) -%}
    round(greatest(-999999.9999, least(999999.9999, {{ expression }})), 4)
{%- endmacro %}
