with

source_table as (
    select * from {{ source('megatron', 'sol_usd_prices') }}
),

renamed as (
    select
        source_table.price_time,
        source_table.price_usd,
        source_table.source,
        source_table.confidence,
        source_table.created_at
    from source_table
)

select * from renamed
