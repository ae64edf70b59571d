"""The social score from end to end: observations loaded by `megatron ingest` (as the ingest role), the
seeds as shipped, `megatron dbt build` as users run it; values computed by hand from
seeds/scoring/social_tiers.csv; later observations never change a score at T."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import base58
import psycopg
import pytest
from megatron import db as megatron_db
from megatron.events import (
    INITIAL_REAL_TOKEN_RESERVES,
    INITIAL_VIRTUAL_SOL_RESERVES,
    INITIAL_VIRTUAL_TOKEN_RESERVES,
    TokenCreate,
    Trade,
)

NOW = int(time.time()) // 60 * 60
T = NOW - 26 * 3600  # the scoring time; every observation and every T below lies in the past


def key(name: str) -> str:
    return base58.b58encode(hashlib.sha256(name.encode()).digest()).decode()


def sig(name: str) -> str:
    return base58.b58encode(hashlib.sha512(name.encode()).digest()).decode()


def create(name: str) -> str:
    """The token's create (40 days before T) and one buy three hours before T, so it is a scoring candidate."""
    created = TokenCreate(
        signature=sig(f"{name}-create"), slot=1000, block_time=T - 40 * 86400, event_index=0, program="pumpfun",
        mint=key(f"{name}-mint"), name=f"{name} coin", symbol=name.upper()[:8], uri="https://example.invalid/m.json",
        creator=key(f"{name}-creator"), bonding_curve=key(f"{name}-curve"),
        virtual_sol_reserves=INITIAL_VIRTUAL_SOL_RESERVES, virtual_token_reserves=INITIAL_VIRTUAL_TOKEN_RESERVES,
        real_token_reserves=INITIAL_REAL_TOKEN_RESERVES, token_total_supply=10**15,
    )
    vs, vt, sol_in = INITIAL_VIRTUAL_SOL_RESERVES, INITIAL_VIRTUAL_TOKEN_RESERVES, 2 * 10**9
    out = vt - (vs * vt) // (vs + sol_in)
    buy = Trade(
        signature=sig(f"{name}-buy"), slot=2000, block_time=T - 3 * 3600, event_index=0, program="pumpfun",
        mint=key(f"{name}-mint"), pool=key(f"{name}-curve"), side="buy", user=key(f"{name}-buyer"),
        sol_amount=sol_in, token_amount=out, virtual_sol_reserves=vs + sol_in, virtual_token_reserves=vt - out,
        real_sol_reserves=sol_in, real_token_reserves=INITIAL_REAL_TOKEN_RESERVES - out,
    )
    return created.to_json() + "\n" + buy.to_json()


def observation(name: str, at: int, **values: Any) -> str:
    obj = {"v": 1, "kind": "social_observation", "mint": key(f"{name}-mint"), "observed_at": at,
           "source": "tweetscout", "handle": f"{name}_coin", **values}
    return json.dumps(obj)


# alpha at T - 2 h: followers 2500 -> 55; score 250 -> 55, smart followers 4 + 1 + 0 = 5 -> 18 (73);
# mentions 100 -> 40, engagement 4999 -> 15, smart mentions 3 -> 14 (69): 55 + 73 + 69 = 197
ALPHA_EARLY = dict(followers_count=2500, account_created_at=T - 30 * 86400, score=250.0, influencers_count=4,
                   projects_count=1, venture_capitals_count=0, mentions_24h=100, engagement_24h=4999,
                   smart_mentions_24h=3)
# alpha at T + 1 h (later than T): followers 50000 -> 111, score 1000 -> 75, no smart followers (null) -> 0,
# nothing in the last 24 h -> 0: 111 + 75 + 0 = 186
ALPHA_LATE = dict(followers_count=50_000, account_created_at=T - 30 * 86400, score=1000, mentions_24h=0,
                  engagement_24h=0, smart_mentions_24h=0)
