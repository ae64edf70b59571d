"""The dbt project on a simulated market (issue 10): `megatron dbt build` through the CLI, values read back.

One module database (from the migrated template) gets a small simulated market through the loader; one trade
is held back and loaded after the first build, so the incremental run must correct its old bucket. Candles,
holder distribution and wallet PnL are recomputed here in Python from the raw trades and compared.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from megatron.cli import main
from megatron.events import Trade
from megatron.ingest.loader import Loader
from megatron.simulate import simulate

EVENT_ORDER = "block_time, slot nulls first, slot_order nulls first, signature, event_index"


def dbt(url: str, *args: str) -> None:
    """`megatron dbt ARGS` as a user runs it, against the module's database."""
    result = CliRunner().invoke(main, ["dbt", *args], env={"DATABASE_URL": url}, catch_exceptions=False)
    assert result.exit_code == 0, f"megatron dbt {' '.join(args)} exited with {result.exit_code}"


def load(conn: psycopg.Connection, events: list[Any]) -> None:
    loader = Loader(conn, "test", batch_size=25_000, pipeline=True, workers=2)
    loader.add_all(events)
    assert loader.finish().reconciles()


@dataclass(frozen=True)
class Market:
    url: str
    late: Trade


@pytest.fixture(scope="module")
def market(database_url: str) -> Iterator[Market]:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    events = list(simulate(30, 0.2, 7, now - timedelta(hours=6)))
    trades = [e for e in events if isinstance(e, Trade)]
    assert len(trades) > 500
    # a trade more than 2 hours old (outside the block-time lookback), in a minute with other trades
    old = [t for t in trades if t.block_time < (now - timedelta(hours=3)).timestamp()]
    late = old[len(old) // 2]
    with psycopg.connect(database_url) as conn:
        load(conn, [e for e in events if e is not late])
    dbt(database_url, "build")
    yield Market(database_url, late)


def rows(url: str, query: str, *args: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchall()


def python_candles(url: str, width_seconds: int) -> dict[tuple[Any, datetime], dict[str, Any]]:
    """Candles from the raw trades, computed here: first and last in the event order."""
    trades = rows(url, f"""
        select token_id, block_time, type, user_address, price_per_token, token_amount, sol_amount
        from transactions where type in ('buy', 'sell') and price_per_token > 0 order by {EVENT_ORDER}""")
    out: dict[tuple[Any, datetime], dict[str, Any]] = {}
    for token_id, block_time, side, user, price, tokens, sol in trades:
        epoch = int(block_time.timestamp())
        bucket = datetime.fromtimestamp(epoch - epoch % width_seconds, timezone.utc)
        c = out.setdefault((token_id, bucket), {
            "open": price, "high": price, "low": price, "close": price, "volume_token": Decimal(0),
            "volume_sol": Decimal(0), "trade_count": 0, "buyers": set(), "sellers": set()})
        c["high"] = max(c["high"], price)
        c["low"] = min(c["low"], price)
        c["close"] = price
        c["volume_token"] += tokens
        c["volume_sol"] += sol
        c["trade_count"] += 1
        (c["buyers"] if side == "buy" else c["sellers"]).add(user)
    return out


def mart_candles(url: str, model: str) -> dict[tuple[Any, datetime], dict[str, Any]]:
    found = rows(url, f"""
        select token_id, bucket, open, high, low, close, volume_token, volume_sol, trade_count, buyer_count,
               seller_count from marts.{model}""")
    return {(r[0], r[1]): {"open": r[2], "high": r[3], "low": r[4], "close": r[5], "volume_token": r[6],
                           "volume_sol": r[7], "trade_count": r[8], "buyer_count": r[9], "seller_count": r[10]}
            for r in found}


def assert_candles_match(url: str) -> None:
    for model, width in (("price_candles_1m", 60), ("price_candles_5m", 300), ("price_candles_1h", 3600)):
        expected = python_candles(url, width)
        actual = mart_candles(url, model)
        assert actual.keys() == expected.keys(), f"{model}: buckets differ"
        for key, exp in expected.items():
            got = actual[key]
            for column in ("open", "high", "low", "close", "volume_token", "volume_sol", "trade_count"):
                assert got[column] == exp[column], f"{model} {key} {column}: {got[column]} != {exp[column]}"
            assert got["buyer_count"] == len(exp["buyers"]), f"{model} {key} buyer_count"
            assert got["seller_count"] == len(exp["sellers"]), f"{model} {key} seller_count"


def test_candles_at_every_level_equal_the_ohlcv_computed_from_the_trades(market: Market) -> None:
    assert_candles_match(market.url)


def test_holder_distribution_matches_the_balances_of_the_trades_and_the_inequality_functions(market: Market) -> None:
    balances = rows(market.url, """
        with net as (
            select tk.mint_address, tx.user_address,
                   sum(case when tx.type = 'buy' then tx.token_amount else -tx.token_amount end) as balance
            from transactions as tx join tokens as tk on tk.id = tx.token_id
            where tx.type in ('buy', 'sell')
            group by 1, 2
        )
        select n.mint_address, array_agg(n.balance order by n.balance)
        from net as n
        where n.balance > 0 and not exists (
            select 1 from pools as p join tokens as t on t.id = p.token_id
            where t.mint_address = n.mint_address
              and n.user_address in (p.bonding_curve_address, p.pool_address, p.base_vault, p.quote_vault))
        group by 1""")
    mart = {r[0]: r[1:] for r in rows(market.url, """
        select token_mint, holder_count, gini, theil, shannon, hhi, top_1_pct, top_10_balance
        from marts.holder_distribution""")}
    assert mart.keys() == {b[0] for b in balances}
    for mint, values in balances:
        holder_count, gini, theil, shannon, hhi, top_1_pct, top_10 = mart[mint]
        total = sum(values)
        assert holder_count == len(values)
        assert top_10 == sum(sorted(values, reverse=True)[:10])
        assert abs(top_1_pct - 100 * max(values) / total) < Decimal("1e-9")
        assert abs(float(hhi) - sum(float(v / total) ** 2 for v in values) * 10_000) < 1e-6
        (g, t, s), = rows(market.url, "select calculate_gini_coefficient(%s::numeric[]), "
                          "calculate_theil_index(%s::numeric[]), calculate_shannon_entropy(%s::numeric[])",
                          values, values, values)
        assert abs(gini - g) < Decimal("1e-9"), mint
        assert abs(theil - t) < Decimal("1e-9"), mint
        assert abs(shannon - s) < Decimal("1e-9"), mint


def test_holder_distribution_as_of_an_earlier_time_counts_only_the_trades_before_it(market: Market) -> None:
    (middle,) = rows(market.url, "select min(block_time) + (max(block_time) - min(block_time)) / 2 "
                                 "from transactions")[0]
    as_of = middle.isoformat()
    dbt(market.url, "run", "--select", "holder_distribution", "--vars", f"{{as_of: '{as_of}'}}")
    expected = dict(rows(market.url, """
        with net as (
            select tk.mint_address, tx.user_address,
                   sum(case when tx.type = 'buy' then tx.token_amount else -tx.token_amount end) as balance
            from transactions as tx join tokens as tk on tk.id = tx.token_id
            where tx.type in ('buy', 'sell') and tx.block_time <= %s
            group by 1, 2
        )
        select n.mint_address, count(*)::integer from net as n
        where n.balance > 0 and not exists (
            select 1 from pools as p join tokens as t on t.id = p.token_id
            where t.mint_address = n.mint_address
              and n.user_address in (p.bonding_curve_address, p.pool_address, p.base_vault, p.quote_vault))
        group by 1""", middle))
    actual = dict(rows(market.url, "select token_mint, holder_count from marts.holder_distribution"))
    as_of_column = rows(market.url, "select distinct as_of from marts.holder_distribution")
    dbt(market.url, "run", "--select", "holder_distribution")
    assert as_of_column == [(middle,)]
    assert actual == expected
    assert 0 < len(actual) < len(rows(market.url, "select token_mint from marts.holder_distribution"))


def test_wallet_pnl_equals_average_cost_accounting_replayed_in_python(market: Market) -> None:
    trades = rows(market.url, f"""
        select user_address, token_id, type, token_amount, sol_amount from transactions
        where type in ('buy', 'sell') and token_amount > 0 order by {EVENT_ORDER}""")
    state: dict[tuple[str, Any], list[float]] = defaultdict(lambda: [0.0, 0.0])  # position, cost basis
    realized: dict[str, float] = defaultdict(float)
    closed: dict[tuple[str, Any], bool] = defaultdict(bool)
    pnl_by_position: dict[tuple[str, Any], float] = defaultdict(float)
    for wallet, token, side, amount, sol in trades:
        position = state[(wallet, token)]
        a, s = float(amount), float(sol)
        if side == "buy":
            position[0] += a
            position[1] += s
            continue
        matched = min(a, position[0])
        if matched <= 0:
            continue
        fraction = matched / position[0]
        gain = s * matched / a - position[1] * fraction
        realized[wallet] += gain
        pnl_by_position[(wallet, token)] += gain
        position[1] -= position[1] * fraction
        position[0] -= matched
        if fraction == 1:
            closed[(wallet, token)] = True
    mart = {r[0]: r[1:] for r in rows(market.url, """
        select wallet_address, realized_pnl_sol, tokens_closed, tokens_won from marts.wallet_performance""")}
    assert mart.keys() == {w for w, _ in state}
    for wallet, gain in realized.items():
        assert math.isclose(float(mart[wallet][0]), gain, abs_tol=1e-6), wallet
    for wallet in mart:
        keys = [k for k in closed if k[0] == wallet]
        assert mart[wallet][1] == len(keys), wallet
        assert mart[wallet][2] == sum(1 for k in keys if pnl_by_position[k] > 1e-9), wallet


def test_top_tokens_has_one_row_per_recent_token_and_its_graduated_pool_once_there_is_one(market: Market) -> None:
    top = rows(market.url, """
        select t.mint_address, t.pool_type, t.volume_24h_usd, tk.is_graduated
        from marts.top_tokens_by_usd_volume as t join tokens as tk using (mint_address)""")
    assert len(top) == len({r[0] for r in top}) == rows(market.url, "select count(*) from tokens")[0][0]
    for mint, pool_type, volume, graduated in top:
        has_amm = rows(market.url, "select count(*) from pools as p join tokens as t on t.id = p.token_id "
                                   "where t.mint_address = %s and p.pool_type = 'graduated'", mint)[0][0]
        assert pool_type == ("graduated" if has_amm else "initial"), mint
        assert volume >= 0
    (total,) = rows(market.url, """
        select coalesce(sum(sol_amount_usd), 0) from transactions
        where type in ('buy', 'sell') and price_per_token > 0 and block_time > now() - interval '24 hours'""")[0]
    assert sum(r[2] for r in top) == total


def test_a_late_trade_corrects_its_old_bucket_on_the_incremental_run(market: Market) -> None:
    # last in the module: the trade it loads is not in the marts the other tests compare with the raw trades
    late = market.late
    minute = datetime.fromtimestamp(late.block_time - late.block_time % 60, timezone.utc)
    (token_id,) = rows(market.url, "select id from tokens where mint_address = %s", late.mint)[0]
    before = rows(market.url, "select trade_count, volume_sol from marts.price_candles_1m "
                              "where token_id = %s and bucket = %s", token_id, minute)
    with psycopg.connect(market.url) as conn:
        load(conn, [late])
    # no created_at margin: only the watermark can find the old bucket (it is outside the 2-hour lookback)
    dbt(market.url, "run", "--select", "price_candles_1m+", "--vars", "{candle_late_margin: '0 seconds'}")
    after = rows(market.url, "select trade_count, volume_sol from marts.price_candles_1m "
                             "where token_id = %s and bucket = %s", token_id, minute)
    before_count = before[0][0] if before else 0
    before_sol = before[0][1] if before else Decimal(0)
    assert after[0][0] == before_count + 1
    assert after[0][1] == before_sol + Decimal(late.sol_amount) / Decimal(10**9)
    assert_candles_match(market.url)
