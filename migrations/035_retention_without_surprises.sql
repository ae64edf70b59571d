-- 035_retention_without_surprises: retention that cannot change an as-of answer silently.
--
-- * megatron.holder_horizon keeps, per (token, wallet), the running state of the trades that
--   retention removed (balance, first balance, peak, totals, first trade time), so
--   token_holders stays what all trades give after their chunks are gone; the loader's
--   derive_holders() (034) starts from it.
-- * megatron.apply_retention() (028) now rolls that horizon forward before it drops chunks of
--   transactions, and records in megatron.retention_horizons where each table's data starts;
--   the as-of primitives refuse a T before it (033).
-- * On TimescaleDB Community the native retention policy of transactions is replaced by a
--   job that calls the same function, so the native path cannot drop trades without rolling
--   the horizon first.
-- * frozen_holder_scores: the frozen holder snapshot taken at graduation (spec §2.2,
--   authoritative after graduation) is copied out of holder_scores, which is dropped after
--   60 days; the copy is never dropped.

set local search_path = public, megatron;

create table megatron.holder_horizon (
    token_mint text not null,
    wallet_address text not null,
    horizon timestamptz not null,
    balance numeric(30, 6) not null,
    initial_balance numeric(30, 6),
    peak_balance numeric(30, 6),
    first_time timestamptz,
    bought numeric(30, 6) not null default 0,
    sold numeric(30, 6) not null default 0,
    buy_sol numeric(20, 9) not null default 0,
    sell_sol numeric(20, 9) not null default 0,
    trades integer not null default 0,
    buys integer not null default 0,
    sells integer not null default 0,
    volume_usd numeric(20, 2) not null default 0,
    primary key (token_mint, wallet_address)
);

comment on table megatron.holder_horizon is
'Per (token, wallet): the running state of its trades older than the retention horizon (removed from transactions): '
'balance (unfloored), balance after its first trade, peak, first trade time, totals. token_holders = this + the '
'trades still stored.';

create function megatron.roll_holder_horizon(p_before timestamptz) returns bigint
language plpgsql
set search_path = public, megatron
as $$
declare
    v_pairs bigint;
begin
    with

    old as (
        select
            t.mint_address as mint,
            tx.user_address as wallet,
            tx.block_time,
            tx.type,
            coalesce(tx.token_amount, 0) as token_amount,
            coalesce(tx.sol_amount, 0) as sol_amount,
            coalesce(tx.sol_amount_usd, 0) as sol_amount_usd,
            coalesce(case when tx.type = 'buy' then tx.token_amount else -tx.token_amount end, 0) as delta,
            row_number() over w as seq,
            sum(coalesce(case when tx.type = 'buy' then tx.token_amount else -tx.token_amount end, 0)) over w as running
        from transactions as tx
        inner join tokens as t on t.id = tx.token_id
        where tx.block_time < p_before and tx.type in ('buy', 'sell')
        window w as (
            partition by tx.token_id, tx.user_address
            order by tx.block_time, tx.slot nulls last, tx.slot_order, tx.signature, tx.event_index
        )
    ),

    rolled as (
        select
            o.mint,
            o.wallet,
            sum(o.delta) as delta,
            min(o.running) filter (where o.seq = 1) as first_after,
            max(o.running) as peak,
            min(o.block_time) as first_time,
            coalesce(sum(o.token_amount) filter (where o.type = 'buy'), 0) as bought,
            coalesce(sum(o.token_amount) filter (where o.type = 'sell'), 0) as sold,
            coalesce(sum(o.sol_amount) filter (where o.type = 'buy'), 0) as buy_sol,
            coalesce(sum(o.sol_amount) filter (where o.type = 'sell'), 0) as sell_sol,
            count(*) as trades,
            count(*) filter (where o.type = 'buy') as buys,
            count(*) filter (where o.type = 'sell') as sells,
            sum(o.sol_amount_usd) as volume_usd
        from old as o
        group by o.mint, o.wallet
    ),

    merged as (
        insert into megatron.holder_horizon as z (
            token_mint, wallet_address, horizon, balance, initial_balance, peak_balance, first_time,
            bought, sold, buy_sol, sell_sol, trades, buys, sells, volume_usd
        )
        select
            r.mint, r.wallet, p_before, r.delta, r.first_after, r.peak, r.first_time,
            r.bought, r.sold, r.buy_sol, r.sell_sol, r.trades, r.buys, r.sells, r.volume_usd
        from rolled as r
        on conflict (token_mint, wallet_address) do update set
            horizon = greatest(z.horizon, excluded.horizon),
            peak_balance = greatest(z.peak_balance, z.balance + excluded.peak_balance),
            balance = z.balance + excluded.balance,
            initial_balance = coalesce(z.initial_balance, excluded.initial_balance),
            first_time = least(z.first_time, excluded.first_time),
            bought = z.bought + excluded.bought,
            sold = z.sold + excluded.sold,
            buy_sol = z.buy_sol + excluded.buy_sol,
            sell_sol = z.sell_sol + excluded.sell_sol,
            trades = z.trades + excluded.trades,
            buys = z.buys + excluded.buys,
            sells = z.sells + excluded.sells,
            volume_usd = z.volume_usd + excluded.volume_usd
        returning 1
    )

    select count(*) into v_pairs from merged;
    return v_pairs;
