"""`megatron serve`: every deployment of the schedule table in one process, with Prefect's ``serve()``.

Against ``PREFECT_API_URL`` when it is set; otherwise a local Prefect server (SQLite under
``.megatron/prefect``) that this command starts, waits for, and stops again when it ends. Offline and
telemetry off either way. ``--workers N`` also starts N process workers on the backfill pool (each a
``prefect worker`` subprocess) and registers the shard deployment there.

Prefect reads its settings when it is first imported: :func:`configure` must run before anything imports
``prefect`` in this process (the CLI imports it only inside the command).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from megatron.cluster import port_free, state_dir
from megatron.errors import MegatronError
from megatron.orchestrate.schedules import BACKFILL_POOL, SCHEDULES, Schedule
from megatron.paths import project_root

DEFAULT_PORT = 4200

OFFLINE = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
}


def prefect_home() -> Path:
    """Where the local server keeps its SQLite database and log: MEGATRON_PREFECT_HOME, else .megatron/prefect."""
    value = os.environ.get("MEGATRON_PREFECT_HOME", "").strip()
    return Path(value) if value else state_dir() / "prefect"


def local_env(port: int) -> dict[str, str]:
    """The environment of the local server and of everything talking to it."""
    home = prefect_home()
    return {
        **OFFLINE,
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
    }


def configure(env: dict[str, str]) -> None:
    """Put ``env`` into this process's environment (before prefect is imported)."""
    if "prefect" in sys.modules and os.environ.get("PREFECT_API_URL") != env.get("PREFECT_API_URL"):
        raise MegatronError("internal: prefect was imported before `megatron serve` configured it")
    os.environ.update(env)


def _prefect_exe() -> str:
    candidate = Path(sys.executable).with_name("prefect")
    return str(candidate) if candidate.exists() else "prefect"


