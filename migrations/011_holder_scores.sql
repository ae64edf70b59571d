-- 011_holder_scores: holder score snapshots (0..333), a hypertable on timestamp (seed §9).
--
-- Each part (distribution, quality, activity) is checked 0..111 and the total is generated.
-- The progress rule: a score exists for 10 <= progress < 100, except the frozen snapshot taken
-- at graduation (spec §2.2). The seed's CHECK let a NULL progress or NULL is_frozen through
-- (a CHECK passes on NULL); is_frozen is NOT NULL here and a missing progress fails unless
-- frozen. Compression (segment token_mint, order timestamp desc) after 30 days, rows
-- dropped after 60 days; chunks of 7 days.

set local search_path = public, megatron;

create table holder_scores (
    token_mint text not null check (char_length(token_mint) <= 44),
    timestamp timestamptz not null,

    -- distribution score (0-111)
    distribution_score numeric(5, 2) default 0 check (distribution_score between 0 and 111),
    gini_coefficient numeric(5, 4),
    theil_index numeric(10, 4),
    shannon_entropy numeric(10, 4),
    top_10_concentration numeric(5, 2),

    -- quality score (0-111)
    quality_score numeric(5, 2) default 0 check (quality_score between 0 and 111),
    avg_wallet_age_days numeric(10, 2),
    smart_money_ratio numeric(5, 4),
    bot_wallet_ratio numeric(5, 4),
    known_dumper_ratio numeric(5, 4),

    -- activity score (0-111)
    activity_score numeric(5, 2) default 0 check (activity_score between 0 and 111),
    holder_growth_rate numeric(10, 4),
    unique_buyers_1h integer,
    unique_sellers_1h integer,
    diamond_hands_ratio numeric(5, 4),
    avg_hold_time_hours numeric(10, 2),

    -- total score (0-333)
    total_score numeric(6, 2) generated always as (
        distribution_score + quality_score + activity_score
    ) stored,

    -- metadata
    total_holders integer,
    active_holders_24h integer,
    new_holders_1h integer,
    confidence_score numeric(5, 2),
    data_completeness numeric(5, 2),

    -- gate
    bonding_curve_progress numeric(5, 2),
    is_frozen boolean not null default false,  -- the final snapshot taken at graduation

    created_at timestamptz default now(),
    primary key (token_mint, timestamp),

    constraint valid_progress check (
        is_frozen
        or coalesce(bonding_curve_progress >= 10 and bonding_curve_progress < 100, false)
    )
);

comment on table holder_scores is
'Holder score (333 points) as of timestamp; only for 10 <= progress < 100, or the frozen graduation snapshot.';

select megatron.declare_hypertable(
    'holder_scores', 'timestamp', interval '7 days',
    p_compress_segmentby => 'token_mint',
    p_compress_orderby => '"timestamp" desc',
    p_compress_after => interval '30 days',
    p_drop_after => interval '60 days'
);
