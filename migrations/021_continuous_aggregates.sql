-- 021_continuous_aggregates: the seed's two 1-minute aggregates (seed §5 and §6).
--
-- On TimescaleDB Community they are continuous aggregates, created WITH NO DATA (allowed in
-- a transaction) and refreshed by their policy. On the Apache edition continuous aggregates
-- do not exist: only the policy is recorded (native = false) and a later dbt model provides
-- tables of the same names that the orchestrator refreshes.
--
-- Figures: price_candles_1m_cagg as the seed (window now-2 h .. now-2 min, every minute);
-- the seed gives sol_usd_candles_1m no policy, it gets the same one.
-- Ownership moves to megatron_orchestrator in 029_ownership_and_grants (refreshing a
-- continuous aggregate needs its owner), after the policies exist (see 003_roles).

set local search_path = public, megatron;

do $$
begin
    if megatron.timescaledb_edition() = 'timescale' then
        execute $view$
            create materialized view price_candles_1m_cagg
            with (timescaledb.continuous) as
            select
                token_id,
                time_bucket(interval '1 minute', block_time) as bucket,
                first(price_per_token, block_time) as open,
                max(price_per_token) as high,
                min(price_per_token) as low,
                last(price_per_token, block_time) as close,
                sum(case when type in ('buy', 'sell') then token_amount else 0 end) as volume_token,
                sum(case when type in ('buy', 'sell') then sol_amount else 0 end) as volume_sol,
                count(*) as trade_count,
                count(distinct case when type = 'buy' then user_address end) as buyer_count,
                count(distinct case when type = 'sell' then user_address end) as seller_count
            from transactions
            where price_per_token is not null and price_per_token > 0
            group by token_id, time_bucket(interval '1 minute', block_time)
            with no data
        $view$;

        execute $view$
            create materialized view sol_usd_candles_1m
            with (timescaledb.continuous) as
            select
                time_bucket(interval '1 minute', price_time) as bucket,
                first(price_usd, price_time) as open,
                max(price_usd) as high,
                min(price_usd) as low,
                last(price_usd, price_time) as close,
                avg(price_usd) as average,
                count(*) as sample_count,
                source
            from sol_usd_prices
            group by time_bucket(interval '1 minute', price_time), source
            with no data
        $view$;
    end if;
end
$$;

select megatron.declare_aggregate(
    'price_candles_1m_cagg', 'transactions', interval '1 minute',
    interval '2 hours', interval '2 minutes', interval '1 minute'
);

select megatron.declare_aggregate(
    'sol_usd_candles_1m', 'sol_usd_prices', interval '1 minute',
    interval '2 hours', interval '2 minutes', interval '1 minute'
);
