with

source_table as (
    select * from {{ source('megatron', 'holder_score_queue') }}
),

renamed as (
    select
        source_table.id,
        source_table.token_mint,
        source_table.priority,
        source_table.reason,
        source_table.scheduled_at,
        source_table.processed_at,
        source_table.attempts,
        source_table.last_error,
        source_table.milestone
    from source_table
)

select * from renamed
