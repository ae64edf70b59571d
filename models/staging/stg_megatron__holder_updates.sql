with

source_table as (
    select * from {{ source('megatron', 'holder_updates') }}
),

renamed as (
    select
        source_table.id,
        source_table.token_mint,
        source_table.update_time,
        source_table.update_type,
        source_table.wallet_address,
        source_table.old_balance,
        source_table.new_balance,
        source_table.balance_change,
        source_table.impact_on_concentration,
        source_table.new_holder_count,
        source_table.processed,
        source_table.created_at,
        source_table.signature,
        source_table.event_index
    from source_table
)

select * from renamed
