-- 014_wallet_analysis_cache: latest analysis of each wallet (seed §12).
--
-- Addition: sol_balance (the wallet's SOL balance when analysed), a feature the smart-money
-- rules of spec §4.4 need and the seed had no column for. win_rate is a percentage (the
-- seed's smart_money_wallets view filters win_rate > 60), checked 0..100.

set local search_path = public, megatron;

create table wallet_analysis_cache (
    wallet_address text primary key check (char_length(wallet_address) <= 44),

    -- wallet
    wallet_age_days integer,
    total_transactions integer,
    unique_tokens_traded integer,
    sol_balance numeric(20, 9),

    -- performance
    win_rate numeric(5, 2) check (win_rate between 0 and 100),
    avg_profit_per_trade numeric(10, 2),
    total_profit_usd numeric(20, 2),
    best_trade_return numeric(10, 2),

    -- risk
    rug_pull_participation integer default 0,
    known_scammer boolean default false,
    mev_bot_likelihood numeric(5, 2),

    -- classification
    wallet_type text check (char_length(wallet_type) <= 50),  -- 'retail', 'whale', 'bot', 'smart_money', 'insider'
    reputation_score numeric(5, 2),

    last_analyzed timestamptz default now(),
    created_at timestamptz default now()
);

comment on table wallet_analysis_cache is
'Latest analysis of a wallet; features are as of last_analyzed (wallet_age_days counts to then).';
comment on column wallet_analysis_cache.sol_balance is 'SOL balance at last_analyzed (spec §4.3 feature).';
comment on column wallet_analysis_cache.win_rate is 'Share of winning trades, percent 0..100.';
