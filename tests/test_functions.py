"""The seed's functions: inequality measures against a numpy reference, and the as-of technical
helpers (velocities, sell-off detection, smart money) on hand-built trade histories."""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal

import numpy as np
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import errors

# ---------------------------------------------------------------------------------------------
# inequality measures


def holders(values: list[float]) -> np.ndarray:
    """Holders are balances > 0 (spec §4.1): zeros are wallets that exited."""
    x = np.asarray(values, dtype=float)
    return x[x > 0]


def gini_reference(values: list[float]) -> float | None:
    x = np.sort(holders(values))
    n, s = len(x), x.sum()
    if n == 0 or s == 0:
        return None
    i = np.arange(1, n + 1)
    return float(min(1.0, max(0.0, ((2 * i - n - 1) * x).sum() / (n * s))))


def shannon_reference(values: list[float]) -> float | None:
    x = holders(values)
    n, s = len(x), x.sum()
    if n == 0 or s == 0:
        return None
    if n == 1:
        return 0.0
    p = x[x > 0] / s
    return float(max(0.0, -(p * np.log2(p)).sum() / np.log2(n)))


def theil_reference(values: list[float]) -> float | None:
    x = holders(values)
    n, s = len(x), x.sum()
    if n == 0 or s == 0:
        return None
    r = x[x > 0] / (s / n)
    return float(max(0.0, (r * np.log(r)).sum() / n))


REFERENCES = {
    "calculate_gini_coefficient": gini_reference,
    "calculate_shannon_entropy": shannon_reference,
    "calculate_theil_index": theil_reference,
}

balances = st.lists(
    st.one_of(
        st.just(Decimal(0)),
        st.decimals(min_value=0, max_value=1_000_000_000, places=6, allow_nan=False, allow_infinity=False),
        st.integers(min_value=1, max_value=10**12).map(Decimal),
    ),
    min_size=1,
    max_size=60,
)


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def call(db: psycopg.Connection, function: str, values: list[Decimal | None] | None) -> Decimal | None:
    row = db.execute(f"select {function}(%s::numeric[])", (values,)).fetchone()
    assert row is not None
    return row[0]


def assert_close(actual: Decimal | None, expected: float | None) -> None:
    if expected is None:
        assert actual is None
    else:
        assert actual is not None
        assert math.isclose(float(actual), expected, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("function", sorted(REFERENCES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=balances)
def test_inequality_measures_match_the_numpy_reference(
    db: psycopg.Connection, function: str, values: list[Decimal]
) -> None:
    assert_close(call(db, function, values), REFERENCES[function]([float(v) for v in values]))


@pytest.mark.parametrize("function", sorted(REFERENCES))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=balances, nulls=st.integers(min_value=1, max_value=3))
def test_null_balances_are_ignored(db: psycopg.Connection, function: str, values: list[Decimal], nulls: int) -> None:
    with_nulls: list[Decimal | None] = [None] * nulls + list(values)
    assert call(db, function, with_nulls) == call(db, function, list(values))


@pytest.mark.parametrize(
    ("function", "values", "expected"),
    [
        ("calculate_gini_coefficient", [1, 2, 3, 4], 0.25),
        ("calculate_gini_coefficient", [5, 5, 5], 0.0),
        ("calculate_gini_coefficient", [0, 0, 0, 10], 0.0),  # one holder: three wallets exited
        ("calculate_gini_coefficient", [0, 0, 2, 6], 0.25),
        ("calculate_shannon_entropy", [1, 1, 1, 1], 1.0),
        ("calculate_shannon_entropy", [1, 3], 0.8112781244591328),
        ("calculate_shannon_entropy", [0, 0, 7], 0.0),
        ("calculate_theil_index", [2, 2, 2], 0.0),
        ("calculate_theil_index", [0, 0, 0, 10], 0.0),
        ("calculate_theil_index", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3], 0.5 * (0.5 * math.log(0.5) + 1.5 * math.log(1.5))),
    ],
)
def test_inequality_measures_on_known_distributions(
    db: psycopg.Connection, function: str, values: list[int], expected: float
) -> None:
    assert_close(call(db, function, [Decimal(v) for v in values]), expected)


@pytest.mark.parametrize("function", sorted(REFERENCES))
@pytest.mark.parametrize(
    ("values", "expected", "case"),
    [
        ([], None, "empty"),
        ([None, None], None, "only NULLs"),
        ([Decimal(0), Decimal(0)], None, "all zero"),
        ([Decimal("42.5")], 0.0, "single holder"),
        (None, None, "NULL array"),
    ],
)
def test_inequality_edge_cases(
    db: psycopg.Connection, function: str, values: list[Decimal | None] | None, expected: float | None, case: str
) -> None:
    assert_close(call(db, function, values), expected)


