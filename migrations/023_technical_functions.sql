-- 023_technical_functions: as-of price primitives and the technical-score helpers of the seed
-- (detect_selloff, calculate_market_cap_velocity, calculate_progress_velocity), spec §1, §3.
--
-- Every function takes the time T it is evaluated at (p_as_of, default now() as the seed's
-- NOW()) and reads only rows with event time <= T, so a backfill, a test and a live call
-- are the same computation. Trades are transactions of type buy/sell with a positive price;
-- "the latest trade" breaks ties by slot, then signature, then event_index.

set local search_path = public, megatron;

create function sol_usd_price_at(
    p_as_of timestamptz,
    p_max_age interval default interval '15 minutes'
) returns numeric
language sql stable parallel safe
as $$
    select p.price_usd
    from public.sol_usd_prices as p
    where p.price_time <= p_as_of
      and p.price_time >= p_as_of - p_max_age
    order by p.price_time desc, p.source desc
    limit 1
$$;

comment on function sol_usd_price_at(timestamptz, interval) is
'SOL/USD at T: the latest sol_usd_prices row with T - p_max_age <= price_time <= T (ties: the source name '
'sorting last); NULL when none is that recent (no guess from stale prices).';

create function token_price_at(p_token_mint text, p_as_of timestamptz default now()) returns numeric
language sql stable parallel safe
as $$
    select tx.price_per_token
    from public.tokens as t
    inner join public.transactions as tx on tx.token_id = t.id
    where t.mint_address = p_token_mint
      and tx.block_time <= p_as_of
      and tx.type in ('buy', 'sell')
      and tx.price_per_token > 0
    order by tx.block_time desc, tx.slot desc, tx.signature desc, tx.event_index desc
    limit 1
$$;

comment on function token_price_at(text, timestamptz) is
'price(T), spec §1: price_per_token (SOL) of the latest trade at or before T; NULL before the first trade.';

create function bonding_curve_progress_at(p_token_mint text, p_as_of timestamptz default now()) returns numeric
language sql stable parallel safe
as $$
    select least(100, greatest(0,
        coalesce(sum(
            case tx.type when 'buy' then tx.token_amount when 'sell' then -tx.token_amount end
        ), 0) / 793100000 * 100
    ))
    from public.tokens as t
    left join public.transactions as tx
        on tx.token_id = t.id
        and tx.block_time <= p_as_of
        and tx.type in ('buy', 'sell')
        and exists (
            select 1 from public.pools as p
            where p.id = tx.pool_id and p.pool_type = 'initial'
        )
    where t.mint_address = p_token_mint
    group by t.id
$$;

comment on function bonding_curve_progress_at(text, timestamptz) is
'progress(T), spec §1 resolution: clamp((bought - sold tokens on the bonding curve up to T) / 793,100,000 '
'x 100, 0, 100); NULL for an unknown mint.';

create function calculate_market_cap_velocity(
    p_token_mint text,
    p_interval interval default interval '10 minutes',
    p_as_of timestamptz default now()
) returns numeric
language sql stable parallel safe
as $$
    with

    token as (
        select t.id
        from public.tokens as t
        where t.mint_address = p_token_mint
    ),

    latest as (
        select tx.price_per_token as price, p_as_of as priced_at
        from token
        inner join public.transactions as tx on tx.token_id = token.id
        where tx.block_time <= p_as_of and tx.type in ('buy', 'sell') and tx.price_per_token > 0
        order by tx.block_time desc, tx.slot desc, tx.signature desc, tx.event_index desc
        limit 1
    ),

    -- price(T - w), or the first trade when the token is younger than the window
    base_candidates as (
        (
            select tx.price_per_token as price, p_as_of - p_interval as priced_at, 1 as preference
            from token
            inner join public.transactions as tx on tx.token_id = token.id
            where tx.block_time <= p_as_of - p_interval and tx.type in ('buy', 'sell') and tx.price_per_token > 0
            order by tx.block_time desc, tx.slot desc, tx.signature desc, tx.event_index desc
            limit 1
        )
        union all
        (
            select tx.price_per_token as price, tx.block_time as priced_at, 2 as preference
            from token
            inner join public.transactions as tx on tx.token_id = token.id
            where tx.block_time <= p_as_of and tx.type in ('buy', 'sell') and tx.price_per_token > 0
            order by tx.block_time asc, tx.slot asc, tx.signature asc, tx.event_index asc
            limit 1
        )
    ),

    base as (
        select price, priced_at
        from base_candidates
        order by preference
        limit 1
    ),

    market_caps as (
        select
            latest.price * public.sol_usd_price_at(latest.priced_at) * 1000000000 as mcap_now,
            base.price * public.sol_usd_price_at(base.priced_at) * 1000000000 as mcap_base
        from latest
        cross join base
    )

    select round((mcap_now - mcap_base) / mcap_base * 100 / (extract(epoch from p_interval) / 60), 4)
    from market_caps
    where mcap_base > 0 and p_interval > interval '0'
