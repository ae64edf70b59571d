"""compression_check: per registered hypertable, chunks, compressed vs uncompressed bytes and ratio, chunks
past compress_after still uncompressed, the policy job's health; on Community compress the overdue chunks
(megatron.apply_compression); on Apache one line that compression does not exist there. Publishes a table
and a markdown artifact and writes one audit_log row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from megatron import db
from megatron.orchestrate import artifacts, locks, maintenance
from megatron.orchestrate.retry import TASK_RETRY


@task(name="read compression status", **TASK_RETRY)
def status(url: str) -> tuple[str, list[dict[str, Any]]]:
    with db.connect(url, autocommit=True) as conn:
        return maintenance.edition(conn), maintenance.compression_status(conn)


@task(name="compress overdue chunks", **TASK_RETRY)
def compress(url: str, hypertable: str) -> list[str]:
    with db.connect(url) as conn:
        chunks = maintenance.compress_overdue(conn, hypertable)
        conn.commit()
    get_run_logger().info(f"{hypertable}: compressed {len(chunks)} chunks")
    return chunks


@task(name="write audit_log", **TASK_RETRY)
def record(url: str, audit: maintenance.Audit, run_id: str | None) -> int:
    with db.connect(url) as conn:
        audit_id = maintenance.write_audit(conn, audit, run_id)
        conn.commit()
    return audit_id


@flow(name="compression-check")
def compression_check(compress_overdue: bool = True) -> dict[str, Any]:
    logger = get_run_logger()
    url = db.orchestrator_url()
    with locks.job_lock(url, "compression_check") as held:
        if not held:
            logger.warning("another compression check is in progress: this run does nothing")
            return {"skipped": True}
        started = datetime.now(UTC)
        edition, rows = status(url)
        acting = compress_overdue and edition == "timescale"
        audit = maintenance.Audit("compression_check", edition, not acting, started, rows)
        if edition != "timescale":
            logger.info(maintenance.APACHE_COMPRESSION)
            audit.notes.append(maintenance.APACHE_COMPRESSION)
        elif acting:
            for row in rows:
                if row["overdue_chunks"]:
                    audit.actions[row["hypertable"]] = compress(url, row["hypertable"])
            if audit.actions:
                audit.rows = status(url)[1]
        maintenance.judge_compression(audit)
        audit_id = record(url, audit, str(flow_run.id) if flow_run.id else None)
        artifacts.publish_audit(audit, audit_id)
        logger.info(audit.summary())
    return {"skipped": False, "audit_id": audit_id, "outcome": audit.outcome, "compressed": audit.actions}
