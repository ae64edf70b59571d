-- 006_transactions: every decoded trade, a hypertable on block_time (seed §3).
--
-- One transaction signature can carry several trades (a real fixture holds a buy and a sell
-- in one transaction), so a trade is identified by (signature, event_index), as in the
-- canonical events; the key also holds block_time because unique constraints on a
-- hypertable must include its time column.
--
-- Chunks of 1 day; compressed after 7 days, segmented by token_id and ordered by block_time
-- (then signature, event_index, so the primary key's columns are covered as TimescaleDB
-- recommends); dropped after 90 days. Declared once through the policy registry (the seed
-- declares them twice). USD columns are filled by the trigger of 025_usd_trigger.
--
-- No foreign keys to tokens and pools (the seed has them): the only writer, the loader's
-- megatron.ingest_apply(), resolves both ids by joining on the mint and pool address, so a
-- trade cannot name a missing token; the two per-row RI checks cost 11 % of the loader's
-- time (benchmarks/ingest.py). tests/test_ingest.py checks that no trade is orphaned.
--
-- Prices per token keep 20 decimal places (the seed's numeric(30,10) would keep a pump.fun
-- price of ~3e-8 SOL to 3 significant digits); the same holds for every per-token price column.

set local search_path = public, megatron;

create table transactions (
    signature text not null check (char_length(signature) <= 88),
    event_index smallint not null default 0 check (event_index >= 0),
    pool_id uuid not null,  -- pools.id; no foreign key, see below
    token_id uuid not null,  -- tokens.id
    block_time timestamptz not null,
    slot bigint not null,
    type text not null check (type in ('buy', 'sell', 'add_liquidity', 'remove_liquidity')),
    user_address text not null check (char_length(user_address) <= 44),

    -- raw amounts with decimals
    amount_in numeric(30, 0) not null,
    amount_in_decimals integer not null,
    amount_out numeric(30, 0) not null,
    amount_out_decimals integer not null,

    -- normalized amounts
    sol_amount numeric(20, 9),
    token_amount numeric(30, 6),
    price_per_token numeric(30, 20),

    -- USD values (set by the trigger calculate_usd_values)
    price_per_token_usd numeric(30, 20),
    sol_amount_usd numeric(20, 2),

    -- fees
    protocol_fee numeric(20, 0),
    platform_fee numeric(20, 0),
    transaction_fee bigint,

    success boolean default true,
    raw_data jsonb,
    created_at timestamptz default now(),

    primary key (signature, event_index, block_time)
);

comment on table transactions is
'Decoded trades; one row per (signature, event_index). Hypertable on block_time.';
comment on column transactions.event_index is
'Position of the trade among the events of its transaction (0 for the first).';

-- the as-of price primitives and the per-wallet features read these
create index idx_transactions_token_time on transactions (token_id, block_time desc);
create index idx_transactions_user_time on transactions (user_address, block_time desc);

select megatron.declare_hypertable(
    'transactions', 'block_time', interval '1 day',
    p_compress_segmentby => 'token_id',
    p_compress_orderby => 'block_time desc, signature, event_index',
    p_compress_after => interval '7 days',
    p_drop_after => interval '90 days'
);
