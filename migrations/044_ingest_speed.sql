-- 044_ingest_speed: the loader's SQL half made cheaper without changing what it stores (issue 8,
-- "loader / storage floor must not fall by more than 10 %"). Same tables, same values, whatever
-- the order or batching of the input (tests/test_exact_raw.py); only the work done changes:
--   * the new trades are staged with the columns of transactions (ingest_new_trades is now
--     LIKE transactions), their slot_order is computed before they are stored instead of
--     updating freshly inserted rows; stored trades are updated only when a late trade joins
--     their (pool, slot) group and changes their place;
--   * the loose reserve chain (token reserves only) is walked only for the groups the strict
--     one (token and SOL reserves) could not order, instead of both for every group;
--   * a (token, wallet) pair with no stored trade before the batch (most pairs in a live load)
--     takes its history from the batch instead of re-reading transactions;
--   * the comparison of known trade keys against their stored content runs only when some
--     staged key was not new.

set local search_path = public, megatron;

create or replace function megatron.ingest_prepare() returns void
language plpgsql
set search_path = public, megatron
as $$
begin
    drop table if exists ingest_trades;
    drop table if exists ingest_new_trades;
    drop table if exists ingest_slot_members;
    drop table if exists ingest_slot_orders;
    drop table if exists ingest_token_creates;

    create temp table ingest_token_creates (
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

    create temp table ingest_trades (
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
        tx_index integer,
        curve_sell_supply numeric
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

    -- the batch's new trades with the columns (and so the values) they are stored with
    create temp table ingest_new_trades (
        like transactions,
        mint text not null
    ) on commit delete rows;

    create temp table if not exists ingest_fresh_trade_keys (
        signature text not null,
        event_index integer not null
    ) on commit delete rows;

    -- staged events whose key is stored with other content: the loader rejects them as
    -- conflicting_duplicate, keeping the staged version beside the stored one
    create temp table if not exists ingest_conflicts (
        kind text not null,
        signature text not null,
        event_index integer not null,
        stored text not null
    ) on commit delete rows;

    create temp table ingest_slot_members (
        signature text not null,
        event_index smallint not null,
        token_id uuid not null,
        user_address text not null,
        pool_id uuid not null,
        block_time timestamptz not null,
        slot bigint,
        tx_index integer,
        slot_order integer,
        fresh boolean not null,
        post_vt numeric,
        pre_vt numeric,
        post_vs numeric,
        pre_vs numeric,
        n bigint not null,
        unknown_positions bigint not null,
        unknown_states bigint not null,
        still_trades bigint not null
    ) on commit delete rows;
    create index if not exists ingest_slot_members_state on ingest_slot_members (pool_id, pre_vt);

    -- chains that order a group: the group's trades as 'signature:event_index' in order
    create temp table if not exists ingest_slot_chains (
        pool_id uuid not null,
        block_time timestamptz not null,
        slot bigint,
        path text[] not null
    ) on commit delete rows;

    create temp table ingest_slot_orders (
        signature text not null,
        event_index smallint not null,
        block_time timestamptz not null,
        fresh boolean not null,
        stored integer,
        slot_order integer not null
    ) on commit delete rows;

    -- (token, wallet) pairs of the batch's new trades that have stored trades already
    create temp table if not exists ingest_known_pairs (
        token_id uuid not null,
        wallet text not null
    ) on commit delete rows;

    create temp table if not exists ingest_touched_pairs (
        token_id uuid not null,
        wallet text not null
    ) on commit delete rows;

    -- SOL/USD price times accepted on this connection since the last ingest_reprice_run():
    -- lanes on other connections may have priced trades before those prices were visible
    create temp table if not exists ingest_run_prices (price_time timestamptz not null);
end
$$;

comment on function megatron.ingest_prepare() is
'Create the loader''s session-temporary staging tables (rows vanish at commit). Call once per session before COPY.';

create or replace function megatron.ingest_apply(p_reprice boolean default true)
returns table (kind text, staged bigint, accepted bigint, expiring bigint)
language plpgsql
set search_path = public, megatron
as $$
declare
    v_wsol constant text := 'So11111111111111111111111111111111111111112';
    v_new_prices timestamptz[];
    v_prices bigint;
    v_tokens bigint;
    v_trades bigint;
    v_completes bigint;
    v_migrations bigint;
    v_trade_cutoff timestamptz;
    v_staged_trades bigint;
    v_fresh bigint;
    v_new bigint;
    v_price_cutoff timestamptz;
begin
    select now() - h.drop_after into v_trade_cutoff
    from megatron.hypertable_policies as h where h.hypertable = 'public.transactions'::regclass;
    select now() - h.drop_after into v_price_cutoff
    from megatron.hypertable_policies as h where h.hypertable = 'public.sol_usd_prices'::regclass;

    -- SOL/USD prices; trades already stored that a new price can answer are repriced below.
    with inserted as (
        insert into sol_usd_prices (price_time, price_usd, source, confidence)
        select to_timestamp(p.price_time), p.price_usd, p.source, p.confidence
        from ingest_prices as p
        on conflict do nothing
        returning price_time
    )
    select array_agg(i.price_time), count(*) into v_new_prices, v_prices from inserted as i;
    if v_prices > 0 then
        if p_reprice then
            perform megatron.reprice_after_prices(v_new_prices);
        else
            -- left to ingest_reprice_run() at the end of the load
            insert into ingest_run_prices (price_time) select unnest(v_new_prices);
        end if;
    end if;

    -- Tokens from create events; a token first seen through a trade was stubbed: fill it in.
    with upserted as (
        insert into tokens as t (
            mint_address, symbol, name, decimals, platform, creation_signature,
            creation_timestamp, creation_slot, creator_address, initial_supply, uri
        )
        select distinct on (c.mint)
            c.mint,
            c.symbol,
            c.name,
            c.decimals,
            case when c.program = 'raydium_launchlab' then 'raydium_launchlab' else 'pumpfun' end,
            c.signature,
            to_timestamp(c.block_time),
            nullif(c.slot, 0),
            c.creator,
            coalesce(c.token_total_supply, 1000000000000000),
            c.uri
        from ingest_token_creates as c
        order by c.mint, c.block_time, c.slot, c.signature, c.event_index
        on conflict (mint_address) do update set
            symbol = excluded.symbol,
            name = excluded.name,
            decimals = excluded.decimals,
            platform = excluded.platform,
            creation_signature = excluded.creation_signature,
            creation_timestamp = excluded.creation_timestamp,
            creation_slot = excluded.creation_slot,
            creator_address = excluded.creator_address,
            initial_supply = excluded.initial_supply,
            uri = excluded.uri,
            updated_at = now()
        where t.creation_signature is null
        returning 1
    )
    select count(*) into v_tokens from upserted;

    -- a create for a mint whose stored create says something else (another signature, name, ...)
    insert into ingest_conflicts (kind, signature, event_index, stored)
    select 'token_create', c.signature, c.event_index,
        jsonb_build_object(
            'creation_signature', t.creation_signature, 'name', t.name, 'symbol', t.symbol, 'uri', t.uri,
            'creator', t.creator_address
        )::text
    from ingest_token_creates as c
    inner join tokens as t on t.mint_address = c.mint
    where t.creation_signature is not null
      and (t.creation_signature, t.name, t.symbol, t.uri, t.creator_address)
        is distinct from (c.signature, c.name, c.symbol, c.uri, c.creator);

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
    order by m.mint, m.platform
    on conflict (mint_address) do nothing;

    -- Bonding-curve pools from create events: the create owns the initial values, also when
    -- the pool was first seen through a trade.
    insert into pools as p (
        pool_address, token_id, base_mint, quote_mint, platform, pool_type, bonding_curve_address,
        virtual_sol_reserves, virtual_token_reserves, real_sol_reserves, real_token_reserves,
        bonding_curve_progress, initial_price, initial_base_liquidity, initial_quote_liquidity,
        curve_sell_supply
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
        0,
        round((c.virtual_sol_reserves / 1e9) / nullif(c.virtual_token_reserves / power(10::numeric, c.decimals), 0), 20),
        c.virtual_token_reserves,
        c.virtual_sol_reserves,
        c.real_token_reserves
    from ingest_token_creates as c
    inner join tokens as t on t.mint_address = c.mint
    order by c.bonding_curve, c.block_time, c.slot, c.signature, c.event_index
    on conflict (pool_address) do update set
        bonding_curve_address = excluded.bonding_curve_address,
        initial_price = excluded.initial_price,
        initial_base_liquidity = excluded.initial_base_liquidity,
        initial_quote_liquidity = excluded.initial_quote_liquidity,
        curve_sell_supply = excluded.curve_sell_supply,
        updated_at = now()
    where p.initial_price is distinct from excluded.initial_price
       or p.curve_sell_supply is distinct from excluded.curve_sell_supply;

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
    order by g.pool, g.block_time, g.slot, g.signature, g.event_index
    on conflict (pool_address) do update set
        -- the migration owns what it says of its pool, also when a trade on it arrived first
        quote_mint = excluded.quote_mint,
        platform = excluded.platform,
        pool_type = excluded.pool_type,
        lp_mint = excluded.lp_mint,
        base_vault = excluded.base_vault,
        quote_vault = excluded.quote_vault,
        initial_base_liquidity = excluded.initial_base_liquidity,
        initial_quote_liquidity = excluded.initial_quote_liquidity,
        updated_at = now()
    where (pools.quote_mint, pools.platform, pools.pool_type, pools.lp_mint, pools.base_vault, pools.quote_vault,
           pools.initial_base_liquidity, pools.initial_quote_liquidity)
        is distinct from (excluded.quote_mint, excluded.platform, excluded.pool_type, excluded.lp_mint,
           excluded.base_vault, excluded.quote_vault, excluded.initial_base_liquidity, excluded.initial_quote_liquidity);

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
    order by s.pool, s.block_time, s.slot, s.signature, s.event_index
    on conflict (pool_address) do nothing;

    -- A LaunchLab trade names its curve's sell supply (total_base_sell).
    update pools as p set curve_sell_supply = s.supply
    from (
        select it.pool, max(it.curve_sell_supply) as supply
        from ingest_trades as it
        where it.curve_sell_supply is not null
        group by it.pool
    ) as s
    where p.pool_address = s.pool and p.curve_sell_supply is null;

    -- Trade keys: a trade is inserted only when its (signature, event_index) is new to the whole table.
    select count(*) into v_staged_trades from ingest_trades;
    with fresh as (
        insert into megatron.trade_keys (signature, event_index, block_time)
        select distinct on (s.signature, s.event_index) s.signature, s.event_index, to_timestamp(s.block_time)
        from ingest_trades as s
        order by s.signature, s.event_index, s.block_time
        on conflict do nothing
        returning signature, event_index
    )
    insert into ingest_fresh_trade_keys (signature, event_index)
    select f.signature, f.event_index from fresh as f;
    get diagnostics v_fresh = row_count;

    -- a known key with other content (another block time, mint, side, trader or amounts) conflicts;
    -- the same content again is simply already loaded. Every staged key new: nothing to compare.
    if v_fresh < v_staged_trades then
        insert into ingest_conflicts (kind, signature, event_index, stored)
        select
            'trade',
            s.signature,
            s.event_index,
            coalesce(
                jsonb_build_object(
                    'block_time', k.block_time, 'mint', t.mint_address, 'side', tx.type, 'wallet', tx.user_address,
                    'amount_in', tx.amount_in, 'amount_out', tx.amount_out
                )::text,
                jsonb_build_object('block_time', k.block_time, 'note', 'the trade itself was removed by retention')::text
            )
        from ingest_trades as s
        inner join megatron.trade_keys as k on k.signature = s.signature and k.event_index = s.event_index
        left join transactions as tx
            on tx.signature = k.signature and tx.event_index = k.event_index and tx.block_time = k.block_time
        left join tokens as t on t.id = tx.token_id
        where not exists (
            select 1 from ingest_fresh_trade_keys as f where f.signature = s.signature and f.event_index = s.event_index
        )
          and (
              k.block_time <> to_timestamp(s.block_time)
              or (
                  tx.signature is not null
                  and (t.mint_address, tx.type, tx.user_address, tx.amount_in, tx.amount_out) is distinct from (
                      s.mint, s.side, s.wallet,
                      case when s.side = 'buy' then s.sol_amount else s.token_amount end,
                      case when s.side = 'buy' then s.token_amount else s.sol_amount end
                  )
              )
          );
    end if;

    if v_fresh > 0 then
        -- The new trades as they will be stored (the columns of transactions, so the values are
        -- the stored ones: the holder derivation reads new pairs from here); USD by the rule of
        -- sol_usd_price_at for the whole batch at once.
        insert into ingest_new_trades (
            signature, event_index, pool_id, token_id, block_time, slot, type, user_address,
            amount_in, amount_in_decimals, amount_out, amount_out_decimals,
            sol_amount, token_amount, price_per_token, price_per_token_usd, sol_amount_usd,
            protocol_fee, platform_fee, transaction_fee,
            virtual_sol_reserves, virtual_token_reserves, real_sol_reserves, real_token_reserves,
            tx_index, slot_order, mint
        )
        with

        usd as (
            select u.at_time, u.sol_usd
            from megatron.sol_usd_at_times(array(select distinct to_timestamp(it.block_time) from ingest_trades as it)) as u
        ),

        trades as (
            select
                s.*,
                t.id as token_id,
                t.decimals,
                p.id as pool_id,
                s.sol_amount / 1e9 as sol,
                s.token_amount / power(10::numeric, t.decimals) as tokens,
                round((s.sol_amount / 1e9) / nullif(s.token_amount / power(10::numeric, t.decimals), 0), 20) as price,
                u.sol_usd
            from ingest_trades as s
            inner join tokens as t on t.mint_address = s.mint
            inner join pools as p on p.pool_address = s.pool
            left join usd as u on u.at_time = to_timestamp(s.block_time)
            -- every staged key new (the usual case): no need to look each one up
            where v_fresh = v_staged_trades
               or exists (
                   select 1 from ingest_fresh_trade_keys as f
                   where f.signature = s.signature and f.event_index = s.event_index
               )
        )

        select
            tr.signature,
            tr.event_index,
            tr.pool_id,
            tr.token_id,
            to_timestamp(tr.block_time),
            nullif(tr.slot, 0),
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
            tr.tx_fee,
            tr.virtual_sol_reserves,
            tr.virtual_token_reserves,
            tr.real_sol_reserves,
            tr.real_token_reserves,
            tr.tx_index,
            1,
            tr.mint
        from trades as tr;
        get diagnostics v_new = row_count;
        analyze ingest_new_trades;

        -- pairs that already have stored trades (read before the batch's trades are stored): their
        -- history is re-read from transactions; a pair new to the table has all its trades here
        insert into ingest_known_pairs (token_id, wallet)
        -- (a lateral probe per pair: one index lookup each, never a scan of the chunks)
        select n.token_id, n.user_address
        from (select distinct d.token_id, d.user_address from ingest_new_trades as d) as n
        cross join lateral (
            select 1 as found
            from transactions as tx
            where tx.user_address = n.user_address and tx.token_id = n.token_id
            limit 1
        ) as stored;

        -- slot_order of the new trades (and of stored trades whose group they join), before storing
        perform megatron.order_trades_in_slots();

        perform set_config('megatron.usd_values_from', 'ingest_apply', true);
        insert into transactions (
            signature, event_index, pool_id, token_id, block_time, slot, type, user_address,
            amount_in, amount_in_decimals, amount_out, amount_out_decimals,
            sol_amount, token_amount, price_per_token, price_per_token_usd, sol_amount_usd,
            protocol_fee, platform_fee, transaction_fee,
            virtual_sol_reserves, virtual_token_reserves, real_sol_reserves, real_token_reserves,
            tx_index, slot_order
        )
        select
            n.signature, n.event_index, n.pool_id, n.token_id, n.block_time, n.slot, n.type, n.user_address,
            n.amount_in, n.amount_in_decimals, n.amount_out, n.amount_out_decimals,
            n.sol_amount, n.token_amount, n.price_per_token, n.price_per_token_usd, n.sol_amount_usd,
            n.protocol_fee, n.platform_fee, n.transaction_fee,
            n.virtual_sol_reserves, n.virtual_token_reserves, n.real_sol_reserves, n.real_token_reserves,
            n.tx_index, coalesce(o.slot_order, n.slot_order)
        from ingest_new_trades as n
        left join ingest_slot_orders as o on o.signature = n.signature and o.event_index = n.event_index and o.fresh
        order by n.block_time, n.slot
        on conflict do nothing;
        get diagnostics v_trades = row_count;
        perform set_config('megatron.usd_values_from', '', true);
        if v_trades < v_new then
            -- a key new to trade_keys but stored all the same (a row written around the loader):
            -- what was not stored now is not derived from
            delete from ingest_new_trades as n
            where not exists (
                select 1 from transactions as tx
                where tx.signature = n.signature and tx.event_index = n.event_index and tx.block_time = n.block_time
                  and tx.token_id = n.token_id and tx.user_address = n.user_address
            );
        end if;

        perform megatron.derive_holders();
        perform megatron.queue_milestones();
    else
        v_trades := 0;
    end if;

    -- Graduation facts, then the fields derived from them.
    with stored as (
        insert into graduation_events (
            signature, event_index, kind, token_mint, block_time, slot, bonding_curve, pool_address, platform
        )
        select c.signature, c.event_index, 'curve_complete', c.mint, to_timestamp(c.block_time), nullif(c.slot, 0),
            c.bonding_curve, null, null
        from ingest_curve_completes as c
        on conflict do nothing
        returning 1
    )
    select count(*) into v_completes from stored;

    with stored as (
        insert into graduation_events (
            signature, event_index, kind, token_mint, block_time, slot, bonding_curve, pool_address, platform
        )
        select g.signature, g.event_index, 'migration', g.mint, to_timestamp(g.block_time), nullif(g.slot, 0),
            g.bonding_curve, g.pool, g.platform
        from ingest_migrations as g
        on conflict do nothing
        returning 1
    )
    select count(*) into v_migrations from stored;

    insert into ingest_conflicts (kind, signature, event_index, stored)
    select u.kind, u.signature, u.event_index,
        jsonb_build_object('kind', g.kind, 'mint', g.token_mint, 'block_time', g.block_time)::text
    from (
        select 'curve_complete' as kind, c.signature, c.event_index, c.mint, c.block_time
        from ingest_curve_completes as c
        union all
        select 'migration', m.signature, m.event_index, m.mint, m.block_time
        from ingest_migrations as m
    ) as u
    inner join graduation_events as g on g.signature = u.signature and g.event_index = u.event_index
    where (g.kind, g.token_mint, g.block_time) is distinct from (u.kind, u.mint, to_timestamp(u.block_time));

    perform megatron.derive_pool_state();
    if v_completes + v_migrations > 0 then
        perform megatron.derive_graduations();
    end if;

    return query
    select 'sol_usd_price', (select count(*) from ingest_prices), v_prices,
        (select count(*) from unnest(v_new_prices) as u (t) where u.t < v_price_cutoff)
    union all
    select 'token_create', (select count(*) from ingest_token_creates), v_tokens, 0::bigint
    union all
    select 'trade', (select count(*) from ingest_trades), v_trades,
        (select count(*) from ingest_new_trades as n where n.block_time < v_trade_cutoff)
    union all
    select 'curve_complete', (select count(*) from ingest_curve_completes), v_completes, 0::bigint
    union all
    select 'migration', (select count(*) from ingest_migrations), v_migrations, 0::bigint;
end
$$;

comment on function megatron.ingest_apply(boolean) is
'Move one staged batch into the raw tables: store the new facts, then recompute from the stored facts everything '
'they touch (slot order, holders, pool state, graduation, milestone queue, USD values). Returns staged, accepted and '
'expiring (older than the table''s drop_after) counts per event kind. Idempotent and independent of arrival order. '
'p_reprice false leaves the repricing of stored trades to ingest_reprice_run() (a pipelined loader, whose lanes '
'write trades concurrently, does that once at the end).';

-- slot_order of every (pool, slot) group a new trade joins, before the new trades are stored -------
create or replace function megatron.order_trades_in_slots() returns void
language plpgsql
set search_path = public, megatron
as $$
begin
    -- the trades of every (pool, slot) group a new trade joins that holds more than one trade (a
    -- group of one is ranked 1), in an indexed temporary table for the chain's joins: the new
    -- trades from ingest_new_trades (not stored yet), and the stored trades of groups that are not
    -- newer than their pool's stored state (the pool's latest trade, as it stood before this
    -- batch); a newer group holds new trades only.
    insert into ingest_slot_members
    with

    groups as (
        select
            n.token_id,
            n.pool_id,
            n.block_time,
            n.slot,
            count(*) as new_trades,
            case
                when p.state_time is null and p.latest_price is null then false  -- no trade stored yet
                when n.slot is null or p.state_time is null or p.state_slot is null then true
                else (n.block_time, n.slot) <= (p.state_time, p.state_slot)
            end as late
        from ingest_new_trades as n
        inner join pools as p on p.id = n.pool_id
        group by n.token_id, n.pool_id, n.block_time, n.slot, p.state_time, p.state_slot, p.latest_price
    ),

    candidates as (
        select
            tx.signature, tx.event_index, tx.token_id, tx.user_address, tx.pool_id, tx.block_time, tx.slot,
            tx.tx_index, tx.slot_order, false as fresh, tx.type, tx.amount_in, tx.amount_out, tx.virtual_token_reserves,
            tx.virtual_sol_reserves
        from groups as g
        cross join lateral (
            select s.*
            from transactions as s
            where s.token_id = g.token_id
              and s.block_time = g.block_time
              and s.pool_id = g.pool_id
              and s.slot is not distinct from g.slot
        ) as tx
        where g.late
        union all
        select
            n.signature, n.event_index, n.token_id, n.user_address, n.pool_id, n.block_time, n.slot,
            n.tx_index, 1, true, n.type, n.amount_in, n.amount_out, n.virtual_token_reserves,
            n.virtual_sol_reserves
        from ingest_new_trades as n
        inner join groups as g
            on g.pool_id = n.pool_id and g.block_time = n.block_time and g.slot is not distinct from n.slot
        where g.late or g.new_trades > 1
    ),

    members as (
        select
            c.signature,
            c.event_index,
            c.token_id,
            c.user_address,
            c.pool_id,
            c.block_time,
            c.slot,
            c.tx_index,
            c.slot_order,
            c.fresh,
            c.virtual_token_reserves as post_vt,
            c.virtual_token_reserves + case when c.type = 'buy' then c.amount_out else -c.amount_in end as pre_vt,
            c.virtual_sol_reserves as post_vs,
            c.virtual_sol_reserves - case when c.type = 'buy' then c.amount_in else -c.amount_out end as pre_vs,
            count(*) over grp as n,
            count(*) filter (where c.tx_index is null) over grp as unknown_positions,
            count(*) filter (where c.virtual_token_reserves is null) over grp as unknown_states,
            count(*) filter (where coalesce(c.amount_in, 0) = 0 or coalesce(c.amount_out, 0) = 0) over grp
                as still_trades
        from candidates as c
        window grp as (partition by c.pool_id, c.block_time, c.slot)
    )

    select * from members as m where m.n > 1;

    if not found then
        return;
    end if;

    -- the reserve chain: paths through the group along "state before = previous state after", each
    -- trade at most once. The strict chain compares token and SOL reserves (a round trip by one
    -- wallet returns the tokens but not the last lamport); the loose one token reserves only (AMM
    -- fees can break the SOL side), walked only for the groups the strict one could not order. A
    -- sandwich returns the curve to an earlier state, so a path may start anywhere. Groups with a
    -- zero-amount trade (pre = post) or of more than 64 trades are left to the fallback: their
    -- paths are not unique or too many to walk. A group is ordered by its chain when exactly one
    -- path goes through every trade.
    insert into ingest_slot_chains (pool_id, block_time, slot, path)
    with recursive

    chain (pool_id, block_time, slot, signature, event_index, post_vt, post_vs, depth, n, path) as (
        select
            m.pool_id, m.block_time, m.slot, m.signature, m.event_index, m.post_vt, m.post_vs, 1, m.n,
            array[m.signature || ':' || m.event_index]
        from ingest_slot_members as m
        where m.n <= 64 and m.unknown_positions > 0 and m.unknown_states = 0 and m.still_trades = 0
        union all
        select
            c.pool_id, nx.block_time, nx.slot, nx.signature, nx.event_index, nx.post_vt, nx.post_vs,
            c.depth + 1, c.n, c.path || (nx.signature || ':' || nx.event_index)
        from chain as c
        inner join ingest_slot_members as nx
            on nx.pool_id = c.pool_id and nx.pre_vt = c.post_vt
            and nx.block_time = c.block_time and nx.slot is not distinct from c.slot
            and nx.pre_vs is not distinct from c.post_vs
            and not (nx.signature || ':' || nx.event_index) = any(c.path)
        where c.depth < c.n
    )

    select c.pool_id, c.block_time, c.slot, min(c.path)
    from chain as c
    where c.depth = c.n
    group by c.pool_id, c.block_time, c.slot
    having count(*) = 1;

    insert into ingest_slot_chains (pool_id, block_time, slot, path)
    with recursive

    loose_members as (
        select m.*
        from ingest_slot_members as m
        where m.n <= 64 and m.unknown_positions > 0 and m.unknown_states = 0 and m.still_trades = 0
          and not exists (
              select 1 from ingest_slot_chains as s
              where s.pool_id = m.pool_id and s.block_time = m.block_time and s.slot is not distinct from m.slot
          )
    ),

    chain (pool_id, block_time, slot, signature, event_index, post_vt, depth, n, path) as (
        select
            m.pool_id, m.block_time, m.slot, m.signature, m.event_index, m.post_vt, 1, m.n,
            array[m.signature || ':' || m.event_index]
        from loose_members as m
        union all
        select
            c.pool_id, nx.block_time, nx.slot, nx.signature, nx.event_index, nx.post_vt,
            c.depth + 1, c.n, c.path || (nx.signature || ':' || nx.event_index)
        from chain as c
        inner join ingest_slot_members as nx
            on nx.pool_id = c.pool_id and nx.pre_vt = c.post_vt
            and nx.block_time = c.block_time and nx.slot is not distinct from c.slot
            and not (nx.signature || ':' || nx.event_index) = any(c.path)
        where c.depth < c.n
    )

    select c.pool_id, c.block_time, c.slot, min(c.path)
    from chain as c
    where c.depth = c.n
    group by c.pool_id, c.block_time, c.slot
    having count(*) = 1;

    insert into ingest_slot_orders (signature, event_index, block_time, fresh, stored, slot_order)
    select
        m.signature,
        m.event_index,
        m.block_time,
        m.fresh,
        m.slot_order,
        case
            when m.unknown_positions = 0
                then row_number() over (
                    partition by m.pool_id, m.block_time, m.slot order by m.tx_index, m.event_index, m.signature
                )
            when cg.pool_id is not null then array_position(cg.path, m.signature || ':' || m.event_index)
            else row_number() over (partition by m.pool_id, m.block_time, m.slot order by m.signature, m.event_index)
        end
    from ingest_slot_members as m
    left join ingest_slot_chains as cg
        on cg.pool_id = m.pool_id and cg.block_time = m.block_time and cg.slot is not distinct from m.slot;

    -- a stored trade that changed place changes its wallet's running balances: recompute that pair
    -- too (the new trades take their place from ingest_slot_orders when they are stored)
    if exists (select 1 from ingest_slot_orders as o where not o.fresh and o.stored is distinct from o.slot_order) then
        with reordered as (
            update transactions as tx set slot_order = o.slot_order
            from ingest_slot_orders as o
            where not o.fresh
              and tx.signature = o.signature
              and tx.event_index = o.event_index
              and tx.block_time = o.block_time
              and o.stored is distinct from o.slot_order
            returning tx.token_id, tx.user_address
        )

        insert into ingest_touched_pairs (token_id, wallet)
        select distinct r.token_id, r.user_address from reordered as r;
    end if;
end
$$;

comment on function megatron.order_trades_in_slots() is
'Loader step, before the staged batch''s new trades are stored: their slot_order, and that of the stored trades of '
'every (pool, slot) group they join (tx_index when all are known, else the reserve chain, strict then loose, else '
'signature and event_index).';

create or replace function megatron.derive_holders() returns void
language plpgsql
set search_path = public, megatron
as $$
begin
    create temp table if not exists ingest_pair_history (
        mint text not null,
        wallet text not null,
        signature text not null,
        event_index smallint not null,
        block_time timestamptz not null,
        side text not null,
        token_amount numeric not null,
        sol_amount numeric not null,
        before numeric not null,
        after numeric not null,
        seq bigint not null
    ) on commit delete rows;

    insert into ingest_pair_history
    with

    known as (
        select k.token_id, k.wallet from ingest_known_pairs as k
        union
        select p.token_id, p.wallet from ingest_touched_pairs as p
    ),

    history as (
        -- pairs with trades stored before this batch (or reordered by it): all of their trades
        select
            t.mint_address as mint,
            k.wallet,
            tx.signature,
            tx.event_index,
            tx.block_time,
            tx.type as side,
            tx.token_amount,
            tx.sol_amount,
            case when tx.type = 'buy' then tx.token_amount else -tx.token_amount end as delta,
            tx.slot,
            tx.slot_order
        from known as k
        inner join tokens as t on t.id = k.token_id
        -- lateral: the pair's trades through the (user_address, token_id) index, not a scan of the chunks
        cross join lateral (
            select
                s.signature, s.event_index, s.block_time, s.type, s.token_amount, s.sol_amount, s.slot, s.slot_order
            from transactions as s
            where s.user_address = k.wallet and s.token_id = k.token_id and s.type in ('buy', 'sell')
        ) as tx
        union all
        -- pairs new to the table: all of their trades are in the batch
        select
            n.mint,
            n.user_address,
            n.signature,
            n.event_index,
            n.block_time,
            n.type,
            n.token_amount,
            n.sol_amount,
            case when n.type = 'buy' then n.token_amount else -n.token_amount end,
            n.slot,
            coalesce(o.slot_order, n.slot_order)
        from ingest_new_trades as n
        left join ingest_slot_orders as o on o.signature = n.signature and o.event_index = n.event_index and o.fresh
        where n.type in ('buy', 'sell')
          and not exists (select 1 from known as k where k.token_id = n.token_id and k.wallet = n.user_address)
    )

    select
        h.mint,
        h.wallet,
        h.signature,
        h.event_index,
        h.block_time,
        h.side,
        h.token_amount,
        h.sol_amount,
        coalesce(z.balance, 0) + sum(h.delta) over w - h.delta,
        coalesce(z.balance, 0) + sum(h.delta) over w,
        row_number() over w
    from history as h
    left join megatron.holder_horizon as z on z.token_mint = h.mint and z.wallet_address = h.wallet
    window w as (
        partition by h.mint, h.wallet
        order by h.block_time, h.slot nulls last, h.slot_order, h.signature, h.event_index
    );

    insert into holder_updates as u (
        token_mint, update_time, update_type, wallet_address, old_balance, new_balance, balance_change,
        processed, signature, event_index
    )
    select
        h.mint,
        h.block_time,
        case
            when h.before <= 0 and h.after > 0 then 'new_holder'
            when h.before > 0 and h.after <= 0 then 'holder_exit'
            else 'balance_change'
        end,
        h.wallet,
        greatest(h.before, 0),
        greatest(h.after, 0),
        h.after - h.before,
        true,
        h.signature,
        h.event_index
    from ingest_pair_history as h
    on conflict (signature collate "C", event_index) where signature is not null do update set
        update_type = excluded.update_type,
        old_balance = excluded.old_balance,
        new_balance = excluded.new_balance,
        balance_change = excluded.balance_change
    where (u.update_type, u.old_balance, u.new_balance, u.balance_change)
        is distinct from (excluded.update_type, excluded.old_balance, excluded.new_balance, excluded.balance_change);

    insert into token_holders as th (
        token_mint, wallet_address, current_balance, initial_balance, peak_balance,
        first_transaction_time, last_transaction_time, total_bought, total_sold, transaction_count,
        avg_buy_price, avg_sell_price, last_updated
    )
    select
        a.mint,
        a.wallet,
        greatest(coalesce(z.balance, 0) + a.bought - a.sold, 0),
        greatest(coalesce(z.initial_balance, a.first_after), 0),
        greatest(coalesce(z.peak_balance, 0), a.peak, 0),
        coalesce(z.first_time, a.first_time),
        a.last_time,
        coalesce(z.bought, 0) + a.bought,
        coalesce(z.sold, 0) + a.sold,
        coalesce(z.trades, 0) + a.trades,
        (coalesce(z.buy_sol, 0) + a.buy_sol) / nullif(coalesce(z.bought, 0) + a.bought, 0),
        (coalesce(z.sell_sol, 0) + a.sell_sol) / nullif(coalesce(z.sold, 0) + a.sold, 0),
        now()
    from (
        select
            h.mint,
            h.wallet,
            coalesce(sum(h.token_amount) filter (where h.side = 'buy'), 0) as bought,
            coalesce(sum(h.token_amount) filter (where h.side = 'sell'), 0) as sold,
            coalesce(sum(h.sol_amount) filter (where h.side = 'buy'), 0) as buy_sol,
            coalesce(sum(h.sol_amount) filter (where h.side = 'sell'), 0) as sell_sol,
            min(h.block_time) as first_time,
            max(h.block_time) as last_time,
            count(*) as trades,
            min(h.after) filter (where h.seq = 1) as first_after,
            max(h.after) as peak
        from ingest_pair_history as h
        group by h.mint, h.wallet
    ) as a
    left join megatron.holder_horizon as z on z.token_mint = a.mint and z.wallet_address = a.wallet
    on conflict (token_mint, wallet_address) do update set
        current_balance = excluded.current_balance,
        initial_balance = excluded.initial_balance,
        peak_balance = excluded.peak_balance,
        first_transaction_time = excluded.first_transaction_time,
        last_transaction_time = excluded.last_transaction_time,
        total_bought = excluded.total_bought,
        total_sold = excluded.total_sold,
        transaction_count = excluded.transaction_count,
        avg_buy_price = excluded.avg_buy_price,
        avg_sell_price = excluded.avg_sell_price,
        last_updated = now();
end
$$;

comment on function megatron.derive_holders() is
'Loader step: for every (token, wallet) pair with a new trade, recompute its holder_updates rows and its token_holders '
'row from all of its trades in the event order (and what retention left in megatron.holder_horizon); a pair with no '
'trade stored before the batch reads its trades from the batch.';

alter function megatron.ingest_prepare() owner to megatron_owner;
alter function megatron.ingest_apply(boolean) owner to megatron_owner;
alter function megatron.order_trades_in_slots() owner to megatron_owner;
alter function megatron.derive_holders() owner to megatron_owner;

-- pools: state of the latest trade; from the batch when it is newer than the stored state ----------
create or replace function megatron.derive_pool_state() returns void
language plpgsql
set search_path = public, megatron
as $$
begin
    with

    affected as (
        select distinct n.pool_id from ingest_new_trades as n
        union
        select p.id from pools as p inner join ingest_token_creates as c on c.bonding_curve = p.pool_address
    ),

    -- each pool's latest new trade in the event order
    batch_latest as (
        select distinct on (n.pool_id)
            n.pool_id,
            n.token_id,
            n.block_time,
            n.slot,
            n.price_per_token,
            n.virtual_sol_reserves,
            n.virtual_token_reserves,
            n.real_sol_reserves,
            n.real_token_reserves
        from ingest_new_trades as n
        left join ingest_slot_orders as o on o.signature = n.signature and o.event_index = n.event_index and o.fresh
        where n.type in ('buy', 'sell')
        order by n.pool_id, n.block_time desc, n.slot desc nulls last, coalesce(o.slot_order, n.slot_order) desc,
            n.signature desc, n.event_index desc
    ),

    latest as (
        select
            p.id,
            p.pool_type,
            p.curve_sell_supply,
            p.initial_base_liquidity,
            p.initial_quote_liquidity,
            p.initial_price,
            coalesce(b.block_time, lt.block_time) as block_time,
            case when b.pool_id is not null then b.slot else lt.slot end as slot,
            case when b.pool_id is not null then b.price_per_token else lt.price_per_token end as price_per_token,
            case when b.pool_id is not null then b.virtual_sol_reserves else lt.virtual_sol_reserves end
                as virtual_sol_reserves,
            case when b.pool_id is not null then b.virtual_token_reserves else lt.virtual_token_reserves end
                as virtual_token_reserves,
            case when b.pool_id is not null then b.real_sol_reserves else lt.real_sol_reserves end
                as real_sol_reserves,
            case when b.pool_id is not null then b.real_token_reserves else lt.real_token_reserves end
                as real_token_reserves
        from affected as a
        inner join pools as p on p.id = a.pool_id
        -- the batch's latest trade is the pool's latest when the pool had no trade before, or when
        -- it comes after the stored state's (block time, slot): no stored trade can follow it
        left join batch_latest as b
            on b.pool_id = p.id
            and b.token_id = p.token_id
            and (
                (p.state_time is null and p.latest_price is null)
                or (b.slot is not null and p.state_slot is not null and (b.block_time, b.slot) > (p.state_time, p.state_slot))
            )
        left join lateral (
            select tx.*
            from transactions as tx
            where b.pool_id is null
              and tx.token_id = p.token_id and tx.pool_id = p.id and tx.type in ('buy', 'sell')
            order by tx.block_time desc, tx.slot desc nulls last, tx.slot_order desc, tx.signature desc,
                tx.event_index desc
            limit 1
        ) as lt on true
    )

    update pools as p set
        virtual_sol_reserves = case when l.block_time is null then l.initial_quote_liquidity else l.virtual_sol_reserves end,
        virtual_token_reserves = case when l.block_time is null then l.initial_base_liquidity else l.virtual_token_reserves end,
        real_sol_reserves = case when l.block_time is null then 0 else l.real_sol_reserves end,
        real_token_reserves = case when l.block_time is null then l.curve_sell_supply else l.real_token_reserves end,
        bonding_curve_progress = case
            when l.pool_type <> 'initial' then p.bonding_curve_progress
            when exists (select 1 from graduation_events as g where g.token_mint = p.base_mint) then 100
            when l.block_time is null then 0
            else round(megatron.curve_progress(l.real_token_reserves, l.virtual_token_reserves, l.curve_sell_supply), 2)
        end,
        latest_price = l.price_per_token,
        latest_price_usd = round(l.price_per_token * sol_usd_price_at(l.block_time), 20),
        state_slot = l.slot,
        state_time = l.block_time,
        updated_at = now()
    from latest as l
    where p.id = l.id;
end
$$;

comment on function megatron.derive_pool_state() is
'Loader step: reserves, progress, latest price (SOL and USD by the 15-minute rule) of every pool with a new trade or '
'create, from its latest trade in the event order (the create''s initial values while it has none); taken from the '
'batch when it is newer than the stored state, else looked up.';

alter function megatron.derive_pool_state() owner to megatron_owner;
