"""The embedded PostgreSQL + TimescaleDB cluster the project starts itself.

State lives in ``<project>/.megatron/`` (git-ignored): ``cluster.json`` (where the data
directory, socket and port are) and ``password`` (mode 0600). The data directory itself is
``.megatron/pgdata`` when the server's user can reach it, else a directory that user owns.

PostgreSQL refuses to run as root, so when invoked as root every server binary runs as an
unprivileged user through ``runuser`` (``MEGATRON_PG_OS_USER``, default ``postgres``).
Python itself never runs as that user.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from megatron.errors import MegatronError
from megatron.paths import project_root

DB_NAME = "megatron"
DB_USER = "megatron"
WEB_USER = "megatron_web"  # LOGIN role of the web pages: a member of megatron_analyst (read-only), nothing more
INGEST_USER = "megatron_loader"  # LOGIN role of the loader: a member of megatron_ingest (003_roles), nothing more
ORCHESTRATOR_USER = "megatron_prefect"  # LOGIN role of the Prefect flows: a member of megatron_orchestrator, nothing more
DEFAULT_PORT = 54329
SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes; keep room for ".s.PGSQL.NNNNN"


@dataclass
class ClusterState:
    data_dir: str
    socket_dir: str
    port: int
    pg_bin: str
    os_user: str | None  # None: the server runs as the invoking user

    @property
    def log_file(self) -> str:
        return str(Path(self.data_dir).parent / "postgresql.log")


@dataclass(frozen=True)
class Status:
    state: str  # 'running', 'stopped', 'crashed', 'not initialized'
    detail: str
    pid: int | None = None


def state_dir() -> Path:
    return project_root() / ".megatron"


def _state_file() -> Path:
    return state_dir() / "cluster.json"


def _password_file() -> Path:
    return state_dir() / "password"


def find_pg_bin() -> Path:
    """The newest PostgreSQL under /usr/lib/postgresql that has TimescaleDB installed."""
    override = os.environ.get("MEGATRON_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "postgres").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bin_dir in candidates:
        version = bin_dir.parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/timescaledb.control").exists():
            return bin_dir
    raise MegatronError(
        "No PostgreSQL with TimescaleDB was found under /usr/lib/postgresql. "
        "Run scripts/install-timescaledb.sh (as root), or set DATABASE_URL to use an existing server."
    )


def _os_user() -> str | None:
    if os.geteuid() != 0:
        return None
    name = os.environ.get("MEGATRON_PG_OS_USER", "postgres")
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
    return name


def _as_user(os_user: str | None, argv: list[str]) -> list[str]:
    return ["runuser", "-u", os_user, "--", *argv] if os_user else argv


def _user_can_write(os_user: str | None, path: Path) -> bool:
    if os_user is None:
        return os.access(path, os.W_OK | os.X_OK)
    probe = subprocess.run(_as_user(os_user, ["test", "-w", str(path), "-a", "-x", str(path)]))
    return probe.returncode == 0


def _chown(path: Path, os_user: str | None) -> None:
    if os_user:
        entry = pwd.getpwnam(os_user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _cluster_id() -> str:
    """A random id for this checkout's cluster, made once: a new clone at the same path gets a new
    one, so it never trips over what an earlier checkout left behind."""
    path = state_dir() / "cluster-id"
    if not path.exists():
        state_dir().mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(6) + "\n")
    return path.read_text().strip()


def _reap_orphans(clusters: Path, os_user: str | None) -> None:
    """Stop and delete fallback clusters whose checkout is gone (its .megatron/cluster-id no longer
    names them). Their password went with the checkout, so nobody can reach their data."""
    for base in sorted(clusters.iterdir()) if clusters.is_dir() else []:
        info: dict[str, str] = {}
        try:
            info = json.loads((base / "owner.json").read_text())
            marker = Path(info["project"]) / ".megatron" / "cluster-id"
            if marker.read_text().strip() == info["cluster_id"]:
                continue  # its checkout still exists: not ours to touch
        except (OSError, ValueError, KeyError):
            pass
        data = base / "pgdata"
        pg_ctl = Path(info.get("pg_bin", "/nonexistent")) / "pg_ctl"
        if pg_ctl.exists() and (data / "postmaster.pid").exists():
            subprocess.run(
                _as_user(os_user, [str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"]), capture_output=True
            )
        shutil.rmtree(base, ignore_errors=True)


def _choose_location(os_user: str | None, pg_bin: Path) -> tuple[Path, Path]:
    """Return (base directory for data and log, socket directory)."""
    cluster_id = _cluster_id()
    preferred = state_dir() / "cluster"
    preferred.mkdir(parents=True, exist_ok=True)
    _chown(preferred, os_user)
    if _user_can_write(os_user, preferred):
        base = preferred
    else:
        home = Path(pwd.getpwnam(os_user).pw_dir) if os_user else Path.home()
        clusters = home / "megatron-clusters"
        clusters.mkdir(parents=True, exist_ok=True)
        _chown(clusters, os_user)
        _reap_orphans(clusters, os_user)
        base = clusters / cluster_id
        base.mkdir(parents=True, exist_ok=True)
        _chown(base, os_user)
        (base / "owner.json").write_text(
            json.dumps({"project": str(project_root()), "cluster_id": cluster_id, "pg_bin": str(pg_bin)}) + "\n"
        )
        preferred.rmdir()
    socket_dir = base / "run"
    if len(str(socket_dir)) > SOCKET_PATH_LIMIT:
        socket_dir = Path(f"/tmp/megatron-{cluster_id}")
    socket_dir.mkdir(parents=True, exist_ok=True)
    _chown(socket_dir, os_user)
    return base, socket_dir


def port_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port` (binds as servers do: TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL binds; ignores TIME_WAIT
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pick_port() -> int:
    configured = os.environ.get("MEGATRON_PG_PORT")
    if configured:
        return int(configured)
    for port in range(DEFAULT_PORT, DEFAULT_PORT + 200):
        if port_free(port):
            return port
    raise MegatronError(f"No free TCP port between {DEFAULT_PORT} and {DEFAULT_PORT + 199} for the embedded cluster.")


def load_state() -> ClusterState | None:
    path = _state_file()
    if not path.exists():
        return None
    return ClusterState(**json.loads(path.read_text()))


def _save_state(state: ClusterState) -> None:
    state_dir().mkdir(parents=True, exist_ok=True)
    _state_file().write_text(json.dumps(dataclasses.asdict(state), indent=2) + "\n")


def _password(path: Path | None = None) -> str:
    """The generated password kept in ``path`` (default ``.megatron/password``), mode 0600."""
    path = path or _password_file()
    if not path.exists():
        state_dir().mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def url(state: ClusterState | None = None, dbname: str = DB_NAME) -> str:
    state = state or load_state()
    if state is None:
        raise MegatronError("The embedded cluster is not initialized; run `megatron db start` first.")
    return f"postgresql://{DB_USER}:{quote(_password(), safe='')}@127.0.0.1:{state.port}/{dbname}"


def _login_url(user: str, group: str, password_file: str, state: ClusterState | None, dbname: str) -> str:
    """The URL of a job's own login role ``user`` (a member of ``group``), created (or its password re-set) on
    the way; the password lives in ``password_file`` under the state directory (mode 0600)."""
    state = state or load_state()
    if state is None:
        raise MegatronError("The embedded cluster is not initialized; run `megatron db start` first.")
    password = _password(state_dir() / password_file)
    ensure_login_role(url(state, dbname), user, password, group)
    return f"postgresql://{user}:{quote(password, safe='')}@127.0.0.1:{state.port}/{dbname}"


def ingest_url(state: ClusterState | None = None, dbname: str = DB_NAME) -> str:
    """The loader's own login role (a member of megatron_ingest)."""
    return _login_url(INGEST_USER, "megatron_ingest", "ingest-password", state, dbname)


