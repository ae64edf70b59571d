-- 042_selloff_state_machine: sell-off events as a deterministic state machine over trades
-- (issue 11 item 4, spec §3.5 "Resolution", T5), replacing the trigger on technical_scores.
--
-- Why: the trigger of 026 opened events only when a score row happened to be written, so the
-- events depended on when scoring ran. megatron.replay_selloffs rebuilds a token's events from its
-- trades alone: replayed in the one event order (block_time, slot nulls last, slot_order,
-- signature, event_index), prices in SOL (buy/sell, price > 0). At each trade t with price p:
-- an open event takes lowest_price = min(lowest, p) and drop_percentage = max drop from its start
-- price, and closes at t when p > 0.9 x start price (closed_by 'recovery'); an event still open at
-- start + 60 min closes then (closed_by 'timeout'), before any later trade is looked at. With none
-- open, the trade opens one when (high - p) / high > 10 %, high = the largest price of the trades
-- at or before it in event order with block_time in (t - 15 min, t]; start price = high.
-- The trade that closes an event does not open another one in the same step.
-- One pass per token over its trades; the 15-minute high is kept in a monotonic deque, so a replay
-- costs one ordered scan of the token's trades (idx_transactions_token_time), not a window per trade.
--
-- Idempotent and order-free: per token, delete and rebuild in one transaction under a per-token
-- advisory lock. The rows are a function of the token's trades up to p_until, so running it twice,
-- or after late trades arrived, leaves the same rows (the uuid id and created_at excepted).
-- selloff_open_at(mint, T) returns the event open at T and dur(T) in whole minutes (§3.4).

set local search_path = public, megatron;

drop trigger detect_selloff_event on technical_scores;
drop function create_selloff_event();

alter table selloff_events
add column closed_by text check (closed_by in ('recovery', 'timeout'));

comment on column selloff_events.closed_by is
'''recovery'': a trade above 90 % of the start price closed it at recovery_time; ''timeout'': closed at '
'detection_time + 60 min; NULL: still open as of the last replay.';
comment on table selloff_events is
'Sell-off episodes rebuilt from trades by megatron.replay_selloffs (spec §3.5): detection_time = start, '
'initial_price = start price (15-minute high), recovery_time = end; prices in SOL per token.';

create index idx_selloff_events_token_time on selloff_events (token_mint, detection_time);

create function megatron.replay_selloffs(
    p_token_mints text[] default null,
    p_until timestamptz default now()
) returns integer
language plpgsql
security definer
set search_path = pg_catalog, public, megatron, pg_temp
as $$
declare
    v_mint text;
    v_rows integer := 0;
    r record;
    v_open boolean;
    v_start timestamptz;
    v_start_price numeric;
    v_lowest numeric;
    v_drop numeric;
    v_high numeric;
    -- the 15-minute high: a monotonic deque (prices strictly decreasing from v_head to v_tail)
    v_dq_time timestamptz[];
    v_dq_price numeric[];
    v_head integer;
    v_tail integer;
begin
    for v_mint in
        select t.mint_address
        from public.tokens as t
        where (p_token_mints is null or t.mint_address = any(p_token_mints))
        order by t.mint_address
    loop
        perform pg_advisory_xact_lock(hashtextextended('megatron.selloff_events:' || v_mint, 0));
        delete from public.selloff_events as e where e.token_mint = v_mint;
        v_open := false;
        v_dq_time := '{}';
        v_dq_price := '{}';
        v_head := 1;
        v_tail := 0;

        for r in
            select tx.block_time, tx.price_per_token as price
            from public.transactions as tx
            inner join public.tokens as tk on tk.id = tx.token_id
            where tk.mint_address = v_mint
              and tx.type in ('buy', 'sell')
              and tx.price_per_token > 0
              and tx.block_time <= p_until
            order by tx.block_time, tx.slot nulls last, tx.slot_order, tx.signature, tx.event_index
        loop
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
                values (v_mint, v_start, v_start_price, v_lowest, v_drop, v_start + interval '60 minutes', 60, 'timeout');
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
        end loop;

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
    end loop;
    return v_rows;
end
$$;

comment on function megatron.replay_selloffs(text[], timestamptz) is
'Rebuilds selloff_events of the given tokens (all when NULL) from their trades with block_time <= p_until '
'(spec §3.5 state machine, event order, SOL). Delete-and-rebuild per token: idempotent and independent of the '
'order trades arrived in. Returns the number of events written.';

create function megatron.selloff_open_at(p_token_mint text, p_as_of timestamptz)
returns table (
    event_id uuid,
    start_time timestamptz,
    start_price numeric,
    lowest_price numeric,
    drop_percentage numeric,
    duration_minutes integer
)
language sql
stable
as $$
    select
        e.id,
        e.detection_time,
        e.initial_price,
        e.lowest_price,
        e.drop_percentage,
        floor(extract(epoch from p_as_of - e.detection_time) / 60)::integer
    from public.selloff_events as e
    where e.token_mint = p_token_mint
      and e.detection_time <= p_as_of
      and p_as_of < coalesce(e.recovery_time, e.detection_time + interval '60 minutes')
    order by e.detection_time desc
    limit 1
$$;

comment on function megatron.selloff_open_at(text, timestamptz) is
'The sell-off event open at T (start <= T < end; an event still open in the table ends at start + 60 min) '
'with dur(T) = whole minutes since its start (spec §3.4/§3.5). lowest_price and drop_percentage are '
'the event''s as last replayed, not as of T.';

alter function megatron.replay_selloffs(text[], timestamptz) owner to megatron_owner;
alter function megatron.selloff_open_at(text, timestamptz) owner to megatron_owner;
revoke all on function megatron.replay_selloffs(text[], timestamptz) from public;
grant execute on function megatron.replay_selloffs(text[], timestamptz) to megatron_orchestrator;
grant execute on function megatron.selloff_open_at(text, timestamptz)
to megatron_orchestrator, megatron_analyst;
