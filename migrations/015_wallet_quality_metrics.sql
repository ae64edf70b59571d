-- 015_wallet_quality_metrics: wallet-quality summary of a token's holders at a snapshot (seed §13).
--
-- The seed's snapshot_id UUID "referenced" holder_snapshots(snapshot_time, token_mint): one
-- uuid column against a two-column key (and that table has no uuid). The snapshot is
-- identified by (token_mint, snapshot_time), which this table already carries as its key,
-- so snapshot_id is dropped. No foreign key to holder_snapshots: TimescaleDB 2.16+ accepts
-- one, but it pins the referenced chunks (drop_chunks then fails with "cannot drop
-- constraint ... because other objects depend on it"), so retention could never be added.

set local search_path = public, megatron;

create table wallet_quality_metrics (
    token_mint text not null check (char_length(token_mint) <= 44),
    snapshot_time timestamptz not null,

    -- age distribution
    avg_wallet_age_days numeric(10, 2),
    median_wallet_age_days numeric(10, 2),
    new_wallets_percentage numeric(5, 2),

    -- bots
    suspected_bots integer,
    confirmed_bots integer,
    mev_bots integer,
    bot_percentage numeric(5, 2),

    -- smart money
    smart_money_wallets integer,
    smart_money_percentage numeric(5, 2),
    smart_money_holdings numeric(30, 6),

    -- behaviour
    diamond_hands_count integer,
    paper_hands_count integer,
    avg_hold_duration_hours numeric(10, 2),

    created_at timestamptz default now(),
    primary key (token_mint, snapshot_time)
);

comment on table wallet_quality_metrics is
'Wallet quality of a token''s holders; (token_mint, snapshot_time) names the holder_snapshots row it belongs to.';
