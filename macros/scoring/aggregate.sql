{#- The social part of the aggregate: `scored` (a CTE with token_mint, as_of) with social_total and social_as_of
    added. When the project has the macro social_scores_for(grid) (issue 11 social; it returns token_mint, as_of,
    social_score, social_as_of for the pairs that have a score) its rows are joined; without it every row is
    missing its social part (0, flagged by the aggregate). -#}
{% macro scoring_social_part(scored, grid) -%}
    {%- if execute and social_scores_for is defined -%}
    select
        sc.*,
        so.social_score as social_total,
        so.social_as_of
    from {{ scored }} as sc
    left join ({{ social_scores_for(grid) }}) as so on sc.token_mint = so.token_mint and sc.as_of = so.as_of
    {%- else -%}
    select
        sc.*,
        null::numeric as social_total,
        null::timestamptz as social_as_of
    from {{ scored }} as sc
    {%- endif -%}
{%- endmacro %}
