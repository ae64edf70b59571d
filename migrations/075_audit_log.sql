-- 075_audit_log: the seed's planned audit_log ("system activity tracking", not yet implemented there),
-- written by the scheduled maintenance flows (issue 12): one row per compression check and retention
-- audit, saying what was found and what was done.
--
-- Rows are appended, never changed: megatron_orchestrator may insert and read, nobody else writes;
-- analysts read. details holds the per-hypertable findings (and the dropped or compressed chunks) as
-- JSON, so the table does not change shape when a check grows a column.

set local search_path = public, megatron;

create table audit_log (
    id bigint generated always as identity primary key,
    job text not null check (job in ('compression_check', 'retention_audit')),
    started_at timestamptz not null,
    finished_at timestamptz not null default now(),
    edition text not null,
    dry_run boolean not null,
    outcome text not null check (outcome in ('ok', 'attention', 'failed')),
    description text not null,
    details jsonb not null default '[]'::jsonb,
    flow_run_id uuid,
    db_user text not null default current_user,
    constraint finished_after_start check (finished_at >= started_at)
);

create index audit_log_job_time on audit_log (job, finished_at desc);

comment on table audit_log is
'One row per maintenance run (compression check, retention audit): what it found and did. Written by the '
'Prefect flows as megatron_orchestrator; append-only.';
comment on column audit_log.dry_run is 'true: nothing was changed (the run only reported what it would do).';
comment on column audit_log.outcome is
'ok | attention (something needs a look: overdue chunks, a failing policy job, data past its drop_after) | failed.';
comment on column audit_log.description is 'One sentence: what was found and done.';
comment on column audit_log.details is 'Per hypertable: the figures checked and the chunks dropped or compressed.';
comment on column audit_log.flow_run_id is 'The Prefect flow run that wrote the row (NULL outside Prefect).';

alter table audit_log owner to megatron_owner;
grant select on audit_log to megatron_analyst, megatron_orchestrator;
grant insert on audit_log to megatron_orchestrator;
