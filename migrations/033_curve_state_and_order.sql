-- 033_curve_state_and_order: price and progress as of T read from the curve state each trade
-- keeps (032), per curve type, in the one event order; the rebuild from summed trades stays
-- only as a labelled fallback. Replaces the as-of primitives of 023 (same signatures).
--
-- Progress of a bonding curve from its state after a trade:
--   real token reserves known:  (S - real_token_reserves) / S x 100, S = pools.curve_sell_supply
--                               (the create event's initial real token reserves, LaunchLab's
--                               total_base_sell), else the classic pump.fun 793,100,000 tokens;
--   only virtual reserves:      the classic formula (1,073,000,000 - vt / 1e6) / 793,100,000 x 100;
--   no state at all:            (bought - sold on the curve) / S x 100, method 'trade_sums'.
-- Clamped to 0..100. The classic constants are right only for classic pump.fun curves; a
-- mayhem-mode or LaunchLab curve needs the real reserves, which every current event carries.

set local search_path = public, megatron;

create function megatron.curve_progress(
    p_real_token_reserves numeric,
    p_virtual_token_reserves numeric,
    p_sell_supply numeric
) returns numeric
language sql immutable parallel safe
as $$
    select round(least(100, greatest(0,
        case
            when p_real_token_reserves is not null
                then (coalesce(p_sell_supply, 793100000000000) - p_real_token_reserves)
                    / coalesce(nullif(p_sell_supply, 0), 793100000000000) * 100
            when p_virtual_token_reserves is not null
                then (1073000000 - p_virtual_token_reserves / 1e6) / 793100000 * 100
        end
    )), 4)
$$;

comment on function megatron.curve_progress(numeric, numeric, numeric) is
'Bonding-curve progress in percent (4 places) from the state after a trade: (S - real token reserves) / S x 100 with '
'S = the curve''s sell supply (NULL: classic 793,100,000e6); with only virtual token reserves the classic pump.fun '
'formula; NULL without state. Clamped 0..100.';

-- Where the data of a token starts being complete: trades older than the horizon were removed
-- by retention (034 keeps the per-wallet state they leave behind). NULL: nothing removed yet.
create table megatron.retention_horizons (
    hypertable regclass primary key,
    horizon timestamptz not null,
    moved_at timestamptz not null default now()
);

comment on table megatron.retention_horizons is
'Per hypertable, the time before which rows were removed by retention. As-of functions refuse a T before it.';

create function megatron.check_horizon(p_hypertable regclass, p_as_of timestamptz) returns void
language plpgsql stable
as $$
declare
    v_horizon timestamptz;
begin
    select h.horizon into v_horizon from megatron.retention_horizons as h where h.hypertable = p_hypertable;
    if v_horizon is not null and p_as_of < v_horizon then
        raise exception 'cannot answer as of %: % holds no rows before % (removed by retention)',
            p_as_of, p_hypertable, v_horizon
            using errcode = 'data_exception',
            hint = 'Ask for a time at or after the horizon, or restore the history from an archive.';
    end if;
end
$$;

comment on function megatron.check_horizon(regclass, timestamptz) is
'Raise a clear error when T lies before the retention horizon of the hypertable; every as-of primitive calls it.';

