"""The migration runner: numbered plain-SQL files, applied once each, in order.

- ``migrations/NNN_name.sql``; ``megatron.schema_migrations`` records version, name, the
  sha256 of the file's content, when it was applied and how long it took.
- An applied file whose content changed is refused: migrations are immutable.
- ``pg_advisory_lock`` serializes concurrent runners.
- Each file runs in one transaction, unless its header has ``-- megatron: no-transaction``,
  in which case its statements are sent one by one in autocommit (continuous aggregates
  ``WITH DATA``, ``refresh_continuous_aggregate``, ``create index concurrently``).
- A failing statement rolls its file back and is reported by file and line.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from megatron.db import connect
from megatron.errors import MegatronError
from megatron.paths import migrations_dir, project_root
from megatron.sqlsplit import Statement, split_sql

LOCK_KEY = 7_220_411_905_231  # arbitrary, fixed: "megatron migrate"
NO_TRANSACTION = re.compile(r"^--\s*megatron:\s*no-transaction\b", re.MULTILINE)
FILE_NAME = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")

BOOKKEEPING = """
create schema if not exists megatron;
create table if not exists megatron.schema_migrations (
    version integer primary key,
    name text not null,
    sha256 text not null,
    applied_at timestamptz not null default now(),
    duration_ms numeric(12, 1) not null,
    transactional boolean not null
);
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path
    sha256: str
    transactional: bool

    @property
    def display(self) -> str:
        try:
            return str(self.path.relative_to(project_root()))
        except ValueError:
            return str(self.path)

    def statements(self) -> list[Statement]:
        return split_sql(self.path.read_text())


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    sha256: str
    applied_at: datetime
    duration_ms: float


@dataclass(frozen=True)
class StatusRow:
    migration: Migration | None
    applied: Applied | None

    @property
    def state(self) -> str:
        if self.applied is None:
            return "pending"
        if self.migration is None:
            return "missing file"
        if self.migration.sha256 != self.applied.sha256:
            return "CHANGED"
        return "applied"


def discover(directory: Path | None = None) -> list[Migration]:
    directory = directory or migrations_dir()
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        m = FILE_NAME.match(path.name)
        if not m:
            raise MegatronError(f"{path.name} is not a migration name: expected NNN_lower_snake_name.sql.")
        version = int(m.group(1))
        if version in found:
            raise MegatronError(
                f"Two migrations share version {version}: {found[version].path.name} and {path.name}."
            )
        content = path.read_bytes()
        found[version] = Migration(
            version=version,
            name=m.group(2),
            path=path,
            sha256=hashlib.sha256(content).hexdigest(),
            transactional=not NO_TRANSACTION.search(content.decode()),
        )
    return [found[v] for v in sorted(found)]


def _ensure_bookkeeping(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY + 1,))
        for stmt in split_sql(BOOKKEEPING):
            conn.execute(stmt.text)


def applied_migrations(conn: psycopg.Connection) -> dict[int, Applied]:
    exists = conn.execute("select to_regclass('megatron.schema_migrations')").fetchone()
    if not exists or exists[0] is None:
        return {}
    rows = conn.execute(
        "select version, name, sha256, applied_at, duration_ms from megatron.schema_migrations order by version"
    ).fetchall()
    return {r[0]: Applied(r[0], r[1], r[2], r[3], float(r[4])) for r in rows}


def status(conn: psycopg.Connection, directory: Path | None = None) -> list[StatusRow]:
    files = {m.version: m for m in discover(directory)}
    applied = applied_migrations(conn)
    return [StatusRow(files.get(v), applied.get(v)) for v in sorted(set(files) | set(applied))]


def _check_unchanged(files: list[Migration], applied: dict[int, Applied]) -> None:
    for m in files:
        a = applied.get(m.version)
        if a and a.sha256 != m.sha256:
            raise MegatronError(
                f"{m.display} was changed after it was applied (recorded sha256 {a.sha256[:12]}…, "
                f"file now {m.sha256[:12]}…). Applied migrations are immutable: undo the edit and "
                "put the change in a new migration."
            )


def pending(conn: psycopg.Connection, directory: Path | None = None) -> list[Migration]:
    files = discover(directory)
    applied = applied_migrations(conn)
    _check_unchanged(files, applied)
    return [m for m in files if m.version not in applied]


def _failure(m: Migration, stmt: Statement, exc: psycopg.Error) -> MegatronError:
    line = stmt.line
    diag = exc.diag
    pos = diag.statement_position
    if pos:
        line += stmt.text[: int(pos) - 1].count("\n")
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    hint = f" ({diag.message_hint})" if diag.message_hint else ""
    rolled = "rolled back" if m.transactional else "statements before it stay applied (no-transaction file)"
    return MegatronError(f"{m.display} failed at line {line}: {message}{hint}; {rolled}.")


def _apply_one(conn: psycopg.Connection, m: Migration) -> float:
    statements = m.statements()
    started = time.perf_counter()
    if m.transactional:
        try:
            with conn.transaction():
                for stmt in statements:
                    current = stmt
                    conn.execute(stmt.text)
                duration = (time.perf_counter() - started) * 1000
                _record(conn, m, duration)
        except psycopg.Error as exc:
            raise _failure(m, current, exc) from None
        return duration
    conn.autocommit = True
    try:
        for stmt in statements:
            current = stmt
            conn.execute(stmt.text)
    except psycopg.Error as exc:
        raise _failure(m, current, exc) from None
    finally:
        conn.autocommit = False
    duration = (time.perf_counter() - started) * 1000
    with conn.transaction():
        _record(conn, m, duration)
    return duration


def _record(conn: psycopg.Connection, m: Migration, duration_ms: float) -> None:
    conn.execute(
        "insert into megatron.schema_migrations (version, name, sha256, duration_ms, transactional) "
        "values (%s, %s, %s, %s, %s)",
        (m.version, m.name, m.sha256, round(duration_ms, 1), m.transactional),
    )


def migrate(
    url: str,
    *,
    directory: Path | None = None,
    dry_run: bool = False,
    on_progress: Callable[[Migration, float | None], None] | None = None,
) -> list[Migration]:
    """Apply pending migrations; return those applied (or that would be, with ``dry_run``)."""
    with connect(url, autocommit=True) as conn:
        conn.execute("set client_min_messages = warning")
        # Raw objects live in public, bookkeeping in megatron, whatever the role's own search_path
        # says (a role named "megatron" would otherwise put unqualified objects in schema megatron).
        conn.execute("set search_path = public, megatron")
        conn.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.autocommit = False
            if dry_run:
                todo = pending(conn, directory)
                conn.rollback()
                return todo
            _ensure_bookkeeping(conn)
            todo = pending(conn, directory)
            conn.commit()
            for m in todo:
                if on_progress:
                    on_progress(m, None)
                duration = _apply_one(conn, m)
                if on_progress:
                    on_progress(m, duration)
            return todo
        finally:
            conn.rollback()
            conn.autocommit = True
            conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
