"""What the USD trigger costs a bulk load: COPY 100,000 trades into transactions three ways.

    no_trigger           no USD trigger (baseline)
    row_trigger          the migration's BEFORE INSERT row trigger (calculate_usd_values), which
                         memoizes its last price lookup for the rest of the statement
    row_trigger_plain    the same row trigger without the memo: one lookup per row (built here
                         only, for comparison)
    statement_trigger    an AFTER INSERT statement trigger reading the transition table and
                         UPDATE-ing the new rows (built here only, for comparison)
    *_shuffled           the same rows in random order: the memo's worst case (trades arrive
                         out of time order, so most rows miss it)

Creates its own database on the server of megatron.db.database_url() (DATABASE_URL or the
embedded cluster), migrates it, runs each variant several times interleaved on the same data,
prints `name: value unit (ratio vs baseline)` lines and drops the database. Not part of the
test run.

    .venv/bin/python benchmarks/usd_trigger.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import random
import secrets
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg

from megatron import db, migrate

COLUMNS = (
    "signature", "event_index", "pool_id", "token_id", "block_time", "slot", "type", "user_address",
    "amount_in", "amount_in_decimals", "amount_out", "amount_out_decimals", "sol_amount", "token_amount",
    "price_per_token",
)
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
TOKENS = 50

# TimescaleDB refuses ALTER TABLE ... DISABLE TRIGGER on a hypertable, so each variant drops
# and creates the triggers it (does not) want.
DROP_TRIGGERS = """
drop trigger if exists update_transaction_usd_values on transactions;
drop trigger if exists bench_usd_statement on transactions;
drop trigger if exists bench_usd_plain on transactions;
"""
ROW_TRIGGER = """
create trigger update_transaction_usd_values
before insert on transactions
for each row
when (current_setting('megatron.usd_values_from', true) is distinct from 'ingest_apply')
execute function calculate_usd_values();
"""
PLAIN_ROW = """
create function bench_usd_plain() returns trigger
language plpgsql
as $$
declare
    v_sol_usd numeric;
begin
    select p.price_usd into v_sol_usd
    from public.sol_usd_prices as p
    where p.price_time <= new.block_time and p.price_time >= new.block_time - interval '15 minutes'
    order by p.price_time desc, p.source desc
    limit 1;
    new.sol_amount_usd := round(new.sol_amount * v_sol_usd, 2);
    new.price_per_token_usd := round(new.price_per_token * v_sol_usd, 20);
    return new;
end
$$;
"""
PLAIN_ROW_TRIGGER = """
create trigger bench_usd_plain
before insert on transactions
for each row
execute function bench_usd_plain();
"""
STATEMENT_FUNCTION = """
create function bench_usd_statement() returns trigger
language plpgsql
as $$
begin
    update public.transactions as tx
    set
        sol_amount_usd = round(tx.sol_amount * p.price_usd, 2),
        price_per_token_usd = round(tx.price_per_token * p.price_usd, 20)
    from new_rows as n
    cross join lateral (
        select s.price_usd
        from public.sol_usd_prices as s
        where s.price_time <= n.block_time and s.price_time >= n.block_time - interval '15 minutes'
        order by s.price_time desc, s.source desc
        limit 1
    ) as p
    where tx.signature = n.signature and tx.event_index = n.event_index and tx.block_time = n.block_time;
    return null;
