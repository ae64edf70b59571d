-- 031_ingest_functions: the loader's set-based half. Python COPYs a batch of canonical events
-- into session-temporary staging tables made by megatron.ingest_prepare(); one call of
-- megatron.ingest_apply() then upserts tokens, pools, transactions, token_holders,
-- holder_updates and sol_usd_prices, and returns per-kind staged/accepted counts.
-- Trades of one slot are ordered by their arrival (ingest_trades.ordinal), as producers emit
-- them. Re-applying the same events changes nothing (every insert is keyed; every counter is fed
-- only by rows that were actually inserted).

create function megatron.curve_progress(p_virtual_token_reserves numeric) returns numeric
language sql immutable strict parallel safe
as $$
    select round(least(100, greatest(0,
        (1073000000 - p_virtual_token_reserves / 1e6) / 793100000 * 100
    )), 2)
$$;

comment on function megatron.curve_progress(numeric) is
'pump.fun bonding-curve progress in percent from virtual token reserves (raw units): (1,073,000,000 -'
' vt/1e6) / 793,100,000 * 100, clamped 0..100.';

create function megatron.ingest_prepare() returns void
language plpgsql
set search_path = public, megatron
as $$
begin
    create temp table if not exists ingest_token_creates (
        signature text not null,
        slot bigint not null,
        block_time bigint not null,
        event_index integer not null,
        program text not null,
        mint text not null,
        name text,
        symbol text,
        uri text,
        creator text not null,
        bonding_curve text not null,
        decimals integer not null,
        quote_mint text,
        virtual_sol_reserves numeric,
        virtual_token_reserves numeric,
        real_token_reserves numeric,
        token_total_supply numeric
    ) on commit delete rows;

    create temp table if not exists ingest_trades (
        signature text not null,
        slot bigint not null,
        block_time bigint not null,
        event_index integer not null,
        program text not null,
        mint text not null,
        pool text not null,
        side text not null,
        wallet text not null,
        sol_amount numeric not null,
        token_amount numeric not null,
        virtual_sol_reserves numeric,
        virtual_token_reserves numeric,
        real_sol_reserves numeric,
        real_token_reserves numeric,
        fee numeric,
        creator_fee numeric,
        tx_fee bigint,
        ordinal integer not null  -- arrival order in the batch: orders trades of one slot
    ) on commit delete rows;

    create temp table if not exists ingest_curve_completes (
        signature text not null,
        slot bigint not null,
        block_time bigint not null,
        event_index integer not null,
        program text not null,
        mint text not null,
        bonding_curve text not null,
        wallet text not null
    ) on commit delete rows;

    create temp table if not exists ingest_migrations (
        signature text not null,
        slot bigint not null,
        block_time bigint not null,
        event_index integer not null,
        program text not null,
        mint text not null,
        pool text not null,
        platform text not null,
        bonding_curve text,
        quote_mint text,
        lp_mint text,
        base_vault text,
        quote_vault text,
        sol_amount numeric,
        token_amount numeric
    ) on commit delete rows;

    create temp table if not exists ingest_prices (
        price_time bigint not null,
        price_usd numeric not null,
        source text not null,
        confidence numeric
    ) on commit delete rows;

    create temp table if not exists ingest_new_trades (
        signature text not null,
        event_index integer not null,
        slot bigint not null,
        block_time timestamptz not null,
        token_id uuid not null,
        mint text not null,
        wallet text not null,
        side text not null,
        token_amount numeric not null,
        sol_amount numeric not null,
        ordinal integer not null
    ) on commit delete rows;
end
$$;

comment on function megatron.ingest_prepare() is
'Create the loader''s session-temporary staging tables (rows vanish at commit). Call once per session before COPY.';

create function megatron.ingest_apply() returns table (kind text, staged bigint, accepted bigint)
language plpgsql
set search_path = public, megatron
as $$
declare
    v_wsol constant text := 'So11111111111111111111111111111111111111112';
    v_prices bigint;
    v_tokens bigint;
    v_trades bigint;
    v_completes bigint;
    v_migrations bigint;
