-- 004_tokens: the master entity, one row per mint (seed §1).
--
-- Seed deviations (docs/schema-decisions.md): text with length checks instead of varchar;
-- platform values follow the canonical events ('raydium_launchlab'); no separate index on
-- mint_address (its unique constraint is already an index).
--
-- Raw tables live in schema public. Each migration from here sets search_path = public,
-- megatron for its transaction: the default path starts with "$user", and the embedded
-- cluster's role "megatron" has a schema of that name, which would otherwise receive the
-- tables (and, on the embedded cluster, holds the timescaledb extension's functions).

set local search_path = public, megatron;

create table tokens (
    id uuid primary key default gen_random_uuid(),
    mint_address text not null unique check (char_length(mint_address) <= 44),
    symbol text check (char_length(symbol) <= 10),
    name text check (char_length(name) <= 100),
    decimals integer not null default 6,
    platform text not null check (platform in ('pumpfun', 'raydium_launchlab')),

    -- creation metadata
    creation_signature text not null check (char_length(creation_signature) <= 88),
    creation_timestamp timestamptz not null,
    creator_address text not null check (char_length(creator_address) <= 44),
    initial_supply numeric(20, 0),

    -- graduation tracking
    is_graduated boolean default false,
    graduation_timestamp timestamptz,
    graduation_signature text check (char_length(graduation_signature) <= 88),
    graduation_platform text check (char_length(graduation_platform) <= 50),  -- 'raydium', 'pumpswap', ...

    -- IPFS metadata
    uri text check (char_length(uri) <= 255),
    image_url text check (char_length(image_url) <= 500),
    metadata jsonb,

    -- holder score tracking
    last_holder_score_progress numeric(5, 2),

    created_at timestamptz default now(),
    updated_at timestamptz default now()
);

comment on table tokens is 'One row per token mint launched on pump.fun or Raydium LaunchLab.';

create index idx_tokens_platform on tokens (platform);
create index idx_tokens_creation_timestamp on tokens (creation_timestamp);
create index idx_tokens_graduated on tokens (is_graduated);
create index idx_tokens_graduation_platform on tokens (graduation_platform);
