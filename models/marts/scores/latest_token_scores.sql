{{
    config(
        materialized='incremental',
        unique_key='token_mint',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['token_mint'], 'unique': true}, {'columns': ['total_score']}],
        pre_hook="select pg_advisory_xact_lock(hashtext('megatron.latest_token_scores'))",
    )
}}
{#- Backfill shards run this model at the same time: each run's delete + insert of one token must not interleave
    with another's (a duplicate key on token_mint), so the model's transaction takes a lock first. -#}
{#- One row per token: its newest 999 score (token_scores, written by the scoring run) with the parts, the flags
    and the breakdown of each part (the technical_scores row of the same T, the holder snapshot it used). Each
    run updates it from the score rows written since the last one (macros/latest_rows.sql). It runs after the
    scoring run's aggregate model when both are selected: -#}
-- depends_on: {{ ref('token_score_snapshots') }}
with

candidates as (
    {{ latest_row_candidates(ref('stg_megatron__token_scores'), time_column='as_of', columns='token_mint, as_of') }}
),

ranked as (
    select
        candidates.token_mint,
        candidates.as_of,
        row_number() over (partition by candidates.token_mint order by candidates.as_of desc) as recency
    from candidates
),

newest as (
    select
        ranked.token_mint,
        ranked.as_of
    from ranked
    where ranked.recency = 1
),

scores as (
    select ts.*
    from {{ ref('stg_megatron__token_scores') }} as ts
    inner join newest on ts.token_mint = newest.token_mint and ts.as_of = newest.as_of
),

technical as (
    select te.*
    from {{ ref('stg_megatron__technical_scores') }} as te
    inner join newest on te.token_mint = newest.token_mint and te."timestamp" = newest.as_of
),

holder_parts as (
    select
        hs.token_mint,
        hs."timestamp",
        hs.distribution_score,
        hs.quality_score,
        hs.activity_score
    from {{ ref('stg_megatron__holder_scores') }} as hs
    inner join scores on hs.token_mint = scores.token_mint and hs."timestamp" = scores.holder_as_of
),

latest as (
    select
        sc.token_mint,
        sc.as_of,
        sc.total_score,
        sc.technical_score,
        sc.holder_score,
        sc.social_score,
        sc.holder_missing,
        sc.holder_stale,
        sc.social_missing,
        sc.technical_raw,
        sc.technical_frozen,
        sc.technical_as_of,
        sc.holder_as_of,
        sc.holder_frozen,
        sc.social_as_of,
        sc.bonding_curve_progress,
        sc.market_cap_usd,
        sc.rule_version,
        te.market_cap_score,
        te.bonding_curve_score,
        te.trading_health_score,
        te.selloff_response_score,
        te.market_cap_base_points,
        te.market_cap_velocity_points,
        te.progress_velocity_points,
        te.progress_consistency,
        te.progress_position_points,
        te.buy_sell_ratio_points,
        te.volume_trend_points,
        te.whale_concentration_points,
        te.sell_pressure_points,
        te.duration_penalty,
        te.recovery_points,
        te.recovery_bonus,
        te.market_cap_velocity,
        te.progress_velocity,
        te.buy_sell_ratio,
        te.volume_trend,
        te.whale_concentration,
        te.price_drop_5m,
        te.price_drop_15m,
        te.price_drop_30m,
        te.price_drop_60m,
        te.red_candles,
        te.selloff_active,
        te.selloff_duration_minutes,
        te.recovery_strength,
        te.price_sol,
        hp.distribution_score,
        hp.quality_score,
        hp.activity_score
    from scores as sc
    left join technical as te on sc.token_mint = te.token_mint
    left join holder_parts as hp on sc.token_mint = hp.token_mint
)

select * from latest