begin
    -- SOL/USD prices first, so the USD trigger on transactions can see them.
    insert into sol_usd_prices (price_time, price_usd, source, confidence)
    select to_timestamp(p.price_time), p.price_usd, p.source, p.confidence
    from ingest_prices as p
    on conflict do nothing;
    get diagnostics v_prices = row_count;

    -- Tokens from create events; a token first seen through a trade was stubbed: fill it in.
    with upserted as (
        insert into tokens as t (
            mint_address, symbol, name, decimals, platform, creation_signature,
            creation_timestamp, creator_address, initial_supply, uri
        )
        select distinct on (c.mint)
            c.mint,
            c.symbol,
            c.name,
            c.decimals,
            case when c.program = 'raydium_launchlab' then 'raydium_launchlab' else 'pumpfun' end,
            c.signature,
            to_timestamp(c.block_time),
            c.creator,
            coalesce(c.token_total_supply, 1000000000000000),
            c.uri
        from ingest_token_creates as c
        order by c.mint, c.slot, c.signature, c.event_index
        on conflict (mint_address) do update set
            symbol = excluded.symbol,
            name = excluded.name,
            decimals = excluded.decimals,
            platform = excluded.platform,
            creation_signature = excluded.creation_signature,
            creation_timestamp = excluded.creation_timestamp,
            creator_address = excluded.creator_address,
            initial_supply = excluded.initial_supply,
            uri = excluded.uri,
            updated_at = now()
        where t.creation_signature is null
        returning 1
    )
    select count(*) into v_tokens from upserted;

    -- Stub tokens for mints seen only through trades, completions or migrations.
    insert into tokens (mint_address, platform, decimals)
    select distinct on (m.mint) m.mint, m.platform, 6
    from (
        select s.mint, case when s.program = 'raydium_launchlab' then 'raydium_launchlab' else 'pumpfun' end as platform
        from ingest_trades as s
        union all
        select c.mint, 'pumpfun' from ingest_curve_completes as c
        union all
        select g.mint, 'pumpfun' from ingest_migrations as g
    ) as m
    where not exists (select 1 from tokens as k where k.mint_address = m.mint)
    on conflict (mint_address) do nothing;

    -- Bonding-curve pools from create events.
    insert into pools (
        pool_address, token_id, base_mint, quote_mint, platform, pool_type, bonding_curve_address,
        virtual_sol_reserves, virtual_token_reserves, real_sol_reserves, real_token_reserves,
        bonding_curve_progress, initial_price, initial_base_liquidity, initial_quote_liquidity,
        state_slot
    )
    select distinct on (c.bonding_curve)
        c.bonding_curve,
        t.id,
        c.mint,
        coalesce(c.quote_mint, v_wsol),
        t.platform,
        'initial',
        c.bonding_curve,
        c.virtual_sol_reserves,
        c.virtual_token_reserves,
        0,
        c.real_token_reserves,
        megatron.curve_progress(c.virtual_token_reserves),
        (c.virtual_sol_reserves / 1e9) / nullif(c.virtual_token_reserves / power(10::numeric, c.decimals), 0),
        c.virtual_token_reserves,
        c.virtual_sol_reserves,
        null
    from ingest_token_creates as c
    inner join tokens as t on t.mint_address = c.mint
    order by c.bonding_curve, c.slot, c.event_index
    on conflict (pool_address) do nothing;

    -- Graduated pools from migrations (before pools seen through trades: the AMM pool's trades
    -- may be in the same batch).
    insert into pools (
        pool_address, token_id, base_mint, quote_mint, platform, pool_type, lp_mint, base_vault,
        quote_vault, initial_base_liquidity, initial_quote_liquidity
    )
    select distinct on (g.pool)
        g.pool, t.id, g.mint, coalesce(g.quote_mint, v_wsol), g.platform, 'graduated',
        g.lp_mint, g.base_vault, g.quote_vault, g.token_amount, g.sol_amount
    from ingest_migrations as g
    inner join tokens as t on t.mint_address = g.mint
    order by g.pool, g.slot, g.event_index
    on conflict (pool_address) do nothing;

    -- Pools seen first through trades (bonding curves of older tokens, AMM pools).
    insert into pools (pool_address, token_id, base_mint, quote_mint, platform, pool_type, bonding_curve_address)
    select distinct on (s.pool)
        s.pool,
        t.id,
        s.mint,
        v_wsol,
        s.program,
        case when s.program = 'pumpswap' then 'graduated' else 'initial' end,
        case when s.program = 'pumpswap' then null else s.pool end
    from ingest_trades as s
    inner join tokens as t on t.mint_address = s.mint
    where not exists (select 1 from pools as k where k.pool_address = s.pool)
    order by s.pool, s.slot, s.event_index
    on conflict (pool_address) do nothing;

    -- Trades. Only rows that are really new feed the holder bookkeeping below.
    --
    -- USD values follow the rule of the insert trigger (sol_usd_price_at: the latest SOL/USD
    -- price at most 15 minutes before block_time, ties at one instant to the source sorting
    -- last, NULL when none), computed here for the whole batch by one sort of trade times and
    -- prices instead of a trigger call per row; the setting makes the trigger stand aside for
    -- this statement only (025_usd_trigger).
    perform set_config('megatron.usd_values_from', 'ingest_apply', true);
    with

    trade_times as (
        select distinct s.block_time from ingest_trades as s
    ),

    -- every trade time and every price that may answer one; a price sorts before a trade at
    -- the same instant (price_time <= block_time), and sources of one instant sort ascending
    -- so that the one sorting last is the latest price before the trades that follow
    marks as (
        select
            to_timestamp(tt.block_time) as mark_time,
            1 as mark_kind,
            null::text as source,
            tt.block_time,
            null::timestamptz as price_time,
            null::numeric as price_usd
        from trade_times as tt
        union all
        select
            p.price_time,
            0,
            p.source,
            null,
            p.price_time,
            p.price_usd
        from sol_usd_prices as p
        where p.price_time >= (select to_timestamp(min(tt.block_time)) from trade_times as tt) - interval '15 minutes'
          and p.price_time <= (select to_timestamp(max(tt.block_time)) from trade_times as tt)
    ),

    -- a run is one price followed by the trade times it is the latest price for
    runs as (
        select
            m.*,
            count(m.price_time) over (
                order by m.mark_time, m.mark_kind, m.source rows between unbounded preceding and current row
            ) as run
        from marks as m
    ),

    usd as (
        select
            r.block_time,  -- null on price rows, so only trade times join below
            case
                when max(r.price_time) over by_run >= to_timestamp(r.block_time) - interval '15 minutes'
                    then max(r.price_usd) over by_run
            end as sol_usd
        from runs as r
        window by_run as (partition by r.run)
    ),

    trades as (
        select
            s.*,
            t.id as token_id,
            t.decimals,
            p.id as pool_id,
            s.sol_amount / 1e9 as sol,
            s.token_amount / power(10::numeric, t.decimals) as tokens,
            -- rounded to the column's scale, as the trigger sees it
            round((s.sol_amount / 1e9) / nullif(s.token_amount / power(10::numeric, t.decimals), 0), 20) as price,
            u.sol_usd
        from ingest_trades as s
        inner join tokens as t on t.mint_address = s.mint
        inner join pools as p on p.pool_address = s.pool
        left join usd as u on u.block_time = s.block_time
    ),

    inserted as (
        insert into transactions (
            signature, event_index, pool_id, token_id, block_time, slot, type, user_address,
            amount_in, amount_in_decimals, amount_out, amount_out_decimals,
            sol_amount, token_amount, price_per_token, price_per_token_usd, sol_amount_usd,
            protocol_fee, platform_fee, transaction_fee
        )
        select
            tr.signature,
            tr.event_index,
            tr.pool_id,
            tr.token_id,
            to_timestamp(tr.block_time),
            tr.slot,
            tr.side,
            tr.wallet,
            case when tr.side = 'buy' then tr.sol_amount else tr.token_amount end,
            case when tr.side = 'buy' then 9 else tr.decimals end,
            case when tr.side = 'buy' then tr.token_amount else tr.sol_amount end,
            case when tr.side = 'buy' then tr.decimals else 9 end,
            tr.sol,
            tr.tokens,
            tr.price,
            round(tr.price * tr.sol_usd, 20),
            round(tr.sol * tr.sol_usd, 2),
            tr.fee,
            tr.creator_fee,
            tr.tx_fee
        from trades as tr
        order by tr.block_time, tr.slot
        on conflict do nothing
        returning signature, event_index, slot, block_time, token_id, user_address, type, token_amount, sol_amount
    )

    insert into ingest_new_trades (
        signature, event_index, slot, block_time, token_id, mint, wallet, side, token_amount, sol_amount, ordinal
    )
    select
        i.signature, i.event_index, i.slot, i.block_time, i.token_id, s.mint, i.user_address,
        i.type, i.token_amount, i.sol_amount, s.ordinal
    from inserted as i
    inner join ingest_trades as s on s.signature = i.signature and s.event_index = i.event_index;
    get diagnostics v_trades = row_count;
    perform set_config('megatron.usd_values_from', '', true);

    -- One holder_updates row per new trade: balance before and after, in trade order. It is
    -- applied to token_holders just below, in the same transaction, so it is born processed.
    insert into holder_updates (
        token_mint, update_time, update_type, wallet_address, old_balance, new_balance, balance_change,
        processed
    )
    select
        r.mint,
        r.block_time,
        case
            when r.before <= 0 and r.after > 0 then 'new_holder'
            when r.before > 0 and r.after <= 0 then 'holder_exit'
            else 'balance_change'
        end,
        r.wallet,
        greatest(r.before, 0),
        greatest(r.after, 0),
        r.delta,
        true
    from (
        select
            n.mint,
            n.block_time,
            n.wallet,
            n.delta,
            coalesce(h.total_bought - h.total_sold, 0)
                + sum(n.delta) over w - n.delta as before,
            coalesce(h.total_bought - h.total_sold, 0) + sum(n.delta) over w as after
        from (
            select
                nt.*,
                case when nt.side = 'buy' then nt.token_amount else -nt.token_amount end as delta
            from ingest_new_trades as nt
        ) as n
        left join token_holders as h on h.token_mint = n.mint and h.wallet_address = n.wallet
        window w as (partition by n.mint, n.wallet order by n.slot, n.ordinal)
    ) as r;

    -- token_holders: totals are sums, so the result does not depend on batch order.
    insert into token_holders as h (
        token_mint, wallet_address, current_balance, initial_balance, peak_balance,
        first_transaction_time, last_transaction_time, total_bought, total_sold, transaction_count,
        avg_buy_price, avg_sell_price, last_updated
    )
    select
        a.mint,
        a.wallet,
        greatest(a.bought - a.sold, 0),
        a.first_delta,
        greatest(a.peak, 0),
        a.first_time,
        a.last_time,
        a.bought,
        a.sold,
        a.trades,
        a.buy_sol / nullif(a.bought, 0),
        a.sell_sol / nullif(a.sold, 0),
        now()
    from (
        select
            n.mint,
            n.wallet,
            sum(n.token_amount) filter (where n.side = 'buy') as bought_raw,
            coalesce(sum(n.token_amount) filter (where n.side = 'buy'), 0) as bought,
            coalesce(sum(n.token_amount) filter (where n.side = 'sell'), 0) as sold,
            coalesce(sum(n.sol_amount) filter (where n.side = 'buy'), 0) as buy_sol,
            coalesce(sum(n.sol_amount) filter (where n.side = 'sell'), 0) as sell_sol,
            min(n.block_time) as first_time,
            max(n.block_time) as last_time,
            count(*) as trades,
            (array_agg(case when n.side = 'buy' then n.token_amount else -n.token_amount end
                order by n.slot, n.ordinal))[1] as first_delta,
            max(n.running) as peak
        from (
            select
                nt.*,
                sum(case when nt.side = 'buy' then nt.token_amount else -nt.token_amount end)
                    over (partition by nt.mint, nt.wallet order by nt.slot, nt.ordinal) as running
            from ingest_new_trades as nt
        ) as n
        group by n.mint, n.wallet
    ) as a
    on conflict (token_mint, wallet_address) do update set
        total_bought = h.total_bought + excluded.total_bought,
        total_sold = h.total_sold + excluded.total_sold,
        current_balance = greatest(h.total_bought + excluded.total_bought - h.total_sold - excluded.total_sold, 0),
        peak_balance = greatest(h.peak_balance, h.total_bought - h.total_sold + excluded.peak_balance),
        first_transaction_time = least(h.first_transaction_time, excluded.first_transaction_time),
        last_transaction_time = greatest(h.last_transaction_time, excluded.last_transaction_time),
        transaction_count = h.transaction_count + excluded.transaction_count,
        avg_buy_price = (
            coalesce(h.avg_buy_price * h.total_bought, 0) + coalesce(excluded.avg_buy_price * excluded.total_bought, 0)
        )
            / nullif(h.total_bought + excluded.total_bought, 0),
        avg_sell_price = (
            coalesce(h.avg_sell_price * h.total_sold, 0) + coalesce(excluded.avg_sell_price * excluded.total_sold, 0)
        )
            / nullif(h.total_sold + excluded.total_sold, 0),
        last_updated = now();

    -- Pools: reserves, progress and price from each pool's latest trade, if newer than what is stored.
    update pools as p set
        virtual_sol_reserves = coalesce(l.virtual_sol_reserves, p.virtual_sol_reserves),
        virtual_token_reserves = coalesce(l.virtual_token_reserves, p.virtual_token_reserves),
        real_sol_reserves = coalesce(l.real_sol_reserves, p.real_sol_reserves),
        real_token_reserves = coalesce(l.real_token_reserves, p.real_token_reserves),
        bonding_curve_progress = case
            when p.pool_type = 'initial' and l.virtual_token_reserves is not null
                then megatron.curve_progress(l.virtual_token_reserves)
            else p.bonding_curve_progress
        end,
        latest_price = l.price,
        latest_price_usd = l.price * (
            select u.price_usd from sol_usd_prices as u
            where u.price_time <= to_timestamp(l.block_time)
            order by u.price_time desc limit 1
        ),
        state_slot = l.slot,
        updated_at = now()
    from (
        select distinct on (s.pool)
            s.pool,
            s.slot,
            s.block_time,
            s.virtual_sol_reserves,
            s.virtual_token_reserves,
            s.real_sol_reserves,
            s.real_token_reserves,
            (s.sol_amount / 1e9) / nullif(s.token_amount / 1e6, 0) as price
        from ingest_trades as s
        order by s.pool, s.slot desc, s.ordinal desc
    ) as l
    where p.pool_address = l.pool
      and (p.state_slot is null or l.slot >= p.state_slot);

    -- Curve completions: the bonding curve is done; the token graduates at that block time.
    with done as (
        update tokens as t set
            is_graduated = true,
            graduation_timestamp = to_timestamp(c.block_time),
            graduation_signature = c.signature,
            updated_at = now()
        from (
            select distinct on (cc.mint) cc.*
            from ingest_curve_completes as cc
            order by cc.mint, cc.slot, cc.event_index
        ) as c
        where t.mint_address = c.mint and t.graduation_signature is null
        returning 1
    )
    select count(*) into v_completes from done;

    update pools as p set status = 'complete', bonding_curve_progress = 100, updated_at = now()
    from ingest_curve_completes as c
    where p.pool_address = c.bonding_curve and p.status = 'active';

    -- Migrations: record where the token went; its curve is closed.
    with moved as (
        update tokens as t set
            is_graduated = true,
            graduation_timestamp = coalesce(t.graduation_timestamp, to_timestamp(g.block_time)),
            graduation_signature = coalesce(t.graduation_signature, g.signature),
            graduation_platform = g.platform,
            updated_at = now()
        from (
            select distinct on (m.mint) m.*
            from ingest_migrations as m
            order by m.mint, m.slot, m.event_index
        ) as g
        where t.mint_address = g.mint and t.graduation_platform is distinct from g.platform
        returning 1
    )
    select count(*) into v_migrations from moved;

    update pools as p set status = 'graduated', bonding_curve_progress = 100, updated_at = now()
    from ingest_migrations as g
    where p.token_id = (select t.id from tokens as t where t.mint_address = g.mint)
      and p.pool_type = 'initial' and p.status <> 'graduated';

    return query
    select 'sol_usd_price', (select count(*) from ingest_prices), v_prices
    union all
    select 'token_create', (select count(*) from ingest_token_creates), v_tokens
    union all
    select 'trade', (select count(*) from ingest_trades), v_trades
    union all
    select 'curve_complete', (select count(*) from ingest_curve_completes), v_completes
    union all
    select 'migration', (select count(*) from ingest_migrations), v_migrations;
end
$$;

comment on function megatron.ingest_apply() is
'Move one staged batch into the raw tables with set-based upserts; returns staged and accepted counts'
' per event kind. Idempotent.';

alter function megatron.curve_progress(numeric) owner to megatron_owner;
alter function megatron.ingest_prepare() owner to megatron_owner;
alter function megatron.ingest_apply() owner to megatron_owner;
grant execute on function megatron.ingest_prepare(), megatron.ingest_apply() to megatron_ingest;
