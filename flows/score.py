"""score: snapshots at the current time for the tokens that are due (megatron.scoring chooses them: every
bonding-curve token traded in the last day; each minute's run is the periodic cadence), and the holder-score
queue worker (requests queued by milestones and graduation, scored at once)."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task

from megatron import db
from megatron.orchestrate import artifacts, locks, scoring_jobs
from megatron.orchestrate.retry import TASK_RETRY


@task(name="score at T", **TASK_RETRY)
def score_at(at: datetime, url: str, mints: list[str] | None = None) -> str:
    run = scoring_jobs.score_now(at, url, mints=mints)
    get_run_logger().info(f"scored as of {at.isoformat()}: {run}")
    return str(run)


@flow(name="score")
def score_due(at: datetime | None = None) -> dict[str, Any]:
    """Score every due token as of ``at`` (default now)."""
    logger = get_run_logger()
    url = db.orchestrator_url()
    when = at or datetime.now(UTC)
    with locks.job_lock(url, "score") as held:
        if not held:
            logger.warning("another scoring run is in progress: this run does nothing")
            return {"skipped": True}
        result = score_at(when, url)
    return {"skipped": False, "as_of": when.isoformat(), "run": result}


@task(name="take holder-score work", **TASK_RETRY)
def take(url: str, limit: int, worker: str) -> list[scoring_jobs.Work]:
    with db.connect(url) as conn:
        work = scoring_jobs.take_work(conn, limit, worker)
        conn.commit()
    return work


@task(name="report holder-score work", **TASK_RETRY)
def finish(url: str, work: list[scoring_jobs.Work], error: str | None) -> list[str]:
    with db.connect(url) as conn:
        outcomes = [scoring_jobs.finish_work(conn, w.id, error) for w in work]
        conn.commit()
    return outcomes


@flow(name="holder-queue")
def holder_queue(limit: int = 50) -> dict[str, Any]:
    """Take up to ``limit`` due holder-score requests, score their tokens now, report each request."""
    logger = get_run_logger()
    url = db.orchestrator_url()
    worker = f"prefect@{socket.gethostname()}:{os.getpid()}"
    work = take(url, limit, worker)
    if not work:
        logger.info("the holder-score queue has nothing due")
        return {"taken": 0}
    mints = sorted({w.token_mint for w in work})
    at = datetime.now(UTC)
    try:
        score_at(at, url, mints)
        error = None
    except Exception as exc:  # reported on each request (retry with backoff, given up after 5 attempts)
        error = f"{type(exc).__name__}: {exc}"
        logger.error(f"scoring {len(mints)} queued tokens failed: {error}")
    outcomes = finish(url, work, error)
    artifacts.table("holder-queue", [{"request": w.id, "token": w.token_mint, "priority": w.priority,
                                      "reason": w.reason, "outcome": o} for w, o in zip(work, outcomes)],
                    f"{len(work)} holder-score requests for {len(mints)} tokens as of {at.isoformat()}")
    if error:
        raise RuntimeError(f"holder-score work failed and was reported for retry: {error}")
    return {"taken": len(work), "tokens": len(mints), "outcomes": outcomes}
