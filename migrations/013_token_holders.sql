-- 013_token_holders: current position of each wallet in each token (seed §11).
--
-- The seed declared (token_mint, wallet_address) both as PRIMARY KEY and as UNIQUE (two
-- identical indexes) and carried an id nobody referenced: one key, no id. Its balance index
-- over all tokens answered no query ("largest holders" is always per token), so it is
-- (token_mint, current_balance desc).

set local search_path = public, megatron;

create table token_holders (
    token_mint text not null check (char_length(token_mint) <= 44),
    wallet_address text not null check (char_length(wallet_address) <= 44),

    -- balance
    current_balance numeric(30, 6) not null,
    initial_balance numeric(30, 6),
    peak_balance numeric(30, 6),

    -- transaction history
    first_transaction_time timestamptz,
    last_transaction_time timestamptz,
    total_bought numeric(30, 6) default 0,
    total_sold numeric(30, 6) default 0,
    transaction_count integer default 0,

    -- profit and loss
    avg_buy_price numeric(30, 20),
    avg_sell_price numeric(30, 20),
    realized_pnl numeric(20, 2),
    unrealized_pnl numeric(20, 2),

    -- behavioural flags
    is_smart_money boolean default false,
    is_bot boolean default false,
    is_mev_bot boolean default false,
    is_insider boolean default false,
    diamond_hands_score numeric(5, 2),

    last_updated timestamptz default now(),
    created_at timestamptz default now(),

    primary key (token_mint, wallet_address)
);

comment on table token_holders is 'Current position and behaviour flags of each wallet in each token.';

create index idx_token_holders_balance on token_holders (token_mint, current_balance desc);
create index idx_token_holders_smart_money on token_holders (is_smart_money) where is_smart_money = true;