$$;

comment on function calculate_market_cap_velocity(text, interval, timestamptz) is
'Signed market-cap velocity in % per minute, spec §3.1 resolution (T2/T3): (mcap(T) - mcap(T - w)) / mcap(T - w) x '
'100 / '
'minutes(w), mcap(t) = price(t) x SOL/USD(t) x 1e9; a token younger than w uses its first trade as the base. '
'NULL without trades, without a fresh SOL/USD price, or for w <= 0. Default w = 10 minutes as the spec.';

create function calculate_progress_velocity(
    p_token_mint text,
    p_interval interval default interval '30 minutes',
    p_as_of timestamptz default now()
) returns numeric
language sql stable parallel safe
as $$
    with

    token as (
        select
            t.id,
            greatest(p_as_of - p_interval, t.creation_timestamp) as base_time
        from public.tokens as t
        where t.mint_address = p_token_mint
          and (t.creation_timestamp is null or t.creation_timestamp <= p_as_of)
          and p_interval > interval '0'
    ),

    net as (
        select
            token.base_time,
            coalesce(sum(
                case tx.type when 'buy' then tx.token_amount when 'sell' then -tx.token_amount end
            ), 0) as bought_now,
            coalesce(sum(
                case tx.type when 'buy' then tx.token_amount when 'sell' then -tx.token_amount end
            ) filter (where tx.block_time <= token.base_time), 0) as bought_base
        from token
        left join public.transactions as tx
            on tx.token_id = token.id
            and tx.block_time <= p_as_of
            and tx.type in ('buy', 'sell')
            and exists (
                select 1 from public.pools as p
                where p.id = tx.pool_id and p.pool_type = 'initial'
            )
        group by token.id, token.base_time
    ),

    progress as (
        select
            base_time,
            least(100, greatest(0, bought_now / 793100000 * 100)) as progress_now,
            least(100, greatest(0, bought_base / 793100000 * 100)) as progress_base
        from net
    )

    select round(
        (progress_now - progress_base)
        / greatest(extract(epoch from p_as_of - base_time) / 3600, 1.0 / 60),
        4
    )
    from progress
$$;

comment on function calculate_progress_velocity(text, interval, timestamptz) is
'Signed bonding-curve velocity in % per hour, spec §3.2 resolution: (progress(T) - progress(T - w)) / hours(w), '
'progress '
'reconstructed from bonding-curve trades; a token younger than w is measured from its creation (at least 1 minute; '
'unknown creation counts as older). NULL for an unknown mint, T before creation, or w <= 0. Default w = 30 minutes.';

