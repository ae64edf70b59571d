"""``megatron ingest --rpc URL``: pull transactions from a Solana JSON-RPC node.

Pages ``getSignaturesForAddress`` for the pump.fun program (or given addresses, e.g. mints),
fetches each transaction with ``getTransaction`` under bounded concurrency and a request-rate
limit, retries 429/5xx and transport errors with exponential backoff (honouring
``Retry-After``), and hands each transaction to the decoder and the loader. Every HTTP call is
one ``api_credit_usage`` row. The position per address is kept in ``megatron.rpc_cursors``, so
an interrupted or repeated pull resumes: a normal run fetches what is newer than the last run,
``backfill=True`` continues further into the past.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

from megatron import db
from megatron.decode.records import records_from_text
from megatron.errors import MegatronError
from megatron.events import PUMPFUN_PROGRAM_ID
from megatron.ingest.feed import feed_record
from megatron.ingest.loader import DEFAULT_BATCH_SIZE, Counts, Loader

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass
class RpcSettings:
    concurrency: int = 4
    requests_per_second: float = 10.0
    max_retries: int = 5
    max_attempts: int = 10  # runs that try a signature of the retry set before it is left alone
    backoff_base: float = 0.5  # seconds; doubled each retry, with jitter, capped at backoff_max
    backoff_max: float = 30.0
    timeout: float = 30.0
    page_size: int = 1000
    max_transaction_version: int = 0
    commitment: str = "confirmed"
    provider: str = ""  # api_credit_usage.api_provider; default: the URL's host


@dataclass
class CallRecord:
    at: datetime
    endpoint: str
    status_code: int | None
    response_time_ms: int
    error: str | None
    request_type: str
    token_mint: str | None = None


class RpcError(Exception):
    def __init__(
        self, message: str, *, retryable: bool, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after  # seconds, from the node's Retry-After header


@dataclass
class PullResult:
    run_id: int
    counts: Counts
    signatures: int = 0
    retried_signatures: int = 0  # taken from megatron.rpc_retries (failed in an earlier run)
    calls: int = 0
    retries: int = 0
    per_address: dict[str, int] = field(default_factory=dict)


class RateLimiter:
    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval


class RpcClient:
    def __init__(self, url: str, settings: RpcSettings) -> None:
        self.url = url
        self.settings = settings
        self.provider = settings.provider or (urlsplit(url).hostname or "rpc")
        self.calls: list[CallRecord] = []
        self.retries = 0
        self.total_calls = 0
        self._limiter = RateLimiter(settings.requests_per_second)
        self._sem = asyncio.Semaphore(settings.concurrency)
        self._http = httpx.AsyncClient(timeout=settings.timeout)
        self._ids = 0
        self._last_stamp: datetime | None = None

    def _stamp(self) -> datetime:
        """A call time, strictly increasing: api_credit_usage is keyed by (timestamp, provider, endpoint)."""
        now = datetime.now(timezone.utc)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return now

    async def close(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, params: list[Any], *, token_mint: str | None = None) -> Any:
        attempt = 0
        while True:
            try:
                return await self._once(method, params, token_mint)
            except RpcError as exc:
                if not exc.retryable or attempt >= self.settings.max_retries:
                    raise
                attempt += 1
                self.retries += 1
                await asyncio.sleep(self._delay(attempt, exc.retry_after))

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.settings.backoff_max)
        base = self.settings.backoff_base * 2.0 ** (attempt - 1)
        return min(self.settings.backoff_max, base * (0.5 + random.random() / 2))

    async def _once(self, method: str, params: list[Any], token_mint: str | None) -> Any:
        async with self._sem:
            await self._limiter.wait()
            self._ids += 1
            body = {"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params}
            started = time.perf_counter()
            at = self._stamp()
            status: int | None = None
            error: str | None = None
            try:
                response = await self._http.post(self.url, json=body)
                status = response.status_code
                if status in RETRY_STATUS:
                    error = f"HTTP {status}"
                    header = response.headers.get("retry-after", "")
                    retry_after = float(header) if header.replace(".", "", 1).isdigit() else None
                    raise RpcError(f"{method}: HTTP {status}", retryable=True, status=status, retry_after=retry_after)
                if status != 200:
                    error = f"HTTP {status}"
                    raise RpcError(f"{method}: HTTP {status}", retryable=False, status=status)
                try:
                    payload = response.json()
                except (json.JSONDecodeError, UnicodeDecodeError):
                    error = "malformed JSON body"
                    raise RpcError(f"{method}: the node answered with a body that is not JSON", retryable=True, status=status) from None
                if not isinstance(payload, dict):
                    error = "malformed JSON-RPC response"
                    raise RpcError(f"{method}: the node answered with JSON that is not a JSON-RPC response", retryable=True, status=status)
                if payload.get("error"):
                    err = payload["error"]
                    error = f"RPC error {err.get('code')}: {err.get('message')}" if isinstance(err, dict) else str(err)
                    code = err.get("code") if isinstance(err, dict) else None
                    raise RpcError(f"{method}: {error}", retryable=code in (-32005, -32004, 429), status=status)
                return payload.get("result")
            except httpx.TimeoutException as exc:
                error = _timeout_sentence(exc, self.settings.timeout)
                raise RpcError(f"{method}: {error}", retryable=True) from None
            except httpx.HTTPError as exc:
                error = (f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__)[:500]
                raise RpcError(f"{method}: {error}", retryable=True) from None
            finally:
                self.total_calls += 1
                self.calls.append(
                    CallRecord(at, method, status, int((time.perf_counter() - started) * 1000), error, method, token_mint)
                )


def _timeout_sentence(exc: httpx.TimeoutException, timeout: float) -> str:
    what = {
        httpx.ConnectTimeout: "connect timeout",
        httpx.ReadTimeout: "read timeout",
        httpx.WriteTimeout: "write timeout",
        httpx.PoolTimeout: "connection pool timeout",
    }.get(type(exc), "timeout")
    return f"the node did not answer within {timeout:g} s ({what}; --rpc-timeout sets the limit)"


def _save_calls(conn: psycopg.Connection, provider: str, calls: list[CallRecord]) -> None:
    if not calls:
        return
    with conn.cursor().copy(
        "copy api_credit_usage (timestamp, api_provider, endpoint, credits_used, response_time_ms, "
        "status_code, error_message, token_mint, request_type) from stdin"
    ) as copy:
        for c in calls:
            copy.write_row((c.at, provider, c.endpoint, 1, c.response_time_ms, c.status_code, c.error, c.token_mint, c.request_type))
    calls.clear()


@dataclass
class Cursor:
    """Where the RPC source stands on one address (megatron.rpc_cursors), newest first:
    everything from ``newest`` down to ``oldest`` is fetched except the gap (older than
    ``gap_before``, newer than ``gap_until``), which the next runs fetch before anything newer."""

    newest: str | None = None
    oldest: str | None = None
    gap_before: str | None = None
    gap_until: str | None = None


def load_cursor(conn: psycopg.Connection, address: str) -> Cursor:
    with conn.transaction():  # never leave an implicit transaction open: it would swallow every later commit
        row = conn.execute(
            "select newest_signature, oldest_signature, gap_before, gap_until from megatron.rpc_cursors "
            "where address = %s",
            (address,),
        ).fetchone()
    return Cursor(*row) if row else Cursor()


def _save_cursor(conn: psycopg.Connection, address: str, cursor: Cursor) -> None:
    conn.execute(
        """
        insert into megatron.rpc_cursors (address, newest_signature, oldest_signature, gap_before, gap_until)
        values (%s, %s, %s, %s, %s)
        on conflict (address) do update set
            newest_signature = excluded.newest_signature,
            oldest_signature = excluded.oldest_signature,
            gap_before = excluded.gap_before,
            gap_until = excluded.gap_until,
            updated_at = now()
        """,
        (address, cursor.newest, cursor.oldest, cursor.gap_before, cursor.gap_until),
    )


def _waiting_retries(conn: psycopg.Connection, address: str, limit: int, max_attempts: int) -> list[str]:
    with conn.transaction():
        rows = conn.execute(
            "select signature from megatron.rpc_retries where address = %s and attempts < %s "
            "order by first_failed_at, signature limit %s",
            (address, max_attempts, limit),
        ).fetchall()
    return [r[0] for r in rows]


def _save_retries(
    conn: psycopg.Connection, address: str, failed: list[tuple[str, str, str]], fetched: list[str]
) -> None:
    """Failed signatures join (or stay in) the retry set with one more attempt; fetched ones leave it."""
    if failed:
        with conn.cursor() as cur:
            cur.executemany(
                """
                insert into megatron.rpc_retries as r (address, signature, reason, last_error)
                values (%s, %s, %s, %s)
                on conflict (address, signature) do update set
                    attempts = r.attempts + 1,
                    reason = excluded.reason,
                    last_error = excluded.last_error,
                    last_failed_at = now()
                """,
                [(address, sig, reason, error[:2000]) for sig, reason, error in failed],
            )
    if fetched:
        conn.execute(
            "delete from megatron.rpc_retries where address = %s and signature = any(%s)", (address, fetched)
        )


async def _signatures(
    client: RpcClient, address: str, *, until: str | None, before: str | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first, at most ``limit``, stopping at ``until`` (exclusive)."""
    found: list[dict[str, Any]] = []
    cursor = before
    while len(found) < limit:
        opts: dict[str, Any] = {"limit": min(client.settings.page_size, limit - len(found)), "commitment": client.settings.commitment}
        if cursor:
            opts["before"] = cursor
        if until:
            opts["until"] = until
        page = await client.call("getSignaturesForAddress", [address, opts])
        if not isinstance(page, list):
            raise RpcError("getSignaturesForAddress: the result is not a list", retryable=False)
        page = [p for p in page if isinstance(p, dict) and isinstance(p.get("signature"), str)]
        if not page:
            break
        found.extend(page)
        cursor = page[-1]["signature"]
        if len(page) < opts["limit"]:
            break
    return found[:limit]