def orchestrator_url(state: ClusterState | None = None, dbname: str = DB_NAME) -> str:
    """The flows' own login role (a member of megatron_orchestrator)."""
    return _login_url(ORCHESTRATOR_USER, "megatron_orchestrator", "orchestrator-password", state, dbname)


def web_url(state: ClusterState | None = None, dbname: str = DB_NAME) -> str:
    """The web pages' own login role (WEB_USER, a member of megatron_analyst: read-only)."""
    return _login_url(WEB_USER, "megatron_analyst", "web-password", state, dbname)


def ensure_login_role(admin_url: str, role: str, password: str, member_of: str) -> None:
    """Create ``role`` (LOGIN, no other attribute) as a member of ``member_of`` with ``password``;
    when it exists, set the password and the membership again. Needs a role with CREATEROLE."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("select 1 from pg_roles where rolname = %s", (member_of,)).fetchone() is None:
            raise MegatronError(
                f"The role {member_of} does not exist yet: run `megatron migrate` first, then load."
            )
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        verb = "alter" if exists else "create"
        try:
            conn.execute(
                sql.SQL(verb + " role {} login inherit nosuperuser nocreatedb nocreaterole password {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
        except psycopg.errors.DuplicateObject:  # created meanwhile by a concurrent command
            conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(password)))
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(member_of), sql.Identifier(role)))


def _run(argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise MegatronError(f"{what} failed: {detail[-1] if detail else 'exit code ' + str(proc.returncode)}")
    return proc


def init() -> ClusterState:
    """Create the cluster if it does not exist yet (idempotent)."""
    state = load_state()
    if state and (Path(state.data_dir) / "PG_VERSION").exists():
        return state
    pg_bin = find_pg_bin()
    os_user = _os_user()
    base, socket_dir = _choose_location(os_user, pg_bin)
    data_dir = base / "pgdata"
    port = state.port if state else _pick_port()
    pwfile = base / "initdb.pw"
    pwfile.write_text(_password() + "\n")
    os.chmod(pwfile, 0o600)
    _chown(pwfile, os_user)
    try:
        _run(
            _as_user(
                os_user,
                [
                    str(pg_bin / "initdb"),
                    "-D", str(data_dir),
                    "-U", DB_USER,
                    "--pwfile", str(pwfile),
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    "-E", "UTF8",
                    "--locale=C.UTF-8",
                ],
            ),
            "initdb",
        )
    finally:
        pwfile.unlink(missing_ok=True)
    conf = data_dir / "postgresql.conf"
    with conf.open("a") as fh:
        fh.write(
            "\n# --- megatron embedded cluster ---\n"
            "listen_addresses = '127.0.0.1'\n"
            f"port = {port}\n"
            f"unix_socket_directories = '{socket_dir}'\n"
            "shared_preload_libraries = 'timescaledb'\n"
            "timescaledb.telemetry_level = off\n"
            "timescaledb.max_background_workers = 8\n"
            "max_worker_processes = 16\n"
            "max_connections = 200\n"
            "shared_buffers = 512MB\n"
            "work_mem = 32MB\n"
            "maintenance_work_mem = 256MB\n"
            "max_wal_size = 4GB\n"
            "synchronous_commit = off\n"
        )
    state = ClusterState(
        data_dir=str(data_dir), socket_dir=str(socket_dir), port=port, pg_bin=str(pg_bin), os_user=os_user
    )
    _save_state(state)
    return state


def _read_pid(state: ClusterState) -> int | None:
    pidfile = Path(state.data_dir) / "postmaster.pid"
    try:
        first = pidfile.read_text().splitlines()[0]
        return int(first)
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _accepting(state: ClusterState) -> bool:
    proc = subprocess.run(
        [str(Path(state.pg_bin) / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(state.port), "-t", "2"],
        capture_output=True,
    )
    return proc.returncode == 0


def status() -> Status:
    state = load_state()
    if state is None or not (Path(state.data_dir) / "PG_VERSION").exists():
        return Status("not initialized", "no embedded cluster yet; `megatron db start` creates one")
    pid = _read_pid(state)
    where = f"port {state.port}, data {state.data_dir}"
    if pid is None:
        return Status("stopped", where)
    if not _alive(pid):
        return Status("crashed", f"stale postmaster.pid (process {pid} is gone); `megatron db start` recovers; {where}", pid)
    if not _accepting(state):
        return Status("starting", f"process {pid} is up but not accepting connections yet; {where}", pid)
    return Status("running", where, pid)


def start() -> ClusterState:
    """Start the cluster (creating it first if needed); when it already runs, only make sure its database
    exists (a user may have dropped it to start over)."""
    state = init()
    current = status()
    if current.state == "running":
        _ensure_database(state)
        return state
    if current.state == "crashed":
        # The postmaster removes a stale lock file itself when the pid is dead; make sure it can.
        (Path(state.data_dir) / "postmaster.pid").unlink(missing_ok=True)
    if current.state != "starting":
        if not port_free(state.port):
            raise MegatronError(
                f"Port {state.port} is taken by another program, so the embedded cluster cannot start. "
                "Set MEGATRON_PG_PORT to a free port and delete .megatron/cluster.json, or stop that program."
            )
        log = Path(state.log_file)
        if not log.exists():
            log.touch()
            _chown(log, state.os_user)
        _run(
            _as_user(
                state.os_user,
                [str(Path(state.pg_bin) / "pg_ctl"), "-D", state.data_dir, "-l", str(log), "-w", "-t", "60", "start"],
            ),
            f"starting PostgreSQL (log: {log})",
        )
    deadline = time.monotonic() + 60
    while not _accepting(state):
        if time.monotonic() > deadline:
            raise MegatronError(f"PostgreSQL did not accept connections within 60 s; see {state.log_file}.")
        time.sleep(0.2)
    _ensure_database(state)
    return state


def _ensure_database(state: ClusterState) -> None:
    import psycopg

    with psycopg.connect(url(state, "postgres"), autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (DB_NAME,)).fetchone()
        if not exists:
            conn.execute(f'create database "{DB_NAME}"')


def stop() -> bool:
    """Stop the cluster; return False when it was not running."""
    state = load_state()
    if state is None or status().state not in ("running", "starting"):
        return False
    _run(
        _as_user(state.os_user, [str(Path(state.pg_bin) / "pg_ctl"), "-D", state.data_dir, "-m", "fast", "-w", "stop"]),
        "stopping PostgreSQL",
    )
    return True


def destroy() -> None:
    """Stop the cluster and delete its data (used by `megatron db reset`)."""
    state = load_state()
    stop()
    if state:
        shutil.rmtree(Path(state.data_dir).parent, ignore_errors=True)
    _state_file().unlink(missing_ok=True)