create function detect_selloff(
    p_token_mint text,
    p_as_of timestamptz default now()
) returns table (
    is_selloff boolean,
    drop_5m numeric,
    drop_15m numeric,
    drop_30m numeric,
    severity text
)
language sql stable parallel safe
as $$
    with

    token as (
        select t.id
        from public.tokens as t
        where t.mint_address = p_token_mint
    ),

    trades as (
        select
            tx.block_time,
            tx.slot,
            tx.signature,
            tx.event_index,
            tx.type,
            tx.sol_amount,
            tx.price_per_token as price
        from token
        inner join public.transactions as tx on tx.token_id = token.id
        where tx.block_time > p_as_of - interval '30 minutes'
          and tx.block_time <= p_as_of
          and tx.type in ('buy', 'sell')
          and tx.price_per_token > 0
    ),

    window_stats as (
        select
            (array_agg(price order by block_time desc, slot desc, signature desc, event_index desc))[1] as last_price,
            (array_agg(price order by block_time, slot, signature, event_index)
                filter (where block_time > p_as_of - interval '5 minutes'))[1] as first_5m,
            (array_agg(price order by block_time, slot, signature, event_index)
                filter (where block_time > p_as_of - interval '15 minutes'))[1] as first_15m,
            (array_agg(price order by block_time, slot, signature, event_index))[1] as first_30m,
            coalesce(sum(sol_amount) filter (
                where type = 'sell' and block_time > p_as_of - interval '5 minutes'
            ), 0) as sell_sol_5m,
            coalesce(max(sol_amount) filter (
                where type = 'sell' and block_time > p_as_of - interval '5 minutes'
            ), 0) as largest_sell_5m,
            count(*) filter (where type = 'sell' and block_time > p_as_of - interval '1 minute') as sells_1m
        from trades
    ),

    -- 1-minute candles of the window; red when close < open
    candles as (
        select
            date_trunc('minute', block_time) as minute,
            (array_agg(price order by block_time desc, slot desc, signature desc, event_index desc))[1]
            < (array_agg(price order by block_time, slot, signature, event_index))[1] as is_red
        from trades
        group by date_trunc('minute', block_time)
    ),

    -- length of the trailing run of red minutes
    red_run as (
        select count(*) as red_candles
        from candles
        where minute > coalesce((select max(c.minute) from candles as c where not c.is_red), '-infinity')
    ),

    drops as (
        select
            coalesce(round((first_5m - last_price) / first_5m * 100, 4), 0) as d5,
            coalesce(round((first_15m - last_price) / first_15m * 100, 4), 0) as d15,
            coalesce(round((first_30m - last_price) / first_30m * 100, 4), 0) as d30,
            sell_sol_5m,
            largest_sell_5m,
            sells_1m
        from window_stats
    )

    select
        d.d5 > 10 or d.d15 > 15 or d.d30 > 20 or r.red_candles >= 3 as is_selloff,
        d.d5 as drop_5m,
        d.d15 as drop_15m,
        d.d30 as drop_30m,
        case
            when greatest(d.d5, d.d15, d.d30) > 30 or d.sell_sol_5m > 10 or d.largest_sell_5m > 5 then 'critical'
            when greatest(d.d5, d.d15, d.d30) > 20 or d.sell_sol_5m > 5 then 'high'
            when greatest(d.d5, d.d15, d.d30) > 10 or d.sell_sol_5m > 2 or d.sells_1m > 5 then 'medium'
            else 'low'
        end as severity
    from drops as d
    cross join red_run as r
    where exists (select 1 from token)
$$;

comment on function detect_selloff(text, timestamptz) is
'Sell-off state of a token at T (spec §3.4): d_w = (first price in (T - w, T] - price(T)) / first x 100 for w = 5, 15, '
'30 min (0 without trades in the window; negative is a rise), rounded to 4 places. is_selloff = d5 > 10 or d15 > 15 or '
'd30 > 20 or >= 3 trailing red 1-minute candles (the open-event duration term is left out: it reads stored events). '
'severity (spec §3.5 alert table, as of T): critical if max drop > 30 % or 5-min sells > 10 SOL or one sell > 5 SOL; '
'high if > 20 % or > 5 SOL; medium if > 10 % or > 2 SOL or > 5 sells in the last minute; else low. No row for an '
'unknown mint.';