@pytest.mark.parametrize("function", sorted(REFERENCES))
def test_a_negative_balance_is_an_error(db: psycopg.Connection, function: str) -> None:
    with pytest.raises(errors.InvalidParameterValue, match="negative balance"):
        call(db, function, [Decimal(5), Decimal(-1)])


@pytest.mark.parametrize("function", sorted(REFERENCES))
def test_the_edge_case_rules_are_documented_on_the_function(db: psycopg.Connection, function: str) -> None:
    row = db.execute(
        "select obj_description(%s::regprocedure, 'pg_proc')", (f"{function}(numeric[])",)
    ).fetchone()
    assert row is not None and row[0] is not None
    comment = row[0].lower()
    assert "negatives raise 22023" in comment and "null without a holder" in comment and "balances > 0" in comment


@pytest.mark.parametrize("function", sorted(REFERENCES))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=balances, zeros=st.integers(min_value=1, max_value=30))
def test_wallets_at_zero_balance_are_not_holders(
    db: psycopg.Connection, function: str, values: list[Decimal], zeros: int
) -> None:
    """Spec §4.1: holders are balance > 0; exited wallets stay in token_holders at 0 and must not count."""
    assert call(db, function, [Decimal(0)] * zeros + list(values)) == call(db, function, list(values))


# ---------------------------------------------------------------------------------------------
# hand-built trade histories (all times UTC on 2025-01-01 unless stated)

SUPPLY_ON_CURVE = 793_100_000  # tokens a pump.fun curve sells before it completes


def at(hhmmss: str, day: str = "2025-01-01") -> str:
    return f"{day} {hhmmss}+00"


def make_token(conn: psycopg.Connection, mint: str, created: str = at("00:00")) -> str:
    row = conn.execute(
        "insert into tokens (mint_address, platform, creation_signature, creation_timestamp, creator_address) "
        "values (%s, 'pumpfun', %s, %s, 'Creator111') returning id",
        (mint, f"create-{mint}", created),
    ).fetchone()
    assert row is not None
    return str(row[0])


def make_pool(conn: psycopg.Connection, token_id: str, address: str, pool_type: str = "initial") -> str:
    row = conn.execute(
        "insert into pools (pool_address, token_id, base_mint, quote_mint, platform, pool_type) "
        "values (%s, %s, 'Mint', 'So11111111111111111111111111111111111111112', 'pumpfun', %s) returning id",
        (address, token_id, pool_type),
    ).fetchone()
    assert row is not None
    return str(row[0])


class History:
    """One token's trades, written straight into transactions."""

    def __init__(self, conn: psycopg.Connection, mint: str, created: str = at("00:00")) -> None:
        self.conn = conn
        self.mint = mint
        self.token_id = make_token(conn, mint, created)
        self.pool_id = make_pool(conn, self.token_id, f"Pool-{mint}")
        self.count = 0

    def trade(self, when: str, side: str, price: str, sol: str = "1", tokens: str = "1000",
              user: str = "Trader1", pool_id: str | None = None) -> None:
        self.count += 1
        self.conn.execute(
            "insert into transactions (signature, pool_id, token_id, block_time, slot, type, user_address, "
            "amount_in, amount_in_decimals, amount_out, amount_out_decimals, sol_amount, token_amount, "
            "price_per_token) values (%s, %s, %s, %s, %s, %s, %s, 0, 9, 0, 6, %s, %s, %s)",
            (f"{self.mint}-{self.count}", pool_id or self.pool_id, self.token_id, when, self.count, side, user,
             Decimal(sol), Decimal(tokens), Decimal(price)),
        )


def sol_price(conn: psycopg.Connection, when: str, usd: str, source: str = "pyth") -> None:
    conn.execute("insert into sol_usd_prices (price_time, price_usd, source) values (%s, %s, %s)",
                 (when, Decimal(usd), source))


def scalar(conn: psycopg.Connection, sql: str, params: tuple[object, ...]) -> object:
    row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


@pytest.fixture
def mcap_history(conn: psycopg.Connection) -> History:
    # SOL/USD 100 at 00:45, 105 at 00:55, 110 at 01:00; trades at 00:50 (1e-6 SOL) and 01:00 (1.1e-6 SOL)
    for when, usd in (("00:45", "100"), ("00:55", "105"), ("01:00", "110")):
        sol_price(conn, at(when), usd)
    h = History(conn, "MintVelocity")
    h.trade(at("00:50"), "buy", "0.0000010000")
    h.trade(at("01:00"), "buy", "0.0000011000")
    return h


