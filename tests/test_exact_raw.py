"""The raw layer is exact whatever order its input arrives in (issue 8).

The property test loads the same events (a simulated market plus the real mainnet fixtures) in
random permutations and random batch splits — newest first included — and compares a digest of
every raw table with a single in-order load. The other tests each pin one finding: curve state
kept per trade, one event order, order-free derived columns, the holder-score queue, ratios that
can be infinite, retention that cannot change an answer silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import base58
import psycopg
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from megatron.decode import FailedTransaction, decode_record
from megatron.decode.records import iter_records
from megatron.events import (
    INITIAL_REAL_TOKEN_RESERVES,
    INITIAL_VIRTUAL_SOL_RESERVES,
    INITIAL_VIRTUAL_TOKEN_RESERVES,
    AnyEvent,
    CurveComplete,
    Migration,
    SolUsdPrice,
    TokenCreate,
    Trade,
)
from megatron.ingest.loader import Loader
from megatron.simulate import simulate
from megatron.validate import RejectError

from .conftest import create_database, drop_database

NOW = 1_800_000_000
T0 = 1_790_000_000


def key(name: str) -> str:
    return base58.b58encode(hashlib.sha256(name.encode()).digest()).decode()


def sig(name: str) -> str:
    return base58.b58encode(hashlib.sha512(name.encode()).digest()).decode()


def load(conn: psycopg.Connection, events: list[Any], *, batch_size: int = 25_000, pipeline: bool = True,
         workers: int = 2) -> None:
    loader = Loader(conn, "test", batch_size=batch_size, pipeline=pipeline, workers=workers)
    loader.add_all(events)
    counts = loader.finish()
    assert counts.reconciles()


def one(conn: psycopg.Connection, query: str, *args: object) -> Any:
    row = conn.execute(query, args).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


# --- a digest of every raw table ---------------------------------------------------------------

# columns that say when or by which run a row was written, not what it holds
VOLATILE = {"created_at", "updated_at", "last_updated", "loaded_at", "id", "rejected_at"}


def raw_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        """
        select format('%I.%I', n.nspname, c.relname)
        from pg_class as c
        inner join pg_namespace as n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and not c.relispartition
          and (n.nspname = 'public' or (n.nspname = 'megatron' and c.relname in ('holder_horizon', 'retention_horizons')))
        order by 1
        """
    ).fetchall()
    return [r[0] for r in rows]


def digest(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Per raw table: row count and a hash of its rows, with generated ids replaced by natural keys."""
    tokens = dict(conn.execute("select id::text, mint_address from tokens").fetchall())
    pools = dict(conn.execute("select id::text, pool_address from pools").fetchall())
    out: dict[str, tuple[int, str]] = {}
    for table in raw_tables(conn):
        lines = []
        for (row,) in conn.execute(f"select to_jsonb(x) from {table} as x"):  # noqa: S608 - names from the catalog
            clean = {k: v for k, v in row.items() if k not in VOLATILE}
            for col, names in (("token_id", tokens), ("pool_id", pools)):
                if col in clean:
                    clean[col] = names.get(clean[col], clean[col])
            lines.append(json.dumps(clean, sort_keys=True))
        lines.sort()
        out[table] = (len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16])
    return out


# --- the events: a simulated market and the real fixtures ---------------------------------------


def fixture_events(fixtures_dir: Path) -> list[AnyEvent]:
    events: list[AnyEvent] = []
    for folder in ("rpc", "helius", "logs"):
        for path in sorted((fixtures_dir / folder).glob("*")):
            for record in iter_records(path):
                try:
                    events.extend(decode_record(record, now=NOW))
                except (FailedTransaction, RejectError):
                    continue
    return events


@pytest.fixture(scope="module")
def market(fixtures_dir: Path) -> list[AnyEvent]:
    sim = list(simulate(40, 0.08, 5, datetime(2026, 11, 20, tzinfo=timezone.utc)))
    return sim + fixture_events(fixtures_dir)


