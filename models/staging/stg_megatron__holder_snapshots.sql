with

source_table as (
    select * from {{ source('megatron', 'holder_snapshots') }}
),

renamed as (
    select
        source_table.token_mint,
        source_table.snapshot_time,
        source_table.total_holders,
        source_table.active_holders,
        source_table.dust_accounts,
        source_table.gini_coefficient,
        source_table.theil_index,
        source_table.shannon_entropy,
        source_table.top_1_balance,
        source_table.top_10_balance,
        source_table.top_20_balance,
        source_table.top_50_balance,
        source_table.top_100_balance,
        source_table.top_1_percentage,
        source_table.top_10_percentage,
        source_table.top_20_percentage,
        source_table.top_50_percentage,
        source_table.top_100_percentage,
        source_table.data_source,
        source_table.bonding_curve_progress,
        source_table.market_cap_usd,
        source_table.created_at
    from source_table
)

select * from renamed
