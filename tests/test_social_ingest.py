"""Social observations through `megatron ingest FILE`, as users run it: the ingest role, committed runs,
rejects with reasons and raw input, counts that reconcile, re-runs that load nothing new."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import base58
import psycopg
import pytest

from megatron import db as megatron_db

NOW = int(time.time())
T0 = NOW - 6 * 3600  # every good observation lies in the last hours


def mint(name: str) -> str:
    return base58.b58encode(name.encode().ljust(32, b"\x01")[:32]).decode()


def observation(name: str, at: int, **over: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "v": 1, "kind": "social_observation", "mint": mint(name), "observed_at": at, "source": "tweetscout",
        "handle": f"{name[:10]}_coin", "twitter_id": "1790000000000000001", "followers_count": 1200,
        "friends_count": 80, "tweets_count": 45, "account_created_at": at - 3 * 86400, "verified": False,
        "score": 57.25, "influencers_count": 3, "projects_count": 1, "venture_capitals_count": 0,
        "mentions_24h": 40, "smart_mentions_24h": 2, "engagement_24h": 900,
    }
    obj.update(over)
    return obj


def megatron_ingest(url: str, loader_url: str, *paths: Path) -> tuple[int, str]:
    """`megatron ingest PATH…` in a subprocess, as the ingest role; never a traceback."""
    env = dict(os.environ, DATABASE_URL=url, MEGATRON_INGEST_URL=loader_url)
    result = subprocess.run([sys.executable, "-m", "megatron.cli", "ingest", *map(str, paths)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    found = re.search(r"ingest run (\d+):", result.stdout)
    assert found, result.stdout
    return int(found.group(1)), result.stdout


@pytest.fixture(scope="module")
def loader_url(database_url: str, ingest_role: tuple[str, str]) -> str:
    return megatron_db.with_user(database_url, *ingest_role)


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


def run_row(conn: psycopg.Connection, run_id: int) -> dict[str, Any]:
    cur = conn.execute("select * from megatron.ingest_runs where run_id = %s", (run_id,))
    names = [d.name for d in cur.description or []]
    row = cur.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_good_observations_load_as_the_ingest_role_with_every_field(
    db: psycopg.Connection, loader_url: str, database_url: str, tmp_path: Path
) -> None:
    lines = [json.dumps(observation("alpha", T0 + 60 * k, followers_count=1000 + k)) for k in range(5)]
    path = write(tmp_path / "social.jsonl", lines)
    run_id, out = megatron_ingest(database_url, loader_url, path)
    assert "social_observation " in out, out
    run = run_row(db, run_id)
    assert run["status"] == "succeeded"
    assert (run["records_read"], run["events_read"], run["events_accepted"], run["events_rejected"]) == (5, 5, 5, 0)
    row = db.execute(
        "select handle, followers_count, score, influencers_count, account_created_at, verified, engagement_24h "
        "from social_observations where token_mint = %s and observed_at = to_timestamp(%s)",
        (mint("alpha"), T0 + 120),
    ).fetchone()
    assert row is not None
    assert row[:4] == ("alpha_coin", 1002, Decimal("57.2500"), 3)
    assert row[4].timestamp() == T0 + 120 - 3 * 86400
    assert row[5:] == (False, 900)


def test_bad_records_become_rejects_with_reasons_and_the_rest_loads(
    db: psycopg.Connection, loader_url: str, database_url: str, tmp_path: Path
) -> None:
    bad = {
        "missing_field": {k: v for k, v in observation("beta", T0 + 1).items() if k != "followers_count"},
        "bad_field": observation("beta", T0 + 2, followers_count="1200"),
        "bad_count": observation("beta", T0 + 3, mentions_24h=-1),
        "future_timestamp": observation("beta", NOW + 86400),
        "before_pumpfun": observation("beta", 1_600_000_000, account_created_at=1_500_000_000),
        "bad_handle": observation("beta", T0 + 4, handle="@beta_coin"),
        "bad_score": observation("beta", T0 + 5, score=-3.5),
        "bad_address": observation("beta", T0 + 6, mint="not-a-mint"),
        "inconsistent": observation("beta", T0 + 7, mentions_24h=2, smart_mentions_24h=5),
        "extra_field": observation("beta", T0 + 8, likes=5),
    }
    good = [observation("beta", T0 + 100 + k) for k in range(3)]
    # an observation of a mint no token has: accepted (it may arrive before the token's events)
    unknown = observation("nobody_knows", T0 + 9)
    lines = [json.dumps(o) for o in good] + [json.dumps(o) for o in bad.values()] + [json.dumps(unknown)]
    lines.append('{"v":1,"kind":"social_observation","mint":')  # cut short
    run_id, _ = megatron_ingest(database_url, loader_url, write(tmp_path / "mixed.jsonl", lines))
    run = run_row(db, run_id)
    assert run["records_read"] == len(lines)
    assert run["records_rejected"] == len(bad) + 1
    assert run["events_read"] == run["events_accepted"] + run["events_duplicate"] + run["events_rejected"]
    assert run["events_accepted"] == len(good) + 1
    rejects = db.execute("select reason, payload from megatron.ingest_rejects where run_id = %s", (run_id,)).fetchall()
    reasons = sorted(r for r, _ in rejects)
    assert reasons == sorted([*bad, "truncated_json"])
    payloads = {p for _, p in rejects}
    for obj in bad.values():
        assert json.dumps(obj) in payloads, "the raw line is kept verbatim"
    # counted from the table, on its own
    stored = db.execute(
        "select count(*) from social_observations where token_mint in (%s, %s)", (mint("beta"), mint("nobody_knows"))
    ).fetchone()
    assert stored == (len(good) + 1,)
    messages = dict(db.execute("select reason, message from megatron.ingest_rejects where run_id = %s", (run_id,)).fetchall())
    assert "handle" in messages["bad_handle"] and "'@'" in messages["bad_handle"]
    assert "followers_count" in messages["missing_field"]


def test_rerunning_loads_nothing_new_and_a_changed_duplicate_is_a_conflict(
    db: psycopg.Connection, loader_url: str, database_url: str, tmp_path: Path
) -> None:
    first = [json.dumps(observation("gamma", T0 + 10 * k)) for k in range(4)]
    path = write(tmp_path / "gamma.jsonl", first)
    megatron_ingest(database_url, loader_url, path)
    before = db.execute("select count(*) from social_observations").fetchone()

    again, _ = megatron_ingest(database_url, loader_url, path)
    run = run_row(db, again)
    assert (run["events_read"], run["events_accepted"], run["events_duplicate"], run["events_rejected"]) == (4, 0, 4, 0)
    assert db.execute("select count(*) from social_observations").fetchone() == before

    changed = observation("gamma", T0 + 10, followers_count=999_999)
    third, _ = megatron_ingest(database_url, loader_url, write(tmp_path / "gamma2.jsonl", [json.dumps(changed)]))
    run = run_row(db, third)
    assert (run["events_read"], run["events_accepted"], run["events_duplicate"], run["events_rejected"]) == (1, 0, 0, 1)
    reason, message, payload = db.execute(
        "select reason, message, payload from megatron.ingest_rejects where run_id = %s", (third,)
    ).fetchone() or (None, None, None)
    assert reason == "conflicting_duplicate"
    assert '"followers_count": 1200' in message, "the stored version is named"
    assert json.loads(payload)["followers_count"] == 999_999
    stored = db.execute(
        "select followers_count from social_observations where token_mint = %s and observed_at = to_timestamp(%s)",
        (mint("gamma"), T0 + 10),
    ).fetchone()
    assert stored == (1200,), "the stored version stays"


def test_a_repeat_inside_one_file_is_kept_once_and_the_copy_rejected(
    db: psycopg.Connection, loader_url: str, database_url: str, tmp_path: Path
) -> None:
    line = json.dumps(observation("delta", T0 + 5))
    run_id, _ = megatron_ingest(database_url, loader_url, write(tmp_path / "delta.jsonl", [line, line]))
    run = run_row(db, run_id)
    assert (run["events_read"], run["events_accepted"], run["events_rejected"]) == (2, 1, 1)
    assert db.execute("select reason from megatron.ingest_rejects where run_id = %s", (run_id,)).fetchall() == [
        ("duplicate_in_batch",)
    ]


def test_the_ingest_role_may_insert_but_not_delete_and_analysts_only_read(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        grants = dict(conn.execute(
            "select r, string_agg(p, ',' order by p) from (values ('megatron_ingest'), ('megatron_analyst')) as v (r) "
            "cross join lateral (select unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) as p) as x "
            "where has_table_privilege(v.r, 'public.social_observations', x.p) group by r"
        ).fetchall())
        assert grants == {"megatron_ingest": "INSERT,SELECT", "megatron_analyst": "SELECT"}
        registered = conn.execute(
            "select time_column from megatron.hypertable_policies where hypertable = 'public.social_observations'::regclass"
        ).fetchone()
        assert registered == ("observed_at",)


def test_the_simulator_adds_the_same_valid_social_observations_in_time_order_each_run(
    db: psycopg.Connection, loader_url: str, database_url: str, tmp_path: Path
) -> None:
    outs = []
    for n in (1, 2):
        out = tmp_path / f"market{n}.jsonl"
        result = subprocess.run(
            [sys.executable, "-m", "megatron.cli", "simulate", "--tokens", "30", "--days", "0.3", "--seed", "11",
             "--out", str(out)],
            env=dict(os.environ, DATABASE_URL=database_url), capture_output=True, text=True, timeout=600,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        outs.append(out.read_text())
    assert outs[0] == outs[1], "same seed, same market, same social observations"
    lines = [json.loads(line) for line in outs[0].splitlines()]
    times = [o.get("block_time", o.get("price_time", o.get("observed_at"))) for o in lines]
    assert times == sorted(times)
    social = [o for o in lines if o["kind"] == "social_observation"]
    creates = {o["mint"]: o["block_time"] for o in lines if o["kind"] == "token_create"}
    assert social and {o["mint"] for o in social} <= set(creates)
    assert all(o["observed_at"] > creates[o["mint"]] for o in social)
    run_id, _ = megatron_ingest(database_url, loader_url, tmp_path / "market1.jsonl")
    run = run_row(db, run_id)
    assert run["records_rejected"] == 0 and run["events_rejected"] == 0
    stored = db.execute("select count(*) from social_observations where source = 'simulator'").fetchone()
    assert stored == (len(social),)
