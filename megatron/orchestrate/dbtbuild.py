"""`dbt build` through dbt's programmatic runner, with one result per node.

The refresh flow turns :class:`BuildResult` into a Prefect table artifact and log lines; a failing data test
fails the build with a message that names the test. A build that broke because the database went away raises
:class:`~megatron.orchestrate.retry.DatabaseUnavailable` instead, which the flow's task retries.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from megatron import db
from megatron.errors import MegatronError
from megatron.orchestrate.retry import DatabaseUnavailable, mentions_lost_connection
from megatron.paths import project_root

# dbt reads its profile from the environment (profiles.yml) and is not re-entrant: one build at a time per process
_DBT = threading.Lock()


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    resource_type: str  # model, test, seed, unit_test …
    name: str
    status: str  # success, error, fail, pass, warn, skipped
    seconds: float
    message: str
    failures: int | None

    @property
    def failed(self) -> bool:
        return self.status in ("error", "fail")


@dataclass
class BuildResult:
    selection: str
    success: bool
    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None  # dbt could not run at all (a parse or connection error)

    @property
    def failed_nodes(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.failed]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for n in self.nodes:
            out[n.status] = out.get(n.status, 0) + 1
        return out

    def summary(self) -> str:
        counts = ", ".join(f"{v} {k}" for k, v in sorted(self.counts().items())) or "no nodes"
        return f"dbt build {self.selection}: {counts}"

    def failure_message(self) -> str:
        """A sentence naming every failed test and model."""
        parts = []
        for n in self.failed_nodes:
            what = "test" if n.resource_type in ("test", "unit_test") else n.resource_type
            lines = [ln.strip() for ln in n.message.strip().splitlines() if ln.strip()]
            detail = ": ".join(lines[:2]) if lines else n.status  # dbt's headline, then the database's words
            parts.append(f"{what} {n.name} {'failed' if n.status == 'fail' else 'errored'} ({detail})")
        if not parts and self.error:
            parts.append(self.error)
        return f"dbt build {self.selection} failed: " + "; ".join(parts)


def _target_dir(selection: str) -> Path:
    """A target folder per selection: concurrent builds must not overwrite each other's manifest."""
    slug = re.sub(r"[^a-z0-9]+", "-", selection.lower()).strip("-") or "all"
    return project_root() / "target" / "flows" / slug


def build(selection: str, url: str, *, extra_args: list[str] | None = None) -> BuildResult:
    """Run ``dbt build --select SELECTION`` as the role of ``url``; never raises for a failing node."""
    from dbt.cli.main import dbtRunner

    root = project_root()
    target = _target_dir(selection)
    args = [
        "build", "--select", selection,
        "--project-dir", str(root), "--profiles-dir", str(root),
        "--target-path", str(target), "--log-path", str(target),
        "--quiet", *(extra_args or []),
    ]
    env = db.dbt_env(url) | {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    with _DBT:
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            res = dbtRunner().invoke(args)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    out = BuildResult(selection=selection, success=bool(res.success))
    if res.exception is not None:
        out.error = f"{type(res.exception).__name__}: {str(res.exception).strip()}"
    for r in getattr(res.result, "results", None) or []:
        node = r.node
        status = getattr(r.status, "value", str(r.status))
        out.nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
                name=node.name,
                status=str(status),
                seconds=round(float(r.execution_time or 0.0), 3),
                message=str(r.message or ""),
                failures=r.failures,
            )
        )
    return out


def check(result: BuildResult, url: str) -> BuildResult:
    """Raise for a failed build: DatabaseUnavailable when the database went away (retry), else MegatronError."""
    if result.success:
        return result
    texts = [result.error or ""] + [n.message for n in result.failed_nodes]
    if any(mentions_lost_connection(t) for t in texts) or not reachable(url):
        raise DatabaseUnavailable(
            f"dbt build {result.selection} lost the database ({'; '.join(t for t in texts if t)[:300]})"
        )
    raise MegatronError(result.failure_message())


def reachable(url: str) -> bool:
    try:
        with db.connect(url) as conn:
            conn.execute("select 1")
        return True
    except (MegatronError, *db.LOST):
        return False
