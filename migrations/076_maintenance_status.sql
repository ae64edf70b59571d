-- 076_maintenance_status: what the compression check, the retention audit and the aggregate refresh of the
-- Prefect flows (issue 12) read, as SQL functions so the flows hold no SQL and every figure is defined once.
--
-- * megatron.retention_cutoff(regclass): where retention of a registered hypertable cuts now (the end of the
--   newest chunk entirely older than now() - drop_after). apply_retention (028/035) is redefined to use it, so
--   the dry run (megatron.retention_due) and the real drop cannot disagree about which chunks go.
-- * megatron.retention_due(regclass): the chunks apply_retention would drop now (the retention audit's dry run).
-- * megatron.policy_jobs(): each TimescaleDB policy job (Community) with its health from job_stats.
-- * megatron.compression_status(), megatron.retention_status(), megatron.aggregate_status(): one row per
--   registry entry with the figures the audits report. They work on both editions (edition branches live here,
--   next to the registry, not in the flows).
--
-- All are SECURITY INVOKER and read only: what they read (the registry, timescaledb_information) the
-- orchestrator and the analyst may already read. Dropping stays with apply_retention (SECURITY DEFINER).

set local search_path = public, megatron;

create function megatron.retention_cutoff(p_hypertable regclass) returns timestamptz
language sql stable
set search_path = pg_catalog, public, megatron, pg_temp
as $$
    select max(c.range_end)
    from megatron.hypertable_policies as h
    inner join timescaledb_information.chunks as c
        on format('%I.%I', c.hypertable_schema, c.hypertable_name)::regclass = h.hypertable
    where h.hypertable = p_hypertable
      and h.drop_after is not null
      and c.range_end <= now() - h.drop_after
$$;

comment on function megatron.retention_cutoff(regclass) is
'The end of the newest chunk of a registered hypertable entirely older than now() - its drop_after: retention '
'drops every chunk ending at or before it. NULL when nothing is due (or no retention is declared).';

create function megatron.retention_due(p_hypertable regclass)
returns table (chunk text, range_start timestamptz, range_end timestamptz)
language sql stable
set search_path = pg_catalog, public, megatron, pg_temp
as $$
    select
        format('%I.%I', c.chunk_schema, c.chunk_name) as chunk,
        c.range_start,
        c.range_end
    from timescaledb_information.chunks as c
    where format('%I.%I', c.hypertable_schema, c.hypertable_name)::regclass = p_hypertable
      and c.range_end <= megatron.retention_cutoff(p_hypertable)
    order by c.range_start
$$;

comment on function megatron.retention_due(regclass) is
'The chunks megatron.apply_retention would drop now (a dry run): those ending at or before retention_cutoff.';

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
    v_horizon := megatron.retention_cutoff(p_hypertable);
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
'Drop the chunks of a registered hypertable that are entirely older than now() - its declared drop_after '
'(megatron.retention_due lists them beforehand); for transactions first fold the removed trades into '
'megatron.holder_horizon; record the new horizon in megatron.retention_horizons. Returns the dropped chunks. '
'For megatron_orchestrator (runs as the owner).';

create function megatron.policy_jobs()
returns table (
    relation regclass,
    kind text,
    job_id integer,
    scheduled boolean,
    schedule_interval interval,
    last_run_started_at timestamptz,
    last_successful_finish timestamptz,
    last_run_status text,
    total_runs bigint,
    total_failures bigint,
    next_start timestamptz
)
language sql stable
set search_path = pg_catalog, public, megatron, pg_temp
as $$
    select
        coalesce(
            to_regclass(j.config ->> 'hypertable'),
            to_regclass(format('%I.%I', j.hypertable_schema, j.hypertable_name))
        ) as relation,
        case
            when j.proc_name = 'policy_compression' then 'compression'
            when j.proc_name = 'policy_retention' then 'retention'
            when j.proc_schema = 'megatron' and j.proc_name = 'retention_job' then 'retention'
            when j.proc_name = 'policy_refresh_continuous_aggregate' then 'refresh'
            else j.proc_name
        end as kind,
        j.job_id,
        j.scheduled,
        j.schedule_interval,
        s.last_run_started_at,
        s.last_successful_finish,
        s.last_run_status,
        s.total_runs,
        s.total_failures,
        coalesce(s.next_start, j.next_start) as next_start
    from timescaledb_information.jobs as j
    left join timescaledb_information.job_stats as s on s.job_id = j.job_id
    where j.job_id >= 1000
$$;

comment on function megatron.policy_jobs() is
'The TimescaleDB policy jobs (Community; none on Apache) of the registered objects with their health: kind '
'(compression, retention, refresh), last run, last success, failures.';

create function megatron.compressed_bytes(p_hypertable regclass)
returns table (before_bytes bigint, after_bytes bigint)
language plpgsql stable
set search_path = pg_catalog, public, megatron, pg_temp
as $$
begin
    if megatron.timescaledb_edition() <> 'timescale' then
        return;  -- no compression on this edition
    end if;
    return query
    select s.before_compression_total_bytes, s.after_compression_total_bytes
    from hypertable_compression_stats(p_hypertable) as s;
end
$$;

comment on function megatron.compressed_bytes(regclass) is
'Bytes of the compressed chunks of a hypertable before and after compression (Community; no row on Apache).';

create function megatron.compression_status()
returns table (
    hypertable regclass,
    compress_after interval,
    native boolean,
    chunks bigint,
    compressed_chunks bigint,
    overdue_chunks bigint,
    before_bytes bigint,
    after_bytes bigint,
    ratio numeric,
    job_id integer,
    last_run_started_at timestamptz,
    last_successful_finish timestamptz,
    last_run_status text,
    total_failures bigint
)
language sql stable
set search_path = pg_catalog, public, megatron, pg_temp
as $$
    with

    registry as (
        select h.hypertable, h.compress_after, h.native
        from megatron.hypertable_policies as h
        where h.compress_after is not null
    ),

    chunk_counts as (
        select
            r.hypertable,
            count(c.chunk_name) as chunks,
            count(c.chunk_name) filter (where c.is_compressed) as compressed_chunks,
            count(c.chunk_name) filter (
                where not c.is_compressed and c.range_end <= now() - r.compress_after
            ) as overdue_chunks
        from registry as r
        left join timescaledb_information.chunks as c
            on format('%I.%I', c.hypertable_schema, c.hypertable_name)::regclass = r.hypertable
        group by r.hypertable
    ),

    jobs as (
        select * from megatron.policy_jobs() as j
        where j.kind = 'compression'
    )

    select
        r.hypertable,
        r.compress_after,
        r.native,
        cc.chunks,
        cc.compressed_chunks,
        cc.overdue_chunks,
        b.before_bytes,
        b.after_bytes,
        round(b.before_bytes::numeric / nullif(b.after_bytes, 0), 2) as ratio,
        j.job_id,
        j.last_run_started_at,
        j.last_successful_finish,
        j.last_run_status,
        j.total_failures
    from registry as r
    inner join chunk_counts as cc on cc.hypertable = r.hypertable
    left join lateral megatron.compressed_bytes(r.hypertable) as b on true
    left join jobs as j on j.relation = r.hypertable
    order by r.hypertable::text
$$;

comment on function megatron.compression_status() is
'Per hypertable with compression declared: chunks, compressed chunks, chunks past compress_after still '
'uncompressed (overdue), bytes before/after compression and their ratio (Community), the policy job''s health.';

create function megatron.oldest_time(p_hypertable regclass) returns timestamptz
language plpgsql stable
set search_path = pg_catalog, public, megatron, pg_temp
as $$
declare
    v_column text;
    v_oldest timestamptz;
begin
    select h.time_column into v_column from megatron.hypertable_policies as h where h.hypertable = p_hypertable;
    if v_column is null then
        raise exception '% is not in megatron.hypertable_policies', p_hypertable using errcode = 'invalid_parameter_value';
    end if;
    execute format('select min(%I)::timestamptz from %s', v_column, p_hypertable) into v_oldest;
    return v_oldest;
end
$$;

comment on function megatron.oldest_time(regclass) is
'The oldest time (its registered time column) of any row of a registered hypertable; NULL when empty.';

create function megatron.retention_status()
returns table (
    hypertable regclass,
    drop_after interval,
    native boolean,
    oldest_data timestamptz,
    keep_from timestamptz,
    due_chunks bigint,
    cutoff timestamptz,
    recorded_horizon timestamptz,
    job_id integer,
    last_run_started_at timestamptz,
    last_successful_finish timestamptz,
    last_run_status text,
    total_failures bigint
)
language sql stable
set search_path = pg_catalog, public, megatron, pg_temp
as $$
    with

    registry as (
        select h.hypertable, h.drop_after, h.native
        from megatron.hypertable_policies as h
        where h.drop_after is not null
    ),

    jobs as (
        select * from megatron.policy_jobs() as j
        where j.kind = 'retention'
    )

    select
        r.hypertable,
        r.drop_after,
        r.native,
        megatron.oldest_time(r.hypertable) as oldest_data,
        now() - r.drop_after as keep_from,
        (select count(*) from megatron.retention_due(r.hypertable)) as due_chunks,
        megatron.retention_cutoff(r.hypertable) as cutoff,
        rh.horizon as recorded_horizon,
        j.job_id,
        j.last_run_started_at,
        j.last_successful_finish,
        j.last_run_status,
        j.total_failures
    from registry as r
    left join megatron.retention_horizons as rh on rh.hypertable = r.hypertable
    left join jobs as j on j.relation = r.hypertable
    order by r.hypertable::text
$$;

comment on function megatron.retention_status() is
'Per hypertable with retention declared: its oldest data vs now() - drop_after (keep_from), the chunks due for '
'dropping (entirely older), the horizon retention last recorded, the native job''s health (Community).';

create function megatron.aggregate_status()
returns table (
    aggregate text,
    native boolean,
    start_offset interval,
    end_offset interval,
    schedule_interval interval,
    watermark timestamptz,
    lagging boolean
)
language plpgsql stable
set search_path = pg_catalog, public, megatron, pg_temp
as $$
begin
    if megatron.timescaledb_edition() <> 'timescale' then
        -- Apache: dbt models stand in for the aggregates (the refresh flow rebuilds them every minute)
        return query
        select a.aggregate, a.native, a.start_offset, a.end_offset, a.schedule_interval, null::timestamptz, null::boolean
        from megatron.aggregate_policies as a
        order by a.aggregate;
        return;
    end if;
    return query
    with

    marks as (
        select
            format('%I.%I', ca.user_view_schema, ca.user_view_name)::regclass as view,
            _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) as internal_mark
        from _timescaledb_catalog.continuous_agg as ca
    ),

    readable as (
        -- never materialized: the watermark is the smallest internal time (4714 BC), shown as NULL
        select
            mk.view,
            case
                when mk.internal_mark > _timescaledb_functions.to_unix_microseconds('0001-01-01 00:00:00+00')
                    then _timescaledb_functions.to_timestamp(mk.internal_mark)
            end as mark
        from marks as mk
    )

    select
        a.aggregate,
        a.native,
        a.start_offset,
        a.end_offset,
        a.schedule_interval,
        m.mark,
        coalesce(m.mark < now() - a.end_offset - 2 * a.schedule_interval, true) as lagging
    from megatron.aggregate_policies as a
    left join readable as m on m.view = to_regclass(a.aggregate)
    order by a.aggregate;
end
$$;

comment on function megatron.aggregate_status() is
'Per declared aggregate: on Community its watermark (materialized up to) and whether it lags (older than '
'now() - end_offset - two refresh intervals; NULL watermark = never materialized); on Apache watermark and '
'lagging are NULL (dbt models stand in).';

alter function megatron.retention_cutoff(regclass) owner to megatron_owner;
alter function megatron.retention_due(regclass) owner to megatron_owner;
alter function megatron.apply_retention(regclass) owner to megatron_owner;
alter function megatron.policy_jobs() owner to megatron_owner;
alter function megatron.compressed_bytes(regclass) owner to megatron_owner;
alter function megatron.compression_status() owner to megatron_owner;
alter function megatron.oldest_time(regclass) owner to megatron_owner;
alter function megatron.retention_status() owner to megatron_owner;
alter function megatron.aggregate_status() owner to megatron_owner;
