with

source_table as (
    select * from {{ source('megatron', 'price_candles_1m') }}
),

renamed as (
    select
        source_table.token_id,
        source_table.bucket,
        source_table.open,
        source_table.high,
        source_table.low,
        source_table.close,
        source_table.open_usd,
        source_table.high_usd,
        source_table.low_usd,
        source_table.close_usd,
        source_table.volume_token,
        source_table.volume_sol,
        source_table.volume_usd,
        source_table.trade_count,
        source_table.buyer_count,
        source_table.seller_count
    from source_table
)

select * from renamed
