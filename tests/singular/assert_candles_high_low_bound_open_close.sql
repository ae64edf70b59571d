-- Every candle level: high >= open, close and low; low <= open and close, in SOL and (where priced) USD.
with

levels as (
    select
        '1m' as candle_level,
        c1.*
    from {{ ref('price_candles_1m') }} as c1
    union all
    select
        '5m' as candle_level,
        c5.*
    from {{ ref('price_candles_5m') }} as c5
    union all
    select
        '1h' as candle_level,
        ch.*
    from {{ ref('price_candles_1h') }} as ch
    union all
    select
        '1d' as candle_level,
        cd.*
    from {{ ref('price_candles_1d') }} as cd
),

violations as (
    select levels.*
    from levels
    where
        levels.high < greatest(levels.open, levels.close)
        or levels.low > least(levels.open, levels.close)
        or levels.high_usd < greatest(levels.open_usd, levels.close_usd)
        or levels.low_usd > least(levels.open_usd, levels.close_usd)
)

select * from violations
