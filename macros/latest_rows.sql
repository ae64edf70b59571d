{#- Candidates for "the newest row per token" of a time-keyed score table: on a full build every row; on an
    incremental run only rows newer than the newest already kept (minus var('candle_lookback'), chunk
    exclusion on the hypertable) plus the rows already kept for those tokens, so that an older row that
    arrives late never replaces a newer one. Never a DISTINCT ON over the whole hypertable after the first
    build. -#}
{% macro latest_row_candidates(relation, key='token_mint', time_column='"timestamp"', columns='*') -%}
    {%- if is_incremental() %}
    select {{ columns }}
    from {{ relation }} as fresh
    where fresh.{{ time_column }} > (
        select coalesce(max(kept.{{ time_column }}), '-infinity'::timestamptz)
            - interval '{{ var("candle_lookback") }}'
        from {{ this }} as kept
    )
    union all
    select {{ columns }}
    from {{ this }} as kept
    where kept.{{ key }} in (
        select recent.{{ key }}
        from {{ relation }} as recent
        where recent.{{ time_column }} > (
            select coalesce(max(newest.{{ time_column }}), '-infinity'::timestamptz)
                - interval '{{ var("candle_lookback") }}'
            from {{ this }} as newest
        )
    )
    {%- else %}
    select {{ columns }}
    from {{ relation }} as fresh
    {%- endif %}
{%- endmacro %}
