with

source_table as (
    select * from {{ source('megatron', 'holder_scores') }}
),

renamed as (
    select
        source_table.token_mint,
        source_table."timestamp",
        source_table.distribution_score,
        source_table.gini_coefficient,
        source_table.theil_index,
        source_table.shannon_entropy,
        source_table.top_10_concentration,
        source_table.quality_score,
        source_table.avg_wallet_age_days,
        source_table.smart_money_ratio,
        source_table.bot_wallet_ratio,
        source_table.known_dumper_ratio,
        source_table.activity_score,
        source_table.holder_growth_rate,
        source_table.unique_buyers_1h,
        source_table.unique_sellers_1h,
        source_table.diamond_hands_ratio,
        source_table.avg_hold_time_hours,
        source_table.total_score,
        source_table.total_holders,
        source_table.active_holders_24h,
        source_table.new_holders_1h,
        source_table.confidence_score,
        source_table.data_completeness,
        source_table.bonding_curve_progress,
        source_table.is_frozen,
        source_table.created_at
    from source_table
)

select * from renamed
