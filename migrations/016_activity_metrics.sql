-- 016_activity_metrics: trading activity per token and time, a hypertable on timestamp (seed §14).
-- No policies in the seed; chunks of 1 day.

set local search_path = public, megatron;

create table activity_metrics (
    token_mint text not null check (char_length(token_mint) <= 44),
    timestamp timestamptz not null,

    -- transaction velocity
    buys_1m integer default 0,
    sells_1m integer default 0,
    net_flow_1m numeric(20, 9),

    buys_5m integer default 0,
    sells_5m integer default 0,
    net_flow_5m numeric(20, 9),

    buys_1h integer default 0,
    sells_1h integer default 0,
    net_flow_1h numeric(20, 9),

    -- unique actors
    unique_buyers_1h integer,
    unique_sellers_1h integer,
    new_holders_1h integer,

    -- volume
    avg_buy_size_sol numeric(20, 9),
    avg_sell_size_sol numeric(20, 9),
    largest_buy_sol numeric(20, 9),
    largest_sell_sol numeric(20, 9),

    created_at timestamptz default now(),
    primary key (token_mint, timestamp)
);

comment on table activity_metrics is 'Buy/sell counts, net SOL flow and actors per token as of timestamp. Hypertable.';

select megatron.declare_hypertable('activity_metrics', 'timestamp', interval '1 day');
