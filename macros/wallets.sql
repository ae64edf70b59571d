{#- Realized PnL per (wallet, T, token) from our own trades at or before T, for every (wallet_address, as_of) pair of
    the relation or CTE `pairs`, with average-cost accounting,
    set-based (window functions, no loop):
    * the position is the running sum of bought minus sold tokens floored at 0, which equals
      S_k − min(0, min_{j≤k} S_j) for the plain running sum S (a sell beyond the position sells tokens of
      unknown cost: only the part the position covers is matched, the rest is left out);
    * a sell of s tokens out of a position q keeps the fraction m = 1 − matched/q of the cost basis; a sell
      that empties the position (m = 0) closes a round, and the next buy opens a new one;
    * within a round the cost basis before trade k is exp(L_k)·Σ_{buys j<k} b_j·exp(−L_j) with L the running
      sum of ln m, so each sell realizes proceeds·matched/s − basis·(1 − m), in SOL and in USD.
    `trades` overrides the input relation (unit tests); it needs the columns of int_trades_enriched. -#}
{% macro wallet_positions_for(pairs, trades=none) -%}
    with

    trades as (
        select
            tr.user_address as wallet_address,
            pr.as_of,
            tr.token_id,
            tr.type,
            tr.block_time,
            tr.slot,
            tr.slot_order,
            tr.signature,
            tr.event_index,
            tr.token_amount::double precision as amount,
            tr.sol_amount::double precision as sol,
            tr.sol_amount_usd::double precision as usd
        from {% if trades is none %}{{ ref('int_trades_enriched') }}{% else %}{{ trades }}{% endif %} as tr
        inner join {{ pairs }} as pr on tr.user_address = pr.wallet_address and tr.block_time <= pr.as_of
        where tr.token_amount > 0
    ),

    running as (
        select
            tr.*,
            sum(case when tr.type = 'buy' then tr.amount else -tr.amount end) over position_order as plain_sum
        from trades as tr
        window position_order as (
            partition by tr.wallet_address, tr.as_of, tr.token_id order by {{ event_order('tr.') }}
            rows between unbounded preceding and current row
        )
    ),

    floored as (
        select
            rn.*,
            rn.plain_sum - least(0, min(rn.plain_sum) over position_order) as position_after
        from running as rn
        window position_order as (
            partition by rn.wallet_address, rn.as_of, rn.token_id order by {{ event_order('rn.') }}
            rows between unbounded preceding and current row
        )
    ),

    matched as (
        select
            fl.*,
            coalesce(lag(fl.position_after) over (
                partition by fl.wallet_address, fl.as_of, fl.token_id order by {{ event_order('fl.') }}
            ), 0) as position_before
        from floored as fl
    ),

    kept as (
        select
            mt.*,
            case when mt.type = 'sell' then greatest(least(mt.amount, mt.position_before), 0) else 0 end
                as matched_amount,
            case
                when mt.type = 'sell' and mt.position_before > 0
                    then greatest(1 - least(mt.amount, mt.position_before) / mt.position_before, 0)
                else 1
            end as kept_fraction
        from matched as mt
    ),

    rounds as (
        select
            kp.*,
            coalesce(sum((kp.kept_fraction = 0)::integer) over (
                partition by kp.wallet_address, kp.as_of, kp.token_id order by {{ event_order('kp.') }}
                rows between unbounded preceding and 1 preceding
            ), 0) as round_number
        from kept as kp
    ),

    logs as (
        select
            rd.*,
            coalesce(sum(ln(greatest(rd.kept_fraction, 1e-300))) over (
                partition by rd.wallet_address, rd.as_of, rd.token_id, rd.round_number order by {{ event_order('rd.') }}
                rows between unbounded preceding and 1 preceding
            ), 0) as log_kept_before
        from rounds as rd
    ),

    bases as (
        select
            lg.*,
            exp(lg.log_kept_before) * coalesce(sum(
                case when lg.type = 'buy' then lg.sol * exp(-lg.log_kept_before) else 0 end
            ) over round_order, 0) as basis_sol_before,
            exp(lg.log_kept_before) * coalesce(sum(
                case when lg.type = 'buy' then coalesce(lg.usd, 0) * exp(-lg.log_kept_before) else 0 end
            ) over round_order, 0) as basis_usd_before
        from logs as lg
        window round_order as (
            partition by lg.wallet_address, lg.as_of, lg.token_id, lg.round_number order by {{ event_order('lg.') }}
            rows between unbounded preceding and 1 preceding
        )
    ),

    realized as (
        select
            bs.*,
            case
                when bs.type = 'sell' and bs.matched_amount > 0
                    then bs.sol * bs.matched_amount / bs.amount - bs.basis_sol_before * (1 - bs.kept_fraction)
                else 0
            end as realized_sol,
            case
                when bs.type = 'sell' and bs.matched_amount > 0
                    then coalesce(bs.usd, 0) * bs.matched_amount / bs.amount - bs.basis_usd_before * (1 - bs.kept_fraction)
                else 0
            end as realized_usd
        from bases as bs
    ),

    positions as (
        select
            rz.wallet_address,
            rz.as_of,
            rz.token_id,
            count(*)::integer as trade_count,
            (count(*) filter (where rz.type = 'buy'))::integer as buy_count,
            (count(*) filter (where rz.type = 'sell'))::integer as sell_count,
            min(rz.block_time) as first_trade_time,
            max(rz.block_time) as last_trade_time,
            round(sum(rz.realized_sol)::numeric, 9) as realized_pnl_sol,
            round(sum(rz.realized_usd)::numeric, 2) as realized_pnl_usd,
            round((array_agg(rz.position_after order by {{ event_order('rz.', 'desc') }}))[1]::numeric, 6)
                as position_tokens,
            bool_or(rz.kept_fraction = 0) as has_closed
        from realized as rz
        group by rz.wallet_address, rz.as_of, rz.token_id
    )

    select * from positions
{%- endmacro %}

{#- wallet_positions_for every wallet that traded at or before one time `as_of` (one row per (wallet, token),
    without the as_of column). -#}
{% macro wallet_positions_as_of(as_of, trades=none) -%}
    with

    every_wallet as (
        select distinct
            tr.user_address as wallet_address,
            {{ as_of }} as as_of
        from {% if trades is none %}{{ ref('int_trades_enriched') }}{% else %}{{ trades }}{% endif %} as tr
        where tr.block_time <= {{ as_of }}
    ),

    positions as (
        {{ wallet_positions_for('every_wallet', trades) }}
    )

    select
        ps.wallet_address,
        ps.token_id,
        ps.trade_count,
        ps.buy_count,
        ps.sell_count,
        ps.first_trade_time,
        ps.last_trade_time,
        ps.realized_pnl_sol,
        ps.realized_pnl_usd,
        ps.position_tokens,
        ps.has_closed
    from positions as ps
{%- endmacro %}

{#- Wallet performance as of `as_of` from wallet_positions_as_of: realized PnL in SOL and USD, tokens traded,
    tokens closed (position emptied at least once) and the win rate over them (% with realized PnL > 0),
    graduated tokens traded (graduated at or before as_of), first seen. One row per wallet. -#}
{% macro wallet_performance_as_of(as_of, trades=none) -%}
    with

    positions as (
        {{ wallet_positions_as_of(as_of, trades) }}
    ),

    tokens as (
        select * from {{ ref('stg_megatron__tokens') }}
    ),

    performance as (
        select
            ps.wallet_address,
            sum(ps.realized_pnl_sol) as realized_pnl_sol,
            sum(ps.realized_pnl_usd) as realized_pnl_usd,
            count(*)::integer as tokens_traded,
            (count(*) filter (where ps.has_closed))::integer as tokens_closed,
            (count(*) filter (where ps.has_closed and ps.realized_pnl_sol > 0))::integer as tokens_won,
            round(
                100.0 * count(*) filter (where ps.has_closed and ps.realized_pnl_sol > 0)
                / nullif(count(*) filter (where ps.has_closed), 0), 2
            ) as win_rate,
            (count(*) filter (where tk.graduation_timestamp <= {{ as_of }}))::integer as graduated_tokens_traded,
            sum(ps.trade_count)::integer as trade_count,
            min(ps.first_trade_time) as first_seen,
            max(ps.last_trade_time) as last_seen,
            {{ as_of }} as as_of
        from positions as ps
        left join tokens as tk on ps.token_id = tk.token_id
        group by ps.wallet_address
    )

    select * from performance
{%- endmacro %}

{#- The seed's smart-money rule, the one definition: win rate > var('smart_money_min_win_rate') %, more than
    var('smart_money_min_tokens') tokens traded, the top var('smart_money_limit') by realized USD profit. -#}
{% macro smart_money_filter(performance) -%}
    select
        pf.wallet_address,
        pf.win_rate,
        pf.realized_pnl_usd / nullif(pf.tokens_closed, 0) as avg_profit_per_token_usd,
        pf.realized_pnl_usd as total_profit_usd,
        pf.realized_pnl_sol as total_profit_sol,
        pf.tokens_traded as unique_tokens_traded,
        pf.graduated_tokens_traded,
        pf.first_seen,
        row_number() over (order by pf.realized_pnl_usd desc, pf.wallet_address)::integer as profit_rank
    from {{ performance }} as pf
    where
        pf.win_rate > {{ var('smart_money_min_win_rate') }}
        and pf.tokens_traded > {{ var('smart_money_min_tokens') }}
    order by pf.realized_pnl_usd desc, pf.wallet_address
    limit {{ var('smart_money_limit') }}
{%- endmacro %}
