"""backfill: scores for a time range, fanned out by token range. The parent flow starts one `backfill-shard`
run per shard i/n on the megatron-backfill process work pool (run_deployment) and waits for all; each shard
scores the tokens with abs(hashtext(mint)) % n = i, so the union over shards is the whole range whatever the
number of workers that picked them up (scores are idempotent snapshots)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, task

from megatron import db
from megatron.orchestrate import scoring_jobs
from megatron.orchestrate.retry import TASK_RETRY


@task(name="backfill a token range", **TASK_RETRY)
def backfill_range(start: datetime, end: datetime, every: timedelta, shard: str | None, url: str) -> str:
    run = scoring_jobs.backfill_range(start, end, every, url, shard=shard)
    get_run_logger().info(f"backfill {start.isoformat()} .. {end.isoformat()} every {every}, shard {shard}: {run}")
    return str(run)


@flow(name="backfill-shard")
def backfill_shard(start: datetime, end: datetime, every: timedelta, shard: str | None = None) -> str:
    """One token range (shard i/n) of a backfill; run by `backfill` on the process pool."""
    return backfill_range(start, end, every, shard, db.orchestrator_url())


@flow(name="backfill")
def backfill(start: datetime, end: datetime, every: timedelta = timedelta(minutes=5), shards: int = 2,
             timeout_seconds: float = 3600) -> dict[str, Any]:
    """Start ``shards`` backfill-shard runs on the process pool and wait until all finished."""
    from prefect.deployments import run_deployment
    from prefect.flow_runs import wait_for_flow_run

    logger = get_run_logger()
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    runs = [
        run_deployment(
            "backfill-shard/backfill-shard",
            parameters={"start": start, "end": end, "every": every, "shard": f"{i}/{shards}"},
            timeout=0, as_subflow=True,
        )
        for i in range(shards)
    ]
    logger.info(f"{shards} shards started on the megatron-backfill pool")
    states = {}
    for i, fr in enumerate(runs):
        done = wait_for_flow_run(fr.id, timeout=int(timeout_seconds), log_states=True)
        states[f"{i}/{shards}"] = done.state.name if done.state else "unknown"
    failed = {k: v for k, v in states.items() if v != "Completed"}
    if failed:
        raise RuntimeError(f"backfill shards did not complete: {failed}")
    return {"shards": states}