# fresh at T - 1 h, an account 2 days old: followers 10000 -> 85 x 0.5 = 42.5; score 1000 -> 75 + smart 50 -> 36
# = 111 (the cap, exactly); mentions 500 -> 60 + engagement 50000 -> 30 + smart mentions 5 -> 21 = 111 (capped
# from 111); 42.5 + 111 + 111 = 264.5
FRESH = dict(followers_count=10_000, account_created_at=T - 3600 - 2 * 86400, score=1000, influencers_count=50,
             mentions_24h=500, engagement_24h=50_000, smart_mentions_24h=5)
# boundary at T - 30 min: followers 99 -> 0, score 9.9999 -> 0, mentions 4 -> 0, engagement 99 -> 0; an account
# exactly 7 days old is not fresh
BELOW = dict(followers_count=99, account_created_at=T - 1800 - 7 * 86400, score=9.9999, mentions_24h=4,
             engagement_24h=99, smart_mentions_24h=0)


def ingest(url: str, loader_url: str, path: Path) -> None:
    env = dict(os.environ, DATABASE_URL=url, MEGATRON_INGEST_URL=loader_url)
    result = subprocess.run([sys.executable, "-m", "megatron.cli", "ingest", str(path)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "rejected" in result.stdout, result.stdout + result.stderr[-3000:]
    assert " 0 rejected" in result.stdout, result.stdout


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()


def build_at(url: str, at: int) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "megatron.cli", "dbt", "build", "--select",
         "social_tiers social_parameters stg_megatron__social_observations stg_megatron__tokens latest_social_scores",
         "--indirect-selection", "cautious", "--vars", json.dumps({"as_of": iso(at)})],
        env=dict(os.environ, DATABASE_URL=url), capture_output=True, text=True, timeout=900,
    )
    assert out.returncode == 0, out.stdout[-4000:]


def scores(conn: psycopg.Connection) -> dict[str, tuple[Any, ...]]:
    rows = conn.execute(
        "select token_mint, social_score, audience_points, credibility_points, buzz_points, fresh_account, "
        "extract(epoch from social_as_of)::bigint, rule_version from marts.latest_social_scores"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def loaded(
    database_url: str, ingest_role: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[Any, ...]]]:
    """The first file loaded and scored at T (the scores then), then the later observations loaded."""
    loader_url = megatron_db.with_user(database_url, *ingest_role)
    folder = tmp_path_factory.mktemp("social")
    first = folder / "first.jsonl"
    first.write_text("\n".join([
        create("alpha"), create("fresh"), create("below"), create("quiet"),
        observation("alpha", T - 2 * 3600, **ALPHA_EARLY),
        observation("fresh", T - 3600, **FRESH),
        observation("below", T - 1800, **BELOW),
        observation("quiet", T - 24 * 3600, followers_count=100_000),  # exactly 24 h old at T: stale
    ]) + "\n")
    ingest(database_url, loader_url, first)
    build_at(database_url, T)
    with psycopg.connect(database_url) as conn:
        at_t = scores(conn)
    later = folder / "later.jsonl"
    later.write_text("\n".join([
        observation("alpha", T + 3600, **ALPHA_LATE),
        observation("alpha", T + 1, followers_count=1),
        observation("quiet", T + 60, followers_count=100_000),
    ]) + "\n")
    ingest(database_url, loader_url, later)
    yield at_t


def test_scores_at_t_are_the_hand_computed_values_from_the_shipped_seeds(loaded: dict[str, tuple[Any, ...]]) -> None:
    assert loaded == {
        key("alpha-mint"): (Decimal("197.00"), Decimal("55.00"), Decimal("73.00"), Decimal("69.00"), False,
                            T - 7200, "social-v1"),
        key("fresh-mint"): (Decimal("264.50"), Decimal("42.50"), Decimal("111.00"), Decimal("111.00"), True,
                            T - 3600, "social-v1"),
        key("below-mint"): (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), False,
                            T - 1800, "social-v1"),
    }, "quiet's only observation is exactly 24 h old at T: stale, no row"


