"""The raw tables' columns as the seed design declares them, and our documented departures.

SEED_COLUMNS was extracted from the CREATE TABLE statements of
../shared/seed/megatron-v2-database-schema.md (one entry per table, in the seed's order).
ADDED and REMOVED are the departures recorded in docs/schema-decisions.md; the schema tests
expect SEED_COLUMNS - REMOVED + ADDED for every table, plus at most the LATER_ADDITIONS that
migrations of other concerns make.
"""

from __future__ import annotations

SEED_COLUMNS: dict[str, tuple[str, ...]] = {
    "tokens": (
        "id", "mint_address", "symbol", "name", "decimals", "platform", "creation_signature",
        "creation_timestamp", "creator_address", "initial_supply", "is_graduated", "graduation_timestamp",
        "graduation_signature", "graduation_platform", "uri", "image_url", "metadata",
        "last_holder_score_progress", "created_at", "updated_at",
    ),
    "pools": (
        "id", "pool_address", "token_id", "base_mint", "quote_mint", "platform", "pool_type",
        "bonding_curve_address", "virtual_sol_reserves", "virtual_token_reserves", "real_sol_reserves",
        "real_token_reserves", "bonding_curve_progress", "lp_mint", "base_vault", "quote_vault",
        "latest_price", "latest_price_usd", "initial_price", "initial_base_liquidity",
        "initial_quote_liquidity", "status", "created_at", "updated_at",
    ),
    "transactions": (
        "signature", "pool_id", "token_id", "block_time", "slot", "type", "user_address", "amount_in",
        "amount_in_decimals", "amount_out", "amount_out_decimals", "sol_amount", "token_amount",
        "price_per_token", "price_per_token_usd", "sol_amount_usd", "protocol_fee", "platform_fee",
        "transaction_fee", "success", "raw_data", "created_at",
    ),
    "price_candles_1m": (
        "token_id", "bucket", "open", "high", "low", "close", "open_usd", "high_usd", "low_usd", "close_usd",
        "volume_token", "volume_sol", "volume_usd", "trade_count", "buyer_count", "seller_count",
    ),
    "sol_usd_prices": (
        "id", "price_time", "price_usd", "source", "confidence", "created_at",
    ),
    "technical_scores": (
        "token_mint", "timestamp", "market_cap_score", "market_cap_usd", "market_cap_velocity",
        "bonding_curve_score", "bonding_curve_progress", "progress_velocity", "progress_consistency",
        "trading_health_score", "buy_sell_ratio", "volume_trend", "unique_traders_1h", "whale_concentration",
        "selloff_response_score", "price_drop_5m", "price_drop_15m", "price_drop_30m", "recovery_strength",
        "total_score", "volume_24h_usd", "transactions_1h", "created_at",
    ),
    "selloff_events": (
        "id", "token_mint", "detection_time", "initial_price", "lowest_price", "drop_percentage",
        "recovery_price", "recovery_time", "recovery_percentage", "duration_minutes", "created_at",
    ),
    "holder_scores": (
        "token_mint", "timestamp", "distribution_score", "gini_coefficient", "theil_index",
        "shannon_entropy", "top_10_concentration", "quality_score", "avg_wallet_age_days",
        "smart_money_ratio", "bot_wallet_ratio", "known_dumper_ratio", "activity_score",
        "holder_growth_rate", "unique_buyers_1h", "unique_sellers_1h", "diamond_hands_ratio",
        "avg_hold_time_hours", "total_score", "total_holders", "active_holders_24h", "new_holders_1h",
        "confidence_score", "data_completeness", "bonding_curve_progress", "is_frozen", "created_at",
    ),
    "holder_snapshots": (
        "token_mint", "snapshot_time", "total_holders", "active_holders", "dust_accounts",
        "gini_coefficient", "theil_index", "shannon_entropy", "top_1_balance", "top_10_balance",
        "top_20_balance", "top_50_balance", "top_100_balance", "top_1_percentage", "top_10_percentage",
        "top_20_percentage", "top_50_percentage", "top_100_percentage", "data_source",
        "bonding_curve_progress", "market_cap_usd", "created_at",
    ),
    "token_holders": (
        "id", "token_mint", "wallet_address", "current_balance", "initial_balance", "peak_balance",
        "first_transaction_time", "last_transaction_time", "total_bought", "total_sold", "transaction_count",
        "avg_buy_price", "avg_sell_price", "realized_pnl", "unrealized_pnl", "is_smart_money", "is_bot",
        "is_mev_bot", "is_insider", "diamond_hands_score", "last_updated", "created_at",
    ),
    "wallet_analysis_cache": (
        "wallet_address", "wallet_age_days", "total_transactions", "unique_tokens_traded", "win_rate",
        "avg_profit_per_trade", "total_profit_usd", "best_trade_return", "rug_pull_participation",
        "known_scammer", "mev_bot_likelihood", "wallet_type", "reputation_score", "last_analyzed",
        "created_at",
    ),
    "wallet_quality_metrics": (
        "snapshot_id", "token_mint", "snapshot_time", "avg_wallet_age_days", "median_wallet_age_days",
        "new_wallets_percentage", "suspected_bots", "confirmed_bots", "mev_bots", "bot_percentage",
        "smart_money_wallets", "smart_money_percentage", "smart_money_holdings", "diamond_hands_count",
        "paper_hands_count", "avg_hold_duration_hours", "created_at",
    ),
    "activity_metrics": (
        "token_mint", "timestamp", "buys_1m", "sells_1m", "net_flow_1m", "buys_5m", "sells_5m",
        "net_flow_5m", "buys_1h", "sells_1h", "net_flow_1h", "unique_buyers_1h", "unique_sellers_1h",
        "new_holders_1h", "avg_buy_size_sol", "avg_sell_size_sol", "largest_buy_sol", "largest_sell_sol",
        "created_at",
    ),
    "risk_metrics": (
        "token_mint", "timestamp", "concentration_risk", "single_wallet_dominance",
        "whale_coordination_detected", "bot_activity_score", "bot_swarm_detected", "mev_bot_percentage",
        "rug_risk_score", "creator_dumping", "insider_selling", "liquidity_removal_risk",
        "wash_trading_score", "pump_dump_pattern", "coordinated_buying", "overall_risk_score",
        "confidence_level", "created_at",
    ),
    "holder_score_queue": (
        "id", "token_mint", "priority", "reason", "scheduled_at", "processed_at", "attempts", "last_error",
    ),
    "api_credit_usage": (
        "timestamp", "api_provider", "endpoint", "credits_used", "response_time_ms", "status_code",
        "error_message", "token_mint", "request_type", "created_at",
    ),
    "holder_updates": (
        "id", "token_mint", "update_time", "update_type", "wallet_address", "old_balance", "new_balance",
        "balance_change", "impact_on_concentration", "new_holder_count", "processed", "created_at",
    ),
}

