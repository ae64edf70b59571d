-- 036_dbt_schemas: the schemas the dbt project builds into, one per layer (staging, intermediate, marts;
-- macros/generate_schema_name.sql), with their privileges, so that the roles exist before dbt first runs.
--
-- megatron_orchestrator owns them: the scheduled flows run dbt as a member of that role and need CREATE
-- there. megatron_analyst reads everything dbt builds: USAGE on the schemas here, SELECT on each model
-- through dbt's own `grants` config (dbt_project.yml), which dbt applies after every build whoever builds.
-- dbt itself (`create schema if not exists`) leaves existing schemas alone.

set local search_path = public, megatron;

create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;

alter schema staging owner to megatron_orchestrator;
alter schema intermediate owner to megatron_orchestrator;
alter schema marts owner to megatron_orchestrator;

grant usage on schema staging, intermediate, marts to megatron_analyst, megatron_owner;

comment on schema staging is 'dbt: one view per raw table (models/staging).';
comment on schema intermediate is 'dbt: reusable steps (models/intermediate).';
comment on schema marts is 'dbt: derived tables readers use (models/marts); contracts enforced.';