async def _plan(
    client: RpcClient, address: str, cursor: Cursor, *, limit: int, backfill: bool
) -> tuple[list[dict[str, Any]], Cursor]:
    """The signatures this run fetches (newest first, at most ``limit``) and the cursor after them.

    A backfill continues before ``oldest``. A normal run first works through the gap a
    limited run left, then takes what is newer than ``newest``; when that reaches the limit
    before ``newest``, the rest becomes the gap, so no signature is ever passed over.
    """
    after = dataclasses.replace(cursor)
    if backfill and cursor.oldest:
        sigs = await _signatures(client, address, until=None, before=cursor.oldest, limit=limit)
        if sigs:
            after.oldest = sigs[-1]["signature"]
        return sigs, after
    sigs = []
    budget = limit
    if cursor.gap_before:
        part = await _signatures(client, address, until=cursor.gap_until, before=cursor.gap_before, limit=budget)
        sigs.extend(part)
        if len(part) < budget:
            after.gap_before = after.gap_until = None
        else:
            after.gap_before = part[-1]["signature"]
        budget -= len(part)
    if after.gap_before is None and budget > 0:
        part = await _signatures(client, address, until=cursor.newest, before=None, limit=budget)
        if part:
            if cursor.newest is None:
                after.oldest = part[-1]["signature"]
            elif len(part) == budget:
                after.gap_before, after.gap_until = part[-1]["signature"], cursor.newest
            after.newest = part[0]["signature"]
        sigs = part + sigs
    return sigs, after


