"""refresh: `dbt build` of one tag (and what it reads), per-node results in Prefect; on TimescaleDB
Community the every-minute run also refreshes the continuous aggregates that lag (on Apache the dbt models
price_candles_1m and sol_usd_candles_1m stand in for them and are part of the build)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from megatron import db
from megatron.orchestrate import artifacts, dbtbuild, locks, maintenance
from megatron.orchestrate.retry import TASK_RETRY


@task(name="dbt build", **TASK_RETRY)
def dbt_build(selection: str, url: str) -> dict[str, int]:
    logger = get_run_logger()
    result = dbtbuild.build(selection, url)
    for n in result.nodes:
        note = f": {n.message.strip().splitlines()[0]}" if n.failed and n.message.strip() else ""
        # failures as errors, models and seeds as lines, passing tests only in the artifact (and at debug)
        log = logger.error if n.failed else logger.debug if n.resource_type in ("test", "unit_test") else logger.info
        log(f"{n.resource_type} {n.name}: {n.status} in {n.seconds:.2f} s{note}")
    artifacts.table(
        f"dbt-build-{selection}",
        [{"node": n.unique_id, "type": n.resource_type, "status": n.status, "seconds": n.seconds,
          "failures": n.failures, "message": n.message[:300]} for n in result.nodes],
        result.summary(),
    )
    dbtbuild.check(result, url)
    logger.info(result.summary())
    return result.counts()


@task(name="refresh lagging aggregates", **TASK_RETRY)
def refresh_aggregates(url: str) -> list[str]:
    logger = get_run_logger()
    with db.connect(url, autocommit=True) as conn:
        if maintenance.edition(conn) != "timescale":
            logger.info("Apache edition: no continuous aggregates; the dbt models price_candles_1m and "
                        "sol_usd_candles_1m stand in for them and were rebuilt by dbt build")
            return []
        refreshed = []
        for agg in maintenance.aggregate_status(conn):
            if agg["native"] and agg["lagging"]:
                maintenance.refresh_aggregate(conn, agg["aggregate"], agg["start_offset"], agg["end_offset"])
                logger.info(f"refreshed {agg['aggregate']} (materialized up to {agg['watermark']})")
                refreshed.append(agg["aggregate"])
        if not refreshed:
            logger.info("every continuous aggregate is current")
        return refreshed


@flow(name="refresh", log_prints=True)
def refresh(tag: str = "every_minute", selection: str | None = None) -> dict[str, Any]:
    """dbt build of ``+tag:TAG`` (or an explicit dbt selection) as the orchestrator role."""
    logger = get_run_logger()
    url = db.orchestrator_url()
    chosen = selection or f"+tag:{tag}"
    with locks.job_lock(url, f"refresh {chosen}") as held:
        if not held:
            logger.warning(f"another run of refresh {chosen} is in progress: this run does nothing")
            return {"skipped": True}
        counts = dbt_build(chosen, url)
        refreshed = refresh_aggregates(url) if tag == "every_minute" and selection is None else []
    return {"skipped": False, "nodes": counts, "aggregates_refreshed": refreshed}
