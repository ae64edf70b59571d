-- 083_loader_plans: the loader's SQL half a little cheaper again, same tables and values (issue 8,
-- docs/benchmarks.md "Loader speed, round 3"; docs/schema-decisions.md #157).
--   * derive_holders() in one statement: the pair history in the event order is a materialized CTE that
--     feeds the holder_updates upsert (a data-modifying CTE) and the token_holders upsert, instead of a
--     temporary table written and read twice (109,000 rows per 97,000 events: its heap writes and two
--     scans went through the session's temporary buffers);
--   * no merge joins in ingest_apply() and the steps it calls: every join there is between the batch's
--     temporary tables (or explicit lateral index probes into the stored tables), and the planner,
--     estimating a set-returning function at 1,000 rows and a temporary table from a sampled ANALYZE,
--     sorted both sides of joins a hash join does in one pass (the batch's USD prices, the new-pair
--     anti join, the late slot groups): 5-9 % of ingest_apply() in one-lane A/B runs, same tables.

set local search_path = public, megatron;

create or replace function megatron.derive_holders() returns void
language plpgsql
set search_path = public, megatron
as $$
begin
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
    ),

    pair_history as materialized (
        select
            h.mint,
            h.wallet,
            h.signature,
            h.event_index,
            h.block_time,
            h.side,
            h.token_amount,
            h.sol_amount,
            coalesce(z.balance, 0) + sum(h.delta) over w - h.delta as before,
            coalesce(z.balance, 0) + sum(h.delta) over w as after,
            row_number() over w as seq
        from history as h
        left join megatron.holder_horizon as z on z.token_mint = h.mint and z.wallet_address = h.wallet
        window w as (
            partition by h.mint, h.wallet
            order by h.block_time, h.slot nulls last, h.slot_order, h.signature, h.event_index
        )
    ),

    updates as (
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
        from pair_history as h
        on conflict (token_mint, update_time, signature collate "C", event_index) do update set
            update_type = excluded.update_type,
            old_balance = excluded.old_balance,
            new_balance = excluded.new_balance,
            balance_change = excluded.balance_change
        where (u.update_type, u.old_balance, u.new_balance, u.balance_change)
            is distinct from (excluded.update_type, excluded.old_balance, excluded.new_balance, excluded.balance_change)
    )

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
        from pair_history as h
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
'row from all of its trades in the event order (and what retention left in megatron.holder_horizon), in one '
'statement; a pair with no trade stored before the batch reads its trades from the batch.';

alter function megatron.derive_holders() owner to megatron_owner;

-- the setting holds for every statement ingest_apply() runs, also those of the functions it calls
alter function megatron.ingest_apply(boolean) set enable_mergejoin = off;
