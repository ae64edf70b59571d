-- 041_rpc_retries_and_gaps: the RPC source neither leaves gaps nor drops a transaction after a
-- transient failure.
--
-- Why: with --limit N a normal run fetched the N newest signatures and moved the cursor past
-- everything older that had arrived since the last run: that gap was never fetched. The cursor
-- now remembers it: gap_before/gap_until bound signatures still to fetch (exclusive, newest
-- first: older than gap_before and newer than gap_until), and the next runs work through the
-- gap before anything newer. A transaction that failed after its retries (rpc_error) or that the
-- node did not have yet (not_found) went past the cursor for good; it now waits in
-- megatron.rpc_retries, with its attempts and last error, until a later run fetches it.

set local search_path = public, megatron;

alter table megatron.rpc_cursors
add column gap_before text,
add column gap_until text;

comment on column megatron.rpc_cursors.gap_before is
'With gap_until: signatures older than this one (and newer than gap_until) are not fetched yet; '
'NULL when there is no gap.';
comment on column megatron.rpc_cursors.gap_until is
'The lower end (exclusive) of the gap: the newest signature fetched before the gap opened.';

create table megatron.rpc_retries (
    address text not null,
    signature text not null,
    attempts integer not null default 1 check (attempts > 0),
    reason text not null check (reason in ('rpc_error', 'not_found')),
    last_error text not null,
    first_failed_at timestamptz not null default now(),
    last_failed_at timestamptz not null default now(),
    primary key (address, signature)
);

comment on table megatron.rpc_retries is
'Signatures a --rpc run could not fetch (rpc_error after retries, or not_found yet): later runs fetch '
'them first; a row goes away when its transaction is fetched.';

alter table megatron.rpc_retries owner to megatron_owner;
grant select, insert, update, delete on megatron.rpc_retries to megatron_ingest;
grant select on megatron.rpc_retries to megatron_analyst, megatron_orchestrator;
