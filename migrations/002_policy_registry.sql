-- 002_policy_registry: what each hypertable and aggregate wants (chunking, compression,
-- retention, refresh), declared by migrations through two functions.
--
-- On TimescaleDB Community (timescaledb.license = 'timescale') the declaring migration also
-- applies the policy natively (compression settings, add_*_policy jobs). On the Apache
-- edition it is only recorded, and the Prefect flows carry it out (drop_chunks retention,
-- refreshed aggregate tables). Nothing else in the project branches on the edition.

create table megatron.hypertable_policies (
    hypertable regclass primary key,
    time_column text not null,
    chunk_interval interval not null,
    compress_segmentby text,
    compress_orderby text,
    compress_after interval,
    drop_after interval,
    native boolean not null,
    declared_at timestamptz not null default now(),
    constraint compress_after_needs_settings check (
        compress_after is null or compress_orderby is not null or compress_segmentby is not null
    ),
    constraint retention_after_compression check (
        drop_after is null or compress_after is null or drop_after > compress_after
    )
);

comment on table megatron.hypertable_policies is
'One row per hypertable: chunk interval, compression and retention. native = applied by TimescaleDB '
'jobs; else the orchestrator applies it.';

create table megatron.aggregate_policies (
    aggregate text primary key,
    source_hypertable regclass not null,
    bucket_width interval not null,
    start_offset interval not null,
    end_offset interval not null,
    schedule_interval interval not null,
    native boolean not null,
    declared_at timestamptz not null default now(),
    constraint window_is_positive check (start_offset > end_offset)
);

comment on table megatron.aggregate_policies is
'One row per continuous aggregate: refresh window and cadence. native = a TimescaleDB continuous '
'aggregate with its policy; else an aggregate table the orchestrator refreshes.';

create function megatron.timescaledb_edition() returns text
language sql stable
as $$ select coalesce(current_setting('timescaledb.license', true), 'none') $$;

comment on function megatron.timescaledb_edition() is
'timescale (Community, TSL: compression, continuous aggregates, policy jobs) or apache.';

create function megatron.declare_hypertable(
    p_table regclass,
    p_time_column text,
    p_chunk_interval interval,
    p_compress_segmentby text default null,
    p_compress_orderby text default null,
    p_compress_after interval default null,
    p_drop_after interval default null
) returns void
language plpgsql
as $$
declare
    v_native boolean := megatron.timescaledb_edition() = 'timescale';
    v_settings text[] := array[]::text[];
begin
    if p_compress_after is not null and p_compress_segmentby is null and p_compress_orderby is null then
        raise exception 'compression of % needs segmentby or orderby settings', p_table;
    end if;

    -- chunking applies on both editions
    if not exists (
        select 1 from timescaledb_information.hypertables as h
        where format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass = p_table
    ) then
        perform create_hypertable(p_table, p_time_column, chunk_time_interval => p_chunk_interval);
    else
        perform set_chunk_time_interval(p_table, p_chunk_interval);
    end if;

    if v_native then
        if p_compress_segmentby is not null or p_compress_orderby is not null then
            v_settings := array['timescaledb.compress'];
            if p_compress_segmentby is not null then
                v_settings := v_settings || format('timescaledb.compress_segmentby = %L', p_compress_segmentby);
            end if;
            if p_compress_orderby is not null then
                v_settings := v_settings || format('timescaledb.compress_orderby = %L', p_compress_orderby);
            end if;
            execute format('alter table %s set (%s)', p_table, array_to_string(v_settings, ', '));
        end if;
        perform remove_compression_policy(p_table, if_exists => true);
        if p_compress_after is not null then
            perform add_compression_policy(p_table, p_compress_after);
        end if;
        perform remove_retention_policy(p_table, if_exists => true);
        if p_drop_after is not null then
            perform add_retention_policy(p_table, p_drop_after);
        end if;
    end if;

    insert into megatron.hypertable_policies as p (
        hypertable, time_column, chunk_interval, compress_segmentby, compress_orderby,
        compress_after, drop_after, native
    )
    values (
        p_table, p_time_column, p_chunk_interval, p_compress_segmentby, p_compress_orderby,
        p_compress_after, p_drop_after, v_native
    )
    on conflict (hypertable) do update set
        time_column = excluded.time_column,
        chunk_interval = excluded.chunk_interval,
        compress_segmentby = excluded.compress_segmentby,
        compress_orderby = excluded.compress_orderby,
        compress_after = excluded.compress_after,
        drop_after = excluded.drop_after,
        native = excluded.native,
        declared_at = now();
end
$$;

comment on function megatron.declare_hypertable(regclass, text, interval, text, text, interval, interval) is
'Make p_table a hypertable (or re-chunk it) and declare its compression and retention: applied '
'natively on TimescaleDB Community, recorded for the orchestrator on Apache.';

create function megatron.declare_aggregate(
    p_aggregate text,
    p_source regclass,
    p_bucket_width interval,
    p_start_offset interval,
    p_end_offset interval,
    p_schedule_interval interval
) returns void
language plpgsql
as $$
declare
    v_native boolean := megatron.timescaledb_edition() = 'timescale';
begin
    if v_native then
        if to_regclass(p_aggregate) is null then
            raise exception 'continuous aggregate % does not exist; create it before declaring its policy', p_aggregate;
        end if;
        perform remove_continuous_aggregate_policy(p_aggregate::regclass, if_exists => true);
        perform add_continuous_aggregate_policy(
            p_aggregate::regclass,
            start_offset => p_start_offset,
            end_offset => p_end_offset,
            schedule_interval => p_schedule_interval
        );
    end if;

    insert into megatron.aggregate_policies as a (
        aggregate, source_hypertable, bucket_width, start_offset, end_offset, schedule_interval, native
    )
    values (p_aggregate, p_source, p_bucket_width, p_start_offset, p_end_offset, p_schedule_interval, v_native)
    on conflict (aggregate) do update set
        source_hypertable = excluded.source_hypertable,
        bucket_width = excluded.bucket_width,
        start_offset = excluded.start_offset,
        end_offset = excluded.end_offset,
        schedule_interval = excluded.schedule_interval,
        native = excluded.native,
        declared_at = now();
end
$$;

comment on function megatron.declare_aggregate(text, regclass, interval, interval, interval, interval) is
'Declare a 1-minute style aggregate''s refresh window: a native continuous aggregate policy on '
'TimescaleDB Community, a table the orchestrator refreshes on Apache.';

create view megatron.policies as
select
    'hypertable' as object_kind,
    h.hypertable::text as object_name,
    h.time_column,
    h.chunk_interval,
    h.compress_segmentby,
    h.compress_orderby,
    h.compress_after,
    h.drop_after,
    null::interval as refresh_start_offset,
    null::interval as refresh_end_offset,
    null::interval as refresh_every,
    case when h.native then 'native' else 'orchestrated' end as applied_by
from megatron.hypertable_policies as h
union all
select
    'aggregate' as object_kind,
    a.aggregate as object_name,
    null as time_column,
    a.bucket_width as chunk_interval,
    null as compress_segmentby,
    null as compress_orderby,
    null::interval as compress_after,
    null::interval as drop_after,
    a.start_offset as refresh_start_offset,
    a.end_offset as refresh_end_offset,
    a.schedule_interval as refresh_every,
    case when a.native then 'native' else 'orchestrated' end as applied_by
from megatron.aggregate_policies as a;

comment on view megatron.policies is 'The policy registry in one table, as `megatron policies` prints it.';
