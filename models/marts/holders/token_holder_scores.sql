{{ config(
    indexes=[{'columns': ['token_mint'], 'unique': true}],
    pre_hook="{{ without_nested_loops() }}",
) }}
{#- The holder score of every token that passes the gates as of var('as_of') (now by default), the frozen
    graduation snapshot for graduated tokens: macros/holder_scores.sql. -#}
with

grid as (
    select
        tk.mint_address as token_mint,
        {{ as_of_time() }} as as_of
    from {{ ref('stg_megatron__tokens') }} as tk
),

scores as (
    {{ holder_scores_for('grid') }}
)

select * from scores
