-- 060_holder_scoring_columns: the holder score, risk metrics and wallet features hold the whole answer
-- (issue 11 item 2; spec §2.2, §4.3, §4.6, §4.7).
--
-- * holder_scores (and frozen_holder_scores, which keep_frozen_holder_score fills column by column from
--   it): the mode of the holder set (spec §4.1: 'snapshot' from a stored holder snapshot, 'trade' from net
--   buys - sells), the included-holder count, the low-holder dampening factor, the top-1 share, each part's
--   points, the activity inputs (active-24h ratio, organic growth, velocity) and the rule version, so a row
--   says how its 333 came about. The score formula lives in macros/holder_scores.sql (dbt); this is storage.
-- * risk_metrics: the two risks 017 lacked (liquidity, volatility), the insider risk from the trader
--   signals (ours), the spec §4.7 weighted overall (overall_risk_score stays the seed's greatest-of-four),
--   the level and the rule version.
-- * wallet_feature_observations: wallet features as append-only observations (spec §4.3 resolution): one
--   row per (wallet, as_of) with the features and classes as of that time, never updated, so a wallet's
--   features as of T are the latest observation at or before T (wallet_features_at). wallet_analysis_cache
--   keeps one overwritten row per wallet and cannot answer for a T before its last refresh. Hypertable on
--   as_of (30-day chunks, compressed after 30 days segmented by wallet; no retention: observations are
--   small and are history).

set local search_path = public, megatron;

-- plain columns: TimescaleDB refuses a column with a constraint on a hypertable with compression enabled
-- (holder_scores compresses on Community); the bounds are the macro's and dbt's data tests, and
-- frozen_holder_scores below (a plain table) checks them.
alter table holder_scores
add column mode text,
add column included_holders integer,
add column dampening_factor numeric(4, 3),
add column top_1_concentration numeric(7, 4),
add column gini_points numeric(5, 2),
add column top_1_points numeric(5, 2),
add column holder_count_points numeric(5, 2),
add column bot_ratio_points numeric(5, 2),
add column smart_money_points numeric(5, 2),
add column wallet_age_points numeric(5, 2),
add column active_24h_points numeric(5, 2),
add column organic_growth_points numeric(5, 2),
add column velocity_points numeric(5, 2),
add column active_24h_ratio numeric(5, 4),
add column organic_growth numeric(5, 4),
add column velocity_score numeric(5, 4),
add column rule_version text,
add column run_id bigint;

comment on column holder_scores.mode is
'How the holder set was found (spec §4.1): snapshot (a stored holder '
'snapshot at or before T) or trade (net buys - sells).';
comment on column holder_scores.included_holders is 'Holders after exclusions (the n of spec §4.6).';
comment on column holder_scores.dampening_factor is
'Low-holder dampening f = max(0.3, n / 10) below 10 holders, else 1 '
'(spec §4.6); Gini and top-1 points are multiplied by it.';
comment on column holder_scores.run_id is 'The scoring run (megatron.score_grid) that wrote the row.';
comment on column holder_scores.rule_version is
'Version of the holder rules '
'(macros/holder_scores.sql) that wrote the row.';

alter table frozen_holder_scores
add column mode text check (mode in ('snapshot', 'trade')),
add column included_holders integer check (included_holders >= 0),
add column dampening_factor numeric(4, 3) check (dampening_factor > 0 and dampening_factor <= 1),
add column top_1_concentration numeric(7, 4) check (top_1_concentration between 0 and 100),
add column gini_points numeric(5, 2) check (gini_points between 0 and 40),
add column top_1_points numeric(5, 2) check (top_1_points between 0 and 40),
add column holder_count_points numeric(5, 2) check (holder_count_points between 0 and 31),
add column bot_ratio_points numeric(5, 2) check (bot_ratio_points between 0 and 40),
add column smart_money_points numeric(5, 2) check (smart_money_points between 0 and 40),
add column wallet_age_points numeric(5, 2) check (wallet_age_points between 0 and 31),
add column active_24h_points numeric(5, 2) check (active_24h_points between 0 and 40),
add column organic_growth_points numeric(5, 2) check (organic_growth_points between 0 and 40),
add column velocity_points numeric(5, 2) check (velocity_points between 0 and 31),
add column active_24h_ratio numeric(5, 4) check (active_24h_ratio between 0 and 1),
add column organic_growth numeric(5, 4) check (organic_growth between 0 and 1),
add column velocity_score numeric(5, 4) check (velocity_score between 0 and 1),
add column rule_version text check (char_length(rule_version) <= 40);

alter table risk_metrics
add column liquidity_risk numeric(5, 2) check (liquidity_risk between 0 and 100),
add column volatility_risk numeric(5, 2) check (volatility_risk between 0 and 100),
add column insider_risk numeric(5, 2) check (insider_risk between 0 and 100),
add column weighted_overall_risk numeric(5, 2) check (weighted_overall_risk between 0 and 100),
add column risk_level text check (risk_level in ('low', 'medium', 'high', 'critical')),
add column rule_version text check (char_length(rule_version) <= 40),
add column run_id bigint;

comment on column risk_metrics.liquidity_risk is
'Spec §4.7: holders < 10 → 90, < 50 → 70, < 100 '
'→ 50, < 500 → 30, else 10.';
comment on column risk_metrics.volatility_risk is
'Spec §4.7: sellers active in 24 h: ratio × 50 + min(50, 5 × their mean sell count), cap 100.';
comment on column risk_metrics.insider_risk is
'Ours: from the trader signals (creator, bundled buyers and snipers holding, bundled launch, creator sold).';
comment on column risk_metrics.weighted_overall_risk is
'Spec §4.7 overall: 0.25 conc + 0.20 bot + 0.25 rug + 0.10 wash + 0.10 liquidity + 0.10 volatility, cap 100.';

create table wallet_feature_observations (
    wallet_address text not null check (char_length(wallet_address) <= 44),
    as_of timestamptz not null,
    first_seen timestamptz,
    last_active timestamptz,
    age_days numeric(12, 6),
    age_is_lower_bound boolean not null default true,
    trade_count integer not null,
    buy_count integer not null,
    sell_count integer not null,
    tokens_traded integer not null,
    tokens_bought integer not null,
    snipes integer not null,
    bundled_buys integer not null,
    tokens_created integer not null default 0,
    realized_pnl_sol numeric(30, 9),
    tokens_closed integer,
    win_rate numeric(5, 2) check (win_rate between 0 and 100),
    bot_score numeric(5, 4) check (bot_score between 0 and 1),
    timing_patterns boolean,
    mev_activity boolean,
    sandwich_pattern boolean,
    identical_trades boolean,
    is_bot boolean not null,
    is_mev_bot boolean not null,
    is_sniper boolean not null,
    is_bundler boolean not null,
    is_smart_money boolean not null,
    smart_money_rule text check (smart_money_rule in ('weighted', 'simplified', 'performance', 'unknown')),
    is_diamond_hands boolean not null,
    is_dumper boolean not null,
    rule_version text check (char_length(rule_version) <= 40),
    run_id bigint,
    created_at timestamptz not null default now(),
    primary key (wallet_address, as_of)
);

comment on table wallet_feature_observations is
'Append-only wallet features and classes as of as_of, from our own '
'trades at or before it (macros/wallet_features.sql). '
'Never updated: the features of a wallet as of T are its latest observation at or before T.';

select megatron.declare_hypertable(
    'wallet_feature_observations', 'as_of', interval '30 days',
    p_compress_segmentby => 'wallet_address',
    p_compress_orderby => 'as_of desc',
    p_compress_after => interval '30 days'
);

create function wallet_features_at(p_wallet_address text, p_as_of timestamptz default now())
returns setof wallet_feature_observations
language sql stable parallel safe
as $$
    select o.*
    from public.wallet_feature_observations as o
    where o.wallet_address = p_wallet_address and o.as_of <= p_as_of
    order by o.as_of desc
    limit 1
$$;

comment on function wallet_features_at(text, timestamptz) is
'The latest observation of a wallet''s features at or before T (none when it was never observed by then).';

alter table wallet_feature_observations owner to megatron_owner;
alter function wallet_features_at(text, timestamptz) owner to megatron_owner;
grant select on wallet_feature_observations to megatron_analyst, megatron_orchestrator;
grant insert on wallet_feature_observations to megatron_orchestrator;
-- the scoring jobs run as the orchestrator (the frozen copy is written by keep_frozen_holder_score as the invoker)
grant insert on holder_scores, frozen_holder_scores, risk_metrics to megatron_orchestrator;
