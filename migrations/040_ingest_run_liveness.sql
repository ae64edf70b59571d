-- 040_ingest_run_liveness: a load's row in megatron.ingest_runs ends 'succeeded', 'failed' (with
-- the error) or is recognisably 'abandoned'; rejects can keep raw input that text cannot hold.
--
-- Why: a killed loader left its run 'running' forever, with nothing to tell a live run from a
-- dead one. Each loader now records the client's process id and host, its server backend, and a
-- heartbeat (refreshed at every committed batch), and holds a session-level advisory lock on
-- (megatron.ingest_run_lock_class(), run_id) for as long as it runs. A session's advisory locks
-- vanish with the session however it ends (kill -9, a lost connection, a server restart), so
-- megatron.ingest_mark_abandoned() can tell, set-based, which 'running' rows nobody holds any
-- more, and marks them 'abandoned'. Every loader calls it when it starts.
--
-- 'done' becomes 'succeeded' (the word the run bookkeeping uses from now on).
--
-- ingest_rejects.payload_bytes: the raw input of a reject whose bytes PostgreSQL text cannot
-- store verbatim (a NUL byte, bytes that are not UTF-8, a file that is not gzip); payload then
-- holds a readable rendering of it.

set local search_path = public, megatron;

alter table megatron.ingest_runs drop constraint ingest_runs_status_check;
update megatron.ingest_runs set status = 'succeeded'
where status = 'done';
alter table megatron.ingest_runs add constraint ingest_runs_status_check
check (status in ('running', 'succeeded', 'failed', 'abandoned'));

alter table megatron.ingest_runs
add column client_pid integer,
add column client_host text,
add column backend_pid integer,
add column heartbeat_at timestamptz;

comment on column megatron.ingest_runs.status is
'running | succeeded | failed (error says why) | abandoned (the loader went away without finishing: '
'killed, or its connection was lost; what it committed is kept and a re-run loads the rest).';
comment on column megatron.ingest_runs.client_pid is 'Process id of the loading program on client_host.';
comment on column megatron.ingest_runs.backend_pid is
'PostgreSQL backend (pg_backend_pid()) of the loader''s main connection.';
comment on column megatron.ingest_runs.heartbeat_at is 'When the loader last committed a batch or its counts.';

alter table megatron.ingest_rejects add column payload_bytes bytea;
comment on column megatron.ingest_rejects.payload_bytes is
'The raw input verbatim when text cannot hold it (NUL bytes, invalid UTF-8, not gzip); payload is then a '
'readable rendering.';

create function megatron.ingest_run_lock_class() returns integer
language sql immutable parallel safe
as $$ select 1835365490 $$;  -- arbitrary, fixed: the first key of the loaders' advisory locks

comment on function megatron.ingest_run_lock_class() is
'First key of pg_advisory_lock(key1, run_id) that a running loader holds on its main connection.';

create function megatron.ingest_mark_abandoned() returns integer
language plpgsql
set search_path = public, megatron
as $$
declare
    v_marked integer;
begin
    update megatron.ingest_runs as r set
        status = 'abandoned',
        finished_at = now(),
        error = 'the loader went away without finishing (killed, or its connection to the database was lost); '
            || 'what it committed is kept, and re-running the same input loads the rest'
    where r.status = 'running'
      and not exists (
          select 1
          from pg_locks as l
          where l.locktype = 'advisory'
            and l.database = (select d.oid from pg_database as d where d.datname = current_database())
            and l.classid = megatron.ingest_run_lock_class()::oid
            and l.objid = r.run_id::oid
            and l.objsubid = 2
      );
    get diagnostics v_marked = row_count;
    return v_marked;
end
$$;

comment on function megatron.ingest_mark_abandoned() is
'Mark every ''running'' ingest run whose loader no longer holds its advisory lock as ''abandoned''; '
'returns how many.';

alter function megatron.ingest_run_lock_class() owner to megatron_owner;
alter function megatron.ingest_mark_abandoned() owner to megatron_owner;
revoke all on function megatron.ingest_mark_abandoned() from public;
grant execute on function megatron.ingest_mark_abandoned() to megatron_ingest;
grant execute on function megatron.ingest_run_lock_class() to megatron_ingest, megatron_analyst, megatron_orchestrator;
