{{ config(alias='token_scores') }}
{#- The 999 aggregate of every (token, T) of the scoring run var('score_run_id') that has a technical row (spec §5
    resolution, A1-A4, T14): max(0, technical(T)) + the newest holder snapshot at or before T (holder_scores or
    the frozen graduation copy, frozen_holder_scores) + the newest social score at or before T, written into
    token_scores (migration 052) with insert ... on conflict do nothing. Missing holder or social parts count 0 and
    are flagged; a holder snapshot older than holder_stale_minutes (30) at T is flagged stale (a frozen one never
    is). The social part comes from the macro social_scores_for(grid) when the project has it (issue 11 social);
    without it every row is social_missing. Part models that write holder snapshots in the same run must run
    first: add a `-- depends_on: {{ "{{ ref('...') }}" }}` line here for them. -#}
-- depends_on: {{ ref('holder_score_snapshots') }}
{%- set params = scoring_parameters() %}
with

grid as (
    select
        gr.token_mint,
        gr.as_of
    from {{ ref('stg_megatron__score_grid') }} as gr
    where gr.run_id = {{ var('score_run_id') }}
),

technical as (
    select
        te.token_mint,
        te."timestamp" as as_of,
        te.total_score as technical_raw,
        te.evaluated_at,
        te.is_frozen,
        te.bonding_curve_progress,
        te.market_cap_usd,
        te.rule_version
    from {{ ref('technical_score_snapshots') }} as te
    inner join grid on te.token_mint = grid.token_mint and te."timestamp" = grid.as_of
),

holder_snapshots as (
    select
        hs.token_mint,
        hs."timestamp",
        hs.total_score,
        hs.is_frozen
    from {{ ref('stg_megatron__holder_scores') }} as hs
    union all
    select
        fh.token_mint,
        fh."timestamp",
        fh.total_score,
        true as is_frozen
    from {{ ref('stg_megatron__frozen_holder_scores') }} as fh
),

with_holder as (
    select
        te.*,
        ho.total_score as holder_total,
        ho."timestamp" as holder_as_of,
        coalesce(ho.is_frozen, false) as holder_frozen
    from technical as te
    left join lateral (
        select
            hsn.total_score,
            hsn."timestamp",
            hsn.is_frozen
        from holder_snapshots as hsn
        where hsn.token_mint = te.token_mint and hsn."timestamp" <= te.as_of
        order by hsn."timestamp" desc, hsn.is_frozen desc
        limit 1
    ) as ho on true
),

with_social as (
    {{ scoring_social_part('with_holder', 'grid') }}
),

aggregated as (
    select
        ws.token_mint,
        ws.as_of,
        greatest(0, ws.technical_raw) as technical_score,
        coalesce(ws.holder_total, 0) as holder_score,
        coalesce(ws.social_total, 0) as social_score,
        ws.technical_raw,
        ws.evaluated_at as technical_as_of,
        coalesce(ws.is_frozen, false) as technical_frozen,
        ws.holder_as_of,
        ws.holder_total is null as holder_missing,
        ws.holder_total is not null and not ws.holder_frozen
        and ws.as_of - ws.holder_as_of > interval '{{ scoring_param(params, "holder_stale_minutes") }} minutes'
            as holder_stale,
        ws.holder_frozen,
        ws.social_as_of,
        ws.social_total is null as social_missing,
        ws.bonding_curve_progress,
        ws.market_cap_usd,
        ws.rule_version,
        {{ var('score_run_id') }}::bigint as run_id
    from with_social as ws
)

select * from aggregated
