"""Ingest benchmark: the same simulated trades loaded three ways on the same server, in one run.

1. raw COPY  — a binary COPY of the trade rows into a bare table (no keys, indexes, triggers):
               the practical limit of getting these bytes into PostgreSQL.
2. loader    — the project's loader (megatron.ingest.Loader): COPY into staging, set-based upserts
               into tokens, pools, transactions (with the USD trigger), holder_updates, token_holders.
3. naive     — the seed's design done naively, the same work as the loader row by row: per trade an
               INSERT into transactions (the USD trigger firing), a holder_updates row, a
               token_holders upsert and a pools update, each statement its own transaction.
               Run on a prefix of the trades (it is slow) and reported per trade.
4. floor     — a binary COPY of the trades, ids already resolved, straight into the real
               transactions table (its key, two indexes and the USD trigger): what storing the
               trades costs before any loader logic, to show how far raw COPY is reachable.
5. state     — issue 8's question: what the curve state after each trade (virtual and real SOL
               and token reserves, four columns of `transactions`) costs. The loader and the floor
               again, on the same events with those four fields removed (as from a source that does
               not carry them): loader/floor with the state over loader/floor without it must be at
               least 0.9. Without the state the loader stores NULLs, falls back to ordering
               same-slot trades by signature and to progress rebuilt from sums.

Prints `name: value unit (ratio vs baseline)` lines. Goals: loader ≥ 0.6 × raw COPY, ≥ 20 × naive, and the state
columns cost at most 10 % of loader/floor.

    .venv/bin/python benchmarks/ingest.py --tokens 2000 --days 1
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from megatron import db  # noqa: E402
from megatron.events import SolUsdPrice, TokenCreate, Trade  # noqa: E402
from megatron.ingest.loader import Loader  # noqa: E402
from megatron.simulate import simulate  # noqa: E402

from bench_db import drop, fresh_database  # noqa: E402

BARE = """
create table bare_trades (
    signature text, slot bigint, block_time bigint, event_index integer, program text, mint text,
    pool text, side text, wallet text, sol_amount numeric, token_amount numeric,
    virtual_sol_reserves numeric, virtual_token_reserves numeric, real_sol_reserves numeric,
    real_token_reserves numeric, fee numeric, creator_fee numeric, tx_fee bigint
)
"""
BARE_TYPES = ["text", "int8", "int8", "int4", "text", "text", "text", "text", "text", "numeric", "numeric",
              "numeric", "numeric", "numeric", "numeric", "numeric", "numeric", "int8"]


def trade_row(t: Trade) -> tuple[object, ...]:
    return (t.signature, t.slot, t.block_time, t.event_index, t.program, t.mint, t.pool, t.side, t.user,
            t.sol_amount, t.token_amount, t.virtual_sol_reserves, t.virtual_token_reserves, t.real_sol_reserves,
            t.real_token_reserves, t.fee, t.creator_fee, t.tx_fee)


def bench_raw_copy(url: str, trades: list[Trade]) -> float:
    with psycopg.connect(url) as conn:
        conn.execute(BARE)
        conn.commit()
        started = time.perf_counter()
        with conn.cursor().copy("copy bare_trades from stdin (format binary)") as copy:
            copy.set_types(BARE_TYPES)
            for t in trades:
                copy.write_row(trade_row(t))
        conn.commit()
        return time.perf_counter() - started


def without_state(events: list[object]) -> list[object]:
    """The same events with every trade's curve state (the four reserves) removed."""
    return [
        dataclasses.replace(e, virtual_sol_reserves=None, virtual_token_reserves=None, real_sol_reserves=None,
                            real_token_reserves=None) if isinstance(e, Trade) else e
        for e in events
    ]


