"""The incremental sell-off replay (migration 053): the same trades in any arrival order and batching, replayed
between loads as scoring runs do (p_until = infinity), give the events of one full replay; a run resumes from the
token's watermark, a late trade rewinds the token, and the event open at T depends on trades <= T only.

Trades go through the loader (tests/test_selloffs.py's Market); the expected rows come from its Python reference
machine and from megatron.replay_selloffs(..., p_from_scratch => true).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from megatron.events import Trade

from .test_exact_raw import load
from .test_selloffs import T, Market, random_walk, reference

FAR = 10**9  # "infinity" for the reference machine: every open event is closed by its timeout


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def replay(db: psycopg.Connection, markets: list[Market], *, from_scratch: bool = False) -> int:
    row = db.execute(
        "select megatron.replay_selloffs(%s::text[], 'infinity'::timestamptz, %s)",
        ([m.mint for m in markets], from_scratch),
    ).fetchone()
    assert row is not None
    return int(row[0])


def events(db: psycopg.Connection, market: Market) -> list[tuple[Any, ...]]:
    return db.execute(
        "select extract(epoch from detection_time)::bigint - %s, initial_price, lowest_price, drop_percentage, "
        "recovery_price, extract(epoch from recovery_time)::bigint - %s, duration_minutes, closed_by "
        "from selloff_events where token_mint = %s order by detection_time",
        (T, T, market.mint),
    ).fetchall()


def state(db: psycopg.Connection, market: Market) -> tuple[Any, ...]:
    row = db.execute(
        "select last_mode, trades_seen, extract(epoch from replayed_through)::bigint - %s "
        "from megatron.selloff_replay_state where token_mint = %s",
        (T, market.mint),
    ).fetchone()
    assert row is not None
    return tuple(row)


def twin(name: str, seed: int) -> tuple[Market, list[Trade]]:
    """A random walk under a token of its own: the same times and prices for every name."""
    market = random_walk(name, seed, n=240)
    return market, market.trades


def test_arrival_order_and_batching_do_not_change_the_events(db: psycopg.Connection) -> None:
    seed = 11
    in_order, ordered = twin("inc-ordered", seed)
    shuffled_market, shuffled = twin("inc-shuffled", seed)
    random.Random(seed).shuffle(shuffled)
    at_once, everything = twin("inc-at-once", seed)
    expected = reference(ordered, FAR)
    assert len(expected) >= 3, "the walk should have several sell-offs"

    # in time order, 8 batches, a replay after each: every replay after the first resumes
    for start in range(0, len(ordered), 30):
        load(db, ordered[start:start + 30])
        replay(db, [in_order])
        assert state(db, in_order)[:2] == ("full" if start == 0 else "resume", start + len(ordered[start:start + 30]))
    # shuffled, uneven batches: late trades rewind the token
    for part in (shuffled[:70], shuffled[70:75], shuffled[75:200], shuffled[200:]):
        load(db, part)
        replay(db, [shuffled_market])
    # all at once, one replay
    load(db, everything)
    replay(db, [at_once])

    assert events(db, in_order) == expected
    assert events(db, shuffled_market) == expected
    assert events(db, at_once) == expected
    # and a replay from scratch of each writes the same rows again
    replay(db, [in_order, shuffled_market, at_once], from_scratch=True)
    assert events(db, in_order) == events(db, shuffled_market) == events(db, at_once) == expected


def test_a_run_with_nothing_new_reads_nothing_and_keeps_the_rows(db: psycopg.Connection) -> None:
    m, trades = twin("inc-idle", 12)
    load(db, trades)
    replay(db, [m])
    before = db.execute("select id, detection_time from selloff_events where token_mint = %s order by 2",
                        (m.mint,)).fetchall()
    is_open = db.execute("select is_open from megatron.selloff_replay_state where token_mint = %s",
                         (m.mint,)).fetchone()
    assert is_open == (True,), "the walk should end inside a sell-off (its provisional row is kept as it is)"
    assert replay(db, [m]) == 0
    after = db.execute("select id, detection_time from selloff_events where token_mint = %s order by 2",
                       (m.mint,)).fetchall()
    assert after == before
    assert events(db, m) == reference(trades, FAR)


def test_a_late_trade_before_the_watermark_rewinds_the_token(db: psycopg.Connection) -> None:
    m = Market("inc-late")
    m.at(0, "1.00", "buy")
    m.at(600, "0.95")
    late = m.at(650, "0.80")  # arrives after the replay: 20 % under the high, a sell-off at 650
    m.at(900, "0.97", "buy")  # would be 3 % under the high: nothing without the late trade; recovers it with it
    m.at(1200, "0.99", "buy")
    load(db, [t for t in m.trades if t is not late])
    replay(db, [m])
    assert events(db, m) == []
    assert state(db, m) == ("full", 4, 1200)
    m.at(1500, "1.00", "buy")  # a new trade after the watermark alone: resume
    load(db, m.trades[-1:])
    replay(db, [m])
    assert state(db, m) == ("resume", 5, 1500)
    load(db, [late])
    replay(db, [m])
    assert state(db, m) == ("full", 6, 1500)
    assert events(db, m) == reference(m.trades, FAR)
    assert len(events(db, m)) == 1


def test_the_event_open_at_t_depends_on_trades_up_to_t_only(db: psycopg.Connection) -> None:
    """Scoring at T reads selloff_open_at(mint, T) after an incremental replay to infinity: the same event (start,
    start price, minutes) as a replay of the trades with block_time <= T alone."""
    seed = 13
    full, trades = twin("inc-causal-all", seed)
    cut = twin("inc-causal-cut", seed)[0]
    for start in range(0, len(trades), 60):
        load(db, trades[start:start + 60])
        replay(db, [full])
    load(db, cut.trades)
    span = trades[-1].block_time - T
    checked = 0
    for seconds in range(0, span + 3700, 97):
        db.execute("select megatron.replay_selloffs(array[%s], to_timestamp(%s), true)", (cut.mint, T + seconds))
        query = ("select extract(epoch from start_time)::bigint - %s, start_price, duration_minutes "
                 "from megatron.selloff_open_at(%s, to_timestamp(%s))")
        got = db.execute(query, (T, full.mint, T + seconds)).fetchone()
        assert got == db.execute(query, (T, cut.mint, T + seconds)).fetchone(), f"T + {seconds} s"
        checked += got is not None
    assert checked > 10, "some of the times should fall inside a sell-off"
