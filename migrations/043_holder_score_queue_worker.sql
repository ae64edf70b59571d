-- 043_holder_score_queue_worker: the holder-score queue is worked (issue 11 item 5): the orchestrator
-- claims work with megatron.take_holder_score_work and reports each item with
-- megatron.finish_holder_score_work.
--
-- Why: nothing took rows off holder_score_queue; attempts and last_error were never written.
-- Claiming: rows pending (processed_at null), due (retry_at null or past) and not claimed by a live
-- lease, in priority order (1 = most urgent, then scheduled_at, then id: idx_queue_priority), locked
-- FOR UPDATE SKIP LOCKED so two concurrent takers never get the same row; the claim (claimed_by,
-- claimed_at) outlives the taker's transaction, and a claim older than the lease (default 15 min,
-- a crashed worker) may be taken again. scheduled_at stays the event time the row was queued for;
-- a retry waits in retry_at (backoff 1, 2, 4, 8 ... minutes, at most 60). After max_attempts (5)
-- failures the row is given up: processed_at and failed_at set, last_error kept, so it is visibly
-- failed and no longer blocks a new pending row for the token. The orchestrator only reads the
-- table (029): both functions are SECURITY DEFINER, owned by megatron_owner.

set local search_path = public, megatron;

alter table holder_score_queue
add column claimed_by text check (char_length(claimed_by) <= 100),
add column claimed_at timestamptz,
add column retry_at timestamptz,
add column failed_at timestamptz;

comment on column holder_score_queue.claimed_by is
'The worker that took the row (megatron.take_holder_score_work); NULL when not claimed.';
comment on column holder_score_queue.claimed_at is
'When it was taken; a claim older than the lease may be taken again.';
comment on column holder_score_queue.retry_at is 'After a failure: not taken before this time (backoff).';
comment on column holder_score_queue.failed_at is
'Given up after the maximum attempts: processed_at is set too, last_error says why.';

create function megatron.take_holder_score_work(
    p_limit integer,
    p_worker text,
    p_lease interval default interval '15 minutes'
) returns table (
    id uuid,
    token_mint text,
    priority integer,
    reason text,
    milestone integer,
    scheduled_at timestamptz,
    attempts integer
)
language sql
security definer
set search_path = pg_catalog, public, megatron, pg_temp
as $$
    with picked as (
        select q.id
        from public.holder_score_queue as q
        where q.processed_at is null
          and (q.retry_at is null or q.retry_at <= now())
          and (q.claimed_at is null or q.claimed_at < now() - p_lease)
        order by q.priority, q.scheduled_at, q.id
        limit p_limit
        for update skip locked
    ),

    claimed as (
        update public.holder_score_queue as q
        set claimed_by = p_worker, claimed_at = now()
        from picked
        where q.id = picked.id
        returning q.id, q.token_mint, q.priority, q.reason, q.milestone, q.scheduled_at, q.attempts
    )

    select c.id, c.token_mint, c.priority, c.reason, c.milestone, c.scheduled_at, c.attempts
    from claimed as c
    order by c.priority, c.scheduled_at, c.id
$$;

comment on function megatron.take_holder_score_work(integer, text, interval) is
'Claims up to p_limit due pending holder-score requests for p_worker, most urgent first (priority 1 first, '
'then scheduled_at); FOR UPDATE SKIP LOCKED: concurrent takers never get the same row.';

create function megatron.finish_holder_score_work(
    p_id uuid,
    p_error text default null,
    p_max_attempts integer default 5
) returns text
language plpgsql
security definer
set search_path = pg_catalog, public, megatron, pg_temp
as $$
declare
    v_attempts integer;
begin
    if p_error is null then
        update public.holder_score_queue as q
        set processed_at = now(), claimed_by = null, claimed_at = null, retry_at = null
        where q.id = p_id and q.processed_at is null;
        return case when found then 'processed' else 'not_pending' end;
    end if;

    update public.holder_score_queue as q
    set
        attempts = coalesce(q.attempts, 0) + 1,
        last_error = left(p_error, 2000),
        claimed_by = null,
        claimed_at = null,
        retry_at = now() + least(interval '60 minutes', interval '1 minute' * power(2, coalesce(q.attempts, 0))),
        processed_at = case when coalesce(q.attempts, 0) + 1 >= p_max_attempts then now() end,
        failed_at = case when coalesce(q.attempts, 0) + 1 >= p_max_attempts then now() end
    where q.id = p_id and q.processed_at is null
    returning q.attempts into v_attempts;
    if v_attempts is null then
        return 'not_pending';
    end if;
    return case when v_attempts >= p_max_attempts then 'failed' else 'retry' end;
end
$$;

comment on function megatron.finish_holder_score_work(uuid, text, integer) is
'Reports a taken request: without p_error it is processed; with one, attempts + 1, last_error, retry after '
'1, 2, 4 ... (at most 60) minutes; at p_max_attempts it is given up (failed_at and processed_at set). Returns '
'''processed'', ''retry'', ''failed'' or ''not_pending''.';

alter function megatron.take_holder_score_work(integer, text, interval) owner to megatron_owner;
alter function megatron.finish_holder_score_work(uuid, text, integer) owner to megatron_owner;
revoke all on function megatron.take_holder_score_work(integer, text, interval) from public;
revoke all on function megatron.finish_holder_score_work(uuid, text, integer) from public;
grant execute on function megatron.take_holder_score_work(integer, text, interval) to megatron_orchestrator;
grant execute on function megatron.finish_holder_score_work(uuid, text, integer) to megatron_orchestrator;
