-- 017_risk_metrics: risk indicators per token and time, a hypertable on timestamp (seed §15).
--
-- The four scores the overall risk is generated from are on a 0..100 scale and checked so.
-- overall_risk_score stays the seed's GREATEST of the four (NULLs ignored); spec §4.7's
-- weighted overall, which also needs liquidity and volatility risks, belongs to the scoring
-- models. No policies in the seed; chunks of 7 days.

set local search_path = public, megatron;

create table risk_metrics (
    token_mint text not null check (char_length(token_mint) <= 44),
    timestamp timestamptz not null,

    -- concentration
    concentration_risk numeric(5, 2) check (concentration_risk between 0 and 100),
    single_wallet_dominance boolean default false,
    whale_coordination_detected boolean default false,

    -- bots
    bot_activity_score numeric(5, 2) check (bot_activity_score between 0 and 100),
    bot_swarm_detected boolean default false,
    mev_bot_percentage numeric(5, 2),

    -- rug
    rug_risk_score numeric(5, 2) check (rug_risk_score between 0 and 100),
    creator_dumping boolean default false,
    insider_selling boolean default false,
    liquidity_removal_risk numeric(5, 2),

    -- manipulation
    wash_trading_score numeric(5, 2) check (wash_trading_score between 0 and 100),
    pump_dump_pattern boolean default false,
    coordinated_buying boolean default false,

    -- overall
    overall_risk_score numeric(5, 2) generated always as (
        greatest(concentration_risk, bot_activity_score, rug_risk_score, wash_trading_score)
    ) stored,

    confidence_level numeric(5, 2),

    created_at timestamptz default now(),
    primary key (token_mint, timestamp)
);

comment on table risk_metrics is
'Risk indicators (0..100) per token as of timestamp; overall = the greatest. Hypertable.';

select megatron.declare_hypertable('risk_metrics', 'timestamp', interval '7 days');
