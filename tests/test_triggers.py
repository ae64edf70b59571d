"""The seed's triggers: USD values on trade insert and sell-off events (the holder-score queue is fed by
the loader from each trade's curve state since 034: tests/test_exact_raw.py)."""

from __future__ import annotations

import random
from decimal import Decimal

import psycopg
import pytest

DAY = "2025-01-01"


def at(hhmmss: str) -> str:
    return f"{DAY} {hhmmss}+00"


def make_token(conn: psycopg.Connection, mint: str) -> str:
    row = conn.execute(
        "insert into tokens (mint_address, platform, creation_signature, creation_timestamp, creator_address) "
        "values (%s, 'pumpfun', %s, %s, 'Creator111') returning id",
        (mint, f"create-{mint}", at("00:00")),
    ).fetchone()
    assert row is not None
    return str(row[0])


def make_pool(conn: psycopg.Connection, token_id: str, address: str, progress: str | None = None) -> str:
    row = conn.execute(
        "insert into pools (pool_address, token_id, base_mint, quote_mint, platform, bonding_curve_progress) "
        "values (%s, %s, 'Mint', 'So11111111111111111111111111111111111111112', 'pumpfun', %s) returning id",
        (address, token_id, None if progress is None else Decimal(progress)),
    ).fetchone()
    assert row is not None
    return str(row[0])


class Token:
    def __init__(self, conn: psycopg.Connection, mint: str) -> None:
        self.conn = conn
        self.mint = mint
        self.id = make_token(conn, mint)
        self.pool_id = make_pool(conn, self.id, f"Pool-{mint}")
        self.trades = 0

    def trade(self, when: str, price: str | None = "0.000001", sol: str | None = "2", side: str = "buy",
              sol_usd: str | None = None, price_usd: str | None = None) -> str:
        self.trades += 1
        signature = f"{self.mint}-{self.trades}"
        self.conn.execute(
            "insert into transactions (signature, pool_id, token_id, block_time, slot, type, user_address, "
            "amount_in, amount_in_decimals, amount_out, amount_out_decimals, sol_amount, token_amount, "
            "price_per_token, sol_amount_usd, price_per_token_usd) "
            "values (%s, %s, %s, %s, %s, %s, 'Trader1', 0, 9, 0, 6, %s, 1000, %s, %s, %s)",
            (signature, self.pool_id, self.id, when, self.trades, side,
             None if sol is None else Decimal(sol), None if price is None else Decimal(price),
             None if sol_usd is None else Decimal(sol_usd), None if price_usd is None else Decimal(price_usd)),
        )
        return signature

    def usd(self, signature: str) -> tuple[object, ...] | None:
        return self.conn.execute(
            "select sol_amount_usd, price_per_token_usd from transactions where signature = %s", (signature,)
        ).fetchone()


def sol_price(conn: psycopg.Connection, when: str, usd: str, source: str = "pyth") -> None:
    conn.execute("insert into sol_usd_prices (price_time, price_usd, source) values (%s, %s, %s)",
                 (when, Decimal(usd), source))


# --- USD values ---------------------------------------------------------------------------------


def test_usd_trigger_is_a_before_insert_row_trigger(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "select action_timing, event_manipulation, action_orientation from information_schema.triggers "
        "where event_object_table = 'transactions' and trigger_name = 'update_transaction_usd_values'"
    ).fetchone()
    assert row == ("BEFORE", "INSERT", "ROW")


@pytest.mark.parametrize(
    ("prices", "expected", "case"),
    [
        ([("09:50", "150")], (Decimal("300.00"), Decimal("0.0001500000")), "a recent price"),
        ([("09:50", "150"), ("09:55", "160")], (Decimal("320.00"), Decimal("0.0001600000")), "the latest of several"),
        ([("10:00", "155")], (Decimal("310.00"), Decimal("0.0001550000")), "a price at the same instant"),
        ([("09:45", "150")], (Decimal("300.00"), Decimal("0.0001500000")), "exactly 15 minutes old"),
        ([("09:44:59", "150")], (None, None), "stale: 15 minutes and 1 second old"),
        ([], (None, None), "no price at all"),
        ([("10:00:01", "150")], (None, None), "only a later price"),
    ],
)
def test_usd_values_come_from_the_latest_price_at_most_15_minutes_old(
    conn: psycopg.Connection, prices: list[tuple[str, str]], expected: tuple[object, object], case: str
) -> None:
    for when, usd in prices:
        sol_price(conn, at(when), usd)
    token = Token(conn, "MintUsd")
    signature = token.trade(at("10:00"), price="0.000001", sol="2")
    assert token.usd(signature) == expected


