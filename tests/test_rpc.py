"""The RPC source against a loopback JSON-RPC server that replays the real fixtures,
with 429s, 5xx and malformed bodies thrown in. No live network."""

from __future__ import annotations

import json
import threading
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
                if method == "getSignaturesForAddress":
                    result: Any = node._signatures(params[1])
                elif method == "getTransaction":
                    result = node.transactions.get(key)
                else:
                    return self._send(200, json.dumps({"jsonrpc": "2.0", "id": req["id"], "error": {"code": -32601, "message": "Method not found"}}).encode())
                self._send(200, json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": result}).encode())

        return Handler

    def _signatures(self, opts: dict[str, Any]) -> list[dict[str, Any]]:
        order = self.order
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
    with psycopg.connect(database_url) as c:
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
        with ReplayNode(fixture_transactions(fixtures_dir)) as node, psycopg.connect(url) as conn:
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
        with psycopg.connect(url) as conn:
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
