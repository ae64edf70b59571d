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
import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from megatron import db, dbt, scoring  # noqa: E402
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
    args = parser.parse_args()

    server = db.database_url()
    with psycopg.connect(server) as c:
        version = c.execute("select version()").fetchone()[0]  # type: ignore[index]
        edition = c.execute("select current_setting('timescaledb.license', true)").fetchone()[0]  # type: ignore[index]
    print(f"server: {version.split(',')[0]}, TimescaleDB license {edition}", flush=True)
    url = fresh_database(server, "scoring")
    try:
        at = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            loader = Loader(conn, "benchmark", batch_size=50_000, pipeline=True, workers=2)
            loader.add_all(simulate(args.tokens, 1.0, args.seed, at - timedelta(days=1)))
            loader.finish()
            conn.execute("analyze")
            conn.commit()
            trades = conn.execute("select count(*) from transactions").fetchone()[0]  # type: ignore[index]
        print(f"-- {args.tokens:,} tokens launched in the day before T = {at:%Y-%m-%d %H:%M}Z, {trades:,} trades "
              f"(loaded in {time.perf_counter() - started:.0f} s)", flush=True)

        # the seeds and views the scoring models read, then the compiled SQL for the two grids
        dbt_ok(url, "build", "--select", "+tag:scoring", "--resource-type", "model", "--resource-type", "seed",
               "--quiet")
        set_sql = compiled_technical(url, SET_RUN)
        loop_sql = compiled_technical(url, LOOP_RUN)
        with psycopg.connect(url) as conn:
            conn.execute("set jit = off")  # as the score_snapshot materialization runs it
            candidates = scoring_candidates(conn, at)
            conn.execute("insert into megatron.score_grid select %s, m, %s from unnest(%s::text[]) as m",
                         (SET_RUN, at, candidates))
            conn.execute("select megatron.replay_selloffs(%s::text[], 'infinity'::timestamptz)", (candidates,))
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

        run = scoring.score(at, url=url)
        line("score_end_to_end", run.seconds, "s", label="")
        for text in run.summary_lines():
            print("   " + text, flush=True)

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
