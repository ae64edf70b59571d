"""Sell-off events as a state machine over trades (issue 11 item 4, spec §3.5, migration 042).

Trades go through the loader; each trade is one token for `price` SOL (token_amount = 10**6 raw
units at 6 decimals), so price_per_token is exactly the price written here. The state machine is
also written out in Python (`reference`) and the property test compares the two.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
import pytest

from megatron.events import Trade

from .test_exact_raw import key, load, sig

T = 1_790_000_000  # 2026-09-21, well before now()


class Market:
    """One token's trades at chosen prices (SOL per token) and times (seconds after T)."""

    def __init__(self, name: str) -> None:
        self.name, self.mint, self.pool, self.n = name, key(f"{name}-mint"), key(f"{name}-curve"), 0
        self.trades: list[Trade] = []

    def at(self, seconds: int, price: str, side: str = "sell") -> Trade:
        self.n += 1
        trade = Trade(
            signature=sig(f"{self.name}-t{self.n}"), slot=1000 + seconds, block_time=T + seconds, event_index=0,
            program="pumpfun", mint=self.mint, pool=self.pool, side=side, user=key(f"{self.name}-w{self.n % 3}"),  # type: ignore[arg-type]
            sol_amount=int(Decimal(price) * 10**9), token_amount=10**6,
        )
        self.trades.append(trade)
        return trade


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


Row = tuple[Any, ...]


def replay(db: psycopg.Connection, market: Market, until: int) -> int:
    row = db.execute("select megatron.replay_selloffs(array[%s], to_timestamp(%s))", (market.mint, T + until)).fetchone()
    assert row is not None
    return int(row[0])


def events(db: psycopg.Connection, market: Market) -> list[Row]:
    """(start s, start price, lowest, drop %, recovery price, end s, duration, closed_by) per event."""
    return db.execute(
        "select extract(epoch from detection_time)::bigint - %s, initial_price, lowest_price, drop_percentage, "
        "recovery_price, extract(epoch from recovery_time)::bigint - %s, duration_minutes, closed_by "
        "from selloff_events where token_mint = %s order by detection_time",
        (T, T, market.mint),
    ).fetchall()


def open_at(db: psycopg.Connection, market: Market, seconds: int) -> Row | None:
    return db.execute(
        "select extract(epoch from start_time)::bigint - %s, start_price, duration_minutes "
        "from megatron.selloff_open_at(%s, to_timestamp(%s))",
        (T, market.mint, T + seconds),
    ).fetchone()


D = Decimal


def test_an_event_opens_at_the_first_trade_more_than_10_percent_under_the_15_minute_high(db: psycopg.Connection) -> None:
    m = Market("opens")
    m.at(-16 * 60, "1.50", "buy")  # outside every window below
    m.at(0, "1.00", "buy")
    m.at(60, "1.20", "buy")  # the 15-minute high
    m.at(180, "1.08")  # exactly 10 % under: not more
    m.at(240, "1.07")  # 10.83 % under: opens
    load(db, m.trades)
    assert replay(db, m, 600) == 1
    assert events(db, m) == [(240, D("1.20"), D("1.07"), D("10.8333"), None, None, None, None)]


def test_an_event_closes_at_the_first_trade_above_90_percent_of_its_start_price(db: psycopg.Connection) -> None:
    m = Market("recovers")
    m.at(0, "1.20", "buy")
    m.at(240, "1.07")  # opens, start price 1.20
    m.at(300, "0.90")  # lowest, drop 25 %
    m.at(600, "1.08", "buy")  # exactly 90 %: still open
    m.at(900, "1.09", "buy")  # closes
    m.at(960, "1.00")  # 8.3 % under the window high 1.09: nothing
    load(db, m.trades)
    assert replay(db, m, 7200) == 1
    assert events(db, m) == [(240, D("1.20"), D("0.90"), D("25.0000"), D("1.09"), 900, 11, "recovery")]
    # recovery_percentage: from the lowest price to the recovery price
    assert db.execute(
        "select recovery_percentage from selloff_events where token_mint = %s", (m.mint,)
    ).fetchone() == (D("21.1111"),)


def test_an_event_closes_60_minutes_after_its_start_and_a_later_drop_opens_a_new_one(db: psycopg.Connection) -> None:
    m = Market("times-out")
    m.at(0, "1.00", "buy")
    m.at(60, "0.80")  # opens, start price 1.00
    m.at(1800, "0.85")
    m.at(3660, "0.86")  # start + 60 min: the event closed first; high in the window is 0.86 itself: nothing
    m.at(3700, "0.70")  # 18.6 % under 0.86: a new event
    load(db, m.trades)
    assert replay(db, m, 3800) == 2
    assert events(db, m) == [
        (60, D("1.00"), D("0.80"), D("20.0000"), None, 3660, 60, "timeout"),
        (3700, D("0.86"), D("0.70"), D("18.6047"), None, None, None, None),  # still open at 3800
    ]
    # with no trade after it, the second one times out at its start + 60 min once p_until is past it
    replay(db, m, 3700 + 3600)
    assert events(db, m)[1] == (3700, D("0.86"), D("0.70"), D("18.6047"), None, 7300, 60, "timeout")


