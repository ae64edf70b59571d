"""The backfill flow fanned out by token range over a Prefect process work pool: the scores written with two
process workers equal those written with one (issue 12). Real workers (`prefect worker start --type process`,
started as `megatron serve --workers N` starts them), a real scoring run per shard, the snapshot tables read
back."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest

from megatron import cluster, db
from megatron.ingest.loader import Loader
from megatron.orchestrate import serve
from megatron.paths import project_root
from megatron.simulate import simulate

pytest.importorskip("prefect")

from prefect.flows import load_flow_from_entrypoint  # noqa: E402
from prefect.settings import PREFECT_API_URL  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402

sys.path.insert(0, str(project_root()))

SNAPSHOTS = ("technical_scores", "token_scores")


@pytest.fixture(scope="module")
def setting(server_url: str, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A harness API, the flows' login role, a small market; the environment the worker processes inherit."""
    role, password = "megatron_orchestrator_backfill_test", secrets.token_urlsafe(18)
    cluster.ensure_login_role(server_url, role, password, "megatron_orchestrator")
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    with psycopg.connect(database_url) as conn:
        loader = Loader(conn, "test_backfill_flow", batch_size=25_000)
        loader.add_all(simulate(16, 0.1, 11, now - timedelta(hours=3)))
        assert loader.finish().reconciles()
    with prefect_test_harness(server_startup_timeout=180), pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEGATRON_ORCHESTRATOR_URL", db.with_user(database_url, role, password))
        mp.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
        mp.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-workers")))
        mp.setenv("PREFECT_WORKER_QUERY_SECONDS", "2")
        for key, value in serve.OFFLINE.items():
            mp.setenv(key, value)
        serve.register_pool_deployments()
        yield database_url


def snapshots(url: str) -> dict[str, list[Any]]:
    """Every snapshot row without what differs between runs (run id, insert time)."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in SNAPSHOTS:
            found = conn.execute(f"select to_jsonb(t) - 'run_id' - 'created_at' from {table} as t").fetchall()  # noqa: S608
            out[table] = sorted((r[0] for r in found), key=lambda r: json.dumps(r, sort_keys=True))
    return out


def forget_scores(url: str) -> None:
    with psycopg.connect(url) as conn:
        for table in SNAPSHOTS:
            conn.execute(f"delete from {table}")  # noqa: S608 (the test's own superuser clears between runs)


def backfill_with(workers: int, url: str, start: datetime, end: datetime) -> dict[str, Any]:
    forget_scores(url)
    backfill = load_flow_from_entrypoint(str(project_root() / "flows" / "backfill.py:backfill"))
    with serve.workers(workers, echo=lambda _: None):
        result = backfill(start=start, end=end, every="30m", shards=3, timeout_seconds=900)
    assert set(result["shards"].values()) == {"Completed"}, result
    return snapshots(url)


def test_two_process_workers_write_the_same_scores_as_one(setting: str) -> None:
    with psycopg.connect(setting) as conn:
        row = conn.execute("select min(block_time), max(block_time) from transactions").fetchone()
    assert row is not None
    start = row[0].replace(second=0, microsecond=0) + timedelta(minutes=30)
    end = row[1]
    one = backfill_with(1, setting, start, end)
    assert len(one["token_scores"]) > 10
    two = backfill_with(2, setting, start, end)
    assert two == one
