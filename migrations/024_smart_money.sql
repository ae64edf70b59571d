-- 024_smart_money: is_smart_money_wallet(wallet, T) and the assessment behind it (spec §4.4).
--
-- Features come from the wallet's wallet_analysis_cache row, usable only when it was
-- analysed at or before T (a later analysis would leak the future; its age is back-dated to
-- T only when known), and from the wallet's own trades up to T.
--   weighted rule    when PnL and win-rate features exist: sum of the spec's weights
--                    (aged > 180 d 0.15 / experienced > 90 d 0.10, profitable 0.20, win rate
--                    > 60 % 0.25 / > 50 % with > 100 tx 0.20, USD volume > 100k 0.15 / > 10k
--                    0.10, > 50 tokens 0.15, > 3 graduated tokens traded 0.25, SOL > 100 0.15
--                    / > 10 0.10, > 500 tx 0.10, buy share in (0.3, 0.7) 0.15); smart when the
--                    sum >= 1.23 (= 0.6 x 2.05);
--   simplified rule  otherwise (the optimized service's rule, H6): age > 90 d and SOL > 10;
--   unknown          NULL when neither rule can be evaluated (no analysis at or before T, or
--                    age / SOL missing): unknown wallets are left out of ratios, not counted
--                    as "not smart".

set local search_path = public, megatron;

create function assess_smart_money_wallet(
    p_wallet_address text,
    p_as_of timestamptz default now()
) returns table (
    is_smart_money boolean,
    rule text,
    score numeric
)
language sql stable parallel safe
as $$
    with

    analysis as (
        select
            c.wallet_age_days
            + floor(extract(epoch from p_as_of - c.last_analyzed) / 86400)::integer as age_days,
            c.total_transactions,
            c.unique_tokens_traded,
            c.sol_balance,
            c.win_rate,
            c.total_profit_usd
        from public.wallet_analysis_cache as c
        where c.wallet_address = p_wallet_address
          and c.last_analyzed <= p_as_of
    ),

    trading as (
        select
            coalesce(sum(tx.sol_amount_usd), 0) as volume_usd,
            count(*) filter (where tx.type = 'buy') as buys,
            count(*) filter (where tx.type = 'sell') as sells,
            count(distinct tx.token_id) filter (
                where t.graduation_timestamp is not null and t.graduation_timestamp <= p_as_of
            ) as graduated_tokens
        from public.transactions as tx
        inner join public.tokens as t on t.id = tx.token_id
        where tx.user_address = p_wallet_address
          and tx.block_time <= p_as_of
          and tx.type in ('buy', 'sell')
    ),

    weighted as (
        select
            case when a.age_days > 180 then 0.15 when a.age_days > 90 then 0.10 else 0 end
            + case when a.total_profit_usd > 0 then 0.20 else 0 end
            + case
                when a.win_rate > 60 then 0.25
                when a.win_rate > 50 and a.total_transactions > 100 then 0.20
                else 0
            end
            + case when tr.volume_usd > 100000 then 0.15 when tr.volume_usd > 10000 then 0.10 else 0 end
            + case when a.unique_tokens_traded > 50 then 0.15 else 0 end
            + case when tr.graduated_tokens > 3 then 0.25 else 0 end
            + case when a.sol_balance > 100 then 0.15 when a.sol_balance > 10 then 0.10 else 0 end
            + case when a.total_transactions > 500 then 0.10 else 0 end
            + case
                when tr.buys + tr.sells > 0
                    and tr.buys::numeric / (tr.buys + tr.sells) > 0.3
                    and tr.buys::numeric / (tr.buys + tr.sells) < 0.7
                    then 0.15
                else 0
            end as score,
            a.total_profit_usd is not null and a.win_rate is not null as applies,
            a.age_days,
            a.sol_balance
        from analysis as a
        cross join trading as tr
    )

    select
        case
            when w.applies then w.score >= 1.23
            when w.age_days is not null and w.sol_balance is not null then w.age_days > 90 and w.sol_balance > 10
        end as is_smart_money,
        case
            when w.applies then 'weighted'
            when w.age_days is not null and w.sol_balance is not null then 'simplified'
            else 'unknown'
        end as rule,
        case when w.applies then w.score end as score
    from (select 1) as one
    left join weighted as w on true
$$;

comment on function assess_smart_money_wallet(text, timestamptz) is
'Smart-money assessment of a wallet at T (spec §4.4): rule = weighted (PnL and win rate known; smart when the weight '
'sum >= 1.23), simplified (age > 90 d and SOL > 10) or unknown (NULL verdict). Uses the wallet_analysis_cache row only '
'if analysed at or before T, and the wallet''s trades up to T.';

create function is_smart_money_wallet(
    p_wallet_address text,
    p_as_of timestamptz default now()
) returns boolean
language sql stable parallel safe
as $$
    select a.is_smart_money
    from public.assess_smart_money_wallet(p_wallet_address, p_as_of) as a
$$;

comment on function is_smart_money_wallet(text, timestamptz) is
'Whether a wallet counts as smart money at T: the verdict of assess_smart_money_wallet (weighted rule when '
'PnL/win-rate '
'features exist, else age > 90 d and SOL > 10); NULL when unknown.';
