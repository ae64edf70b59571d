-- 029_ownership_and_grants: hand every object of 004..028 to its owning role and grant the
-- others what they need (the roles of 003_roles).
--
-- Ownership moves only now, after the policies exist: on TimescaleDB Community adding a
-- policy requires the table's owner to be able to log in (its jobs run as that role), and
-- megatron_owner cannot. The jobs keep the migrating role as their owner, which stays a
-- member of megatron_owner and megatron_orchestrator so its jobs pass the ownership checks
-- of compress_chunk, drop_chunks and refresh. Later migrations follow the same order:
-- create, declare policies, then hand over.

set local search_path = public, megatron;

alter table tokens owner to megatron_owner;
alter table pools owner to megatron_owner;
alter table transactions owner to megatron_owner;
alter table price_candles_1m owner to megatron_owner;
alter table sol_usd_prices owner to megatron_owner;
alter table technical_scores owner to megatron_owner;
alter table selloff_events owner to megatron_owner;
alter table holder_scores owner to megatron_owner;
alter table holder_snapshots owner to megatron_owner;
alter table token_holders owner to megatron_owner;
alter table wallet_analysis_cache owner to megatron_owner;
alter table wallet_quality_metrics owner to megatron_owner;
alter table activity_metrics owner to megatron_owner;
alter table risk_metrics owner to megatron_owner;
alter table holder_score_queue owner to megatron_owner;
alter table api_credit_usage owner to megatron_owner;
alter table holder_updates owner to megatron_owner;

alter function calculate_gini_coefficient(numeric[]) owner to megatron_owner;
alter function calculate_shannon_entropy(numeric[]) owner to megatron_owner;
alter function calculate_theil_index(numeric[]) owner to megatron_owner;
alter function sol_usd_price_at(timestamptz, interval) owner to megatron_owner;
alter function token_price_at(text, timestamptz) owner to megatron_owner;
alter function bonding_curve_progress_at(text, timestamptz) owner to megatron_owner;
alter function calculate_market_cap_velocity(text, interval, timestamptz) owner to megatron_owner;
alter function calculate_progress_velocity(text, interval, timestamptz) owner to megatron_owner;
alter function detect_selloff(text, timestamptz) owner to megatron_owner;
alter function assess_smart_money_wallet(text, timestamptz) owner to megatron_owner;
alter function is_smart_money_wallet(text, timestamptz) owner to megatron_owner;
alter function calculate_usd_values() owner to megatron_owner;
alter function forget_usd_price_memo() owner to megatron_owner;
alter function fill_transaction_usd_values(timestamptz, timestamptz) owner to megatron_owner;
alter function create_selloff_event() owner to megatron_owner;
alter function queue_holder_score_calculation() owner to megatron_owner;
alter function megatron.apply_retention(regclass) owner to megatron_owner;
alter function megatron.apply_compression(regclass) owner to megatron_owner;

-- continuous aggregates (TimescaleDB Community only): refreshing one requires its owner.
-- ALTER ... OWNER needs the new owner to hold CREATE on the schema at that moment only.
do $$
begin
    if megatron.timescaledb_edition() = 'timescale' then
        grant create on schema public to megatron_orchestrator;
        alter materialized view price_candles_1m_cagg owner to megatron_orchestrator;
        alter materialized view sol_usd_candles_1m owner to megatron_orchestrator;
        revoke create on schema public from megatron_orchestrator;
    end if;
end
$$;

-- reading: everything in public (tables, hypertables, aggregates) and the registry
grant select on all tables in schema public to megatron_analyst, megatron_orchestrator;
grant select on all tables in schema megatron to megatron_analyst, megatron_orchestrator;

-- writing raw data: insert and update only
grant select, insert, update on
tokens, pools, transactions, price_candles_1m, sol_usd_prices, technical_scores,
selloff_events, holder_scores, holder_snapshots, token_holders, wallet_analysis_cache,
wallet_quality_metrics, activity_metrics, risk_metrics, holder_score_queue,
api_credit_usage, holder_updates
to megatron_ingest;
revoke delete, truncate on transactions from megatron_ingest;

-- maintenance: the SECURITY DEFINER functions run as megatron_owner and read the registry
grant select on megatron.hypertable_policies to megatron_owner;
revoke all on function megatron.apply_retention(regclass) from public;
revoke all on function megatron.apply_compression(regclass) from public;
grant execute on function megatron.apply_retention(regclass) to megatron_orchestrator;
grant execute on function megatron.apply_compression(regclass) to megatron_orchestrator;
revoke all on function fill_transaction_usd_values(timestamptz, timestamptz) from public;
grant execute on function fill_transaction_usd_values(timestamptz, timestamptz) to megatron_ingest;
