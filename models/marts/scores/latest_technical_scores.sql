{{
    config(
        materialized='incremental',
        unique_key='token_mint',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['token_mint'], 'unique': true}, {'columns': ['total_score']}],
    )
}}
{#- The seed's latest_technical_scores view (newest technical_scores row per token, same columns), kept as a
    table that each run updates from the rows written since the last one (macros/latest_rows.sql). -#}
with

candidates as (
    {{ latest_row_candidates(ref('stg_megatron__technical_scores'), columns="token_mint, \"timestamp\", total_score,
        market_cap_score, bonding_curve_score, trading_health_score, selloff_response_score, market_cap_usd,
        bonding_curve_progress, volume_24h_usd") }}
),

ranked as (
    select
        candidates.*,
        row_number() over (partition by candidates.token_mint order by candidates."timestamp" desc) as recency
    from candidates
),

latest as (
    select
        ranked.token_mint,
        ranked."timestamp",
        ranked.total_score,
        ranked.market_cap_score,
        ranked.bonding_curve_score,
        ranked.trading_health_score,
        ranked.selloff_response_score,
        ranked.market_cap_usd,
        ranked.bonding_curve_progress,
        ranked.volume_24h_usd
    from ranked
    where ranked.recency = 1
)

select * from latest
