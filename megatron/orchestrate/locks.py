"""One run of a job at a time: a session advisory lock per job name.

Served deployments also carry a Prefect concurrency limit of 1; the lock covers every other way two runs can
meet (a manual run beside a scheduled one, two `serve` processes, a flow called from Python). The lock lives
as long as its connection, so a killed run never leaves it behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from megatron import db

LOCK_CLASS = "megatron.flows"


@contextmanager
def job_lock(url: str, job: str) -> Iterator[bool]:
    """Yields True when this run holds the job's lock, False when another run holds it (then do nothing)."""
    with db.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select pg_try_advisory_lock(hashtext(%s), hashtext(%s))", (LOCK_CLASS, job)
        ).fetchone()
        held = bool(row and row[0])
        try:
            yield held
        finally:
            if held and not conn.closed:
                try:
                    conn.execute("select pg_advisory_unlock(hashtext(%s), hashtext(%s))", (LOCK_CLASS, job))
                except db.LOST:
                    pass  # the session is gone, and its lock with it
