{{ config(indexes=[{'columns': ['token_id'], 'unique': true}, {'columns': ['token_mint'], 'unique': true}]) }}
{#- Holder distribution of every token as of var('as_of') (now by default): macros/holders.sql. -#}
with

distribution as (
    {{ holder_distribution_as_of(as_of_time()) }}
)

select * from distribution
