"""The four group roles: each can do its job and is denied what it must not do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import psycopg
import pytest
from psycopg import errors, sql

from tests.seed_columns import SEED_COLUMNS

ROLES = ("megatron_owner", "megatron_ingest", "megatron_orchestrator", "megatron_analyst")
RAW_TABLES = sorted(SEED_COLUMNS)


def act_as(conn: psycopg.Connection, role: str) -> None:
    """Switch the current transaction to `role` (undone by the fixture's rollback)."""
    allowed = conn.execute("select pg_has_role(current_user, %s, 'member')", (role,)).fetchone()
    if not allowed or not allowed[0]:
        pytest.skip(f"the test role cannot SET ROLE {role} (run the suite as a superuser)")
    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))


@contextmanager
def denied(conn: psycopg.Connection) -> Iterator[None]:
    with pytest.raises(errors.InsufficientPrivilege):
        with conn.transaction():
            yield


def timescaledb_schema(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "select extnamespace::regnamespace::text from pg_extension where extname = 'timescaledb'"
    ).fetchone()
    assert row is not None
    return str(row[0])


def seed_rows(conn: psycopg.Connection, *, days_ago: int = 0, mint: str = "MintRoles") -> tuple[str, str]:
    """A token, its pool and one trade `days_ago` days back (as the test's own role)."""
    token = conn.execute(
        "insert into tokens (mint_address, platform, creation_signature, creation_timestamp, creator_address) "
        "values (%s, 'pumpfun', 's', now() - make_interval(days => %s + 1), 'c') returning id",
        (mint, days_ago),
    ).fetchone()
    assert token is not None
    pool = conn.execute(
        "insert into pools (pool_address, token_id, base_mint, quote_mint, platform) "
        "values (%s, %s, %s, 'q', 'pumpfun') returning id",
        (f"Pool-{mint}", token[0], mint),
    ).fetchone()
    assert pool is not None
    conn.execute(
        "insert into transactions (signature, pool_id, token_id, block_time, slot, type, user_address, "
        "amount_in, amount_in_decimals, amount_out, amount_out_decimals) "
        "values (%s, %s, %s, now() - make_interval(days => %s), 1, 'buy', 'U', 1, 9, 1, 6)",
        (f"sig-{mint}", pool[0], token[0], days_ago),
    )
    return str(token[0]), str(pool[0])


# --- the roles themselves -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_roles_are_group_roles_without_login_or_special_powers(conn: psycopg.Connection, role: str) -> None:
    row = conn.execute(
        "select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles where rolname = %s",
        (role,),
    ).fetchone()
    assert row == (False, False, False, False, False)


@pytest.mark.parametrize("role", ROLES)
def test_roles_have_no_password(conn: psycopg.Connection, role: str) -> None:
    superuser = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()
    if not superuser or not superuser[0]:
        pytest.skip("pg_authid is readable by superusers only")
    assert conn.execute("select rolpassword from pg_authid where rolname = %s", (role,)).fetchone() == (None,)


@pytest.mark.parametrize("table", RAW_TABLES)
def test_megatron_owner_owns_every_raw_table(conn: psycopg.Connection, table: str) -> None:
    row = conn.execute("select relowner::regrole::text from pg_class where oid = %s::regclass", (f"public.{table}",))
    assert row.fetchone() == ("megatron_owner",)


def test_megatron_owner_owns_every_function_of_the_schema(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "select p.oid::regprocedure::text, p.proowner::regrole::text from pg_proc as p "
        "where p.pronamespace = 'public'::regnamespace "
        "and not exists (select 1 from pg_depend as d where d.objid = p.oid and d.deptype = 'e') "
        "and p.proname = any(%s)",
        ([
            "calculate_gini_coefficient", "calculate_shannon_entropy", "calculate_theil_index", "detect_selloff",
            "calculate_market_cap_velocity", "calculate_progress_velocity", "is_smart_money_wallet",
            "calculate_usd_values", "queue_holder_score_calculation",
        ],),
    ).fetchall()
    assert len(rows) == 9
    assert {owner for _, owner in rows} == {"megatron_owner"}