def _healthy(api_url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:  # noqa: S310 (our own local URL)
            return resp.status == 200
    except OSError:
        return False


@contextmanager
def local_server(port: int, *, echo: Callable[[str], None] = print, timeout: float = 120.0) -> Iterator[str]:
    """Start ``prefect server start`` on 127.0.0.1:PORT (SQLite under .megatron/prefect), yield its API URL,
    stop it on the way out."""
    if not port_free(port):
        raise MegatronError(
            f"Port {port} is taken: another Prefect server (or another program) listens there. Stop it, give "
            f"another port with --port, or point PREFECT_API_URL at the running server."
        )
    env = local_env(port)
    prefect_home().mkdir(parents=True, exist_ok=True)
    log = (prefect_home() / "server.log").open("ab")
    proc = subprocess.Popen(
        [_prefect_exe(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    api_url = env["PREFECT_API_URL"]
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(api_url):
            if proc.poll() is not None:
                raise MegatronError(
                    f"The local Prefect server exited at start (code {proc.returncode}); its log is "
                    f"{prefect_home() / 'server.log'}"
                )
            if time.monotonic() > deadline:
                raise MegatronError(f"The local Prefect server did not answer within {timeout:.0f} s "
                                    f"(log: {prefect_home() / 'server.log'})")
            time.sleep(0.5)
        echo(f"local Prefect server: UI http://127.0.0.1:{port}  (API {api_url}, data {prefect_home()})")
        yield api_url
    finally:
        _stop(proc)
        log.close()
        echo("local Prefect server stopped")


def _stop(proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def workers(count: int, *, echo: Callable[[str], None] = print) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` process workers on the backfill pool (subprocesses of this one), stopped on the way out."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(count):
            name = f"megatron-backfill-{os.getpid()}-{i}"
            procs.append(subprocess.Popen(
                [_prefect_exe(), "worker", "start", "--pool", BACKFILL_POOL, "--type", "process", "--name", name],
                cwd=project_root(), env=dict(os.environ), start_new_session=True,
            ))
        if count:
            echo(f"{count} process workers on the work pool {BACKFILL_POOL}")
        yield procs
    finally:
        for p in procs:
            _stop(p)


def _to_deployment(schedule: Schedule) -> Any:
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron, Interval

    flow = load_flow_from_entrypoint(str(project_root() / schedule.entrypoint))
    kwargs: dict[str, Any] = {
        "name": schedule.name,
        "description": schedule.description,
        "parameters": schedule.parameters,
        "tags": ["megatron"],
        # a run that finds the previous one still going is cancelled, never queued behind it
        "concurrency_limit": ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
    }
    if schedule.every is not None:
        kwargs["schedules"] = [Interval(schedule.every, timezone="UTC")]
    if schedule.cron is not None:
        kwargs["schedules"] = [Cron(schedule.cron, timezone="UTC")]
    return flow.to_deployment(**kwargs)


def served_schedules() -> list[Schedule]:
    return [s for s in SCHEDULES if s.work_pool is None]


def deployments() -> list[Any]:
    """The RunnerDeployments of the schedule table that run in the serve process."""
    return [_to_deployment(s) for s in served_schedules()]


def register_pool_deployments() -> list[str]:
    """Create the process work pool (when missing) and its deployments (the backfill shard); returns their ids."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.flows import load_flow_from_entrypoint
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def ensure_pool() -> None:
        async with get_client() as client:
            try:
                await client.create_work_pool(WorkPoolCreate(name=BACKFILL_POOL, type="process"))
            except ObjectAlreadyExists:
                pass

    run_coro_as_sync(ensure_pool())
    ids = []
    for s in SCHEDULES:
        if s.work_pool is None:
            continue
        flow = load_flow_from_entrypoint(str(project_root() / s.entrypoint))
        deployment = flow.to_deployment(
            name=s.name, description=s.description, parameters=s.parameters, tags=["megatron"],
            work_pool_name=s.work_pool, job_variables={"working_dir": str(project_root())},
        )
        ids.append(str(deployment.apply(work_pool_name=s.work_pool)))
    return ids


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(*, workers_count: int = 0, port: int = DEFAULT_PORT, web_port: int | None = None,
        echo: Callable[[str], None] = print) -> None:
    """Serve every deployment until interrupted (Ctrl-C or SIGTERM); with ``web_port``, the screener and token
    pages too, from a thread of this process (read-only, as the analyst role)."""
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM ends it as cleanly as Ctrl-C: the local server stops too
    external = os.environ.get("PREFECT_API_URL", "").strip()
    with ExitStack() as stack:
        if external:
            configure(OFFLINE)
            echo(f"Prefect API: {external} (PREFECT_API_URL)")
        else:
            configure(local_env(port))
        os.chdir(project_root())  # served runs find their flows by entrypoint relative to the project
        if not external:
            stack.enter_context(local_server(port, echo=echo))
        if web_port is not None:
            from megatron import db, web

            echo(f"screener: {stack.enter_context(web.in_background(db.web_url(), web_port))}  "
                 f"(token pages at /token/<mint>, dbt docs at /dbt-docs/)")
        _serve(workers_count, echo)


def _serve(workers_count: int, echo: Callable[[str], None]) -> None:
    import asyncio

    from prefect.runner import Runner

    sys.path.insert(0, str(project_root()))  # flows/ modules import megatron; the checkout is importable
    served = deployments()
    if workers_count:
        register_pool_deployments()
    for s in served_schedules():
        echo(f"  {s.name:<26} {s.when}")
    # what prefect.serve() does, with one change: SIGTERM stops it like Ctrl-C (Prefect's own SIGTERM handler
    # starts a "graceful" stop that in 3.9 keeps the process and its flow runs alive)
    runner = Runner(pause_on_shutdown=False)
    runner.handle_sigterm = _interrupt  # type: ignore[method-assign]
    for deployment in served:
        runner.add_deployment(deployment)
    with workers(workers_count, echo=echo):
        try:
            asyncio.run(runner.start())
        except KeyboardInterrupt:
            echo("stopping: no new flow runs start; runs in progress are cancelled")
