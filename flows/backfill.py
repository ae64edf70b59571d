"""backfill: scores for a time range, fanned out by token range. The parent flow starts one `backfill-shard`
run per shard i/n on the megatron-backfill process work pool (run_deployment) and waits for all; each shard
scores the tokens with abs(hashtext(mint)) % n = i, so the union over shards is the whole range whatever the
number of workers that picked them up (scores are idempotent snapshots)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger, task

from megatron import db
from megatron.orchestrate import dbtbuild, scoring_jobs
from megatron.orchestrate.retry import TASK_RETRY
from megatron.scoring import parse_interval


@task(name="backfill a token range", **TASK_RETRY)
def backfill_range(start: datetime, end: datetime, every: str, shard: str | None, url: str) -> str:
    run = scoring_jobs.backfill_range(start, end, parse_interval(every), url, shard=shard)
    get_run_logger().info(f"backfill {start.isoformat()} .. {end.isoformat()} every {every}, shard {shard}: "
                          + "; ".join(run.summary_lines()))
    return str(run.run_id)


@task(name="build what the scoring models read", **TASK_RETRY)
def prepare(url: str) -> dict[str, int]:
    """Once, before the fan-out: shards building the same upstream views at once would trip over each other."""
    # the same upstream a scoring run builds when it finds it missing (megatron.scoring: +tag:scoring
    # +latest_token_scores), so no shard finds anything missing and builds it at the same time as another
    result = dbtbuild.build("+tag:scoring +latest_token_scores", url, extra_args=[
        "--exclude", "path:models/scoring", "--resource-type", "model", "--resource-type", "seed",
    ])
    dbtbuild.check(result, url)
    get_run_logger().info(result.summary())
    return result.counts()


@flow(name="backfill-shard")
def backfill_shard(start: datetime, end: datetime, every: str = "5m", shard: str | None = None) -> str:
    """One token range (shard i/n) of a backfill; run by `backfill` on the process pool."""
    return backfill_range(start, end, every, shard, db.orchestrator_url())


@flow(name="backfill")
def backfill(start: datetime, end: datetime, every: str = "5m", shards: int = 2,
             timeout_seconds: float = 3600) -> dict[str, Any]:
    """Start ``shards`` backfill-shard runs on the process pool (every: 30s, 5m, 1h ...) and wait for all."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    logger = get_run_logger()
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    prepare(db.orchestrator_url())
    runs = {
        f"{i}/{shards}": run_deployment(
            "backfill-shard/backfill-shard",
            parameters={"start": start, "end": end, "every": every, "shard": f"{i}/{shards}"},
            timeout=0, as_subflow=True,
        ).id
        for i in range(shards)
    }
    logger.info(f"{shards} shards started on the megatron-backfill pool; waiting for the workers")
    states: dict[str, str] = {}
    deadline = time.monotonic() + timeout_seconds
    with get_client(sync_client=True) as client:
        while len(states) < len(runs):
            for shard, run_id in runs.items():
                if shard in states:
                    continue
                state = client.read_flow_run(run_id).state
                if state is not None and state.is_final():
                    states[shard] = state.name
                    logger.info(f"shard {shard}: {state.name}")
            if len(states) < len(runs):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"backfill shards still running after {timeout_seconds:.0f} s: "
                                       f"{sorted(set(runs) - set(states))}")
                time.sleep(2)
    failed = {k: v for k, v in states.items() if v != "Completed"}
    if failed:
        raise RuntimeError(f"backfill shards did not complete: {failed}")
    return {"shards": dict(sorted(states.items()))}
