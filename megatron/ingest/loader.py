"""The loader: canonical events in, raw tables out.

Python's half moves bytes: it batches events, drops in-batch duplicates into the rejects,
COPYs each batch (binary) into session-temporary staging tables, and calls
``megatron.ingest_apply()`` — the SQL half, in migrations — which does the set-based upserts.
Every record read ends up counted exactly once: loaded, already there, skipped or rejected
(with its reason and raw payload in ``megatron.ingest_rejects``).
"""

from __future__ import annotations

import dataclasses
import os
import socket
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
from megatron.events import CurveComplete, Event, Migration, SocialObservation, SolUsdPrice, TokenCreate, Trade

DEFAULT_BATCH_SIZE = 25_000
DEADLOCK_RETRIES = 5

# errors caused by the content of some row, not by the database or the connection: the database's
# refusals, and a value that does not fit its binary COPY type (an int8 above 2^63 - 1)
ROW_ERRORS = (psycopg.errors.IntegrityError, psycopg.errors.DataError, OverflowError)

_TEXT, _INT8, _INT4, _NUMERIC, _BOOL = "text", "int8", "int4", "numeric", "bool"

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
    # social observations have their own SQL half, megatron.ingest_apply_social() (migration 070)
    "ingest_social_observations": (
        ("mint", "observed_at", "source", "handle", "twitter_id", "followers_count", "friends_count",
         "tweets_count", "account_created_at", "verified", "score", "influencers_count", "projects_count",
         "venture_capitals_count", "mentions_24h", "smart_mentions_24h", "engagement_24h"),
        (_TEXT, _INT8, _TEXT, _TEXT, _TEXT, _INT8, _INT8, _INT8, _INT8, _BOOL, _NUMERIC, _INT8, _INT8, _INT8,
         _INT8, _INT8, _INT8),
    ),
}
SOCIAL_STAGING = "ingest_social_observations"

# the raw table each kind of event is stored in
TABLE_OF_KIND = {"token_create": "tokens", "trade": "transactions", "curve_complete": "graduation_events",
                 "migration": "graduation_events", "sol_usd_price": "sol_usd_prices",
                 "social_observation": "social_observations"}

_TABLE_OF_KIND = {
    "token_create": "ingest_token_creates",
    "trade": "ingest_trades",
    "curve_complete": "ingest_curve_completes",
    "migration": "ingest_migrations",
    "sol_usd_price": "ingest_prices",
    "social_observation": SOCIAL_STAGING,
}

#: what the loader accepts: events tied to a transaction, and the observations that are not
Loadable = Event | SolUsdPrice | SocialObservation


def _row(event: Loadable) -> tuple[Any, ...]:
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
    if isinstance(event, SocialObservation):
        score = Decimal(repr(event.score)) if event.score is not None else None
        return (
            event.mint, event.observed_at, event.source, event.handle, event.twitter_id, event.followers_count,
            event.friends_count, event.tweets_count, event.account_created_at, event.verified, score,
            event.influencers_count, event.projects_count, event.venture_capitals_count, event.mentions_24h,
            event.smart_mentions_24h, event.engagement_24h,
        )
    raise TypeError(f"not a canonical event: {type(event).__name__}")


# events of these kinds share one table keyed by (signature, event_index)
_KEY_FAMILY = {"trade": "trade", "token_create": "token_create", "curve_complete": "graduation",
               "migration": "graduation"}


def _key(event: Loadable) -> tuple[Any, ...]:
    """An event's identity, as its table keys it: (signature, event_index) within the table its kind is
    stored in, whatever its mint; a price's (time, source). Two kinds in different tables never collide:
    which one a batch kept would depend on how the input was split into batches."""
    if isinstance(event, SolUsdPrice):
        return ("price", event.price_time, event.source)
    if isinstance(event, SocialObservation):
        return ("social", event.mint, event.source, event.observed_at)
    return (_KEY_FAMILY[event.kind], event.signature, event.event_index)


