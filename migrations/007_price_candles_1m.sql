-- 007_price_candles_1m: stored 1-minute OHLCV candles per token, a hypertable on bucket (seed §4).
--
-- Chunks of 1 day; compressed after 7 days (segment token_id, order bucket desc), dropped
-- after 30 days, as the seed's policies say.

set local search_path = public, megatron;

create table price_candles_1m (
    token_id uuid not null references tokens (id),
    bucket timestamptz not null,

    -- OHLC in SOL
    open numeric(30, 20) not null,
    high numeric(30, 20) not null,
    low numeric(30, 20) not null,
    close numeric(30, 20) not null,

    -- OHLC in USD
    open_usd numeric(30, 20),
    high_usd numeric(30, 20),
    low_usd numeric(30, 20),
    close_usd numeric(30, 20),

    -- volume
    volume_token numeric(30, 6) not null,
    volume_sol numeric(20, 9) not null,
    volume_usd numeric(20, 2),

    -- trading
    trade_count integer not null,
    buyer_count integer not null,
    seller_count integer not null,

    primary key (token_id, bucket)
);

comment on table price_candles_1m is '1-minute OHLCV candles per token (SOL and USD). Hypertable on bucket.';

select megatron.declare_hypertable(
    'price_candles_1m', 'bucket', interval '1 day',
    p_compress_segmentby => 'token_id',
    p_compress_orderby => 'bucket desc',
    p_compress_after => interval '7 days',
    p_drop_after => interval '30 days'
);