@pytest.mark.parametrize(
    ("as_of", "window", "expected"),
    [
        # mcap 121,000 (1.1e-6 x 110 x 1e9) vs 100,000 (1e-6 x 100) ten minutes earlier: 21 % / 10 min
        (at("01:00"), "10 minutes", Decimal("2.1000")),
        # base at 00:55: 1e-6 x 105 = 105,000; (121,000 - 105,000) / 105,000 = 15.238 % over 5 min
        (at("01:00"), "5 minutes", Decimal("3.0476")),
        # token younger than the window: the first trade (00:50, 100,000) is the base; now 105,000
        (at("00:55"), "10 minutes", Decimal("0.5000")),
    ],
)
def test_market_cap_velocity_is_the_signed_change_per_minute(
    conn: psycopg.Connection, mcap_history: History, as_of: str, window: str, expected: Decimal
) -> None:
    assert scalar(conn, "select calculate_market_cap_velocity(%s, %s::interval, %s)",
                  (mcap_history.mint, window, as_of)) == expected


def test_market_cap_velocity_is_negative_when_the_cap_falls(conn: psycopg.Connection, mcap_history: History) -> None:
    mcap_history.trade(at("01:05"), "sell", "0.0000008800")  # now 0.88e-6 x SOL 110 x 1e9 = 96,800
    # base at 00:55 is the 00:50 trade at SOL 105: 105,000; -7.8095 % over 10 minutes
    assert scalar(conn, "select calculate_market_cap_velocity(%s, interval '10 minutes', %s)",
                  (mcap_history.mint, at("01:05"))) == Decimal("-0.7810")


@pytest.mark.parametrize(
    ("mint", "as_of", "why"),
    [
        ("MintVelocity", at("01:20"), "no SOL/USD price in the 15 minutes before T"),
        ("MintVelocity", at("00:40"), "no trade yet"),
        ("NoSuchMint", at("01:00"), "unknown mint"),
    ],
)
def test_market_cap_velocity_is_null_without_the_data_it_needs(
    conn: psycopg.Connection, mcap_history: History, mint: str, as_of: str, why: str
) -> None:
    assert scalar(conn, "select calculate_market_cap_velocity(%s, interval '10 minutes', %s)", (mint, as_of)) is None


def test_market_cap_velocity_defaults_to_the_spec_window(conn: psycopg.Connection, mcap_history: History) -> None:
    assert scalar(conn, "select calculate_market_cap_velocity(%s, p_as_of => %s)",
                  (mcap_history.mint, at("01:00"))) == Decimal("2.1000")