def _what(event: Loadable) -> str:
    if isinstance(event, SolUsdPrice):
        return f"{event.kind} {event.price_time} from {event.source}"
    if isinstance(event, SocialObservation):
        return f"{event.kind} of mint {event.mint} at {event.observed_at} from {event.source}"
    return f"{event.kind} of mint {getattr(event, 'mint', '?')}"


def storable_text(text: str) -> str:
    """``text`` as PostgreSQL text can hold it: NUL as the four characters ``\\x00``, bytes that
    were not UTF-8 (surrogate escapes) as ``\\xNN``."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


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
    raw: bytes | None = None  # the input's bytes, when they are not text PostgreSQL can store

    def row(self, run_id: int) -> tuple[Any, ...]:
        payload, raw = self.payload, self.raw
        if payload is not None and storable_text(payload) != payload:
            raw = raw if raw is not None else payload.encode("utf-8", "surrogateescape")
            payload = storable_text(payload)
        return (run_id, storable_text(self.origin), self.reason, storable_text(self.message), payload, raw)


@dataclass
class _Lane:
    """One connection that applies batches, in order, on its own thread (or inline)."""

    conn: psycopg.Connection
    executor: ThreadPoolExecutor | None
    owns_conn: bool
    batch: list[tuple[Loadable, str]] = field(default_factory=list)
    keys: list[tuple[Any, ...]] = field(default_factory=list)  # the batch's keys, in Loader._keys until it is flushed
    rejects: list[Reject] = field(default_factory=list)
    inflight: Future[None] | None = None

    def wait(self) -> None:
        """Wait for the batch in flight; re-raise its error in the caller's thread."""
        if self.inflight is not None:
            inflight, self.inflight = self.inflight, None
            inflight.result()