# columns we add (docs/schema-decisions.md)
ADDED: dict[str, tuple[str, ...]] = {
    "transactions": ("event_index",),  # one signature can carry several trades
    "wallet_analysis_cache": ("sol_balance",),  # the smart-money rules need it (spec §4.3/§4.4)
}

# columns that migrations of other concerns may add to these tables (allowed, not required)
LATER_ADDITIONS: dict[str, tuple[str, ...]] = {
    "pools": (
        "state_slot",  # 030_ingest_bookkeeping: slot of the trade that set the pool's state
        "curve_sell_supply", "state_time",  # 032_exact_raw_state: the curve's sell supply; time of the state
    ),
    # 032_exact_raw_state: the state after each trade and its place in the one event order
    "transactions": (
        "virtual_sol_reserves", "virtual_token_reserves", "real_sol_reserves", "real_token_reserves",
        "tx_index", "slot_order",
    ),
    "tokens": ("creation_slot",),  # 032: sniper and bundle signals compare trade slots to it
    "holder_updates": ("signature", "event_index"),  # 032: the trade a loader row comes from
    # 032: one row per milestone reached; 043: the worker's claim, retry time and give-up time
    "holder_score_queue": ("milestone", "claimed_by", "claimed_at", "retry_at", "failed_at"),
    "selloff_events": ("closed_by",),  # 042: recovery or timeout (NULL while open)
    # 060: the holder score's mode, included holders, dampening, points, activity inputs and rule version
    "holder_scores": (
        "mode", "included_holders", "dampening_factor", "top_1_concentration", "gini_points", "top_1_points",
        "holder_count_points", "bot_ratio_points", "smart_money_points", "wallet_age_points", "active_24h_points",
        "organic_growth_points", "velocity_points", "active_24h_ratio", "organic_growth", "velocity_score",
        "rule_version", "run_id",
    ),
    # 060: the two missing risks, the insider risk, the weighted overall, the level and the rule version
    "risk_metrics": (
        "liquidity_risk", "volatility_risk", "insider_risk", "weighted_overall_risk", "risk_level", "rule_version",
        "run_id",
    ),
    # 051: the full breakdown of a technical score (spec T8), its gate and its rule version
    "technical_scores": (
        "price_sol", "sol_usd", "market_cap_base_points", "market_cap_velocity_points", "progress_velocity_points",
        "progress_position_points", "position_multiplier", "velocity_multiplier", "buy_sell_ratio_points",
        "volume_trend_points", "whale_concentration_points", "price_drop_60m", "red_candles", "selloff_active",
        "selloff_started_at", "selloff_duration_minutes", "sell_pressure_points", "duration_penalty",
        "recovery_points", "recovery_bonus", "is_frozen", "evaluated_at", "graduated_at", "rule_version", "mode",
        "run_id",
    ),
}

