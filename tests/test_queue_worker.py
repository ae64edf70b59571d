"""The holder-score queue worker (issue 11 item 5, migration 043): take in priority order, never twice,
retry with backoff and last_error, give up visibly, mark success processed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from .test_roles import act_as


@pytest.fixture
def queue(database_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to an empty queue."""
    with psycopg.connect(database_url, autocommit=True) as c:
        c.execute("delete from holder_score_queue")
        yield c
        c.execute("delete from holder_score_queue")


def enqueue(conn: psycopg.Connection, mint: str, priority: int, scheduled: str, milestone: int | None = None) -> str:
    row = conn.execute(
        "insert into holder_score_queue (token_mint, priority, reason, scheduled_at, milestone) "
        "values (%s, %s, 'test', %s::timestamptz, %s) returning id::text",
        (mint, priority, scheduled, milestone),
    ).fetchone()
    assert row is not None
    return str(row[0])


def take(conn: psycopg.Connection, limit: int, worker: str = "w1") -> list[tuple[Any, ...]]:
    return conn.execute(
        "select id::text, token_mint, priority, attempts from megatron.take_holder_score_work(%s, %s)", (limit, worker)
    ).fetchall()


def finish(conn: psycopg.Connection, item: str, error: str | None = None) -> str:
    row = conn.execute("select megatron.finish_holder_score_work(%s, %s)", (item, error)).fetchone()
    assert row is not None
    return str(row[0])


def state(conn: psycopg.Connection, item: str) -> tuple[Any, ...]:
    row = conn.execute(
        "select attempts, last_error, retry_at - now(), processed_at = now(), failed_at is not null, claimed_by "
        "from holder_score_queue where id = %s",
        (item,),
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_the_worker_takes_the_most_urgent_first_then_the_earliest(queue: psycopg.Connection) -> None:
    enqueue(queue, "Low", 5, "2026-01-01 10:00+00", 25)
    enqueue(queue, "UrgentLate", 1, "2026-01-01 10:05+00", 90)
    enqueue(queue, "UrgentEarly", 1, "2026-01-01 10:01+00", 95)
    enqueue(queue, "High", 2, "2026-01-01 09:00+00", 75)
    done = enqueue(queue, "Done", 1, "2026-01-01 08:00+00", 100)
    queue.execute("update holder_score_queue set processed_at = now() where id = %s", (done,))
    waiting = enqueue(queue, "Waiting", 1, "2026-01-01 08:00+00", 10)
    queue.execute("update holder_score_queue set retry_at = now() + interval '5 minutes' where id = %s", (waiting,))
    assert [r[1:3] for r in take(queue, 3)] == [("UrgentEarly", 1), ("UrgentLate", 1), ("High", 2)]
    assert [r[1:3] for r in take(queue, 10)] == [("Low", 5)]
    assert take(queue, 10) == []  # claimed rows are not taken again, processed and waiting ones never


def test_two_concurrent_takers_never_get_the_same_row(queue: psycopg.Connection, database_url: str) -> None:
    items = {enqueue(queue, f"M{i}", 1 + i % 5, "2026-01-01 10:00+00") for i in range(6)}
    with psycopg.connect(database_url) as a, psycopg.connect(database_url) as b:
        got_a = {r[0] for r in take(a, 3, "a")}  # a's transaction still holds its rows
        got_b = {r[0] for r in take(b, 10, "b")}  # skips them instead of waiting
        a.commit()
        b.commit()
    assert len(got_a) == 3 and len(got_b) == 3
    assert got_a.isdisjoint(got_b) and got_a | got_b == items
    assert dict(queue.execute("select claimed_by, count(*) from holder_score_queue group by 1").fetchall()) == {
        "a": 3, "b": 3,
    }


def test_many_concurrent_workers_take_each_row_exactly_once(queue: psycopg.Connection, database_url: str) -> None:
    items = {enqueue(queue, f"C{i}", 1 + i % 5, f"2026-01-01 10:{i % 60:02d}+00") for i in range(120)}
    taken: list[str] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        with psycopg.connect(database_url, autocommit=True) as c:
            while rows := take(c, 2, name):
                with lock:
                    taken.extend(r[0] for r in rows)

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == sorted(items)


def test_a_failure_counts_an_attempt_keeps_the_error_and_backs_off(conn: psycopg.Connection) -> None:
    conn.execute("delete from holder_score_queue")
    item = enqueue(conn, "Flaky", 1, "2026-01-01 10:00+00", 90)
    assert [r[0] for r in take(conn, 1)] == [item]
    assert finish(conn, item, "helius 429") == "retry"
    assert state(conn, item) == (1, "helius 429", timedelta(minutes=1), None, False, None)
    assert take(conn, 1) == []  # not before its retry time
    for attempt, backoff in ((2, 2), (3, 4), (4, 8)):
        conn.execute("update holder_score_queue set retry_at = now() - interval '1 second' where id = %s", (item,))
        assert [r[0::3] for r in take(conn, 1)] == [(item, attempt - 1)]
        assert finish(conn, item, f"error {attempt}") == "retry"
        assert state(conn, item) == (attempt, f"error {attempt}", timedelta(minutes=backoff), None, False, None)
    conn.execute("update holder_score_queue set retry_at = now() - interval '1 second' where id = %s", (item,))
    assert len(take(conn, 1)) == 1
    assert finish(conn, item, "error 5") == "failed"  # the fifth failure gives up, visibly
    attempts, error, _, processed_now, failed, _ = state(conn, item)
    assert (attempts, error, processed_now, failed) == (5, "error 5", True, True)
    assert take(conn, 1) == []


def test_success_marks_the_row_processed(conn: psycopg.Connection) -> None:
    conn.execute("delete from holder_score_queue")
    item = enqueue(conn, "Fine", 3, "2026-01-01 10:00+00", 10)
    take(conn, 1)
    assert finish(conn, item) == "processed"
    assert state(conn, item) == (0, None, None, True, False, None)
    assert finish(conn, item) == "not_pending"
    assert take(conn, 1) == []


def test_a_claim_older_than_the_lease_is_taken_again(conn: psycopg.Connection) -> None:
    conn.execute("delete from holder_score_queue")
    item = enqueue(conn, "Crashed", 2, "2026-01-01 10:00+00")
    take(conn, 1, "dead-worker")
    assert take(conn, 1) == []
    conn.execute("update holder_score_queue set claimed_at = now() - interval '16 minutes' where id = %s", (item,))
    assert [r[0] for r in take(conn, 1, "w2")] == [item]


def test_the_orchestrator_role_works_the_queue(conn: psycopg.Connection) -> None:
    conn.execute("delete from holder_score_queue")
    item = enqueue(conn, "Orch", 1, "2026-01-01 10:00+00", 100)
    act_as(conn, "megatron_orchestrator")
    assert [r[0] for r in take(conn, 5, "orchestrator")] == [item]
    assert finish(conn, item) == "processed"
    for role in ("megatron_analyst", "megatron_ingest"):
        assert conn.execute(
            "select has_function_privilege(%s, 'megatron.take_holder_score_work(integer, text, interval)', 'execute')",
            (role,),
        ).fetchone() == (False,)
