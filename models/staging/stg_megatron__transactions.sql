{#- One flat select, no CTE chain: a CTE over a hypertable keeps the view from being flattened into the query
    that reads it, and TimescaleDB then loses the ordered chunk scan (index scan backward, stop at the first row)
    and the runtime chunk exclusion the scoring macros rely on (docs/schema-decisions.md row 136). -#}
select
    tx.signature,
    tx.event_index,
    tx.pool_id,
    tx.token_id,
    tx.block_time,
    tx.slot,
    tx.type,
    tx.user_address,
    tx.amount_in,
    tx.amount_in_decimals,
    tx.amount_out,
    tx.amount_out_decimals,
    tx.sol_amount,
    tx.token_amount,
    tx.price_per_token,
    tx.price_per_token_usd,
    tx.sol_amount_usd,
    tx.protocol_fee,
    tx.platform_fee,
    tx.transaction_fee,
    tx.success,
    tx.raw_data,
    tx.created_at,
    tx.virtual_sol_reserves,
    tx.virtual_token_reserves,
    tx.real_sol_reserves,
    tx.real_token_reserves,
    tx.tx_index,
    tx.slot_order
from {{ source('megatron', 'transactions') }} as tx
