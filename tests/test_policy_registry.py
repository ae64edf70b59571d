"""The policy registry: declared by SQL, native on TimescaleDB Community, recorded for the flows on Apache."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from megatron import policies


def declare(conn: psycopg.Connection, table: str, **kw: object) -> None:
    conn.execute(f"create table {table} (at timestamptz not null, token text not null, v numeric)")
    conn.execute(
        "select megatron.declare_hypertable(%s::regclass, 'at', %s, %s, %s, %s, %s)",
        (
            table,
            kw.get("chunk", timedelta(days=1)),
            kw.get("segmentby"),
            kw.get("orderby"),
            kw.get("compress_after"),
            kw.get("drop_after"),
        ),
    )


def test_declaring_makes_a_hypertable_with_the_chunk_interval(conn: psycopg.Connection) -> None:
    declare(conn, "reg_ticks", chunk=timedelta(hours=6))
    interval = conn.execute(
        "select time_interval from timescaledb_information.dimensions where hypertable_name = 'reg_ticks'"
    ).fetchone()
    assert interval == (timedelta(hours=6),)


def test_redeclaring_changes_the_chunk_interval_and_the_registry_row(conn: psycopg.Connection) -> None:
    declare(conn, "reg_redo", chunk=timedelta(days=1), drop_after=timedelta(days=30))
    conn.execute("select megatron.declare_hypertable('reg_redo', 'at', interval '2 days', null, null, null, interval '60 days')")
    row = conn.execute(
        "select chunk_interval, drop_after from megatron.hypertable_policies where hypertable = 'reg_redo'::regclass"
    ).fetchone()
    assert row == (timedelta(days=2), timedelta(days=60))


def test_on_apache_policies_are_recorded_for_the_orchestrator(conn: psycopg.Connection, edition: str) -> None:
    if edition != "apache":
        pytest.skip(f"checks the Apache edition's behaviour; this server's timescaledb.license is '{edition}'")
    declare(conn, "reg_apache", segmentby="token", orderby="at desc", compress_after=timedelta(days=7), drop_after=timedelta(days=90))
    rows = {r.object_name: r for r in policies.registry(conn)}
    row = rows["reg_apache"]
    assert row.applied_by == "orchestrated"
    assert (row.compress_segmentby, row.compress_orderby) == ("token", "at desc")
    assert (row.compress_after, row.drop_after) == (timedelta(days=7), timedelta(days=90))
    jobs = conn.execute(
        "select count(*) from timescaledb_information.jobs where hypertable_name = 'reg_apache'"
    ).fetchone()
    assert jobs == (0,), "Apache has no policy jobs"


def test_on_tsl_policies_are_applied_natively(conn: psycopg.Connection, tsl: None) -> None:
    declare(conn, "reg_tsl", segmentby="token", orderby="at desc", compress_after=timedelta(days=7), drop_after=timedelta(days=90))
    jobs = dict(
        conn.execute(
            "select proc_name, config->>(case when proc_name = 'policy_retention' then 'drop_after' else 'compress_after' end) "
            "from timescaledb_information.jobs where hypertable_name = 'reg_tsl'"
        ).fetchall()
    )
    assert jobs == {"policy_compression": "7 days", "policy_retention": "90 days"}
    settings = conn.execute(
        "select attname, segmentby_column_index, orderby_column_index from timescaledb_information.compression_settings "
        "where hypertable_name = 'reg_tsl' order by attname"
    ).fetchall()
    assert [(a, s is not None, o is not None) for a, s, o in settings] == [("at", False, True), ("token", True, False)]
    assert {r.object_name: r.applied_by for r in policies.registry(conn)}["reg_tsl"] == "native"


def test_compression_without_settings_is_refused(conn: psycopg.Connection) -> None:
    conn.execute("create table reg_bad (at timestamptz not null)")
    with pytest.raises(psycopg.errors.RaiseException, match="needs segmentby or orderby"):
        conn.execute("select megatron.declare_hypertable('reg_bad', 'at', interval '1 day', null, null, interval '7 days', null)")