def test_later_observations_do_not_change_the_score_at_t(
    loaded: dict[str, tuple[Any, ...]], database_url: str
) -> None:
    build_at(database_url, T)
    with psycopg.connect(database_url) as conn:
        assert scores(conn) == loaded, "the observations after T, loaded since, change nothing at T"
    build_at(database_url, T + 2 * 3600)
    with psycopg.connect(database_url) as conn:
        after = scores(conn)
    assert after[key("alpha-mint")][:5] == (Decimal("186.00"), Decimal("111.00"), Decimal("75.00"), Decimal("0.00"),
                                            False)
    assert after[key("alpha-mint")][5] == T + 3600


def show(url: str, grid_sql: str) -> list[dict[str, Any]]:
    """The macro over an inline grid through `megatron dbt show`, as an analyst would query it."""
    inline = f"with grid as ({grid_sql}), social as ({{{{ social_scores_for('grid') }}}}) select * from social"
    out = subprocess.run(
        [sys.executable, "-m", "megatron.cli", "dbt", "show", "--quiet", "--output", "json", "--limit", "100",
         "--inline", inline],
        env=dict(os.environ, DATABASE_URL=url), capture_output=True, text=True, timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    rows: list[dict[str, Any]] = json.loads(out.stdout[out.stdout.index("{"):])["show"]
    return rows


def test_the_macro_scores_many_times_of_one_token_each_from_its_own_past(
    loaded: dict[str, tuple[Any, ...]], database_url: str
) -> None:
    mint = key("alpha-mint")
    times = {
        "before_any": T - 3 * 3600,
        "at_t": T,
        "at_late_observation": T + 3600,  # observed_at <= T is inclusive
        "early_stale": T + 22 * 3600,  # T - 2 h is 24 h old; T + 1 h is not
        "all_stale": T + 25 * 3600 + 1,  # the newest (T + 1 h) is 24 h + 1 s old
    }
    grid = " union all ".join(f"select '{mint}'::text as token_mint, '{iso(t)}'::timestamptz as as_of"
                              for t in times.values())
    rows = {datetime.fromisoformat(r["as_of"]).timestamp(): r for r in show(database_url, grid)}
    assert sorted(rows) == sorted([times["at_t"], times["at_late_observation"], times["early_stale"]])
    assert Decimal(str(rows[times["at_t"]]["social_score"])) == Decimal("197")
    # at T + 1 s the one-follower observation was the newest; at T + 1 h the late one is
    assert Decimal(str(rows[times["at_late_observation"]]["social_score"])) == Decimal("186")
    assert Decimal(str(rows[times["early_stale"]]["social_score"])) == Decimal("186")
    for row in rows.values():
        assert 0 <= Decimal(str(row["social_score"])) <= 333
        assert Decimal(str(row["social_score"])) == sum(
            Decimal(str(row[p])) for p in ("audience_points", "credibility_points", "buzz_points")
        )


def test_the_999_aggregate_carries_the_social_score_at_t(loaded: dict[str, tuple[Any, ...]], database_url: str) -> None:
    """`megatron score --at T` (issue 11 core's framework) reads the social part through social_scores_for: the
    values above, their observation time, and social_missing for a token whose only observation is stale."""
    mints = [key(f"{name}-mint") for name in ("alpha", "fresh", "quiet")]
    result = subprocess.run(
        [sys.executable, "-m", "megatron.cli", "score", "--at", iso(T), *[a for m in mints for a in ("--mint", m)]],
        env=dict(os.environ, DATABASE_URL=database_url), capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout[-3000:] + result.stderr[-3000:]
    with psycopg.connect(database_url) as conn:
        rows = {
            r[0]: r[1:] for r in conn.execute(
                "select token_mint, social_score, extract(epoch from social_as_of)::bigint, social_missing, "
                "total_score = technical_score + holder_score + social_score from token_scores where as_of = %s",
                (datetime.fromtimestamp(T, tz=UTC),),
            )
        }
    assert rows == {
        mints[0]: (Decimal("197.00"), T - 7200, False, True),
        mints[1]: (Decimal("264.50"), T - 3600, False, True),
        mints[2]: (Decimal("0.00"), None, True, True),
    }
