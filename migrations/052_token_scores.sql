-- 052_token_scores: the 999 aggregate history (issue 11 items 1-2, spec §5 resolution, A1-A4, T14).
--
-- One row per (token, T): total = max(0, technical(T)) + holder_asof(T) + social(T), each part as
-- stored with its as-of reference. holder_asof(T) is the newest holder snapshot at or before T (the
-- frozen one after graduation); none -> holder_score 0 and holder_missing; older than 30 minutes ->
-- holder_stale. social: the newest social score at or before T, none -> 0 and social_missing.
-- Nothing is recomputed in triggers: the scoring run writes the row (models/scoring/
-- token_score_snapshots.sql) with insert ... on conflict do nothing, stamped with T.
-- technical_raw keeps the unclamped technical total (-60..333); technical_score is the clamped
-- part (T14). total_score is generated from the three stored parts, so it always equals their sum.
-- Hypertable on as_of, daily chunks (a row per active token every few minutes), compressed after
-- 7 days (segment token_mint, order as_of desc), kept (the history the web and backtests read).

set local search_path = public, megatron;

create table token_scores (
    token_mint text not null check (char_length(token_mint) <= 44),
    as_of timestamptz not null,

    technical_score numeric(5, 2) not null check (technical_score between 0 and 333),
    holder_score numeric(5, 2) not null check (holder_score between 0 and 333),
    social_score numeric(5, 2) not null check (social_score between 0 and 333),
    total_score numeric(6, 2) generated always as (technical_score + holder_score + social_score) stored,

    technical_raw numeric(6, 2) not null check (technical_raw between -60 and 333),
    technical_as_of timestamptz not null,
    technical_frozen boolean not null,

    holder_as_of timestamptz,
    holder_missing boolean not null,
    holder_stale boolean not null,
    holder_frozen boolean not null default false,

    social_as_of timestamptz,
    social_missing boolean not null,

    bonding_curve_progress numeric(5, 2),
    market_cap_usd numeric(20, 2),

    rule_version text not null check (char_length(rule_version) <= 40),
    run_id bigint,
    created_at timestamptz not null default now(),

    primary key (token_mint, as_of),
    constraint stale_needs_a_holder_score check (not (holder_missing and holder_stale))
);

comment on table token_scores is
'The 999 score of a token as of T (spec §5): clamped technical + newest holder snapshot <= T + newest social '
'score <= T, with the as-of time of each part and the holder_missing/holder_stale/social_missing flags. Hypertable.';
comment on column token_scores.technical_score is 'max(0, technical total at T) (T14); the technical_scores row of T.';
comment on column token_scores.holder_score is
'Newest holder_scores total at or before T (frozen after graduation); 0 when missing.';
comment on column token_scores.social_score is 'Newest social score at or before T; 0 when missing.';
comment on column token_scores.technical_raw is 'The technical total before the clamp (-60..333).';
comment on column token_scores.technical_as_of is
'When the technical value was computed as of: T, or graduated_at - 1 us.';
comment on column token_scores.holder_as_of is 'Timestamp of the holder snapshot used; NULL when missing.';
comment on column token_scores.holder_stale is 'The holder snapshot is older than 30 minutes at T (025''s threshold).';
comment on column token_scores.social_as_of is 'Time of the social score used; NULL when missing.';

select megatron.declare_hypertable(
    'token_scores', 'as_of', interval '1 day',
    p_compress_segmentby => 'token_mint',
    p_compress_orderby => 'as_of desc',
    p_compress_after => interval '7 days'
);

create index idx_token_scores_as_of_total on token_scores (as_of desc, total_score desc);

alter table token_scores owner to megatron_owner;
grant select, insert on token_scores to megatron_orchestrator;
grant select on token_scores to megatron_analyst;
