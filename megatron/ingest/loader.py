"""The loader: canonical events in, raw tables out.

Python's half moves bytes: it batches events, drops in-batch duplicates into the rejects,
COPYs each batch (binary) into session-temporary staging tables, and calls
``megatron.ingest_apply()`` — the SQL half, in migrations — which does the set-based upserts.
Every record read ends up counted exactly once: loaded, already there, skipped or rejected
(with its reason and raw payload in ``megatron.ingest_rejects``).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from megatron.events import CurveComplete, Event, Migration, SolUsdPrice, TokenCreate, Trade

DEFAULT_BATCH_SIZE = 25_000

# errors caused by the content of some row, not by the database or the connection
ROW_ERRORS = (psycopg.errors.IntegrityError, psycopg.errors.DataError)

_TEXT, _INT8, _INT4, _NUMERIC = "text", "int8", "int4", "numeric"

# staging table -> (columns, COPY types); the column order is the tuple order built below
STAGING: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ingest_token_creates": (
        ("signature", "slot", "block_time", "event_index", "program", "mint", "name", "symbol", "uri",
         "creator", "bonding_curve", "decimals", "quote_mint", "virtual_sol_reserves",
         "virtual_token_reserves", "real_token_reserves", "token_total_supply"),
        (_TEXT, _INT8, _INT8, _INT4, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _INT4, _TEXT,
         _NUMERIC, _NUMERIC, _NUMERIC, _NUMERIC),
    ),
    "ingest_trades": (
        ("signature", "slot", "block_time", "event_index", "program", "mint", "pool", "side", "wallet",
         "sol_amount", "token_amount", "virtual_sol_reserves", "virtual_token_reserves",
         "real_sol_reserves", "real_token_reserves", "fee", "creator_fee", "tx_fee"),
        (_TEXT, _INT8, _INT8, _INT4, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _NUMERIC, _NUMERIC, _NUMERIC,
         _NUMERIC, _NUMERIC, _NUMERIC, _NUMERIC, _NUMERIC, _INT8),
    ),
    "ingest_curve_completes": (
        ("signature", "slot", "block_time", "event_index", "program", "mint", "bonding_curve", "wallet"),
        (_TEXT, _INT8, _INT8, _INT4, _TEXT, _TEXT, _TEXT, _TEXT),
    ),
    "ingest_migrations": (
        ("signature", "slot", "block_time", "event_index", "program", "mint", "pool", "platform",
         "bonding_curve", "quote_mint", "lp_mint", "base_vault", "quote_vault", "sol_amount", "token_amount"),
        (_TEXT, _INT8, _INT8, _INT4, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT,
         _NUMERIC, _NUMERIC),
    ),
    "ingest_prices": (
        ("price_time", "price_usd", "source", "confidence"),
        (_INT8, _NUMERIC, _TEXT, _NUMERIC),
    ),
}

_TABLE_OF_KIND = {
    "token_create": "ingest_token_creates",
    "trade": "ingest_trades",
    "curve_complete": "ingest_curve_completes",
    "migration": "ingest_migrations",
    "sol_usd_price": "ingest_prices",
}


def _row(event: Event | SolUsdPrice) -> tuple[Any, ...]:
    if isinstance(event, Trade):
        return (
            event.signature, event.slot, event.block_time, event.event_index, event.program, event.mint,
            event.pool, event.side, event.user, event.sol_amount, event.token_amount,
            event.virtual_sol_reserves, event.virtual_token_reserves, event.real_sol_reserves,
            event.real_token_reserves, event.fee, event.creator_fee, event.tx_fee,
        )
    if isinstance(event, TokenCreate):
        return (
            event.signature, event.slot, event.block_time, event.event_index, event.program, event.mint,
            event.name, event.symbol, event.uri, event.creator, event.bonding_curve, event.decimals,
            event.quote_mint, event.virtual_sol_reserves, event.virtual_token_reserves,
            event.real_token_reserves, event.token_total_supply,
        )
    if isinstance(event, CurveComplete):
        return (event.signature, event.slot, event.block_time, event.event_index, event.program, event.mint,
                event.bonding_curve, event.user)
    if isinstance(event, Migration):
        return (
            event.signature, event.slot, event.block_time, event.event_index, event.program, event.mint,
            event.pool, event.platform, event.bonding_curve, event.quote_mint, event.lp_mint,
            event.base_vault, event.quote_vault, event.sol_amount, event.token_amount,
        )
    if isinstance(event, SolUsdPrice):
        confidence = Decimal(event.confidence) if event.confidence is not None else None
        return (event.price_time, Decimal(event.price_usd), event.source, confidence)
    raise TypeError(f"not a canonical event: {type(event).__name__}")


def _key(event: Event | SolUsdPrice) -> tuple[Any, ...]:
    if isinstance(event, SolUsdPrice):
        return ("price", event.price_time, event.source)
    return (event.kind, event.signature, event.event_index)


@dataclass
class Counts:
    records_read: int = 0
    records_skipped: int = 0  # failed transactions: not errors, nothing to load
    records_rejected: int = 0
    events_read: int = 0
    events_accepted: int = 0
    events_duplicate: int = 0  # already in the database
    events_rejected: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [read, accepted]

    @property
    def records_decoded(self) -> int:
        return self.records_read - self.records_skipped - self.records_rejected

    def reconciles(self) -> bool:
        return self.events_read == self.events_accepted + self.events_duplicate + self.events_rejected


@dataclass(frozen=True)
class Reject:
    origin: str
    reason: str
    message: str
    payload: str | None


class Loader:
    """Batches canonical events into the database. Use as a context manager, or call
    :meth:`finish`. Each batch commits on its own, so an interrupted load keeps what it did
    and a re-run loads only the rest."""

    def __init__(
        self,
        conn: psycopg.Connection,
        source: str,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_batch: Callable[[Counts], None] | None = None,
        pipeline: bool = True,
    ) -> None:
        self.conn = conn
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.counts = Counts()
        self._batch: list[tuple[Event | SolUsdPrice, str]] = []
        self._keys: set[tuple[Any, ...]] = set()
        self._pending = 0
        self._rejects: list[Reject] = []
        self.copy_seconds = 0.0  # time spent in COPY and in ingest_apply(), for benchmarks
        self.apply_seconds = 0.0
        self._lock = threading.Lock()  # counts are updated by the caller and by the flushing thread
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="megatron-loader") if pipeline else None
        self._inflight: Future[None] | None = None
        with conn.transaction():
            row = conn.execute(
                "insert into megatron.ingest_runs (source) values (%s) returning run_id", (source,)
            ).fetchone()
            assert row is not None
            self.run_id: int = row[0]
            conn.execute("select megatron.ingest_prepare()")

    # -- input --------------------------------------------------------------------------------

    def record_read(self, n: int = 1) -> None:
        with self._lock:
            self.counts.records_read += n

    def record_skipped(self) -> None:
        with self._lock:
            self.counts.records_skipped += 1

    def record_rejected(self, origin: str, reason: str, message: str, payload: str | None) -> None:
        with self._lock:
            self.counts.records_rejected += 1
        self._rejects.append(Reject(origin, reason, message, payload))

    def add(self, event: Event | SolUsdPrice, origin: str = "") -> None:
        """Stage one (already validated) event."""
        key = _key(event)
        duplicate = key in self._keys
        with self._lock:
            self.counts.events_read += 1
            self.counts.by_kind.setdefault(event.kind, [0, 0])[0] += 1
            if duplicate:
                self.counts.events_rejected += 1
        if duplicate:
            what = f"{event.kind} {key[1]} from {key[2]}" if isinstance(event, SolUsdPrice) else (
                f"{event.kind} event {key[2]} of transaction {key[1]}"
            )
            self._rejects.append(
                Reject(origin, "duplicate_in_batch", f"{what} appears twice in the same batch; the first was kept", event.to_json())
            )
            return
        self._keys.add(key)
        self._batch.append((event, origin))
        self._pending += 1
        if self._pending >= self.batch_size:
            self.flush()

    def add_all(self, events: Iterable[Event | SolUsdPrice], origin: str = "") -> None:
        for event in events:
            self.add(event, origin)

    # -- output -------------------------------------------------------------------------------

    def flush(self) -> None:
        """Hand the current batch to the database. With ``pipeline`` (the default) the batch is
        applied on a background thread while the caller goes on producing the next one; at most
        one batch is in flight, so batches still apply in order."""
        if not self._pending and not self._rejects:
            return
        batch, rejects = self._batch, self._rejects
        self._batch, self._rejects, self._keys, self._pending = [], [], set(), 0
        self._wait()
        if self._executor is None:
            self._flush_batch(batch, rejects)
        else:
            self._inflight = self._executor.submit(self._flush_batch, batch, rejects)

    def _wait(self) -> None:
        """Wait for the batch in flight; re-raise its error here, in the caller's thread."""
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            inflight.result()

    def _flush_batch(self, batch: list[tuple[Event | SolUsdPrice, str]], rejects: list[Reject]) -> None:
        conn = self.conn
        try:
            with conn.transaction():
                accepted = self._apply(batch)
        except ROW_ERRORS as exc:
            # A row the database refuses (a CHECK, a length) would sink the whole batch:
            # find it by halving, reject it with the database's own words, load the rest.
            accepted = self._apply_isolating(batch, exc, rejects)
        refused = sum(1 for r in rejects if r.reason == "database_rejected")
        with conn.transaction():
            if rejects:
                with conn.cursor() as cur:
                    cur.executemany(
                        "insert into megatron.ingest_rejects (run_id, origin, reason, message, payload) "
                        "values (%s, %s, %s, %s, %s) on conflict do nothing",
                        [(self.run_id, r.origin, r.reason, r.message, r.payload) for r in rejects],
                    )
            with self._lock:
                self.counts.events_accepted += accepted
                self.counts.events_rejected += refused
                self.counts.events_duplicate += len(batch) - accepted - refused
            self._save_counts("running")
        if self.on_batch:
            self.on_batch(self.counts)

    def _apply(self, batch: list[tuple[Event | SolUsdPrice, str]]) -> int:
        """COPY the batch into staging and upsert it; returns the events accepted."""
        if not batch:
            return 0
        conn = self.conn
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for event, _origin in batch:
            rows.setdefault(_TABLE_OF_KIND[event.kind], []).append(_row(event))
        started = time.perf_counter()
        for table, table_rows in rows.items():
            columns, types = STAGING[table]
            stmt = sql.SQL("copy {} ({}) from stdin (format binary)").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with conn.cursor().copy(stmt) as copy:
                copy.set_types(list(types))
                for r in table_rows:
                    copy.write_row(r)
        copied = time.perf_counter()
        self.copy_seconds += copied - started
        accepted = 0
        result = conn.execute("select kind, staged, accepted from megatron.ingest_apply()").fetchall()
        self.apply_seconds += time.perf_counter() - copied
        with self._lock:
            for kind, _staged, n in result:
                accepted += n
                if kind in self.counts.by_kind:
                    self.counts.by_kind[kind][1] += n
        return accepted

    def _apply_isolating(
        self, batch: list[tuple[Event | SolUsdPrice, str]], error: psycopg.Error, rejects: list[Reject]
    ) -> int:
        if len(batch) == 1:
            event, origin = batch[0]
            diag = error.diag
            what = diag.message_primary or str(error).splitlines()[0]
            where = f" (constraint {diag.constraint_name})" if diag.constraint_name else ""
            rejects.append(
                Reject(origin, "database_rejected", f"{origin}: the database refused this {event.kind}: {what}{where}", event.to_json())
            )
            return 0
        half = len(batch) // 2
        accepted = 0
        for part in (batch[:half], batch[half:]):
            try:
                with self.conn.transaction():
                    accepted += self._apply(part)
            except ROW_ERRORS as exc:
                accepted += self._apply_isolating(part, exc, rejects)
        return accepted

    def _save_counts(self, status: str, error: str | None = None) -> None:
        with self._lock:
            c = dataclasses.replace(self.counts)
        self.conn.execute(
            """
            update megatron.ingest_runs set
                records_read = %s, records_skipped = %s, records_rejected = %s,
                events_read = %s, events_accepted = %s, events_duplicate = %s, events_rejected = %s,
                status = %s, error = %s,
                finished_at = case when %s = 'running' then null else now() end
            where run_id = %s
            """,
            (c.records_read, c.records_skipped, c.records_rejected, c.events_read, c.events_accepted,
             c.events_duplicate, c.events_rejected, status, error, status, self.run_id),
        )

    def finish(self) -> Counts:
        try:
            self.flush()
            self._wait()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
        with self.conn.transaction():
            self._save_counts("done")
        return self.counts

    def fail(self, error: str) -> None:
        try:
            self._wait()
        except Exception:  # noqa: BLE001 - the first error is the one being reported
            pass
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self.conn.rollback()
        with self.conn.transaction():
            self._save_counts("failed", error)

    def __enter__(self) -> Loader:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.finish()
        else:
            self.fail(str(exc)[:2000])
