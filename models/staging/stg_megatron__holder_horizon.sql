with

source_table as (
    select * from {{ source('megatron_internal', 'holder_horizon') }}
),

renamed as (
    select
        source_table.token_mint,
        source_table.wallet_address,
        source_table.horizon,
        source_table.balance,
        source_table.initial_balance,
        source_table.peak_balance,
        source_table.first_time,
        source_table.bought,
        source_table.sold,
        source_table.buy_sol,
        source_table.sell_sol,
        source_table.trades,
        source_table.buys,
        source_table.sells,
        source_table.volume_usd
    from source_table
)

select * from renamed
