with

source_table as (
    select * from {{ source('megatron', 'social_observations') }}
),

renamed as (
    select
        source_table.token_mint,
        source_table.observed_at,
        source_table.source,
        source_table.handle,
        source_table.twitter_id,
        source_table.followers_count,
        source_table.friends_count,
        source_table.tweets_count,
        source_table.account_created_at,
        source_table.verified,
        source_table.score,
        source_table.influencers_count,
        source_table.projects_count,
        source_table.venture_capitals_count,
        source_table.mentions_24h,
        source_table.smart_mentions_24h,
        source_table.engagement_24h,
        source_table.loaded_at
    from source_table
)

select * from renamed
