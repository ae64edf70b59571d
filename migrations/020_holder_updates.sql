-- 020_holder_updates: balance changes streamed from the websocket, to be processed (seed §18).

set local search_path = public, megatron;

create table holder_updates (
    id uuid primary key default gen_random_uuid(),
    token_mint text not null check (char_length(token_mint) <= 44),
    update_time timestamptz not null,
    update_type text check (char_length(update_type) <= 50),  -- 'balance_change', 'new_holder', 'holder_exit'

    wallet_address text not null check (char_length(wallet_address) <= 44),
    old_balance numeric(30, 6),
    new_balance numeric(30, 6),
    balance_change numeric(30, 6),

    -- impact
    impact_on_concentration numeric(10, 4),
    new_holder_count integer,

    processed boolean default false,
    created_at timestamptz default now()
);

comment on table holder_updates is 'Holder balance changes from the websocket stream; processed once applied.';

create index idx_holder_updates_mint on holder_updates (token_mint, update_time desc);
create index idx_holder_updates_unprocessed on holder_updates (processed) where processed = false;
