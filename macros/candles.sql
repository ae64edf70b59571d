{#- The 1-minute candle of each (token, minute) of `relation` (trades of int_trades_enriched): OHLC in SOL and
    USD in the one event order, volumes, counts. USD figures come from the trades that have a USD price;
    unpriced_trade_count says how many had none. -#}
{% macro candle_aggregates(relation, width) -%}
    select
        tr.token_id,
        time_bucket({{ width }}, tr.block_time) as bucket,
        (array_agg(tr.price_per_token order by {{ event_order('tr.') }}))[1] as open,
        max(tr.price_per_token) as high,
        min(tr.price_per_token) as low,
        (array_agg(tr.price_per_token order by {{ event_order('tr.', 'desc') }}))[1] as close,
        (array_agg(tr.price_per_token_usd order by {{ event_order('tr.') }})
            filter (where tr.price_per_token_usd is not null))[1] as open_usd,
        max(tr.price_per_token_usd) as high_usd,
        min(tr.price_per_token_usd) as low_usd,
        (array_agg(tr.price_per_token_usd order by {{ event_order('tr.', 'desc') }})
            filter (where tr.price_per_token_usd is not null))[1] as close_usd,
        sum(tr.token_amount) as volume_token,
        sum(tr.sol_amount) as volume_sol,
        sum(tr.sol_amount_usd) as volume_usd,
        count(*)::integer as trade_count,
        (count(*) filter (where tr.type = 'buy'))::integer as buy_count,
        (count(*) filter (where tr.type = 'sell'))::integer as sell_count,
        (count(distinct tr.user_address) filter (where tr.type = 'buy'))::integer as buyer_count,
        (count(distinct tr.user_address) filter (where tr.type = 'sell'))::integer as seller_count,
        (count(*) filter (where tr.sol_amount_usd is null))::integer as unpriced_trade_count,
        max(tr.created_at) as source_loaded_at,
        now() as built_at
    from {{ relation }} as tr
    group by tr.token_id, time_bucket({{ width }}, tr.block_time)
{%- endmacro %}

{#- A coarser candle level rolled up from price_candles_1m: the 1m buckets are unique per token, so open and
    close are the first and last 1m bucket's. Distinct buyers and sellers cannot be added up across minutes:
    they are counted over the trades of the rebuilt buckets. Incremental: rebuilds every coarse bucket
    holding a 1m candle built since this level's last run. -#}
{% macro candle_rollup(width) -%}
with

minutes as (
    select * from {{ ref('price_candles_1m') }}
),

trades as (
    select * from {{ ref('int_trades_enriched') }}
    where price_per_token > 0
),

{% if is_incremental() %}
touched as (
    select distinct
        fresh.token_id,
        time_bucket({{ width }}, fresh.bucket) as bucket
    from minutes as fresh
    where fresh.built_at > (
        select coalesce(max(this_run.built_at), '-infinity'::timestamptz) from {{ this }} as this_run
    )
),

scoped_minutes as (
    select minutes.*
    from minutes
    where
        minutes.bucket >= (select min(touched.bucket) from touched)
        and (minutes.token_id, time_bucket({{ width }}, minutes.bucket)) in (
            select
                touched.token_id,
                touched.bucket
            from touched
        )
),

scoped_trades as (
    select trades.*
    from trades
    where
        trades.block_time >= (select min(touched.bucket) from touched)
        and (trades.token_id, time_bucket({{ width }}, trades.block_time)) in (
            select
                touched.token_id,
                touched.bucket
            from touched
        )
),
{% else %}
scoped_minutes as (
    select * from minutes
),

scoped_trades as (
    select * from trades
),
{% endif %}

rolled as (
    select
        mi.token_id,
        time_bucket({{ width }}, mi.bucket) as bucket,
        (array_agg(mi.open order by mi.bucket))[1] as open,
        max(mi.high) as high,
        min(mi.low) as low,
        (array_agg(mi.close order by mi.bucket desc))[1] as close,
        (array_agg(mi.open_usd order by mi.bucket) filter (where mi.open_usd is not null))[1] as open_usd,
        max(mi.high_usd) as high_usd,
        min(mi.low_usd) as low_usd,
        (array_agg(mi.close_usd order by mi.bucket desc) filter (where mi.close_usd is not null))[1] as close_usd,
        sum(mi.volume_token) as volume_token,
        sum(mi.volume_sol) as volume_sol,
        sum(mi.volume_usd) as volume_usd,
        sum(mi.trade_count)::integer as trade_count,
        sum(mi.buy_count)::integer as buy_count,
        sum(mi.sell_count)::integer as sell_count,
        sum(mi.unpriced_trade_count)::integer as unpriced_trade_count,
        max(mi.source_loaded_at) as source_loaded_at
    from scoped_minutes as mi
    group by mi.token_id, time_bucket({{ width }}, mi.bucket)
),

traders as (
    select
        tr.token_id,
        time_bucket({{ width }}, tr.block_time) as bucket,
        (count(distinct tr.user_address) filter (where tr.type = 'buy'))::integer as buyer_count,
        (count(distinct tr.user_address) filter (where tr.type = 'sell'))::integer as seller_count
    from scoped_trades as tr
    group by tr.token_id, time_bucket({{ width }}, tr.block_time)
),

candles as (
    select
        rolled.token_id,
        rolled.bucket,
        rolled.open,
        rolled.high,
        rolled.low,
        rolled.close,
        rolled.open_usd,
        rolled.high_usd,
        rolled.low_usd,
        rolled.close_usd,
        rolled.volume_token,
        rolled.volume_sol,
        rolled.volume_usd,
        rolled.trade_count,
        rolled.buy_count,
        rolled.sell_count,
        coalesce(traders.buyer_count, 0) as buyer_count,
        coalesce(traders.seller_count, 0) as seller_count,
        rolled.unpriced_trade_count,
        rolled.source_loaded_at,
        now() as built_at
    from rolled
    left join traders on rolled.token_id = traders.token_id and rolled.bucket = traders.bucket
)

select * from candles
{%- endmacro %}
