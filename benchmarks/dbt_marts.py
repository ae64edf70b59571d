"""dbt marts benchmark: the marts against the seed's own SQL, on the same server, in one run (issue 10).

For each size (a fraction of the issue's 100,000 tokens over a simulated week) a fresh migrated database gets
the simulated market through the loader, synthetic score history (technical, holder and risk rows every
15 minutes per token), and then:

1. candles 1m full   — the mart's compiled full-build SQL vs one bare `group by token, minute` pass with
                       TimescaleDB first/last (goal ≤ 2×).
2. candles 1m incr   — `dbt run -s price_candles_1m` after the last 5 minutes of trades are loaded
                       (the model's own execution time from run_results.json; goal ≤ 1 s at 10M trades).
3. latest scores     — one token read from the marts vs the seed's DISTINCT ON views (verbatim), and all
                       rows (goal ≥ 10×, one token < 5 ms).
4. top tokens        — the mart's compiled SQL vs the seed's materialized-view SQL verbatim (its
                       price_candles_1m filled from the 1m mart, its two views created as the seed wrote
                       them) (goal ≥ 10×).
5. holders           — the holder_distribution mart's compiled SQL vs the seed's array functions called
                       per token over token_holders (goal ≥ 10×).

Prints `name: value unit (ratio vs baseline)` lines.

    .venv/bin/python benchmarks/dbt_marts.py --sizes 500,1000,2000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from megatron import db, dbt  # noqa: E402
from megatron.events import Trade  # noqa: E402
from megatron.ingest.loader import Loader  # noqa: E402
from megatron.simulate import simulate  # noqa: E402

from bench_db import drop, fresh_database  # noqa: E402

FULL_TOKENS = 100_000
# dbt writes its artifacts here, not in the project's target/ (a test run may use that one at the same time)
TARGET = Path(os.environ.setdefault("DBT_TARGET_PATH", str(ROOT / "target" / "benchmark")))

BARE_CANDLES = """
create temp table bare_candles as
select
    token_id,
    time_bucket(interval '1 minute', block_time) as bucket,
    first(price_per_token, block_time) as open,
    max(price_per_token) as high,
    min(price_per_token) as low,
    last(price_per_token, block_time) as close,
    sum(token_amount) as volume_token,
    sum(sol_amount) as volume_sol,
    count(*) as trade_count
from transactions
where type in ('buy', 'sell') and price_per_token > 0
group by 1, 2
"""

SEED_VIEWS = """
create schema seed;
CREATE VIEW seed.latest_technical_scores AS
SELECT DISTINCT ON (token_mint)
    token_mint,
    timestamp,
    total_score,
    market_cap_score,
    bonding_curve_score,
    trading_health_score,
    selloff_response_score,
    market_cap_usd,
    bonding_curve_progress,
    volume_24h_usd
FROM technical_scores
ORDER BY token_mint, timestamp DESC;
CREATE VIEW seed.latest_holder_scores_v2 AS
SELECT DISTINCT ON (hs.token_mint)
    hs.token_mint,
    hs.timestamp,
    hs.total_score,
    hs.distribution_score,
    hs.quality_score,
    hs.activity_score,
    hs.total_holders,
    hs.bonding_curve_progress,
    hs.confidence_score,
    rm.concentration_risk,
    rm.rug_risk_score
FROM holder_scores hs
LEFT JOIN risk_metrics rm ON
    hs.token_mint = rm.token_mint
    AND rm.timestamp = (
        SELECT MAX(timestamp)
        FROM risk_metrics
        WHERE token_mint = hs.token_mint
    )
WHERE hs.is_frozen = FALSE OR hs.bonding_curve_progress < 100
ORDER BY hs.token_mint, hs.timestamp DESC;
"""

# the seed's materialized-view body, verbatim; its views resolve to the seed schema above
SEED_TOP_TOKENS = """
SELECT
    t.id as token_id,
    t.mint_address,
    t.symbol,
    t.name,
    t.platform,
    p.bonding_curve_progress,
    p.latest_price_usd,
    COALESCE(v.volume_24h_usd, 0) as volume_24h_usd,
    COALESCE(ts.total_score, 0) as technical_score,
    COALESCE(hs.total_score, 0) as holder_score,
    t.created_at
