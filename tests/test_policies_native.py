"""Compression, retention and aggregate policies as the seed specifies them.

On both editions the policy registry holds the seed's figures. On TimescaleDB Community (TSL)
they also exist as native jobs and compression settings (tests marked by the `tsl` fixture,
skipped elsewhere); on Apache the registry says native = false and no job or continuous
aggregate exists.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from tests.seed_columns import HYPERTABLES, SEED_AGGREGATES, SEED_POLICIES


def interval(text: str | None) -> timedelta | None:
    if text is None:
        return None
    number, unit = text.split()
    return timedelta(**{unit if unit.endswith("s") else unit + "s": int(number)})


# --- the registry (both editions) -------------------------------------------------------------


@pytest.mark.parametrize("table", sorted(SEED_POLICIES))
def test_registry_holds_the_seed_compression_and_retention(conn: psycopg.Connection, edition: str, table: str) -> None:
    row = conn.execute(
        "select compress_segmentby, compress_after, drop_after, native from megatron.hypertable_policies "
        "where hypertable = %s::regclass",
        (f"public.{table}",),
    ).fetchone()
    seed = SEED_POLICIES[table]
    assert row == (
        seed["segmentby"], interval(seed["compress_after"]), interval(seed["drop_after"]), edition == "timescale",
    )


@pytest.mark.parametrize("table", sorted(set(HYPERTABLES) - set(SEED_POLICIES)))
def test_hypertables_without_seed_policies_declare_none(conn: psycopg.Connection, table: str) -> None:
    row = conn.execute(
        "select compress_segmentby, compress_orderby, compress_after, drop_after from megatron.hypertable_policies "
        "where hypertable = %s::regclass",
        (f"public.{table}",),
    ).fetchone()
    assert row == (None, None, None, None)


def test_every_hypertable_is_registered_with_its_real_chunk_interval(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "select d.hypertable_name, d.time_interval, p.chunk_interval, p.time_column "
        "from timescaledb_information.dimensions as d "
        "left join megatron.hypertable_policies as p "
        "on p.hypertable = format('%I.%I', d.hypertable_schema, d.hypertable_name)::regclass "
        "where d.hypertable_schema = 'public'"
    ).fetchall()
    assert {r[0] for r in rows} == set(HYPERTABLES)
    for name, actual, declared, time_column in rows:
        assert actual == declared, name
        assert time_column == HYPERTABLES[name]


def test_transactions_compression_order_covers_the_primary_key(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "select compress_orderby from megatron.hypertable_policies where hypertable = 'public.transactions'::regclass"
    ).fetchone()
    assert row == ("block_time desc, signature, event_index",)


@pytest.mark.parametrize("aggregate", sorted(SEED_AGGREGATES))
def test_registry_holds_the_seed_aggregates(conn: psycopg.Connection, edition: str, aggregate: str) -> None:
    row = conn.execute(
        "select source_hypertable::text, bucket_width, start_offset, end_offset, schedule_interval, native "
        "from megatron.aggregate_policies where aggregate = %s",
        (aggregate,),
    ).fetchone()
    seed = SEED_AGGREGATES[aggregate]
    assert row == (
        seed["source"], timedelta(minutes=1), interval(seed["start_offset"]), interval(seed["end_offset"]),
        interval(seed["schedule"]), edition == "timescale",
    )


# --- Apache: recorded, not applied ---------------------------------------------------------------


def test_on_apache_nothing_is_applied_natively(conn: psycopg.Connection, edition: str) -> None:
    if edition == "timescale":
        pytest.skip("this server runs TimescaleDB Community: policies are native there")
    jobs = conn.execute(
        "select count(*) from timescaledb_information.jobs where hypertable_schema = 'public'"
    ).fetchone()
    assert jobs == (0,)
    for aggregate in SEED_AGGREGATES:
        assert conn.execute("select to_regclass(%s)", (f"public.{aggregate}",)).fetchone() == (None,)


# --- TimescaleDB Community: native jobs and settings ------------------------------------------------


def jobs(conn: psycopg.Connection, proc: str) -> dict[str, tuple[object, ...]]:
    rows = conn.execute(
        "select hypertable_name, config, schedule_interval, owner::text from timescaledb_information.jobs "
        "where proc_name = %s and hypertable_schema = 'public'",
        (proc,),
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.usefixtures("tsl")
def test_native_compression_policies_match_the_seed(conn: psycopg.Connection) -> None:
    found = jobs(conn, "policy_compression")
    expected = {t: p["compress_after"] for t, p in SEED_POLICIES.items() if p["compress_after"]}
    assert set(found) == set(expected)
    for table, after in expected.items():
        config = found[table][0]
        assert isinstance(config, dict)
        row = conn.execute("select %s::interval", (config["compress_after"],)).fetchone()
        assert row == (interval(after),), table


@pytest.mark.usefixtures("tsl")
def test_native_retention_policies_match_the_seed(conn: psycopg.Connection) -> None:
    found = jobs(conn, "policy_retention")
    # transactions: a job of ours runs megatron.apply_retention instead (035), which folds the removed
    # trades into megatron.holder_horizon before dropping them
    expected = {t: p["drop_after"] for t, p in SEED_POLICIES.items() if p["drop_after"] and t != "transactions"}
    assert set(found) == set(expected)
    for table, after in expected.items():
        config = found[table][0]
        assert isinstance(config, dict)
        row = conn.execute("select %s::interval", (config["drop_after"],)).fetchone()
        assert row == (interval(after),), table


@pytest.mark.usefixtures("tsl")
@pytest.mark.parametrize("table", sorted(t for t, p in SEED_POLICIES.items() if p["segmentby"]))
def test_native_compression_settings_match_the_registry(conn: psycopg.Connection, table: str) -> None:
    rows = conn.execute(
        "select attname, segmentby_column_index, orderby_column_index "
        "from timescaledb_information.compression_settings where hypertable_schema = 'public' "
        "and hypertable_name = %s",
        (table,),
    ).fetchall()
    segmentby = [r[0] for r in sorted(rows, key=lambda r: r[1] or 0) if r[1] is not None]
    orderby = [r[0] for r in sorted(rows, key=lambda r: r[2] or 0) if r[2] is not None]
    assert segmentby == [SEED_POLICIES[table]["segmentby"]]
    assert orderby[0] == HYPERTABLES[table]
    if table == "transactions":
        assert orderby == ["block_time", "signature", "event_index"]


@pytest.mark.usefixtures("tsl")
def test_native_continuous_aggregates_exist_with_their_refresh_policy(conn: psycopg.Connection) -> None:
    owners = dict(conn.execute(
        "select view_name, view_owner::text from timescaledb_information.continuous_aggregates "
        "where view_schema = 'public'"
    ).fetchall())
    assert owners == {name: "megatron_orchestrator" for name in SEED_AGGREGATES}
    rows = conn.execute(
        "select c.view_name, j.config, j.schedule_interval from timescaledb_information.jobs as j "
        "join timescaledb_information.continuous_aggregates as c "
        "on c.materialization_hypertable_schema = j.hypertable_schema "
        "and c.materialization_hypertable_name = j.hypertable_name "
        "where j.proc_name = 'policy_refresh_continuous_aggregate'"
    ).fetchall()
    assert {r[0] for r in rows} == set(SEED_AGGREGATES)
    for name, config, schedule in rows:
        seed = SEED_AGGREGATES[name]
        offsets = conn.execute(
            "select %s::interval, %s::interval", (config["start_offset"], config["end_offset"])
        ).fetchone()
        assert offsets == (interval(seed["start_offset"]), interval(seed["end_offset"])), name
        assert schedule == interval(seed["schedule"]), name


@pytest.mark.usefixtures("tsl")
def test_native_jobs_run_as_a_role_that_can_log_in(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "select j.job_id, r.rolcanlogin from timescaledb_information.jobs as j "
        "join pg_roles as r on r.rolname = j.owner::text where j.hypertable_schema is not null"
    ).fetchall()
    assert rows, "no policy jobs found"
    assert all(can_login for _, can_login in rows)


@pytest.mark.usefixtures("tsl")
def test_transactions_retention_is_a_job_that_rolls_the_holder_horizon_first(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "select job_id, config, schedule_interval from timescaledb_information.jobs "
        "where proc_schema = 'megatron' and proc_name = 'retention_job'"
    ).fetchone()
    assert row is not None and row[1] == {"hypertable": "public.transactions"}
    token = conn.execute(
        "insert into tokens (mint_address, platform) values ('MintJob', 'pumpfun') returning id"
    ).fetchone()[0]  # type: ignore[index]
    pool = conn.execute(
        "insert into pools (pool_address, token_id, base_mint, quote_mint, platform) "
        "values ('PoolJob', %s, 'MintJob', 'So11111111111111111111111111111111111111112', 'pumpfun') returning id",
        (token,),
    ).fetchone()[0]  # type: ignore[index]
    conn.execute(
        "insert into transactions (signature, pool_id, token_id, block_time, slot, type, user_address, amount_in, "
        "amount_in_decimals, amount_out, amount_out_decimals, sol_amount, token_amount) "
        "values ('SigJob', %s, %s, now() - interval '200 days', 1, 'buy', 'WJob', 1, 9, 5000000, 6, 1, 5)",
        (pool, token),
    )
    conn.commit()
    conn.autocommit = True  # run_job commits inside
    conn.execute("call run_job(%s)", (row[0],))
    assert conn.execute("select count(*) from transactions where signature = 'SigJob'").fetchone() == (0,)
    assert conn.execute(
        "select balance from megatron.holder_horizon where token_mint = 'MintJob' and wallet_address = 'WJob'"
    ).fetchone() == (5,)
