{{
    config(
        materialized='incremental',
        unique_key='token_mint',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['token_mint'], 'unique': true}],
    )
}}
{#- The seed's latest_holder_scores_v2: per token the newest holder score that is not a frozen snapshot at
    100 % (seed WHERE), with the newest risk_metrics row's concentration and rug risk; a token with a frozen
    snapshot (frozen_holder_scores, spec 2.2: authoritative after graduation) shows that snapshot instead.
    Incremental: only tokens with a holder score, frozen snapshot or risk row written since the last run. -#}
with

holder_scores as (
    select * from {{ ref('stg_megatron__holder_scores') }}
    where not is_frozen or bonding_curve_progress < 100
),

frozen as (
    select * from {{ ref('stg_megatron__frozen_holder_scores') }}
),

risk as (
    select * from {{ ref('stg_megatron__risk_metrics') }}
),

{% if is_incremental() %}
    since as (
        select coalesce(max(kept."timestamp"), '-infinity'::timestamptz) - interval '{{ var("candle_lookback") }}' as t
        from {{ this }} as kept
    ),

    touched as (
        select hs.token_mint from holder_scores as hs
        where hs."timestamp" > (select since.t from since)
        union
        select fr.token_mint from frozen as fr
        where fr.created_at > (select since.t from since)
        union
        select rk.token_mint from risk as rk
        where rk."timestamp" > (select since.t from since)
    ),
{% else %}
    touched as (
        select hs.token_mint from holder_scores as hs
        union
        select fr.token_mint from frozen as fr
    ),
{% endif %}

newest as (
    select
        touched.token_mint,
        coalesce(fr."timestamp", hs."timestamp") as "timestamp",
        coalesce(fr.total_score, hs.total_score) as total_score,
        coalesce(fr.distribution_score, hs.distribution_score) as distribution_score,
        coalesce(fr.quality_score, hs.quality_score) as quality_score,
        coalesce(fr.activity_score, hs.activity_score) as activity_score,
        coalesce(fr.total_holders, hs.total_holders) as total_holders,
        coalesce(fr.bonding_curve_progress, hs.bonding_curve_progress) as bonding_curve_progress,
        coalesce(fr.confidence_score, hs.confidence_score) as confidence_score,
        fr.token_mint is not null as is_frozen
    from touched
    left join frozen as fr on touched.token_mint = fr.token_mint
    left join lateral (
        select h.*
        from holder_scores as h
        where h.token_mint = touched.token_mint
        order by h."timestamp" desc
        limit 1
    ) as hs on fr.token_mint is null
    where fr.token_mint is not null or hs.token_mint is not null
),

with_risk as (
    select
        newest.token_mint,
        newest."timestamp",
        newest.total_score,
        newest.distribution_score,
        newest.quality_score,
        newest.activity_score,
        newest.total_holders,
        newest.bonding_curve_progress,
        newest.confidence_score,
        rk.concentration_risk,
        rk.rug_risk_score,
        newest.is_frozen
    from newest
    left join lateral (
        select r.*
        from risk as r
        where r.token_mint = newest.token_mint
        order by r."timestamp" desc
        limit 1
    ) as rk on true
)

select * from with_risk