FROM tokens t
LEFT JOIN pools p ON t.id = p.token_id
LEFT JOIN LATERAL (
    SELECT SUM(volume_usd) as volume_24h_usd
    FROM price_candles_1m
    WHERE token_id = t.id
      AND bucket > NOW() - INTERVAL '24 hours'
) v ON true
LEFT JOIN latest_technical_scores ts ON t.mint_address = ts.token_mint
LEFT JOIN latest_holder_scores_v2 hs ON t.mint_address = hs.token_mint
WHERE t.created_at > NOW() - INTERVAL '7 days'
ORDER BY volume_24h_usd DESC
"""

SEED_HOLDERS = """
select
    token_mint,
    count(*) as holders,
    calculate_gini_coefficient(array_agg(current_balance)) as gini,
    calculate_theil_index(array_agg(current_balance)) as theil,
    calculate_shannon_entropy(array_agg(current_balance)) as shannon
from token_holders
where current_balance > 0
group by token_mint
"""

SYNTHETIC_SCORES = """
insert into technical_scores (token_mint, "timestamp", market_cap_score, bonding_curve_score,
                              trading_health_score, selloff_response_score, bonding_curve_progress)
select tk.mint_address, ts, extract(epoch from ts)::bigint % 100, 40, 30, 0, 50
from tokens as tk
cross join lateral generate_series(tk.creation_timestamp, tk.creation_timestamp + interval '12 hours',
                                   interval '15 minutes') as ts;
insert into holder_scores (token_mint, "timestamp", distribution_score, quality_score, activity_score,
                           total_holders, bonding_curve_progress, is_frozen)
select tk.mint_address, ts, 50, 50, 50, 20, 40, false
from tokens as tk
cross join lateral generate_series(tk.creation_timestamp, tk.creation_timestamp + interval '12 hours',
                                   interval '15 minutes') as ts;
insert into risk_metrics (token_mint, "timestamp", concentration_risk, rug_risk_score)
select tk.mint_address, ts, 30, 20
from tokens as tk
cross join lateral generate_series(tk.creation_timestamp, tk.creation_timestamp + interval '12 hours',
                                   interval '15 minutes') as ts;