create function curve_state_at(p_token_mint text, p_as_of timestamptz default now())
returns table (
    price_sol numeric,
    progress numeric,
    virtual_sol_reserves numeric,
    virtual_token_reserves numeric,
    real_sol_reserves numeric,
    real_token_reserves numeric,
    state_time timestamptz,
    method text
)
language plpgsql stable parallel safe
as $$
begin
    perform megatron.check_horizon('public.transactions', p_as_of);
    return query
    with

    token as (
        select t.id from public.tokens as t where t.mint_address = p_token_mint
    ),

    curve as (
        select p.id, p.curve_sell_supply, p.status, p.pool_type
        from public.pools as p
        inner join token on token.id = p.token_id
        where p.pool_type = 'initial'
        order by p.created_at
        limit 1
    ),

    latest_trade as (
        select tx.*
        from token
        inner join public.transactions as tx on tx.token_id = token.id
        where tx.block_time <= p_as_of and tx.type in ('buy', 'sell') and tx.price_per_token > 0
        order by tx.block_time desc, tx.slot desc nulls last, tx.slot_order desc nulls last,
            tx.signature desc, tx.event_index desc
        limit 1
    ),

    latest_curve_trade as (
        select tx.*
        from curve
        inner join token on true
        inner join public.transactions as tx on tx.token_id = token.id and tx.pool_id = curve.id
        where tx.block_time <= p_as_of and tx.type in ('buy', 'sell')
        order by tx.block_time desc, tx.slot desc nulls last, tx.slot_order desc nulls last,
            tx.signature desc, tx.event_index desc
        limit 1
    ),

    completed as (
        select min(g.block_time) as at
        from public.graduation_events as g
        where g.token_mint = p_token_mint and g.block_time <= p_as_of
    ),

    sums as (
        select coalesce(sum(case tx.type when 'buy' then tx.token_amount else -tx.token_amount end), 0) * 1e6 as sold
        from curve
        inner join token on true
        inner join public.transactions as tx on tx.token_id = token.id and tx.pool_id = curve.id
        where tx.block_time <= p_as_of and tx.type in ('buy', 'sell')
    )

    select
        lt.price_per_token,
        case
            when (select c.at from completed as c) is not null then 100::numeric
            when lc.signature is null then null
            when lc.real_token_reserves is not null or lc.virtual_token_reserves is not null
                then megatron.curve_progress(lc.real_token_reserves, lc.virtual_token_reserves, cv.curve_sell_supply)
            else round(least(100, greatest(0,
                (select s.sold from sums as s) / coalesce(nullif(cv.curve_sell_supply, 0), 793100000000000) * 100)), 4)
        end,
        lc.virtual_sol_reserves,
        lc.virtual_token_reserves,
        lc.real_sol_reserves,
        lc.real_token_reserves,
        greatest(lt.block_time, lc.block_time),
        case
            when (select c.at from completed as c) is not null then 'graduated'
            when lc.signature is null then null
            when lc.real_token_reserves is not null then 'real_reserves'
            when lc.virtual_token_reserves is not null then 'virtual_reserves'
            else 'trade_sums'
        end
    from token
    left join curve as cv on true
    left join latest_trade as lt on true
    left join latest_curve_trade as lc on true;
end
$$;

comment on function curve_state_at(text, timestamptz) is
'The token''s state as of T: price (SOL, the latest trade''s) and bonding-curve progress with the reserves of the '
'latest '
'curve trade in the event order, and how progress was found: real_reserves, virtual_reserves (classic formula), '
'trade_sums (fallback: no state carried), graduated (a curve-complete or migration event at or before T). No row '
'for an unknown mint. Refuses T before the retention horizon.';

create or replace function token_price_at(p_token_mint text, p_as_of timestamptz default now()) returns numeric
language sql stable parallel safe
as $$
    select s.price_sol from public.curve_state_at(p_token_mint, p_as_of) as s
$$;

comment on function token_price_at(text, timestamptz) is
'price(T), spec §1: price_per_token (SOL) of the latest trade at or before T in the event order (block_time, slot, '
'slot_order, signature, event_index); NULL before the first trade.';

create or replace function bonding_curve_progress_at(
    p_token_mint text, p_as_of timestamptz default now()
) returns numeric
language sql stable parallel safe
as $$
    select coalesce(s.progress, 0) from public.curve_state_at(p_token_mint, p_as_of) as s
$$;

comment on function bonding_curve_progress_at(text, timestamptz) is
'progress(T): from the curve state after the latest curve trade at or before T (curve_state_at; 100 once the curve '
'completed); 0 before the first trade; NULL for an unknown mint.';