def test_usd_values_supplied_by_a_loader_are_replaced(conn: psycopg.Connection) -> None:
    sol_price(conn, at("09:59"), "150")
    token = Token(conn, "MintUsdGiven")
    signature = token.trade(at("10:00"), sol="2", sol_usd="999", price_usd="999")
    assert token.usd(signature) == (Decimal("300.00"), Decimal("0.0001500000"))
    stale = token.trade(at("11:00"), sol="2", sol_usd="999", price_usd="999")
    assert token.usd(stale) == (None, None)


def test_a_trade_without_amounts_gets_no_usd_values(conn: psycopg.Connection) -> None:
    sol_price(conn, at("09:59"), "150")
    token = Token(conn, "MintUsdEmpty")
    signature = token.trade(at("10:00"), price=None, sol=None, sol_usd="1", price_usd="1")
    assert token.usd(signature) == (None, None)


def test_sources_reporting_at_the_same_instant_resolve_deterministically(conn: psycopg.Connection) -> None:
    sol_price(conn, at("09:59"), "151", source="birdeye")
    sol_price(conn, at("09:59"), "150", source="pyth")
    token = Token(conn, "MintUsdTie")
    assert token.usd(token.trade(at("10:00"), sol="2")) == (Decimal("300.00"), Decimal("0.0001500000"))
    row = conn.execute("select sol_usd_price_at(%s)", (at("10:00"),)).fetchone()
    assert row == (Decimal("150.000000"),)


def test_one_statement_of_unordered_trades_prices_every_row_by_the_rule(conn: psycopg.Connection) -> None:
    """The trigger memoizes within a statement; every row must still get exactly the rule's answer."""
    rng = random.Random(3)
    minute = 0
    while minute < 240:  # prices from 08:00 at irregular steps, some gaps longer than 15 minutes
        conn.execute(
            "insert into sol_usd_prices (price_time, price_usd, source) "
            "values (%s::timestamptz + make_interval(mins => %s, secs => %s), %s, %s) on conflict do nothing",
            (at("08:00"), minute, rng.choice((0, 0, 30)), Decimal(100 + minute), rng.choice(("pyth", "hermes"))),
        )
        minute += rng.choice((1, 1, 2, 5, 14, 15, 16, 40))
    token = Token(conn, "MintUsdMemo")
    # 07:30 .. 12:30: one time-ordered run (the memo's common case) followed by out-of-order stragglers
    seconds = sorted(rng.randrange(0, 5 * 3600) for _ in range(600)) + [rng.randrange(0, 5 * 3600) for _ in range(200)]
    conn.execute(
        "insert into transactions (signature, pool_id, token_id, block_time, slot, type, user_address, amount_in, "
        "amount_in_decimals, amount_out, amount_out_decimals, sol_amount, token_amount, price_per_token) "
        "select 'memo-' || n, %s, %s, %s::timestamptz + make_interval(secs => s), n, 'buy', 'U', 0, 9, 0, 6, 1.5, 1, "
        "0.000001 from unnest(%s::int[]) with ordinality as t (s, n)",
        (token.pool_id, token.id, at("07:30"), seconds),
    )
    mismatches = conn.execute(
        "select count(*) from transactions where signature like 'memo-%' "
        "and sol_amount_usd is distinct from round(1.5 * sol_usd_price_at(block_time), 2)"
    ).fetchone()
    priced = conn.execute("select count(sol_amount_usd) from transactions where signature like 'memo-%'").fetchone()
    assert mismatches == (0,)
    assert priced is not None and 0 < priced[0] < 800  # both priced and unpriced rows were exercised