"""


def timed(conn: psycopg.Connection, statement: str, *, repeat: int = 3, setup: str | None = None) -> float:
    """Median seconds of `statement` (each run rolled back)."""
    times = []
    for _ in range(repeat):
        if setup:
            conn.execute(setup)
        started = time.perf_counter()
        conn.execute(statement)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
        conn.rollback()
    return statistics.median(times)


def dbt_ok(url: str, *args: str) -> None:
    result = dbt.run(list(args), url, capture=True)
    if result.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed:\n{result.stdout[-3000:]}")


def compiled(url: str, model: str, *extra: str) -> str:
    """The model's SQL as dbt compiles it now (the full-build branch while the relation does not exist, else the
    incremental one)."""
    dbt_ok(url, "compile", "--select", model, "--quiet", *extra)
    path = next(p for p in (TARGET / "compiled" / "megatron" / "models").rglob(f"{model}.sql")
                if not p.parent.name.endswith(".yml"))
    return path.read_text()


def model_seconds(model: str) -> float:
    results = json.loads((TARGET / "run_results.json").read_text())["results"]
    return next(float(r["execution_time"]) for r in results if r["unique_id"].endswith(f".{model}"))


def line(name: str, value: float, unit: str, baseline: float | None = None, label: str = "") -> None:
    ratio = f" ({baseline / value:.1f}× faster than {label})" if baseline else ""
    if baseline and value > baseline:
        ratio = f" ({value / baseline:.2f}× {label})"
    print(f"{name}: {value:.4g} {unit}{ratio}", flush=True)


def run_size(server: str, tokens: int, seed: int) -> dict[str, float]:
    url = fresh_database(server, str(tokens))
    figures: dict[str, float] = {}
    try:
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        start = now - timedelta(days=7)
        events = list(simulate(tokens, 7.0, seed, start))
        trades = [e for e in events if isinstance(e, Trade)]
        cutoff = max(t.block_time for t in trades) - 300
        late = [e for e in events if isinstance(e, Trade) and e.block_time > cutoff]
        late_ids = {id(e) for e in late}
        with psycopg.connect(url) as conn:
            loader = Loader(conn, "benchmark", batch_size=50_000, pipeline=True, workers=2)
            loader.add_all([e for e in events if id(e) not in late_ids])
            loader.finish()
            for statement in SYNTHETIC_SCORES.split(";\n"):
                if statement.strip():
                    conn.execute(statement)  # type: ignore[arg-type]
            conn.commit()
            conn.execute("analyze")
            n_trades = conn.execute("select count(*) from transactions").fetchone()[0]  # type: ignore[index]
        print(f"-- {tokens} tokens ({tokens / FULL_TOKENS:.1%} of {FULL_TOKENS:,}), 7 days, "
              f"{n_trades:,} trades (+{len(late):,} in the last 5 minutes)", flush=True)
        figures["trades"] = n_trades

        # 1. full 1m build vs a bare group-by pass (the views and the seed the marts read first)
        dbt_ok(url, "seed", "--quiet")
        dbt_ok(url, "run", "--exclude", "marts", "--quiet")
        full_sql = compiled(url, "price_candles_1m")
        with psycopg.connect(url) as conn:
            bare = timed(conn, BARE_CANDLES)
            ours = timed(conn, f"create temp table candles_full as {full_sql}")
        figures["candles_full"], figures["candles_bare"] = ours, bare
        line("candles_1m_full_build", ours, "s", None)
        print(f"candles_1m_bare_group_by: {bare:.4g} s (mart / bare = {ours / bare:.2f}×, goal ≤ 2×)")

        dbt_ok(url, "build", "--quiet")
        with psycopg.connect(url) as conn:
            loader = Loader(conn, "benchmark late", batch_size=50_000)
            loader.add_all(late)
            loader.finish()
        margin = ("--vars", "{candle_late_margin: '1 second'}")
        incremental_sql = compiled(url, "price_candles_1m", *margin)
        with psycopg.connect(url) as conn:
            incremental_select = timed(conn, f"create temp table candles_incr as {incremental_sql}")
        # the bulk load above is minutes old: without this the late-data margin would rebuild every bucket
        dbt_ok(url, "run", "--select", "price_candles_1m", "--quiet", "--vars", "{candle_late_margin: '1 second'}")
        incremental = model_seconds("price_candles_1m")
        with psycopg.connect(url) as conn:
            rebuilt = conn.execute("select count(*) from marts.price_candles_1m "
                                   "where built_at > now() - interval '1 minute'").fetchone()[0]  # type: ignore[index]
        figures["candles_incremental"] = incremental
        print(f"candles_1m_incremental_after_5_minutes: {incremental:.4g} s "
              f"({len(late):,} new trades on {n_trades:,}, {rebuilt:,} candles rebuilt; goal ≤ 1 s at 10M trades)")
        print(f"candles_1m_incremental_select_only: {incremental_select:.4g} s (the compiled incremental SELECT, "
              f"without dbt's temp table, delete and insert)")
        figures["candles_incremental_select"] = incremental_select

        # 3. latest scores: one token and all rows
        with psycopg.connect(url) as conn:
            conn.execute(SEED_VIEWS)  # type: ignore[arg-type]
            conn.commit()
            mint = conn.execute("select mint_address from tokens order by mint_address offset 7 limit 1").fetchone()[0]  # type: ignore[index]
            for view in ("latest_technical_scores", "latest_holder_scores_v2"):
                seed_one = timed(conn, f"select * from seed.{view} where token_mint = '{mint}'", repeat=5)
                ours_one = timed(conn, f"select * from marts.{view} where token_mint = '{mint}'", repeat=5)
                seed_all = timed(conn, f"select * from seed.{view}")
                ours_all = timed(conn, f"select * from marts.{view}")
                figures[f"{view}_one_seed"], figures[f"{view}_one"] = seed_one, ours_one
                figures[f"{view}_all_seed"], figures[f"{view}_all"] = seed_all, ours_all
                line(f"{view}_one_token", ours_one * 1000, "ms", seed_one * 1000, "the seed's DISTINCT ON view")
                line(f"{view}_all_tokens", ours_all * 1000, "ms", seed_all * 1000, "the seed's DISTINCT ON view")
        with psycopg.connect(url) as conn:
            selects = sum(timed(conn, f"create temp table l as {compiled(url, model)}")
                          for model in ("latest_technical_scores", "latest_holder_scores_v2"))
        print(f"latest_scores_incremental_select_only: {selects:.4g} s (both compiled incremental SELECTs)")
        dbt_ok(url, "run", "--select", "latest_technical_scores", "latest_holder_scores_v2", "--quiet")
        refresh = model_seconds("latest_technical_scores") + model_seconds("latest_holder_scores_v2")
        figures["latest_refresh"] = refresh
        print(f"latest_scores_incremental_refresh: {refresh:.4g} s (both marts, nothing new)")

        # 4. top tokens: the seed's SQL over the raw price_candles_1m filled from the mart
        top_sql = compiled(url, "top_tokens_by_usd_volume")
        with psycopg.connect(url) as conn:
            conn.execute("""insert into price_candles_1m (token_id, bucket, open, high, low, close, open_usd, high_usd,
                low_usd, close_usd, volume_token, volume_sol, volume_usd, trade_count, buyer_count, seller_count)
                select token_id, bucket, open, high, low, close, open_usd, high_usd, low_usd, close_usd,
                       volume_token, volume_sol, volume_usd, trade_count, buyer_count, seller_count
                from marts.price_candles_1m""")
            conn.commit()
            conn.execute("analyze price_candles_1m")
            seed_top = timed(conn, f"set local search_path = seed, public; create temp table t as {SEED_TOP_TOKENS}")
            ours_top = timed(conn, f"create temp table t as {top_sql}")
        figures["top_seed"], figures["top"] = seed_top, ours_top
        line("top_tokens_by_usd_volume_build", ours_top, "s", seed_top, "the seed's materialized-view SQL")

        # 5. holder distribution vs the seed's array functions per token
        holders_sql = compiled(url, "holder_distribution")
        with psycopg.connect(url) as conn:
            seed_h = timed(conn, f"create temp table h as {SEED_HOLDERS}")
            ours_h = timed(conn, f"create temp table h as {holders_sql}")
        figures["holders_seed"], figures["holders"] = seed_h, ours_h
        line("holder_distribution_build", ours_h, "s", seed_h, "the seed's array functions per token")
    finally:
        drop(server, url)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,1000,2000", help="Token counts (comma separated).")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    server = db.database_url()
    with psycopg.connect(server) as c:
        version = c.execute("select version()").fetchone()[0]  # type: ignore[index]
        edition = c.execute("select current_setting('timescaledb.license', true)").fetchone()[0]  # type: ignore[index]
    print(f"server: {version.split(',')[0]}, TimescaleDB license {edition or 'apache (library not preloaded here)'}")
    results = {int(s): run_size(server, int(s), args.seed) for s in args.sizes.split(",")}
    sizes = sorted(results)
    if len(sizes) > 1:
        a, b = sizes[0], sizes[-1]
        for key in ("candles_full", "candles_incremental", "holders", "top"):
            growth = results[b][key] / results[a][key]
            print(f"scaling_{key}: {growth:.2f}× time for {results[b]['trades'] / results[a]['trades']:.2f}× trades")


if __name__ == "__main__":
    main()
