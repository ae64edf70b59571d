-- 028_maintenance_functions: retention and compression as the registry declares them, for the
-- orchestrator.
--
-- TimescaleDB lets only a hypertable's owner call drop_chunks and compress_chunk. Rather than
-- making megatron_orchestrator an owner (which would also give it every ALTER and DROP),
-- these SECURITY DEFINER functions (owned by megatron_owner, see 029) do exactly one thing
-- each, with the intervals of megatron.hypertable_policies: the caller chooses the table,
-- never how much data goes. On TimescaleDB Community the native jobs do the same work; on
-- Apache the Prefect flows call apply_retention (compression does not exist there).

set local search_path = public, megatron;

create function megatron.apply_retention(p_hypertable regclass) returns setof text
language plpgsql
security definer
set search_path = pg_catalog, public, megatron, pg_temp
as $$
declare
    v_drop_after interval;
begin
    select h.drop_after
    into v_drop_after
    from megatron.hypertable_policies as h
    where h.hypertable = p_hypertable;

    if v_drop_after is null then
        raise exception '% has no retention declared in megatron.hypertable_policies', p_hypertable
            using errcode = 'invalid_parameter_value';
    end if;

    return query
    select dropped::text
    from drop_chunks(p_hypertable, older_than => v_drop_after) as dropped;
end
$$;

comment on function megatron.apply_retention(regclass) is
'Drop the chunks of a registered hypertable that are entirely older than now() - its declared drop_after; '
'returns the dropped chunks. For megatron_orchestrator (runs as the owner).';

create function megatron.apply_compression(p_hypertable regclass) returns setof text
language plpgsql
security definer
set search_path = pg_catalog, public, megatron, pg_temp
as $$
declare
    v_compress_after interval;
begin
    if megatron.timescaledb_edition() <> 'timescale' then
        raise exception 'compression needs the TimescaleDB Community edition; this server runs %',
            megatron.timescaledb_edition()
            using errcode = 'feature_not_supported';
    end if;

    select h.compress_after
    into v_compress_after
    from megatron.hypertable_policies as h
    where h.hypertable = p_hypertable;

    if v_compress_after is null then
        raise exception '% has no compression declared in megatron.hypertable_policies', p_hypertable
            using errcode = 'invalid_parameter_value';
    end if;

    return query
    select compress_chunk(chunk, if_not_compressed => true)::text
    from show_chunks(p_hypertable, older_than => v_compress_after) as chunk;
end
$$;

comment on function megatron.apply_compression(regclass) is
'Compress the chunks of a registered hypertable older than its declared compress_after (TimescaleDB Community only); '
'returns the chunks. For megatron_orchestrator (runs as the owner).';
