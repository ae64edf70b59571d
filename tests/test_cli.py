"""The command line as users run it: the main job twice, simulate to a file and ingest it, errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg

from megatron import db

MEGATRON = [sys.executable, "-m", "megatron.cli"]


def run(args: list[str], url: str, ingest_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=url)
    if ingest_url:
        env["MEGATRON_INGEST_URL"] = ingest_url
    return subprocess.run([*MEGATRON, *args], env=env, capture_output=True, text=True, timeout=600)


def table_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as c:
        return {
            t: int(c.execute(f"select count(*) from {t}").fetchone()[0])  # type: ignore[index]
            for t in ("tokens", "pools", "transactions", "token_holders", "holder_updates", "sol_usd_prices",
                      "megatron.ingest_rejects", "megatron.schema_migrations")
        }


def test_the_main_job_loads_fixtures_and_a_market_and_a_second_run_changes_nothing(
    empty_database_url: str, fixtures_dir: Path, ingest_role: tuple[str, str]
) -> None:
    # as on the embedded cluster: the loads log in as a role that is only a member of megatron_ingest
    loader_url = db.with_user(empty_database_url, *ingest_role)
    first = run(["demo", "--fixtures", str(fixtures_dir), "--sim-tokens", "40"], empty_database_url, loader_url)
    assert first.returncode == 0, first.stderr
    assert re.search(r"migrations: \d+ applied", first.stdout)
    assert "30 records read" in first.stdout, "the real fixtures were loaded"
    assert "simulated: 40 tokens" in first.stdout
    assert "TimescaleDB edition:" in first.stdout and "transactions" in first.stdout
    assert "dbt build: every model built and every test passed" in first.stdout
    assert "top tokens by 24h USD volume (marts.top_tokens_by_usd_volume):" in first.stdout
    # it ends by scoring the simulated market at its end: every simulated token, the holder-gated ones
    # with a holder score
    top = first.stdout.split("top tokens by the 999 score as of ", 1)[1].splitlines()[3:]
    assert re.search(r"scoring run \d+: 40 \(token, T\) pairs", first.stdout), first.stdout[-3000:]
    assert len(top) >= 10 and any(float(row.split()[3]) > 0 for row in top[:10]), "\n".join(top)
    with psycopg.connect(empty_database_url) as c:
        marts = c.execute("select (select count(*) from marts.price_candles_1m), "
                          "(select count(*) from marts.top_tokens_by_usd_volume)").fetchone()
    assert marts is not None and marts[0] > 0 and marts[1] > 0, "the demo built the marts"
    after_first = table_counts(empty_database_url)
    assert after_first["transactions"] > 17

    second = run(["demo", "--fixtures", str(fixtures_dir), "--sim-tokens", "40"], empty_database_url, loader_url)
    assert second.returncode == 0, second.stderr
    assert "migrations: 0 applied" in second.stdout
    assert "dbt build: every model built and every test passed" in second.stdout
    loaded = [int(n) for n in re.findall(r"= (\d+) loaded \+", second.stdout)]
    assert loaded == [0, 0], "nothing new is loaded the second time"
    assert table_counts(empty_database_url) == after_first


def test_simulate_writes_gzipped_canonical_jsonl_that_ingest_streams_and_loads(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "market.jsonl.gz"
    written = run(["simulate", "--tokens", "20", "--days", "0.2", "--seed", "7", "--out", str(out)], database_url)
    assert written.returncode == 0, written.stderr
    assert out.exists() and "simulated: 20 tokens" in written.stdout
    import gzip

    with gzip.open(out, "rt") as fh:
        lines = sum(1 for _ in fh)
    loaded = run(["ingest", str(out)], database_url)
    assert loaded.returncode == 0, loaded.stderr
    assert f"{lines} records read = {lines} decoded + 0 skipped (failed on chain) + 0 rejected" in loaded.stdout
    assert f"events: {lines} read = {lines} loaded" in loaded.stdout


def test_ingest_of_a_missing_path_is_a_sentence(database_url: str, tmp_path: Path) -> None:
    result = run(["ingest", str(tmp_path / "nope.jsonl")], database_url)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.jsonl'} does not exist."


def test_ingest_needs_paths_or_rpc_but_not_both(database_url: str) -> None:
    result = run(["ingest"], database_url)
    assert result.returncode == 1 and "Give either PATH" in result.stderr
    assert "Traceback" not in result.stderr