@pytest.fixture
def progress_history(conn: psycopg.Connection) -> History:
    h = History(conn, "MintProgress", created=at("00:00"))
    h.trade(at("00:10"), "buy", "0.000001", tokens=str(SUPPLY_ON_CURVE // 10))  # +10 %
    h.trade(at("00:40"), "buy", "0.000001", tokens=str(SUPPLY_ON_CURVE // 20))  # +5 %
    h.trade(at("00:50"), "sell", "0.000001", tokens=str(SUPPLY_ON_CURVE // 100))  # -1 %
    amm = make_pool(conn, h.token_id, "Pool-MintProgress-amm", pool_type="graduated")
    h.trade(at("00:45"), "buy", "0.000001", tokens=str(SUPPLY_ON_CURVE // 10), pool_id=amm)  # not on the curve
    return h


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(at("00:05"), Decimal(0)), (at("00:10"), Decimal(10)), (at("00:45"), Decimal(15)), (at("01:00"), Decimal(14))],
)
def test_progress_is_reconstructed_from_bonding_curve_trades(
    conn: psycopg.Connection, progress_history: History, as_of: str, expected: Decimal
) -> None:
    assert scalar(conn, "select bonding_curve_progress_at(%s, %s)", (progress_history.mint, as_of)) == expected


@pytest.mark.parametrize(
    ("as_of", "window", "expected"),
    [
        (at("01:00"), "30 minutes", Decimal("8.0000")),  # 14 % now, 10 % at 00:30: +4 in half an hour
        (at("00:20"), "30 minutes", Decimal("30.0000")),  # younger than the window: 10 % in 20 minutes
        (at("01:00"), "1 hour", Decimal("14.0000")),  # from creation exactly
        (at("00:55"), "10 minutes", Decimal("-6.0000")),  # 15 % at 00:45, 14 % now
    ],
)
def test_progress_velocity_is_the_signed_change_per_hour(
    conn: psycopg.Connection, progress_history: History, as_of: str, window: str, expected: Decimal
) -> None:
    assert scalar(conn, "select calculate_progress_velocity(%s, %s::interval, %s)",
                  (progress_history.mint, window, as_of)) == expected


def test_progress_velocity_of_a_brand_new_token_uses_at_least_one_minute(conn: psycopg.Connection) -> None:
    h = History(conn, "MintNewborn", created=at("00:00:00"))
    h.trade(at("00:00:10"), "buy", "0.000001", tokens=str(SUPPLY_ON_CURVE // 100))  # 1 % after 10 s
    assert scalar(conn, "select calculate_progress_velocity(%s, interval '30 minutes', %s)",
                  (h.mint, at("00:00:30"))) == Decimal("60.0000")  # 1 % per minute, not per 30 s


@pytest.mark.parametrize(("mint", "as_of"), [("MintProgress", "2024-12-31 23:00+00"), ("NoSuchMint", at("01:00"))])
def test_progress_velocity_is_null_before_creation_or_for_an_unknown_mint(
    conn: psycopg.Connection, progress_history: History, mint: str, as_of: str
) -> None:
    assert scalar(conn, "select calculate_progress_velocity(%s, interval '30 minutes', %s)", (mint, as_of)) is None


def selloff(conn: psycopg.Connection, mint: str, as_of: str) -> tuple[object, ...] | None:
    return conn.execute(
        "select is_selloff, drop_5m, drop_15m, drop_30m, severity from detect_selloff(%s, %s)", (mint, as_of)
    ).fetchone()


@pytest.fixture
def dump_history(conn: psycopg.Connection) -> History:
    h = History(conn, "MintDump")
    h.trade(at("12:05"), "buy", "1.00")  # first trade of the 30-minute window before 12:30
    h.trade(at("12:16"), "buy", "0.95")  # first of the 15-minute window
    h.trade(at("12:26"), "sell", "0.90")  # first of the 5-minute window
    h.trade(at("12:27"), "sell", "0.80")
    h.trade(at("12:28"), "sell", "0.78")
    h.trade(at("12:29:30"), "sell", "0.76")  # price at 12:30
    return h


def test_detect_selloff_measures_each_window_from_its_first_trade(conn: psycopg.Connection, dump_history: History) -> None:
    # d5 = (0.90 - 0.76) / 0.90, d15 = (0.95 - 0.76) / 0.95, d30 = (1.00 - 0.76) / 1.00; 4 SOL sold in 5 min
    assert selloff(conn, dump_history.mint, at("12:30")) == (
        True, Decimal("15.5556"), Decimal("20.0000"), Decimal("24.0000"), "high",
    )


def test_detect_selloff_ignores_trades_after_the_as_of_time(conn: psycopg.Connection, dump_history: History) -> None:
    # at 12:20 only 12:05 (1.00) and 12:16 (0.95) exist; 12:16 is alone in the 5- and 15-minute windows
    assert selloff(conn, dump_history.mint, at("12:20")) == (
        False, Decimal("0.0000"), Decimal("0.0000"), Decimal("5.0000"), "low",
    )


def test_three_trailing_red_minutes_are_a_selloff_even_on_a_small_drop(conn: psycopg.Connection) -> None:
    h = History(conn, "MintRed")
    for minute, (opening, closing) in enumerate((("1.00", "0.99"), ("0.99", "0.98"), ("0.98", "0.97"))):
        h.trade(at(f"13:0{minute}:10"), "buy", opening)
        h.trade(at(f"13:0{minute}:50"), "buy", closing)
    assert selloff(conn, h.mint, at("13:03")) == (
        True, Decimal("3.0000"), Decimal("3.0000"), Decimal("3.0000"), "low",
    )
    h.trade(at("13:03:10"), "buy", "0.97")
    h.trade(at("13:03:50"), "buy", "0.98")  # a green minute ends the run
    assert selloff(conn, h.mint, at("13:04")) == (
        False, Decimal("2.0000"), Decimal("2.0000"), Decimal("2.0000"), "low",
    )


def test_one_large_sell_is_critical_without_a_price_drop(conn: psycopg.Connection) -> None:
    h = History(conn, "MintWhale")
    h.trade(at("14:00"), "sell", "1.00", sol="6")
    assert selloff(conn, h.mint, at("14:01")) == (
        False, Decimal("0.0000"), Decimal("0.0000"), Decimal("0.0000"), "critical",
    )


def test_more_than_five_sells_in_a_minute_is_at_least_medium(conn: psycopg.Connection) -> None:
    h = History(conn, "MintBurst")
    for when in ("14:00:10", "14:00:20", "14:00:30", "14:00:40", "14:00:50", "14:01:00"):
        h.trade(at(when), "sell", "1.00", sol="0.1")
    assert selloff(conn, h.mint, at("14:01")) == (
        False, Decimal("0.0000"), Decimal("0.0000"), Decimal("0.0000"), "medium",
    )


def test_detect_selloff_returns_no_row_for_an_unknown_mint(conn: psycopg.Connection) -> None:
    assert selloff(conn, "NoSuchMint", at("12:30")) is None


# ---------------------------------------------------------------------------------------------
# smart money


def analyse(conn: psycopg.Connection, wallet: str, **features: object) -> None:
    features.setdefault("last_analyzed", at("00:00"))
    names = ", ".join(["wallet_address", *features])
    marks = ", ".join(["%s"] * (len(features) + 1))
    conn.execute(f"insert into wallet_analysis_cache ({names}) values ({marks})", (wallet, *features.values()))


def assess(conn: psycopg.Connection, wallet: str, as_of: str) -> tuple[object, ...] | None:
    return conn.execute("select * from assess_smart_money_wallet(%s, %s)", (wallet, as_of)).fetchone()


@pytest.fixture
def smart_wallet(conn: psycopg.Connection) -> str:
    # cache: aged 0.15 + profitable 0.20 + win rate 0.25 + 60 tokens 0.15 + 150 SOL 0.15 + 600 tx 0.10 = 1.00
    analyse(conn, "WalletSmart", wallet_age_days=200, total_transactions=600, unique_tokens_traded=60,
            sol_balance=Decimal(150), win_rate=Decimal(65), total_profit_usd=Decimal(1000))
    # trades on Jan 2: 100 SOL bought and 1 SOL sold at $200 ($20,200 volume: +0.10), half buys (+0.15)
    sol_price(conn, at("00:00", "2025-01-02"), "200")
    h = History(conn, "MintSmart")
    h.trade(at("00:01", "2025-01-02"), "buy", "0.000001", sol="100", user="WalletSmart")
    h.trade(at("00:02", "2025-01-02"), "sell", "0.000001", sol="1", user="WalletSmart")
    return "WalletSmart"


def test_weighted_rule_counts_cache_and_trade_features(conn: psycopg.Connection, smart_wallet: str) -> None:
    assert assess(conn, smart_wallet, at("00:10", "2025-01-02")) == (True, "weighted", Decimal("1.25"))
    assert scalar(conn, "select is_smart_money_wallet(%s, %s)", (smart_wallet, at("00:10", "2025-01-02"))) is True


def test_weighted_rule_only_sees_trades_up_to_the_as_of_time(conn: psycopg.Connection, smart_wallet: str) -> None:
    assert assess(conn, smart_wallet, at("12:00")) == (False, "weighted", Decimal("1.00"))


def test_an_analysis_made_after_the_as_of_time_is_not_used(conn: psycopg.Connection, smart_wallet: str) -> None:
    assert assess(conn, smart_wallet, "2024-12-31 12:00+00") == (None, "unknown", None)


@pytest.mark.parametrize(
    ("as_of", "sol", "expected"),
    [
        (at("00:00"), "20", False),  # 85 days old when analysed
        (at("00:00", "2025-01-10"), "20", True),  # 94 days old nine days later
        (at("00:00", "2025-01-10"), "5", False),  # old enough but not funded
    ],
)
def test_simplified_rule_without_pnl_features(conn: psycopg.Connection, as_of: str, sol: str, expected: bool) -> None:
    analyse(conn, "WalletPlain", wallet_age_days=85, sol_balance=Decimal(sol))
    assert assess(conn, "WalletPlain", as_of) == (expected, "simplified", None)


def test_a_wallet_without_features_is_unknown_not_false(conn: psycopg.Connection) -> None:
    analyse(conn, "WalletBare")  # analysed, but no age or balance recorded
    assert assess(conn, "WalletBare", at("01:00")) == (None, "unknown", None)
    assert assess(conn, "WalletNeverSeen", at("01:00")) == (None, "unknown", None)
    assert scalar(conn, "select is_smart_money_wallet(%s, %s)", ("WalletNeverSeen", at("01:00"))) is None
