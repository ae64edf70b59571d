with

source_table as (
    select * from {{ source('megatron', 'transactions') }}
),

renamed as (
    select
        source_table.signature,
        source_table.event_index,
        source_table.pool_id,
        source_table.token_id,
        source_table.block_time,
        source_table.slot,
        source_table.type,
        source_table.user_address,
        source_table.amount_in,
        source_table.amount_in_decimals,
        source_table.amount_out,
        source_table.amount_out_decimals,
        source_table.sol_amount,
        source_table.token_amount,
        source_table.price_per_token,
        source_table.price_per_token_usd,
        source_table.sol_amount_usd,
        source_table.protocol_fee,
        source_table.platform_fee,
        source_table.transaction_fee,
        source_table.success,
        source_table.raw_data,
        source_table.created_at,
        source_table.virtual_sol_reserves,
        source_table.virtual_token_reserves,
        source_table.real_sol_reserves,
        source_table.real_token_reserves,
        source_table.tx_index,
        source_table.slot_order
    from source_table
)

select * from renamed