def bench_copy_into_transactions(url: str, events: list[object]) -> tuple[float, int]:
    from datetime import datetime as dt

    with psycopg.connect(url) as conn:
        loader = Loader(conn, source="benchmark floor setup")
        loader.add_all(e for e in events if isinstance(e, (TokenCreate, SolUsdPrice)))  # type: ignore[misc]
        loader.finish()
        tokens = dict(conn.execute("select mint_address, id from tokens").fetchall())
        pools = dict(conn.execute("select pool_address, id from pools").fetchall())
        trades = [e for e in events if isinstance(e, Trade) and e.pool in pools]
        started = time.perf_counter()
        with conn.cursor().copy(
            "copy transactions (signature, event_index, pool_id, token_id, block_time, slot, type, user_address, "
            "amount_in, amount_in_decimals, amount_out, amount_out_decimals, sol_amount, token_amount, price_per_token, "
            "virtual_sol_reserves, virtual_token_reserves, real_sol_reserves, real_token_reserves, slot_order) "
            "from stdin (format binary)"
        ) as copy:
            copy.set_types(["text", "int2", "uuid", "uuid", "timestamptz", "int8", "text", "text", "numeric", "int4",
                            "numeric", "int4", "numeric", "numeric", "numeric", "numeric", "numeric", "numeric",
                            "numeric", "int4"])
            for t in trades:
                buy = t.side == "buy"
                sol, tok = Decimal(t.sol_amount).scaleb(-9), Decimal(t.token_amount).scaleb(-6)
                copy.write_row((
                    t.signature, t.event_index, pools[t.pool], tokens[t.mint], dt.fromtimestamp(t.block_time, timezone.utc),
                    t.slot, t.side, t.user, t.sol_amount if buy else t.token_amount, 9 if buy else 6,
                    t.token_amount if buy else t.sol_amount, 6 if buy else 9, sol, tok, sol / tok if tok else None,
                    t.virtual_sol_reserves, t.virtual_token_reserves, t.real_sol_reserves, t.real_token_reserves, 1,
                ))
        conn.commit()
        return time.perf_counter() - started, len(trades)


def bench_loader(url: str, events: list[object], workers: int) -> tuple[float, Loader]:
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        loader = Loader(conn, source="benchmark", workers=workers)
        loader.add_all(events)  # type: ignore[arg-type]
        counts = loader.finish()
        elapsed = time.perf_counter() - started
        assert counts.events_rejected == 0, counts
        return elapsed, loader


NAIVE_TRADE = """
insert into transactions (
    signature, event_index, pool_id, token_id, block_time, slot, type, user_address,
    amount_in, amount_in_decimals, amount_out, amount_out_decimals, sol_amount, token_amount, price_per_token
)
select %(sig)s, %(idx)s, p.id, p.token_id, to_timestamp(%(bt)s), %(slot)s, %(side)s, %(user)s,
       %(amount_in)s, %(in_dec)s, %(amount_out)s, %(out_dec)s, %(sol)s / 1e9, %(tok)s / 1e6,
       (%(sol)s / 1e9) / nullif(%(tok)s / 1e6, 0)
from pools as p where p.pool_address = %(pool)s
"""
NAIVE_HOLDER = """
insert into token_holders (token_mint, wallet_address, current_balance, total_bought, total_sold, transaction_count,
                           first_transaction_time, last_transaction_time)
values (%(mint)s, %(user)s, greatest(%(delta)s / 1e6, 0), %(bought)s / 1e6, %(sold)s / 1e6, 1, to_timestamp(%(bt)s), to_timestamp(%(bt)s))
on conflict (token_mint, wallet_address) do update set
    total_bought = token_holders.total_bought + excluded.total_bought,
    total_sold = token_holders.total_sold + excluded.total_sold,
    current_balance = greatest(token_holders.total_bought + excluded.total_bought - token_holders.total_sold - excluded.total_sold, 0),
    transaction_count = token_holders.transaction_count + 1,
    last_transaction_time = excluded.last_transaction_time
"""
NAIVE_HOLDER_UPDATE = """
insert into holder_updates (token_mint, update_time, update_type, wallet_address, old_balance, new_balance, balance_change)
select %(mint)s, to_timestamp(%(bt)s), 'balance_change', %(user)s,
       coalesce(h.total_bought - h.total_sold, 0), coalesce(h.total_bought - h.total_sold, 0) + %(delta)s / 1e6, %(delta)s / 1e6
from (select 1) as one
left join token_holders as h on h.token_mint = %(mint)s and h.wallet_address = %(user)s
"""
NAIVE_POOL = """
update pools set virtual_sol_reserves = %(vs)s, virtual_token_reserves = %(vt)s, real_sol_reserves = %(rs)s,
                 real_token_reserves = %(rt)s, updated_at = now()
where pool_address = %(pool)s
"""


