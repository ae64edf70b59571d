-- 009_technical_scores: technical score snapshots (0..333), a hypertable on timestamp (seed §7).
--
-- Each component is checked against its documented range (market cap 0..100, bonding curve
-- 0..83, trading health 0..75, sell-off response -60..75); the total is generated. The seed
-- adds compression and retention policies without enabling compression; here compression is
-- declared with its settings (segment token_mint, order timestamp desc), after 30 days, and
-- rows are dropped after 60 days. Chunks of 1 day (a row every few seconds per active token).
-- market_cap_velocity is in %/minute (spec §3.1), progress_velocity in %/hour (spec §3.2).

set local search_path = public, megatron;

create table technical_scores (
    token_mint text not null check (char_length(token_mint) <= 44),
    timestamp timestamptz not null,

    -- market cap score (0-100)
    market_cap_score numeric(5, 2) default 0 check (market_cap_score between 0 and 100),
    market_cap_usd numeric(20, 2),
    market_cap_velocity numeric(10, 4),

    -- bonding curve score (0-83)
    bonding_curve_score numeric(5, 2) default 0 check (bonding_curve_score between 0 and 83),
    bonding_curve_progress numeric(5, 2) check (bonding_curve_progress between 0 and 100),
    progress_velocity numeric(10, 4),
    progress_consistency numeric(5, 2),

    -- trading health score (0-75)
    trading_health_score numeric(5, 2) default 0 check (trading_health_score between 0 and 75),
    buy_sell_ratio numeric(10, 4),
    volume_trend numeric(10, 4),
    unique_traders_1h integer,
    whale_concentration numeric(5, 2),

    -- sell-off response score (-60 to 75)
    selloff_response_score numeric(6, 2) default 0 check (selloff_response_score between -60 and 75),
    price_drop_5m numeric(10, 4),
    price_drop_15m numeric(10, 4),
    price_drop_30m numeric(10, 4),
    recovery_strength numeric(10, 4),

    -- total score (-60..333)
    total_score numeric(6, 2) generated always as (
        market_cap_score + bonding_curve_score + trading_health_score + selloff_response_score
    ) stored,

    -- metadata
    volume_24h_usd numeric(20, 2),
    transactions_1h integer,
    created_at timestamptz default now(),

    primary key (token_mint, timestamp)
);

comment on table technical_scores is 'Technical score (333 points) of a token as of timestamp. Hypertable.';
comment on column technical_scores.market_cap_velocity is 'Signed market-cap change in % per minute (spec §3.1).';
comment on column technical_scores.progress_velocity is
'Signed bonding-curve progress change in % per hour (spec §3.2).';

select megatron.declare_hypertable(
    'technical_scores', 'timestamp', interval '1 day',
    p_compress_segmentby => 'token_mint',
    p_compress_orderby => '"timestamp" desc',
    p_compress_after => interval '30 days',
    p_drop_after => interval '60 days'
);
