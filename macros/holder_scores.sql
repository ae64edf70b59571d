{#- Holder metrics (spec §4.1-4.5) for every (token_mint, as_of) pair of the relation or CTE `grid`.
    The gate (spec §2.2 resolution): with `gated`, a pair passes when holder_param('min_progress') ≤ progress(T)
    < holder_param('max_progress') (bonding_curve_progress_at, the one progress formula); a pair at or after the
    token's graduation passes with the gate bypassed and is computed as of the graduation time (`scored_at`,
    `is_frozen`): after graduation every T reads the one frozen snapshot. Without `gated` every pair is scored as
    of T (risk metrics). Holder set: holder_balances_for ("trade" mode); distribution: holder_distribution_for;
    each holder's wallet features as of scored_at: wallet_features_for. One row per passing pair with at least
    one holder; the holder-count rule (≥ min_included_holders) is applied by holder_scores_for. -#}
{% macro holder_metrics_for(grid, gated=true) -%}
    with

    grid_pairs as (
        select distinct
            gr.token_mint,
            gr.as_of
        from {{ grid }} as gr
    ),

    gate as (
        select
            gp.token_mint,
            gp.as_of,
            {% if gated -%}
            coalesce(tk.graduation_timestamp <= gp.as_of, false) as is_frozen,
            case when tk.graduation_timestamp <= gp.as_of then tk.graduation_timestamp else gp.as_of end as scored_at,
            case
                when tk.graduation_timestamp <= gp.as_of then 100
                else public.bonding_curve_progress_at(gp.token_mint, gp.as_of)
            end as progress
            {%- else -%}
            false as is_frozen,
            gp.as_of as scored_at,
            null::numeric as progress
            {%- endif %}
        from grid_pairs as gp
        inner join {{ ref('stg_megatron__tokens') }} as tk on gp.token_mint = tk.mint_address
    ),

    passing as (
        select * from gate as gt
        {% if gated -%}
        where
            gt.is_frozen
            or (gt.progress >= {{ holder_param('min_progress') }} and gt.progress < {{ holder_param('max_progress') }})
        {%- endif %}
    ),

    scored_pairs as (
        select distinct
            ps.token_mint,
            ps.scored_at as as_of
        from passing as ps
    ),

    balances as (
        {{ holder_balances_for('scored_pairs') }}
    ),

    distribution as (
        {{ holder_distribution_for('scored_pairs', 'balances') }}
    ),

    holder_wallets as (
        select distinct
            bl.wallet_address,
            bl.as_of
        from balances as bl
    ),

    features as (
        {{ wallet_features_for('holder_wallets') }}
    ),

    holders as (
        select
            bl.token_mint,
            bl.as_of,
            bl.wallet_address,
            bl.balance,
            bl.balance / sum(bl.balance) over (partition by bl.token_mint, bl.as_of) as share,
            count(*) over (partition by bl.token_mint, bl.as_of) as holder_count,
            wf.age_days,
            wf.first_seen,
            wf.last_active,
            wf.trade_count,
            wf.buy_count,
            wf.sell_count,
            coalesce(wf.is_bot or wf.is_mev_bot, false) as is_bot,
            coalesce(wf.is_mev_bot, false) as is_mev_bot,
            coalesce(wf.is_sniper, false) as is_sniper,
            coalesce(wf.is_bundler, false) as is_bundler,
            coalesce(wf.is_smart_money, false) as is_smart_money,
            coalesce(wf.is_diamond_hands, false) as is_diamond_hands,
            coalesce(wf.is_dumper, false) as is_dumper,
            wf.wallet_address is not null as is_enriched
        from balances as bl
        left join features as wf on bl.wallet_address = wf.wallet_address and bl.as_of = wf.as_of
    ),

    quality as (
        select
            hd.token_mint,
            hd.as_of,
            count(*) filter (where hd.is_enriched) as enriched_holders,
            avg(hd.is_bot::integer) filter (where hd.is_enriched) as bot_ratio,
            avg(hd.is_mev_bot::integer) filter (where hd.is_enriched) as mev_bot_ratio,
            avg(hd.is_smart_money::integer) filter (where hd.is_enriched) as smart_money_ratio,
            avg(hd.is_diamond_hands::integer) filter (where hd.is_enriched) as diamond_hand_ratio,
            avg(hd.is_dumper::integer) filter (where hd.is_enriched) as dumper_ratio,
            count(*) filter (where hd.is_sniper) as sniper_holders,
            count(*) filter (where hd.is_bundler) as bundler_holders,
            avg(hd.age_days) as avg_wallet_age_days,
            count(*) filter (where hd.last_active > hd.as_of - interval '24 hours') as active_24h,
            count(*) filter (where hd.last_active > hd.as_of - interval '1 hour') as active_1h,
            avg(
                0.7 * greatest(0, 1 - extract(epoch from hd.as_of - hd.last_active) / 86400.0 / 30)
                + 0.3 * least(1, hd.trade_count / 100.0)
            ) as velocity_score,
            avg((hd.age_days < {{ holder_param('young_wallet_days') }})::integer) as young_wallet_share,
            avg((hd.trade_count = 0)::integer) as no_trade_share,
            avg((hd.buy_count > 5 and hd.sell_count > 5 and abs(hd.buy_count - hd.sell_count) < 2)::integer)
                as balanced_trader_share,
            count(*) filter (where hd.sell_count > 0 and hd.last_active > hd.as_of - interval '24 hours')
                as active_sellers_24h,
            avg(hd.sell_count) filter (where hd.sell_count > 0 and hd.last_active > hd.as_of - interval '24 hours')
                as active_seller_mean_sells
        from holders as hd
        group by hd.token_mint, hd.as_of
    ),

    age_buckets as (
        select
            hd.token_mint,
            hd.as_of,
            case
                when hd.age_days <= 7 then 1 when hd.age_days <= 30 then 2 when hd.age_days <= 90 then 3
                when hd.age_days <= 180 then 4 else 5
            end as bucket,
            count(*)::double precision / max(hd.holder_count) as part
        from holders as hd
        where hd.is_enriched
        group by hd.token_mint, hd.as_of, 3
    ),

    balance_buckets as (
        select
            hd.token_mint,
            hd.as_of,
            case
                when hd.share < 0.0001 then 1 when hd.share < 0.001 then 2 when hd.share < 0.01 then 3
                when hd.share < 0.05 then 4 else 5
            end as bucket,
            count(*)::double precision / max(hd.holder_count) as part
        from holders as hd
        group by hd.token_mint, hd.as_of, 3
    ),

    entropy as (
        select
            bk.token_mint,
            bk.as_of,
            bk.kind,
            -sum(bk.part * log(2, bk.part::numeric)) / log(2, 5::numeric) as diversity
        from (
            select ab.*, 'age' as kind from age_buckets as ab
            union all
            select bb.*, 'balance' as kind from balance_buckets as bb
        ) as bk
        group by bk.token_mint, bk.as_of, bk.kind
    ),

    shared_balances as (
        select
            per_value.token_mint,
            per_value.as_of,
            count(*) filter (where per_value.holders > 0.1 * per_value.holder_count) as common_balance_values
        from (
            select
                hd.token_mint,
                hd.as_of,
                floor(hd.balance) as balance_value,
                count(*) as holders,
                max(hd.holder_count) as holder_count
            from holders as hd
            group by hd.token_mint, hd.as_of, floor(hd.balance)
        ) as per_value
        group by per_value.token_mint, per_value.as_of
    ),

    common_trade_counts as (
        select
            per_count.token_mint,
            per_count.as_of,
            count(*) as common_trade_counts
        from (
            select
                hd.token_mint,
                hd.as_of,
                hd.trade_count,
                count(*) as holders,
                max(hd.holder_count) as holder_count
            from holders as hd
            where hd.trade_count > 10
            group by hd.token_mint, hd.as_of, hd.trade_count
        ) as per_count
        where per_count.holders > 0.1 * per_count.holder_count
        group by per_count.token_mint, per_count.as_of
    ),

    common_creation_hours as (
        select
            per_hour.token_mint,
            per_hour.as_of,
            count(*) as common_creation_hours
        from (
            select
                hd.token_mint,
                hd.as_of,
                date_trunc('hour', hd.first_seen) as first_seen_hour,
                count(*) as holders,
                max(hd.holder_count) as holder_count
            from holders as hd
            where hd.first_seen is not null
            group by hd.token_mint, hd.as_of, date_trunc('hour', hd.first_seen)
        ) as per_hour
        where per_hour.holders > 0.2 * per_hour.holder_count
        group by per_hour.token_mint, per_hour.as_of
    ),

    organic as (
        select
            qa.token_mint,
            qa.as_of,
            greatest(
                0,
                0.5 * coalesce(ea.diversity, 0) + 0.5 * coalesce(eb.diversity, 0)
                - 0.3 * least(
                    1, 0.3 * coalesce(sb.common_balance_values, 0) + case when qa.no_trade_share > 0.3 then 0.4 else 0 end
                )
            ) as organic_growth
        from quality as qa
        left join entropy as ea on qa.token_mint = ea.token_mint and qa.as_of = ea.as_of and ea.kind = 'age'
        left join entropy as eb on qa.token_mint = eb.token_mint and qa.as_of = eb.as_of and eb.kind = 'balance'
        left join shared_balances as sb on qa.token_mint = sb.token_mint and qa.as_of = sb.as_of
    ),

    metrics as (
        select
            ps.token_mint,
            ps.as_of,
            ps.scored_at,
            ps.is_frozen,
            ps.progress,
            'trade' as mode,
            ds.holder_count as included_holders,
            ds.gini,
            ds.top_1_pct,
            ds.top_10_pct,
            ds.top_1_pct_of_supply,
            ds.top_10_pct_of_supply,
            ds.hhi,
            ds.theil,
            ds.shannon,
            qa.enriched_holders,
            qa.bot_ratio,
            qa.mev_bot_ratio,
            qa.smart_money_ratio,
            qa.diamond_hand_ratio,
            qa.dumper_ratio,
            qa.sniper_holders,
            qa.bundler_holders,
            qa.avg_wallet_age_days,
            qa.active_24h,
            qa.active_1h,
            qa.active_24h::numeric / ds.holder_count as active_24h_ratio,
            qa.velocity_score,
            og.organic_growth,
            qa.young_wallet_share,
            qa.balanced_trader_share,
            qa.active_sellers_24h,
            qa.active_seller_mean_sells,
            coalesce(ct.common_trade_counts, 0) as common_trade_counts,
            coalesce(ch.common_creation_hours, 0) as common_creation_hours
        from passing as ps
        inner join distribution as ds on ps.token_mint = ds.token_mint and ps.scored_at = ds.as_of
        inner join quality as qa on ps.token_mint = qa.token_mint and ps.scored_at = qa.as_of
        inner join organic as og on ps.token_mint = og.token_mint and ps.scored_at = og.as_of
        left join common_trade_counts as ct on ps.token_mint = ct.token_mint and ps.scored_at = ct.as_of
        left join common_creation_hours as ch on ps.token_mint = ch.token_mint and ps.scored_at = ch.as_of
    )

    select * from metrics
{%- endmacro %}

