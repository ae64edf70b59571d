"""The flows' database role (a LOGIN member of megatron_orchestrator, as `megatron serve` connects): it can do
what the flows need (write audit rows, read the maintenance status, drop chunks through the registry function,
work the holder-score queue, build the dbt layers) and nothing more."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from megatron import cluster, db


@pytest.fixture(scope="module")
def orchestrator_url(server_url: str, database_url: str) -> str:
    role, password = "megatron_orchestrator_role_test", secrets.token_urlsafe(18)
    cluster.ensure_login_role(server_url, role, password, "megatron_orchestrator")
    return db.with_user(database_url, role, password)


@pytest.fixture
def orch(orchestrator_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(orchestrator_url, autocommit=True) as conn:
        yield conn


def seed(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("insert into api_credit_usage (timestamp, api_provider, endpoint, credits_used) "
                     "values (now() - interval '200 days', 'helius', 'old', 1), (now(), 'helius', 'new', 1) "
                     "on conflict do nothing")


def test_the_flows_role_writes_audit_rows_and_reads_the_maintenance_status(orch: psycopg.Connection) -> None:
    row = orch.execute("insert into audit_log (job, started_at, edition, dry_run, outcome, description) "
                       "values ('retention_audit', now(), 'apache', true, 'ok', 'test') returning db_user").fetchone()
    assert row is not None and row[0] == "megatron_orchestrator_role_test"
    for fn in ("compression_status", "retention_status", "aggregate_status", "policy_jobs"):
        orch.execute(sql.SQL("select * from megatron.{}()").format(sql.Identifier(fn))).fetchall()


def test_the_flows_role_drops_chunks_only_through_the_registry_function(
    orch: psycopg.Connection, database_url: str
) -> None:
    seed(database_url)
    due = orch.execute("select chunk from megatron.retention_due('api_credit_usage')").fetchall()
    assert len(due) == 1
    dropped = orch.execute("select megatron.apply_retention('api_credit_usage')").fetchall()
    assert [d[0] for d in dropped] == [d[0] for d in due]
    schema = orch.execute("select extnamespace::regnamespace::text from pg_extension "
                          "where extname = 'timescaledb'").fetchone()
    assert schema is not None
    with pytest.raises(errors.InsufficientPrivilege):
        orch.execute(sql.SQL("select {}.drop_chunks('public.transactions', older_than => interval '1 day')")
                     .format(sql.Identifier(schema[0])))


def test_the_flows_role_works_the_holder_score_queue(orch: psycopg.Connection) -> None:
    assert orch.execute("select * from megatron.take_holder_score_work(5, 'test')").fetchall() == []


def test_the_flows_role_may_build_in_the_dbt_schemas(orch: psycopg.Connection) -> None:
    orch.execute("create table marts.flows_role_scratch (x int)")
    orch.execute("drop table marts.flows_role_scratch")


@pytest.mark.parametrize(
    "statement",
    [
        "delete from transactions",
        "truncate transactions",
        "insert into transactions (signature) values ('x')",
        "update tokens set symbol = 'x'",
        "drop table transactions",
        "drop table audit_log",
        "alter table api_credit_usage set (autovacuum_enabled = false)",
        "update audit_log set outcome = 'ok'",
        "delete from audit_log",
        "create table public.flows_role_scratch (x int)",
        "delete from holder_score_queue",
        "select drop_chunks('api_credit_usage', older_than => interval '1 day')",
    ],
)
def test_the_flows_role_is_denied_everything_else(orch: psycopg.Connection, statement: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        orch.execute(statement)  # type: ignore[arg-type]


def test_analysts_read_the_audit_log_but_cannot_write_it(database_url: str, server_url: str) -> None:
    role, password = "megatron_analyst_role_test", secrets.token_urlsafe(18)
    cluster.ensure_login_role(server_url, role, password, "megatron_analyst")
    with psycopg.connect(db.with_user(database_url, role, password), autocommit=True) as conn:
        conn.execute("select count(*) from audit_log").fetchone()
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("insert into audit_log (job, started_at, edition, dry_run, outcome, description) "
                         "values ('retention_audit', now(), 'apache', true, 'ok', 'x')")


def test_megatron_score_runs_as_the_orchestrator_role(database_url: str, orchestrator_url: str) -> None:
    """`megatron score` connects as the role the scheduled scoring runs as, not as DATABASE_URL's owner: with the
    owner's sessions read-only, the command still scores, and what it builds belongs to the orchestrator login."""
    megatron = str(Path(sys.executable).with_name("megatron"))
    start = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    loaded = subprocess.run([megatron, "simulate", "--tokens", "4", "--days", "0.05", "--start", start, "--no-social"],
                            env=dict(os.environ, DATABASE_URL=database_url), capture_output=True, text=True,
                            timeout=600)
    assert loaded.returncode == 0, loaded.stderr
    owner_read_only = make_conninfo(database_url, options="-c default_transaction_read_only=on")
    env = dict(os.environ, DATABASE_URL=owner_read_only, MEGATRON_ORCHESTRATOR_URL=orchestrator_url)
    result = subprocess.run([megatron, "score", "--at", "now", "--top", "3"],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    pairs = re.search(r"(\d+) \(token, T\) pairs over 1 time\(s\)", result.stdout)
    assert pairs is not None and int(pairs.group(1)) > 0, result.stdout
    assert "top tokens by the 999 score" in result.stdout
    with psycopg.connect(database_url) as conn:
        owner = conn.execute("select tableowner from pg_tables where schemaname = 'marts' "
                             "and tablename = 'latest_token_scores'").fetchone()
    assert owner == ("megatron_orchestrator_role_test",)
