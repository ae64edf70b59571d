{{ config(alias='wallet_feature_observations') }}
{#- Wallet features as append-only observations (spec §4.3): the features and classes (wallet_features_for) of
    every holder of every (token, T) of the scoring run var('score_run_id'), as of T, written into
    wallet_feature_observations (migration 060) with insert ... on conflict do nothing: an observation is never
    changed, and wallet_features_at(wallet, T) reads the latest one at or before T. -#}
with

grid as (
    select
        gr.token_mint,
        gr.as_of
    from {{ ref('stg_megatron__score_grid') }} as gr
    where gr.run_id = {{ var('score_run_id') }}
),

balances as (
    {{ holder_balances_for('grid') }}
),

holder_wallets as (
    select distinct
        bl.wallet_address,
        bl.as_of
    from balances as bl
),

features as (
    {{ wallet_features_for('holder_wallets') }}
),

snapshot_rows as (
    select
        wf.*,
        {{ var('score_run_id') }}::bigint as run_id
    from features as wf
)

select * from snapshot_rows