@pytest.fixture(scope="module")
def in_order_digest(server_url: str, run_id: str, template_db: str, market: list[AnyEvent]) -> dict[str, tuple[int, str]]:
    name = f"megatron_t_{run_id}_exact_ref"
    url = create_database(server_url, name, template=template_db)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            load(conn, market, pipeline=False)
            result = digest(conn)
    finally:
        drop_database(server_url, name)
    assert result["public.transactions"][0] > 1000
    return result


def arrange(events: list[AnyEvent], how: str, rng: random.Random) -> list[AnyEvent]:
    if how == "shuffled":
        out = list(events)
        rng.shuffle(out)
        return out
    if how == "reversed":
        return list(reversed(events))
    # newest first by block time, as an RPC source paging signatures would deliver them
    return sorted(events, key=lambda e: -(e.price_time if isinstance(e, SolUsdPrice) else e.block_time))


@settings(max_examples=12, deadline=None, derandomize=bool(os.environ.get("CI")),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    how=st.sampled_from(["shuffled", "reversed", "newest_first"]),
    batch_size=st.integers(min_value=37, max_value=4000),
    pipeline=st.booleans(),
    workers=st.integers(min_value=1, max_value=3),
    split_seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_any_order_and_batching_loads_identical_tables(
    server_url: str, run_id: str, template_db: str, market: list[AnyEvent],
    in_order_digest: dict[str, tuple[int, str]], how: str, batch_size: int, pipeline: bool, workers: int,
    split_seed: int,
) -> None:
    """The test that catches order dependence: every raw table (the queue included) must come out
    identical to one in-order load, however the events are permuted and split into runs and batches."""
    rng = random.Random(split_seed)
    events = arrange(market, how, rng)
    # two or three separate runs, as a backfill after a live load would be
    cuts = sorted(rng.sample(range(1, len(events)), rng.randint(1, 2)))
    parts = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]
    name = f"megatron_t_{run_id}_exact_{split_seed % 10**6}"
    url = create_database(server_url, name, template=template_db)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for part in parts:
                load(conn, part, batch_size=batch_size, pipeline=pipeline, workers=workers)
            got = digest(conn)
    finally:
        drop_database(server_url, name)
    differing = {t: (got.get(t), v) for t, v in in_order_digest.items() if got.get(t) != v}
    assert differing == {}


# --- hand-built curves ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


