{#- The token facts the signals start from, per (token_mint, as_of) pair of `pairs`: its id, creator, create
    slot and time, and supply in whole tokens. -#}
{% macro signal_token_info(pairs) -%}
    select
        sp.token_mint,
        sp.as_of,
        tk.token_id,
        tk.creator_address,
        tk.creation_slot,
        tk.creation_timestamp,
        coalesce(tk.initial_supply / power(10::numeric, tk.decimals), 1000000000) as supply
    from {{ pairs }} as sp
    inner join {{ ref('stg_megatron__tokens') }} as tk on sp.token_mint = tk.mint_address
{%- endmacro %}

{#- The trades at or before T of each token of `token_info` (signal_token_info), with the token facts beside. -#}
{% macro signal_token_trades(token_info) -%}
    select
        ti.token_mint,
        ti.as_of,
        ti.creator_address,
        ti.creation_slot,
        ti.creation_timestamp,
        tr.user_address as wallet_address,
        tr.type,
        tr.slot,
        tr.block_time
    from {{ token_info }} as ti
    inner join {{ ref('int_trades_enriched') }} as tr
        on ti.token_id = tr.token_id and tr.block_time <= ti.as_of
{%- endmacro %}

{#- Per (token, T, wallet) of `token_trades` (signal_token_trades): the wallet's first buy, and whether it is the
    creator, a sniper (first buy within the sniper window after the create slot) or a bundled buyer (bought in the
    create slot). token_signals_for counts them; marts.token_holder_balances flags each holder with them. -#}
{% macro signal_wallet_entries(token_trades) -%}
    select
        tt.token_mint,
        tt.as_of,
        tt.wallet_address,
        min(tt.block_time) as first_buy_time,
        bool_or(tt.wallet_address = tt.creator_address) as is_creator,
        bool_or(
            tt.wallet_address is distinct from tt.creator_address
            and (
                tt.slot - tt.creation_slot between 1 and {{ holder_param('sniper_window_slots') }}
                or (
                    (tt.slot is null or tt.creation_slot is null)
                    and extract(epoch from tt.block_time - tt.creation_timestamp) > 0
                    and extract(epoch from tt.block_time - tt.creation_timestamp)
                    <= {{ holder_param('sniper_window_seconds') }}
                )
            )
            and tt.block_time = tt.first_time_of_wallet
        ) as is_sniper,
        bool_or(
            tt.wallet_address is distinct from tt.creator_address and tt.slot = tt.creation_slot
        ) as is_bundled_buyer
    from (
        select
            tt0.*,
            min(tt0.block_time) over (partition by tt0.token_mint, tt0.as_of, tt0.wallet_address)
                as first_time_of_wallet
        from {{ token_trades }} as tt0
        where tt0.type = 'buy'
    ) as tt
    group by tt.token_mint, tt.as_of, tt.wallet_address
{%- endmacro %}

{#- The signals traders ask for (issue 11 item 6), per (token_mint, as_of) pair of the relation or CTE `grid`, from
    trades at or before T only:
    * snipers: wallets other than the creator whose first buy lies within holder_param('sniper_window_slots')
      slots after the create slot (not in it; seconds when a slot is unknown), their count and the share of the
      supply they hold at T;
    * bundled buys: wallets other than the creator buying in the create slot, their count, the share of the
      supply they hold at T, and `is_bundled` (at least holder_param('bundle_min_wallets') of them);
    * the creator's holding at T (share of supply), whether it sold and when it first did;
    * fresh-wallet share: of the wallets that bought the token, those first seen (any token, our data) less than
      holder_param('fresh_wallet_hours') before their first buy of it;
    * holder count and top-10 share (of the held sum and of the supply) from holder_distribution_for.
    One row per pair whose token exists and has traded at or before T. -#}
{% macro token_signals_for(grid) -%}
    with

    signal_pairs as (
        select distinct
            gr.token_mint,
            gr.as_of
        from {{ grid }} as gr
    ),

    token_info as (
        {{ signal_token_info('signal_pairs') }}
    ),

    token_trades as (
        {{ signal_token_trades('token_info') }}
    ),

    entries as (
        {{ signal_wallet_entries('token_trades') }}
    ),

    creator_sells as (
        select
            tt.token_mint,
            tt.as_of,
            min(tt.block_time) as creator_first_sell_at
        from token_trades as tt
        where tt.type = 'sell' and tt.wallet_address = tt.creator_address
        group by tt.token_mint, tt.as_of
    ),

    wallet_first_seen as (
        select
            wl.wallet_address,
            wl.as_of,
            least(ft.first_trade, fh.first_time) as first_seen
        from (select distinct en.wallet_address, en.as_of from entries as en) as wl
        left join lateral (
            select tx.block_time as first_trade
            from {{ ref('stg_megatron__transactions') }} as tx
            where
                tx.user_address = wl.wallet_address
                and tx.block_time <= wl.as_of
                and tx.type in ('buy', 'sell')
            order by tx.block_time
            limit 1
        ) as ft on true
        left join lateral (
            select min(hh.first_time) as first_time
            from {{ ref('stg_megatron__holder_horizon') }} as hh
            where hh.wallet_address = wl.wallet_address and hh.horizon <= wl.as_of
        ) as fh on true
    ),

    balances as (
        {{ holder_balances_for('signal_pairs') }}
    ),

    distribution as (
        {{ holder_distribution_for('signal_pairs', 'balances') }}
    ),

    held as (
        select
            en.token_mint,
            en.as_of,
            count(*) filter (where en.is_sniper) as sniper_count,
            coalesce(sum(bl.balance) filter (where en.is_sniper), 0) as sniper_balance,
            count(*) filter (where en.is_bundled_buyer) as bundled_buy_wallets,
            coalesce(sum(bl.balance) filter (where en.is_bundled_buyer), 0) as bundled_balance,
            count(*) filter (where not en.is_creator) as buyer_count,
            count(*) filter (
                where not en.is_creator
                and wf.first_seen > en.first_buy_time - interval '1 hour' * {{ holder_param('fresh_wallet_hours') }}
            ) as fresh_buyer_count
        from entries as en
        left join balances as bl
            on en.token_mint = bl.token_mint and en.as_of = bl.as_of and en.wallet_address = bl.wallet_address
        left join wallet_first_seen as wf
            on en.wallet_address = wf.wallet_address and en.as_of = wf.as_of
        group by en.token_mint, en.as_of
    ),

    creator_held as (
        select
            ti.token_mint,
            ti.as_of,
            coalesce(sum(bl.balance), 0) as creator_balance
        from token_info as ti
        left join balances as bl
            on
                ti.token_mint = bl.token_mint
                and ti.as_of = bl.as_of
                and ti.creator_address = bl.wallet_address
        group by ti.token_mint, ti.as_of
    ),

    signals as (
        select
            ti.token_mint,
            ti.as_of,
            ti.creator_address,
            ti.creation_slot,
            hd.sniper_count::integer as sniper_count,
            round(100 * hd.sniper_balance / ti.supply, 6) as sniper_supply_pct,
            hd.bundled_buy_wallets::integer as bundled_buy_wallets,
            hd.bundled_buy_wallets >= {{ holder_param('bundle_min_wallets') }} as is_bundled,
            round(100 * hd.bundled_balance / ti.supply, 6) as bundled_supply_pct,
            round(100 * ch.creator_balance / ti.supply, 6) as creator_holding_pct,
            cs.creator_first_sell_at is not null as creator_sold,
            cs.creator_first_sell_at,
            hd.buyer_count::integer as buyer_count,
            round(hd.fresh_buyer_count::numeric / nullif(hd.buyer_count, 0), 6) as fresh_wallet_share,
            coalesce(ds.holder_count, 0) as holder_count,
            round(ds.top_10_pct, 6) as top10_pct,
            round(ds.top_10_pct_of_supply, 6) as top10_pct_of_supply
        from token_info as ti
        inner join held as hd on ti.token_mint = hd.token_mint and ti.as_of = hd.as_of
        inner join creator_held as ch on ti.token_mint = ch.token_mint and ti.as_of = ch.as_of
        left join creator_sells as cs on ti.token_mint = cs.token_mint and ti.as_of = cs.as_of
        left join distribution as ds on ti.token_mint = ds.token_mint and ti.as_of = ds.as_of
    )

    select * from signals
{%- endmacro %}
