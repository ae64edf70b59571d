-- 026_selloff_trigger: open a sell-off event when a technical score shows a 15-minute drop
-- above 10 % (seed: detect_selloff_event).
--
-- An event stays open for 60 minutes after detection (spec §3.5): a further qualifying score
-- within that hour extends the open event (lowest price, largest drop) instead of opening a
-- second one. Prices are SOL per token from the trades as of the score's timestamp:
-- initial_price is the first trade price of the 15-minute window (the reference of
-- price_drop_15m), lowest_price the price at the score's time. A transaction-scoped advisory
-- lock per token keeps two concurrent scores from opening two events.

set local search_path = public, megatron;

create function create_selloff_event() returns trigger
language plpgsql
as $$
declare
    v_price numeric := public.token_price_at(new.token_mint, new.timestamp);
    v_window_open numeric;
begin
    perform pg_advisory_xact_lock(hashtextextended('megatron.selloff_events:' || new.token_mint, 0));

    update public.selloff_events as e
    set
        lowest_price = least(e.lowest_price, v_price),
        drop_percentage = greatest(e.drop_percentage, new.price_drop_15m)
    where e.token_mint = new.token_mint
      and e.recovery_time is null
      and e.detection_time <= new.timestamp
      and e.detection_time > new.timestamp - interval '60 minutes';

    if not found then
        select tx.price_per_token
        into v_window_open
        from public.tokens as t
        inner join public.transactions as tx on tx.token_id = t.id
        where t.mint_address = new.token_mint
          and tx.block_time > new.timestamp - interval '15 minutes'
          and tx.block_time <= new.timestamp
          and tx.type in ('buy', 'sell')
          and tx.price_per_token > 0
        order by tx.block_time, tx.slot, tx.signature, tx.event_index
        limit 1;

        insert into public.selloff_events (token_mint, detection_time, initial_price, lowest_price, drop_percentage)
        values (new.token_mint, new.timestamp, v_window_open, v_price, new.price_drop_15m);
    end if;
    return null;
end
$$;

comment on function create_selloff_event() is
'AFTER INSERT trigger on technical_scores (price_drop_15m > 10): opens a selloff_events row, or extends the token''s '
'event opened within the previous 60 minutes.';

create trigger detect_selloff_event
after insert on technical_scores
for each row
when (new.price_drop_15m > 10)
execute function create_selloff_event();
