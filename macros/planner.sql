{#- without_nested_loops: a pre-hook for models whose statement joins several large CTEs (holder and risk metrics).
    PostgreSQL has no statistics for a CTE, so it estimates a few rows where there are thousands and then
    picks nested loops over CTE scans: on a 300-token market the risk statement ran 224 s that way and
    0.8 s with nested loops off (docs/scoring.md, "Planner settings"). A lateral lookup still runs as a
    nested loop, since it has no other plan. JIT goes off too: the disabled plans' penalty costs put every
    such statement far above jit_above_cost, and compiling it took 25 s of a 26 s build. Both settings are
    `set local`, so they end with the model's own transaction. -#}
{% macro without_nested_loops() -%}
    set local enable_nestloop = off; set local jit = off
{%- endmacro %}
