{{ config(
    indexes=[{'columns': ['token_mint'], 'unique': true}],
    pre_hook="{{ without_nested_loops() }}",
) }}
{#- The risk metrics of every token with holders as of var('as_of') (now by default): macros/holder_scores.sql. -#}
with

grid as (
    select
        tk.mint_address as token_mint,
        {{ as_of_time() }} as as_of
    from {{ ref('stg_megatron__tokens') }} as tk
),

risks as (
    {{ risk_metrics_for('grid') }}
)

select * from risks
