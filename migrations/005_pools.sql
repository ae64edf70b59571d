-- 005_pools: liquidity pools, the bonding curve and, after graduation, the AMM pool (seed §2).
--
-- Seed deviations: text with length checks; bonding_curve_progress is a percentage, checked
-- 0..100; pool_type is checked against the two values the seed names.

set local search_path = public, megatron;

create table pools (
    id uuid primary key default gen_random_uuid(),
    pool_address text not null unique check (char_length(pool_address) <= 44),
    token_id uuid not null references tokens (id),
    base_mint text not null check (char_length(base_mint) <= 44),
    quote_mint text not null check (char_length(quote_mint) <= 44),
    platform text not null check (char_length(platform) <= 50),
    pool_type text default 'initial' check (pool_type in ('initial', 'graduated')),

    -- pump.fun bonding curve
    bonding_curve_address text check (char_length(bonding_curve_address) <= 44),
    virtual_sol_reserves numeric(20, 0),
    virtual_token_reserves numeric(20, 0),
    real_sol_reserves numeric(20, 0),
    real_token_reserves numeric(20, 0),
    bonding_curve_progress numeric(5, 2) check (bonding_curve_progress between 0 and 100),

    -- Raydium
    lp_mint text check (char_length(lp_mint) <= 44),
    base_vault text check (char_length(base_vault) <= 44),
    quote_vault text check (char_length(quote_vault) <= 44),

    -- price tracking
    latest_price numeric(30, 20),
    latest_price_usd numeric(30, 20),
    initial_price numeric(30, 20),
    initial_base_liquidity numeric(20, 0),
    initial_quote_liquidity numeric(20, 0),

    status text default 'active' check (char_length(status) <= 20),
    created_at timestamptz default now(),
    updated_at timestamptz default now()
);

comment on table pools is 'Liquidity pools: the bonding curve (pool_type initial) and graduated AMM pools.';

create index idx_pools_token_id on pools (token_id);
create index idx_pools_platform on pools (platform);
create index idx_pools_pool_type on pools (pool_type);
create index idx_pools_bonding_curve_progress on pools (bonding_curve_progress);
