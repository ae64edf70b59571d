"""Which failures a flow task retries: lost or refused database connections, nothing else.

A task decorated with :data:`TASK_RETRY` retries with exponential backoff (2, 4, 8, 16, 32, 64 s: about two
minutes in all, long enough for a database restart) when its failure is a connection problem; a wrong
value, a failing dbt test or a bug fails at once.
"""

from __future__ import annotations

from typing import Any

import psycopg

from megatron import db
from megatron.errors import MegatronError

# how psycopg (dbt's adapter) and PostgreSQL word a connection that is gone or not there yet
CONNECTION_MARKERS = (
    "server closed the connection unexpectedly",
    "could not connect to server",
    "connection refused",
    "connection to server at",
    "terminating connection due to administrator command",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "connection already closed",
    "ssl connection has been closed unexpectedly",
    "no connection to the server",
    "consuming input failed",
    "the connection is closed",
)

RETRIES = 6
BACKOFF_SECONDS = 2.0


class DatabaseUnavailable(MegatronError):
    """The database could not be reached or the connection broke: worth a retry."""


def mentions_lost_connection(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in CONNECTION_MARKERS)


def is_connection_error(exc: BaseException | None) -> bool:
    """True for a lost or refused database connection, however it reached us."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, (DatabaseUnavailable, *db.LOST)):
            return True
        if isinstance(exc, psycopg.errors.AdminShutdown | psycopg.errors.CannotConnectNow):
            return True
        if isinstance(exc, MegatronError) and (
            str(exc).startswith("Cannot connect to")
            or str(exc).startswith("The connection to the database was lost")
            or mentions_lost_connection(str(exc))
        ):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def retry_on_connection_error(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only when the failure is a connection problem."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            exc = state.result(raise_on_failure=False)
        except Exception as err:  # the result could not be read: judge by the state's message
            return mentions_lost_connection(f"{state.message} {err}")
    if isinstance(exc, BaseException):
        return is_connection_error(exc)
    return mentions_lost_connection(str(state.message or ""))


def backoff_delays(retries: int = RETRIES, base: float = BACKOFF_SECONDS) -> list[float]:
    """2, 4, 8 ... seconds: Prefect's exponential_backoff, spelled out so the schedule is visible."""
    return [base * 2**attempt for attempt in range(retries)]


TASK_RETRY: dict[str, Any] = {
    "retries": RETRIES,
    "retry_delay_seconds": backoff_delays(),
    "retry_condition_fn": retry_on_connection_error,
}
