{{
    config(
        materialized='incremental',
        unique_key=['source', 'bucket'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['source', 'bucket'], 'unique': true}, {'columns': ['bucket']}],
    )
}}
{#- 1-minute SOL/USD candles per price source. (price_time, source) is the key of sol_usd_prices, so the first
    and last observation of a minute are exact. Incremental like price_candles_1m: minutes holding a price
    written since the last run. -#}
with

prices as (
    select * from {{ ref('stg_megatron__sol_usd_prices') }}
),

{% if is_incremental() %}
    touched as (
        select distinct
            late.source,
            time_bucket(interval '1 minute', late.price_time) as bucket
        from prices as late
        where late.created_at > (
                select
                    coalesce(max(this_run.source_loaded_at), '-infinity'::timestamptz)
                    - interval '{{ var("candle_late_margin") }}'
                from {{ this }} as this_run
            )
    ),

    scoped as (
        select prices.*
        from prices
        where (prices.source, time_bucket(interval '1 minute', prices.price_time)) in (
                select
                    touched.source,
                    touched.bucket
                from touched
            )
    ),
{% else %}
    scoped as (
        select * from prices
    ),
{% endif %}

candles as (
    select
        pr.source,
        time_bucket(interval '1 minute', pr.price_time) as bucket,
        (array_agg(pr.price_usd order by pr.price_time))[1] as open,
        max(pr.price_usd) as high,
        min(pr.price_usd) as low,
        (array_agg(pr.price_usd order by pr.price_time desc))[1] as close,
        avg(pr.price_usd) as average,
        count(*)::integer as sample_count,
        max(pr.created_at) as source_loaded_at
    from scoped as pr
    group by pr.source, time_bucket(interval '1 minute', pr.price_time)
)

select * from candles
