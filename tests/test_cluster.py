"""The embedded cluster and DATABASE_URL: TimescaleDB works, status tells the truth, the override wins."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from megatron import cluster, db
from megatron.errors import MegatronError

MEGATRON = [sys.executable, "-m", "megatron.cli"]


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MEGATRON, *args], env=env, capture_output=True, text=True, timeout=180)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_timescaledb_extension_and_a_hypertable_work(empty_database_url: str) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as c:
        c.execute("create extension if not exists timescaledb")
        c.execute("create table ticks (at timestamptz not null, v numeric)")
        c.execute("select create_hypertable('ticks', 'at', chunk_time_interval => interval '1 day')")
        c.execute(
            "insert into ticks select t, 1 from generate_series(timestamptz '2026-01-01', '2026-01-03 23:00', '1 hour') t"
        )
        chunks = c.execute("select count(*) from show_chunks('ticks')").fetchone()[0]
        buckets = c.execute("select count(distinct time_bucket('1 day', at)) from ticks").fetchone()[0]
        license_ = db.timescaledb_license(c)
    assert chunks == 3 and buckets == 3
    assert license_ in ("apache", "timescale")


@pytest.fixture
def private_project(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A second, throwaway embedded cluster in a private project directory (pytest's tmp is
    not traversable by the server's user, so this also exercises the fallback location)."""
    try:
        cluster.find_pg_bin()
    except MegatronError as exc:
        pytest.skip(f"no local PostgreSQL binaries to run an embedded cluster: {exc}")
    home = tmp_path / "project"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(MEGATRON_HOME=str(home), MEGATRON_PG_PORT=str(free_port()))
    yield env
    run_cli(["db", "stop"], env)
    state_file = home / ".megatron" / "cluster.json"
    if state_file.exists():
        import json

        base = Path(json.loads(state_file.read_text())["data_dir"]).parent
        shutil.rmtree(base, ignore_errors=True)


def test_start_is_idempotent_and_status_detects_a_killed_server(private_project: dict[str, str]) -> None:
    env = private_project
    first = run_cli(["db", "start"], env)
    assert first.returncode == 0, first.stderr
    assert "started" in first.stdout
    again = run_cli(["db", "start"], env)
    assert again.returncode == 0 and "already running" in again.stdout

    st = run_cli(["db", "status"], env)
    assert st.returncode == 0 and st.stdout.startswith("running")

    url = run_cli(["db", "url"], env).stdout.strip()
    with psycopg.connect(url) as c:
        assert c.execute("select extname from pg_extension where extname = 'plpgsql'").fetchone()
        assert c.execute("show shared_preload_libraries").fetchone()[0] == "timescaledb"
        assert c.execute("show timescaledb.telemetry_level").fetchone()[0] == "off"
        assert c.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"
        pid = c.execute("select pg_backend_pid()").fetchone()[0]
    assert pid

    import json

    data_dir = Path(json.loads((Path(env["MEGATRON_HOME"]) / ".megatron" / "cluster.json").read_text())["data_dir"])
    postmaster = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    os.kill(postmaster, signal.SIGKILL)
    for _ in range(100):
        try:
            os.kill(postmaster, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    time.sleep(0.5)  # let orphaned backends notice

    crashed = run_cli(["db", "status"], env)
    assert crashed.returncode == 3
    assert crashed.stdout.startswith("crashed") and "stale postmaster.pid" in crashed.stdout

    recovered = run_cli(["db", "start"], env)
    assert recovered.returncode == 0, recovered.stderr
    assert run_cli(["db", "status"], env).stdout.startswith("running")

    stopped = run_cli(["db", "stop"], env)
    assert "stopped" in stopped.stdout
    final = run_cli(["db", "status"], env)
    assert final.returncode == 3 and final.stdout.startswith("stopped")


def test_a_cluster_left_behind_by_a_vanished_checkout_is_reaped(private_project: dict[str, str]) -> None:
    if os.geteuid() != 0:
        pytest.skip("the fallback location (and so reaping) is used only when running as root")
    import pwd

    clusters = Path(pwd.getpwnam(os.environ.get("MEGATRON_PG_OS_USER", "postgres")).pw_dir) / "megatron-clusters"
    clusters.mkdir(parents=True, exist_ok=True)
    orphan = clusters / "0rphan0rphan"
    (orphan / "pgdata").mkdir(parents=True, exist_ok=True)
    (orphan / "owner.json").write_text('{"project": "/nonexistent/checkout", "cluster_id": "0rphan0rphan"}')
    started = run_cli(["db", "start"], private_project)
    assert started.returncode == 0, started.stderr
    assert not orphan.exists(), "a fallback cluster whose checkout is gone is removed"
    survivors = [p.name for p in clusters.iterdir()]
    mine = (Path(private_project["MEGATRON_HOME"]) / ".megatron" / "cluster-id").read_text().strip()
    assert mine in survivors


def test_database_url_overrides_the_embedded_cluster(database_url: str, tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"
    home.mkdir()
    env = dict(os.environ, DATABASE_URL=database_url, MEGATRON_HOME=str(home))

    url = run_cli(["db", "url"], env)
    assert url.stdout.strip() == database_url

    start = run_cli(["db", "start"], env)
    assert start.returncode == 0 and "DATABASE_URL is set" in start.stdout
    assert not (home / ".megatron").exists(), "no embedded cluster may be created when DATABASE_URL is set"

    in_project = dict(os.environ, DATABASE_URL=database_url)
    in_project.pop("MEGATRON_HOME", None)
    status = run_cli(["migrate", "--status"], in_project)
    assert status.returncode == 0, status.stderr
    first = next(line for line in status.stdout.splitlines() if line.startswith("001"))
    assert first.split()[2] == "applied"
    assert not (home / ".megatron").exists()


def test_an_unreachable_database_url_gives_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_URL=f"postgresql://nobody:secret@127.0.0.1:{free_port()}/x", MEGATRON_HOME=str(tmp_path))
    result = run_cli(["migrate", "--status"], env)
    assert result.returncode == 1
    assert result.stderr.startswith("error: Cannot connect to nobody@127.0.0.1:")
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stderr + result.stdout, "passwords never reach the output"
