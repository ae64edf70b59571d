{{
    config(
        materialized='incremental',
        unique_key=['token_id', 'bucket'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['token_id', 'bucket'], 'unique': true},
            {'columns': ['bucket']},
            {'columns': ['built_at']},
        ],
    )
}}
{#- 1-minute candles per token from buy/sell trades, open and close in the one event order. Incremental:
    a run recomputes every bucket holding a trade written since the last run (late trades correct their
    bucket) and every bucket of the last var('candle_lookback') (late SOL/USD prices reprice trades). -#}
with

trades as (
    select * from {{ ref('int_trades_enriched') }}
    where price_per_token > 0
),

{% if is_incremental() %}
    watermark as (
        select
            coalesce(max(this_run.source_loaded_at), '-infinity'::timestamptz)
            - interval '{{ var("candle_late_margin") }}' as loaded_since
        from {{ this }} as this_run
    ),

    touched as (
        select distinct
            late.token_id,
            time_bucket(interval '1 minute', late.block_time) as bucket
        from trades as late
        cross join watermark
        where late.created_at > watermark.loaded_since
        union
        select distinct
            recent.token_id,
            time_bucket(interval '1 minute', recent.block_time) as bucket
        from trades as recent
        where recent.block_time >= now() - interval '{{ var("candle_lookback") }}'
    ),

    scoped as (
        select trades.*
        from trades
        where
            trades.block_time >= (select min(touched.bucket) from touched)
            and (trades.token_id, time_bucket(interval '1 minute', trades.block_time)) in (
                select
                    touched.token_id,
                    touched.bucket
                from touched
            )
    ),
{% else %}
    scoped as (
        select * from trades
    ),
{% endif %}

candles as (
    {{ candle_aggregates('scoped', "interval '1 minute'") }}
)

select * from candles