# --- analyst: read-only -----------------------------------------------------------------------------


@pytest.mark.parametrize("table", RAW_TABLES)
def test_analyst_reads_every_raw_table(conn: psycopg.Connection, table: str) -> None:
    act_as(conn, "megatron_analyst")
    row = conn.execute(sql.SQL("select count(*) from public.{}").format(sql.Identifier(table))).fetchone()
    assert row is not None and row[0] >= 0


def test_analyst_reads_the_policy_registry(conn: psycopg.Connection) -> None:
    act_as(conn, "megatron_analyst")
    rows = conn.execute("select object_name, applied_by from megatron.policies").fetchall()
    assert "transactions" in {name for name, _applied_by in rows}


@pytest.mark.parametrize(
    "statement",
    [
        "insert into tokens (mint_address, platform, creation_signature, creation_timestamp, creator_address) "
        "values ('MintA', 'pumpfun', 's', now(), 'c')",
        "update tokens set symbol = 'X'",
        "delete from sol_usd_prices",
        "truncate holder_updates",
        "create table public.analyst_scratch (x int)",
        "alter table tokens add column note text",
        "select megatron.apply_retention('transactions')",
        "insert into megatron.hypertable_policies (hypertable, time_column, chunk_interval, native) "
        "values ('tokens', 'created_at', '1 day', false)",
    ],
)
def test_analyst_cannot_change_anything(conn: psycopg.Connection, statement: str) -> None:
    act_as(conn, "megatron_analyst")
    with denied(conn):
        conn.execute(statement)  # type: ignore[arg-type]


# --- ingest: insert and update raw tables -----------------------------------------------------------


def test_ingest_inserts_and_updates_raw_rows_and_its_triggers_run(conn: psycopg.Connection) -> None:
    conn.execute("insert into sol_usd_prices (price_time, price_usd, source) values (now() - interval '1 minute', 150, 'p')")
    act_as(conn, "megatron_ingest")
    token_id, pool_id = seed_rows(conn)
    conn.execute("update tokens set symbol = 'ROLE' where id = %s", (token_id,))
    conn.execute("update pools set bonding_curve_progress = 30 where id = %s", (pool_id,))
    conn.execute(
        "insert into holder_score_queue (token_mint, priority, reason, scheduled_at, milestone) "
        "values ('MintRoles', 5, 'milestone_crossed 25%', now(), 25)"
    )
    conn.execute(
        "insert into technical_scores (token_mint, timestamp, price_drop_15m) values ('MintRoles', now(), 20)"
    )  # no sell-off trigger since 042
    conn.execute("update holder_score_queue set processed_at = now(), attempts = 1")
    assert conn.execute("select sol_amount_usd is null from transactions").fetchone() == (True,)
    assert conn.execute("select count(*) from holder_score_queue").fetchone() == (1,)
    assert conn.execute("select count(*) from selloff_events").fetchone() == (0,)


def test_ingest_fills_late_usd_values(conn: psycopg.Connection) -> None:
    act_as(conn, "megatron_ingest")
    seed_rows(conn)
    conn.execute("update transactions set sol_amount = 2")
    conn.execute("insert into sol_usd_prices (price_time, price_usd, source) values (now() - interval '1 minute', 150, 'p')")
    row = conn.execute("select fill_transaction_usd_values(now() - interval '1 day', now() + interval '1 second')").fetchone()
    assert row == (1,)
    assert conn.execute("select sol_amount_usd from transactions").fetchone() == (Decimal("300.00"),)


@pytest.mark.parametrize(
    "statement",
    [
        "delete from transactions",
        "truncate transactions",
        "delete from tokens",
        "delete from holder_score_queue",
        "create table public.ingest_scratch (x int)",
        "alter table transactions add column note text",
        "drop table holder_updates",
        "create index on transactions (slot)",
        "select megatron.apply_retention('transactions')",
        "update megatron.hypertable_policies set drop_after = interval '1 day'",
    ],
)
def test_ingest_cannot_delete_or_change_the_schema(conn: psycopg.Connection, statement: str) -> None:
    seed_rows(conn)
    act_as(conn, "megatron_ingest")
    with denied(conn):
        conn.execute(statement)  # type: ignore[arg-type]


