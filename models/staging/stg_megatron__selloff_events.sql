with

source_table as (
    select * from {{ source('megatron', 'selloff_events') }}
),

renamed as (
    select
        source_table.id,
        source_table.token_mint,
        source_table.detection_time,
        source_table.initial_price,
        source_table.lowest_price,
        source_table.drop_percentage,
        source_table.recovery_price,
        source_table.recovery_time,
        source_table.recovery_percentage,
        source_table.duration_minutes,
        source_table.created_at
    from source_table
)

select * from renamed
