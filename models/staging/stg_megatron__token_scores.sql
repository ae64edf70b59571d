{#- One flat select, no CTE chain, as stg_megatron__transactions: the view must flatten into the query that
    reads it for TimescaleDB's chunk exclusion and ordered chunk scans (docs/schema-decisions.md row 136). -#}
select
    ts.token_mint,
    ts.as_of,
    ts.technical_score,
    ts.holder_score,
    ts.social_score,
    ts.total_score,
    ts.technical_raw,
    ts.technical_as_of,
    ts.technical_frozen,
    ts.holder_as_of,
    ts.holder_missing,
    ts.holder_stale,
    ts.holder_frozen,
    ts.social_as_of,
    ts.social_missing,
    ts.bonding_curve_progress,
    ts.market_cap_usd,
    ts.rule_version,
    ts.run_id,
    ts.created_at
from {{ source('megatron_scores', 'token_scores') }} as ts