{#- The holder score (spec §4.6) for every (token_mint, as_of) pair of `grid` that passes the gates (interface of
    issue 11): holder_metrics_for with the progress gate and the frozen graduation snapshot, then only sets of at
    least holder_param('min_included_holders') included holders (else absent, not 0). Points from the tier tables
    of seeds/scoring/holder_tiers.csv and the caps/multipliers of holder_params; below
    holder_param('dampening_below_holders') holders the Gini and top-1 points are multiplied by
    f = max(dampening_floor, n / dampening_below_holders) and the holder-count points are
    min(cap, dampened_points_per_holder · n) · f. Each part is rounded to 0.1 (DECIMAL(5,1)); the total is the
    sum of the rounded parts. -#}
{% macro holder_scores_for(grid) -%}
    with

    metrics as materialized (
        {{ holder_metrics_for(grid, gated=true) }}
    ),

    included as (
        select
            mt.*,
            case
                when mt.included_holders < {{ holder_param('dampening_below_holders') }}
                    then greatest(
                        {{ holder_param('dampening_floor') }},
                        mt.included_holders / {{ holder_param('dampening_below_holders') }}
                    )
                else 1
            end as dampening_factor
        from metrics as mt
        where mt.included_holders >= {{ holder_param('min_included_holders') }}
    ),

    points as (
        select
            ic.*,
            {{ holder_tier('gini', 'ic.gini') }} * ic.dampening_factor as gini_points,
            {{ holder_tier('top_1_pct', 'ic.top_1_pct') }} * ic.dampening_factor as top_1_points,
            case
                when ic.included_holders < {{ holder_param('dampening_below_holders') }}
                    then least(
                        {{ holder_param('holder_count_cap') }},
                        {{ holder_param('dampened_points_per_holder') }} * ic.included_holders
                    ) * ic.dampening_factor
                else least(
                    {{ holder_param('holder_count_cap') }},
                    floor(ic.included_holders / {{ holder_param('holder_count_divisor') }})
                )
            end as holder_count_points,
            {{ holder_tier('bot_ratio', 'ic.bot_ratio') }} as bot_ratio_points,
            least(
                {{ holder_param('smart_money_cap') }},
                ic.smart_money_ratio * {{ holder_param('smart_money_multiplier') }}
            ) as smart_money_points,
            {{ holder_tier('avg_wallet_age_days', 'ic.avg_wallet_age_days') }} as wallet_age_points,
            least(
                {{ holder_param('active_24h_cap') }},
                ic.active_24h_ratio * {{ holder_param('active_24h_multiplier') }}
            ) as active_24h_points,
            least(
                {{ holder_param('organic_growth_cap') }},
                ic.organic_growth * {{ holder_param('organic_growth_multiplier') }}
            ) as organic_growth_points,
            least(
                {{ holder_param('velocity_cap') }},
                ic.velocity_score * {{ holder_param('velocity_multiplier') }}
            ) as velocity_points
        from included as ic
    ),

    scores as (
        select
            pt.token_mint,
            pt.as_of,
            pt.scored_at,
            pt.is_frozen,
            pt.progress,
            pt.mode,
            pt.included_holders,
            round(pt.dampening_factor, 3) as dampening_factor,
            round(pt.gini, 4) as gini,
            round(pt.top_1_pct, 4) as top1_pct,
            round(pt.top_10_pct, 4) as top10_pct,
            round(pt.bot_ratio, 4) as bot_ratio,
            round(pt.mev_bot_ratio, 4) as mev_bot_ratio,
            round(pt.smart_money_ratio, 4) as smart_money_ratio,
            round(pt.diamond_hand_ratio, 4) as diamond_hand_ratio,
            round(pt.avg_wallet_age_days, 2) as avg_wallet_age_days,
            round(pt.active_24h_ratio, 4) as active_24h_ratio,
            pt.active_24h::integer as active_24h,
            round(pt.organic_growth::numeric, 4) as organic_growth,
            round(pt.velocity_score, 4) as velocity_score,
            round(pt.gini_points, 2) as gini_points,
            round(pt.top_1_points, 2) as top_1_points,
            round(pt.holder_count_points, 2) as holder_count_points,
            round(pt.bot_ratio_points, 2) as bot_ratio_points,
            round(pt.smart_money_points, 2) as smart_money_points,
            round(pt.wallet_age_points, 2) as wallet_age_points,
            round(pt.active_24h_points, 2) as active_24h_points,
            round(pt.organic_growth_points::numeric, 2) as organic_growth_points,
            round(pt.velocity_points, 2) as velocity_points,
            round(pt.gini_points + pt.top_1_points + pt.holder_count_points, 1) as distribution_score,
            round(pt.bot_ratio_points + pt.smart_money_points + pt.wallet_age_points, 1) as quality_score,
            round((pt.active_24h_points + pt.organic_growth_points + pt.velocity_points)::numeric, 1) as activity_score
        from points as pt
    ),

    totals as (
        select
            sc.*,
            sc.distribution_score + sc.quality_score + sc.activity_score as holder_score,
            'holder-2026.12' as rule_version
        from scores as sc
    )

    select * from totals
{%- endmacro %}

