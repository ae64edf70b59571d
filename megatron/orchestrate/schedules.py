"""The one table of deployments and their schedules: `megatron serve` serves exactly these and
`megatron schedules` lists them.

Each row names a flow by its entrypoint in ``flows/`` (the package never imports the flows; `serve` loads
them by path), the deployment's name, when it runs (an interval or a cron line, UTC; none = on demand) and
its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from megatron.policies import fmt_interval

# the process work pool the backfill shards run on (`megatron serve --workers N` starts N process workers)
BACKFILL_POOL = "megatron-backfill"


@dataclass(frozen=True)
class Schedule:
    name: str  # the deployment's name
    entrypoint: str  # flows/<module>.py:<flow function>
    description: str
    every: timedelta | None = None
    cron: str | None = None  # UTC
    parameters: dict[str, Any] = field(default_factory=dict)
    work_pool: str | None = None  # None: served in the `megatron serve` process

    @property
    def when(self) -> str:
        if self.every is not None:
            return f"every {fmt_interval(self.every)}"
        if self.cron is not None:
            return f"cron {self.cron} (UTC)"
        return "on demand"


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("ingest-files", "flows/ingest.py:ingest_files",
             "Load the files dropped into the inbox folder (MEGATRON_INBOX, default .megatron/inbox) as the ingest "
             "role; loaded files move to its loaded/ folder.",
             every=timedelta(minutes=1)),
    Schedule("ingest-rpc", "flows/ingest.py:ingest_rpc",
             "Pull new transactions from the RPC node of MEGATRON_RPC_URL from the stored cursor (skips when unset).",
             every=timedelta(minutes=1)),
    Schedule("refresh-every-minute", "flows/refresh.py:refresh",
             "dbt build +tag:every_minute (candles, activity and what they read); on Community also refresh the "
             "continuous aggregates that lag.",
             every=timedelta(minutes=1), parameters={"tag": "every_minute"}),
    Schedule("refresh-every-5-minutes", "flows/refresh.py:refresh",
             "dbt build +tag:every_5_minutes (latest scores, top tokens, holder distribution).",
             every=timedelta(minutes=5), parameters={"tag": "every_5_minutes"}),
    Schedule("refresh-daily", "flows/refresh.py:refresh",
             "dbt build +tag:daily (wallet performance, smart money).",
             cron="20 0 * * *", parameters={"tag": "daily"}),
    Schedule("score", "flows/score.py:score_due",
             "Score snapshots at the current time for the tokens that are due (milestones, graduation, periodic).",
             every=timedelta(minutes=1)),
    Schedule("holder-queue", "flows/score.py:holder_queue",
             "Work the holder-score queue: take due requests, score those tokens now, report each request.",
             every=timedelta(minutes=1)),
    Schedule("compression-check", "flows/compression_check.py:compression_check",
             "Per registered hypertable: chunks, compressed vs uncompressed bytes, overdue chunks, policy job health; "
             "on Community compress the overdue chunks. Writes audit_log.",
             cron="5 * * * *", parameters={"compress_overdue": True}),
    Schedule("retention-audit", "flows/retention_audit.py:retention_audit",
             "Per registered hypertable: oldest data vs drop_after; Community: the native job's health; Apache: drop "
             "the expired chunks through megatron.apply_retention. Writes audit_log.",
             cron="40 3 * * *", parameters={"dry_run": False}),
    Schedule("backfill", "flows/backfill.py:backfill",
             "Scores for a time range, one shard per token range on the megatron-backfill process pool (on demand).",
             parameters={}),
    Schedule("backfill-shard", "flows/backfill.py:backfill_shard",
             "One token range of a backfill (run by `backfill` on the process pool).",
             work_pool=BACKFILL_POOL),
)


def by_name(name: str) -> Schedule:
    for s in SCHEDULES:
        if s.name == name:
            return s
    raise KeyError(name)
