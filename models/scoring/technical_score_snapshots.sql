{{ config(alias='technical_scores') }}
{#- The technical score of every (token, T) of the scoring run var('score_run_id'), written into technical_scores
    (migration 009 + 051) by the score_snapshot materialization: insert ... on conflict do nothing, the row stamped
    with T. Bounded numeric(10,4) columns get values clamped to +-999999.9999 (a ratio without sells, +infinity
    in the points, is stored as 999999.9999). -#}
with

grid as (
    select
        gr.token_mint,
        gr.as_of
    from {{ ref('stg_megatron__score_grid') }} as gr
    where gr.run_id = {{ var('score_run_id') }}
),

technical as (
    {{ technical_scores_for('grid') }}
),

snapshot_rows as (
    select
        te.token_mint,
        te.as_of as "timestamp",
        te.market_cap_score,
        round(te.market_cap_usd, 2) as market_cap_usd,
        {{ scoring_clamp('te.market_cap_velocity') }} as market_cap_velocity,
        te.bonding_curve_score,
        round(te.progress, 2) as bonding_curve_progress,
        {{ scoring_clamp('te.progress_velocity') }} as progress_velocity,
        round(te.progress_consistency, 2) as progress_consistency,
        te.trading_health_score,
        {{ scoring_clamp('te.buy_sell_ratio') }} as buy_sell_ratio,
        {{ scoring_clamp('te.volume_trend') }} as volume_trend,
        te.unique_traders_1h,
        round(te.whale_concentration * 100, 2) as whale_concentration,
        te.selloff_response_score,
        {{ scoring_clamp('te.price_drop_5m') }} as price_drop_5m,
        {{ scoring_clamp('te.price_drop_15m') }} as price_drop_15m,
        {{ scoring_clamp('te.price_drop_30m') }} as price_drop_30m,
        {{ scoring_clamp('te.recovery_strength') }} as recovery_strength,
        te.transactions_1h,
        te.price_now as price_sol,
        te.sol_usd,
        round(te.market_cap_base_points, 2) as market_cap_base_points,
        round(te.market_cap_velocity_points, 2) as market_cap_velocity_points,
        round(te.progress_velocity_points, 2) as progress_velocity_points,
        round(te.progress_position_points, 2) as progress_position_points,
        te.position_multiplier,
        te.velocity_multiplier,
        round(te.buy_sell_ratio_points, 2) as buy_sell_ratio_points,
        round(te.volume_trend_points, 2) as volume_trend_points,
        round(te.whale_concentration_points, 2) as whale_concentration_points,
        {{ scoring_clamp('te.price_drop_60m') }} as price_drop_60m,
        te.red_candles,
        te.selloff_active,
        te.selloff_started_at,
        te.selloff_duration_minutes,
        round(te.sell_pressure_points, 2) as sell_pressure_points,
        round(te.duration_penalty, 2) as duration_penalty,
        round(te.recovery_points, 2) as recovery_points,
        round(te.recovery_bonus, 2) as recovery_bonus,
        te.is_frozen,
        te.evaluated_at,
        te.graduated_at,
        te.rule_version,
        'clean'::text as mode,  -- noqa: RF04
        {{ var('score_run_id') }}::bigint as run_id
    from technical as te
)

select * from snapshot_rows
