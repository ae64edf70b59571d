-- 001_extensions: TimescaleDB, and the schema that holds Megatron's own bookkeeping.
-- The embedded cluster preloads timescaledb; on another server it must be in
-- shared_preload_libraries (TimescaleDB's own images do that).
create extension if not exists timescaledb with schema public;
create schema if not exists megatron;
comment on schema megatron is 'Megatron bookkeeping: migrations, the time-series policy registry, ingest state.';