end
$$;

comment on function megatron.roll_holder_horizon(timestamptz) is
'Fold the trades older than p_before into megatron.holder_horizon (before retention removes them). Returns the '
'number of (token, wallet) pairs rolled.';

create or replace function megatron.apply_retention(p_hypertable regclass) returns setof text
language plpgsql
security definer
set search_path = pg_catalog, public, megatron, pg_temp
as $$
declare
    v_drop_after interval;
    v_horizon timestamptz;
begin
    select h.drop_after
    into v_drop_after
    from megatron.hypertable_policies as h
    where h.hypertable = p_hypertable;

    if v_drop_after is null then
        raise exception '% has no retention declared in megatron.hypertable_policies', p_hypertable
            using errcode = 'invalid_parameter_value';
    end if;

    -- the end of the newest chunk that goes: everything before it is removed
    select max(c.range_end)
    into v_horizon
    from timescaledb_information.chunks as c
    where format('%I.%I', c.hypertable_schema, c.hypertable_name)::regclass = p_hypertable
      and c.range_end <= now() - v_drop_after;

    if v_horizon is null then
        return;
    end if;

    if p_hypertable = 'public.transactions'::regclass then
        perform megatron.roll_holder_horizon(v_horizon);
        delete from megatron.trade_keys as k where k.block_time < v_horizon;
    end if;

    insert into megatron.retention_horizons as r (hypertable, horizon)
    values (p_hypertable, v_horizon)
    on conflict (hypertable) do update set
        horizon = greatest(r.horizon, excluded.horizon),
        moved_at = now();

    return query
    select dropped::text
    from drop_chunks(p_hypertable, older_than => v_horizon) as dropped;
end
$$;

comment on function megatron.apply_retention(regclass) is
'Drop the chunks of a registered hypertable that are entirely older than now() - its declared drop_after; for '
'transactions first fold the removed trades into megatron.holder_horizon; record the new horizon in '
'megatron.retention_horizons. Returns the dropped chunks. For megatron_orchestrator (runs as the owner).';

create procedure megatron.retention_job(p_job_id integer, p_config jsonb)
language plpgsql
as $$
begin
    perform megatron.apply_retention((p_config ->> 'hypertable')::regclass);
end
$$;

comment on procedure megatron.retention_job (integer, jsonb) is
'TimescaleDB job (Community): apply_retention for config.hypertable, in place of a native retention policy that would '
'drop trades without rolling the holder horizon.';

do $$
begin
    if megatron.timescaledb_edition() = 'timescale' then
        perform remove_retention_policy('public.transactions', if_exists => true);
        perform add_job(
            'megatron.retention_job', interval '1 day',
            config => jsonb_build_object('hypertable', 'public.transactions')
        );
    end if;
end
$$;


-- a wallet's trading as of T, whole after retention: the horizon plus the trades still stored ---------
create function wallet_trading_at(p_wallet_address text, p_as_of timestamptz default now())
returns table (volume_usd numeric, buys bigint, sells bigint, graduated_tokens bigint)
language plpgsql stable parallel safe
as $$
begin
    perform megatron.check_horizon('public.transactions', p_as_of);
    return query
    with

    stored as (
        select
            t.mint_address as mint,
            coalesce(sum(tx.sol_amount_usd), 0) as volume_usd,
            count(*) filter (where tx.type = 'buy') as buys,
            count(*) filter (where tx.type = 'sell') as sells
        from public.transactions as tx
        inner join public.tokens as t on t.id = tx.token_id
        where tx.user_address = p_wallet_address
          and tx.block_time <= p_as_of
          and tx.type in ('buy', 'sell')
        group by t.mint_address
    ),

    horizon as (
        select z.token_mint as mint, z.volume_usd, z.buys::bigint as buys, z.sells::bigint as sells
        from megatron.holder_horizon as z
        where z.wallet_address = p_wallet_address
    ),

    per_token as (
        select u.mint, sum(u.volume_usd) as volume_usd, sum(u.buys) as buys, sum(u.sells) as sells
        from (select * from stored union all select * from horizon) as u
        group by u.mint
    )

    select
        coalesce(sum(pt.volume_usd), 0),
        coalesce(sum(pt.buys), 0)::bigint,
        coalesce(sum(pt.sells), 0)::bigint,
        count(*) filter (where k.graduation_timestamp is not null and k.graduation_timestamp <= p_as_of)
    from per_token as pt
    left join public.tokens as k on k.mint_address = pt.mint;
