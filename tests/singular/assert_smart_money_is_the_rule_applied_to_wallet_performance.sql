-- smart_money_wallets holds exactly the wallets of wallet_performance that pass the seed's rule, up to the limit.
with

eligible as (
    select wp.wallet_address
    from {{ ref('wallet_performance') }} as wp
    where
        wp.win_rate > {{ var('smart_money_min_win_rate') }}
        and wp.tokens_traded > {{ var('smart_money_min_tokens') }}
),

violations as (
    select sm.wallet_address
    from {{ ref('smart_money_wallets') }} as sm
    where sm.wallet_address not in (select el.wallet_address from eligible as el)
    union all
    select 'count' as wallet_address
    where
        (select count(*) from {{ ref('smart_money_wallets') }})
        <> least((select count(*) from eligible), {{ var('smart_money_limit') }})
)

select * from violations