def test_ingest_cannot_drop_chunks_itself(conn: psycopg.Connection) -> None:
    schema = timescaledb_schema(conn)
    act_as(conn, "megatron_ingest")
    with denied(conn):
        conn.execute(sql.SQL("select {}.drop_chunks('public.transactions', older_than => interval '1 day')")
                     .format(sql.Identifier(schema)))


# --- orchestrator: maintenance through the registry ----------------------------------------------------


def test_orchestrator_applies_declared_retention(conn: psycopg.Connection) -> None:
    seed_rows(conn, days_ago=120, mint="MintOld")
    seed_rows(conn, days_ago=1, mint="MintNew")
    act_as(conn, "megatron_orchestrator")
    dropped = conn.execute("select * from megatron.apply_retention('transactions')").fetchall()
    assert len(dropped) == 1
    assert conn.execute("select signature from transactions").fetchall() == [("sig-MintNew",)]


def test_retention_of_a_table_without_one_is_refused(conn: psycopg.Connection) -> None:
    act_as(conn, "megatron_orchestrator")
    with pytest.raises(errors.InvalidParameterValue, match="no retention declared"):
        conn.execute("select * from megatron.apply_retention('holder_snapshots')")


def test_orchestrator_compresses_only_where_timescaledb_can(conn: psycopg.Connection, edition: str) -> None:
    seed_rows(conn, days_ago=10)
    act_as(conn, "megatron_orchestrator")
    if edition == "timescale":
        compressed = conn.execute("select * from megatron.apply_compression('transactions')").fetchall()
        assert len(compressed) == 1
    else:
        with pytest.raises(errors.FeatureNotSupported, match="Community edition"):
            conn.execute("select * from megatron.apply_compression('transactions')")


@pytest.mark.parametrize(
    "statement",
    [
        "insert into sol_usd_prices (price_time, price_usd, source) values (now(), 1, 'x')",
        "update pools set status = 'x'",
        "delete from transactions",
        "alter table transactions set (autovacuum_enabled = false)",
        "drop table holder_updates",
        "create table public.orchestrator_scratch (x int)",
    ],
)
def test_orchestrator_cannot_write_or_change_raw_tables(conn: psycopg.Connection, statement: str) -> None:
    seed_rows(conn)
    act_as(conn, "megatron_orchestrator")
    with denied(conn):
        conn.execute(statement)  # type: ignore[arg-type]


def test_orchestrator_cannot_drop_chunks_outside_the_registry(conn: psycopg.Connection) -> None:
    schema = timescaledb_schema(conn)
    act_as(conn, "megatron_orchestrator")
    with denied(conn):
        conn.execute(sql.SQL("select {}.drop_chunks('public.transactions', older_than => interval '1 day')")
                     .format(sql.Identifier(schema)))


# --- future tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize("creator", ["megatron_owner", None])
def test_future_tables_get_the_same_grants(conn: psycopg.Connection, creator: str | None) -> None:
    """A table created later by megatron_owner, or by the migrating role itself, is covered."""
    if creator:
        act_as(conn, creator)
    conn.execute("create table public.future_raw (id int primary key, note text)")
    conn.execute("reset role")
    act_as(conn, "megatron_ingest")
    conn.execute("insert into public.future_raw values (1, 'a')")
    conn.execute("update public.future_raw set note = 'b'")
    with denied(conn):
        conn.execute("delete from public.future_raw")
    conn.execute("reset role")
    act_as(conn, "megatron_analyst")
    assert conn.execute("select note from public.future_raw").fetchall() == [("b",)]
    with denied(conn):
        conn.execute("insert into public.future_raw values (2, 'c')")
