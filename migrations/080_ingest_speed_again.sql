-- 080_ingest_speed_again: the loader's SQL half made cheaper again without changing what it stores
-- (issue 8, "loader / storage floor must not fall by more than 10 %"; docs/schema-decisions.md #114-#119,
-- docs/benchmarks.md "Loader speed, round 2"). Same tables, same values, whatever the order or
-- batching of the input (tests/test_exact_raw.py):
--   * ingest_prepare(): the batch's new trades (ingest_new_trades) keep planner statistics only for
--     the columns the loader's statements join, group or filter on, from a small sample; its
--     per-batch ANALYZE was a tenth of ingest_apply()'s time;
--   * no JIT compilation in the loader's functions (jit = off on ingest_apply and
--     ingest_reprice_run, so on every step they call): the pool-state statement crossed
--     jit_above_cost through its lateral lookup into transactions and spent 0.1-0.2 s compiling
--     on every batch, also on the price-only batches that update nothing;
--   * ingest_apply(): sol, tokens and price computed once per trade (not once per column that
--     uses them); the trade keys sorted in byte order, the order of their index;
--   * ingest_settle_run_prices(): a pipelined load reprices at its end only the prices some trade
--     can have missed: one stored before the load, or handed to a lane before the price was
--     committed (it repriced every trade of the load, 1.5 s of a 23 s load of 97,307 events).

set local search_path = public, megatron;

create or replace function megatron.ingest_prepare() returns void
language plpgsql
set search_path = public, megatron
as $$
declare
    v_columns text;
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

    -- ingest_apply() analyzes ingest_new_trades once per batch so the statements after it are
    -- planned for its real size. Statistics are kept only for the columns those statements join,
    -- group or filter on, from a small sample: ANALYZE of all 28 columns at the default target
    -- (30,000 sampled rows, histograms of every numeric) cost 0.3-0.4 s per 25,000-event batch.
    select string_agg(
        format(
            'alter column %I set statistics %s', a.attname,
            case
                when a.attname in (
                    'signature', 'event_index', 'token_id', 'pool_id', 'user_address', 'block_time', 'slot', 'type',
                    'mint'
                ) then 10
                else 0
            end
        ),
        ', ' order by a.attnum
    )
    into v_columns
    from pg_attribute as a
    where a.attrelid = 'ingest_new_trades'::regclass and a.attnum > 0 and not a.attisdropped;
    execute 'alter table ingest_new_trades ' || v_columns;
end
$$;


comment on function megatron.ingest_prepare() is
'Create the loader''s session-temporary staging tables (rows vanish at commit). Call once per session before COPY.';

alter function megatron.ingest_prepare() owner to megatron_owner;

create or replace function megatron.ingest_apply(p_reprice boolean default true)
returns table (kind text, staged bigint, accepted bigint, expiring bigint)
language plpgsql
set search_path = public, megatron
set jit = off
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
        select distinct on (s.signature collate "C", s.event_index) s.signature, s.event_index, to_timestamp(s.block_time)
        from ingest_trades as s
        -- byte order, the key's own (abbreviated keys make the sort cheap; the index fills in order)
        order by s.signature collate "C", s.event_index, s.block_time
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

        -- each value computed once per trade: "offset 0" keeps the planner from folding these
        -- subqueries into the select below, which would evaluate sol, tokens and price (numeric
        -- divisions, power, round) again for every column that uses them
        amounts as (
            select
                s.*,
                t.id as token_id,
                t.decimals,
                p.id as pool_id,
                s.sol_amount / 1e9 as sol,
                s.token_amount / power(10::numeric, t.decimals) as tokens,
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
            offset 0
        ),

        trades as (
            select
                a.*,
                round(a.sol / nullif(a.tokens, 0), 20) as price
            from amounts as a
            offset 0
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

alter function megatron.ingest_apply(boolean) owner to megatron_owner;

-- the end-of-load repricing (and reprice_after_prices under it) compiles nothing either
alter function megatron.ingest_reprice_run() set jit = off;

create function megatron.ingest_settle_run_prices(p_first bigint, p_last bigint) returns bigint
language plpgsql
set search_path = public, megatron
set jit = off
as $$
declare
    v_settled bigint;
begin
    -- A price at P answers trades with block time in [P, P + 15 min] (reprice_after_prices). The
    -- trades this load handed to lanes so far have block times in [p_first, p_last]; every later
    -- one is applied after this connection's prices were committed and sees them. A price whose
    -- window misses that span and holds no trade stored already (by an earlier load, or another
    -- loader) cannot have been missed by any trade.
    delete from ingest_run_prices as r
    where (
        p_first is null
        or r.price_time > to_timestamp(p_last)
        or r.price_time + interval '15 minutes' < to_timestamp(p_first)
    )
    and not exists (
        select 1
        from transactions as tx
        where tx.block_time >= r.price_time and tx.block_time <= r.price_time + interval '15 minutes'
    );
    get diagnostics v_settled = row_count;
    return v_settled;
end
$$;

comment on function megatron.ingest_settle_run_prices(bigint, bigint) is
'Pipelined loader step, right after a batch of SOL/USD prices is committed on the main connection: forget, from the '
'prices ingest_reprice_run() will reprice after, those that no trade can have missed: none stored in their 15-minute '
'window yet, and none handed to a lane so far there (block times p_first to p_last, Unix seconds; NULL: none); '
'trades handed over later see them. Returns the prices forgotten.';

alter function megatron.ingest_settle_run_prices(bigint, bigint) owner to megatron_owner;
revoke all on function megatron.ingest_settle_run_prices(bigint, bigint) from public;
grant execute on function megatron.ingest_settle_run_prices(bigint, bigint) to megatron_ingest;
