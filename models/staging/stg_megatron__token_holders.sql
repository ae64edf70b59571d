with

source_table as (
    select * from {{ source('megatron', 'token_holders') }}
),

renamed as (
    select
        source_table.token_mint,
        source_table.wallet_address,
        source_table.current_balance,
        source_table.initial_balance,
        source_table.peak_balance,
        source_table.first_transaction_time,
        source_table.last_transaction_time,
        source_table.total_bought,
        source_table.total_sold,
        source_table.transaction_count,
        source_table.avg_buy_price,
        source_table.avg_sell_price,
        source_table.realized_pnl,
        source_table.unrealized_pnl,
        source_table.is_smart_money,
        source_table.is_bot,
        source_table.is_mev_bot,
        source_table.is_insider,
        source_table.diamond_hands_score,
        source_table.last_updated,
        source_table.created_at
    from source_table
)

select * from renamed
