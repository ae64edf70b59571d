{{ config(alias='risk_metrics', pre_hook="{{ without_nested_loops() }}") }}
{#- The risk metrics (risk_metrics_for, spec §4.7 plus the insider risk) of every (token, T) of the scoring run
    var('score_run_id') with at least one holder, written into risk_metrics (migrations 017 + 060) with
    insert ... on conflict do nothing, stamped with T. -#}
with

grid as (
    select
        gr.token_mint,
        gr.as_of
    from {{ ref('stg_megatron__score_grid') }} as gr
    where gr.run_id = {{ var('score_run_id') }}
),

risks as (
    {{ risk_metrics_for('grid') }}
),

snapshot_rows as (
    select
        rk.token_mint,
        rk.as_of as "timestamp",
        rk.concentration_risk,
        rk.top1_pct > 50 as single_wallet_dominance,
        rk.bot_swarm_risk as bot_activity_score,
        rk.bot_ratio > 0.5 as bot_swarm_detected,
        rk.mev_bot_percentage,
        rk.rug_risk as rug_risk_score,
        coalesce(rk.creator_sold, false) as creator_dumping,
        rk.wash_trading_risk as wash_trading_score,
        coalesce(rk.bundled_buy_wallets >= 2, false) as coordinated_buying,
        rk.liquidity_risk,
        rk.volatility_risk,
        rk.insider_risk,
        rk.overall_risk as weighted_overall_risk,
        rk.risk_level,
        rk.rule_version,
        {{ var('score_run_id') }}::bigint as run_id
    from risks as rk
)

select * from snapshot_rows
