"""The Prefect flows (issue 12) under prefect_test_harness, against the module's real database, run as the
orchestrator's and the loader's own login roles (MEGATRON_ORCHESTRATOR_URL / MEGATRON_INGEST_URL), the way a
served deployment runs them. Each flow's effects are read back from the database and from Prefect's API."""

from __future__ import annotations

import secrets
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from megatron import cluster, db
from megatron.ingest.loader import Loader
from megatron.orchestrate import locks
from megatron.paths import project_root
from megatron.simulate import simulate

pytest.importorskip("prefect")

from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey  # noqa: E402
from prefect.flows import load_flow_from_entrypoint  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402

sys.path.insert(0, str(project_root()))


def flow(entrypoint: str) -> Any:
    return load_flow_from_entrypoint(str(project_root() / "flows" / entrypoint))


@pytest.fixture(scope="module")
def harness() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def roles(server_url: str, template_db: str, database_url: str) -> Iterator[dict[str, str]]:
    """Login roles for the flows (a member of megatron_orchestrator) and the loader (megatron_ingest) on the
    module's database, put where the flows look for them."""
    urls = {}
    for env, member_of in (("MEGATRON_ORCHESTRATOR_URL", "megatron_orchestrator"),
                           ("MEGATRON_INGEST_URL", "megatron_ingest")):
        role, password = f"{member_of}_flows_test", secrets.token_urlsafe(18)
        cluster.ensure_login_role(server_url, role, password, member_of)
        urls[env] = db.with_user(database_url, role, password)
    with pytest.MonkeyPatch.context() as mp:
        for env, url in urls.items():
            mp.setenv(env, url)
        yield urls