def bench_naive(url: str, events: list[object], max_trades: int) -> tuple[float, int]:
    """Row by row, each event its own transaction (autocommit), as an app without batching would."""
    with psycopg.connect(url, autocommit=True) as conn:
        # tokens, pools and prices first (not timed): the naive path is measured on trades
        loader = Loader(conn, source="benchmark naive setup")
        loader.add_all(e for e in events if isinstance(e, (TokenCreate, SolUsdPrice)))  # type: ignore[misc]
        loader.finish()
        conn.autocommit = True
        trades = [e for e in events if isinstance(e, Trade) and e.program == "pumpfun"][:max_trades]
        started = time.perf_counter()
        for t in trades:
            buy = t.side == "buy"
            params = {
                "sig": t.signature, "idx": t.event_index, "bt": t.block_time, "slot": t.slot, "side": t.side,
                "user": t.user, "pool": t.pool, "mint": t.mint, "sol": t.sol_amount, "tok": t.token_amount,
                "amount_in": t.sol_amount if buy else t.token_amount, "in_dec": 9 if buy else 6,
                "amount_out": t.token_amount if buy else t.sol_amount, "out_dec": 6 if buy else 9,
                "delta": t.token_amount if buy else -t.token_amount,
                "bought": t.token_amount if buy else 0, "sold": 0 if buy else t.token_amount,
                "vs": t.virtual_sol_reserves, "vt": t.virtual_token_reserves,
                "rs": t.real_sol_reserves, "rt": t.real_token_reserves,
            }
            conn.execute(NAIVE_TRADE, params)
            conn.execute(NAIVE_HOLDER_UPDATE, params)
            conn.execute(NAIVE_HOLDER, params)
            conn.execute(NAIVE_POOL, params)
        return time.perf_counter() - started, len(trades)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--naive-trades", type=int, default=10_000, help="trades for the naive path (default 10,000)")
    ap.add_argument("--workers", type=int, default=2, help="loader lanes (default 2, as the CLI)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported (default 3)")
    args = ap.parse_args()

    server = db.database_url()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc) - timedelta(days=args.days)
    t0 = time.perf_counter()
    events = list(simulate(args.tokens, args.days, args.seed, start))
    gen = time.perf_counter() - t0
    trades = [e for e in events if isinstance(e, Trade)]
    print(f"# {args.tokens} tokens, {args.days} days, seed {args.seed}: {len(events):,} events, {len(trades):,} trades "
          f"(generated in {gen:.1f} s)")

    stateless = without_state(events)
    rates: dict[str, list[float]] = {
        k: [] for k in ("raw", "loader", "one_lane", "naive", "floor", "loader_no_state", "floor_no_state")
    }
    server_time = (0.0, 0.0, 0.0)
    for round_ in range(args.repeat):
        urls = {k: fresh_database(server, k) for k in rates}
        try:
            raw_s = bench_raw_copy(urls["raw"], trades)
            loader_s, loader = bench_loader(urls["loader"], events, args.workers)
            one_s, _ = bench_loader(urls["one_lane"], events, 1)
            naive_s, naive_n = bench_naive(urls["naive"], events, args.naive_trades)
            floor_s, floor_n = bench_copy_into_transactions(urls["floor"], events)
            plain_s, _ = bench_loader(urls["loader_no_state"], stateless, args.workers)
            plain_floor_s, plain_floor_n = bench_copy_into_transactions(urls["floor_no_state"], stateless)
        finally:
            for url in urls.values():
                drop(server, url)
        rates["raw"].append(len(trades) / raw_s)
        rates["loader"].append(len(trades) / loader_s)
        rates["one_lane"].append(len(trades) / one_s)
        rates["naive"].append(naive_n / naive_s)
        rates["floor"].append(floor_n / floor_s)
        rates["loader_no_state"].append(len(trades) / plain_s)
        rates["floor_no_state"].append(plain_floor_n / plain_floor_s)
        if round_ == 0:
            server_time = (loader.copy_seconds, loader.apply_seconds, loader_s)
        print(f"# round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in rates.items()) + " trades/s", flush=True)

    med = {k: statistics.median(v) for k, v in rates.items()}

    def spread(k: str) -> str:
        return f"{min(rates[k]):,.0f}..{max(rates[k]):,.0f}" if args.repeat > 1 else "one round"

    raw, loader_rate, naive = med["raw"], med["loader"], med["naive"]
    print(f"# medians of {args.repeat} rounds (range in brackets); each round loads into fresh databases")
    print(f"raw_copy: {raw:,.0f} trades/s (1.00 baseline) [{spread('raw')}]")
    print(f"loader: {loader_rate:,.0f} trades/s ({loader_rate / raw:.2f} x raw COPY; {loader_rate / naive:.1f} x naive; "
          f"{args.workers} lanes) [{spread('loader')}]")
    print(f"loader_one_lane: {med['one_lane']:,.0f} trades/s ({med['one_lane'] / raw:.2f} x raw COPY; "
          f"{med['one_lane'] / naive:.1f} x naive; {args.workers} lanes are {loader_rate / med['one_lane']:.2f} x faster) "
          f"[{spread('one_lane')}]")
    copy_s, apply_s, wall_s = server_time
    print(f"loader_server_time: COPY {copy_s:.2f} s and ingest_apply() {apply_s:.2f} s, summed over lanes, "
          f"in {wall_s:.2f} s of wall time (round 1)")
    print(f"naive: {naive:,.0f} trades/s ({naive / raw:.3f} x raw COPY) [{spread('naive')}]")
    print(f"copy_into_transactions: {med['floor']:,.0f} trades/s ({med['floor'] / raw:.2f} x raw COPY): storing the "
          f"trades alone, before any loader logic [{spread('floor')}]")
    print(f"goal_raw: loader/raw = {loader_rate / raw:.2f} (goal >= 0.6) -> {'met' if loader_rate / raw >= 0.6 else 'MISSED'}")
    # the state columns: each round's ratio (its own floors), then their median
    ratio_pairs = [
        (lo / fl) / (lp / fp)
        for lo, fl, lp, fp in zip(rates["loader"], rates["floor"], rates["loader_no_state"], rates["floor_no_state"])
    ]
    state = statistics.median(ratio_pairs)
    print(f"loader_no_state: {med['loader_no_state']:,.0f} trades/s, floor_no_state {med['floor_no_state']:,.0f}: the same "
          f"events without the four reserves [{spread('loader_no_state')}; floor {spread('floor_no_state')}]")
    print(f"state_columns: loader/floor with the curve state {med['loader'] / med['floor']:.2f}, without it "
          f"{med['loader_no_state'] / med['floor_no_state']:.2f}; per round with/without "
          + ", ".join(f"{r:.2f}" for r in ratio_pairs))
    print(f"state_loader_alone: loader with the state / without it = {med['loader'] / med['loader_no_state']:.2f}, "
          f"floor with / without = {med['floor'] / med['floor_no_state']:.2f}")
    print(f"goal_state: (loader/floor with state) / (without) = {state:.2f} (goal >= 0.9) -> "
          f"{'met' if state >= 0.9 else 'MISSED'}")
    print(f"goal_naive: loader/naive = {loader_rate / naive:.1f} (goal >= 20) -> {'met' if loader_rate / naive >= 20 else 'MISSED'}")

if __name__ == "__main__":
    main()
