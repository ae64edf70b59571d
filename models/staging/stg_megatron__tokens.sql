with

source_table as (
    select * from {{ source('megatron', 'tokens') }}
),

renamed as (
    select
        source_table.id as token_id,
        source_table.mint_address,
        source_table.symbol,
        source_table.name,
        source_table.decimals,
        source_table.platform,
        source_table.creation_signature,
        source_table.creation_timestamp,
        source_table.creator_address,
        source_table.initial_supply,
        source_table.is_graduated,
        source_table.graduation_timestamp,
        source_table.graduation_signature,
        source_table.graduation_platform,
        source_table.uri,
        source_table.image_url,
        source_table.metadata,
        source_table.last_holder_score_progress,
        source_table.created_at,
        source_table.updated_at,
        source_table.creation_slot
    from source_table
)

select * from renamed
