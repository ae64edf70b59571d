{#- A scalar parameter of seeds/scoring/holder_params.csv (evaluated once per query). -#}
{% macro holder_param(name) -%}
    (select hp.value from {{ ref('holder_params') }} as hp where hp.name = '{{ name }}')
{%- endmacro %}

{#- Points of `value` in the tier table `metric` of seeds/scoring/holder_tiers.csv: the smallest `lt` bound the
    value is below, else the largest `gt` bound it is above, else the `else` row (NULL when there is none). -#}
{% macro holder_tier(metric, value) -%}
    coalesce(
        (
            select ht.points from {{ ref('holder_tiers') }} as ht
            where ht.metric = '{{ metric }}' and ht.comparison = 'lt' and {{ value }} < ht.bound
            order by ht.bound limit 1
        ),
        (
            select ht.points from {{ ref('holder_tiers') }} as ht
            where ht.metric = '{{ metric }}' and ht.comparison = 'gt' and {{ value }} > ht.bound
            order by ht.bound desc limit 1
        ),
        (select ht.points from {{ ref('holder_tiers') }} as ht where ht.metric = '{{ metric }}' and ht.comparison = 'else')
    )
{%- endmacro %}

{#- Wallet features and classes as of T (spec §4.3, §4.4 with resolutions H1-H6) for every (wallet_address, as_of)
    pair of the relation or CTE `pairs`, from our own trades at or before T only (the stored trades plus what
    retention folded into megatron.holder_horizon): first seen, last active, age (days from first seen to T, a
    lower bound: history before our data is unknown), trade, buy and sell counts, tokens traded; the timing
    signals on trades in event order (ascending: H4); snipes and bundled buys (first buy of a token within the
    sniper window after its create slot / in the create slot, not as its creator); realized PnL and win rate
    (wallet_positions_for). Classes: bot (weighted signals, share of the weight of the signals that could be
    evaluated: SOL balances are not loaded, so the two balance signals are left out instead of counted as
    absent), MEV bot, sniper, bundler, smart money (the project's performance rule: win rate and tokens
    traded, realized profit > 0, no token created (a dev selling its own launch is not smart money), and not
    an automaton: not a bot, MEV bot, sniper or bundler;
    `smart_money_rule` says so), diamond hands (metric definition, H12), dumper.
    One row per pair with at least one trade. -#}
{% macro wallet_features_for(pairs) -%}
    with

    wallet_pairs as (
        select distinct
            pr.wallet_address,
            pr.as_of
        from {{ pairs }} as pr
    ),

    trades as (
        select
            wp.wallet_address,
            wp.as_of,
            tr.token_id,
            tr.type,
            tr.block_time,
            tr.slot,
            tr.slot_order,
            tr.signature,
            tr.event_index,
            tr.sol_amount
        from wallet_pairs as wp
        inner join {{ ref('int_trades_enriched') }} as tr
            on wp.wallet_address = tr.user_address and tr.block_time <= wp.as_of
    ),

    horizon as (
        select
            wp.wallet_address,
            wp.as_of,
            sum(hh.trades)::bigint as trade_count,
            sum(hh.buys)::bigint as buy_count,
            sum(hh.sells)::bigint as sell_count,
            min(hh.first_time) as first_seen
        from wallet_pairs as wp
        inner join {{ ref('stg_megatron__holder_horizon') }} as hh
            on wp.wallet_address = hh.wallet_address and hh.horizon <= wp.as_of
        group by wp.wallet_address, wp.as_of
    ),

    ordered as (
        select
            tr.*,
            row_number() over wallet_order as trade_number,
            extract(epoch from tr.block_time - lag(tr.block_time) over wallet_order) as gap_before,
            extract(epoch from lead(tr.block_time) over wallet_order - tr.block_time) as gap_after,
            lag(tr.type) over wallet_order as type_before,
            lead(tr.type) over wallet_order as type_after
        from trades as tr
        window wallet_order as (partition by tr.wallet_address, tr.as_of order by {{ event_order('tr.') }})
    ),

    sequence as (
        select
            od.wallet_address,
            od.as_of,
            count(*) as trade_count,
            count(*) filter (where od.type = 'buy') as buy_count,
            count(*) filter (where od.type = 'sell') as sell_count,
            count(distinct od.token_id) as tokens_traded,
            min(od.block_time) as first_trade,
            max(od.block_time) as last_active,
            count(od.gap_before) filter (where od.trade_number <= 50) as early_gaps,
            avg(od.gap_before) filter (where od.trade_number <= 50) as early_gap_mean,
            stddev_pop(od.gap_before) filter (where od.trade_number <= 50) as early_gap_sd,
            count(*) filter (where od.gap_before < 2 and od.gap_after < 2) as fast_triples,
            count(*) filter (where od.trade_number <= 100 and od.gap_before < 1) as sub_second_gaps,
            count(*) filter (
                where od.trade_number <= 49
                and (
                    (od.type_before = 'buy' and od.type = 'sell' and od.type_after = 'buy')
                    or (od.type_before = 'sell' and od.type = 'buy' and od.type_after = 'sell')
                )
            ) as sandwich_triples
        from ordered as od
        group by od.wallet_address, od.as_of
    ),

    amounts as (
        select
            per_amount.wallet_address,
            per_amount.as_of,
            max(per_amount.times) as most_repeated_amount
        from (
            select
                od.wallet_address,
                od.as_of,
                round(od.sol_amount, 3) as amount,
                count(*) as times
            from ordered as od
            where od.trade_number <= 50
            group by od.wallet_address, od.as_of, round(od.sol_amount, 3)
        ) as per_amount
        group by per_amount.wallet_address, per_amount.as_of
    ),

    first_buys as (
        select
            tr.wallet_address,
            tr.as_of,
            tr.token_id,
            min(tr.slot) as first_slot,
            min(tr.block_time) as first_time
        from trades as tr
        where tr.type = 'buy'
        group by tr.wallet_address, tr.as_of, tr.token_id
    ),

    entries as (
        select
            fb.wallet_address,
            fb.as_of,
            count(*) as tokens_bought,
            count(*) filter (
                where fb.wallet_address is distinct from tk.creator_address
                and (
                    fb.first_slot - tk.creation_slot between 1 and {{ holder_param('sniper_window_slots') }}
                    or (
                        (fb.first_slot is null or tk.creation_slot is null)
                        and extract(epoch from fb.first_time - tk.creation_timestamp)
                        > 0
                        and extract(epoch from fb.first_time - tk.creation_timestamp)
                        <= {{ holder_param('sniper_window_seconds') }}
                    )
                )
            ) as snipes,
            count(*) filter (
                where fb.wallet_address is distinct from tk.creator_address and fb.first_slot = tk.creation_slot
            ) as bundled_buys
        from first_buys as fb
        inner join {{ ref('stg_megatron__tokens') }} as tk on fb.token_id = tk.token_id
        group by fb.wallet_address, fb.as_of
    ),

    created as (
        select
            wp.wallet_address,
            wp.as_of,
            count(*) as tokens_created
        from wallet_pairs as wp
        inner join {{ ref('stg_megatron__tokens') }} as tk
            on wp.wallet_address = tk.creator_address and tk.creation_timestamp <= wp.as_of
        group by wp.wallet_address, wp.as_of
    ),

    positions as (
        {{ wallet_positions_for('wallet_pairs') }}
    ),

    performance as (
        select
            ps.wallet_address,
            ps.as_of,
            sum(ps.realized_pnl_sol) as realized_pnl_sol,
            count(*) filter (where ps.has_closed) as tokens_closed,
            100.0 * count(*) filter (where ps.has_closed and ps.realized_pnl_sol > 0)
            / nullif(count(*) filter (where ps.has_closed), 0) as win_rate
        from positions as ps
        group by ps.wallet_address, ps.as_of
    ),

    combined as (
        select
            sq.wallet_address,
            sq.as_of,
            least(sq.first_trade, hz.first_seen) as first_seen,
            sq.last_active,
            sq.trade_count + coalesce(hz.trade_count, 0) as trade_count,
            sq.buy_count + coalesce(hz.buy_count, 0) as buy_count,
            sq.sell_count + coalesce(hz.sell_count, 0) as sell_count,
            sq.tokens_traded,
            extract(epoch from sq.as_of - least(sq.first_trade, hz.first_seen)) / 86400.0 as age_days,
            sq.early_gaps,
            sq.early_gap_mean,
            sq.early_gap_sd,
            sq.fast_triples,
            sq.sub_second_gaps,
            sq.sandwich_triples,
            am.most_repeated_amount,
            coalesce(en.tokens_bought, 0) as tokens_bought,
            coalesce(en.snipes, 0) as snipes,
            coalesce(en.bundled_buys, 0) as bundled_buys,
            coalesce(cr.tokens_created, 0) as tokens_created,
            pf.realized_pnl_sol,
            pf.tokens_closed,
            pf.win_rate
        from sequence as sq
        left join horizon as hz on sq.wallet_address = hz.wallet_address and sq.as_of = hz.as_of
        left join amounts as am on sq.wallet_address = am.wallet_address and sq.as_of = am.as_of
        left join entries as en on sq.wallet_address = en.wallet_address and sq.as_of = en.as_of
        left join performance as pf on sq.wallet_address = pf.wallet_address and sq.as_of = pf.as_of
        left join created as cr on sq.wallet_address = cr.wallet_address and sq.as_of = cr.as_of
    ),

    signals as (
        select
            cb.*,
            cb.age_days < 1 as very_new_account,
            cb.age_days >= 1 and cb.age_days < 7 as new_account,
            cb.trade_count > 1000 and cb.age_days < 30 as high_frequency,
            cb.trade_count < 5 and cb.age_days > 30 as low_activity,
            cb.trade_count in (10, 20, 50, 100, 200, 500, 1000)
            or (
                cb.sell_count > 0
                and cb.buy_count::numeric / cb.sell_count > 0.95
                and cb.buy_count::numeric / cb.sell_count < 1.05
            ) as round_numbers,
            coalesce(
                cb.trade_count >= 10 and cb.early_gaps >= 5 and cb.early_gap_mean > 0
                and cb.early_gap_sd / cb.early_gap_mean < 0.2,
                false
            ) as timing_patterns,
            cb.buy_count > 0 and cb.sell_count = 0 as only_buys,
            cb.trade_count >= 5 and cb.most_repeated_amount > 0.3 * least(cb.trade_count, 50) as identical_trades,
            cb.trade_count >= 20 and cb.fast_triples > 0.1 * cb.trade_count as mev_activity,
            cb.trade_count >= 10 and cb.sandwich_triples > 2 as sandwich_pattern,
            cb.trade_count >= 20 and cb.sub_second_gaps > 0.2 * cb.trade_count as arbitrage,
            cb.age_days * 86400 < 60 as sniper_timing,
            cb.age_days < 30 and cb.tokens_traded / greatest(1, cb.age_days) > 5 as multiple_new_tokens
        from combined as cb
    ),

    scored as (
        select
            sg.*,
            (
                case when sg.very_new_account then {{ holder_param('bot_weight_very_new_account') }} else 0 end
                + case when sg.new_account then {{ holder_param('bot_weight_new_account') }} else 0 end
                + case when sg.high_frequency then {{ holder_param('bot_weight_high_frequency') }} else 0 end
                + case when sg.low_activity then {{ holder_param('bot_weight_low_activity') }} else 0 end
                + case when sg.round_numbers then {{ holder_param('bot_weight_round_numbers') }} else 0 end
                + case when sg.timing_patterns then {{ holder_param('bot_weight_timing_patterns') }} else 0 end
                + case when sg.only_buys then {{ holder_param('bot_weight_only_buys') }} else 0 end
                + case when sg.identical_trades then {{ holder_param('bot_weight_identical_trades') }} else 0 end
                + case when sg.mev_activity then {{ holder_param('bot_weight_mev_activity') }} else 0 end
                + case when sg.sandwich_pattern then {{ holder_param('bot_weight_sandwich_pattern') }} else 0 end
                + case when sg.sniper_timing then {{ holder_param('bot_weight_sniper_timing') }} else 0 end
                + case when sg.multiple_new_tokens then {{ holder_param('bot_weight_multiple_new_tokens') }} else 0 end
            )
            / (
                {{ holder_param('bot_weight_very_new_account') }}
                + {{ holder_param('bot_weight_new_account') }}
                + {{ holder_param('bot_weight_high_frequency') }}
                + {{ holder_param('bot_weight_low_activity') }}
                + {{ holder_param('bot_weight_round_numbers') }}
                + {{ holder_param('bot_weight_timing_patterns') }}
                + {{ holder_param('bot_weight_only_buys') }}
                + {{ holder_param('bot_weight_identical_trades') }}
                + {{ holder_param('bot_weight_mev_activity') }}
                + {{ holder_param('bot_weight_sandwich_pattern') }}
                + {{ holder_param('bot_weight_sniper_timing') }}
                + {{ holder_param('bot_weight_multiple_new_tokens') }}
            ) as bot_score
        from signals as sg
    ),

    classified as (
        select
            sc.wallet_address,
            sc.as_of,
            sc.first_seen,
            sc.last_active,
            round(sc.age_days, 6) as age_days,
            true as age_is_lower_bound,
            sc.trade_count::integer as trade_count,
            sc.buy_count::integer as buy_count,
            sc.sell_count::integer as sell_count,
            sc.tokens_traded::integer as tokens_traded,
            sc.tokens_bought::integer as tokens_bought,
            sc.snipes::integer as snipes,
            sc.bundled_buys::integer as bundled_buys,
            sc.tokens_created::integer as tokens_created,
            sc.realized_pnl_sol,
            sc.tokens_closed::integer as tokens_closed,
            round(sc.win_rate, 2) as win_rate,
            round(sc.bot_score, 4) as bot_score,
            sc.timing_patterns,
            sc.mev_activity,
            sc.sandwich_pattern,
            sc.identical_trades,
            sc.bot_score >= {{ holder_param('bot_threshold') }} as is_bot,
            sc.trade_count >= {{ holder_param('mev_min_trades') }}
            and (
                (sc.trade_count > 10000 and sc.age_days < 90)
                or sc.mev_activity or sc.sandwich_pattern or sc.arbitrage
            ) as is_mev_bot,
            sc.snipes >= {{ holder_param('sniper_min_snipes') }}
            and sc.snipes >= {{ holder_param('sniper_min_share') }} * sc.tokens_bought as is_sniper,
            sc.bundled_buys >= 1 as is_bundler,
            coalesce(
                sc.win_rate > {{ holder_param('smart_money_min_win_rate') }}
                and sc.tokens_traded > {{ holder_param('smart_money_min_tokens') }}
                and sc.realized_pnl_sol > 0,
                false
            ) as is_profitable_trader,
            'performance' as smart_money_rule,
            sc.age_days > {{ holder_param('diamond_hands_min_age_days') }} and sc.sell_count = 0 as is_diamond_hands,
            sc.buy_count > 0 and sc.sell_count > 0 and sc.sell_count > 1.5 * sc.buy_count as is_dumper,
            'wallet-2026.12' as rule_version
        from scored as sc
    ),

    smart as (
        select
            cl.*,
            cl.is_profitable_trader and cl.tokens_created = 0
            and not (cl.is_bot or cl.is_mev_bot or cl.is_sniper or cl.is_bundler) as is_smart_money
        from classified as cl
    ),

    final as (
        select
            sm.wallet_address,
            sm.as_of,
            sm.first_seen,
            sm.last_active,
            sm.age_days,
            sm.age_is_lower_bound,
            sm.trade_count,
            sm.buy_count,
            sm.sell_count,
            sm.tokens_traded,
            sm.tokens_bought,
            sm.snipes,
            sm.bundled_buys,
            sm.tokens_created,
            sm.realized_pnl_sol,
            sm.tokens_closed,
            sm.win_rate,
            sm.bot_score,
            sm.timing_patterns,
            sm.mev_activity,
            sm.sandwich_pattern,
            sm.identical_trades,
            sm.is_bot,
            sm.is_mev_bot,
            sm.is_sniper,
            sm.is_bundler,
            sm.is_smart_money,
            sm.smart_money_rule,
            sm.is_diamond_hands,
            sm.is_dumper,
            sm.rule_version
        from smart as sm
    )

    select * from final
{%- endmacro %}