# seed columns we drop (docs/schema-decisions.md)
REMOVED: dict[str, tuple[str, ...]] = {
    "sol_usd_prices": ("id",),  # a random id in the key defeated UNIQUE (price_time, source)
    "token_holders": ("id",),  # unused; (token_mint, wallet_address) is the key
    "wallet_quality_metrics": ("snapshot_id",),  # (token_mint, snapshot_time) names the snapshot
}

HYPERTABLES: dict[str, str] = {
    "transactions": "block_time",
    "price_candles_1m": "bucket",
    "sol_usd_prices": "price_time",
    "technical_scores": "timestamp",
    "holder_scores": "timestamp",
    "holder_snapshots": "snapshot_time",
    "activity_metrics": "timestamp",
    "risk_metrics": "timestamp",
    "api_credit_usage": "timestamp",
    "wallet_feature_observations": "as_of",  # 060: append-only wallet features (spec §4.3)
    "social_observations": "observed_at",  # 070: the social score's raw input (ours; no seed policies)
    "token_scores": "as_of",  # 052: the 999 aggregate history (not in the seed)
}

PLAIN_TABLES: tuple[str, ...] = tuple(t for t in SEED_COLUMNS if t not in HYPERTABLES)

# the seed's compression and retention figures (its "Data Retention and Optimization" section)
SEED_POLICIES: dict[str, dict[str, str | None]] = {
    "transactions": {"segmentby": "token_id", "compress_after": "7 days", "drop_after": "90 days"},
    "price_candles_1m": {"segmentby": "token_id", "compress_after": "7 days", "drop_after": "30 days"},
    "technical_scores": {"segmentby": "token_mint", "compress_after": "30 days", "drop_after": "60 days"},
    "holder_scores": {"segmentby": "token_mint", "compress_after": "30 days", "drop_after": "60 days"},
    "api_credit_usage": {"segmentby": None, "compress_after": None, "drop_after": "90 days"},
    # not the seed's: 052's own policy for the 999 aggregate history (compressed after 7 days, kept)
    "token_scores": {"segmentby": "token_mint", "compress_after": "7 days", "drop_after": None},
    # not the seed's: 060's own policy for the append-only wallet features (compressed after 30 days, kept)
    "wallet_feature_observations": {"segmentby": "wallet_address", "compress_after": "30 days", "drop_after": None},
}

# the seed's continuous aggregates: source hypertable and refresh window
SEED_AGGREGATES: dict[str, dict[str, str]] = {
    "price_candles_1m_cagg": {
        "source": "transactions", "start_offset": "2 hours", "end_offset": "2 minutes", "schedule": "1 minute",
    },
    "sol_usd_candles_1m": {  # no policy in the seed: the same window as the other
        "source": "sol_usd_prices", "start_offset": "2 hours", "end_offset": "2 minutes", "schedule": "1 minute",
    },
}


def expected_columns(table: str) -> list[str]:
    removed = set(REMOVED.get(table, ()))
    return [c for c in SEED_COLUMNS[table] if c not in removed] + list(ADDED.get(table, ()))