{#- Risk metrics (spec §4.7, 0-100 each) for every (token_mint, as_of) pair of `grid` with at least one holder,
    as of T (no progress gate: risks are informational): concentration (tiers on Gini, else Gini × 40), bot swarm
    min(100, bot ratio × 200), rug min(100, 2·top-1 % + 100·share of holders younger than young_wallet_days +
    50·Gini), wash trading (+20 per trade count > 10 shared by > 10 % of holders, +30 per first-seen hour shared by
    > 20 %, +30 when > 30 % trade balanced both ways, cap 100), liquidity (tiers on the holder count), volatility
    (sellers active in 24 h: ratio × 50 + min(50, 5 × their mean sells), cap 100), the weighted overall
    0.25·conc + 0.20·bot + 0.25·rug + 0.10·wash + 0.10·liq + 0.10·vol; plus, ours, the insider risk from the
    trader signals (token_signals_for): min(100, 2 × the supply share held by the creator, the bundled buyers and
    the snipers + 20 when bundled + 20 when the creator sold), and a level (critical > 80, high > 50, medium > 25,
    else low, on the overall). -#}
{% macro risk_metrics_for(grid) -%}
    with

    metrics as materialized (
        {{ holder_metrics_for(grid, gated=false) }}
    ),

    signals as materialized (
        {{ token_signals_for(grid) }}
    ),

    risks as (
        select
            mt.token_mint,
            mt.as_of,
            mt.included_holders,
            round(coalesce({{ holder_tier('concentration_risk', 'mt.gini') }}, mt.gini * 40), 2) as concentration_risk,
            round(least(100, mt.bot_ratio * 200), 2) as bot_swarm_risk,
            round(least(100, 2 * mt.top_1_pct + 100 * mt.young_wallet_share + 50 * mt.gini), 2) as rug_risk,
            round(least(
                100,
                20 * mt.common_trade_counts
                + 30 * mt.common_creation_hours
                + case when mt.balanced_trader_share > 0.3 then 30 else 0 end
            )::numeric, 2) as wash_trading_risk,
            round({{ holder_tier('liquidity_risk', 'mt.included_holders') }}, 2) as liquidity_risk,
            round(least(
                100,
                mt.active_sellers_24h::numeric / mt.included_holders * 50
                + least(50, 5 * coalesce(mt.active_seller_mean_sells, 0))
            ), 2) as volatility_risk,
            round(least(100,
                2 * (coalesce(sg.creator_holding_pct, 0) + coalesce(sg.bundled_supply_pct, 0)
                    + coalesce(sg.sniper_supply_pct, 0))
                + case when sg.is_bundled then 20 else 0 end
                + case when sg.creator_sold then 20 else 0 end
            ), 2) as insider_risk,
            sg.sniper_count,
            sg.sniper_supply_pct,
            sg.bundled_buy_wallets,
            sg.creator_holding_pct,
            sg.creator_sold,
            sg.fresh_wallet_share,
            round(mt.bot_ratio, 4) as bot_ratio,
            round(mt.mev_bot_ratio * 100, 2) as mev_bot_percentage,
            round(mt.gini, 4) as gini,
            round(mt.top_1_pct, 4) as top1_pct
        from metrics as mt
        left join signals as sg on mt.token_mint = sg.token_mint and mt.as_of = sg.as_of
    ),

    overall as (
        select
            rk.*,
            round(least(100,
                0.25 * rk.concentration_risk + 0.20 * rk.bot_swarm_risk + 0.25 * rk.rug_risk
                + 0.10 * rk.wash_trading_risk + 0.10 * rk.liquidity_risk + 0.10 * rk.volatility_risk
            ), 2) as overall_risk
        from risks as rk
    ),

    leveled as (
        select
            ov.*,
            case
                when ov.overall_risk > 80 then 'critical'
                when ov.overall_risk > 50 then 'high'
                when ov.overall_risk > 25 then 'medium'
                else 'low'
            end as risk_level,
            'risk-2026.12' as rule_version
        from overall as ov
    )

    select * from leveled
{%- endmacro %}
