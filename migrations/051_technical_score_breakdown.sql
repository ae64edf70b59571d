-- 051_technical_score_breakdown: technical_scores holds the whole answer (issue 11 item 2, spec T8).
--
-- The seed's table kept the four part totals and a few inputs; the drops of 5/15/30 min were
-- written as 0/NULL and the 60-minute drop, the red-candle run and the open sell-off duration were
-- never returned (T8). A row is now the full breakdown of one (token, T) computed by the scoring
-- models (models/scoring/technical_score_snapshots.sql, macros/scoring/technical.sql): every
-- measure, the points of each part and sub-part, the rule version and mode, and, for T at or after
-- graduation, the frozen flag with the time the value was computed as of (graduated_at - 1 us,
-- spec §2.1 resolution). "timestamp" is T itself; the primary key (token_mint, timestamp) makes
-- re-scoring a T a no-op (insert ... on conflict do nothing).
-- Bounded columns of 009 (numeric(10,4)) receive values clamped to +-999999.9999 by the model; a
-- ratio without sells (+infinity, T9) is stored as 999999.9999.
-- The scoring run (orchestrator role) inserts the rows.

set local search_path = public, megatron;

alter table technical_scores
add column price_sol numeric(30, 20),
add column sol_usd numeric(20, 8),
add column market_cap_base_points numeric(5, 2),
add column market_cap_velocity_points numeric(5, 2),
add column progress_velocity_points numeric(5, 2),
add column progress_position_points numeric(5, 2),
add column position_multiplier numeric(4, 2),
add column velocity_multiplier numeric(4, 2),
add column buy_sell_ratio_points numeric(5, 2),
add column volume_trend_points numeric(5, 2),
add column whale_concentration_points numeric(5, 2),
add column price_drop_60m numeric(10, 4),
add column red_candles integer,
add column selloff_active boolean,
add column selloff_started_at timestamptz,
add column selloff_duration_minutes integer,
add column sell_pressure_points numeric(5, 2),
add column duration_penalty numeric(5, 2),
add column recovery_points numeric(5, 2),
add column recovery_bonus numeric(5, 2),
add column is_frozen boolean default false,
add column evaluated_at timestamptz,
add column graduated_at timestamptz,
add column rule_version text check (char_length(rule_version) <= 40),
add column mode text default 'clean' check (mode in ('clean', 'legacy')),
add column run_id bigint;

comment on column technical_scores.price_sol is 'price(T): the latest trade''s price in SOL at or before evaluated_at.';
comment on column technical_scores.sol_usd is
'SOL/USD at evaluated_at (sol_usd_price_at); NULL: none fresh, market cap 0.';
comment on column technical_scores.market_cap_base_points is 'Market-cap base position, 0..60 (spec §3.1 curve).';
comment on column technical_scores.market_cap_velocity_points is 'Market-cap velocity bonus, 0..40 (spec §3.1, T2/T3).';
comment on column technical_scores.progress_velocity_points is
'Bonding-curve velocity points after the proof multiplier, 0..33 (spec §3.2).';
comment on column technical_scores.progress_position_points is
'Bonding-curve position points after the proof multiplier, 0..37.5 (spec §3.2).';
comment on column technical_scores.position_multiplier is 'Proof multiplier applied to the position points.';
comment on column technical_scores.velocity_multiplier is 'Proof multiplier applied to the velocity points.';
comment on column technical_scores.buy_sell_ratio_points is 'Trading health: weighted buy/sell ratio points, 0..30.';
comment on column technical_scores.volume_trend_points is 'Trading health: volume trend points, 0..25.';
comment on column technical_scores.whale_concentration_points is 'Trading health: whale concentration points, 0..20.';
comment on column technical_scores.price_drop_60m is 'd60 in % (computed, not scored; spec §3.4).';
comment on column technical_scores.red_candles is
'Trailing run of red 1-minute candles in (T - 30 min, T], in minutes (T6).';
comment on column technical_scores.selloff_active is 'd5 > 10 or d15 > 15 or d30 > 20 or red >= 3 or dur > 0 (T4).';
comment on column technical_scores.selloff_started_at is
'Start of the sell-off event open at T (selloff_open_at), if any.';
comment on column technical_scores.selloff_duration_minutes is
'dur(T): whole minutes since that start; 0 if none open.';
comment on column technical_scores.sell_pressure_points is 'Sell pressure, -40..40 (spec §3.4 table, T7).';
comment on column technical_scores.duration_penalty is 'min(20, floor(dur / 2)), subtracted from the sell pressure.';
comment on column technical_scores.recovery_points is 'Recovery points, 0..35 (35 when not active).';
comment on column technical_scores.recovery_bonus is '+5 when active with no red candle run.';
comment on column technical_scores.is_frozen is
'T at or after graduation: the row carries the value as of graduated_at - 1 microsecond (spec §2.1).';
comment on column technical_scores.evaluated_at is
'The time the value was computed as of: T, or graduated_at - 1 us when frozen.';
comment on column technical_scores.graduated_at is
'The token''s graduation (first curve-complete/migration event) when <= T.';
comment on column technical_scores.rule_version is
'The version of the scoring rules and thresholds (seeds/scoring) used.';
comment on column technical_scores.mode is
'''clean'': the spec''s resolutions; ''legacy'' is reserved for a compat mode.';
comment on column technical_scores.run_id is 'The scoring run (megatron.score_grid) that wrote the row.';

grant select, insert on technical_scores to megatron_orchestrator;

comment on column technical_scores.whale_concentration is
'Largest wallet''s share of the 1-hour SOL volume, in percent (0..100; spec §3.3 wc x 100).';
