{{ config(indexes=[{'columns': ['token_mint', 'rank'], 'unique': true}, {'columns': ['token_id']}]) }}
{#- Every holder's balance of every token as of var('as_of') (now by default), from the same balances as
    holder_distribution (macros/holders.sql), ranked largest first, with its share of the circulating sum and
    the creator, snipers and bundled buyers flagged by the same rules as token_signals (macros/token_signals.sql):
    the top-holders table and the Lorenz curve of the token page read it. -#}
with

balances as (
    {{ holder_balances_as_of(as_of_time()) }}
),

tokens as (
    select * from {{ ref('stg_megatron__tokens') }}
),

held_pairs as (
    select distinct
        bl.token_mint,
        {{ as_of_time() }} as as_of
    from balances as bl
),

token_info as (
    {{ signal_token_info('held_pairs') }}
),

token_trades as (
    {{ signal_token_trades('token_info') }}
),

entries as (
    {{ signal_wallet_entries('token_trades') }}
),

ranked as (
    select
        bl.token_id,
        bl.token_mint,
        {{ as_of_time() }} as as_of,
        bl.wallet_address,
        bl.balance,
        row_number() over (
            partition by bl.token_id order by bl.balance desc, bl.wallet_address asc
        )::integer as rank,
        round(100 * bl.balance / sum(bl.balance) over (partition by bl.token_id), 12) as pct_of_circulating,
        coalesce(bl.wallet_address = tk.creator_address, false) as is_creator,
        coalesce(en.is_sniper, false) as is_sniper,
        coalesce(en.is_bundled_buyer, false) as is_bundler
    from balances as bl
    inner join tokens as tk on bl.token_id = tk.token_id
    left join entries as en
        on bl.token_mint = en.token_mint and bl.wallet_address = en.wallet_address
)

select * from ranked