end
$$;

comment on function wallet_trading_at(text, timestamptz) is
'A wallet''s trading up to T from its trades and what retention folded into megatron.holder_horizon: USD volume, buys, '
'sells, graduated tokens traded (graduated at or before T). Refuses T before the retention horizon.';

create or replace function assess_smart_money_wallet(
    p_wallet_address text,
    p_as_of timestamptz default now()
) returns table (
    is_smart_money boolean,
    rule text,
    score numeric
)
language sql stable parallel safe
as $$
    with

    analysis as (
        select
            c.wallet_age_days
            + floor(extract(epoch from p_as_of - c.last_analyzed) / 86400)::integer as age_days,
            c.total_transactions,
            c.unique_tokens_traded,
            c.sol_balance,
            c.win_rate,
            c.total_profit_usd
        from public.wallet_analysis_cache as c
        where c.wallet_address = p_wallet_address
          and c.last_analyzed <= p_as_of
    ),

    trading as (
        select * from public.wallet_trading_at(p_wallet_address, p_as_of)
    ),

    weighted as (
        select
            case when a.age_days > 180 then 0.15 when a.age_days > 90 then 0.10 else 0 end
            + case when a.total_profit_usd > 0 then 0.20 else 0 end
            + case
                when a.win_rate > 60 then 0.25
                when a.win_rate > 50 and a.total_transactions > 100 then 0.20
                else 0
            end
            + case when tr.volume_usd > 100000 then 0.15 when tr.volume_usd > 10000 then 0.10 else 0 end
            + case when a.unique_tokens_traded > 50 then 0.15 else 0 end
            + case when tr.graduated_tokens > 3 then 0.25 else 0 end
            + case when a.sol_balance > 100 then 0.15 when a.sol_balance > 10 then 0.10 else 0 end
            + case when a.total_transactions > 500 then 0.10 else 0 end
            + case
                when tr.buys + tr.sells > 0
                    and tr.buys::numeric / (tr.buys + tr.sells) > 0.3
                    and tr.buys::numeric / (tr.buys + tr.sells) < 0.7
                    then 0.15
                else 0
            end as score,
            a.total_profit_usd is not null and a.win_rate is not null as applies,
            a.age_days,
            a.sol_balance
        from analysis as a
        cross join trading as tr
    )

    select
        case
            when w.applies then w.score >= 1.23
            when w.age_days is not null and w.sol_balance is not null then w.age_days > 90 and w.sol_balance > 10
        end as is_smart_money,
        case
            when w.applies then 'weighted'
            when w.age_days is not null and w.sol_balance is not null then 'simplified'
            else 'unknown'
        end as rule,
        case when w.applies then w.score end as score
    from (select 1) as one
    left join weighted as w on true
$$;

-- frozen holder snapshots outlive holder_scores' retention --------------------------------------
create table frozen_holder_scores (like holder_scores including defaults including generated including constraints);
alter table frozen_holder_scores add primary key (token_mint);

comment on table frozen_holder_scores is
'The frozen holder snapshot of each graduated token (spec §2.2), copied from holder_scores when written there; not '
'subject to holder_scores'' 60-day retention.';

create function keep_frozen_holder_score() returns trigger
language plpgsql
as $$
declare
    v_columns text;
begin
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum)
    into v_columns
    from pg_attribute as a
    where a.attrelid = 'public.holder_scores'::regclass
      and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      and exists (
          select 1 from pg_attribute as f
          where f.attrelid = 'public.frozen_holder_scores'::regclass and f.attname = a.attname and not f.attisdropped
      );

    execute format(
        'insert into public.frozen_holder_scores (%1$s) select %1$s from (select ($1).*) as s '
        'on conflict (token_mint) do nothing',
        v_columns
    ) using new;
    return null;
end
$$;

comment on function keep_frozen_holder_score() is
'AFTER INSERT trigger on holder_scores: copies a frozen snapshot into frozen_holder_scores (the first one per token).';

create trigger keep_frozen_holder_score
after insert on holder_scores
for each row
when (new.is_frozen)
execute function keep_frozen_holder_score();

alter table megatron.holder_horizon owner to megatron_owner;
alter table frozen_holder_scores owner to megatron_owner;
alter function megatron.roll_holder_horizon(timestamptz) owner to megatron_owner;
alter function megatron.apply_retention(regclass) owner to megatron_owner;
alter function keep_frozen_holder_score() owner to megatron_owner;
alter function wallet_trading_at(text, timestamptz) owner to megatron_owner;
grant select on megatron.holder_horizon to megatron_ingest, megatron_orchestrator, megatron_analyst;
