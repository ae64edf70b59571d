{#- The seed's top_tokens_by_usd_volume, one row per token: its current pool (the graduated AMM pool once
    there is one, else the bonding curve; the newest state among equals), the USD volume of the 24 hours
    before the as-of time from the 1-minute candles, the latest technical and holder score; tokens created
    (creation_timestamp) in the 7 days before the as-of time. The seed joined every pool (a graduated token
    appeared twice) and filtered on the row's insert time. -#}
with

tokens as (
    select * from {{ ref('stg_megatron__tokens') }}
    where
        creation_timestamp > {{ as_of_time() }} - interval '7 days'
        and creation_timestamp <= {{ as_of_time() }}
),

pools as (
    select * from {{ ref('stg_megatron__pools') }}
),

ranked_pools as (
    select
        pools.*,
        row_number() over (
            partition by pools.token_id
            order by
                pools.pool_type = 'graduated' desc,
                pools.state_time desc nulls last,
                pools.created_at desc,
                pools.pool_id asc
        ) as pool_rank
    from pools
),

current_pools as (
    select * from ranked_pools
    where pool_rank = 1
),

volume_24h as (
    select
        candles.token_id,
        sum(candles.volume_usd) as volume_24h_usd
    from {{ ref('price_candles_1m') }} as candles
    where
        candles.bucket > {{ as_of_time() }} - interval '24 hours'
        and candles.bucket <= {{ as_of_time() }}
    group by candles.token_id
),

technical as (
    select * from {{ ref('latest_technical_scores') }}
),

holder as (
    select * from {{ ref('latest_holder_scores_v2') }}
),

top_tokens as (
    select
        tk.token_id,
        tk.mint_address,
        tk.symbol,
        tk.name,
        tk.platform,
        cp.pool_id,
        cp.pool_address,
        cp.pool_type,
        cp.bonding_curve_progress,
        cp.latest_price_usd,
        tk.creation_timestamp,
        tk.created_at,
        coalesce(vol.volume_24h_usd, 0) as volume_24h_usd,
        coalesce(ts.total_score, 0) as technical_score,
        coalesce(hs.total_score, 0) as holder_score
    from tokens as tk
    left join current_pools as cp on tk.token_id = cp.token_id
    left join volume_24h as vol on tk.token_id = vol.token_id
    left join technical as ts on tk.mint_address = ts.token_mint
    left join holder as hs on tk.mint_address = hs.token_mint
)

select * from top_tokens
