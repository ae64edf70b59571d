with

source_table as (
    select * from {{ source('megatron', 'activity_metrics') }}
),

renamed as (
    select
        source_table.token_mint,
        source_table."timestamp",
        source_table.buys_1m,
        source_table.sells_1m,
        source_table.net_flow_1m,
        source_table.buys_5m,
        source_table.sells_5m,
        source_table.net_flow_5m,
        source_table.buys_1h,
        source_table.sells_1h,
        source_table.net_flow_1h,
        source_table.unique_buyers_1h,
        source_table.unique_sellers_1h,
        source_table.new_holders_1h,
        source_table.avg_buy_size_sol,
        source_table.avg_sell_size_sol,
        source_table.largest_buy_sol,
        source_table.largest_sell_sol,
        source_table.created_at
    from source_table
)

select * from renamed
