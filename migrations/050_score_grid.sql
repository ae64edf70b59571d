-- 050_score_grid: the score grid, the one input of a scoring run (issue 11 item 3).
--
-- A scoring run is a set of (token, T) pairs under one run id. megatron.scoring fills the grid
-- (megatron.fill_score_grid: candidate tokens chosen set-based in SQL), runs the dbt models tagged
-- `scoring` with var('score_run_id'), which read the grid and write the snapshot hypertables
-- (insert ... on conflict do nothing, each row stamped with T), then deletes its grid rows.
-- The grid is transient bookkeeping, so it is an UNLOGGED table: a crash loses only runs in flight,
-- which re-running repeats at no cost (the snapshots are idempotent).
--
-- Candidates (p_mints null): tokens with a bonding-curve pool and at least one trade in
-- (T - p_active_within, T]; graduated ones are kept (their technical score is the frozen value as of
-- graduation). An explicit mint list takes every listed token with a trade at or before T. A shard
-- i/n keeps the mints with abs(hashtext(mint)) % n = i, so workers can split a run by token range.
--
-- The orchestrator role runs scoring: it writes the grid and (051, 052) the snapshot tables.

set local search_path = public, megatron;

create sequence megatron.score_run_id_seq;

create unlogged table megatron.score_grid (
    run_id bigint not null,
    token_mint text not null check (char_length(token_mint) <= 44),
    as_of timestamptz not null,
    primary key (run_id, token_mint, as_of)
);

comment on table megatron.score_grid is
'The (token, T) pairs of each scoring run (run_id from megatron.score_run_id_seq); the dbt models tagged scoring '
'read the rows of var(''score_run_id''). Transient: a run deletes its rows when done.';

create function megatron.fill_score_grid(
    p_run_id bigint,
    p_as_of timestamptz[],
    p_mints text[] default null,
    p_shard_index integer default null,
    p_shard_count integer default null,
    p_active_within interval default interval '24 hours'
) returns bigint
language plpgsql
set search_path = pg_catalog, public, megatron, pg_temp
as $$
declare
    v_rows bigint;
begin
    if p_shard_count is not null and (p_shard_count < 1 or p_shard_index is null
        or p_shard_index < 0 or p_shard_index >= p_shard_count) then
        raise exception 'shard %/% is not a shard: give i/n with 0 <= i < n', p_shard_index, p_shard_count
            using errcode = 'invalid_parameter_value';
    end if;
    if p_active_within <= interval '0' then
        raise exception 'the activity window must be positive, not %', p_active_within
            using errcode = 'invalid_parameter_value';
    end if;

    insert into megatron.score_grid (run_id, token_mint, as_of)
    select p_run_id, tk.mint_address, ts.as_of
    from unnest(p_as_of) as ts (as_of)
    cross join public.tokens as tk
    where
        (p_mints is null or tk.mint_address = any(p_mints))
        and (p_shard_count is null or abs(hashtext(tk.mint_address)) % p_shard_count = p_shard_index)
        and exists (
            select 1 from public.pools as po
            where po.token_id = tk.id and po.pool_type = 'initial'
        )
        and exists (
            select 1
            from public.transactions as tx
            where
                tx.token_id = tk.id
                and tx.type in ('buy', 'sell')
                and tx.block_time <= ts.as_of
                and (p_mints is not null or tx.block_time > ts.as_of - p_active_within)
        )
    on conflict do nothing;
    get diagnostics v_rows = row_count;
    return v_rows;
end
$$;

comment on function megatron.fill_score_grid(bigint, timestamptz[], text[], integer, integer, interval) is
'Fill the score grid of run p_run_id with (token, T) for each T in p_as_of: the listed mints with a trade at or '
'before T, or (no list) every bonding-curve token with a trade in (T - p_active_within, T]; a shard i/n keeps '
'abs(hashtext(mint)) % n = i. Returns the rows added.';

alter sequence megatron.score_run_id_seq owner to megatron_owner;
alter table megatron.score_grid owner to megatron_owner;
alter function megatron.fill_score_grid(bigint, timestamptz[], text[], integer, integer, interval)
owner to megatron_owner;

grant usage, select on sequence megatron.score_run_id_seq to megatron_orchestrator;
grant select, insert, delete on megatron.score_grid to megatron_orchestrator;
grant select on megatron.score_grid to megatron_analyst;
revoke all on function megatron.fill_score_grid(bigint, timestamptz[], text[], integer, integer, interval)
from public;
grant execute on function megatron.fill_score_grid(bigint, timestamptz[], text[], integer, integer, interval)
to megatron_orchestrator;
