with

source_table as (
    select * from {{ source('megatron_scoring', 'score_grid') }}
),

renamed as (
    select
        source_table.run_id,
        source_table.token_mint,
        source_table.as_of
    from source_table
)

select * from renamed
