-- 019_api_credit_usage: one row per paid API call, a hypertable on timestamp (seed §17).
-- Rows dropped after 90 days (declared once; the seed declares it twice); chunks of 7 days.

set local search_path = public, megatron;

create table api_credit_usage (
    timestamp timestamptz not null,
    api_provider text not null check (char_length(api_provider) <= 50),  -- 'helius', 'birdeye', 'jupiter'
    endpoint text not null check (char_length(endpoint) <= 100),

    credits_used integer not null,
    response_time_ms integer,
    status_code integer,
    error_message text,

    token_mint text check (char_length(token_mint) <= 44),
    request_type text check (char_length(request_type) <= 50),

    created_at timestamptz default now(),
    primary key (timestamp, api_provider, endpoint)
);

comment on table api_credit_usage is
'Paid API calls and their credit cost. Key (timestamp, provider, endpoint): stamp calls with clock_timestamp().';

select megatron.declare_hypertable(
    'api_credit_usage', 'timestamp', interval '7 days',
    p_drop_after => interval '90 days'
);

-- create_hypertable added an index on timestamp alone; the key's index already leads with it
drop index api_credit_usage_timestamp_idx;
