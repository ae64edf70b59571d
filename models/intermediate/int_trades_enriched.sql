{#- Buy and sell trades only (liquidity events are not trades), with the token's mint and decimals: the one
    input of candles, activity and wallet performance. Ordered reads use event_order(). -#}
with

transactions as (
    select * from {{ ref('stg_megatron__transactions') }}
),

tokens as (
    select * from {{ ref('stg_megatron__tokens') }}
),

trades as (
    select
        tx.signature,
        tx.event_index,
        tx.token_id,
        tk.mint_address as token_mint,
        tk.decimals as token_decimals,
        tx.pool_id,
        tx.block_time,
        tx.slot,
        tx.slot_order,
        tx.type,
        tx.user_address,
        tx.sol_amount,
        tx.token_amount,
        tx.price_per_token,
        tx.price_per_token_usd,
        tx.sol_amount_usd,
        tx.created_at
    from transactions as tx
    inner join tokens as tk on tx.token_id = tk.token_id
    where tx.type in ('buy', 'sell')
)

select * from trades
