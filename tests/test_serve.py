"""`megatron serve` and `megatron schedules` as a user runs them: the command starts its own local Prefect
server (SQLite, offline), registers every deployment of the schedule table with its schedule, and stops the
server again when it is told to stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from megatron.cli import main
from megatron.orchestrate.schedules import SCHEDULES
from megatron.cluster import port_free


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{url}{path}", data=json.dumps(body or {}).encode(), headers={"Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def test_schedules_lists_every_deployment_of_the_schedule_table() -> None:
    result = CliRunner().invoke(main, ["schedules"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()[2:]
    assert [line.split()[0] for line in lines] == [s.name for s in SCHEDULES]
    assert any("every 1 min" in line and line.startswith("refresh-every-minute") for line in lines)
    assert any("cron 40 3 * * *" in line and line.startswith("retention-audit") for line in lines)


def test_serve_registers_the_schedule_table_on_its_own_local_server_and_stops_it(
    database_url: str, tmp_path: Path
) -> None:
    port, web_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"DATABASE_URL": database_url, "MEGATRON_PREFECT_HOME": str(tmp_path / "prefect"),
            "MEGATRON_INBOX": str(tmp_path / "inbox")}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("megatron")), "serve", "--port", str(port),
                             "--web-port", str(web_port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api"
    try:
        served = [s for s in SCHEDULES if s.work_pool is None]
        deadline = time.monotonic() + 240
        deployments: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                deployments = api(url, "/deployments/filter", {"limit": 100})
            except OSError:
                deployments = []
            if len(deployments) >= len(served):
                break
            time.sleep(1)
        by_name = {d["name"]: d for d in deployments}
        assert set(by_name) == {s.name for s in served}
        for s in served:
            d = by_name[s.name]
            assert d["parameters"] == s.parameters
            assert d["entrypoint"].endswith(s.entrypoint)
            assert d["global_concurrency_limit"]["limit"] == 1  # one run at a time; a colliding run is cancelled
            assert d["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
            schedules = [x["schedule"] for x in d["schedules"]]
            if s.every is not None:
                assert [x.get("interval") for x in schedules] == [s.every.total_seconds()]
            elif s.cron is not None:
                assert [(x.get("cron"), x.get("timezone")) for x in schedules] == [(s.cron, "UTC")]
            else:
                assert schedules == []
        assert (tmp_path / "prefect" / "prefect.db").exists()  # its own SQLite, under MEGATRON_PREFECT_HOME
        # the same process serves the screener: as the analyst role, on a database whose marts the refresh
        # flow may not have built yet (then the page says so in a sentence)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/api/tokens", timeout=30) as resp:
                status, body = resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            status, body = exc.code, json.loads(exc.read())
        assert (status == 200 and isinstance(body, list)) or (
            status == 503 and "have not been built yet" in body["error"]), (status, body)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("megatron serve did not stop within 90 s of SIGTERM")
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert f"UI http://127.0.0.1:{port}" in output
    assert "local Prefect server stopped" in output
    assert port_free(port), "the local Prefect server still listens after `megatron serve` ended"
    assert f"screener: http://127.0.0.1:{web_port}/" in output
    assert port_free(web_port), "the screener still listens after `megatron serve` ended"