def describe_error(exc: BaseException) -> str:
    """One line for ingest_runs.error."""
    text = str(exc).strip().splitlines()
    return (text[0] if text else exc.__class__.__name__)[:2000]


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
        # the keys of every batch being staged (each lane's and the prices'), checked before an event
        # is routed to its lane: one key under two mints (two lanes) still loads once. A lane's keys
        # leave when its batch is handed to the database; later copies are the database's to count.
        self._keys: dict[tuple[Any, ...], Loadable] = {}
        self._price_keys: list[tuple[Any, ...]] = []
        self._closed = False
        # block times (first, last) of every trade handed to a lane so far: a price stored later on
        # ``conn`` can only have been missed by those trades (see _flush_side)
        self._handed: tuple[int, int] | None = None
        self._ended = False
        self.run_id: int = self._start_run(source)
        self._pipeline = pipeline
        if not pipeline:
            self._lanes = [_Lane(conn, None, owns_conn=False)]
        else:
            self._lanes = []
            for n in range(max(1, workers)):
                lane_conn = _open_like(conn)
                with lane_conn.transaction():
                    lane_conn.execute("select megatron.ingest_prepare()")
                    lane_conn.execute("select megatron.ingest_prepare_social()")
                executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"megatron-loader-{n}")
                self._lanes.append(_Lane(lane_conn, executor, owns_conn=True))

    def _start_run(self, source: str) -> int:
        """The run's row, and the advisory lock that says it is alive while this session lasts;
        runs whose loaders went away without finishing are marked abandoned first."""
        with self.conn.transaction():
            self.conn.execute("select megatron.ingest_mark_abandoned()")
            row = self.conn.execute(
                "insert into megatron.ingest_runs (source, client_pid, client_host, backend_pid, heartbeat_at) "
                "values (%s, %s, %s, pg_backend_pid(), now()) returning run_id",
                (source, os.getpid(), socket.gethostname()[:200]),
            ).fetchone()
            assert row is not None
            self.conn.execute("select pg_advisory_lock(megatron.ingest_run_lock_class(), %s)", (row[0],))
            self.conn.execute("select megatron.ingest_prepare()")
            self.conn.execute("select megatron.ingest_prepare_social()")
        return int(row[0])

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

    def add(self, event: Loadable, origin: str = "") -> None:
        """Stage one (already validated) event."""
        key = _key(event)
        first = self._keys.get(key)
        with self._lock:
            self.counts.events_read += 1
            self.counts.by_kind.setdefault(event.kind, [0, 0])[0] += 1
            if first is not None:
                self.counts.events_rejected += 1
        if first is not None:
            if isinstance(event, SolUsdPrice):
                what = f"{key[1]} {key[2]}"
            elif isinstance(event, SocialObservation):
                what = f"the social observation of {key[1]} at {key[3]} from {key[2]}"
            else:
                what = f"event {key[2]} of transaction {key[1]}"
            self._rejects.append(Reject(
                origin, "duplicate_in_batch",
                f"{origin + ': ' if origin else ''}{what} appears twice in the same batch ({_what(first)}, then "
                f"{_what(event)}); the first was kept",
                event.to_json(),
            ))
            return
        self._keys[key] = event  # described only if a duplicate turns up: most events never need it
        if self._pipeline and isinstance(event, SolUsdPrice):
            self._prices.append((event, origin))
            self._price_keys.append(key)
            if len(self._prices) >= self.batch_size:
                self._flush_side()
                self._heartbeat()
            return
        lane = self._lanes[0] if isinstance(event, SolUsdPrice) else self._lane_of(event)
        lane.batch.append((event, origin))
        lane.keys.append(key)
        if len(lane.batch) >= self.batch_size:
            self._flush_side()  # prices first: the lane's trades may need them
            self._flush_lane(lane)
            self._heartbeat()

    def add_all(self, events: Iterable[Loadable], origin: str = "") -> None:
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
            self._flush_lane(lane)
        self._heartbeat()

    def _heartbeat(self) -> None:
        """Save the counts of the batches done so far (and so the run's heartbeat) on ``conn``."""
        if self._pipeline:
            with self.conn.transaction():
                self._save_counts("running")

    def _flush_side(self) -> None:
        """Prices and record-level rejects, on ``conn``, synchronously."""
        if not (self._prices or self._rejects) or not self._pipeline:
            return
        prices, self._prices = self._prices, []
        rejects, self._rejects = self._rejects, []
        self._forget(self._price_keys)
        self._price_keys = []
        # stored trades these prices answer are repriced once at the end (finish): lanes are writing
        # trades concurrently, and repricing them here could deadlock with those writes
        self._flush_batch(self.conn, prices, rejects, reprice=False)  # type: ignore[arg-type]
        # every trade handed to a lane from now on is applied after these prices were committed and
        # sees them: only the trades handed over before can need repricing at the end
        if prices:
            handed = self._handed
            with self.conn.transaction():
                self.conn.execute(
                    "select megatron.ingest_settle_run_prices(%s, %s)",
                    (handed[0] if handed else None, handed[1] if handed else None),
                )

    def _flush_lane(self, lane: _Lane) -> None:
        if not self._pipeline and self._rejects:  # inline: record rejects travel with the batch
            lane.rejects.extend(self._rejects)
            self._rejects = []
        if not lane.batch and not lane.rejects:
            return
        batch, rejects = lane.batch, lane.rejects
        lane.batch, lane.rejects = [], []
        self._forget(lane.keys)
        lane.keys = []
        lane.wait()
        if lane.executor is None:
            self._flush_batch(lane.conn, batch, rejects)
            with lane.conn.transaction():
                self._save_counts("running")
        else:
            times = [event.block_time for event, _origin in batch if isinstance(event, Trade)]
            if times:
                first, last = min(times), max(times)
                if self._handed:
                    first, last = min(first, self._handed[0]), max(last, self._handed[1])
                self._handed = (first, last)
            lane.inflight = lane.executor.submit(self._flush_batch, lane.conn, batch, rejects)

    def _forget(self, keys: list[tuple[Any, ...]]) -> None:
        for key in keys:
            del self._keys[key]

    def _flush_batch(
        self, conn: psycopg.Connection, batch: list[tuple[Loadable, str]], rejects: list[Reject], *,
        reprice: bool = True,
    ) -> None:
        refused: list[Reject] = []
        conflicts: list[Reject] = []
        try:
            accepted = self._apply_retrying(conn, batch, conflicts, reprice=reprice)
        except ROW_ERRORS as exc:
            # A row the database refuses (a CHECK, a length) would sink the whole batch:
            # find it by halving, reject it with the database's own words, load the rest.
            accepted = self._apply_isolating(conn, batch, exc, refused, conflicts, reprice=reprice)
        if rejects or refused or conflicts:
            with conn.transaction():
                self._write_rejects(conn, rejects + refused + conflicts)
        with self._lock:
            self.counts.events_accepted += accepted
            self.counts.events_rejected += len(refused) + len(conflicts)
            self.counts.events_duplicate += len(batch) - accepted - len(refused) - len(conflicts)

    def _apply_retrying(
        self, conn: psycopg.Connection, batch: list[tuple[Loadable, str]], conflicts: list[Reject], *,
        reprice: bool = True,
    ) -> int:
        """One batch in one transaction. Another loader writing the same tokens at the same time can
        make PostgreSQL abort one of two waiting transactions (a deadlock); the batch is then simply
        applied again, since applying is idempotent and order-free."""
        for attempt in range(DEADLOCK_RETRIES):
            try:
                with conn.transaction():
                    accepted, found = self._apply(conn, batch, reprice=reprice)
                conflicts.extend(found)
                return accepted
            except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                if attempt == DEADLOCK_RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _write_rejects(self, conn: psycopg.Connection, rejects: list[Reject]) -> None:
        if rejects:
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into megatron.ingest_rejects (run_id, origin, reason, message, payload, payload_bytes) "
                    "values (%s, %s, %s, %s, %s, %s) on conflict do nothing",
                    [r.row(self.run_id) for r in rejects],
                )

    def _apply(self, conn: psycopg.Connection, batch: list[tuple[Loadable, str]], *,
               reprice: bool = True) -> tuple[int, list[Reject]]:
        """COPY the batch into staging and upsert it; returns the events accepted and the
        ``conflicting_duplicate`` rejects (events whose key is stored with other content)."""
        if not batch:
            return 0, []
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
        result = []
        if any(table != SOCIAL_STAGING for table in rows):
            result += conn.execute(
                "select kind, staged, accepted, expiring from megatron.ingest_apply(%s)", (reprice,)
            ).fetchall()
        if SOCIAL_STAGING in rows:
            result += conn.execute("select kind, staged, accepted, expiring from megatron.ingest_apply_social()").fetchall()
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
        found = conn.execute("select kind, signature, event_index, stored from ingest_conflicts").fetchall()
        conflicts = self._conflicts(batch, found)
        if SOCIAL_STAGING in rows:
            conflicts += self._social_conflicts(batch, conn.execute(
                "select mint, source, observed_at, stored from ingest_social_conflicts"
            ).fetchall())
        return accepted, conflicts

    @staticmethod
    def _conflicts(batch: list[tuple[Loadable, str]], found: list[tuple[Any, ...]]) -> list[Reject]:
        if not found:
            return []
        staged = {_key(event): (event, origin) for event, origin in batch}
        out = []
        for kind, signature, event_index, stored in found:
            event, origin = staged[(_KEY_FAMILY[kind], signature, event_index)]
            out.append(Reject(
                origin, "conflicting_duplicate",
                f"{origin}: this {kind} (event {event_index} of transaction {signature}) is already stored with other "
                f"content; the stored version stays and this one is kept here. Stored: {stored}",
                event.to_json(),
            ))
        return out

    @staticmethod
    def _social_conflicts(batch: list[tuple[Loadable, str]], found: list[tuple[Any, ...]]) -> list[Reject]:
        if not found:
            return []
        staged = {_key(event): (event, origin) for event, origin in batch}
        out = []
        for mint, source, observed_at, stored in found:
            event, origin = staged[("social", mint, source, observed_at)]
            out.append(Reject(
                origin, "conflicting_duplicate",
                f"{origin}: the social observation of {mint} from {source} at {observed_at} is already stored with "
                f"other values; the stored version stays and this one is kept here. Stored: {stored}",
                event.to_json(),
            ))
        return out

    def _apply_isolating(
        self, conn: psycopg.Connection, batch: list[tuple[Loadable, str]], error: Exception,
        rejects: list[Reject], conflicts: list[Reject], *, reprice: bool = True,
    ) -> int:
        if len(batch) == 1:
            event, origin = batch[0]
            diag = error.diag if isinstance(error, psycopg.Error) else None
            what = (diag.message_primary if diag else None) or describe_error(error)
            where = f" (constraint {diag.constraint_name})" if diag and diag.constraint_name else ""
            rejects.append(
                Reject(origin, "database_rejected", f"{origin}: the database refused this {event.kind}: {what}{where}", event.to_json())
            )
            return 0
        half = len(batch) // 2
        accepted = 0
        for part in (batch[:half], batch[half:]):
            try:
                with conn.transaction():
                    n, found = self._apply(conn, part, reprice=reprice)
                accepted += n
                conflicts.extend(found)
            except ROW_ERRORS as exc:
                accepted += self._apply_isolating(conn, part, exc, rejects, conflicts, reprice=reprice)
        return accepted

    def _close_lanes(self, *, raise_errors: bool) -> None:
        if self._closed:
            return
        self._closed = True
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

    def _save_counts(self, status: str, error: str | None = None, conn: psycopg.Connection | None = None) -> None:
        with self._lock:
            c = dataclasses.replace(self.counts)
        (conn or self.conn).execute(
            """
            update megatron.ingest_runs set
                records_read = %s, records_skipped = %s, records_rejected = %s,
                events_read = %s, events_accepted = %s, events_duplicate = %s, events_rejected = %s,
                status = %s, error = %s, heartbeat_at = now(),
                finished_at = case when %s = 'running' then null else now() end
            where run_id = %s
            """,
            (c.records_read, c.records_skipped, c.records_rejected, c.events_read, c.events_accepted,
             c.events_duplicate, c.events_rejected, status, error, status, self.run_id),
        )

    def _end(self, status: str, error: str | None = None) -> None:
        """Record the outcome and let go of the run's lock."""
        with self.conn.transaction():
            self._save_counts(status, error)
            self.conn.execute("select pg_advisory_unlock(megatron.ingest_run_lock_class(), %s)", (self.run_id,))
        self._ended = True

    def finish(self) -> Counts:
        """Flush everything and mark the run succeeded; on any error mark it failed and re-raise."""
        try:
            self.flush()
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
            self._end("succeeded")
        except BaseException as exc:
            self.fail(describe_error(exc))
            raise
        return self.counts

    def fail(self, error: str) -> None:
        """Mark the run failed with ``error``. When the connection is gone, a new one records it;
        when the server is gone too, the run is left to be recognised as abandoned."""
        if self._ended:
            return
        self._close_lanes(raise_errors=False)
        try:
            self.conn.rollback()
            self._end("failed", error)
            return
        except psycopg.Error:
            pass
        try:
            with _open_like(self.conn) as conn, conn.transaction():
                self._save_counts("failed", error, conn)
            self._ended = True
        except psycopg.Error:
            pass  # the server is unreachable: its lock went with the session, so the run reads as abandoned

    def __enter__(self) -> Loader:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.finish()
        else:
            self.fail(describe_error(exc))
