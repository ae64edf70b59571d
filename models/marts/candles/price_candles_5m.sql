{{
    config(
        materialized='incremental',
        unique_key=['token_id', 'bucket'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['token_id', 'bucket'], 'unique': true}, {'columns': ['bucket']}],
    )
}}
{#- 5 minutes candles per token, rolled up from price_candles_1m (macros/candles.sql). -#}
{{ candle_rollup("interval '5 minutes'") }}
