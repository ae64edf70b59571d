{#- The technical score (spec §3, clean mode: the resolutions of §7) of every (token_mint, as_of) pair of `grid`
    (a CTE or relation), set-based: one query for the whole grid, no per-token function in a loop.

    Gate (spec §2.1 resolution): tokens with a bonding-curve pool; for T at or after the token's graduation
    (first curve-complete or migration event at or before T) the value is the one as of graduated_at - 1 us,
    marked is_frozen; a token whose progress reached 100 with no graduation event yet has no row.
    Every measure reads trades with block_time <= evaluated_at only. Thresholds: seeds/scoring (macros/scoring/
    thresholds.sql). Returns one row per pair with the measures and points of technical_scores (051). -#}
{% macro technical_scores_for(grid) %}
    {%- set params = scoring_parameters() %}
    {%- set mc_lookback = scoring_param(params, 'market_cap_lookback_minutes') %}
    {%- set progress_lookback = scoring_param(params, 'progress_lookback_minutes') %}
    with

    grid_rows as (
        select distinct
            gr.token_mint,
            gr.as_of
        from {{ grid }} as gr
    ),

    subjects as materialized (
        select
            gr.token_mint,
            gr.as_of,
            tk.token_id,
            tk.creation_timestamp,
            cp.pool_id as curve_pool_id,
            cp.curve_sell_supply,
            gd.graduated_at,
            gd.graduated_at is not null as is_frozen,
            case
                when gd.graduated_at is not null then gd.graduated_at - interval '1 microsecond' else gr.as_of
            end as evaluated_at,
            greatest(
                case
                    when gd.graduated_at is not null then gd.graduated_at - interval '1 microsecond' else gr.as_of
                end - interval '{{ progress_lookback }} minutes',
                coalesce(tk.creation_timestamp, '-infinity'::timestamptz)
            ) as progress_base_time
        from grid_rows as gr
        inner join {{ ref('stg_megatron__tokens') }} as tk on gr.token_mint = tk.mint_address
        inner join lateral (
            select
                po.pool_id,
                po.curve_sell_supply
            from {{ ref('stg_megatron__pools') }} as po
            where po.token_id = tk.token_id and po.pool_type = 'initial'
            order by po.created_at
            limit 1
        ) as cp on true
        left join lateral (
            select min(ge.block_time) as graduated_at
            from {{ ref('stg_megatron__graduation_events') }} as ge
            where ge.token_mint = gr.token_mint and ge.block_time <= gr.as_of
        ) as gd on true
    ),

    anchored as (
        select
            su.*,
            lt.price_per_token as price_now,
            coalesce(bt.price_per_token, ft.price_per_token) as price_base,
            case
                when bt.price_per_token is not null then su.evaluated_at - interval '{{ mc_lookback }} minutes'
                else ft.block_time
            end as price_base_time,
            lc.signature as curve_signature,
            lc.real_token_reserves,
            lc.virtual_token_reserves,
            lb.signature as base_curve_signature,
            lb.real_token_reserves as base_real_token_reserves,
            lb.virtual_token_reserves as base_virtual_token_reserves
        from subjects as su
        left join lateral (
            {{ scoring_edge_trade('tx.price_per_token', "X.type in ('buy', 'sell') and X.price_per_token > 0", 'su.evaluated_at') }}
        ) as lt on true
        left join lateral (
            {{ scoring_edge_trade('tx.price_per_token', "X.type in ('buy', 'sell') and X.price_per_token > 0",
                "su.evaluated_at - interval '" ~ mc_lookback ~ " minutes'") }}
        ) as bt on true
        left join lateral (
            {{ scoring_edge_trade('tx.price_per_token, tx.block_time', "X.type in ('buy', 'sell') and X.price_per_token > 0", 'su.evaluated_at', first=true) }}
        ) as ft on true
        left join lateral (
            {{ scoring_edge_trade('tx.signature, tx.real_token_reserves, tx.virtual_token_reserves',
                "X.pool_id = su.curve_pool_id and X.type in ('buy', 'sell')", 'su.evaluated_at') }}
        ) as lc on true
        left join lateral (
            {{ scoring_edge_trade('tx.signature, tx.real_token_reserves, tx.virtual_token_reserves',
                "X.pool_id = su.curve_pool_id and X.type in ('buy', 'sell')", 'su.progress_base_time') }}
        ) as lb on true
    ),

    {#- progress(t) as curve_state_at (migration 033) finds it: the curve state after the latest curve trade
        (megatron.curve_progress), the summed trades only when no state was carried; 0 before the first. #}
    progressed as materialized (
        select
            an.*,
            {{ scoring_curve_progress('an', 'curve_signature', 'real_token_reserves', 'virtual_token_reserves',
                'an.evaluated_at') }} as progress_now,
            {{ scoring_curve_progress('an', 'base_curve_signature', 'base_real_token_reserves',
                'base_virtual_token_reserves', 'an.progress_base_time') }} as progress_base
        from anchored as an
    ),

    window_trades as materialized (
        select
            su.token_mint,
            su.as_of,
            tx.block_time,
            tx.slot,
            tx.slot_order,
            tx.signature,
            tx.event_index,
            tx.type,
            tx.user_address,
            coalesce(tx.sol_amount, 0) as sol_amount,
            tx.price_per_token,
            su.evaluated_at - tx.block_time as age
        from subjects as su
        inner join {{ ref('stg_megatron__transactions') }} as tx
            on
                su.token_id = tx.token_id
                and tx.block_time > su.evaluated_at - interval '60 minutes'
                and tx.block_time <= su.evaluated_at
                and tx.type in ('buy', 'sell')
    ),

    window_stats as (
        select
            wt.token_mint,
            wt.as_of,
            count(*) as trades_1h,
            count(distinct wt.user_address) as unique_traders_1h,
            sum(wt.sol_amount) as volume_1h,
            coalesce(sum(wt.sol_amount * {{ age_weight('buy_sell_ratio', 'wt.age') }})
                filter (where wt.type = 'buy'), 0) as weighted_buys_1h,
            coalesce(sum(wt.sol_amount * {{ age_weight('buy_sell_ratio', 'wt.age') }})
                filter (where wt.type = 'sell'), 0) as weighted_sells_1h,
            count(*) filter (where wt.age < interval '30 minutes') as trades_30m,
            coalesce(sum(wt.sol_amount * {{ age_weight('recovery_strength', 'wt.age') }})
                filter (where wt.type = 'buy' and wt.age < interval '30 minutes'), 0) as weighted_buys_30m,
            coalesce(sum(wt.sol_amount * {{ age_weight('recovery_strength', 'wt.age') }})
                filter (where wt.type = 'sell' and wt.age < interval '30 minutes'), 0) as weighted_sells_30m,
            coalesce(sum(wt.sol_amount) filter (where wt.age < interval '5 minutes'), 0) as volume_5m,
            coalesce(sum(wt.sol_amount) filter (where wt.age < interval '30 minutes'), 0) as volume_30m,
            (array_agg(wt.price_per_token order by {{ event_order('wt.') }})
                filter (where wt.price_per_token > 0 and wt.age < interval '5 minutes'))[1] as first_price_5m,
            (array_agg(wt.price_per_token order by {{ event_order('wt.') }})
                filter (where wt.price_per_token > 0 and wt.age < interval '15 minutes'))[1] as first_price_15m,
            (array_agg(wt.price_per_token order by {{ event_order('wt.') }})
                filter (where wt.price_per_token > 0 and wt.age < interval '30 minutes'))[1] as first_price_30m,
            (array_agg(wt.price_per_token order by {{ event_order('wt.') }})
                filter (where wt.price_per_token > 0 and wt.age < interval '60 minutes'))[1] as first_price_60m
        from window_trades as wt
        group by wt.token_mint, wt.as_of
    ),

    wallet_volumes as (
        select
            wt.token_mint,
            wt.as_of,
            sum(wt.sol_amount) as wallet_volume
        from window_trades as wt
        group by wt.token_mint, wt.as_of, wt.user_address
    ),

    largest_wallets as (
        select
            wv.token_mint,
            wv.as_of,
            max(wv.wallet_volume) as largest_wallet_volume
        from wallet_volumes as wv
        group by wv.token_mint, wv.as_of
    ),

    minute_candles as (
        select
            wt.token_mint,
            wt.as_of,
            date_trunc('minute', wt.block_time) as minute,
            (array_agg(wt.price_per_token order by {{ event_order('wt.', 'desc') }}))[1]
            < (array_agg(wt.price_per_token order by {{ event_order('wt.') }}))[1] as is_red
        from window_trades as wt
        where wt.price_per_token > 0 and wt.age < interval '30 minutes'
        group by wt.token_mint, wt.as_of, date_trunc('minute', wt.block_time)
    ),

    {#- the trailing run of red minutes (T6: minutes, not trade rows; an all-red window counts them all) #}
    red_runs as (
        select
            mc.token_mint,
            mc.as_of,
            count(*) filter (
                where mc.minute > coalesce(last_green.minute, '-infinity'::timestamptz)
            )::integer as red_candles
        from minute_candles as mc
        left join (
            select
                green.token_mint,
                green.as_of,
                max(green.minute) as minute
            from minute_candles as green
            where not green.is_red
            group by green.token_mint, green.as_of
        ) as last_green on mc.token_mint = last_green.token_mint and mc.as_of = last_green.as_of
        group by mc.token_mint, mc.as_of
    ),

    measures as materialized (
        select
            pr.token_mint,
            pr.as_of,
            pr.evaluated_at,
            pr.is_frozen,
            pr.graduated_at,
            pr.price_now,
            usd.sol_usd,
            pr.price_now * usd.sol_usd * 1000000000 as market_cap_usd,
            (pr.price_now * usd.sol_usd - pr.price_base * base_usd.sol_usd)
            / nullif(pr.price_base * base_usd.sol_usd, 0) * 100 / {{ mc_lookback }} as market_cap_velocity,
            pr.progress_now as progress,
            (pr.progress_now - pr.progress_base)
            / greatest(extract(epoch from pr.evaluated_at - pr.progress_base_time) / 3600, 1.0 / 60)
                as progress_velocity,
            case
                when coalesce(ws.trades_1h, 0) = 0 then 1.0
                when ws.weighted_sells_1h = 0 and ws.weighted_buys_1h > 0 then 'infinity'::numeric
                when ws.weighted_sells_1h = 0 then 1.0
                else ws.weighted_buys_1h / ws.weighted_sells_1h
            end as buy_sell_ratio,
            case
                when coalesce(ws.volume_30m, 0) = 0 then 0
                else (6 * ws.volume_5m - ws.volume_30m) / ws.volume_30m * 100
            end as volume_trend,
            case
                when coalesce(ws.volume_1h, 0) > 0 then lw.largest_wallet_volume / ws.volume_1h
            end as whale_concentration,
            coalesce(ws.unique_traders_1h, 0)::integer as unique_traders_1h,
            coalesce(ws.trades_1h, 0)::integer as transactions_1h,
            coalesce((ws.first_price_5m - pr.price_now) / ws.first_price_5m * 100, 0) as price_drop_5m,
            coalesce((ws.first_price_15m - pr.price_now) / ws.first_price_15m * 100, 0) as price_drop_15m,
            coalesce((ws.first_price_30m - pr.price_now) / ws.first_price_30m * 100, 0) as price_drop_30m,
            coalesce((ws.first_price_60m - pr.price_now) / ws.first_price_60m * 100, 0) as price_drop_60m,
            coalesce(rr.red_candles, 0) as red_candles,
            case
                when coalesce(ws.trades_30m, 0) = 0 then 1.0
                when ws.weighted_sells_30m = 0 and ws.weighted_buys_30m > 0 then 'infinity'::numeric
                when ws.weighted_sells_30m = 0 then 1.0
                else ws.weighted_buys_30m / ws.weighted_sells_30m
            end as recovery_strength,
            so.start_time as selloff_started_at,
            coalesce(so.duration_minutes, 0) as selloff_duration_minutes
        from progressed as pr
        left join window_stats as ws on pr.token_mint = ws.token_mint and pr.as_of = ws.as_of
        left join largest_wallets as lw on pr.token_mint = lw.token_mint and pr.as_of = lw.as_of
        left join red_runs as rr on pr.token_mint = rr.token_mint and pr.as_of = rr.as_of
        left join lateral (select public.sol_usd_price_at(pr.evaluated_at) as sol_usd) as usd on true
        left join lateral (select public.sol_usd_price_at(pr.price_base_time) as sol_usd) as base_usd on true
        left join lateral megatron.selloff_open_at(pr.token_mint, pr.evaluated_at) as so on true
        where pr.is_frozen or pr.progress_now < 100
    ),

    flagged as (
        select
            me.*,
            me.price_drop_5m > {{ scoring_param(params, 'active_drop_5m') }}
            or me.price_drop_15m > {{ scoring_param(params, 'active_drop_15m') }}
            or me.price_drop_30m > {{ scoring_param(params, 'active_drop_30m') }}
            or me.red_candles >= {{ scoring_param(params, 'active_red_candles') }}
            or me.selloff_duration_minutes > 0 as selloff_active,
            {{ band_points('position_multiplier', 'me.progress', '1') }} as position_multiplier,
            {{ band_points('velocity_multiplier', 'me.progress', '1') }} as velocity_multiplier
        from measures as me
    ),

    pointed as (
        select
            fl.*,
            {{ band_points('market_cap_base', 'fl.market_cap_usd') }} as market_cap_base_points,
            case
                when fl.market_cap_velocity > 0 then {{ band_points('market_cap_velocity', 'fl.market_cap_velocity') }}
                else 0
            end as market_cap_velocity_points,
            {{ band_points('progress_velocity', 'fl.progress_velocity') }} * fl.velocity_multiplier
                as progress_velocity_points,
            {{ band_points('progress_position', 'fl.progress') }} * fl.position_multiplier as progress_position_points,
            {{ scoring_param(params, 'consistency_points') }}::numeric as progress_consistency,
            {{ band_points('buy_sell_ratio', 'fl.buy_sell_ratio') }} as buy_sell_ratio_points,
            {{ band_points('volume_trend', 'fl.volume_trend') }} as volume_trend_points,
            {{ band_points('whale_concentration', 'fl.whale_concentration') }} as whale_concentration_points,
            case
                when fl.price_drop_5m <= 0 and fl.price_drop_15m <= 0
                    then {{ scoring_param(params, 'pressure_calm_points') }}
                when fl.price_drop_5m < {{ scoring_param(params, 'pressure_mild_d5') }}
                    and fl.price_drop_15m < {{ scoring_param(params, 'pressure_mild_d15') }}
                    then {{ scoring_param(params, 'pressure_mild_points') }}
                when fl.price_drop_5m < {{ scoring_param(params, 'pressure_moderate_d5') }}
                    and fl.price_drop_15m < {{ scoring_param(params, 'pressure_moderate_d15') }}
                    then {{ scoring_param(params, 'pressure_moderate_points') }}
                when fl.price_drop_5m < {{ scoring_param(params, 'pressure_slope_d5') }}
                    then greatest(-20, 10 - 2 * greatest(fl.price_drop_5m, 0))
                when fl.price_drop_5m < {{ scoring_param(params, 'pressure_heavy_d5') }}
                    or fl.price_drop_15m > {{ scoring_param(params, 'pressure_heavy_d15') }}
                    then {{ scoring_param(params, 'pressure_heavy_points') }}
                else {{ scoring_param(params, 'pressure_crash_points') }}
            end::numeric as sell_pressure_points,
            case
                when fl.selloff_duration_minutes > 0 then least(
                    {{ scoring_param(params, 'duration_penalty_cap') }},
                    fl.selloff_duration_minutes / {{ scoring_param(params, 'duration_penalty_divisor') | int }}
                )
                else 0
            end::numeric as duration_penalty,
            case
                when not fl.selloff_active then {{ scoring_param(params, 'not_active_recovery_points') }}::numeric
                else {{ band_points('recovery_strength', 'fl.recovery_strength') }}
            end as recovery_points,
            case
                when fl.selloff_active and fl.red_candles = 0 then {{ scoring_param(params, 'calm_bonus_points') }}
                else 0
            end::numeric as recovery_bonus
        from flagged as fl
    ),

    scored as (
        select
            po.*,
            round(po.market_cap_base_points + po.market_cap_velocity_points, 2) as market_cap_score,
            round(po.progress_velocity_points + po.progress_consistency + po.progress_position_points, 2)
                as bonding_curve_score,
            round(po.buy_sell_ratio_points + po.volume_trend_points + po.whale_concentration_points, 2)
                as trading_health_score,
            round(greatest(
                {{ scoring_param(params, 'selloff_min') }},
                least(
                    {{ scoring_param(params, 'selloff_max') }},
                    po.sell_pressure_points - po.duration_penalty + po.recovery_points + po.recovery_bonus
                )
            ), 2) as selloff_response_score,
            '{{ params.get("rule_version", "unparsed") }}'::text as rule_version
        from pointed as po
    )

    select * from scored
{%- endmacro %}

{#- progress(t) in percent for row `r` (token_id, curve_pool_id, curve_sell_supply) from the latest curve trade at or
    before `at` (its signature and reserves columns named): the stored curve state through megatron.curve_progress
    (033), else the summed curve trades (the fallback of curve_state_at), 0 before the first curve trade. -#}
{% macro scoring_curve_progress(r, signature, real_reserves, virtual_reserves, at) -%}
    case
        when {{ r }}.{{ signature }} is null then 0::numeric
        when {{ r }}.{{ real_reserves }} is not null or {{ r }}.{{ virtual_reserves }} is not null
            then megatron.curve_progress(
                {{ r }}.{{ real_reserves }}, {{ r }}.{{ virtual_reserves }}, {{ r }}.curve_sell_supply
            )
        else round(least(100, greatest(0, (
            select coalesce(sum(case st.type when 'buy' then st.token_amount else -st.token_amount end), 0) * 1e6
            from {{ ref('stg_megatron__transactions') }} as st
            where
                st.token_id = {{ r }}.token_id and st.pool_id = {{ r }}.curve_pool_id
                and st.block_time <= {{ at }} and st.type in ('buy', 'sell')
        ) / coalesce(nullif({{ r }}.curve_sell_supply, 0), 793100000000000) * 100)), 4)
    end
{%- endmacro %}

{#- The last (or with first=true the first) trade of token su.token_id at or before `at` in the event order whose
    row passes `condition` (written with the alias X.), as `columns` of alias tx. The edge block time is found
    first (an index scan on (token_id, block_time) that stops at one row), then the event order breaks ties among
    the trades of that block time only: no sort of the token's whole history. -#}
{% macro scoring_edge_trade(columns, condition, at, first=false) -%}
    select {{ columns }}
    from {{ ref('stg_megatron__transactions') }} as tx
    where
        tx.token_id = su.token_id
        and {{ condition | replace('X.', 'tx.') }}
        and tx.block_time = (
            select edge.block_time
            from {{ ref('stg_megatron__transactions') }} as edge
            where
                edge.token_id = su.token_id
                and edge.block_time <= {{ at }}
                and {{ condition | replace('X.', 'edge.') }}
            order by edge.block_time {{ 'asc' if first else 'desc' }}
            limit 1
        )
    order by {{ event_order('tx.', 'asc' if first else 'desc') }}
    limit 1
{%- endmacro %}