end
$$;
"""
STATEMENT_TRIGGER = """
create trigger bench_usd_statement
after insert on transactions
referencing new table as new_rows
for each statement
execute function bench_usd_statement();
"""


def prepare(conn: psycopg.Connection, rows: int) -> bytes:
    """Tokens, pools and a SOL/USD price per minute; returns the trades as COPY text."""
    tokens = [(uuid.uuid4(), uuid.uuid4(), f"BenchMint{i:035d}") for i in range(TOKENS)]
    with conn.cursor() as cur:
        for token_id, pool_id, mint in tokens:
            cur.execute(
                "insert into tokens (id, mint_address, platform, creation_signature, creation_timestamp, "
                "creator_address) values (%s, %s, 'pumpfun', 'bench', %s, 'BenchCreator')",
                (token_id, mint, START - timedelta(days=1)),
            )
            cur.execute(
                "insert into pools (id, pool_address, token_id, base_mint, quote_mint, platform) "
                "values (%s, %s, %s, %s, 'So11111111111111111111111111111111111111112', 'pumpfun')",
                (pool_id, f"BenchPool{mint[9:]}", token_id, mint),
            )
        span_minutes = rows // 60 + 2
        cur.execute(
            "insert into sol_usd_prices (price_time, price_usd, source) "
            "select %s + make_interval(mins => m), 150 + (m %% 100) / 10.0, 'bench' "
            "from generate_series(-1, %s) as m",
            (START, span_minutes),
        )
    conn.commit()

    buffer = io.StringIO()
    for i in range(rows):
        token_id, pool_id, _ = tokens[i % TOKENS]
        block_time = START + timedelta(seconds=i)  # one trade a second: about 28 hours, two chunks
        side = "buy" if i % 3 else "sell"
        sol = 0.05 + (i % 97) / 100
        tokens_out = 1_000_000 + (i % 1_000) * 1_000
        buffer.write(
            f"bench{i:012d}\t{i % 2}\t{pool_id}\t{token_id}\t{block_time.isoformat()}\t{300_000_000 + i}\t{side}\t"
            f"BenchUser{i % 5_000:035d}\t{int(sol * 1e9)}\t9\t{tokens_out * 1_000_000}\t6\t{sol:.9f}\t"
            f"{tokens_out}.000000\t{sol / tokens_out:.10f}\n"
        )
    return buffer.getvalue().encode()


def copy_once(conn: psycopg.Connection, data: bytes, trigger_ddl: str) -> float:
    with conn.cursor() as cur:
        cur.execute("truncate transactions")
        cur.execute(DROP_TRIGGERS)
        if trigger_ddl:
            cur.execute(trigger_ddl)
    conn.commit()
    started = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy(f"copy transactions ({', '.join(COLUMNS)}) from stdin") as copy:
            for offset in range(0, len(data), 1 << 20):
                copy.write(data[offset:offset + (1 << 20)])
    conn.commit()
    return time.perf_counter() - started


def priced_rows(conn: psycopg.Connection) -> int:
    row = conn.execute("select count(sol_amount_usd) from transactions").fetchone()
    return int(row[0]) if row else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    server = db.database_url()
    name = f"megatron_bench_{secrets.token_hex(3)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = db.with_dbname(server, name)
    try:
        migrate.migrate(url)
        with psycopg.connect(url) as conn:
            conn.execute("set client_min_messages = warning")
            data = prepare(conn, args.rows)
            conn.execute(STATEMENT_FUNCTION)
            conn.execute(PLAIN_ROW)
            conn.commit()
            lines = data.splitlines(keepends=True)
            random.Random(7).shuffle(lines)
            shuffled = b"".join(lines)
            variants = {
                "no_trigger": ("", data),
                "row_trigger": (ROW_TRIGGER, data),
                "row_trigger_plain": (PLAIN_ROW_TRIGGER, data),
                "statement_trigger": (STATEMENT_TRIGGER, data),
                "no_trigger_shuffled": ("", shuffled),
                "row_trigger_shuffled": (ROW_TRIGGER, shuffled),
                "row_trigger_plain_shuffled": (PLAIN_ROW_TRIGGER, shuffled),
            }
            seconds: dict[str, list[float]] = {v: [] for v in variants}
            priced: dict[str, int] = {}
            copy_once(conn, data, "")  # warm-up: caches, chunk creation paths
            for _ in range(args.repeat):
                for variant, (trigger_ddl, rows) in variants.items():
                    seconds[variant].append(copy_once(conn, rows, trigger_ddl))
                    priced[variant] = priced_rows(conn)
            version = conn.execute(
                "select current_setting('server_version'), extversion, current_setting('timescaledb.license') "
                "from pg_extension where extname = 'timescaledb'"
            ).fetchone()
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')

    assert version is not None
    print(f"# PostgreSQL {version[0]}, TimescaleDB {version[1]} ({version[2]}); {args.rows:,} rows, "
          f"median of {args.repeat} COPYs each into transactions (1-day chunks, its key and two indexes)")
    for variant in variants:
        base_name = "no_trigger_shuffled" if variant.endswith("_shuffled") else "no_trigger"
        baseline = statistics.median(seconds[base_name])
        median = statistics.median(seconds[variant])
        label = "baseline" if variant == base_name else f"vs {base_name}"
        print(f"copy_{args.rows // 1000}k_{variant}: {args.rows / median:,.0f} rows/s ({baseline / median:.2f}x {label})")
    for variant in variants:
        if variant.startswith("no_trigger"):
            continue
        base_name = "no_trigger_shuffled" if variant.endswith("_shuffled") else "no_trigger"
        baseline = statistics.median(seconds[base_name])
        extra = (statistics.median(seconds[variant]) - baseline) / args.rows * 1e6
        print(f"usd_overhead_{variant}: {extra:.1f} us/row ({statistics.median(seconds[variant]) / baseline:.2f}x "
              f"time vs {base_name})")
    for variant in ("row_trigger", "row_trigger_plain", "statement_trigger", "row_trigger_shuffled"):
        print(f"priced_rows_{variant}: {priced[variant]:,} rows ({priced[variant] / args.rows:.2f}x of loaded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
