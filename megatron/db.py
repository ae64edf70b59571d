"""One connection story: ``DATABASE_URL`` when set, else the embedded cluster.

The CLI, dbt's profile, the flows and the tests all resolve the server through
:func:`database_url`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from megatron import cluster
from megatron.errors import MegatronError


def external_url() -> str | None:
    value = os.environ.get("DATABASE_URL", "").strip()
    return value or None


def database_url(*, start: bool = True) -> str:
    """The server to use. Starts the embedded cluster when no DATABASE_URL is set and ``start``."""
    external = external_url()
    if external:
        return external
    if start:
        cluster.start()
    return cluster.url()


def ingest_url() -> str:
    """The server and role loading runs as: ``MEGATRON_INGEST_URL`` when set, else ``DATABASE_URL``,
    else the embedded cluster as its ingest login role."""
    value = os.environ.get("MEGATRON_INGEST_URL", "").strip()
    if value:
        return value
    external = external_url()
    if external:
        return external
    cluster.start()
    return cluster.ingest_url()


def orchestrator_url() -> str:
    """The server and role the Prefect flows run as: ``MEGATRON_ORCHESTRATOR_URL`` when set, else
    ``DATABASE_URL``, else the embedded cluster as the flows' login role (a member of
    megatron_orchestrator)."""
    value = os.environ.get("MEGATRON_ORCHESTRATOR_URL", "").strip()
    if value:
        return value
    external = external_url()
    if external:
        return external
    cluster.start()
    return cluster.orchestrator_url()


ANALYST_ROLE = "megatron_analyst"


def web_url() -> str:
    """The server and role the web pages read as: ``MEGATRON_WEB_URL`` when set; else ``DATABASE_URL`` with
    the session switched to the read-only ``megatron_analyst`` role (its user must be a member); else the
    embedded cluster as its own web login role (a member of megatron_analyst)."""
    value = os.environ.get("MEGATRON_WEB_URL", "").strip()
    if value:
        return value
    external = external_url()
    if external:
        options = str(conninfo_to_dict(external).get("options") or "")
        return make_conninfo(external, options=f"{options} -c role={ANALYST_ROLE}".strip())
    cluster.start()
    return cluster.web_url()


def with_dbname(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


def with_user(url: str, user: str, password: str) -> str:
    return make_conninfo(url, user=user, password=password)


def without_password(url: str) -> tuple[str, str | None]:
    """The connection string without its password, and the password (for PGPASSWORD)."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    return make_conninfo("", **params), None if password is None else str(password)


LOST = (psycopg.OperationalError, psycopg.InterfaceError)


def lost_connection(exc: BaseException, during: str = "the load") -> MegatronError:
    """The sentence for a connection that broke mid-work (the server stopped or was killed, or
    the session was terminated): what happened and what to do."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    reason = lines[0] if lines else exc.__class__.__name__
    return MegatronError(
        f"The connection to the database was lost during {during} ({reason}). Every batch committed before "
        "it is kept; once the database is back (`megatron db status` tells), run the same command again: "
        "it loads only what is missing."
    )


def redact(url: str) -> str:
    """The URL with its password hidden, for logs and messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def describe(url: str) -> str:
    parts = conninfo_to_dict(url)
    return f"{parts.get('user', '?')}@{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '?')}"


@contextmanager
def connect(url: str | None = None, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    target = url or database_url()
    try:
        conn = psycopg.connect(target, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unknown error"
        raise MegatronError(f"Cannot connect to {describe(target)}: {reason}") from None
    try:
        yield conn
    finally:
        conn.close()


def dbt_env(url: str) -> dict[str, str]:
    """Environment variables read by profiles.yml."""
    parts = conninfo_to_dict(url)
    return {
        "MEGATRON_DB_HOST": str(parts.get("host") or "localhost"),
        "MEGATRON_DB_PORT": str(parts.get("port") or 5432),
        "MEGATRON_DB_USER": str(parts.get("user") or ""),
        "MEGATRON_DB_PASSWORD": str(parts.get("password") or ""),
        "MEGATRON_DB_NAME": str(parts.get("dbname") or "megatron"),
    }


def timescaledb_license(conn: psycopg.Connection) -> str:
    row = conn.execute("select current_setting('timescaledb.license', true)").fetchone()
    if row is None or row[0] is None:
        raise MegatronError("TimescaleDB is not loaded on this server (timescaledb.license is not set).")
    return str(row[0])
