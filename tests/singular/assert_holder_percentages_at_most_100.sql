-- Holder shares of the circulating balance and of the supply never exceed 100 %, and the held balance never
-- exceeds the supply.
with

violations as (
    select hd.*
    from {{ ref('holder_distribution') }} as hd
    where
        greatest(hd.top_1_pct, hd.top_10_pct, hd.top_20_pct, hd.top_50_pct, hd.top_100_pct) > 100
        or greatest(
            hd.top_1_pct_of_supply, hd.top_10_pct_of_supply, hd.top_20_pct_of_supply, hd.top_50_pct_of_supply,
            hd.top_100_pct_of_supply
        ) > 100
        or hd.circulating_balance > hd.supply
)

select * from violations
