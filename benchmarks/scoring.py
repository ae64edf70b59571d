"""Scoring benchmark (issue 11 "Speed"): the set-based technical score against a per-token loop, in one run.

A fresh migrated database gets a simulated market (`megatron.simulate`, through the loader): --tokens tokens
launched over the day before T, so every one of them traded in the 24 hours before T (the default candidates).
Then:

1. set-based     — the compiled SQL of models/scoring/technical_score_snapshots.sql (the macro
                   technical_scores_for) over a grid holding every candidate token at T: one statement.
2. per token     — the same compiled SQL over a grid holding one token, called in a loop (the original's design:
                   a per-token function per score) over a sample of --sample tokens; the loop's time is
                   extrapolated linearly to all tokens (sample time x tokens / sample). Goal: set-based >= 20x faster.
3. score (e2e)   — `megatron.scoring.score(T)` as users run it: grid fill, sell-off replay of the candidates, the
                   dbt run (seeds, technical and aggregate snapshots, latest_token_scores), counting. Goal <= 10 s
                   for 10,000 tokens.
4. backfill      — `megatron.scoring.backfill(T - 24 h, T, 5 min)` for --backfill-tokens tokens (an explicit list):
                   289 values of T. Reported, no goal.

Prints `name: value unit (ratio vs baseline)` lines.

    .venv/bin/python benchmarks/scoring.py --tokens 10000 --sample 40 --backfill-tokens 1000
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from megatron import db, dbt, migrate, scoring  # noqa: E402
from megatron.ingest.loader import Loader  # noqa: E402
from megatron.simulate import simulate  # noqa: E402

from bench_db import drop, fresh_database  # noqa: E402

TARGET = Path(os.environ.setdefault("DBT_TARGET_PATH", str(ROOT / "target" / "benchmark")))
LOOP_RUN, SET_RUN = 900_000_001, 900_000_002


def dbt_ok(url: str, *args: str) -> None:
    result = dbt.run(list(args), url, capture=True)
    if result.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed:\n{result.stdout[-3000:]}")


def compiled_technical(url: str, run_id: int) -> str:
    dbt_ok(url, "compile", "--select", "technical_score_snapshots", "--vars", f"{{score_run_id: {run_id}}}", "--quiet")
    path = next((TARGET / "compiled" / "megatron" / "models").rglob("technical_score_snapshots.sql"))
    return path.read_text()


WARM_STEP = timedelta(minutes=5)


def load_average() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def bench_time() -> datetime:
    return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


def event_time(event: object) -> int:
    for name in ("block_time", "price_time", "observed_at"):
        value = getattr(event, name, None)
        if value is not None:
            return int(value)
    raise TypeError(f"no time on {event!r}")


def load_market(url: str, tokens: int, seed: int, at: datetime, *, until: datetime, after: datetime | None = None) -> None:
    """Load the simulated market's events with time in (after, until]: the market starts a day before T and runs
    to T + 2 steps, so the same seed gives the same events whichever part is loaded (the warm run loads
    (T, T + 5 min] after the cold run)."""
    started = time.perf_counter()
    low = int(after.timestamp()) if after else None
    high = int(until.timestamp())
    events = (
        e for e in simulate(tokens, 1.0 + 2 * WARM_STEP / timedelta(days=1), seed, at - timedelta(days=1))
        if (low is None or event_time(e) > low) and event_time(e) <= high
    )
    with psycopg.connect(url) as conn:
        loader = Loader(conn, "benchmark", batch_size=50_000, pipeline=True, workers=2)
        loader.add_all(events)
        loader.finish()
        conn.execute("analyze")
        conn.commit()
        trades = conn.execute("select count(*) from transactions").fetchone()[0]  # type: ignore[index]
    span = f"({after:%H:%M}, {until:%H:%M}]" if after else f"up to T = {at:%Y-%m-%d %H:%M}Z"
    print(f"-- {tokens:,} tokens launched in the day before T, trades {span}: {trades:,} trades in the database "
          f"(loaded in {time.perf_counter() - started:.0f} s)", flush=True)


def market_template(server: str, name: str, tokens: int, seed: int) -> datetime:
    """The database ``name`` holding the market up to T (made and loaded the first time); returns its T."""
    with psycopg.connect(server, autocommit=True) as c:
        row = c.execute(
            "select shobj_description(oid, 'pg_database') from pg_database where datname = %s", (name,)
        ).fetchone()
        if row is not None:
            at = datetime.fromisoformat(str(row[0]).split("T=", 1)[1].split(";")[0])
            print(f"-- reusing the market in database {name} (T = {at:%Y-%m-%d %H:%M}Z)", flush=True)
            return at
        c.execute(f'create database "{name}"')
    url = db.with_dbname(server, name)
    migrate.migrate(url)
    at = bench_time()
    load_market(url, tokens, seed, at, until=at)
    with psycopg.connect(server, autocommit=True) as c:
        c.execute(f"comment on database \"{name}\" is 'megatron scoring benchmark market: tokens={tokens}; "
                  f"seed={seed}; T={at.isoformat()};'")
    return at


def clone_database(server: str, template: str, label: str) -> str:
    """A copy of ``template`` (create database ... template), migrated to this checkout's migrations."""
    name = f"megatron_bench_{label}_{secrets.token_hex(3)}"
    with psycopg.connect(server, autocommit=True) as c:
        c.execute(f'create database "{name}" template "{template}"')
    url = db.with_dbname(server, name)
    migrate.migrate(url)
    return url