@dataclass
class _Fetched:
    """What became of one address's getTransaction calls in this run."""

    fetched: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (signature, reason, error)


async def _fetch_all(
    client: RpcClient, loader: Loader, conn: psycopg.Connection, sigs: list[dict[str, Any]], *, now: float,
    on_progress: Callable[[int, int], None] | None,
) -> _Fetched:
    settings = client.settings
    outcome = _Fetched()

    async def fetch(sig: dict[str, Any]) -> tuple[str, Any, RpcError | None]:
        params = [sig["signature"], {
            "encoding": "jsonParsed",
            "maxSupportedTransactionVersion": settings.max_transaction_version,
            "commitment": settings.commitment,
        }]
        try:
            return sig["signature"], await client.call("getTransaction", params), None
        except RpcError as exc:
            return sig["signature"], None, exc

    # bounded fan-out: at most 4 × concurrency transactions in flight
    window = max(1, settings.concurrency * 4)
    done = 0
    for start in range(0, len(sigs), window):
        chunk = sigs[start:start + window]
        for _ in (s for s in chunk if s.get("err") is not None):  # failed on chain: skipped, not fetched
            loader.record_read()
            loader.record_skipped()
        chunk_ok = [s for s in chunk if s.get("err") is None]
        for signature, tx, err in await asyncio.gather(*(fetch(s) for s in chunk_ok)):
            loader.record_read()
            origin = f"rpc:getTransaction:{signature}"
            if err is not None:
                loader.record_rejected(origin, "rpc_error", f"{origin}: {err}; a later run retries it", None)
                outcome.failed.append((signature, "rpc_error", str(err)))
                continue
            if tx is None:
                message = "the node has no such transaction (pruned or not yet visible); a later run retries it"
                loader.record_rejected(origin, "not_found", f"{origin}: {message}", None)
                outcome.failed.append((signature, "not_found", message))
                continue
            outcome.fetched.append(signature)
            text = json.dumps({"jsonrpc": "2.0", "result": tx}, separators=(",", ":"))
            for record in records_from_text(text, origin):
                feed_record(loader, record, now=now, origin=origin, payload=text)
        done += len(chunk)
        with conn.transaction():
            _save_calls(conn, client.provider, client.calls)
        if on_progress:
            on_progress(done, len(sigs))
    return outcome


