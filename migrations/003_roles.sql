-- 003_roles: the four NOLOGIN group roles, and the privileges future tables get by default.
--
-- Roles are cluster-wide: each is created only when missing, and a concurrent migration of
-- another database on the same server that wins the race is tolerated. None of them can log
-- in and none has a password; people and services log in as their own roles and are granted
-- one of these.
--
--   megatron_owner         owns the raw tables, hypertables and functions (all DDL)
--   megatron_ingest        loader and score writers: select, insert, update; no delete, no DDL
--   megatron_orchestrator  maintenance: owns the continuous aggregates (TimescaleDB lets only
--                          the owner refresh one) and runs retention and compression through
--                          the SECURITY DEFINER functions of 028_maintenance_functions
--   megatron_analyst       read-only on everything
--
-- The role running the migrations becomes a member of megatron_owner and
-- megatron_orchestrator (a superuser already is). It creates each object and then hands it
-- over (029_ownership_and_grants), which needs that membership. On TimescaleDB Community,
-- policy jobs run as the role that created them, and that role must be able to log in: see
-- docs/schema-decisions.md, "roles".

do $$
declare
    v_role text;
begin
    foreach v_role in array array[
        'megatron_owner', 'megatron_ingest', 'megatron_orchestrator', 'megatron_analyst'
    ] loop
        if not exists (select 1 from pg_roles where rolname = v_role) then
            begin
                execute format('create role %I nologin', v_role);
            exception when duplicate_object or unique_violation then
                null;  -- created meanwhile by a concurrent migration of another database
            end;
        end if;
    end loop;
end
$$;

comment on role megatron_owner is 'Megatron: owns raw tables, hypertables and functions; members may migrate.';
comment on role megatron_ingest is 'Megatron: writes raw tables (select, insert, update); no delete, no DDL.';
comment on role megatron_orchestrator is
'Megatron: maintenance (owns continuous aggregates; retention and compression via megatron.apply_*).';
comment on role megatron_analyst is 'Megatron: read-only on every table and view.';

-- the migrating role must be able to hand objects over to these two roles
do $$
declare
    v_role text;
begin
    foreach v_role in array array['megatron_owner', 'megatron_orchestrator'] loop
        if not pg_has_role(current_user, v_role, 'member') then
            begin
                execute format('grant %I to %I', v_role, current_user);
            exception when duplicate_object or unique_violation then
                null;
            end;
        end if;
    end loop;
end
$$;

-- nobody but owners creates objects in public (PostgreSQL 15 default; made explicit for
-- clusters initialized by older versions)
revoke create on schema public from public;
grant usage on schema public to megatron_ingest, megatron_orchestrator, megatron_analyst;
grant create on schema public to megatron_owner;
grant usage on schema megatron to megatron_owner, megatron_ingest, megatron_orchestrator, megatron_analyst;

-- future tables in public, whether created by megatron_owner or by the migrating role
alter default privileges for role megatron_owner in schema public
grant select on tables to megatron_analyst, megatron_orchestrator;
alter default privileges for role megatron_owner in schema public
grant select, insert, update on tables to megatron_ingest;
alter default privileges for role megatron_owner in schema public
grant usage, select on sequences to megatron_ingest;
alter default privileges for role megatron_owner in schema megatron
grant select on tables to megatron_analyst, megatron_orchestrator;

do $$
begin
    execute format(
        'alter default privileges for role %I in schema public '
        'grant select on tables to megatron_analyst, megatron_orchestrator',
        current_user
    );
    execute format(
        'alter default privileges for role %I in schema public '
        'grant select, insert, update on tables to megatron_ingest',
        current_user
    );
    execute format(
        'alter default privileges for role %I in schema public '
        'grant usage, select on sequences to megatron_ingest',
        current_user
    );
    execute format(
        'alter default privileges for role %I in schema megatron '
        'grant select on tables to megatron_analyst, megatron_orchestrator',
        current_user
    );
end
$$;
