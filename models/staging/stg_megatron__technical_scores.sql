with

source_table as (
    select * from {{ source('megatron', 'technical_scores') }}
),

renamed as (
    select
        source_table.token_mint,
        source_table."timestamp",
        source_table.market_cap_score,
        source_table.market_cap_usd,
        source_table.market_cap_velocity,
        source_table.bonding_curve_score,
        source_table.bonding_curve_progress,
        source_table.progress_velocity,
        source_table.progress_consistency,
        source_table.trading_health_score,
        source_table.buy_sell_ratio,
        source_table.volume_trend,
        source_table.unique_traders_1h,
        source_table.whale_concentration,
        source_table.selloff_response_score,
        source_table.price_drop_5m,
        source_table.price_drop_15m,
        source_table.price_drop_30m,
        source_table.recovery_strength,
        source_table.total_score,
        source_table.volume_24h_usd,
        source_table.transactions_1h,
        source_table.price_sol,
        source_table.sol_usd,
        source_table.market_cap_base_points,
        source_table.market_cap_velocity_points,
        source_table.progress_velocity_points,
        source_table.progress_position_points,
        source_table.position_multiplier,
        source_table.velocity_multiplier,
        source_table.buy_sell_ratio_points,
        source_table.volume_trend_points,
        source_table.whale_concentration_points,
        source_table.price_drop_60m,
        source_table.red_candles,
        source_table.selloff_active,
        source_table.selloff_started_at,
        source_table.selloff_duration_minutes,
        source_table.sell_pressure_points,
        source_table.duration_penalty,
        source_table.recovery_points,
        source_table.recovery_bonus,
        source_table.is_frozen,
        source_table.evaluated_at,
        source_table.graduated_at,
        source_table.rule_version,
        source_table.mode,  -- noqa: RF04
        source_table.run_id,
        source_table.created_at
    from source_table
)

select * from renamed