create or replace function calculate_progress_velocity(
    p_token_mint text,
    p_interval interval default interval '30 minutes',
    p_as_of timestamptz default now()
) returns numeric
language sql stable parallel safe
as $$
    with

    token as (
        select greatest(p_as_of - p_interval, t.creation_timestamp) as base_time
        from public.tokens as t
        where t.mint_address = p_token_mint
          and (t.creation_timestamp is null or t.creation_timestamp <= p_as_of)
          and p_interval > interval '0'
    )

    select round(
        (public.bonding_curve_progress_at(p_token_mint, p_as_of)
            - public.bonding_curve_progress_at(p_token_mint, token.base_time))
        / greatest(extract(epoch from p_as_of - token.base_time) / 3600, 1.0 / 60),
        4
    )
    from token
$$;

comment on function calculate_progress_velocity(text, interval, timestamptz) is
'Signed bonding-curve velocity in % per hour, spec §3.2 resolution: (progress(T) - progress(T - w)) / hours(w) with '
'progress(T) from the stored curve state (curve_state_at); a token younger than w is measured from its creation (at '
'least 1 minute). NULL for an unknown mint, T before creation, or w <= 0. Default w = 30 minutes.';

create or replace function calculate_market_cap_velocity(
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

    first_trade as (
        select tx.price_per_token as price, tx.block_time as priced_at
        from token
        inner join public.transactions as tx on tx.token_id = token.id
        where tx.block_time <= p_as_of and tx.type in ('buy', 'sell') and tx.price_per_token > 0
        order by tx.block_time, tx.slot nulls first, tx.slot_order nulls first, tx.signature, tx.event_index
        limit 1
    ),

    base as (
        select
            coalesce(public.token_price_at(p_token_mint, p_as_of - p_interval), f.price) as price,
            case
                when public.token_price_at(p_token_mint, p_as_of - p_interval) is not null then p_as_of - p_interval
                else f.priced_at
            end as priced_at
        from first_trade as f
    ),

    market_caps as (
        select
            public.token_price_at(p_token_mint, p_as_of) * public.sol_usd_price_at(p_as_of) * 1000000000 as mcap_now,
            base.price * public.sol_usd_price_at(base.priced_at) * 1000000000 as mcap_base
        from base
    )

    select round((mcap_now - mcap_base) / mcap_base * 100 / (extract(epoch from p_interval) / 60), 4)
    from market_caps
    where mcap_base > 0 and p_interval > interval '0'
$$;

-- detect_selloff reads the 30 minutes before T: refuse a window reaching before the horizon
create or replace function megatron.selloff_guard(p_as_of timestamptz) returns boolean
language plpgsql stable
as $$
begin
    perform megatron.check_horizon('public.transactions', p_as_of - interval '30 minutes');
    return true;
end
$$;

-- detect_selloff: the same body as 023 with the one event order, refusing T whose window reaches past the horizon
create or replace function detect_selloff(
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
            tx.type,
            tx.sol_amount,
            tx.price_per_token as price,
            row_number() over (
                order by tx.block_time, tx.slot nulls first, tx.slot_order nulls first, tx.signature, tx.event_index
            ) as seq
        from token
        inner join public.transactions as tx on tx.token_id = token.id
        where tx.block_time > p_as_of - interval '30 minutes'
          and tx.block_time <= p_as_of
          and tx.type in ('buy', 'sell')
          and tx.price_per_token > 0
    ),

    window_stats as (
        select
            (array_agg(price order by seq desc))[1] as last_price,
            (array_agg(price order by seq) filter (where block_time > p_as_of - interval '5 minutes'))[1] as first_5m,
            (array_agg(price order by seq) filter (where block_time > p_as_of - interval '15 minutes'))[1] as first_15m,
            (array_agg(price order by seq))[1] as first_30m,
            coalesce(sum(sol_amount) filter (
                where type = 'sell' and block_time > p_as_of - interval '5 minutes'
            ), 0) as sell_sol_5m,
            coalesce(max(sol_amount) filter (
                where type = 'sell' and block_time > p_as_of - interval '5 minutes'
            ), 0) as largest_sell_5m,
            count(*) filter (where type = 'sell' and block_time > p_as_of - interval '1 minute') as sells_1m
        from trades
    ),

    candles as (
        select
            date_trunc('minute', block_time) as minute,
            (array_agg(price order by seq desc))[1] < (array_agg(price order by seq))[1] as is_red
        from trades
        group by date_trunc('minute', block_time)
    ),

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
    where exists (select 1 from token) and megatron.selloff_guard(p_as_of)
$$;

-- Inequality measures: holders are balance > 0 (spec §4.1); zeros are left out like NULLs.
create or replace function calculate_gini_coefficient(balances numeric[]) returns numeric
language plpgsql immutable strict parallel safe
as $$
declare
    v_negatives bigint;
    v_gini numeric;
begin
    select count(*) into v_negatives from unnest(balances) as b (x) where b.x < 0;
    if v_negatives > 0 then
        raise exception 'calculate_gini_coefficient: % negative balance(s); balances must be >= 0', v_negatives
            using errcode = 'invalid_parameter_value';
    end if;

    with

    holders as (
        select b.x from unnest(balances) as b (x) where b.x > 0
    ),

    ranked as (
        select
            x,
            row_number() over (order by x) as i,
            count(*) over () as n,
            sum(x) over () as s
        from holders
    )

    select greatest(0, least(1, sum((2 * i - n - 1) * x) / (max(n) * max(s))))
    into v_gini
    from ranked
    having count(*) > 0;
    return v_gini;
end
$$;

comment on function calculate_gini_coefficient(numeric[]) is
'Gini of the holders'' balances: holders are balances > 0 (spec §4.1; zeros and NULLs left out), sorted ascending, '
'sum((2i - n - 1) x_i) / (n S), clamped to [0, 1]. Negatives raise 22023; NULL without a holder; 0 for one holder.';

create or replace function calculate_shannon_entropy(balances numeric[]) returns numeric
language plpgsql immutable strict parallel safe
as $$
declare
    v_negatives bigint;
    v_entropy numeric;
begin
    select count(*) into v_negatives from unnest(balances) as b (x) where b.x < 0;
    if v_negatives > 0 then
        raise exception 'calculate_shannon_entropy: % negative balance(s); balances must be >= 0', v_negatives
            using errcode = 'invalid_parameter_value';
    end if;

    with

    holders as (
        select b.x::double precision as x from unnest(balances) as b (x) where b.x > 0
    ),

    totals as (
        select count(*) as n, sum(x) as s from holders
    )

    select
        case
            when t.n = 0 then null
            when t.n = 1 then 0
            else greatest(0, -(select sum((h.x / t.s) * ln(h.x / t.s)) from holders as h) / ln(t.n::double precision))::numeric
        end
    into v_entropy
    from totals as t;
    return v_entropy;
end
$$;

comment on function calculate_shannon_entropy(numeric[]) is
'Normalized Shannon entropy of the holders'' balances (balances > 0): -sum(p_i log2 p_i) / log2 n, in [0, 1]. '
'Negatives raise 22023; NULL without a holder; 0 for one holder.';

create or replace function calculate_theil_index(balances numeric[]) returns numeric
language plpgsql immutable strict parallel safe
as $$
declare
    v_negatives bigint;
    v_theil numeric;
begin
    select count(*) into v_negatives from unnest(balances) as b (x) where b.x < 0;
    if v_negatives > 0 then
        raise exception 'calculate_theil_index: % negative balance(s); balances must be >= 0', v_negatives
            using errcode = 'invalid_parameter_value';
    end if;

    with

    holders as (
        select b.x::double precision as x from unnest(balances) as b (x) where b.x > 0
    ),

    totals as (
        select count(*) as n, sum(x) / nullif(count(*), 0) as mu from holders
    )

    select
        case
            when t.n = 0 then null
            else greatest(0, (select sum((h.x / t.mu) * ln(h.x / t.mu)) from holders as h) / t.n)::numeric
        end
    into v_theil
    from totals as t;
    return v_theil;
end
$$;

comment on function calculate_theil_index(numeric[]) is
'Theil T index of the holders'' balances (balances > 0): (1/n) sum((x_i/mu) ln(x_i/mu)), mu = S/n, floored at 0. '
'Negatives raise 22023; NULL without a holder.';

-- USD values: one rule (sol_usd_price_at), whatever arrived first ----------------------------
create or replace function fill_transaction_usd_values(
    p_from timestamptz,
    p_to timestamptz
) returns bigint
language sql
as $$
    with

    priced as (
        select
            tx.signature,
            tx.event_index,
            tx.block_time,
            round(tx.sol_amount * public.sol_usd_price_at(tx.block_time), 2) as sol_amount_usd,
            round(tx.price_per_token * public.sol_usd_price_at(tx.block_time), 20) as price_per_token_usd
        from public.transactions as tx
        where tx.block_time >= p_from
          and tx.block_time < p_to
    ),

    updated as (
        update public.transactions as tx
        set
            sol_amount_usd = priced.sol_amount_usd,
            price_per_token_usd = priced.price_per_token_usd
        from priced
        where tx.signature = priced.signature
          and tx.event_index = priced.event_index
          and tx.block_time = priced.block_time
          and (tx.sol_amount_usd is distinct from priced.sol_amount_usd
               or tx.price_per_token_usd is distinct from priced.price_per_token_usd)
        returning 1
    )

    select count(*) from updated
$$;

comment on function fill_transaction_usd_values(timestamptz, timestamptz) is
'Make the USD values of trades with block_time in [p_from, p_to) follow the rule of sol_usd_price_at (latest price '
'at most 15 minutes old) as the prices now stand: fills missing values and corrects values a closer price has '
'since superseded. Returns the number of trades changed.';

create function megatron.sol_usd_at_times(p_times timestamptz[]) returns table (at_time timestamptz, sol_usd numeric)
language sql stable
as $$
    -- sol_usd_price_at for many times in one sort: every time and every price that may answer
    -- one, in time order (a price before a time of its instant; sources of one instant ascending,
    -- so the one sorting last is the latest); a run is one price and the times it answers
    with

    times as (
        select distinct u.t from unnest(p_times) as u (t) where u.t is not null
    ),

    marks as (
        select tt.t as mark_time, 1 as mark_kind, null::text as source, tt.t as at_time,
            null::timestamptz as price_time, null::numeric as price_usd
        from times as tt
        union all
        select p.price_time, 0, p.source, null, p.price_time, p.price_usd
        from public.sol_usd_prices as p
        where p.price_time >= (select min(tt.t) from times as tt) - interval '15 minutes'
          and p.price_time <= (select max(tt.t) from times as tt)
    ),

    runs as (
        select
            m.*,
            count(m.price_time) over (
                order by m.mark_time, m.mark_kind, m.source rows between unbounded preceding and current row
            ) as run
        from marks as m
    ),

    answered as (
        select
            r.at_time,
            case
                when max(r.price_time) over by_run >= r.at_time - interval '15 minutes'
                    then max(r.price_usd) over by_run
            end as sol_usd
        from runs as r
        window by_run as (partition by r.run)
    )

    select a.at_time, a.sol_usd from answered as a where a.at_time is not null
$$;

comment on function megatron.sol_usd_at_times(timestamptz[]) is
'sol_usd_price_at(t) for every t of the array at once (one sort of the times with the prices that can answer them): '
'the latest SOL/USD price at most 15 minutes before t, ties at one instant to the source sorting last, NULL when none.';

create function megatron.reprice_after_prices(p_price_times timestamptz[]) returns bigint
language plpgsql
set search_path = public, megatron
as $$
declare
    v_from timestamptz;
    v_to timestamptz;
    v_changed bigint;
begin
    select min(t), max(t) + interval '15 minutes' into v_from, v_to from unnest(p_price_times) as u (t);
    if v_from is null then
        return 0;
    end if;

    with

    -- the windows [P, P + 15 min] merged into disjoint ranges (prices every minute make one range)
    windows as (
        select distinct u.t as from_time, u.t + interval '15 minutes' as to_time from unnest(p_price_times) as u (t)
    ),

    islands as (
        select
            w.from_time,
            w.to_time,
            count(*) filter (where w.from_time > w.reach) over (order by w.from_time) as island
        from (
            select
                w0.*,
                max(w0.to_time) over (order by w0.from_time rows between unbounded preceding and 1 preceding) as reach
            from windows as w0
        ) as w
    ),

    ranges as (
        select min(i.from_time) as from_time, max(i.to_time) as to_time from islands as i group by i.island
    ),

    affected as (
        select tx.signature, tx.event_index, tx.block_time, tx.sol_amount, tx.price_per_token
        from ranges as r
        inner join transactions as tx on tx.block_time >= r.from_time and tx.block_time <= r.to_time
        where tx.block_time >= v_from
          and tx.block_time <= v_to
    ),

    priced as (
        select
            a.signature,
            a.event_index,
            a.block_time,
            round(a.sol_amount * u.sol_usd, 2) as sol_amount_usd,
            round(a.price_per_token * u.sol_usd, 20) as price_per_token_usd
        from affected as a
        inner join megatron.sol_usd_at_times(array(select distinct af.block_time from affected as af)) as u
            on u.at_time = a.block_time
    ),

    updated as (
        update transactions as tx set
            sol_amount_usd = p.sol_amount_usd,
            price_per_token_usd = p.price_per_token_usd
        from priced as p
        where tx.signature = p.signature
          and tx.event_index = p.event_index
          and tx.block_time = p.block_time
          and tx.block_time >= v_from
          and tx.block_time <= v_to
          and (tx.sol_amount_usd, tx.price_per_token_usd) is distinct from (p.sol_amount_usd, p.price_per_token_usd)
        returning 1
    )

    select count(*) into v_changed from updated;

    update pools as p set latest_price_usd = round(p.latest_price * sol_usd_price_at(p.state_time), 20)
    where p.state_time >= v_from
      and p.state_time <= v_to
      and p.latest_price_usd is distinct from round(p.latest_price * sol_usd_price_at(p.state_time), 20);

    return v_changed;
end
$$;

comment on function megatron.reprice_after_prices(timestamptz[]) is
'After SOL/USD prices at the given times arrived: recompute the USD values of the trades (and pools'' latest USD '
'price) they can answer, i.e. block_time in [P, P + 15 min], by the rule of sol_usd_price_at. Returns trades changed.';

alter function megatron.curve_progress(numeric, numeric, numeric) owner to megatron_owner;
alter function megatron.check_horizon(regclass, timestamptz) owner to megatron_owner;
alter function curve_state_at(text, timestamptz) owner to megatron_owner;
alter function megatron.selloff_guard(timestamptz) owner to megatron_owner;
alter function megatron.reprice_after_prices(timestamptz[]) owner to megatron_owner;
alter function megatron.sol_usd_at_times(timestamptz[]) owner to megatron_owner;
alter table megatron.retention_horizons owner to megatron_owner;
grant select on megatron.retention_horizons to megatron_ingest, megatron_orchestrator, megatron_analyst;
grant execute on function megatron.reprice_after_prices(timestamptz[]) to megatron_ingest;
