with

source_table as (
    select * from {{ source('megatron_scores', 'token_scores') }}
),

renamed as (
    select
        source_table.token_mint,
        source_table.as_of,
        source_table.technical_score,
        source_table.holder_score,
        source_table.social_score,
        source_table.total_score,
        source_table.technical_raw,
        source_table.technical_as_of,
        source_table.technical_frozen,
        source_table.holder_as_of,
        source_table.holder_missing,
        source_table.holder_stale,
        source_table.holder_frozen,
        source_table.social_as_of,
        source_table.social_missing,
        source_table.bonding_curve_progress,
        source_table.market_cap_usd,
        source_table.rule_version,
        source_table.run_id,
        source_table.created_at
    from source_table
)

select * from renamed
