"""The compression check, the retention audit and the aggregate refresh, over the policy registry.

The figures come from SQL functions (migrations/076_maintenance_status.sql); dropping and compressing go
through the registry's SECURITY DEFINER functions (megatron.apply_retention, megatron.apply_compression), so
the orchestrator chooses a table, never how much data goes. Each audit writes one ``audit_log`` row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from megatron.policies import fmt_interval

APACHE_COMPRESSION = (
    "Compression does not exist on the Apache edition of TimescaleDB: nothing to compress here; "
    "chunks and sizes are reported as they are."
)


def edition(conn: psycopg.Connection) -> str:
    row = conn.execute("select megatron.timescaledb_edition()").fetchone()
    return str(row[0]) if row else "none"


def _rows(conn: psycopg.Connection, query: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, args)
        return [dict(r) for r in cur.fetchall()]


# --- compression -----------------------------------------------------------------------------------------


def compression_status(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return _rows(conn, "select hypertable::text as hypertable, * from megatron.compression_status()")


def compress_overdue(conn: psycopg.Connection, hypertable: str) -> list[str]:
    """Compress the chunks of ``hypertable`` past its compress_after (Community); returns them."""
    rows = conn.execute("select megatron.apply_compression(%s::regclass)", (hypertable,)).fetchall()
    return [str(r[0]) for r in rows]


# --- retention --------------------------------------------------------------------------------------------


def retention_status(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return _rows(conn, "select hypertable::text as hypertable, * from megatron.retention_status()")


def retention_due(conn: psycopg.Connection, hypertable: str) -> list[str]:
    """The chunks retention would drop now (the dry run)."""
    rows = conn.execute("select chunk from megatron.retention_due(%s::regclass)", (hypertable,)).fetchall()
    return [str(r[0]) for r in rows]


def apply_retention(conn: psycopg.Connection, hypertable: str) -> list[str]:
    """Drop the chunks entirely older than the hypertable's drop_after; returns them."""
    rows = conn.execute("select megatron.apply_retention(%s::regclass)", (hypertable,)).fetchall()
    return [str(r[0]) for r in rows]


# --- aggregates -------------------------------------------------------------------------------------------


def aggregate_status(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return _rows(conn, "select * from megatron.aggregate_status()")


def refresh_aggregate(conn: psycopg.Connection, aggregate: str, start_offset: timedelta, end_offset: timedelta) -> None:
    """refresh_continuous_aggregate over the policy's window (Community). Needs an autocommit connection:
    TimescaleDB refuses to refresh inside a transaction block."""
    conn.execute(
        sql.SQL("call refresh_continuous_aggregate({}::regclass, now() - {}::interval, now() - {}::interval)").format(
            sql.Literal(aggregate), sql.Literal(start_offset), sql.Literal(end_offset)
        )
    )


# --- the audit log ---------------------------------------------------------------------------------------


@dataclass
class Audit:
    job: str  # compression_check | retention_audit
    edition: str
    dry_run: bool
    started_at: datetime
    rows: list[dict[str, Any]] = field(default_factory=list)
    actions: dict[str, list[str]] = field(default_factory=dict)  # hypertable -> chunks dropped/compressed/due
    notes: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return "attention" if self.attention else "ok"

    def summary(self) -> str:
        verb = {"compression_check": "compressed", "retention_audit": "dropped"}[self.job]
        if self.dry_run and self.job == "retention_audit":
            verb = "would drop"
        acted = sum(len(v) for v in self.actions.values())
        text = f"{self.job.replace('_', ' ')} on {self.edition}: {len(self.rows)} hypertables checked, {acted} chunks {verb}"
        if self.attention:
            text += "; needs attention: " + "; ".join(self.attention)
        return text + "."


def write_audit(conn: psycopg.Connection, audit: Audit, flow_run_id: str | None = None) -> int:
    details = [
        {**_jsonable(row), "chunks": audit.actions.get(str(row["hypertable"]), [])} for row in audit.rows
    ]
    row = conn.execute(
        """
        insert into audit_log (job, started_at, edition, dry_run, outcome, description, details, flow_run_id)
        values (%s, %s, %s, %s, %s, %s, %s::jsonb, %s)
        returning id
        """,
        (audit.job, audit.started_at, audit.edition, audit.dry_run, audit.outcome, audit.summary(),
         json.dumps(details), flow_run_id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, timedelta):
            out[k] = fmt_interval(v)
        elif isinstance(v, datetime):
            out[k] = v.isoformat()
        elif v is None or isinstance(v, (bool, int, float, str)):
            out[k] = v
        else:
            out[k] = str(v)
    return out


def display_rows(rows: list[dict[str, Any]], actions: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """Rows for a Prefect table artifact: intervals and times as text, the chunks acted on counted."""
    out = []
    for row in rows:
        shown = _jsonable(row)
        if actions is not None:
            shown["chunks_acted_on"] = len(actions.get(str(row["hypertable"]), []))
        out.append(shown)
    return out


def judge_compression(audit: Audit) -> None:
    for row in audit.rows:
        name = row["hypertable"]
        if audit.edition == "timescale":
            left = row["overdue_chunks"] - len(audit.actions.get(name, []))
            if audit.dry_run and row["overdue_chunks"]:
                audit.attention.append(f"{name} has {row['overdue_chunks']} chunks past compress_after uncompressed")
            elif left > 0:
                audit.attention.append(f"{name} still has {left} chunks past compress_after uncompressed")
            if row["job_id"] is None:
                audit.attention.append(f"{name} has no compression job")
            elif row["last_run_status"] not in (None, "Success"):
                audit.attention.append(f"{name}'s compression job {row['job_id']} last ended {row['last_run_status']}")


def judge_retention(audit: Audit) -> None:
    for row in audit.rows:
        name = row["hypertable"]
        if audit.edition == "timescale":
            if row["job_id"] is None:
                audit.attention.append(f"{name} has no retention job")
            elif row["last_run_started_at"] is None:
                audit.attention.append(f"{name}'s retention job {row['job_id']} never ran")
            elif row["last_run_status"] != "Success":
                audit.attention.append(f"{name}'s retention job {row['job_id']} last ended {row['last_run_status']}")
            if row["due_chunks"]:
                audit.attention.append(f"{name} keeps {row['due_chunks']} chunks older than its drop_after")
        elif audit.dry_run and row["due_chunks"]:
            audit.attention.append(f"{name} has {row['due_chunks']} chunks older than its drop_after (dry run)")
