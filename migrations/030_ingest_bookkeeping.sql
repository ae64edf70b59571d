-- 030_ingest_bookkeeping: what the loader needs besides the raw tables — runs, rejects, the
-- RPC cursor — and the relaxations that let a token be known before its create event is seen.

create table megatron.ingest_runs (
    run_id bigint generated always as identity primary key,
    source text not null,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    records_read bigint not null default 0,
    records_skipped bigint not null default 0,
    records_rejected bigint not null default 0,
    events_read bigint not null default 0,
    events_accepted bigint not null default 0,
    events_duplicate bigint not null default 0,
    events_rejected bigint not null default 0,
    status text not null default 'running' check (status in ('running', 'done', 'failed')),
    error text
);

comment on table megatron.ingest_runs is
'One row per `megatron ingest` / simulator load: what was read and what became of it. records_read = '
'decoded + skipped + rejected; events_read = accepted + duplicate + rejected.';

create table megatron.ingest_rejects (
    reject_id bigint generated always as identity primary key,
    run_id bigint not null references megatron.ingest_runs (run_id) on delete cascade,
    origin text not null,
    reason text not null,
    message text not null,
    payload text,
    rejected_at timestamptz not null default now()
);

create index ingest_rejects_run_idx on megatron.ingest_rejects (run_id);
-- the same bad input read again (a re-run) is recorded once, under the run that first saw it
create unique index ingest_rejects_once_idx on megatron.ingest_rejects (origin, reason, md5(coalesce(payload, '')));
create index ingest_rejects_reason_idx on megatron.ingest_rejects (reason);

comment on table megatron.ingest_rejects is
'Every input record or event the loader could not load: where it came from, a reason code, a '
'sentence, and the raw payload verbatim.';

create table megatron.rpc_cursors (
    address text primary key,
    newest_signature text,
    oldest_signature text,
    backfill_done boolean not null default false,
    updated_at timestamptz not null default now()
);

comment on table megatron.rpc_cursors is
'Resumable position of `megatron ingest --rpc` per paged address: the newest signature already '
'fetched and how far back the backfill got.';

-- A token can be seen through a trade before its create event is (an RPC pull of one mint,
-- a backfill that starts mid-life): the loader stubs it, and the create event fills it in.
alter table tokens alter column creation_signature drop not null;
alter table tokens alter column creation_timestamp drop not null;
alter table tokens alter column creator_address drop not null;
comment on column tokens.creation_signature is
'NULL while the token is known only from trades (a stub); the create event fills it.';

-- The slot of the trade whose reserves the pool row holds, so an older batch never
-- overwrites a newer state.
alter table pools add column state_slot bigint;
comment on column pools.state_slot is 'Slot of the trade that set the reserves, progress and latest price.';

alter table megatron.ingest_runs owner to megatron_owner;
alter table megatron.ingest_rejects owner to megatron_owner;
alter table megatron.rpc_cursors owner to megatron_owner;
grant select, insert, update on megatron.ingest_runs, megatron.ingest_rejects, megatron.rpc_cursors to megatron_ingest;
grant select on megatron.ingest_runs, megatron.ingest_rejects, megatron.rpc_cursors
to megatron_analyst, megatron_orchestrator;
