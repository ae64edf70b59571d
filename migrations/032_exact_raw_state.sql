-- 032_exact_raw_state: the raw layer keeps every fact it is given and derives the rest from
-- those facts, so the same events give the same tables whatever the order and batching in
-- which they arrive (issue 8; docs/schema-decisions.md #62-#80).
--
-- * Each trade keeps the curve/pool state after it (virtual and real SOL/quote and token
--   reserves), the position of its transaction in the block where the source knows it
--   (tx_index), and its rank among the trades of its pool in its slot (slot_order).
-- * One total order of trades, used by the loader and every as-of function:
--       block_time, slot, slot_order, signature, event_index
--   slot_order is derived from the facts of the (pool, slot) group: by tx_index when every
--   trade of the group has one; else by the reserve chain (each trade's pre-state, its
--   post-state undone by its own token amount, is the previous trade's post-state); else by
--   (signature, event_index). It is recomputed whenever a trade joins its group.
-- * Curve-complete and migration events are stored (graduation_events); the token's
--   graduation fields are derived from them, the curve-complete event owning the time.
-- * A slot of 0 means "unknown" in the canonical format and is stored as NULL.
-- * Tokens keep their creation slot; pools the number of tokens their curve sells in total.

set local search_path = public, megatron;

-- TimescaleDB Community refuses most ALTERs (columns with constraints, NOT NULL changes, type
-- changes) on a hypertable with compression enabled. For the two tables changed here: decompress
-- what is compressed, switch compression off, alter, and declare the policies again from the
-- registry at the end (the policy job compresses the chunks again).
do $$
declare
    v_table regclass;
begin
    if megatron.timescaledb_edition() = 'timescale' then
        foreach v_table in array array['public.transactions'::regclass, 'public.technical_scores'::regclass] loop
            perform decompress_chunk(c, if_compressed => true) from show_chunks(v_table) as c;
            perform remove_compression_policy(v_table, if_exists => true);
            execute format('alter table %s set (timescaledb.compress = false)', v_table);
        end loop;
    end if;
end
$$;

-- trades: state after each trade, and its place in the one event order -------------------
alter table transactions
add column virtual_sol_reserves numeric(20, 0),
add column virtual_token_reserves numeric(20, 0),
add column real_sol_reserves numeric(20, 0),
add column real_token_reserves numeric(20, 0),
add column tx_index integer check (tx_index >= 0),
add column slot_order integer check (slot_order >= 1);
alter table transactions alter column slot drop not null;

comment on column transactions.virtual_sol_reserves is
'Virtual SOL (quote) reserves of the pool after this trade, raw units; NULL when the source did not carry them.';
comment on column transactions.virtual_token_reserves is 'Virtual token reserves after this trade, raw units.';
comment on column transactions.real_sol_reserves is 'Real SOL (quote) reserves after this trade, raw units.';
comment on column transactions.real_token_reserves is
'Real token reserves after this trade (tokens the curve can still sell), raw units.';
comment on column transactions.tx_index is
'Position of the transaction in its block, where the source knows it (Geyser, getBlock); NULL otherwise.';
comment on column transactions.slot_order is
'Rank of this trade among its pool''s trades of the same slot (1 = first): by tx_index when all are known, else '
'by the reserve chain, else by (signature, event_index). The event order is (block_time, slot, slot_order, '
'signature, event_index).';
comment on column transactions.slot is 'Slot of the block; NULL when the source did not say (canonical slot 0).';

alter table tokens add column creation_slot bigint;
comment on column tokens.creation_slot is
'Slot of the create event (sniper and bundle signals compare trade slots to it).';

alter table pools
add column curve_sell_supply numeric(20, 0),
add column state_time timestamptz;
comment on column pools.curve_sell_supply is
'Tokens the bonding curve sells in total, raw units: the create event''s initial real token reserves (pump.fun), '
'LaunchLab''s total_base_sell; NULL = the classic pump.fun 793,100,000 tokens.';
comment on column pools.state_time is
'Block time of the trade whose state (reserves, progress, latest price) the row holds.';

-- one trade per (signature, event_index) across the whole table ------------------------------------
-- A hypertable's unique key must hold its time column, so (signature, event_index, block_time) let
-- the same event with another block time in twice. The keys live here too, in a plain table whose
-- primary key has no time column; the loader inserts a trade only when its key is new here.
create table megatron.trade_keys (
    signature text collate "C" not null,  -- byte order: a third cheaper to index than the locale's
    event_index smallint not null,
    block_time timestamptz not null,
    primary key (signature, event_index)
);

comment on table megatron.trade_keys is
'(signature, event_index) of every trade stored, with its block time: unique across the whole transactions '
'hypertable. Keys older than the retention horizon are removed with their trades (megatron.apply_retention).';

insert into megatron.trade_keys (signature, event_index, block_time)
select distinct on (tx.signature, tx.event_index)
    tx.signature,
    tx.event_index,
    tx.block_time
from transactions as tx
order by tx.signature, tx.event_index, tx.block_time;

-- graduation facts -------------------------------------------------------------------------
create table graduation_events (
    signature text not null check (char_length(signature) <= 88),
    event_index smallint not null check (event_index >= 0),
    kind text not null check (kind in ('curve_complete', 'migration')),
    token_mint text not null check (char_length(token_mint) <= 44),
    block_time timestamptz not null,
    slot bigint,
    bonding_curve text check (char_length(bonding_curve) <= 44),
    pool_address text check (char_length(pool_address) <= 44),
    platform text check (char_length(platform) <= 50),
    loaded_at timestamptz not null default now(),
    primary key (signature, event_index)
);

comment on table graduation_events is
'Curve-complete and migration events as loaded. tokens.is_graduated, graduation_timestamp, graduation_signature and '
'graduation_platform are derived from them: the first curve_complete in event order owns time and signature (the '
'first migration stands in until one is seen); the first migration names the platform.';
create index idx_graduation_events_mint on graduation_events (token_mint);

-- holder_updates: one row per trade, keyed by it ---------------------------------------------
alter table holder_updates
add column signature text check (char_length(signature) <= 88),
add column event_index smallint;
create unique index uq_holder_updates_trade on holder_updates (signature collate "C", event_index)
where signature is not null;
comment on column holder_updates.signature is
'The trade this balance change comes from (loader rows); old/new balance are recomputed from all of the wallet''s '
'trades whenever one arrives, so they do not depend on arrival order.';

-- holder-score queue: urgent first, one row per milestone, stamped with event time -------------
drop trigger queue_holder_score_update on pools;
drop index idx_queue_priority;
drop index uq_holder_score_queue_pending;
alter table holder_score_queue add column milestone integer check (milestone in (10, 15, 25, 50, 75, 90, 95, 100));
create unique index uq_holder_score_queue_milestone on holder_score_queue (token_mint, milestone)
where milestone is not null;
create unique index uq_holder_score_queue_pending on holder_score_queue (token_mint)
where processed_at is null and milestone is null;
create index idx_queue_priority on holder_score_queue (priority asc, scheduled_at asc) where processed_at is null;
comment on column holder_score_queue.milestone is
'The progress milestone reached (spec §2.3: 10, 15, 25, 50, 75, 90, 95, 100); scheduled_at is the block time of '
'the first trade at or past it. One row per token and milestone; other reasons keep one pending row per token.';
comment on column holder_score_queue.priority is
'1 = most urgent (spec §2.3): 1 for >= 90 %, 2 for 75 %, 3 for 10 %, 5 otherwise.';

-- ratios that can be +infinity (spec T9) ------------------------------------------------------
alter table technical_scores alter column buy_sell_ratio type numeric;
alter table technical_scores alter column recovery_strength type numeric;
comment on column technical_scores.buy_sell_ratio is
'Buy/sell volume ratio; ''Infinity'' with buys and no sells (spec T9).';
comment on column technical_scores.recovery_strength is 'Recovery strength; ''Infinity'' where spec T9 says so.';

-- compression and retention of both tables as declared (native again on Community). TimescaleDB
-- wants the table's owner to be able to log in when a policy is added (029): the migrating role
-- holds the tables for that moment and hands them back.
do $$
declare
    h megatron.hypertable_policies;
begin
    for h in
        select * from megatron.hypertable_policies as p
        where p.hypertable in ('public.transactions'::regclass, 'public.technical_scores'::regclass)
    loop
        execute format('alter table %s owner to %I', h.hypertable, current_user);
        perform megatron.declare_hypertable(
            h.hypertable, h.time_column, h.chunk_interval, h.compress_segmentby, h.compress_orderby,
            h.compress_after, h.drop_after
        );
        execute format('alter table %s owner to megatron_owner', h.hypertable);
    end loop;
end
$$;

alter table graduation_events owner to megatron_owner;
alter table megatron.trade_keys owner to megatron_owner;
grant select, insert on megatron.trade_keys to megatron_ingest;
grant select on megatron.trade_keys to megatron_orchestrator, megatron_analyst;
