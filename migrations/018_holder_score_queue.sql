-- 018_holder_score_queue: tokens waiting for a holder-score calculation (seed §16).
--
-- The seed's UNIQUE (token_mint, processed_at) never deduplicated pending entries: their
-- processed_at is NULL and NULLs are distinct. A partial unique index allows one pending
-- entry per token (and any number of processed ones); writers use
-- ON CONFLICT (token_mint) WHERE processed_at IS NULL DO NOTHING.

set local search_path = public, megatron;

create table holder_score_queue (
    id uuid primary key default gen_random_uuid(),
    token_mint text not null check (char_length(token_mint) <= 44),
    priority integer default 5,
    reason text check (char_length(reason) <= 100),  -- 'milestone_crossed 25%', 'high_volume', 'velocity_change'

    scheduled_at timestamptz default now(),
    processed_at timestamptz,
    attempts integer default 0,
    last_error text
);

comment on table holder_score_queue is
'Pending (processed_at is null) and processed holder-score requests; at most one pending per token.';

create unique index uq_holder_score_queue_pending on holder_score_queue (token_mint) where processed_at is null;
create index idx_queue_priority on holder_score_queue (priority desc, scheduled_at asc) where processed_at is null;
