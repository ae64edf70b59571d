-- 025_usd_trigger: USD values of each trade as it is inserted (seed: update_transaction_usd_values).
--
-- sol_amount_usd and price_per_token_usd use the latest sol_usd_prices row at or before the
-- trade's block_time that is at most 15 minutes old (ties at one instant: the source name
-- sorting last); with none that recent both stay NULL rather than a guess. The trigger owns
-- both columns (values a loader sends are replaced), so every stored USD figure follows one
-- rule, the rule of sol_usd_price_at(). Prices that arrive after their trades are applied
-- with fill_transaction_usd_values().
--
-- It is a BEFORE ROW trigger, the only kind that can set the row's own columns. A lookup on
-- the sol_usd_prices hypertable costs ~17 us per execution (TimescaleDB's per-query chunk
-- handling, not the index probe), which made a COPY 2.2x slower. So the trigger memoizes,
-- for the current statement only, the time range its last answer holds for: a price at P
-- answers every time from P until the next price or P + 15 minutes; "no price" holds from
-- the trade's time until the next price. Rows of a bulk load in time order (either
-- direction) mostly hit the memo; when a row jumps far from the last answer (rows out of
-- order) the trigger does a single lookup and skips learning the range, so shuffled input
-- costs about what no memo would (benchmarks/usd_trigger.py; docs/schema-decisions.md).
-- The memo lives in a transaction-local setting keyed by statement_timestamp(), and any
-- write to sol_usd_prices in the session clears it, so a statement never reuses an answer
-- the table has since changed.

set local search_path = public, megatron;

create function calculate_usd_values() returns trigger
language plpgsql
as $$
declare
    -- statement | valid from | valid until (exclusive) | SOL/USD ('' = none)
    v_memo text[] := string_to_array(current_setting('megatron.usd_price_memo', true), '|');
    v_statement text := statement_timestamp()::text;
    v_sol_usd numeric;
    v_price_time timestamptz;
    v_next_time timestamptz;
begin
    if new.sol_amount is null and new.price_per_token is null then
        new.sol_amount_usd := null;
        new.price_per_token_usd := null;
        return new;
    end if;

    if v_memo[1] = v_statement
        and new.block_time >= v_memo[2]::timestamptz
        and new.block_time < v_memo[3]::timestamptz then
        v_sol_usd := nullif(v_memo[4], '')::numeric;
    else
        select p.price_time, p.price_usd
        into v_price_time, v_sol_usd
        from public.sol_usd_prices as p
        where p.price_time <= new.block_time
          and p.price_time >= new.block_time - interval '15 minutes'
        order by p.price_time desc, p.source desc
        limit 1;

        if v_memo[1] = v_statement
            and new.block_time >= v_memo[2]::timestamptz - interval '15 minutes'
            and new.block_time < v_memo[3]::timestamptz + interval '15 minutes' then
            -- close to the last answer: rows are coming in time order, so learn how long this
            -- answer holds (up to the next price, at most 15 minutes after this one)
            select p.price_time
            into v_next_time
            from public.sol_usd_prices as p
            where p.price_time > new.block_time
            order by p.price_time
            limit 1;
        else
            -- a jump (rows out of order): remember only what this lookup proved
            v_next_time := new.block_time + interval '1 microsecond';
        end if;

        perform set_config(
            'megatron.usd_price_memo',
            concat_ws(
                '|',
                v_statement,
                coalesce(v_price_time, new.block_time),
                least(
                    coalesce(v_next_time, 'infinity'),
                    coalesce(v_price_time + interval '15 minutes 1 microsecond', 'infinity')
                ),
                coalesce(v_sol_usd::text, '')
            ),
            true
        );
    end if;

    new.sol_amount_usd := round(new.sol_amount * v_sol_usd, 2);
    new.price_per_token_usd := round(new.price_per_token * v_sol_usd, 20);
    return new;
end
$$;

comment on function calculate_usd_values() is
'BEFORE INSERT trigger on transactions: USD values from the latest SOL/USD price at most 15 minutes before block_time '
'(the rule of sol_usd_price_at); NULL when there is none. Memoizes its last answer for the rest of the statement.';

-- The loader's megatron.ingest_apply() computes the same values set-based for a whole batch
-- (one sort instead of a function call per row) and says so in a transaction-local setting for
-- that one statement; every other insert goes through the trigger.
create trigger update_transaction_usd_values
before insert on transactions
for each row
when (current_setting('megatron.usd_values_from', true) is distinct from 'ingest_apply')
execute function calculate_usd_values();

create function forget_usd_price_memo() returns trigger
language plpgsql
as $$
begin
    perform set_config('megatron.usd_price_memo', '', true);
    return null;
end
$$;

comment on function forget_usd_price_memo() is
'Statement trigger on sol_usd_prices: clears the memo of calculate_usd_values() after any write to prices.';

create trigger forget_usd_price_memo
after insert or update or delete on sol_usd_prices
for each statement
execute function forget_usd_price_memo();

create function fill_transaction_usd_values(
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
            public.sol_usd_price_at(tx.block_time) as sol_usd
        from public.transactions as tx
        where tx.block_time >= p_from
          and tx.block_time < p_to
          and (tx.sol_amount_usd is null and tx.sol_amount is not null
               or tx.price_per_token_usd is null and tx.price_per_token is not null)
    ),

    updated as (
        update public.transactions as tx
        set
            sol_amount_usd = round(tx.sol_amount * priced.sol_usd, 2),
            price_per_token_usd = round(tx.price_per_token * priced.sol_usd, 20)
        from priced
        where tx.signature = priced.signature
          and tx.event_index = priced.event_index
          and tx.block_time = priced.block_time
          and priced.sol_usd is not null
        returning 1
    )

    select count(*) from updated
$$;

comment on function fill_transaction_usd_values(timestamptz, timestamptz) is
'Fill missing USD values of trades with block_time in [p_from, p_to) once SOL/USD prices for them have arrived '
'(same 15-minute rule as the insert trigger); returns the number of trades updated.';
