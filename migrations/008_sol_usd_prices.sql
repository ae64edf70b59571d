-- 008_sol_usd_prices: SOL/USD observations per source, a hypertable on price_time (seed §6).
--
-- The seed's key (price_time, source, id) with a random id made every row unique and so
-- defeated its own UNIQUE (price_time, source); the id is gone and (price_time, source) is
-- the key. Its leading price_time serves the "latest price at or before T" lookup of the USD
-- trigger, so the extra price_time index create_hypertable adds is dropped. Small table:
-- chunks of 7 days, no compression or retention in the seed.

set local search_path = public, megatron;

create table sol_usd_prices (
    price_time timestamptz not null,
    price_usd numeric(20, 6) not null check (price_usd > 0),
    source text not null check (char_length(source) <= 50),  -- 'pyth', 'jupiter', 'birdeye', 'hermes'
    confidence numeric(20, 6),
    created_at timestamptz default now(),
    primary key (price_time, source)
);

comment on table sol_usd_prices is
'SOL/USD price observations, one per (price_time, source). Hypertable on price_time.';

select megatron.declare_hypertable('sol_usd_prices', 'price_time', interval '7 days');

-- create_hypertable added an index on price_time alone; the key's index already leads with it
drop index sol_usd_prices_price_time_idx;
