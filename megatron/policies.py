"""Read the time-series policy registry (written by migrations, see 002_policy_registry.sql)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import psycopg


@dataclass(frozen=True)
class PolicyRow:
    object_kind: str  # 'hypertable' or 'aggregate'
    object_name: str
    time_column: str | None
    chunk_interval: timedelta | None
    compress_segmentby: str | None
    compress_orderby: str | None
    compress_after: timedelta | None
    drop_after: timedelta | None
    refresh_start_offset: timedelta | None
    refresh_end_offset: timedelta | None
    refresh_every: timedelta | None
    applied_by: str  # 'native' or 'orchestrated'

    @property
    def compression(self) -> str:
        parts = []
        if self.compress_segmentby:
            parts.append(f"by {self.compress_segmentby}")
        if self.compress_orderby:
            parts.append(f"order {self.compress_orderby}")
        return ", ".join(parts)

    @property
    def refresh(self) -> str:
        if self.refresh_every is None:
            return ""
        return (
            f"every {fmt_interval(self.refresh_every)}, window "
            f"[now-{fmt_interval(self.refresh_start_offset)}, now-{fmt_interval(self.refresh_end_offset)})"
        )


def registry(conn: psycopg.Connection) -> list[PolicyRow]:
    exists = conn.execute("select to_regclass('megatron.policies')").fetchone()
    if not exists or exists[0] is None:
        return []
    rows = conn.execute(
        """
        select object_kind, object_name, time_column, chunk_interval, compress_segmentby,
               compress_orderby, compress_after, drop_after, refresh_start_offset,
               refresh_end_offset, refresh_every, applied_by
        from megatron.policies
        order by object_kind desc, object_name
        """
    ).fetchall()
    return [PolicyRow(*r) for r in rows]


def edition_meaning(edition: str) -> str:
    if edition == "timescale":
        return "Community/TSL: compression, retention and aggregate refresh run as native TimescaleDB jobs"
    return "Apache: compression and aggregates unavailable; retention and aggregate refresh run from the Prefect flows"


def fmt_interval(value: timedelta | None) -> str:
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
