with

source_table as (
    select * from {{ source('megatron', 'graduation_events') }}
),

renamed as (
    select
        source_table.signature,
        source_table.event_index,
        source_table.kind,
        source_table.token_mint,
        source_table.block_time,
        source_table.slot,
        source_table.bonding_curve,
        source_table.pool_address,
        source_table.platform,
        source_table.loaded_at
    from source_table
)

select * from renamed
