"""The RPC source against a loopback JSON-RPC server that replays the real fixtures,
with 429s, 5xx and malformed bodies thrown in. No live network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

from megatron.errors import MegatronError
from megatron.events import PUMPFUN_PROGRAM_ID
from megatron.ingest import rpc


class ReplayNode:
    """A tiny Solana JSON-RPC node: signatures newest first, transactions from fixture files."""

    def __init__(self, transactions: dict[str, Any]) -> None:
        # newest first, by slot
        self.transactions = transactions
        self.order = sorted(transactions, key=lambda s: -int(transactions[s].get("slot", 0)))
        self.calls: Counter[str] = Counter()
        self.fail_plan: dict[tuple[str, str], list[str]] = {}  # (method, key) -> queue of failures
        self.visible = len(self.order)  # only the `visible` oldest signatures have "arrived" so far
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def plan(self, method: str, key: str, *failures: str) -> None:
        self.fail_plan[(method, key)] = list(failures)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        node = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                req = json.loads(self.rfile.read(int(self.headers["content-length"])))
                method, params = req["method"], req["params"]
                key = params[0] if params else ""
                with node.lock:
                    node.calls[method] += 1
                    queue = node.fail_plan.get((method, key)) or node.fail_plan.get((method, "*"))
                    failure = queue.pop(0) if queue else None
                if failure == "429":
                    return self._send(429, b'{"error":"rate limited"}', {"retry-after": "0.05"})
                if failure == "503":
                    return self._send(503, b"upstream unavailable")
                if failure == "garbage":
                    return self._send(200, b'{"jsonrpc":"2.0","result":{"slot":')
                if failure == "null":  # not visible on this node yet
                    return self._send(200, json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": None}).encode())
                if failure == "slow":
                    time.sleep(1.0)
                if method == "getSignaturesForAddress":
                    result: Any = node._signatures(params[1])
                elif method == "getTransaction":
                    result = node.transactions.get(key)
                else:
                    return self._send(200, json.dumps({"jsonrpc": "2.0", "id": req["id"], "error": {"code": -32601, "message": "Method not found"}}).encode())
                self._send(200, json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": result}).encode())

        return Handler

    def _signatures(self, opts: dict[str, Any]) -> list[dict[str, Any]]:
        order = self.order[len(self.order) - self.visible:]
        start = order.index(opts["before"]) + 1 if opts.get("before") in order else 0
        end = order.index(opts["until"]) if opts.get("until") in order else len(order)
        chosen = order[start:end][: opts.get("limit", 1000)]
        return [
            {"signature": s, "slot": self.transactions[s]["slot"], "err": self.transactions[s]["meta"].get("err"), "blockTime": self.transactions[s].get("blockTime")}
            for s in chosen
        ]

    def __enter__(self) -> ReplayNode:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def fixture_transactions(fixtures_dir: Path) -> dict[str, Any]:
    txs: dict[str, Any] = {}
    for path in sorted((fixtures_dir / "rpc").glob("*.json")):
        doc = json.loads(path.read_text())
        result = doc.get("result") or doc.get("response", {}).get("result")
        assert result, path
        txs[result["transaction"]["signatures"][0]] = result
    return txs


FAST = rpc.RpcSettings(concurrency=3, requests_per_second=200, backoff_base=0.01, backoff_max=0.1, max_retries=4, page_size=3)


@pytest.fixture
def node(fixtures_dir: Path) -> Iterator[ReplayNode]:
    with ReplayNode(fixture_transactions(fixtures_dir)) as n:
        yield n


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    """In autocommit, as the RPC source's caller must be: it refuses a connection inside an open
    transaction, where its commits would only be savepoints."""
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def count(conn: psycopg.Connection, query: str, *args: object) -> int:
    return int(conn.execute(query, args).fetchone()[0])  # type: ignore[index]


def test_pull_pages_fetches_retries_and_loads_every_fixture(node: ReplayNode, db: psycopg.Connection) -> None:
    sigs = node.order
    node.plan("getTransaction", sigs[0], "429", "429")
    node.plan("getTransaction", sigs[1], "503")
    node.plan("getTransaction", sigs[2], "garbage")
    node.plan("getSignaturesForAddress", PUMPFUN_PROGRAM_ID, "429")

    result = rpc.pull(db, node.url, limit=100, settings=FAST)

    assert result.signatures == len(sigs) == 7
    c = result.counts
    assert c.records_read == 7 and c.records_rejected == 0 and c.records_skipped == 0
    assert c.reconciles()
    assert result.retries == 5
    # 3 pages of getSignaturesForAddress (page size 3: 3 + 3 + 1) + its 429, 7 transactions + 4 failures
    assert node.calls["getSignaturesForAddress"] == 4
    assert node.calls["getTransaction"] == 7 + 4
    assert result.calls == sum(node.calls.values())
    assert count(db, "select count(*) from api_credit_usage") == result.calls, "one api_credit_usage row per call"
    assert count(db, "select count(*) from api_credit_usage where status_code = 429") == 3
    assert count(db, "select count(distinct signature) from transactions") == 7
    newest, oldest = db.execute(
        "select newest_signature, oldest_signature from megatron.rpc_cursors where address = %s", (PUMPFUN_PROGRAM_ID,)
    ).fetchone()
    assert (newest, oldest) == (sigs[0], sigs[-1])


def test_a_second_pull_resumes_from_the_cursor_and_fetches_nothing_old(node: ReplayNode, db: psycopg.Connection) -> None:
    before = count(db, "select count(*) from transactions")
    calls_before = sum(node.calls.values())
    result = rpc.pull(db, node.url, limit=100, settings=FAST)
    assert result.signatures == 0
    assert sum(node.calls.values()) - calls_before == 1, "one getSignaturesForAddress call finds nothing new"
    assert count(db, "select count(*) from transactions") == before


def test_backfill_with_a_small_limit_walks_back_page_by_page(fixtures_dir: Path, server_url: str, run_id: str, template_db: str) -> None:
    from .conftest import create_database, drop_database

    name = f"megatron_t_{run_id}_rpc_backfill"
    url = create_database(server_url, name, template=template_db)
    try:
        with ReplayNode(fixture_transactions(fixtures_dir)) as node, psycopg.connect(url, autocommit=True) as conn:
            first = rpc.pull(conn, node.url, limit=3, settings=FAST)
            assert first.signatures == 3
            second = rpc.pull(conn, node.url, limit=3, backfill=True, settings=FAST)
            third = rpc.pull(conn, node.url, limit=3, backfill=True, settings=FAST)
            assert (second.signatures, third.signatures) == (3, 1)
            assert count(conn, "select count(distinct signature) from transactions") == 7
            oldest = conn.execute("select oldest_signature from megatron.rpc_cursors").fetchone()[0]
            assert oldest == node.order[-1]
    finally:
        drop_database(server_url, name)


def test_a_permanently_malformed_answer_is_rejected_with_its_reason(node: ReplayNode, server_url: str, run_id: str, template_db: str) -> None:
    from .conftest import create_database, drop_database

    name = f"megatron_t_{run_id}_rpc_malformed"
    url = create_database(server_url, name, template=template_db)
    try:
        node.plan("getTransaction", node.order[3], *["garbage"] * 10)
        with psycopg.connect(url, autocommit=True) as conn:
            result = rpc.pull(conn, node.url, limit=100, settings=FAST)
            assert result.counts.records_rejected == 1 and result.counts.records_read == 7
            reason, message = conn.execute("select reason, message from megatron.ingest_rejects").fetchone()
            assert reason == "rpc_error"
            assert node.order[3] in message and "not JSON" in message
            assert count(conn, "select count(distinct signature) from transactions") == 6
    finally:
        drop_database(server_url, name)


def test_an_unreachable_node_stops_with_a_sentence(db: psycopg.Connection) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(MegatronError, match=r"The RPC pull stopped: getSignaturesForAddress: ConnectError"):
        rpc.pull(db, f"http://127.0.0.1:{port}/", limit=5, settings=rpc.RpcSettings(max_retries=1, backoff_base=0.01))


# --- the command as users run it (issue 9) -------------------------------------------------------


LOADER: dict[str, tuple[str, str]] = {}


@pytest.fixture
def fresh_url(
    server_url: str, run_id: str, template_db: str, request: pytest.FixtureRequest, ingest_role: tuple[str, str]
) -> Iterator[str]:
    """A fresh migrated database for one test."""
    from .conftest import create_database, drop_database

    LOADER["role"] = ingest_role
    name = f"megatron_t_{run_id}_{request.node.name[5:30].lower()}"
    url = create_database(server_url, name, template=template_db)
    yield url
    drop_database(server_url, name)


def megatron(args: list[str], url: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The command as users run it, loading as the ingest role."""
    from megatron import db as megatron_db

    env = dict(os.environ, DATABASE_URL=url)
    if "role" in LOADER:
        env["MEGATRON_INGEST_URL"] = megatron_db.with_user(url, *LOADER["role"])
    return subprocess.run([sys.executable, "-m", "megatron.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def ingest_rpc(node: ReplayNode, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return megatron(["ingest", "--rpc", node.url, "--rps", "500", *extra], url)


def test_the_rpc_command_commits_transactions_cursor_credits_and_the_run(node: ReplayNode, fresh_url: str) -> None:
    result = ingest_rpc(node, fresh_url, "--limit", "100")
    assert result.returncode == 0, result.stderr
    assert "events: 11 read = 11 loaded" in result.stdout
    with psycopg.connect(fresh_url) as conn:
        assert count(conn, "select count(distinct signature) from transactions") == 7
        assert conn.execute("select newest_signature from megatron.rpc_cursors").fetchall() == [(node.order[0],)]
        assert count(conn, "select count(*) from api_credit_usage") == sum(node.calls.values())
        assert conn.execute("select status, events_accepted from megatron.ingest_runs").fetchall() == [("succeeded", 11)]


def test_signatures_that_arrive_between_limited_runs_are_all_fetched(node: ReplayNode, fresh_url: str) -> None:
    node.visible = 2
    assert ingest_rpc(node, fresh_url, "--limit", "2").returncode == 0
    node.visible = 7  # five new signatures arrive, more than one run's limit
    runs = 0
    while runs < 8:
        result = ingest_rpc(node, fresh_url, "--limit", "2")
        assert result.returncode == 0, result.stderr
        runs += 1
        if "rpc: 0 signatures" in result.stdout:
            break
    assert ingest_rpc(node, fresh_url, "--limit", "2", "--backfill").returncode == 0
    with psycopg.connect(fresh_url) as conn:
        fetched = {s for (s,) in conn.execute("select distinct signature from transactions")}
    assert fetched == set(node.order), f"{7 - len(fetched)} of 7 signatures were never fetched"


def test_a_transaction_that_failed_transiently_is_retried_by_the_next_run(node: ReplayNode, fresh_url: str) -> None:
    flaky, late = node.order[1], node.order[4]
    node.plan("getTransaction", flaky, *["503"] * 3)
    node.plan("getTransaction", late, "null")
    first = ingest_rpc(node, fresh_url, "--limit", "100", "--rpc-retries", "2")
    assert first.returncode == 0, first.stderr
    with psycopg.connect(fresh_url) as conn:
        waiting = {s: rest for s, *rest in conn.execute("select signature, attempts, reason, last_error from megatron.rpc_retries")}
        assert set(waiting) == {flaky, late}
        assert waiting[flaky][:2] == [1, "rpc_error"] and "HTTP 503" in waiting[flaky][2]
        assert waiting[late][:2] == [1, "not_found"]
        assert count(conn, "select count(distinct signature) from transactions") == 5
    second = ingest_rpc(node, fresh_url, "--limit", "100", "--rpc-retries", "2")
    assert second.returncode == 0, second.stderr
    assert "rpc: 0 signatures, 2 retried from earlier runs" in second.stdout
    with psycopg.connect(fresh_url) as conn:
        assert count(conn, "select count(*) from megatron.rpc_retries") == 0
        assert count(conn, "select count(distinct signature) from transactions") == 7


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_concurrency_below_one_is_refused_with_a_sentence(value: str, database_url: str) -> None:
    result = megatron(["ingest", "--rpc", "http://127.0.0.1:9/", "--concurrency", value], database_url, timeout=60)
    assert result.returncode == 2
    assert "Invalid value for '--concurrency'" in result.stderr and f"{value} is not in the range x>=1" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_read_timeout_says_so_and_the_timeout_is_an_option(node: ReplayNode, fresh_url: str) -> None:
    node.plan("getSignaturesForAddress", PUMPFUN_PROGRAM_ID, "slow", "slow")
    started = time.monotonic()
    result = ingest_rpc(node, fresh_url, "--rpc-timeout", "0.2", "--rpc-retries", "1")
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: The RPC pull stopped: getSignaturesForAddress: the node did not answer within 0.2 s (read timeout; "
        "--rpc-timeout sets the limit). Re-running resumes from the saved cursor."
    )
    with psycopg.connect(fresh_url) as conn:
        assert conn.execute("select status, error like '%%did not answer within 0.2 s%%' from megatron.ingest_runs").fetchall() == [
            ("failed", True)
        ]
