with

source_table as (
    select * from {{ source('megatron', 'wallet_analysis_cache') }}
),

renamed as (
    select
        source_table.wallet_address,
        source_table.wallet_age_days,
        source_table.total_transactions,
        source_table.unique_tokens_traded,
        source_table.sol_balance,
        source_table.win_rate,
        source_table.avg_profit_per_trade,
        source_table.total_profit_usd,
        source_table.best_trade_return,
        source_table.rug_pull_participation,
        source_table.known_scammer,
        source_table.mev_bot_likelihood,
        source_table.wallet_type,
        source_table.reputation_score,
        source_table.last_analyzed,
        source_table.created_at
    from source_table
)

select * from renamed
