with

source_table as (
    select * from {{ source('megatron', 'pools') }}
),

renamed as (
    select
        source_table.id as pool_id,
        source_table.pool_address,
        source_table.token_id,
        source_table.base_mint,
        source_table.quote_mint,
        source_table.platform,
        source_table.pool_type,
        source_table.bonding_curve_address,
        source_table.virtual_sol_reserves,
        source_table.virtual_token_reserves,
        source_table.real_sol_reserves,
        source_table.real_token_reserves,
        source_table.bonding_curve_progress,
        source_table.lp_mint,
        source_table.base_vault,
        source_table.quote_vault,
        source_table.latest_price,
        source_table.latest_price_usd,
        source_table.initial_price,
        source_table.initial_base_liquidity,
        source_table.initial_quote_liquidity,
        source_table.status,
        source_table.created_at,
        source_table.updated_at,
        source_table.state_slot,
        source_table.curve_sell_supply,
        source_table.state_time
    from source_table
)

select * from renamed