class Curve:
    """A pump.fun-style constant-product curve that emits trades with their state after each one."""

    def __init__(self, name: str, *, vs: int = INITIAL_VIRTUAL_SOL_RESERVES, vt: int = INITIAL_VIRTUAL_TOKEN_RESERVES,
                 rt: int = INITIAL_REAL_TOKEN_RESERVES, program: str = "pumpfun",
                 sell_supply: int | None = None) -> None:
        self.name, self.mint, self.pool = name, key(f"{name}-mint"), key(f"{name}-curve")
        self.vs, self.vt, self.rs, self.rt = vs, vt, 0, rt
        self.program, self.sell_supply, self.n = program, sell_supply, 0

    def create(self, block_time: int = T0, slot: int = 1000, **extra: Any) -> TokenCreate:
        return TokenCreate(
            signature=sig(f"{self.name}-create"), slot=slot, block_time=block_time, event_index=0,
            program="pumpfun", mint=self.mint, name=self.name, symbol=self.name[:8].upper(), uri="https://x.invalid",
            creator=key(f"{self.name}-creator"), bonding_curve=self.pool, virtual_sol_reserves=self.vs,
            virtual_token_reserves=self.vt, real_token_reserves=self.rt, token_total_supply=10**15, **extra,
        )

    def buy(self, sol: int, wallet: str, block_time: int, slot: int, **extra: Any) -> Trade:
        out = min(self.vt - (self.vs * self.vt) // (self.vs + sol), self.rt)
        self.vs, self.vt, self.rs, self.rt = self.vs + sol, self.vt - out, self.rs + sol, self.rt - out
        return self._trade("buy", sol, out, wallet, block_time, slot, **extra)

    def sell(self, tokens: int, wallet: str, block_time: int, slot: int, **extra: Any) -> Trade:
        got = self.vs - (self.vs * self.vt) // (self.vt + tokens)
        self.vs, self.vt, self.rs, self.rt = self.vs - got, self.vt + tokens, self.rs - got, self.rt + tokens
        return self._trade("sell", got, tokens, wallet, block_time, slot, **extra)

    def _trade(self, side: str, sol: int, tokens: int, wallet: str, block_time: int, slot: int, **extra: Any) -> Trade:
        self.n += 1
        return Trade(
            signature=sig(f"{self.name}-t{self.n}"), slot=slot, block_time=block_time, event_index=0,
            program=self.program, mint=self.mint, pool=self.pool, side=side, user=key(wallet),  # type: ignore[arg-type]
            sol_amount=sol, token_amount=tokens, virtual_sol_reserves=self.vs, virtual_token_reserves=self.vt,
            real_sol_reserves=self.rs, real_token_reserves=self.rt, curve_sell_supply=self.sell_supply, **extra,
        )

    def progress(self) -> Decimal:
        supply = self.sell_supply or INITIAL_REAL_TOKEN_RESERVES
        return round(Decimal(supply - self.rt) / Decimal(supply) * 100, 2)


def test_a_token_first_seen_mid_life_gets_its_progress_from_the_curve_state(db: psycopg.Connection) -> None:
    """A stub token (no create event seen) at ~54 %: the trade's reserves say so; a sum of the few
    trades we saw would say ~1 %."""
    curve = Curve("midlife")
    curve.buy(60 * 10**9, "early", T0, 100)  # not delivered: happened before our data starts
    late = [curve.buy(10**9, "w1", T0 + 600, 2000), curve.sell(10**12, "w2", T0 + 660, 2100)]
    load(db, late)
    assert one(db, "select bonding_curve_progress from pools where pool_address = %s", curve.pool) == curve.progress()
    progress, method = one(db, "select progress, method from curve_state_at(%s, to_timestamp(%s))", curve.mint, NOW)
    assert round(progress, 2) == curve.progress() and method == "real_reserves"
    assert curve.progress() > 50


def test_a_mayhem_curve_and_a_launchlab_curve_get_their_own_progress(db: psycopg.Connection) -> None:
    # mayhem-mode coin: far fewer virtual SOL, so the classic 1.073 B formula on virtual tokens is wrong
    mayhem = Curve("mayhem", vs=580_000_000, vt=2_000_000_000 * 10**6)
    events: list[Any] = [mayhem.create(is_mayhem_mode=True), mayhem.buy(10**8, "m1", T0 + 5, 1001)]
    # LaunchLab: the trade names the curve's total sell supply
    ll = Curve("launchlab", rt=800_000_000 * 10**6, program="raydium_launchlab", sell_supply=800_000_000 * 10**6)
    events += [ll.buy(20 * 10**9, "l1", T0 + 5, 1001)]
    load(db, events)
    for curve in (mayhem, ll):
        got = one(db, "select bonding_curve_progress_at(%s, to_timestamp(%s))", curve.mint, NOW)
        assert round(got, 2) == curve.progress()
    classic_formula = (1_073_000_000 - Decimal(mayhem.vt) / 10**6) / 793_100_000 * 100
    assert abs(classic_formula - mayhem.progress()) > 10  # what the old constant would have said


def test_trades_of_one_slot_are_ordered_by_their_reserve_chain_whatever_their_arrival(db: psycopg.Connection) -> None:
    curve = Curve("sameslot")
    create = curve.create()
    trades = [curve.buy(10**9, "a", T0 + 10, 1500), curve.sell(10**11, "b", T0 + 10, 1500),
              curve.buy(3 * 10**9, "c", T0 + 10, 1500), curve.buy(10**9, "d", T0 + 10, 1500)]
    # newest first, the way an RPC source pages signatures, split over two batches
    load(db, [create, trades[3], trades[2]], batch_size=1, pipeline=False)
    load(db, [trades[1], trades[0]], pipeline=False)
    rows = db.execute(
        "select signature, slot_order from transactions where token_id = (select id from tokens where mint_address = %s)",
        (curve.mint,),
    ).fetchall()
    assert dict(rows) == {t.signature: i for i, t in enumerate(trades, start=1)}
    latest = trades[-1]
    expected = round(Decimal(latest.sol_amount) / 10**9 / (Decimal(latest.token_amount) / 10**6), 20)
    assert one(db, "select latest_price from pools where pool_address = %s", curve.pool) == expected
    assert one(db, "select token_price_at(%s, to_timestamp(%s))", curve.mint, NOW) == expected


def test_a_known_block_position_orders_the_slot(db: psycopg.Connection) -> None:
    curve = Curve("txindex")
    a = curve.buy(10**9, "a", T0 + 10, 1600)
    b = curve.buy(10**9, "b", T0 + 10, 1600)
    # positions that contradict the signature order: tx_index wins
    import dataclasses

    a, b = dataclasses.replace(a, tx_index=7), dataclasses.replace(b, tx_index=9)
    load(db, [b, a])
    got = dict(db.execute("select signature, slot_order from transactions where signature in (%s, %s)",
                          (a.signature, b.signature)).fetchall())
    assert got == {a.signature: 1, b.signature: 2}


def test_no_holder_gets_a_negative_initial_balance_and_late_trades_fix_the_history(db: psycopg.Connection) -> None:
    curve = Curve("holders")
    buy = curve.buy(2 * 10**9, "h1", T0 + 10, 1700)
    sell = curve.sell(buy.token_amount // 2, "h1", T0 + 20, 1710)
    seller_only = curve.sell(10**10, "h2", T0 + 30, 1720)  # bought before our data: balance unknown
    load(db, [sell, seller_only])  # the later trades arrive first
    load(db, [buy])
    h1, h2 = key("h1"), key("h2")
    rows = {r[0]: r[1:] for r in db.execute(
        "select wallet_address, initial_balance, peak_balance, current_balance from token_holders where token_mint = %s",
        (curve.mint,),
    ).fetchall()}
    bought = Decimal(buy.token_amount) / 10**6
    assert rows[h1] == (bought, bought, bought / 2)
    assert rows[h2] == (0, 0, 0)  # it sold what it had before our data: never negative
    updates = db.execute(
        "select update_type, old_balance, new_balance from holder_updates where wallet_address = %s "
        "order by update_time", (h1,),
    ).fetchall()
    assert updates == [("new_holder", 0, bought), ("balance_change", bought, bought / 2)]


def test_the_curve_complete_event_owns_the_graduation_whatever_arrives_first(db: psycopg.Connection) -> None:
    curve = Curve("graduate")
    complete = CurveComplete(signature=sig("grad-complete"), slot=1800, block_time=T0 + 100, event_index=1,
                             program="pumpfun", mint=curve.mint, bonding_curve=curve.pool, user=key("g"))
    migration = Migration(signature=sig("grad-migrate"), slot=1900, block_time=T0 + 400, event_index=0,
                          program="pumpfun", mint=curve.mint, pool=key("grad-amm"), platform="pumpswap",
                          bonding_curve=curve.pool)
    load(db, [curve.create(), migration])
    assert one(db, "select graduation_timestamp = to_timestamp(%s) from tokens where mint_address = %s",
               T0 + 400, curve.mint)
    load(db, [complete])
    row = one(db, "select is_graduated, extract(epoch from graduation_timestamp)::bigint, graduation_signature, "
                  "graduation_platform from tokens where mint_address = %s", curve.mint)
    assert row == (True, T0 + 100, complete.signature, "pumpswap")
    assert one(db, "select status from pools where pool_address = %s", curve.pool) == "graduated"


def test_every_milestone_crossed_is_queued_at_its_event_time_most_urgent_first(db: psycopg.Connection) -> None:
    curve = Curve("milestones")
    events: list[Any] = [curve.create()]
    seen: dict[int, int] = {}
    t = T0 + 1
    while curve.rt > 0:
        events.append(curve.buy(4 * 10**9, "whale", t, 3000 + t - T0))
        for m in (10, 15, 25, 50, 75, 90, 95, 100):
            if curve.progress() >= m and m not in seen:
                seen[m] = t
        t += 7
    load(db, events)  # one batch: crossings inside it count as well
    rows = db.execute(
        "select milestone, priority, extract(epoch from scheduled_at)::bigint from holder_score_queue "
        "where token_mint = %s and processed_at is null order by priority, scheduled_at", (curve.mint,),
    ).fetchall()
    assert {r[0]: r[2] for r in rows} == seen
    assert set(seen) == {10, 15, 25, 50, 75, 90, 95, 100}
    assert [r[1] for r in rows] == sorted(r[1] for r in rows) and rows[0][1] == 1
    plan = "\n".join(r[0] for r in db.execute(
        "explain select id from holder_score_queue where processed_at is null order by priority, scheduled_at limit 1"
    ).fetchall())
    assert "idx_queue_priority" in plan or "Seq Scan" in plan


def test_a_pool_first_seen_past_milestones_is_queued_for_them(db: psycopg.Connection) -> None:
    curve = Curve("pastmilestones")
    curve.buy(40 * 10**9, "early", T0, 100)  # not delivered
    late = curve.buy(10**9, "late", T0 + 60, 200)
    load(db, [late])
    got = {r[0] for r in db.execute("select milestone from holder_score_queue where token_mint = %s", (curve.mint,))}
    assert got == {m for m in (10, 15, 25, 50, 75, 90, 95, 100) if curve.progress() >= m} and got


def test_technical_ratios_can_be_infinite(db: psycopg.Connection) -> None:
    db.execute(
        "insert into technical_scores (token_mint, timestamp, buy_sell_ratio, recovery_strength) "
        "values ('MintInf', now(), 'Infinity', 'Infinity')"
    )
    assert one(db, "select buy_sell_ratio from technical_scores where token_mint = 'MintInf'") == Decimal("Infinity")


def test_usd_values_do_not_depend_on_whether_prices_came_first(db: psycopg.Connection) -> None:
    curve = Curve("usdorder")
    trade = curve.buy(10**9, "u", T0 + 600, 2500)
    far = SolUsdPrice(price_time=T0, price_usd="100", source="pyth")
    near = SolUsdPrice(price_time=T0 + 590, price_usd="200", source="pyth")
    load(db, [trade, far])
    assert one(db, "select sol_amount_usd from transactions where signature = %s", trade.signature) == Decimal("100.00")
    load(db, [near])  # a closer price arrives later: it must win, as if it had been there first
    assert one(db, "select sol_amount_usd from transactions where signature = %s", trade.signature) == Decimal("200.00")
    price = round(Decimal(trade.sol_amount) / 10**9 / (Decimal(trade.token_amount) / 10**6), 20)
    assert one(db, "select latest_price_usd from pools where pool_address = %s", curve.pool) == round(price * 200, 20)



def test_a_price_committed_after_a_lane_took_its_trades_still_prices_them(db: psycopg.Connection) -> None:
    """A pipelined load stores prices on its main connection while lanes apply trades: trades handed to a
    lane before a price was committed are repriced at the end; those handed over after see it at once;
    and a price that arrives in a later load reprices what the earlier one stored (080's settle step)."""
    t1 = T0 + 20 * 86_400
    curve = Curve("lanelate")
    early = curve.buy(10**9, "e", t1 + 60, 9000)
    late = curve.buy(2 * 10**9, "f", t1 + 120, 9010)
    price = SolUsdPrice(price_time=t1, price_usd="120", source="pyth")
    # batch_size=1: the early trade is handed to the lane before the price is committed
    load(db, [early, price, late], batch_size=1, pipeline=True, workers=1)
    for trade in (early, late):
        assert one(db, "select sol_amount_usd from transactions where signature = %s", trade.signature) == round(
            Decimal(trade.sol_amount) / 10**9 * 120, 2
        )
    other = Curve("lanelate2")
    before = other.buy(3 * 10**9, "g", t1 + 7200 + 30, 9100)
    load(db, [before], batch_size=1, pipeline=True, workers=2)
    assert one(db, "select sol_amount_usd from transactions where signature = %s", before.signature) is None
    load(db, [SolUsdPrice(price_time=t1 + 7200, price_usd="130", source="pyth")], pipeline=True, workers=2)
    assert one(db, "select sol_amount_usd from transactions where signature = %s", before.signature) == Decimal("390.00")

def test_creation_slot_is_kept_and_an_unknown_slot_is_null(db: psycopg.Connection) -> None:
    curve = Curve("slots")
    load(db, [curve.create(slot=4242), curve.buy(10**9, "s", T0 + 5, 0)])
    assert one(db, "select creation_slot from tokens where mint_address = %s", curve.mint) == 4242
    assert one(db, "select count(*) from transactions t join tokens k on k.id = t.token_id "
                   "where k.mint_address = %s and t.slot is null", curve.mint) == 1


# --- retention ------------------------------------------------------------------------------------


def test_ingest_says_how_many_loaded_rows_the_next_retention_run_removes(tmp_path: Path, database_url: str) -> None:
    from megatron.cli import main

    curve = Curve("oldtrades")
    path = tmp_path / "old.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in [curve.buy(10**9, "o", 1_704_153_600, 10),
                                                          curve.buy(10**9, "o", 1_704_153_700, 11)]))
    result = CliRunner().invoke(main, ["ingest", str(path)], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "transactions: 2 of the loaded rows are older than its retention (90 days)" in result.output


def test_retention_keeps_holders_whole_and_refuses_as_of_before_its_horizon(db: psycopg.Connection) -> None:
    curve = Curve("retained")
    t_old = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
    old = [curve.buy(5 * 10**9, "r", t_old, 10), curve.sell(10**12, "r", t_old + 60, 20)]
    load(db, old)
    holder = ("select current_balance, initial_balance, peak_balance, transaction_count from token_holders "
              "where token_mint = %s and wallet_address = %s")
    before = one(db, holder, curve.mint, key("r"))
    db.execute("select megatron.apply_retention('transactions')")
    assert one(db, "select count(*) from transactions where block_time < now() - interval '90 days'") == 0
    assert one(db, "select count(*) from megatron.holder_horizon where token_mint = %s", curve.mint) == 1
    recent = curve.buy(10**9, "r", NOW - 10**7, 30)
    load(db, [recent])
    after = one(db, holder, curve.mint, key("r"))
    bought = Decimal(recent.token_amount) / 10**6
    assert after[1] == before[1] and after[3] == before[3] + 1
    assert after[0] == before[0] + bought and after[2] == max(before[2], before[0] + bought)
    with pytest.raises(psycopg.errors.DataException, match="removed by retention"):
        db.execute("select token_price_at(%s, to_timestamp(%s))", (curve.mint, t_old + 100))


def test_the_frozen_holder_snapshot_outlives_holder_score_retention(db: psycopg.Connection) -> None:
    db.execute(
        "insert into holder_scores (token_mint, timestamp, distribution_score, bonding_curve_progress, is_frozen) "
        "values ('MintFrozen', now() - interval '200 days', 50, 100, true)"
    )
    db.execute("select megatron.apply_retention('holder_scores')")
    assert one(db, "select count(*) from holder_scores where token_mint = 'MintFrozen'") == 0
    assert one(db, "select distribution_score, total_score from frozen_holder_scores where token_mint = 'MintFrozen'") \
        == (Decimal("50.00"), Decimal("50.00"))
