{#- Holder balances as of T (spec §4.1 "trade mode") for every (token_mint, as_of) pair of `grid` (a relation or
    CTE name with those two columns): per (token, T, wallet) the state of trades removed by retention
    (megatron.holder_horizon) plus net buys minus sells of the stored trades at or before T, floored at 0; only
    balance > 0; every pool, curve and vault account of the token and the fixed addresses of
    seeds/excluded_holder_addresses are left out. One row per (token_id, as_of, wallet_address). -#}
{% macro holder_balances_for(grid) -%}
    with

    pairs as (
        select distinct
            gr.token_mint,
            gr.as_of
        from {{ grid }} as gr
    ),

    {#- Each pair carries its token's pool, curve and vault accounts, so the trades leave them out in the same
        hash join that picks the pair's trades. An anti join of the holders against every pool account ran
        once per holder (PostgreSQL estimates a CTE at a handful of rows): 119 of 125 s for 1,000 tokens. #}
    pool_accounts as (
        select
            tk.mint_address as token_mint,
            array_agg(account.address) as addresses
        from {{ ref('stg_megatron__pools') }} as pl
        inner join {{ ref('stg_megatron__tokens') }} as tk on pl.token_id = tk.token_id
        cross join lateral (
            values (pl.bonding_curve_address), (pl.pool_address), (pl.base_vault), (pl.quote_vault)
        ) as account (address)
        where account.address is not null
        group by tk.mint_address
    ),

    pair_accounts as (
        select
            pr.token_mint,
            pr.as_of,
            coalesce(pa.addresses, array[]::text[]) as pool_addresses
        from pairs as pr
        left join pool_accounts as pa on pr.token_mint = pa.token_mint
    ),

    trades as (
        select
            tr.token_id,
            tr.token_mint,
            pr.as_of,
            tr.user_address as wallet_address,
            sum(case when tr.type = 'buy' then tr.token_amount else -tr.token_amount end) as net_amount
        from {{ ref('int_trades_enriched') }} as tr
        inner join pair_accounts as pr on tr.token_mint = pr.token_mint and tr.block_time <= pr.as_of
        where tr.user_address <> all(pr.pool_addresses)
        group by tr.token_id, tr.token_mint, pr.as_of, tr.user_address
    ),

    horizon as (
        select
            tk.token_id,
            hh.token_mint,
            pr.as_of,
            hh.wallet_address,
            hh.balance as net_amount
        from {{ ref('stg_megatron__holder_horizon') }} as hh
        inner join pair_accounts as pr on hh.token_mint = pr.token_mint and hh.horizon <= pr.as_of
        inner join {{ ref('stg_megatron__tokens') }} as tk on hh.token_mint = tk.mint_address
        where hh.wallet_address <> all(pr.pool_addresses)
    ),

    combined as (
        select
            both_parts.token_id,
            both_parts.token_mint,
            both_parts.as_of,
            both_parts.wallet_address,
            greatest(sum(both_parts.net_amount), 0) as balance
        from (
            select * from trades
            union all
            select * from horizon
        ) as both_parts
        group by both_parts.token_id, both_parts.token_mint, both_parts.as_of, both_parts.wallet_address
    ),

    holders as (
        select
            cb.token_id,
            cb.token_mint,
            cb.as_of,
            cb.wallet_address,
            cb.balance
        from combined as cb
        where
            cb.balance > 0
            and cb.wallet_address not in (select ex.address from {{ ref('excluded_holder_addresses') }} as ex)
    )

    select * from holders
{%- endmacro %}

{#- Holder balances of every token as of one time `as_of`: holder_balances_for over a grid of every token at
    that time. One row per (token_id, wallet_address). -#}
{% macro holder_balances_as_of(as_of) -%}
    with

    every_token as (
        select
            tk.mint_address as token_mint,
            {{ as_of }} as as_of
        from {{ ref('stg_megatron__tokens') }} as tk
    ),

    balances as (
        {{ holder_balances_for('every_token') }}
    )

    select
        bl.token_id,
        bl.token_mint,
        bl.wallet_address,
        bl.balance
    from balances as bl
{%- endmacro %}

{#- Distribution metrics of the holder set of every (token_mint, as_of) pair of `grid` in one set-based pass
    (spec §4.2): holder count, top-1/10/20/50/100 balances and their share of the circulating (held) sum and of
    the supply, Gini Σ(2i − n − 1)·xᵢ/(n·S), Theil (1/n)·Σ(xᵢ/μ)·ln(xᵢ/μ), Shannon −Σ pᵢ·log₂ pᵢ / log₂ n (0 for
    one holder), HHI Σ pᵢ²·10,000 (Theil and Shannon in double precision: numeric ln is ~50× slower; ratios and
    percentages rounded to 12 decimal places), median, dust accounts (USD value below var('dust_threshold_usd')
    at the token's last USD price at or before T). `balances` is a relation or subquery with token_id,
    token_mint, as_of, wallet_address, balance (> 0); by default holder_balances_for(grid). -#}
{% macro holder_distribution_for(grid, balances=none) -%}
    with

    balances as (
        {% if balances is none %}{{ holder_balances_for(grid) }}{% else %}select * from {{ balances }}{% endif %}
    ),

    ranked as (
        select
            bl.token_id,
            bl.token_mint,
            bl.as_of,
            bl.wallet_address,
            bl.balance,
            row_number() over (partition by bl.token_id, bl.as_of order by bl.balance desc, bl.wallet_address)
                as rank_desc,
            row_number() over (partition by bl.token_id, bl.as_of order by bl.balance, bl.wallet_address) as rank_asc,
            count(*) over (partition by bl.token_id, bl.as_of) as holder_count,
            sum(bl.balance) over (partition by bl.token_id, bl.as_of) as circulating
        from balances as bl
    ),

    last_prices as (
        select
            tp.token_id,
            tp.as_of,
            lp.price_usd
        from (select distinct rk.token_id, rk.as_of from ranked as rk) as tp
        cross join lateral (
            select tr.price_per_token_usd as price_usd
            from {{ ref('int_trades_enriched') }} as tr
            where
                tr.token_id = tp.token_id
                and tr.block_time <= tp.as_of
                and tr.price_per_token_usd is not null
            order by {{ event_order('tr.', 'desc') }}
            limit 1
        ) as lp
    ),

    per_token as (
        select
            rk.token_id,
            rk.token_mint,
            rk.as_of,
            rk.holder_count::integer as holder_count,
            max(rk.circulating) as circulating_balance,
            max(rk.balance) as top_1_balance,
            sum(rk.balance) filter (where rk.rank_desc <= 10) as top_10_balance,
            sum(rk.balance) filter (where rk.rank_desc <= 20) as top_20_balance,
            sum(rk.balance) filter (where rk.rank_desc <= 50) as top_50_balance,
            sum(rk.balance) filter (where rk.rank_desc <= 100) as top_100_balance,
            greatest(least(
                sum((2 * rk.rank_asc - rk.holder_count - 1) * rk.balance) / (rk.holder_count * max(rk.circulating)),
                1), 0) as gini,
            greatest(
                avg(
                    (rk.balance * rk.holder_count / rk.circulating)::double precision
                    * ln((rk.balance * rk.holder_count / rk.circulating)::double precision)
                ), 0
            )::numeric as theil,
            case
                when rk.holder_count = 1 then 0
                else (
                    -sum((rk.balance / rk.circulating)::double precision * ln((rk.balance / rk.circulating)::double precision))
                    / ln(rk.holder_count::double precision)
                )::numeric
            end as shannon,
            sum(power(rk.balance / rk.circulating, 2)) * 10000 as hhi,
            percentile_cont(0.5) within group (order by rk.balance) as median_balance
        from ranked as rk
        group by rk.token_id, rk.token_mint, rk.as_of, rk.holder_count
    ),

    dust as (
        select
            rk.token_id,
            rk.as_of,
            count(*) filter (where rk.balance * lp.price_usd < {{ var('dust_threshold_usd') }})::integer as dust_count
        from ranked as rk
        inner join last_prices as lp on rk.token_id = lp.token_id and rk.as_of = lp.as_of
        group by rk.token_id, rk.as_of
    ),

    distribution as (
        select
            pt.token_id,
            pt.token_mint,
            pt.as_of,
            pt.holder_count,
            pt.circulating_balance,
            coalesce(tk.initial_supply / power(10::numeric, tk.decimals), 1000000000) as supply,
            pt.top_1_balance,
            pt.top_10_balance,
            pt.top_20_balance,
            pt.top_50_balance,
            pt.top_100_balance,
            round(100 * pt.top_1_balance / pt.circulating_balance, 12) as top_1_pct,
            round(100 * pt.top_10_balance / pt.circulating_balance, 12) as top_10_pct,
            round(100 * pt.top_20_balance / pt.circulating_balance, 12) as top_20_pct,
            round(100 * pt.top_50_balance / pt.circulating_balance, 12) as top_50_pct,
            round(100 * pt.top_100_balance / pt.circulating_balance, 12) as top_100_pct,
            round(100 * pt.top_1_balance / coalesce(tk.initial_supply / power(10::numeric, tk.decimals), 1000000000), 12)
                as top_1_pct_of_supply,
            round(100 * pt.top_10_balance / coalesce(tk.initial_supply / power(10::numeric, tk.decimals), 1000000000), 12)
                as top_10_pct_of_supply,
            round(100 * pt.top_20_balance / coalesce(tk.initial_supply / power(10::numeric, tk.decimals), 1000000000), 12)
                as top_20_pct_of_supply,
            round(100 * pt.top_50_balance / coalesce(tk.initial_supply / power(10::numeric, tk.decimals), 1000000000), 12)
                as top_50_pct_of_supply,
            round(100 * pt.top_100_balance / coalesce(tk.initial_supply / power(10::numeric, tk.decimals), 1000000000), 12)
                as top_100_pct_of_supply,
            round(pt.gini, 12) as gini,
            round(pt.theil, 12) as theil,
            round(pt.shannon, 12) as shannon,
            round(pt.hhi, 12) as hhi,
            pt.median_balance::numeric as median_balance,
            ds.dust_count
        from per_token as pt
        inner join {{ ref('stg_megatron__tokens') }} as tk on pt.token_id = tk.token_id
        left join dust as ds on pt.token_id = ds.token_id and pt.as_of = ds.as_of
    )

    select * from distribution
{%- endmacro %}


{#- Distribution metrics of every token's holder set as of one time `as_of`: holder_distribution_for over a grid
    of every token at that time. `balances` (optional) has token_id, token_mint, wallet_address, balance. -#}
{% macro holder_distribution_as_of(as_of, balances=none) -%}
    with

    every_token as (
        select
            tk.mint_address as token_mint,
            {{ as_of }} as as_of
        from {{ ref('stg_megatron__tokens') }} as tk
    ),

    {% if balances is not none -%}
    given_balances as (
        select
            bl.token_id,
            bl.token_mint,
            {{ as_of }} as as_of,
            bl.wallet_address,
            bl.balance
        from {{ balances }} as bl
    ),

    {% endif -%}
    distribution as (
        {{ holder_distribution_for('every_token', none if balances is none else 'given_balances') }}
    )

    select * from distribution
{%- endmacro %}
