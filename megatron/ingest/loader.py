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
import zlib
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from megatron.errors import MegatronError
from megatron.events import CurveComplete, Event, Migration, SolUsdPrice, TokenCreate, Trade

DEFAULT_BATCH_SIZE = 25_000
DEADLOCK_RETRIES = 5

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
         "real_sol_reserves", "real_token_reserves", "fee", "creator_fee", "tx_fee", "tx_index",
         "curve_sell_supply"),
        (_TEXT, _INT8, _INT8, _INT4, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _NUMERIC, _NUMERIC, _NUMERIC,
         _NUMERIC, _NUMERIC, _NUMERIC, _NUMERIC, _NUMERIC, _INT8, _INT4, _NUMERIC),
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

# the raw table each kind of event is stored in
TABLE_OF_KIND = {"token_create": "tokens", "trade": "transactions", "curve_complete": "graduation_events",
                 "migration": "graduation_events", "sol_usd_price": "sol_usd_prices"}

_TABLE_OF_KIND = {
    "token_create": "ingest_token_creates",
    "trade": "ingest_trades",
    "curve_complete": "ingest_curve_completes",
    "migration": "ingest_migrations",
    "sol_usd_price": "ingest_prices",
}


def _row(event: Event | SolUsdPrice) -> tuple[Any, ...]:
    """The staging row of an event. Nothing about its place in the batch goes in: what is
    stored must not depend on arrival order (the SQL side orders events by their own fields)."""
    if isinstance(event, Trade):
        return (
            event.signature, event.slot, event.block_time, event.event_index, event.program, event.mint,
            event.pool, event.side, event.user, event.sol_amount, event.token_amount,
            event.virtual_sol_reserves, event.virtual_token_reserves, event.real_sol_reserves,
            event.real_token_reserves, event.fee, event.creator_fee, event.tx_fee, event.tx_index,
            event.curve_sell_supply,
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
    # kind -> accepted rows older than their table's drop_after (the next retention run removes them)
    expiring: dict[str, int] = field(default_factory=dict)
    retention: dict[str, str] = field(default_factory=dict)  # table -> its drop_after, for those lines
    repriced: int = 0  # stored trades whose USD values a price of this run corrected at the end

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


@dataclass
class _Lane:
    """One connection that applies batches, in order, on its own thread (or inline)."""

    conn: psycopg.Connection
    executor: ThreadPoolExecutor | None
    owns_conn: bool
    batch: list[tuple[Event | SolUsdPrice, str]] = field(default_factory=list)
    keys: set[tuple[Any, ...]] = field(default_factory=set)
    rejects: list[Reject] = field(default_factory=list)
    inflight: Future[None] | None = None

    def wait(self) -> None:
        """Wait for the batch in flight; re-raise its error in the caller's thread."""
        if self.inflight is not None:
            inflight, self.inflight = self.inflight, None
            inflight.result()


def _open_like(conn: psycopg.Connection) -> psycopg.Connection:
    params = conn.info.get_parameters()
    if conn.info.password:
        params["password"] = conn.info.password
    return psycopg.connect(psycopg.conninfo.make_conninfo(**params))


class Loader:
    """Batches canonical events into the database. Use as a context manager, or call
    :meth:`finish`. Each batch commits on its own, so an interrupted load keeps what it did
    and a re-run loads only the rest.

    ``pipeline`` (the default) applies batches on background connections while the caller goes
    on producing events; ``workers`` such lanes share the load, each event routed by its mint so
    a token's events stay in order on one lane. SOL/USD prices and record-level rejects are
    written on ``conn`` itself, before any lane applies a later batch, so the USD trigger sees
    every price that precedes a trade. Without ``pipeline`` everything runs inline on ``conn``
    (the RPC source does that: it writes its own rows on the same connection between batches).
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        source: str,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        pipeline: bool = True,
        workers: int = 2,
    ) -> None:
        if pipeline and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raise MegatronError(
                "The loader was given a connection inside an open transaction; its lanes would not see the "
                "SOL/USD prices and rejects it commits on that connection. Commit or roll back first."
            )
        self.conn = conn
        self.batch_size = batch_size
        self.counts = Counts()
        self.copy_seconds = 0.0  # time spent in COPY and in ingest_apply(), summed over lanes
        self.apply_seconds = 0.0
        self._lock = threading.Lock()  # counts are updated by the caller and by the lanes
        self._rejects: list[Reject] = []  # record-level rejects, written on conn
        self._prices: list[tuple[SolUsdPrice, str]] = []
        self._price_keys: set[tuple[Any, ...]] = set()
        with conn.transaction():
            row = conn.execute(
                "insert into megatron.ingest_runs (source) values (%s) returning run_id", (source,)
            ).fetchone()
            assert row is not None
            self.run_id: int = row[0]
            conn.execute("select megatron.ingest_prepare()")
        self._pipeline = pipeline
        if not pipeline:
            self._lanes = [_Lane(conn, None, owns_conn=False)]
        else:
            self._lanes = []
            for n in range(max(1, workers)):
                lane_conn = _open_like(conn)
                with lane_conn.transaction():
                    lane_conn.execute("select megatron.ingest_prepare()")
                executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"megatron-loader-{n}")
                self._lanes.append(_Lane(lane_conn, executor, owns_conn=True))

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
        side_price = self._pipeline and isinstance(event, SolUsdPrice)
        lane = self._lanes[0] if isinstance(event, SolUsdPrice) else self._lane_of(event)
        keys = self._price_keys if side_price else lane.keys
        duplicate = key in keys
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
        keys.add(key)
        if side_price:
            assert isinstance(event, SolUsdPrice)
            self._prices.append((event, origin))
            return
        lane.batch.append((event, origin))
        if len(lane.batch) >= self.batch_size:
            self._flush_lane(lane)

    def add_all(self, events: Iterable[Event | SolUsdPrice], origin: str = "") -> None:
        for event in events:
            self.add(event, origin)

    def _lane_of(self, event: Event) -> _Lane:
        if len(self._lanes) == 1:
            return self._lanes[0]
        mint = getattr(event, "mint", "")
        return self._lanes[zlib.crc32(mint.encode()) % len(self._lanes)]

    # -- output -------------------------------------------------------------------------------

    def flush(self) -> None:
        """Hand every staged event to the database (lanes apply in the background)."""
        self._flush_side()
        for lane in self._lanes:
            self._flush_lane(lane, side_done=True)

    def _flush_side(self) -> None:
        """Prices and record-level rejects, on ``conn``, synchronously."""
        if not (self._prices or self._rejects) or not self._pipeline:
            return
        prices, self._prices, self._price_keys = self._prices, [], set()
        rejects, self._rejects = self._rejects, []
        accepted = 0
        with self.conn.transaction():
            # stored trades these prices answer are repriced once at the end (finish): lanes are
            # writing trades concurrently, and repricing them here would race with those writes
            accepted = self._apply(self.conn, prices, reprice=False)  # type: ignore[arg-type]
            self._write_rejects(self.conn, rejects)
        with self._lock:
            self.counts.events_accepted += accepted
            self.counts.events_duplicate += len(prices) - accepted
        with self.conn.transaction():
            self._save_counts("running")

    def _flush_lane(self, lane: _Lane, *, side_done: bool = False) -> None:
        if not side_done:
            self._flush_side()
        if not self._pipeline and self._rejects:  # inline: record rejects travel with the batch
            lane.rejects.extend(self._rejects)
            self._rejects = []
        if not lane.batch and not lane.rejects:
            return
        batch, rejects = lane.batch, lane.rejects
        lane.batch, lane.rejects, lane.keys = [], [], set()
        lane.wait()
        if lane.executor is None:
            self._flush_batch(lane.conn, batch, rejects)
            with lane.conn.transaction():
                self._save_counts("running")
        else:
            lane.inflight = lane.executor.submit(self._flush_batch, lane.conn, batch, rejects)

    def _flush_batch(
        self, conn: psycopg.Connection, batch: list[tuple[Event | SolUsdPrice, str]], rejects: list[Reject]
    ) -> None:
        try:
            accepted = self._apply_retrying(conn, batch)
        except ROW_ERRORS as exc:
            # A row the database refuses (a CHECK, a length) would sink the whole batch:
            # find it by halving, reject it with the database's own words, load the rest.
            accepted = self._apply_isolating(conn, batch, exc, rejects)
        refused = sum(1 for r in rejects if r.reason == "database_rejected")
        if rejects:
            with conn.transaction():
                self._write_rejects(conn, rejects)
        with self._lock:
            self.counts.events_accepted += accepted
            self.counts.events_rejected += refused
            self.counts.events_duplicate += len(batch) - accepted - refused

    def _apply_retrying(self, conn: psycopg.Connection, batch: list[tuple[Event | SolUsdPrice, str]]) -> int:
        """One batch in one transaction. Another loader writing the same tokens at the same time can
        make PostgreSQL abort one of two waiting transactions (a deadlock); the batch is then simply
        applied again, since applying is idempotent and order-free."""
        for attempt in range(DEADLOCK_RETRIES):
            try:
                with conn.transaction():
                    return self._apply(conn, batch)
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                if attempt == DEADLOCK_RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _write_rejects(self, conn: psycopg.Connection, rejects: list[Reject]) -> None:
        if rejects:
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into megatron.ingest_rejects (run_id, origin, reason, message, payload) "
                    "values (%s, %s, %s, %s, %s) on conflict do nothing",
                    [(self.run_id, r.origin, r.reason, r.message, r.payload) for r in rejects],
                )

    def _apply(self, conn: psycopg.Connection, batch: list[tuple[Event | SolUsdPrice, str]], *,
               reprice: bool = True) -> int:
        """COPY the batch into staging and upsert it; returns the events accepted."""
        if not batch:
            return 0
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
        result = conn.execute(
            "select kind, staged, accepted, expiring from megatron.ingest_apply(%s)", (reprice,)
        ).fetchall()
        accepted = 0
        with self._lock:
            self.copy_seconds += copied - started
            self.apply_seconds += time.perf_counter() - copied
            for kind, _staged, n, expiring in result:
                accepted += n
                if kind in self.counts.by_kind:
                    self.counts.by_kind[kind][1] += n
                if expiring:
                    self.counts.expiring[kind] = self.counts.expiring.get(kind, 0) + expiring
        return accepted

    def _apply_isolating(
        self, conn: psycopg.Connection, batch: list[tuple[Event | SolUsdPrice, str]], error: psycopg.Error,
        rejects: list[Reject],
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
                with conn.transaction():
                    accepted += self._apply(conn, part)
            except ROW_ERRORS as exc:
                accepted += self._apply_isolating(conn, part, exc, rejects)
        return accepted

    def _close_lanes(self, *, raise_errors: bool) -> None:
        first: BaseException | None = None
        for lane in self._lanes:
            try:
                lane.wait()
            except BaseException as exc:  # noqa: BLE001 - keep waiting for the others
                first = first or exc
            if lane.executor is not None:
                lane.executor.shutdown(wait=True)
            if lane.owns_conn:
                lane.conn.close()
        if first is not None and raise_errors:
            raise first

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
        finally:
            self._close_lanes(raise_errors=True)
        with self.conn.transaction():
            # lanes may have stored trades before a price of this run was visible to them
            row = self.conn.execute("select megatron.ingest_reprice_run()").fetchone()
            self.counts.repriced = int(row[0]) if row and row[0] is not None else 0
            if self.counts.expiring:
                self.counts.retention = {
                    str(table): str(drop_after)
                    for table, drop_after in self.conn.execute(
                        "select hypertable::text, drop_after::text from megatron.hypertable_policies "
                        "where drop_after is not null"
                    )
                }
            self._save_counts("done")
        return self.counts

    def fail(self, error: str) -> None:
        self._close_lanes(raise_errors=False)
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
