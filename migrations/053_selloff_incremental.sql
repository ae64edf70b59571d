-- 053_selloff_incremental: the sell-off replay (042) resumes where it stood instead of rebuilding every
-- token from its first trade on every scoring run (issue 11 item 4 and "Speed").
--
-- The machine of 042 is unchanged (same rules, same event order: block_time, slot nulls last, slot_order,
-- signature, event_index; same rows). What is new is megatron.selloff_replay_state, one row per token: how
-- far the replay went (replayed_through: every trade of the token with block_time <= it was consumed,
-- trades_seen: how many trades of the token, of any type, had block_time <= replayed_through then) and the
-- machine there (the open event, if any, and the 15-minute-high deque). A run sorts the tokens it is given,
-- set-based, into
--   * full:   no state yet, or p_until before replayed_through, or the token now has a different number
--             of trades with block_time <= replayed_through than it had (a trade arrived late, at or
--             before the watermark; or a trade was removed): the token's events are deleted and rebuilt
--             from its first trade (the rewind goes to the start: a count does not say where the late
--             trade sits, and the machine state at an earlier point is not kept);
--   * resume: trades after replayed_through (<= p_until), or an event still open whose provisional row
--             changes (closed by timeout once p_until passes start + 60 min, open again for an earlier
--             p_until): the machine is restored from the state and fed only the trades after
--             replayed_through;
--   * none:   nothing to do (not even a read of its trades).
-- Trades arrive in any order and any batching: a late trade is caught by the count, a new one by its
-- block time, so the rows are those of one replay of all trades (tests/test_selloff_incremental.py).
-- Whole block times are the unit, so a trade joining a slot that was already consumed (and the slot_order
-- the loader recomputes for that slot's trades) always means a full replay of that token.
-- The trades and the count are read by the same statement (one snapshot), so a trade committed while a
-- replay runs is either consumed and counted or neither, and the next run sees it.
--
-- One statement reads the trades of all tokens to replay (ordered by token, then event order), not one
-- query per token; the tokens' locks are 64 advisory buckets (hash of the mint), taken in bucket order.

set local search_path = public, megatron;

create table megatron.selloff_replay_state (
    token_mint text primary key,
    replayed_through timestamptz not null,
    trades_seen bigint not null check (trades_seen >= 0),
    is_open boolean not null,
    open_start timestamptz,
    open_start_price numeric,
    open_lowest numeric,
    open_drop numeric,
    open_row_closed boolean,
    high_times timestamptz[] not null,
    high_prices numeric[] not null,
    last_mode text not null check (last_mode in ('full', 'resume')),
    replayed_at timestamptz not null default now(),
    check (not is_open or (open_start is not null and open_start_price is not null))
);

comment on table megatron.selloff_replay_state is
'Where megatron.replay_selloffs stands per token (053): every trade with block_time <= replayed_through was '
'consumed; trades_seen = number of the token''s trades (any type) with block_time <= replayed_through at that '
'replay (a different count later means a late trade: full replay); the machine state there: the open event '
'(its row in selloff_events is provisional: rewritten by the next replay that reads a trade after it, or whose '
'p_until moves start + 60 min to the other side of it; open_row_closed: that row shows the timeout) and the '
'15-minute-high deque '
'(high_times/high_prices, prices strictly decreasing). last_mode: full or resume.';

create or replace function megatron.replay_selloffs(
    p_token_mints text[],
    p_until timestamptz,
    p_from_scratch boolean
) returns integer
language plpgsql
security definer
set search_path = pg_catalog, public, megatron, pg_temp
as $$
declare
    v_rows integer := 0;
    r record;
    v_mint text;
    v_full boolean;
    v_seen bigint;
    v_open boolean;
    v_start timestamptz;
    v_start_price numeric;
    v_lowest numeric;
    v_drop numeric;
    v_high numeric;
    v_through timestamptz;
    -- the 15-minute high: a monotonic deque (prices strictly decreasing from v_head to v_tail)
    v_dq_time timestamptz[];
    v_dq_price numeric[];
    v_head integer;
    v_tail integer;
    v_bucket integer;
begin
    -- the tokens' lock buckets, in order (no deadlock between two replays of overlapping token sets)
    for v_bucket in
        select distinct abs(hashtext(t.mint_address)) % 64 as bucket
        from public.tokens as t
        where p_token_mints is null or t.mint_address = any(p_token_mints)
        order by bucket
    loop
        perform pg_advisory_xact_lock(hashtextextended('megatron.selloff_events:' || v_bucket::text, 0));
    end loop;

    -- set-based: what each token needs
    create temporary table if not exists selloff_replay_work (
        token_mint text primary key,
        token_id uuid not null,
        is_full boolean not null,
        resume_after timestamptz not null,
        base_seen bigint not null
    ) on commit drop;
    truncate selloff_replay_work;

    insert into selloff_replay_work (token_mint, token_id, is_full, resume_after, base_seen)
    select
        ch.mint_address,
        ch.id,
        ch.is_full,
        case when ch.is_full then '-infinity'::timestamptz else ch.replayed_through end,
        case when ch.is_full then 0 else ch.trades_seen end
    from (
        select
            tk.mint_address,
            tk.id,
            st.replayed_through,
            st.trades_seen,
            p_from_scratch
            or st.token_mint is null
            or p_until < st.replayed_through
            or (
                select count(*) from public.transactions as tx
                where tx.token_id = tk.id and tx.block_time <= st.replayed_through
            ) <> st.trades_seen as is_full,
            (st.is_open and ((st.open_start + interval '60 minutes' <= p_until) is distinct from st.open_row_closed))
            or exists (
                select 1 from public.transactions as tx
                where tx.token_id = tk.id and tx.block_time > st.replayed_through and tx.block_time <= p_until
            ) as has_work
        from public.tokens as tk
        left join megatron.selloff_replay_state as st on st.token_mint = tk.mint_address
        where p_token_mints is null or tk.mint_address = any(p_token_mints)
    ) as ch
    where ch.is_full or ch.has_work;

    -- full: no event of the token is kept; resume: the provisional row of the event open at the watermark goes
    delete from public.selloff_events as e
    using selloff_replay_work as w
    where e.token_mint = w.token_mint and w.is_full;
    delete from public.selloff_events as e
    using selloff_replay_work as w, megatron.selloff_replay_state as st
    where
        not w.is_full and st.token_mint = w.token_mint and st.is_open
        and e.token_mint = w.token_mint and e.detection_time = st.open_start;

    -- one pass: per token its trades after resume_after in event order, then an end row (is_end)
    for r in
        select
            w.token_mint,
            w.is_full,
            w.resume_after,
            w.base_seen,
            tx.block_time,
            tx.price_per_token as price,
            tx.type in ('buy', 'sell') and tx.price_per_token > 0 as is_priced,
            false as is_end,
            tx.slot,
            tx.slot_order,
            tx.signature,
            tx.event_index
        from selloff_replay_work as w
        inner join public.transactions as tx
            on tx.token_id = w.token_id and tx.block_time > w.resume_after and tx.block_time <= p_until
        union all
        select
            w.token_mint, w.is_full, w.resume_after, w.base_seen,
            'infinity'::timestamptz, null, false, true, null, null, null, null
        from selloff_replay_work as w
        order by token_mint, is_end, block_time, slot nulls last, slot_order, signature, event_index
    loop
        if v_mint is distinct from r.token_mint then
            -- a new token: the machine as the state left it (or empty)
            v_mint := r.token_mint;
            v_seen := r.base_seen;
            v_through := r.resume_after;
            v_open := false;
            v_dq_time := '{}';
            v_dq_price := '{}';
            v_head := 1;
            v_tail := 0;
            if not r.is_full then
                select
                    st.is_open, st.open_start, st.open_start_price, st.open_lowest, st.open_drop,
                    st.high_times, st.high_prices, coalesce(array_length(st.high_times, 1), 0)
                into v_open, v_start, v_start_price, v_lowest, v_drop, v_dq_time, v_dq_price, v_tail
                from megatron.selloff_replay_state as st
                where st.token_mint = v_mint;
            end if;
        end if;

        if not r.is_end then
            v_seen := v_seen + 1;
            v_through := r.block_time;
            if not r.is_priced then
                continue;
            end if;
            -- the high of the trades so far in event order with block_time in (t - 15 min, t]
            while v_tail >= v_head and v_dq_price[v_tail] <= r.price loop
                v_tail := v_tail - 1;
            end loop;
            v_tail := v_tail + 1;
            v_dq_time[v_tail] := r.block_time;
            v_dq_price[v_tail] := r.price;
            while v_dq_time[v_head] <= r.block_time - interval '15 minutes' loop
                v_head := v_head + 1;
            end loop;
            v_high := v_dq_price[v_head];

            if v_open and r.block_time >= v_start + interval '60 minutes' then
                insert into public.selloff_events (
                    token_mint, detection_time, initial_price, lowest_price, drop_percentage,
                    recovery_time, duration_minutes, closed_by
                )
                values (
                    v_mint, v_start, v_start_price, v_lowest, v_drop, v_start + interval '60 minutes', 60, 'timeout'
                );
                v_rows := v_rows + 1;
                v_open := false;
            end if;

            if v_open then
                v_lowest := least(v_lowest, r.price);
                v_drop := greatest(v_drop, round((v_start_price - r.price) / v_start_price * 100, 4));
                if r.price > 0.9 * v_start_price then
                    insert into public.selloff_events (
                        token_mint, detection_time, initial_price, lowest_price, drop_percentage,
                        recovery_price, recovery_time, recovery_percentage, duration_minutes, closed_by
                    )
                    values (
                        v_mint, v_start, v_start_price, v_lowest, v_drop, r.price, r.block_time,
                        round((r.price - v_lowest) / v_lowest * 100, 4),
                        floor(extract(epoch from r.block_time - v_start) / 60)::integer, 'recovery'
                    );
                    v_rows := v_rows + 1;
                    v_open := false;
                end if;
            elsif (v_high - r.price) / v_high > 0.10 then
                v_open := true;
                v_start := r.block_time;
                v_start_price := v_high;
                v_lowest := r.price;
                v_drop := round((v_high - r.price) / v_high * 100, 4);
            end if;
            continue;
        end if;

        -- the end of the token's trades: the open event's provisional row, then the state
        if v_open then
            -- no trade after it: it times out at start + 60 min if that is not after p_until
            insert into public.selloff_events (
                token_mint, detection_time, initial_price, lowest_price, drop_percentage,
                recovery_time, duration_minutes, closed_by
            )
            select
                v_mint, v_start, v_start_price, v_lowest, v_drop, t.closed_at,
                case when t.closed_at is not null then 60 end,
                case when t.closed_at is not null then 'timeout' end
            from (
                select case when v_start + interval '60 minutes' <= p_until then v_start + interval '60 minutes' end
                    as closed_at
            ) as t;
            v_rows := v_rows + 1;
        end if;
        -- the deque keeps only the entries still inside a window (the rest can never be the high again)
        if v_tail >= v_head then
            v_dq_time := v_dq_time[v_head:v_tail];
            v_dq_price := v_dq_price[v_head:v_tail];
        else
            v_dq_time := '{}';
            v_dq_price := '{}';
        end if;
        insert into megatron.selloff_replay_state as st (
            token_mint, replayed_through, trades_seen, is_open, open_start, open_start_price, open_lowest, open_drop,
            open_row_closed, high_times, high_prices, last_mode, replayed_at
        )
        values (
            v_mint, v_through, v_seen, v_open,
            case when v_open then v_start end, case when v_open then v_start_price end,
            case when v_open then v_lowest end, case when v_open then v_drop end,
            case when v_open then v_start + interval '60 minutes' <= p_until end,
            v_dq_time, v_dq_price, case when r.is_full then 'full' else 'resume' end, now()
        )
        on conflict (token_mint) do update set
            replayed_through = excluded.replayed_through,
            trades_seen = excluded.trades_seen,
            is_open = excluded.is_open,
            open_start = excluded.open_start,
            open_start_price = excluded.open_start_price,
            open_lowest = excluded.open_lowest,
            open_drop = excluded.open_drop,
            open_row_closed = excluded.open_row_closed,
            high_times = excluded.high_times,
            high_prices = excluded.high_prices,
            last_mode = excluded.last_mode,
            replayed_at = excluded.replayed_at;
        v_mint := null;
    end loop;
    return v_rows;
end
$$;

comment on function megatron.replay_selloffs(text[], timestamptz, boolean) is
'Brings selloff_events of the given tokens (all when NULL) up to their trades with block_time <= p_until '
'(spec §3.5 state machine of 042, event order, SOL), resuming from megatron.selloff_replay_state: a token '
'replays only its trades after its watermark; a late trade (at or before the watermark) or p_from_scratch '
'rebuilds it from its first trade. The rows are those of one replay of all the trades, whatever order they '
'arrived in. Returns the number of event rows written.';

create or replace function megatron.replay_selloffs(
    p_token_mints text[] default null,
    p_until timestamptz default now()
) returns integer
language sql
security definer
set search_path = pg_catalog, public, megatron, pg_temp
as $$
    select megatron.replay_selloffs(p_token_mints, p_until, false)
$$;

comment on function megatron.replay_selloffs(text[], timestamptz) is
'Incremental sell-off replay (053): megatron.replay_selloffs(p_token_mints, p_until, false). Returns the '
'number of event rows written (0 when nothing new arrived).';

alter table megatron.selloff_replay_state owner to megatron_owner;
alter function megatron.replay_selloffs(text[], timestamptz, boolean) owner to megatron_owner;
revoke all on function megatron.replay_selloffs(text[], timestamptz, boolean) from public;
grant execute on function megatron.replay_selloffs(text[], timestamptz, boolean) to megatron_orchestrator;
grant select on megatron.selloff_replay_state to megatron_analyst, megatron_orchestrator;
