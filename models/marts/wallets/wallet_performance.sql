{{ config(indexes=[{'columns': ['wallet_address'], 'unique': true}, {'columns': ['realized_pnl_usd']}]) }}
{#- Wallet performance from our own trades as of var('as_of') (now by default): macros/wallets.sql. -#}
with

performance as (
    {{ wallet_performance_as_of(as_of_time()) }}
)

select * from performance
