"""Fixtures: a real PostgreSQL + TimescaleDB server, a migrated template, a fresh database per module.

Without DATABASE_URL the embedded cluster is started (or reused). With DATABASE_URL set the
same suite runs against that server, creating and dropping its own databases there (the
role needs CREATEDB). That is how it runs against a TimescaleDB Community (TSL) server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from megatron import db, migrate

FIXTURES = Path(os.environ.get("MEGATRON_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "solana"))


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    with _admin(server_url) as conn:
        if template:
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
                (template,),
            )
            conn.execute(f'create database "{name}" template "{template}"')
        else:
            conn.execute(f'create database "{name}"')
    return db.with_dbname(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with _admin(server_url) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def server_url() -> str:
    """A URL on the server under test (its own database is used only for admin statements)."""
    return db.database_url()


@pytest.fixture(scope="session")
def run_id() -> str:
    return secrets.token_hex(3)


_EDITION: dict[str, str] = {}


@pytest.fixture(scope="session")
def template_db(server_url: str, run_id: str) -> Iterator[str]:
    """A database with every migration applied, used as the template of each module's database."""
    name = f"megatron_tmpl_{run_id}"
    url = create_database(server_url, name)
    try:
        migrate.migrate(url)
        with psycopg.connect(url, autocommit=True) as c:
            _EDITION["license"] = db.timescaledb_license(c)
            if _EDITION["license"] == "timescale":
                # Tests decide when policy jobs run (run_job): a background retention run in the middle
                # of a test would remove the 2024-2026 fixtures it just loaded.
                c.execute("select alter_job(job_id, scheduled => false) from timescaledb_information.jobs "
                          "where job_id >= 1000")
        with _admin(server_url) as conn:
            conn.execute(f'alter database "{name}" with allow_connections false')
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,)
            )
        yield name
    finally:
        with _admin(server_url) as conn:
            conn.execute(f'alter database "{name}" with allow_connections true')
        drop_database(server_url, name)


@pytest.fixture(scope="session")
def ingest_role(server_url: str, template_db: str) -> tuple[str, str]:
    """A LOGIN role that is a member of megatron_ingest and nothing more, as the loader runs in
    production: (name, password). Roles are cluster-wide; its password is new each session."""
    from megatron import cluster

    role, password = "megatron_loader_test", secrets.token_urlsafe(18)
    cluster.ensure_login_role(server_url, role, password, "megatron_ingest")
    return role, password


@pytest.fixture(scope="module")
def database_url(server_url: str, template_db: str, run_id: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, fully migrated database for this test module."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:30]
    name = f"megatron_t_{run_id}_{module}"
    url = create_database(server_url, name, template=template_db)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="module")
def empty_database_url(server_url: str, run_id: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database with nothing applied (for migration-runner tests)."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:30]
    name = f"megatron_e_{run_id}_{module}"
    url = create_database(server_url, name)
    yield url
    drop_database(server_url, name)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection to the module's database; whatever the test leaves uncommitted is rolled back."""
    with psycopg.connect(database_url) as c:
        yield c
        c.rollback()


@pytest.fixture(scope="session")
def edition(template_db: str) -> str:
    """timescaledb.license of the server under test: 'timescale' (Community/TSL) or 'apache'."""
    return _EDITION["license"]


@pytest.fixture
def tsl(edition: str) -> None:
    """Skip unless the server runs the TimescaleDB Community (TSL) edition."""
    if edition != "timescale":
        pytest.skip(
            f"needs TimescaleDB Community (TSL) edition for native compression, retention and continuous "
            f"aggregate policies; this server's timescaledb.license is '{edition}'"
        )


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.exists():
        pytest.fail(f"the Solana fixtures are missing: expected {FIXTURES} (set MEGATRON_FIXTURES)")
    return FIXTURES