@pytest.fixture(scope="module")
def market(database_url: str, roles: dict[str, str]) -> str:
    """A small simulated market of the last few hours, loaded as the loader loads."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    events = list(simulate(12, 0.1, 3, now - timedelta(hours=3)))
    with psycopg.connect(roles["MEGATRON_INGEST_URL"]) as conn:
        loader = Loader(conn, "test_flows", batch_size=25_000)
        loader.add_all(events)
        assert loader.finish().reconciles()
    return database_url


def rows(url: str, query: str, *args: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchall()  # type: ignore[arg-type]


def artifact(key: str) -> Any:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    assert found, f"no Prefect artifact with key {key}"
    return max(found, key=lambda a: a.created)


def audit_rows(url: str, job: str) -> list[tuple[Any, ...]]:
    return rows(url, "select id, outcome, dry_run, description, details, db_user from audit_log where job = %s "
                     "order by id", job)


# --- refresh --------------------------------------------------------------------------------------------


def test_refresh_builds_the_tagged_marts_as_the_orchestrator_and_publishes_each_node(
    harness: None, market: str, roles: dict[str, str]
) -> None:
    state = flow("refresh.py:refresh")(tag="every_minute", return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert result["skipped"] is False and result["nodes"].get("pass", 0) > 10
    # candles equal the distinct (token, minute) buckets of the priced trades, built by the flows' role
    expected = rows(market, "select count(distinct (token_id, date_trunc('minute', block_time))) from transactions "
                            "where price_per_token > 0")[0][0]
    assert rows(market, "select count(*) from marts.price_candles_1m")[0][0] == expected > 0
    owner = rows(market, "select tableowner from pg_tables where schemaname = 'marts' and tablename = 'price_candles_1m'")
    assert owner == [(psycopg.conninfo.conninfo_to_dict(roles["MEGATRON_ORCHESTRATOR_URL"])["user"],)]
    table = artifact("dbt-build-tag-every-minute")
    nodes = {row["node"]: row["status"] for row in __import__("json").loads(table.data)}
    assert nodes["model.megatron.price_candles_1m"] == "success"
    assert any(n.startswith("test.megatron.") and s == "pass" for n, s in nodes.items())


def test_a_failing_dbt_test_fails_the_refresh_and_names_the_test(harness: None, market: str) -> None:
    mint = rows(market, "select mint_address from tokens where not coalesce(is_graduated, false) limit 1")[0][0]
    with psycopg.connect(market) as conn:  # a producer bug: graduated, but no graduation time
        conn.execute("update tokens set is_graduated = true, graduation_timestamp = null where mint_address = %s",
                     (mint,))
    try:
        state = flow("refresh.py:refresh")(tag="every_minute", return_state=True)
        assert state.is_failed()
        assert "assert_graduated_tokens_have_a_graduation_time" in str(state.message)
        with pytest.raises(Exception, match="test assert_graduated_tokens_have_a_graduation_time failed"):
            state.result()
    finally:
        with psycopg.connect(market) as conn:
            conn.execute("update tokens set is_graduated = false where mint_address = %s", (mint,))


def test_the_every_minute_refresh_brings_lagging_continuous_aggregates_up_to_date(
    harness: None, market: str, tsl: None
) -> None:
    before = dict(rows(market, "select aggregate, lagging from megatron.aggregate_status()"))
    assert before["price_candles_1m_cagg"] is True  # created with no data, never refreshed in the test database
    result = flow("refresh.py:refresh")(tag="every_minute")
    assert "price_candles_1m_cagg" in result["aggregates_refreshed"]
    count = rows(market, "select count(*) from price_candles_1m_cagg")[0][0]
    assert count > 0


# --- compression check ----------------------------------------------------------------------------------


def candle_rows(url: str, days_ago: list[int]) -> None:
    token = rows(url, "select id from tokens order by mint_address limit 1")[0][0]
    with psycopg.connect(url) as conn:
        for d in days_ago:
            conn.execute(
                "insert into price_candles_1m (token_id, bucket, open, high, low, close, volume_token, volume_sol, "
                "trade_count, buyer_count, seller_count) values (%s, date_trunc('minute', now()) - make_interval("
                "days => %s), 1, 1, 1, 1, 1, 1, 1, 1, 0) on conflict do nothing", (token, d))


def test_compression_check_reports_each_hypertable_writes_the_audit_log_and_publishes_artifacts(
    harness: None, market: str, edition: str, roles: dict[str, str]
) -> None:
    candle_rows(market, [10, 12])  # past price_candles_1m's compress_after (7 days)
    before = {r[0]: r for r in rows(market, "select hypertable::text, overdue_chunks, compressed_chunks "
                                            "from megatron.compression_status()")}
    assert before["price_candles_1m"][1] == 2
    result = flow("compression_check.py:compression_check")()
    after = {r[0]: r for r in rows(market, "select hypertable::text, overdue_chunks, compressed_chunks "
                                           "from megatron.compression_status()")}
    audit = audit_rows(market, "compression_check")[-1]
    assert audit[0] == result["audit_id"]
    assert audit[5] == psycopg.conninfo.conninfo_to_dict(roles["MEGATRON_ORCHESTRATOR_URL"])["user"]
    details = {d["hypertable"]: d for d in audit[4]}
    assert set(details) == set(before)
    if edition == "timescale":
        assert len(result["compressed"]["price_candles_1m"]) == 2
        assert after["price_candles_1m"][1:] == (0, 2)
        assert audit[2] is False and "2 chunks compressed" in audit[3]
        assert details["price_candles_1m"]["before_bytes"] > 0
    else:
        assert result["compressed"] == {} and after == before
        assert audit[2] is True
        summary = artifact("compression-check-summary")
        assert "Compression does not exist on the Apache edition" in summary.data
    table = artifact("compression-check")
    assert {r["hypertable"] for r in __import__("json").loads(table.data)} == set(before)


# --- retention audit ------------------------------------------------------------------------------------


def credit_rows(url: str, days_ago: list[int]) -> None:
    with psycopg.connect(url) as conn:
        for d in days_ago:
            conn.execute("insert into api_credit_usage (timestamp, api_provider, endpoint, credits_used) "
                         "values (now() - make_interval(days => %s), 'helius', %s, 1)", (d, f"e{d}"))


def endpoints(url: str) -> set[str]:
    return {r[0] for r in rows(url, "select endpoint from api_credit_usage")}


def test_retention_dry_run_drops_nothing_and_the_real_run_only_chunks_older_than_the_policy(
    harness: None, market: str, edition: str
) -> None:
    if edition == "timescale":
        pytest.skip("on TimescaleDB Community the native retention jobs drop chunks; the flow only audits them "
                    "(test_retention_audit_checks_the_native_jobs_on_community)")
    credit_rows(market, [200, 120, 85, 1])  # drop_after is 90 days
    dry = flow("retention_audit.py:retention_audit")(dry_run=True)
    assert endpoints(market) == {"e200", "e120", "e85", "e1"}
    assert len(dry["chunks"]["api_credit_usage"]) == 2
    audit = audit_rows(market, "retention_audit")[-1]
    assert audit[1] == "attention" and audit[2] is True and "would drop" in audit[3]

    real = flow("retention_audit.py:retention_audit")(dry_run=False)
    assert sorted(real["chunks"]["api_credit_usage"]) == sorted(dry["chunks"]["api_credit_usage"])
    assert endpoints(market) == {"e85", "e1"}
    audit = audit_rows(market, "retention_audit")[-1]
    assert audit[1] == "ok" and audit[2] is False
    details = {d["hypertable"]: d for d in audit[4]}
    assert sorted(details["api_credit_usage"]["chunks"]) == sorted(real["chunks"]["api_credit_usage"])
    assert details["api_credit_usage"]["due_chunks"] == 0
    # nothing is due any more: a second run drops nothing
    again = flow("retention_audit.py:retention_audit")(dry_run=False)
    assert again["chunks"] == {} and endpoints(market) == {"e85", "e1"}


def test_retention_audit_checks_the_native_jobs_on_community(harness: None, market: str, tsl: None) -> None:
    credit_rows(market, [200])
    flow("retention_audit.py:retention_audit")()
    audit = audit_rows(market, "retention_audit")[-1]
    assert audit[1] == "attention"  # the test template unschedules the jobs: the chunk waits for the next run
    assert "api_credit_usage keeps 1 chunks older than its drop_after" in audit[3]
    job = rows(market, "select job_id from megatron.policy_jobs() where relation = 'api_credit_usage'::regclass "
                       "and kind = 'retention'")[0][0]
    with psycopg.connect(market, autocommit=True) as conn:
        conn.execute("call run_job(%s)", (job,))
    flow("retention_audit.py:retention_audit")()
    details = {d["hypertable"]: d for d in audit_rows(market, "retention_audit")[-1][4]}
    assert details["api_credit_usage"]["last_run_status"] == "Success"
    assert details["api_credit_usage"]["due_chunks"] == 0
    assert "e200" not in endpoints(market)


# --- overlapping runs -----------------------------------------------------------------------------------


def test_a_run_that_finds_another_in_progress_does_nothing(harness: None, market: str, roles: dict[str, str]) -> None:
    before = len(audit_rows(market, "compression_check"))
    with locks.job_lock(roles["MEGATRON_ORCHESTRATOR_URL"], "compression_check") as held:
        assert held
        result = flow("compression_check.py:compression_check")()
    assert result == {"skipped": True}
    assert len(audit_rows(market, "compression_check")) == before
    assert flow("compression_check.py:compression_check")()["skipped"] is False
    assert len(audit_rows(market, "compression_check")) == before + 1


def test_two_overlapping_refreshes_build_once(harness: None, market: str) -> None:
    results: list[dict[str, Any]] = []
    refresh = flow("refresh.py:refresh")
    threads = [threading.Thread(target=lambda: results.append(refresh(tag="every_minute"))) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.5)
    for t in threads:
        t.join(timeout=600)
    assert sorted(r["skipped"] for r in results) == [False, True]


# --- ingest ---------------------------------------------------------------------------------------------


def test_files_dropped_into_the_inbox_are_loaded_once_and_moved(
    harness: None, market: str, fixtures_dir: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    source = sorted((fixtures_dir / "rpc").iterdir())[0]
    shutil.copy(source, inbox / source.name)
    result = flow("ingest.py:ingest_files")(folder=str(inbox))
    assert result["files"] == 1 and result["events_accepted"] > 0
    assert (inbox / "loaded" / source.name).exists() and not (inbox / source.name).exists()
    assert rows(market, "select count(*) from megatron.ingest_runs where run_id = %s", result["run_id"])[0][0] == 1
    assert flow("ingest.py:ingest_files")(folder=str(inbox)) == {"skipped": False, "files": 0}


def test_the_rpc_ingest_without_a_node_says_so_and_does_nothing(harness: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEGATRON_RPC_URL", raising=False)
    assert flow("ingest.py:ingest_rpc")() == {"skipped": True}


# --- a database restart in the middle of a run -----------------------------------------------------------


def test_a_database_restart_in_the_middle_of_a_refresh_ends_in_a_completed_run_after_retry(
    harness: None, market: str, roles: dict[str, str]
) -> None:
    if db.external_url():
        pytest.skip("restarts the embedded cluster; with DATABASE_URL the server under test is not ours to restart")
    user = psycopg.conninfo.conninfo_to_dict(roles["MEGATRON_ORCHESTRATOR_URL"])["user"]
    states: list[Any] = []
    runner = threading.Thread(
        target=lambda: states.append(flow("refresh.py:refresh")(tag="every_minute", return_state=True))
    )
    runner.start()
    deadline = time.monotonic() + 180
    while True:  # wait until dbt works in the database: more than the lock's session is connected
        busy = rows(cluster.url(), "select count(*) from pg_stat_activity where usename = %s and state = 'active'",
                    user)[0][0]
        if busy:
            break
        assert time.monotonic() < deadline, "the refresh never started building"
        time.sleep(0.05)
    cluster.stop()
    time.sleep(2)
    cluster.start()
    runner.join(timeout=600)
    state = states[0]
    assert state.is_completed(), state.message
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    build = [t for t in tasks if t.name.startswith("dbt build")]
    assert build and build[0].run_count >= 2, "the dbt build task did not retry"
    assert build[0].state.is_completed()


# --- scoring --------------------------------------------------------------------------------------------


def test_the_score_flow_writes_snapshots_as_of_the_time_it_runs_for(harness: None, market: str) -> None:
    at = rows(market, "select max(block_time) from transactions")[0][0]
    active = rows(market, "select count(distinct token_id) from transactions where block_time > %s - interval '24 hours'",
                  at)[0][0]
    result = flow("score.py:score_due")(at=at)
    assert result["skipped"] is False
    scored = rows(market, "select count(*) from token_scores where as_of = %s", at)[0][0]
    assert 0 < scored <= active
    again = flow("score.py:score_due")(at=at)  # the same T again: nothing new
    assert again["skipped"] is False
    assert rows(market, "select count(*) from token_scores where as_of = %s", at)[0][0] == scored


def test_the_holder_queue_worker_scores_queued_tokens_and_reports_each_request(harness: None, market: str) -> None:
    mint = rows(market, "select t.mint_address from tokens as t where exists (select 1 from transactions as x "
                        "where x.token_id = t.id) order by t.mint_address limit 1")[0][0]
    with psycopg.connect(market) as conn:
        conn.execute("delete from holder_score_queue")
        queued = conn.execute("insert into holder_score_queue (token_mint, priority, reason) values (%s, 1, "
                              "'milestone_crossed 25%%') returning id", (mint,)).fetchone()
    assert queued is not None
    before = rows(market, "select count(*) from token_scores where token_mint = %s", mint)[0][0]
    result = flow("score.py:holder_queue")()
    assert result["taken"] == 1 and result["outcomes"] == ["processed"]
    done = rows(market, "select processed_at is not null, failed_at, last_error from holder_score_queue where id = %s",
                queued[0])[0]
    assert done == (True, None, None)
    assert rows(market, "select count(*) from token_scores where token_mint = %s", mint)[0][0] == before + 1
    assert flow("score.py:holder_queue")() == {"taken": 0}
