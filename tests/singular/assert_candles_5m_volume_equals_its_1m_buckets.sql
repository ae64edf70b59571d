-- A 5m bucket's volumes and trade count equal the sums of its 1m buckets; its open is the first minute's open
-- and its close the last minute's close.
with

minutes as (
    select
        c1.token_id,
        time_bucket(interval '5 minutes', c1.bucket) as bucket,
        sum(c1.volume_sol) as volume_sol,
        sum(c1.volume_token) as volume_token,
        sum(c1.trade_count) as trade_count,
        (array_agg(c1.open order by c1.bucket))[1] as open,
        (array_agg(c1.close order by c1.bucket desc))[1] as close
    from {{ ref('price_candles_1m') }} as c1
    group by c1.token_id, time_bucket(interval '5 minutes', c1.bucket)
),

mismatches as (
    select
        c5.token_id,
        c5.bucket
    from {{ ref('price_candles_5m') }} as c5
    full join minutes as mi on c5.token_id = mi.token_id and c5.bucket = mi.bucket
    where
        c5.token_id is null
        or mi.token_id is null
        or c5.volume_sol <> mi.volume_sol
        or c5.volume_token <> mi.volume_token
        or c5.trade_count <> mi.trade_count
        or c5.open <> mi.open
        or c5.close <> mi.close
)

select * from mismatches
