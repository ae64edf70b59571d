"""ingest: the watched folder (files dropped into the inbox are loaded once, then moved to inbox/loaded/) and
the RPC source (new signatures from its stored cursor). Both load as the ingest role through the loader;
counts are published as a Prefect table artifact."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from megatron import db
from megatron.events import PUMPFUN_PROGRAM_ID
from megatron.ingest.loader import Counts
from megatron.orchestrate import artifacts, inbox, locks
from megatron.orchestrate.retry import TASK_RETRY


def _publish(name: str, run_id: int, counts: Counts) -> dict[str, Any]:
    figures = {k: v for k, v in asdict(counts).items() if isinstance(v, int)}
    artifacts.table(name, [{"figure": k, "value": v} for k, v in figures.items()],
                    f"ingest run {run_id}: {counts.events_accepted} events accepted, {counts.events_duplicate} "
                    f"already there, {counts.events_rejected} rejected (kept in megatron.ingest_rejects)")
    return {"run_id": run_id, **figures}


@task(name="load files", **TASK_RETRY)
def load_files(files: list[str]) -> dict[str, Any]:
    from megatron.ingest import files as file_ingest

    with db.connect(db.ingest_url(), autocommit=True) as conn:
        run_id, counts = file_ingest.ingest_paths(conn, files)
    get_run_logger().info(f"ingest run {run_id}: {counts.events_accepted} events accepted from {len(files)} files")
    return _publish("ingest-files", run_id, counts)


@flow(name="ingest-files")
def ingest_files(folder: str | None = None) -> dict[str, Any]:
    """Load what waits in the inbox folder (MEGATRON_INBOX, default .megatron/inbox)."""
    logger = get_run_logger()
    where = Path(folder) if folder else inbox.default_inbox()
    with locks.job_lock(db.ingest_url(), f"ingest-files {where.resolve()}") as held:
        if not held:
            logger.warning(f"another run is loading {where}: this run does nothing")
            return {"skipped": True}
        files = inbox.waiting(where)
        if not files:
            logger.info(f"nothing waiting in {where}")
            return {"skipped": False, "files": 0}
        result = load_files([str(f) for f in files])
        inbox.mark_loaded(where, files)
        logger.info(f"{len(files)} files loaded and moved to {where / inbox.LOADED}")
    return {"skipped": False, "files": len(files), **result}


@task(name="pull from the RPC node", **TASK_RETRY)
def pull(rpc_url: str, addresses: list[str], limit: int) -> dict[str, Any]:
    from megatron.ingest import rpc

    with db.connect(db.ingest_url(), autocommit=True) as conn:
        result = rpc.pull(conn, rpc_url, addresses, limit=limit)
    get_run_logger().info(
        f"rpc: {result.signatures} signatures, {result.calls} calls ({result.retries} retried), "
        f"{result.counts.events_accepted} events accepted"
    )
    return {"signatures": result.signatures, **_publish("ingest-rpc", result.run_id, result.counts)}


@flow(name="ingest-rpc")
def ingest_rpc(rpc_url: str | None = None, addresses: list[str] | None = None, limit: int = 1000) -> dict[str, Any]:
    """Pull new transactions of ``addresses`` (default the pump.fun program) from their stored cursors."""
    logger = get_run_logger()
    node = rpc_url or os.environ.get("MEGATRON_RPC_URL", "").strip()
    if not node:
        logger.info("no RPC node configured (MEGATRON_RPC_URL is not set): nothing to pull")
        return {"skipped": True}
    with locks.job_lock(db.ingest_url(), "ingest-rpc") as held:
        if not held:
            logger.warning("another RPC pull is in progress: this run does nothing")
            return {"skipped": True}
        return {"skipped": False, **pull(node, addresses or [PUMPFUN_PROGRAM_ID], limit)}
