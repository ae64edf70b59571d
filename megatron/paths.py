"""Where the project's files are."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


@cache
def project_root() -> Path:
    """The project directory: ``MEGATRON_HOME`` if set, else the checkout this package lives in."""
    override = os.environ.get("MEGATRON_HOME")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parent.parent


def migrations_dir() -> Path:
    return project_root() / "migrations"
