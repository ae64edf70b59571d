-- 012_holder_snapshots: holder distribution per token and time, a hypertable on snapshot_time
-- (seed §10). No compression or retention in the seed; chunks of 7 days.

set local search_path = public, megatron;

create table holder_snapshots (
    token_mint text not null check (char_length(token_mint) <= 44),
    snapshot_time timestamptz not null,

    -- distribution
    total_holders integer not null,
    active_holders integer,
    dust_accounts integer,

    -- inequality
    gini_coefficient numeric(5, 4),
    theil_index numeric(10, 4),
    shannon_entropy numeric(10, 4),

    -- concentration
    top_1_balance numeric(30, 6),
    top_10_balance numeric(30, 6),
    top_20_balance numeric(30, 6),
    top_50_balance numeric(30, 6),
    top_100_balance numeric(30, 6),

    -- percentages
    top_1_percentage numeric(5, 2),
    top_10_percentage numeric(5, 2),
    top_20_percentage numeric(5, 2),
    top_50_percentage numeric(5, 2),
    top_100_percentage numeric(5, 2),

    -- metadata
    data_source text check (char_length(data_source) <= 50),  -- 'helius_rpc', 'websocket', 'api'
    bonding_curve_progress numeric(5, 2) check (bonding_curve_progress between 0 and 100),
    market_cap_usd numeric(20, 2),
    created_at timestamptz default now(),

    primary key (token_mint, snapshot_time)
);

comment on table holder_snapshots is 'Holder distribution of a token at snapshot_time. Hypertable.';

select megatron.declare_hypertable('holder_snapshots', 'snapshot_time', interval '7 days');
