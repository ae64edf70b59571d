-- 082_as_of_function_plans: curve_state_at keeps its index-probe plan whatever the calling statement's
-- planner settings (issue 11, scoring speed; docs/scoring.md "Planner settings").
--
-- The scoring statements that join many CTEs run with nested loops off (macros/planner.sql): PostgreSQL
-- estimates a CTE at a handful of rows and otherwise loops over thousands. curve_state_at is called once
-- per (token, T) by the holder gate (bonding_curve_progress_at), and its queries inherit the session's
-- settings: without nested loops, its one-token lookup became a hash join over every stored trade
-- (300 tokens: 0.1 s -> 12 s). Its own setting wins while it runs.

alter function public.curve_state_at(text, timestamptz) set enable_nestloop = true;
