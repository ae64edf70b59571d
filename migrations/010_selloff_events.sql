-- 010_selloff_events: sell-off episodes, opened by the trigger of 026_selloff_trigger (seed §8).

set local search_path = public, megatron;

create table selloff_events (
    id uuid primary key default gen_random_uuid(),
    token_mint text not null check (char_length(token_mint) <= 44),
    detection_time timestamptz not null,
    initial_price numeric(30, 20),
    lowest_price numeric(30, 20),
    drop_percentage numeric(10, 4),
    recovery_price numeric(30, 20),
    recovery_time timestamptz,
    recovery_percentage numeric(10, 4),
    duration_minutes integer,
    created_at timestamptz default now()
);

comment on table selloff_events is
'Sell-off episodes: opened when a technical score shows a 15-minute drop above 10 %; prices in SOL per token.';

create index idx_selloff_events_token on selloff_events (token_mint);
create index idx_selloff_events_time on selloff_events (detection_time);
