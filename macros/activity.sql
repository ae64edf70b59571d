{#- Trading activity of every token traded in the 24 hours before `as_of` (windows end at as_of, inclusive;
    start exclusive): buys, sells and net SOL flow (bought − sold) over 1m/5m/1h/24h, unique buyers and
    sellers over 1h and 24h, new holders (wallets whose first buy of the token falls in the window, the
    retention horizon counting as earlier trades) over 1h and 24h, average and largest trade in SOL over 24h. -#}
{% macro activity_as_of(as_of) -%}
    with

    window_trades as (
        select tr.*
        from {{ ref('int_trades_enriched') }} as tr
        where tr.block_time > {{ as_of }} - interval '24 hours' and tr.block_time <= {{ as_of }}
    ),

    first_buys as (
        select
            wt.token_id,
            wt.user_address,
            min(wt.block_time) as first_buy_time
        from window_trades as wt
        where wt.type = 'buy'
        group by wt.token_id, wt.user_address
    ),

    new_holders as (
        select fb.*
        from first_buys as fb
        where
            not exists (
                select 1
                from {{ ref('stg_megatron__transactions') }} as earlier
                where
                    earlier.user_address = fb.user_address
                    and earlier.token_id = fb.token_id
                    and earlier.type = 'buy'
                    and earlier.block_time <= {{ as_of }} - interval '24 hours'
            )
            and not exists (
                select 1
                from {{ ref('stg_megatron__holder_horizon') }} as hh
                inner join {{ ref('stg_megatron__tokens') }} as tk on hh.token_mint = tk.mint_address
                where tk.token_id = fb.token_id and hh.wallet_address = fb.user_address and hh.buys > 0
            )
    ),

    {%- set windows = [('1m', "1 minute"), ('5m', "5 minutes"), ('1h', "1 hour"), ('24h', "24 hours")] %}

    per_token as (
        select
            wt.token_id,
            wt.token_mint,
    {%- for name, width in windows %}
            (count(*) filter (
                where wt.type = 'buy' and wt.block_time > {{ as_of }} - interval '{{ width }}'))::integer as buys_{{ name }},
            (count(*) filter (
                where wt.type = 'sell' and wt.block_time > {{ as_of }} - interval '{{ width }}'))::integer as sells_{{ name }},
            coalesce(sum(case when wt.type = 'buy' then wt.sol_amount else -wt.sol_amount end) filter (
                where wt.block_time > {{ as_of }} - interval '{{ width }}'), 0) as net_flow_sol_{{ name }},
    {%- endfor %}
            (count(distinct wt.user_address) filter (
                where wt.type = 'buy' and wt.block_time > {{ as_of }} - interval '1 hour'))::integer as unique_buyers_1h,
            (count(distinct wt.user_address) filter (
                where wt.type = 'sell' and wt.block_time > {{ as_of }} - interval '1 hour'))::integer as unique_sellers_1h,
            (count(distinct wt.user_address) filter (where wt.type = 'buy'))::integer as unique_buyers_24h,
            (count(distinct wt.user_address) filter (where wt.type = 'sell'))::integer as unique_sellers_24h,
            avg(wt.sol_amount) as avg_trade_sol_24h,
            max(wt.sol_amount) as largest_trade_sol_24h
        from window_trades as wt
        group by wt.token_id, wt.token_mint
    ),

    new_holder_counts as (
        select
            nh.token_id,
            (count(*) filter (where nh.first_buy_time > {{ as_of }} - interval '1 hour'))::integer as new_holders_1h,
            count(*)::integer as new_holders_24h
        from new_holders as nh
        group by nh.token_id
    ),

    activity as (
        select
            pt.*,
            coalesce(nc.new_holders_1h, 0) as new_holders_1h,
            coalesce(nc.new_holders_24h, 0) as new_holders_24h,
            {{ as_of }} as as_of
        from per_token as pt
        left join new_holder_counts as nc on pt.token_id = nc.token_id
    )

    select * from activity
{%- endmacro %}
