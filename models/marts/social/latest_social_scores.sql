{#- The social score of every token as of var('as_of') (default now), from its newest observation within the
    staleness limit; tokens without one have no row. The formula is macros/social.sql. -#}
with

tokens as (
    select * from {{ ref('stg_megatron__tokens') }}
),

grid as (
    select
        tk.mint_address as token_mint,
        {{ as_of_time() }} as as_of
    from tokens as tk
),

social as (
    {{ social_scores_for('grid') }}
)

select * from social
