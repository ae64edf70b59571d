"""Scoring as of any time (issue 11): fill the score grid, run the dbt models tagged ``scoring``, report.

A scoring run is a set of (token, T) pairs under one run id in ``megatron.score_grid``. The candidates are chosen
set-based in SQL (``megatron.fill_score_grid``, migration 050); the scores are SQL too (``models/scoring/``,
``macros/scoring/``), written into the snapshot hypertables with ``insert ... on conflict do nothing``, each row
stamped with T, so re-running a T writes nothing. This module only starts things and counts what happened.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg import sql

from megatron import db
from megatron.errors import MegatronError
from megatron.paths import project_root

__all__ = [
    "PARTS",
    "PartCount",
    "ScoreRun",
    "SnapshotPart",
    "TokenSelection",
    "backfill",
    "parse_interval",
    "parse_time",
    "score",
    "top_tokens",
]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TokenSelection:
    """Which tokens a run scores: an explicit list of mints, or the shard ``index/count`` of all candidates
    (``abs(hashtext(mint)) % count = index``), or both (the listed mints that fall in the shard)."""

    mints: tuple[str, ...] | None = None
    shard: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.mints is not None and len(self.mints) == 0:
            raise MegatronError("The token list is empty: name at least one mint, or leave the list out.")
        if self.shard is not None:
            index, count = self.shard
            if count < 1 or not 0 <= index < count:
                raise MegatronError(f"Shard {index}/{count} does not exist: give i/n with 0 <= i < n.")

    @classmethod
    def of(cls, mints: Sequence[str] = (), shard: str | None = None) -> TokenSelection | None:
        """From command-line values: mints (possibly none) and a shard written ``i/n`` (or None)."""
        parsed = parse_shard(shard) if shard else None
        if not mints and parsed is None:
            return None
        return cls(tuple(mints) if mints else None, parsed)


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise MegatronError(f"'{text}' is not a shard: write it as i/n, for example 0/4.")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise MegatronError(f"Shard {index}/{count} does not exist: give i/n with 0 <= i < n.")
    return index, count


_UNITS = {"s": "seconds", "sec": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "d": "days"}


def parse_interval(text: str) -> timedelta:
    """``30s``, ``5m``, ``1h``, ``1d`` (a positive whole number and a unit)."""
    match = re.fullmatch(r"\s*(\d+)\s*(s|sec|m|min|h|d)\s*", text.lower())
    if not match or int(match.group(1)) == 0:
        raise MegatronError(f"'{text}' is not a step: write a positive whole number and a unit, e.g. 30s, 5m, 1h, 1d.")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_time(text: str) -> datetime:
    """ISO 8601 (``2026-12-01T12:00:00Z``, ``2026-12-01 12:00``; without a zone: UTC) or ``now``."""
    value = text.strip()
    if value.lower() == "now":
        return datetime.now(timezone.utc)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise MegatronError(
            f"'{text}' is not a time: write ISO 8601 such as 2026-12-01T12:00:00Z (no zone means UTC), or now."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class SnapshotPart:
    """A snapshot table a scoring model writes: counted after each run (rows of the run's grid it holds)."""

    name: str
    table: str
    time_column: str
    has_run_id: bool = True


# The parts the scoring models write, in the order they are reported. Other parts (holder, social) add theirs.
PARTS: list[SnapshotPart] = [
    SnapshotPart("technical", "technical_scores", "timestamp"),
    SnapshotPart("holder", "holder_scores", "timestamp"),
    SnapshotPart("risk", "risk_metrics", "timestamp"),
    SnapshotPart("aggregate", "token_scores", "as_of"),
]


@dataclass
class PartCount:
    name: str
    table: str
    written: int = 0
    already_there: int = 0


@dataclass
class ScoreRun:
    """What a run did: its id, how many T values and (token, T) pairs it had, and per part the rows it wrote
    and the rows that were already there (re-running a T writes nothing)."""

    run_id: int
    times: int = 0
    pairs: int = 0
    parts: dict[str, PartCount] = field(default_factory=dict)
    seconds: float = 0.0
    replayed_tokens: int = 0

    def summary_lines(self) -> list[str]:
        lines = [
            f"scoring run {self.run_id}: {self.pairs} (token, T) pairs over {self.times} time(s) "
            f"in {self.seconds:.1f} s"
        ]
        for part in self.parts.values():
            skipped = self.pairs - part.written - part.already_there
            lines.append(
                f"  {part.name} ({part.table}): {part.written} rows written, {part.already_there} already there"
                + (f", {skipped} not scored (gate)" if skipped > 0 else "")
            )
        return lines


def _counts(conn: psycopg.Connection, run_id: int, part: SnapshotPart) -> tuple[int, int]:
    query = sql.SQL(
        "select count(*) filter (where {run_test}), count(*) filter (where not ({run_test})) "
        "from megatron.score_grid as g join public.{table} as t "
        "on t.token_mint = g.token_mint and t.{time} = g.as_of where g.run_id = %(run)s"
    ).format(
        run_test=sql.SQL("t.run_id is not distinct from %(run)s") if part.has_run_id else sql.SQL("false"),
        table=sql.Identifier(part.table),
        time=sql.Identifier(part.time_column),
    )
    row = conn.execute(query, {"run": run_id}).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


# relations the scoring models read that a normal `dbt build` makes; when one is missing the run builds them.
# The run also refreshes marts.latest_token_scores (the newest score per token) from the rows it wrote.
_UPSTREAM = (
    "staging.stg_megatron__score_grid", "staging.stg_megatron__token_scores", "staging.stg_megatron__technical_scores",
    "staging.stg_megatron__holder_scores", "marts.scoring_technical_bands", "marts.latest_token_scores",
)


class _Models:
    """The scoring models run in this process through dbt's programmatic runner (dbtRunner): the project is
    parsed once and the manifest reused for every chunk of a backfill, so a chunk costs its SQL, not a dbt start.
    The run id reaches the models as the session setting megatron.score_run_id (PGOPTIONS; var('score_run_id')
    reads it). The first run on a database also builds the views and seeds the models read."""

    def __init__(self, url: str, build_upstream: bool) -> None:
        from megatron import db as database, dbt as project_dbt

        self.build_upstream = build_upstream
        self.env = project_dbt.environment(url)
        self.env.update(database.dbt_env(url))
        self.manifest: Any = None
        self.root = str(project_root())

    def _invoke(self, args: list[str], run_id: int | None) -> Any:
        from dbt.cli.main import dbtRunner

        saved = dict(os.environ)
        os.environ.update(self.env)
        if run_id is not None:
            base = saved.get("PGOPTIONS", "")
            os.environ["PGOPTIONS"] = " ".join(filter(None, [base, f"-c megatron.score_run_id={run_id}"]))
        try:
            runner = dbtRunner(manifest=self.manifest) if self.manifest is not None else dbtRunner()
            return runner.invoke([*args, "--project-dir", self.root, "--profiles-dir", self.root, "--quiet"])
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def run(self, run_id: int) -> None:
        if self.manifest is None:
            parsed = self._invoke(["parse"], None)
            if not parsed.success:
                raise MegatronError(f"dbt could not parse the project: {parsed.exception or 'see the dbt log'}")
            self.manifest = parsed.result
        if self.build_upstream:
            args = ["build", "--select", "+tag:scoring", "+latest_token_scores",
                    "--resource-type", "model", "--resource-type", "seed"]
        else:
            args = ["run", "--select", "tag:scoring", "latest_token_scores"]
        result = self._invoke(args, run_id)
        if not result.success:
            failures = [
                f"{r.node.name}: {(r.message or '').strip()[:400]}"
                for r in getattr(result.result, "results", []) or []
                if str(r.status) in ("error", "fail")
            ]
            detail = "; ".join(failures) or str(result.exception or "see the dbt log")
            raise MegatronError(f"The scoring models failed in run {run_id}: {detail}")
        self.build_upstream = False


def _fill(
    conn: psycopg.Connection, run_id: int, times: Sequence[datetime], tokens: TokenSelection | None,
    active_within: timedelta,
) -> int:
    mints = list(tokens.mints) if tokens and tokens.mints else None
    shard_index, shard_count = tokens.shard if tokens and tokens.shard else (None, None)
    row = conn.execute(
        "select megatron.fill_score_grid(%s, %s::timestamptz[], %s::text[], %s, %s, %s)",
        (run_id, list(times), mints, shard_index, shard_count, active_within),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _replay_selloffs(conn: psycopg.Connection, run_id: int, done: set[str]) -> int:
    """Rebuild the sell-off events (042) of the run's tokens not replayed yet in this run, from all their trades
    (the state machine is causal: the event open at T depends on trades <= T only)."""
    rows = conn.execute(
        "select distinct token_mint from megatron.score_grid where run_id = %s", (run_id,)
    ).fetchall()
    todo = sorted({r[0] for r in rows} - done)
    if todo:
        conn.execute("select megatron.replay_selloffs(%s::text[], 'infinity'::timestamptz)", (todo,))
        done.update(todo)
    return len(todo)


def _score_times(
    times: Sequence[datetime],
    *,
    tokens: TokenSelection | None,
    url: str | None,
    chunk: int,
    active_within: timedelta,
    progress: Progress | None,
) -> ScoreRun:
    target = url or db.database_url()
    started = time.perf_counter()
    with db.connect(target, autocommit=True) as conn:
        row = conn.execute("select nextval('megatron.score_run_id_seq')").fetchone()
        assert row is not None
        run = ScoreRun(run_id=int(row[0]), times=len(times))
        run.parts = {p.name: PartCount(p.name, p.table) for p in PARTS}
        build_upstream = any(
            conn.execute("select to_regclass(%s) is null", (name,)).fetchone()[0]  # type: ignore[index]
            for name in _UPSTREAM
        )
        replayed: set[str] = set()
        models = _Models(target, build_upstream)
        if progress:
            progress(0, len(times))
        for start in range(0, len(times), chunk):
            batch = times[start:start + chunk]
            try:
                pairs = _fill(conn, run.run_id, batch, tokens, active_within)
                run.pairs += pairs
                if pairs:
                    run.replayed_tokens += _replay_selloffs(conn, run.run_id, replayed)
                    models.run(run.run_id)
                    for part in PARTS:
                        written, already = _counts(conn, run.run_id, part)
                        run.parts[part.name].written += written
                        run.parts[part.name].already_there += already
            finally:
                conn.execute("delete from megatron.score_grid where run_id = %s", (run.run_id,))
            if progress:
                progress(start + len(batch), len(times))
    run.seconds = time.perf_counter() - started
    return run


def score(
    at: datetime,
    *,
    tokens: TokenSelection | None = None,
    url: str | None = None,
    active_within: timedelta = timedelta(hours=24),
) -> ScoreRun:
    """Score every candidate token as of ``at`` (or the selected ones) and write the snapshot tables.

    Candidates: tokens with a bonding-curve pool and a trade in (at - active_within, at]; with an explicit mint
    list, each listed token with a trade at or before ``at``. Re-running the same ``at`` writes nothing new."""
    at = _aware(at)
    return _score_times([at], tokens=tokens, url=url, chunk=1, active_within=active_within, progress=None)


def backfill(
    start: datetime,
    end: datetime,
    every: timedelta,
    *,
    tokens: TokenSelection | None = None,
    url: str | None = None,
    progress: Progress | None = None,
    chunk: int = 24,
    active_within: timedelta = timedelta(hours=24),
) -> ScoreRun:
    """Score every T = start, start + every, ... <= end, ``chunk`` values of T per dbt run (memory stays bounded);
    ``progress(done, total)`` is called after each chunk. Backfilling a range twice writes nothing the second time."""
    start, end = _aware(start), _aware(end)
    if end < start:
        raise MegatronError(f"The backfill ends ({end.isoformat()}) before it starts ({start.isoformat()}).")
    if every <= timedelta(0):
        raise MegatronError("The backfill step must be positive.")
    if chunk < 1:
        raise MegatronError("The chunk size must be at least 1.")
    steps = int((end - start) / every) + 1
    times = [start + i * every for i in range(steps)]
    return _score_times(times, tokens=tokens, url=url, chunk=chunk, active_within=active_within, progress=progress)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def top_tokens(conn: psycopg.Connection, at: datetime | None = None, limit: int = 10) -> list[tuple[object, ...]]:
    """The best-scored tokens of the newest scored T (or of ``at``): mint, T, total and its parts and flags."""
    return conn.execute(
        """
        with chosen as (
            select coalesce(%(at)s::timestamptz, (select max(ts.as_of) from public.token_scores as ts)) as as_of
        )
        select
            ts.token_mint, ts.as_of, ts.total_score, ts.technical_score, ts.holder_score, ts.social_score,
            ts.holder_missing, ts.holder_stale, ts.technical_frozen
        from public.token_scores as ts
        inner join chosen on ts.as_of = chosen.as_of
        order by ts.total_score desc, ts.token_mint
        limit %(limit)s
        """,
        {"at": at, "limit": limit},
    ).fetchall()
