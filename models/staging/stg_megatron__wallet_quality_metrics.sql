with

source_table as (
    select * from {{ source('megatron', 'wallet_quality_metrics') }}
),

renamed as (
    select
        source_table.token_mint,
        source_table.snapshot_time,
        source_table.avg_wallet_age_days,
        source_table.median_wallet_age_days,
        source_table.new_wallets_percentage,
        source_table.suspected_bots,
        source_table.confirmed_bots,
        source_table.mev_bots,
        source_table.bot_percentage,
        source_table.smart_money_wallets,
        source_table.smart_money_percentage,
        source_table.smart_money_holdings,
        source_table.diamond_hands_count,
        source_table.paper_hands_count,
        source_table.avg_hold_duration_hours,
        source_table.created_at
    from source_table
)

select * from renamed
