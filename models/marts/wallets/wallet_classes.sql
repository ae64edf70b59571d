{{ config(indexes=[{'columns': ['wallet_address'], 'unique': true}]) }}
{#- Features and classes of every wallet that traded, as of var('as_of') (now by default):
    macros/wallet_features.sql. -#}
with

wallets as (
    select distinct
        tr.user_address as wallet_address,
        {{ as_of_time() }} as as_of
    from {{ ref('int_trades_enriched') }} as tr
    where tr.block_time <= {{ as_of_time() }}
),

features as (
    {{ wallet_features_for('wallets') }}
)

select * from features
