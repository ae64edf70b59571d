"""retention_audit: per registry entry with retention, the oldest data vs drop_after. On Community the native
jobs drop chunks: the audit checks they ran and succeeded. On Apache the flow is the retention: it drops the
chunks entirely older than drop_after through megatron.apply_retention (dry_run, the default, only lists
them). Publishes a table and a markdown artifact and writes one audit_log row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from megatron import db
from megatron.orchestrate import artifacts, locks, maintenance
from megatron.orchestrate.retry import TASK_RETRY


@task(name="read retention status", **TASK_RETRY)
def status(url: str) -> tuple[str, list[dict[str, Any]]]:
    with db.connect(url, autocommit=True) as conn:
        return maintenance.edition(conn), maintenance.retention_status(conn)


@task(name="list chunks due", **TASK_RETRY)
def due(url: str, hypertable: str) -> list[str]:
    with db.connect(url, autocommit=True) as conn:
        return maintenance.retention_due(conn, hypertable)


@task(name="drop expired chunks", **TASK_RETRY)
def drop(url: str, hypertable: str) -> list[str]:
    with db.connect(url) as conn:
        chunks = maintenance.apply_retention(conn, hypertable)
        conn.commit()
    get_run_logger().info(f"{hypertable}: dropped {len(chunks)} chunks")
    return chunks


@task(name="write audit_log", **TASK_RETRY)
def record(url: str, audit: maintenance.Audit, run_id: str | None) -> int:
    with db.connect(url) as conn:
        audit_id = maintenance.write_audit(conn, audit, run_id)
        conn.commit()
    return audit_id


@flow(name="retention-audit")
def retention_audit(dry_run: bool = True) -> dict[str, Any]:
    logger = get_run_logger()
    url = db.orchestrator_url()
    with locks.job_lock(url, "retention_audit") as held:
        if not held:
            logger.warning("another retention audit is in progress: this run does nothing")
            return {"skipped": True}
        started = datetime.now(UTC)
        edition, rows = status(url)
        audit = maintenance.Audit("retention_audit", edition, dry_run or edition == "timescale", started, rows)
        if edition == "timescale":
            note = "Community edition: TimescaleDB jobs apply retention; this audit checks that they ran and succeeded."
            logger.info(note)
            audit.notes.append(note)
        else:
            for row in rows:
                if row["due_chunks"]:
                    name = row["hypertable"]
                    audit.actions[name] = due(url, name) if dry_run else drop(url, name)
            if audit.actions and not dry_run:
                audit.rows = status(url)[1]
            if dry_run:
                audit.notes.append("Dry run: nothing was dropped (run with dry_run=false to drop the chunks listed).")
        maintenance.judge_retention(audit)
        audit_id = record(url, audit, str(flow_run.id) if flow_run.id else None)
        artifacts.publish_audit(audit, audit_id)
        logger.info(audit.summary())
    return {"skipped": False, "audit_id": audit_id, "outcome": audit.outcome, "chunks": audit.actions}
