"""Run dbt against the resolved database (DATABASE_URL or the embedded cluster)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from megatron import db
from megatron.paths import project_root


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def environment(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(db.dbt_env(url))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    return env


def run(
    args: Sequence[str], url: str | None = None, *, capture: bool = False, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``dbt ARGS`` in the project with its profile pointed at ``url`` (``extra_env`` added to its
    environment, e.g. PGOPTIONS for session settings of dbt's connections)."""
    target = url or db.database_url()
    root = project_root()
    argv = [dbt_executable(), *args]
    if args and args[0] not in ("--version", "-v"):
        argv += ["--project-dir", str(root), "--profiles-dir", str(root)]
    env = environment(target)
    env.update(extra_env or {})
    return subprocess.run(argv, cwd=root, env=env, text=True, capture_output=capture)
