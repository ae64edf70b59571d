"""The score flow's and the backfill flow's calls into megatron.scoring (issue 11), and the holder-score
queue: take due requests (megatron.take_holder_score_work), score those tokens now, report each request
(megatron.finish_holder_score_work)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg



def selection(mints: list[str] | None = None, shard: str | None = None) -> Any:
    """megatron.scoring's token selection: a mint list, a shard ``i/n``, both, or None (every due token)."""
    from megatron.scoring import TokenSelection

    return TokenSelection.of(tuple(mints or ()), shard)


def score_now(at: datetime, url: str, mints: list[str] | None = None, shard: str | None = None) -> Any:
    from megatron import scoring

    return scoring.score(at, tokens=selection(mints, shard), url=url)


def backfill_range(start: datetime, end: datetime, every: timedelta, url: str, shard: str | None = None) -> Any:
    from megatron import scoring

    return scoring.backfill(start, end, every, tokens=selection(None, shard), url=url)


@dataclass(frozen=True)
class Work:
    id: str
    token_mint: str
    priority: int
    reason: str | None


def take_work(conn: psycopg.Connection, limit: int, worker: str) -> list[Work]:
    rows = conn.execute(
        "select id::text, token_mint, priority, reason from megatron.take_holder_score_work(%s, %s)",
        (limit, worker),
    ).fetchall()
    return [Work(str(r[0]), str(r[1]), int(r[2]), r[3]) for r in rows]


def finish_work(conn: psycopg.Connection, work_id: str, error: str | None = None) -> str:
    row = conn.execute("select megatron.finish_holder_score_work(%s::uuid, %s)", (work_id, error)).fetchone()
    return str(row[0]) if row else "unknown"
