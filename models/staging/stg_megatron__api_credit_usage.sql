with

source_table as (
    select * from {{ source('megatron', 'api_credit_usage') }}
),

renamed as (
    select
        source_table."timestamp",
        source_table.api_provider,
        source_table.endpoint,
        source_table.credits_used,
        source_table.response_time_ms,
        source_table.status_code,
        source_table.error_message,
        source_table.token_mint,
        source_table.request_type,
        source_table.created_at
    from source_table
)

select * from renamed
