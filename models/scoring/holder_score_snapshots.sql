{{ config(alias='holder_scores', pre_hook="{{ without_nested_loops() }}") }}
{#- The holder score of every (token, T) of the scoring run var('score_run_id') that passes the gates
    (holder_scores_for: 10 ≤ progress(T) < 100 and at least 5 included holders; at or after graduation the frozen
    snapshot as of the graduation time), written into holder_scores (migrations 011 + 060) by the score_snapshot
    materialization: insert ... on conflict do nothing. The row is stamped with the time its values are computed
    for (T, or the graduation time for the frozen snapshot, which 035's trigger also copies into
    frozen_holder_scores), so every T after graduation finds the one frozen row. -#}
with

grid as (
    select
        gr.token_mint,
        gr.as_of
    from {{ ref('stg_megatron__score_grid') }} as gr
    where gr.run_id = {{ var('score_run_id') }}
),

scores as (
    {{ holder_scores_for('grid') }}
),

snapshot_rows as (
    select distinct on (hs.token_mint, hs.scored_at)
        hs.token_mint,
        hs.scored_at as "timestamp",
        hs.distribution_score,
        hs.gini as gini_coefficient,
        round(hs.top10_pct, 2) as top_10_concentration,
        hs.quality_score,
        hs.avg_wallet_age_days,
        hs.smart_money_ratio,
        hs.bot_ratio as bot_wallet_ratio,
        hs.activity_score,
        hs.diamond_hand_ratio as diamond_hands_ratio,
        hs.included_holders as total_holders,
        hs.active_24h as active_holders_24h,
        trunc(hs.progress, 2) as bonding_curve_progress,
        hs.is_frozen,
        hs.mode,
        hs.included_holders,
        hs.dampening_factor,
        hs.top1_pct as top_1_concentration,
        hs.gini_points,
        hs.top_1_points,
        hs.holder_count_points,
        hs.bot_ratio_points,
        hs.smart_money_points,
        hs.wallet_age_points,
        hs.active_24h_points,
        hs.organic_growth_points,
        hs.velocity_points,
        hs.active_24h_ratio,
        hs.organic_growth,
        hs.velocity_score,
        hs.rule_version,
        {{ var('score_run_id') }}::bigint as run_id
    from scores as hs
    order by hs.token_mint, hs.scored_at, hs.as_of
)

select * from snapshot_rows
