"""Run bookkeeping, lost connections and least privilege (issue 9, items 8, 9 and 10), through the
loader and `megatron ingest` / `megatron db psql` as users run them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from megatron import db as megatron_db
from megatron.ingest.loader import Loader
from megatron.simulate import simulate, write_jsonl

MEGATRON = [sys.executable, "-m", "megatron.cli"]
START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def megatron(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MEGATRON, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300)


def start_megatron(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([*MEGATRON, *args], env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A simulated market as canonical JSONL, and how many trades it holds."""
    path = tmp_path_factory.mktemp("market") / "market.jsonl"
    events = list(simulate(150, 1.0, 5, START))
    write_jsonl(events, path)
    return path, sum(1 for e in events if e.kind == "trade")


@pytest.fixture
def fresh_url(server_url: str, run_id: str, template_db: str, request: pytest.FixtureRequest) -> Iterator[str]:
    from .conftest import create_database, drop_database

    name = f"megatron_t_{run_id}_{request.node.name[5:30].lower()}"
    url = create_database(server_url, name, template=template_db)
    yield url
    drop_database(server_url, name)


def wait_for(conn: psycopg.Connection, query: str, *args: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(query, args).fetchone()
        if row and row[0]:
            return row[0]
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for: {query}")


# --- item 8: a run ends succeeded, failed with its error, or abandoned ----------------------------------


def test_an_error_in_the_final_flush_marks_the_run_failed(fresh_url: str, ingest_role: tuple[str, str]) -> None:
    role, _password = ingest_role
    events = list(simulate(20, 0.1, 3, START))
    loader_url = megatron_db.with_user(fresh_url, *ingest_role)
    with psycopg.connect(loader_url, autocommit=True) as conn, psycopg.connect(fresh_url, autocommit=True) as admin:
        loader = Loader(conn, "final flush test", batch_size=10**6)  # nothing reaches the database before finish()
        loader.add_all(events)  # type: ignore[arg-type]
        admin.execute(f'revoke insert on transactions from "{role}", megatron_ingest')
        try:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                loader.finish()
        finally:
            admin.execute("grant insert on transactions to megatron_ingest")
        status, error, finished = admin.execute(
            "select status, error, finished_at is not null from megatron.ingest_runs where run_id = %s", (loader.run_id,)
        ).fetchone()
    assert (status, finished) == ("failed", True)
    assert "permission denied for table transactions" in error


def test_a_killed_loader_is_recognised_as_abandoned_and_a_live_one_is_not(fresh_url: str, market: tuple[Path, int]) -> None:
    path, _trades = market
    proc = start_megatron(["ingest", str(path), "--batch-size", "200"], {"DATABASE_URL": fresh_url})
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        try:
            run_id = wait_for(conn, "select run_id from megatron.ingest_runs where events_accepted > 0")
            alive = conn.execute("select megatron.ingest_mark_abandoned()").fetchone()
            assert alive == (0,), "a live loader holds its lock: nothing to mark"
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        backend = conn.execute("select backend_pid from megatron.ingest_runs where run_id = %s", (run_id,)).fetchone()[0]
        wait_for(conn, "select not exists (select 1 from pg_stat_activity where pid = %s)", backend)
        assert conn.execute("select status from megatron.ingest_runs where run_id = %s", (run_id,)).fetchone() == ("running",)
        small = path.parent / "one.jsonl"
        small.write_text(path.read_text().splitlines()[0] + "\n")
        assert megatron(["ingest", str(small)], {"DATABASE_URL": fresh_url}).returncode == 0
        row = conn.execute(
            "select status, client_pid, heartbeat_at is not null, finished_at is not null, error "
            "from megatron.ingest_runs where run_id = %s",
            (run_id,),
        ).fetchone()
    assert row[:4] == ("abandoned", proc.pid, True, True)
    assert "went away without finishing" in row[4]


# --- item 9: the connection lost mid-ingest is one sentence -------------------------------------------


def test_a_connection_lost_mid_ingest_is_one_sentence_and_a_rerun_completes(fresh_url: str, market: tuple[Path, int]) -> None:
    path, trades = market
    proc = start_megatron(["ingest", str(path), "--batch-size", "200"], {"DATABASE_URL": fresh_url})
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        run_id = wait_for(conn, "select run_id from megatron.ingest_runs where events_accepted > 0")
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
        )
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert last.startswith("error: The connection to the database was lost during the load (")
        assert last.endswith("run the same command again: it loads only what is missing.")
        assert conn.execute("select status from megatron.ingest_runs where run_id = %s", (run_id,)).fetchone() == ("failed",)
        again = megatron(["ingest", str(path)], {"DATABASE_URL": fresh_url})
        assert again.returncode == 0, again.stderr
        assert conn.execute("select count(*) from transactions").fetchone() == (trades,)


# --- item 10: least privilege -----------------------------------------------------------------------


def test_the_ingest_role_loads_but_cannot_change_the_schema_or_delete(
    fresh_url: str, ingest_role: tuple[str, str], market: tuple[Path, int]
) -> None:
    loader_url = megatron_db.with_user(fresh_url, *ingest_role)
    with psycopg.connect(loader_url, autocommit=True) as conn:
        assert conn.execute("select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user").fetchone() == (
            False, False, False
        )
        for statement in (
            "create table public.intruder (a int)",
            "create schema intruder",
            "alter table transactions add column intruder int",
            "drop table tokens",
            "delete from transactions",
            "truncate sol_usd_prices",
            "create or replace function megatron.ingest_apply() returns void language sql as 'select'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    path, trades = market
    result = megatron(["ingest", str(path)], {"DATABASE_URL": fresh_url, "MEGATRON_INGEST_URL": loader_url})
    assert result.returncode == 0, result.stderr
    with psycopg.connect(fresh_url) as conn:
        assert conn.execute("select count(*) from transactions").fetchone() == (trades,)
        assert conn.execute("select status from megatron.ingest_runs").fetchall() == [("succeeded",)]


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the embedded cluster's own login role")
def test_without_settings_loading_logs_in_as_the_embedded_ingest_role() -> None:
    url = megatron_db.ingest_url()
    assert conninfo_to_dict(url)["user"] == "megatron_loader"
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select rolsuper, pg_has_role(current_user, 'megatron_ingest', 'member'), "
            "pg_has_role(current_user, 'megatron_owner', 'member') from pg_roles where rolname = current_user"
        ).fetchone()
    assert row == (False, True, False)
    from megatron import cluster

    secret = cluster.state_dir() / "ingest-password"
    assert secret.stat().st_mode & 0o777 == 0o600


def test_db_psql_keeps_the_password_off_the_command_line(database_url: str) -> None:
    password = conninfo_to_dict(database_url)["password"]
    assert password
    result = megatron(
        ["db", "psql", "-X", "-c", r'\! tr "\0" " " < /proc/$PPID/cmdline', "-c", "select 6 * 7 as answer"],
        {"DATABASE_URL": database_url},
    )
    assert result.returncode == 0, result.stderr
    assert "42" in result.stdout and "psql" in result.stdout
    assert "password" not in result.stdout + result.stderr
    # a server whose password equals its user name (the TSL test server's bench/bench) shows it as the user
    others = {str(v) for k, v in conninfo_to_dict(database_url).items() if k != "password"}
    if str(password) not in others:
        assert str(password) not in result.stdout + result.stderr