def test_selloff_open_at_returns_the_open_event_and_its_whole_minutes(db: psycopg.Connection) -> None:
    m = Market("open-at")
    m.at(0, "1.20", "buy")
    m.at(240, "1.07")
    m.at(900, "1.09", "buy")
    m.at(1000, "1.20", "buy")
    m.at(1100, "1.00")  # a second event, never recovered: open until 1100 + 3600
    load(db, m.trades)
    replay(db, m, 1200)
    assert open_at(db, m, 239) is None
    assert open_at(db, m, 240) == (240, D("1.20"), 0)
    assert open_at(db, m, 899) == (240, D("1.20"), 10)
    assert open_at(db, m, 900) is None  # closed at 900
    assert open_at(db, m, 1100 + 59) == (1100, D("1.20"), 0)
    assert open_at(db, m, 1100 + 3599) == (1100, D("1.20"), 59)
    assert open_at(db, m, 1100 + 3600) is None


# --- the reference state machine and the order-free property ------------------------------------


def q4(x: Decimal) -> Decimal:
    return x.quantize(D("0.0001"), rounding=ROUND_HALF_UP)


def reference(trades: list[Trade], until: int) -> list[Row]:
    """Spec §3.5 written out; trades have distinct block times here, so time order is event order."""
    seq = sorted((t.block_time - T, D(t.sol_amount) / 10**9) for t in trades if t.block_time - T <= until)
    out: list[Row] = []
    ev: list[Any] | None = None
    for i, (s, p) in enumerate(seq):
        if ev is not None and s >= ev[0] + 3600:
            out.append((ev[0], ev[1], ev[2], ev[3], None, ev[0] + 3600, 60, "timeout"))
            ev = None
        if ev is not None:
            ev[2] = min(ev[2], p)
            ev[3] = max(ev[3], q4((ev[1] - p) / ev[1] * 100))
            if p > D("0.9") * ev[1]:
                out.append((ev[0], ev[1], ev[2], ev[3], p, s, (s - ev[0]) // 60, "recovery"))
                ev = None
        else:
            high = max(q for r, q in seq[: i + 1] if r > s - 900)
            if (high - p) / high > D("0.1"):
                ev = [s, high, p, q4((high - p) / high * 100)]
    if ev is not None:
        closed = ev[0] + 3600 <= until
        out.append((ev[0], ev[1], ev[2], ev[3], None, ev[0] + 3600 if closed else None, 60 if closed else None,
                    "timeout" if closed else None))
    return out


def random_walk(name: str, seed: int, n: int = 160) -> Market:
    rng = random.Random(seed)
    m = Market(name)
    price, s = D("1.0"), 0
    for _ in range(n):
        s += rng.randint(5, 120)
        price = max(D("0.0001"), (price * D(str(round(rng.uniform(0.85, 1.12), 4)))).quantize(D("0.0001")))
        m.at(s, str(price), rng.choice(["buy", "sell"]))
    return m


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replaying_twice_or_after_late_shuffled_trades_gives_the_reference_rows(db: psycopg.Connection, seed: int) -> None:
    m = random_walk(f"walk{seed}", seed)
    until = m.trades[-1].block_time - T + 600
    expected = reference(m.trades, until)
    assert expected, "the walk should have at least one sell-off"
    shuffled = m.trades[:]
    random.Random(seed + 100).shuffle(shuffled)
    for part in (shuffled[:50], shuffled[50:110], shuffled[110:]):  # late trades fill gaps of earlier replays
        load(db, part)
        replay(db, m, until)
    assert events(db, m) == expected
    replay(db, m, until)
    assert events(db, m) == expected
    ids = db.execute("select count(distinct id) from selloff_events where token_mint = %s", (m.mint,)).fetchone()
    assert ids == (len(expected),)


def test_replay_of_all_tokens_leaves_one_token_with_no_drop_without_events(db: psycopg.Connection) -> None:
    m = Market("flat")
    for s in range(0, 1800, 60):
        m.at(s, "1.00" if s % 120 else "0.95", "buy")  # never more than 10 % under the high
    load(db, m.trades)
    db.execute("select megatron.replay_selloffs(null, to_timestamp(%s))", (T + 3600,))
    assert events(db, m) == []
