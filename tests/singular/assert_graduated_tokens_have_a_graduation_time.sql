-- Every graduated token has a graduation time, and every token with a curve-complete or migration event is
-- graduated.
with

tokens as (
    select * from {{ ref('stg_megatron__tokens') }}
),

graduations as (
    select distinct ge.token_mint from {{ ref('stg_megatron__graduation_events') }} as ge
),

violations as (
    select
        tk.mint_address,
        tk.is_graduated,
        tk.graduation_timestamp
    from tokens as tk
    left join graduations as gr on tk.mint_address = gr.token_mint
    where
        (tk.is_graduated and tk.graduation_timestamp is null)
        or (gr.token_mint is not null and not coalesce(tk.is_graduated, false))
)

select * from violations