def report_run(run: scoring.ScoreRun) -> None:
    for text in run.summary_lines():
        print("   " + text, flush=True)
    print(f"   sell-off replay {run.replay_seconds:.2f} s ({run.replayed_tokens:,} tokens), "
          f"dbt models {run.models_seconds:.2f} s", flush=True)
    results = TARGET / "run_results.json"
    if results.exists():
        timed = json.loads(results.read_text()).get("results", [])
        slow = sorted(timed, key=lambda r: -float(r.get("execution_time", 0)))[:8]
        print("   dbt models: " + ", ".join(
            f"{r['unique_id'].rsplit('.', 1)[-1]} {float(r['execution_time']):.1f} s" for r in slow), flush=True)


def line(name: str, value: float, unit: str, baseline: float | None = None, label: str = "") -> None:
    ratio = f" ({baseline / value:.1f}× faster than {label})" if baseline else ""
    print(f"{name}: {value:.4g} {unit}{ratio}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=40, help="Tokens scored one by one for the baseline.")
    parser.add_argument("--backfill-tokens", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database.")
    parser.add_argument("--skip-cold-score", action="store_true",
                        help="Replay the sell-offs of T (cold) without the end-to-end score(T); score(T + 5 min) runs.")
    parser.add_argument("--reuse-db", metavar="NAME",
                        help="Keep the market loaded up to T in database NAME (loaded the first time) and run on a "
                             "copy of it: the next runs skip the load.")
    args = parser.parse_args()

    server = db.database_url()
    with psycopg.connect(server) as c:
        version = c.execute("select version()").fetchone()[0]  # type: ignore[index]
        edition = c.execute("select current_setting('timescaledb.license', true)").fetchone()[0]  # type: ignore[index]
    print(f"server: {version.split(',')[0]}, TimescaleDB license {edition}; load average {load_average()}", flush=True)
    if args.reuse_db:
        at = market_template(server, args.reuse_db, args.tokens, args.seed)
        url = clone_database(server, args.reuse_db, "scoring")
    else:
        url = fresh_database(server, "scoring")
        at = bench_time()
        load_market(url, args.tokens, args.seed, at, until=at)
    try:
        # the seeds and views the scoring models read, then the compiled SQL for the two grids
        dbt_ok(url, "build", "--select", "+tag:scoring", "--resource-type", "model", "--resource-type", "seed",
               "--quiet")
        set_sql = compiled_technical(url, SET_RUN)
        loop_sql = compiled_technical(url, LOOP_RUN)

        # end to end first, so its sell-off replay is the first one (cold: every token from its first trade)
        print(f"load average before score(T): {load_average()}", flush=True)
        if args.skip_cold_score:
            with psycopg.connect(url) as conn:
                t0 = time.perf_counter()
                conn.execute("select megatron.replay_selloffs(%s::text[], 'infinity'::timestamptz)",
                             (scoring_candidates(conn, at),))
                conn.commit()
            line("selloff_replay_cold", time.perf_counter() - t0, "s", label="")
        else:
            run = scoring.score(at, url=url)
            line("score_end_to_end_cold", run.seconds, "s", label="")
            report_run(run)

        with psycopg.connect(url) as conn:
            conn.execute("set jit = off")  # as the score_snapshot materialization runs it
            candidates = scoring_candidates(conn, at)
            conn.execute("insert into megatron.score_grid select %s, m, %s from unnest(%s::text[]) as m",
                         (SET_RUN, at, candidates))
            # the grid's statistics as a scoring run sees them (its own rows); stale ones (an earlier run's ids only)
            # make the planner expect one pair for the literal run id and nest loops over the window aggregates
            conn.execute("analyze megatron.score_grid")
            conn.commit()
            print(f"candidates at T: {len(candidates):,} tokens", flush=True)

            set_times = []
            for _ in range(3):
                t0 = time.perf_counter()
                rows = conn.execute(set_sql).fetchall()  # type: ignore[arg-type]
                set_times.append(time.perf_counter() - t0)
            set_seconds = statistics.median(set_times)
            assert len(rows) > 0

            sample = candidates[:: max(1, len(candidates) // args.sample)][: args.sample]
            t0 = time.perf_counter()
            for mint in sample:
                conn.execute("delete from megatron.score_grid where run_id = %s", (LOOP_RUN,))
                conn.execute("insert into megatron.score_grid values (%s, %s, %s)", (LOOP_RUN, mint, at))
                conn.execute(loop_sql).fetchall()  # type: ignore[arg-type]
            loop_seconds = (time.perf_counter() - t0) / len(sample) * len(candidates)
            conn.execute("delete from megatron.score_grid")
            conn.commit()
        line("technical_per_token_loop", loop_seconds, "s",
             label=f"(extrapolated from {len(sample)} tokens to {len(candidates):,})")
        line("technical_set_based", set_seconds, "s", loop_seconds, "the per-token loop")
        print(f"   set-based runs: {', '.join(f'{t:.2f}' for t in set_times)} s", flush=True)

        # warm: the next five minutes of the market arrive, then T + 5 min is scored (incremental replay)
        load_market(url, args.tokens, args.seed, at, after=at, until=at + WARM_STEP)
        print(f"load average before score(T + 5 min): {load_average()}", flush=True)
        run = scoring.score(at + WARM_STEP, url=url)
        line("score_end_to_end_warm", run.seconds, "s", label="")
        report_run(run)
        print(f"   load average after: {load_average()}", flush=True)

        if args.backfill_tokens > 0:
            with psycopg.connect(url) as conn:
                mints = scoring_candidates(conn, at)[: args.backfill_tokens]
            done_at = time.perf_counter()

            def step(done: int, total: int) -> None:
                print(f"   backfill {done}/{total} times ({time.perf_counter() - done_at:.0f} s)", flush=True)

            run = scoring.backfill(at - timedelta(hours=24), at, timedelta(minutes=5),
                                   tokens=scoring.TokenSelection(tuple(mints)), url=url, progress=step, chunk=48)
            line("backfill_24h_5m", run.seconds, "s", label="")
            print(f"   {len(mints):,} tokens, {run.times} times, {run.pairs:,} (token, T) pairs, "
                  f"{run.pairs / run.seconds:.0f} pairs/s", flush=True)
            for text in run.summary_lines():
                print("   " + text, flush=True)
    finally:
        if not args.keep:
            drop(server, url)


def scoring_candidates(conn: psycopg.Connection, at: datetime) -> list[str]:
    """The default candidates at T (migration 050's rule), in mint order."""
    conn.execute("select megatron.fill_score_grid(%s, array[%s]::timestamptz[])", (LOOP_RUN - 1, at))
    rows = conn.execute("delete from megatron.score_grid where run_id = %s returning token_mint",
                        (LOOP_RUN - 1,)).fetchall()
    return sorted(r[0] for r in rows)


if __name__ == "__main__":
    main()
