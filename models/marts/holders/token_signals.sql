{{ config(
    indexes=[{'columns': ['token_mint'], 'unique': true}],
    pre_hook="{{ without_nested_loops() }}",
) }}
{#- The trader signals of every token as of var('as_of') (now by default): macros/token_signals.sql. -#}
with

grid as (
    select
        tk.mint_address as token_mint,
        {{ as_of_time() }} as as_of
    from {{ ref('stg_megatron__tokens') }} as tk
),

signals as (
    {{ token_signals_for('grid') }}
)

select * from signals
