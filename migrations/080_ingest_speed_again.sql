-- 080_ingest_speed_again: the loader's SQL half made cheaper again without changing what it stores
-- (issue 8, "loader / storage floor must not fall by more than 10 %"; docs/schema-decisions.md #114-#119,
-- docs/benchmarks.md "Loader speed, round 2"). Same tables, same values, whatever the order or
-- batching of the input (tests/test_exact_raw.py):
--   * ingest_prepare(): the batch's new trades (ingest_new_trades) keep planner statistics only for
--     the columns the loader's statements join, group or filter on, from a small sample; its
--     per-batch ANALYZE was a tenth of ingest_apply()'s time.

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