async def _pull(
    conn: psycopg.Connection,
    url: str,
    addresses: Sequence[str],
    *,
    limit: int,
    backfill: bool,
    settings: RpcSettings,
    batch_size: int,
    now: float,
    on_progress: Callable[[int, int], None] | None,
) -> PullResult:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise MegatronError(
            "The RPC source was given a connection inside an open transaction; nothing it commits would be kept. "
            "Commit or roll back first."
        )
    client = RpcClient(url, settings)
    # not pipelined: this function also writes api_credit_usage and cursors on the same connection
    loader = Loader(conn, source=f"rpc: {client.provider} {', '.join(addresses)}"[:500], batch_size=batch_size,
                    pipeline=False)
    result = PullResult(run_id=loader.run_id, counts=loader.counts)
    try:
        for address in addresses:
            cursor = load_cursor(conn, address)
            retry = _waiting_retries(conn, address, limit, settings.max_attempts)
            sigs, after = await _plan(client, address, cursor, limit=limit, backfill=backfill)
            listed = {s["signature"] for s in sigs}
            # oldest first: the waiting retries, then the listing (newest first) reversed, by slot
            oldest_first = sorted(reversed(sigs), key=lambda s: s.get("slot") or 0)
            todo = [{"signature": s} for s in retry if s not in listed] + oldest_first
            result.per_address[address] = len(sigs)
            result.signatures += len(sigs)
            result.retried_signatures += len(todo) - len(sigs)
            outcome = await _fetch_all(client, loader, conn, todo, now=now, on_progress=on_progress)
            loader.flush()
            with conn.transaction():
                _save_calls(conn, client.provider, client.calls)
                _save_retries(conn, address, outcome.failed, outcome.fetched)
                if after != cursor:
                    _save_cursor(conn, address, after)
        loader.finish()
    except RpcError as exc:
        with conn.transaction():
            _save_calls(conn, client.provider, client.calls)
        loader.fail(str(exc))
        raise MegatronError(f"The RPC pull stopped: {exc}. Re-running resumes from the saved cursor.") from None
    except BaseException as exc:
        loader.fail(str(exc) or exc.__class__.__name__)
        raise
    finally:
        await client.close()
    result.calls = client.total_calls
    result.retries = client.retries
    return result


def pull(
    conn: psycopg.Connection,
    url: str,
    addresses: Sequence[str] = (PUMPFUN_PROGRAM_ID,),
    *,
    limit: int = 1000,
    backfill: bool = False,
    settings: RpcSettings | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> PullResult:
    """Fetch up to ``limit`` transactions per address and load them."""
    try:
        return asyncio.run(
            _pull(
                conn, url, list(addresses), limit=limit, backfill=backfill, settings=settings or RpcSettings(),
                batch_size=batch_size, now=time.time() if now is None else now, on_progress=on_progress,
            )
        )
    except db.LOST as exc:
        raise db.lost_connection(exc, "the RPC pull") from None
