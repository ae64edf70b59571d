{{ config(indexes=[{'columns': ['wallet_address'], 'unique': true}]) }}
{#- The seed's smart_money_wallets from our own wallet performance (macros/wallets.sql smart_money_filter:
    the one definition of smart money). -#}
with

performance as (
    select * from {{ ref('wallet_performance') }}
),

smart_money as (
    {{ smart_money_filter('performance') }}
)

select * from smart_money