def test_a_price_written_between_two_statements_of_one_query_is_seen(conn: psycopg.Connection) -> None:
    token = Token(conn, "MintUsdOneQuery")
    insert = (
        "insert into transactions (signature, pool_id, token_id, block_time, slot, type, user_address, amount_in, "
        "amount_in_decimals, amount_out, amount_out_decimals, sol_amount) values ('{sig}', '{pool}', '{token}', "
        "'{when}', 1, 'buy', 'U', 0, 9, 0, 6, 2)"
    )
    # three statements sent as one query share statement_timestamp(): the price write must clear the memo
    conn.execute(
        insert.format(sig="q1", pool=token.pool_id, token=token.id, when=at("10:00"))
        + "; insert into sol_usd_prices (price_time, price_usd, source) values ('" + at("10:00:30") + "', 150, 'pyth'); "
        + insert.format(sig="q2", pool=token.pool_id, token=token.id, when=at("10:01"))
    )
    assert token.usd("q1") == (None, None)
    assert token.usd("q2") == (Decimal("300.00"), None)


def test_a_price_committed_by_another_session_is_seen_by_the_next_statement(
    conn: psycopg.Connection, database_url: str
) -> None:
    token = Token(conn, "MintUsdOtherSession")
    # two trades in one statement, no price yet: the memo learns "no price from 10:00 on"
    conn.execute(
        "insert into transactions (signature, pool_id, token_id, block_time, slot, type, user_address, amount_in, "
        "amount_in_decimals, amount_out, amount_out_decimals, sol_amount, price_per_token) values "
        "('early-1', %(pool)s, %(token)s, '2031-06-01 09:59:30+00', 1, 'buy', 'U', 0, 9, 0, 6, 2, 0.000001), "
        "('early-2', %(pool)s, %(token)s, '2031-06-01 10:00:00+00', 2, 'buy', 'U', 0, 9, 0, 6, 2, 0.000001)",
        {"pool": token.pool_id, "token": token.id},
    )
    first = "early-2"
    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("insert into sol_usd_prices (price_time, price_usd, source) values ('2031-06-01 10:00:30+00', "
                      "150, 'bench-other-session')")
        try:
            second = token.trade("2031-06-01 10:01+00", sol="2")  # same transaction, next statement
            assert token.usd(first) == (None, None)
            assert token.usd(second) == (Decimal("300.00"), Decimal("0.0001500000"))
        finally:
            other.execute("delete from sol_usd_prices where source = 'bench-other-session'")


def test_prices_arriving_after_their_trades_are_filled_in_later(conn: psycopg.Connection) -> None:
    token = Token(conn, "MintUsdLate")
    early = token.trade(at("10:00"), sol="2")
    outside = token.trade(at("12:00"), sol="2")
    assert token.usd(early) == (None, None)
    sol_price(conn, at("09:58"), "150")
    sol_price(conn, at("11:58"), "170")
    row = conn.execute("select fill_transaction_usd_values(%s, %s)", (at("09:00"), at("11:00"))).fetchone()
    assert row == (1,)
    assert token.usd(early) == (Decimal("300.00"), Decimal("0.0001500000"))
    assert token.usd(outside) == (None, None)  # outside the window asked for


# --- sell-off events ------------------------------------------------------------------------------


def test_a_technical_score_no_longer_opens_a_selloff_event(conn: psycopg.Connection) -> None:
    """042 dropped the trigger of 026: events come from trades (megatron.replay_selloffs, tests/test_selloffs.py)."""
    token = Token(conn, "MintFalling")
    token.trade(at("11:56"), price="1.00")
    token.trade(at("12:09"), price="0.85", side="sell")
    conn.execute(
        "insert into technical_scores (token_mint, timestamp, price_drop_15m) values (%s, %s, 15)", (token.mint, at("12:10"))
    )
    assert conn.execute("select count(*) from selloff_events").fetchone() == (0,)
    assert conn.execute(
        "select count(*) from pg_trigger where tgname = 'detect_selloff_event'"
    ).fetchone() == (0,)
