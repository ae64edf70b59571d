"""The raw schema against the seed design: tables, columns, hypertables, constraints, generated columns."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from tests.seed_columns import HYPERTABLES, LATER_ADDITIONS, PLAIN_TABLES, SEED_COLUMNS, expected_columns

SEED_DOC = Path(
    os.environ.get("MEGATRON_SEED", Path(__file__).resolve().parents[2] / "shared" / "seed" / "megatron-v2-database-schema.md")
)
MINT = "MintSchema1111111111111111111111111111111"
POOL = "PoolSchema1111111111111111111111111111111"


def columns_of(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'public' and table_name = %s order by ordinal_position",
        (table,),
    ).fetchall()
    return [r[0] for r in rows]


def make_token(conn: psycopg.Connection, mint: str = MINT) -> str:
    row = conn.execute(
        "insert into tokens (mint_address, platform, creation_signature, creation_timestamp, creator_address) "
        "values (%s, 'pumpfun', 'sig-create', '2025-01-01 00:00+00', 'Creator111') returning id",
        (mint,),
    ).fetchone()
    assert row is not None
    return str(row[0])


def make_pool(conn: psycopg.Connection, token_id: str, address: str = POOL) -> str:
    row = conn.execute(
        "insert into pools (pool_address, token_id, base_mint, quote_mint, platform) "
        "values (%s, %s, %s, 'So11111111111111111111111111111111111111112', 'pumpfun') returning id",
        (address, token_id, MINT),
    ).fetchone()
    assert row is not None
    return str(row[0])


def insert_trade(conn: psycopg.Connection, pool_id: str, token_id: str, signature: str, event_index: int,
                 block_time: str = "2025-01-01 01:00+00", type_: str = "buy") -> None:
    conn.execute(
        "insert into transactions (signature, event_index, pool_id, token_id, block_time, slot, type, user_address, "
        "amount_in, amount_in_decimals, amount_out, amount_out_decimals, sol_amount, token_amount, price_per_token) "
        "values (%s, %s, %s, %s, %s, 1, %s, 'User1111', 1000000000, 9, 1000000, 6, 1, 1, 1)",
        (signature, event_index, pool_id, token_id, block_time, type_),
    )


def rejects(conn: psycopg.Connection, sql: str, params: tuple[object, ...], error: type[Exception],
            constraint: str | None) -> None:
    """Run sql in a savepoint; it must fail with `error` naming `constraint`."""
    with pytest.raises(error) as caught:
        with conn.transaction():
            conn.execute(sql, params)  # type: ignore[arg-type]
    if constraint is not None:
        # on a hypertable the violated constraint is the chunk's copy, named "<n>_<m>_<name>"
        name = caught.value.diag.constraint_name or ""  # type: ignore[attr-defined]
        assert re.sub(r"^\d+_\d+_", "", name) == constraint


def seed_document_columns(text: str) -> dict[str, tuple[str, ...]]:
    """Column names of every CREATE TABLE in the seed document, in declaration order."""
    tables: dict[str, tuple[str, ...]] = {}
    for name, body in re.findall(r"CREATE TABLE (\w+) \((.*?)\n\);", text, flags=re.S):
        cols = re.findall(r"^\s+(\w+)\s+(?:UUID|VARCHAR|INTEGER|NUMERIC|TIMESTAMPTZ|BOOLEAN|JSONB|BIGINT|TEXT)\b",
                          body, flags=re.M)
        tables[name] = tuple(cols)
    return tables


def test_the_seed_column_list_is_the_seed_document_s() -> None:
    if not SEED_DOC.exists():
        pytest.fail(f"the seed schema is missing: expected {SEED_DOC} (set MEGATRON_SEED)")
    assert seed_document_columns(SEED_DOC.read_text()) == SEED_COLUMNS


@pytest.mark.parametrize("table", sorted(SEED_COLUMNS))
def test_each_table_has_the_seed_columns_plus_documented_changes(conn: psycopg.Connection, table: str) -> None:
    actual = set(columns_of(conn, table))
    expected = set(expected_columns(table))
    assert expected - actual == set(), "missing columns"
    assert actual - expected <= set(LATER_ADDITIONS.get(table, ())), "undocumented columns"


@pytest.mark.parametrize("table", sorted(SEED_COLUMNS))
def test_no_column_uses_character_varying(conn: psycopg.Connection, table: str) -> None:
    varchar = conn.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'public' and table_name = %s and data_type = 'character varying'",
        (table,),
    ).fetchall()
    assert varchar == []


def test_time_series_tables_are_hypertables_on_their_time_column(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "select d.hypertable_name, d.column_name from timescaledb_information.dimensions as d "
        "where d.hypertable_schema = 'public' and d.dimension_type = 'Time'"
    ).fetchall()
    assert dict(rows) == HYPERTABLES


@pytest.mark.parametrize("table", PLAIN_TABLES)
def test_the_other_tables_are_plain_tables(conn: psycopg.Connection, table: str) -> None:
    row = conn.execute(
        "select count(*) from timescaledb_information.hypertables where hypertable_name = %s", (table,)
    ).fetchone()
    assert row == (0,)


def test_transactions_are_keyed_by_signature_event_index_and_block_time(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "select array_agg(a.attname order by k.ord) from pg_constraint as c "
        "cross join unnest(c.conkey) with ordinality as k (attnum, ord) "
        "join pg_attribute as a on a.attrelid = c.conrelid and a.attnum = k.attnum "
        "where c.conrelid = 'public.transactions'::regclass and c.contype = 'p'"
    ).fetchone()
    assert row == (["signature", "event_index", "block_time"],)


def test_one_signature_can_hold_several_trades_but_not_the_same_one_twice(conn: psycopg.Connection) -> None:
    token_id = make_token(conn)
    pool_id = make_pool(conn, token_id)
    insert_trade(conn, pool_id, token_id, "sig-multi", 0, type_="buy")
    insert_trade(conn, pool_id, token_id, "sig-multi", 1, type_="sell")
    assert conn.execute("select count(*) from transactions where signature = 'sig-multi'").fetchone() == (2,)
    rejects(
        conn,
        "insert into transactions (signature, event_index, pool_id, token_id, block_time, slot, type, user_address, "
        "amount_in, amount_in_decimals, amount_out, amount_out_decimals) "
        "values ('sig-multi', 1, %s, %s, '2025-01-01 01:00+00', 1, 'sell', 'U', 1, 9, 1, 6)",
        (pool_id, token_id),
        errors.UniqueViolation,
        "transactions_pkey",
    )


def test_event_index_defaults_to_zero(conn: psycopg.Connection) -> None:
    token_id = make_token(conn)
    pool_id = make_pool(conn, token_id)
    conn.execute(
        "insert into transactions (signature, pool_id, token_id, block_time, slot, type, user_address, "
        "amount_in, amount_in_decimals, amount_out, amount_out_decimals) "
        "values ('sig-default', %s, %s, '2025-01-01 01:00+00', 1, 'buy', 'U', 1, 9, 1, 6)",
        (pool_id, token_id),
    )
    assert conn.execute("select event_index from transactions where signature = 'sig-default'").fetchone() == (0,)


TOKEN_COLUMNS = "mint_address, platform, creation_signature, creation_timestamp, creator_address"


@pytest.mark.parametrize(
    ("sql", "params", "error", "constraint"),
    [
        pytest.param(
            f"insert into tokens ({TOKEN_COLUMNS}) values ('MintX', 'moonshot', 's', now(), 'c')", (),
            errors.CheckViolation, "tokens_platform_check", id="tokens.platform outside the launch platforms",
        ),
        pytest.param(
            f"insert into tokens ({TOKEN_COLUMNS}) values (%s, 'pumpfun', 's', now(), 'c')", ("M" * 45,),
            errors.CheckViolation, "tokens_mint_address_check", id="tokens.mint_address longer than 44",
        ),
        pytest.param(
            f"insert into tokens ({TOKEN_COLUMNS}) values ('MintY', 'pumpfun', %s, now(), 'c')", ("s" * 89,),
            errors.CheckViolation, "tokens_creation_signature_check", id="tokens.creation_signature longer than 88",
        ),
        pytest.param(
            f"insert into tokens ({TOKEN_COLUMNS}) values (%s, 'pumpfun', 's', now(), 'c')", (MINT,),
            errors.UniqueViolation, "tokens_mint_address_key", id="tokens.mint_address twice",
        ),
        pytest.param(
            "insert into pools (pool_address, token_id, base_mint, quote_mint, platform) "
            "values ('PoolX', gen_random_uuid(), 'm', 'q', 'pumpfun')", (),
            errors.ForeignKeyViolation, "pools_token_id_fkey", id="pools.token_id of no token",
        ),
        pytest.param(
            "update pools set bonding_curve_progress = 100.01", (),
            errors.CheckViolation, "pools_bonding_curve_progress_check", id="pools.bonding_curve_progress above 100",
        ),
        pytest.param(
            "update pools set pool_type = 'migrated'", (),
            errors.CheckViolation, "pools_pool_type_check", id="pools.pool_type unknown",
        ),
        pytest.param(
            "insert into transactions (signature, pool_id, token_id, block_time, slot, type, user_address, "
            "amount_in, amount_in_decimals, amount_out, amount_out_decimals) "
            "select 'sig-x', p.id, p.token_id, now(), 1, 'swap', 'U', 1, 9, 1, 6 from pools as p", (),
            errors.CheckViolation, "transactions_type_check", id="transactions.type unknown",
        ),
        pytest.param(
            "insert into sol_usd_prices (price_time, price_usd, source) values "
            "('2025-01-01', 150, 'pyth'), ('2025-01-01', 151, 'pyth')", (),
            errors.UniqueViolation, "sol_usd_prices_pkey", id="sol_usd_prices twice per time and source",
        ),
        pytest.param(
            "insert into sol_usd_prices (price_time, price_usd, source) values ('2025-01-01', 0, 'pyth')", (),
            errors.CheckViolation, "sol_usd_prices_price_usd_check", id="sol_usd_prices.price_usd not positive",
        ),
        pytest.param(
            "insert into technical_scores (token_mint, timestamp, market_cap_score) values ('m', now(), 100.01)", (),
            errors.CheckViolation, "technical_scores_market_cap_score_check", id="market cap score above 100",
        ),
        pytest.param(
            "insert into technical_scores (token_mint, timestamp, bonding_curve_score) values ('m', now(), 83.01)", (),
            errors.CheckViolation, "technical_scores_bonding_curve_score_check", id="bonding curve score above 83",
        ),
        pytest.param(
            "insert into technical_scores (token_mint, timestamp, trading_health_score) values ('m', now(), -1)", (),
            errors.CheckViolation, "technical_scores_trading_health_score_check", id="trading health score below 0",
        ),
        pytest.param(
            "insert into technical_scores (token_mint, timestamp, selloff_response_score) values ('m', now(), -60.01)",
            (), errors.CheckViolation, "technical_scores_selloff_response_score_check", id="sell-off score below -60",
        ),
        pytest.param(
            "insert into technical_scores (token_mint, timestamp, selloff_response_score) values ('m', now(), 75.01)",
            (), errors.CheckViolation, "technical_scores_selloff_response_score_check", id="sell-off score above 75",
        ),
        pytest.param(
            "insert into holder_scores (token_mint, timestamp, distribution_score, bonding_curve_progress) "
            "values ('m', now(), 111.01, 50)", (),
            errors.CheckViolation, "holder_scores_distribution_score_check", id="distribution score above 111",
        ),
        pytest.param(
            "insert into holder_scores (token_mint, timestamp, quality_score, bonding_curve_progress) "
            "values ('m', now(), -0.01, 50)", (),
            errors.CheckViolation, "holder_scores_quality_score_check", id="quality score below 0",
        ),
        pytest.param(
            "insert into holder_scores (token_mint, timestamp, activity_score, bonding_curve_progress) "
            "values ('m', now(), 111.01, 50)", (),
            errors.CheckViolation, "holder_scores_activity_score_check", id="activity score above 111",
        ),
        pytest.param(
            "insert into holder_scores (token_mint, timestamp, bonding_curve_progress) values ('m', now(), 9.99)", (),
            errors.CheckViolation, "valid_progress", id="holder score below 10 % progress",
        ),
        pytest.param(
            "insert into holder_scores (token_mint, timestamp, bonding_curve_progress) values ('m', now(), 100)", (),
            errors.CheckViolation, "valid_progress", id="holder score at 100 % not frozen",
        ),
        pytest.param(
            "insert into holder_scores (token_mint, timestamp) values ('m', now())", (),
            errors.CheckViolation, "valid_progress", id="holder score without progress not frozen",
        ),
        pytest.param(
            "insert into holder_scores (token_mint, timestamp, bonding_curve_progress, is_frozen) "
            "values ('m', now(), 50, null)", (),
            errors.NotNullViolation, None, id="holder score with NULL is_frozen",
        ),
        pytest.param(
            "insert into holder_score_queue (token_mint) values ('MintQ'), ('MintQ')", (),
            errors.UniqueViolation, "uq_holder_score_queue_pending", id="two pending queue entries for one token",
        ),
        pytest.param(
            "insert into risk_metrics (token_mint, timestamp, concentration_risk) values ('m', now(), 100.01)", (),
            errors.CheckViolation, "risk_metrics_concentration_risk_check", id="concentration risk above 100",
        ),
        pytest.param(
            "insert into wallet_analysis_cache (wallet_address, win_rate) values ('W', 100.01)", (),
            errors.CheckViolation, "wallet_analysis_cache_win_rate_check", id="win rate above 100 %",
        ),
        pytest.param(
            "insert into token_holders (token_mint, wallet_address, current_balance) values ('m', 'w', 1), ('m', 'w', 2)",
            (), errors.UniqueViolation, "token_holders_pkey", id="token holder twice",
        ),
    ],
)
def test_constraints_reject_bad_rows(
    conn: psycopg.Connection, sql: str, params: tuple[object, ...], error: type[Exception], constraint: str | None
) -> None:
    make_pool(conn, make_token(conn))
    rejects(conn, sql, params, error, constraint)


@pytest.mark.parametrize(
    ("progress", "frozen"),
    [(10, False), (50, False), (99.99, False), (100, True), (None, True), (5, True)],
)
def test_holder_scores_accept_the_activation_window_and_frozen_snapshots(
    conn: psycopg.Connection, progress: float | None, frozen: bool
) -> None:
    row = conn.execute(
        "insert into holder_scores (token_mint, timestamp, bonding_curve_progress, is_frozen) values ('m', now(), %s, %s) "
        "returning bonding_curve_progress, is_frozen",
        (progress, frozen),
    ).fetchone()
    assert row is not None and row[1] is frozen


def test_processed_queue_entries_do_not_block_a_new_pending_one(conn: psycopg.Connection) -> None:
    conn.execute(
        "insert into holder_score_queue (token_mint, processed_at) values ('MintQ', now() - interval '2 hours'), "
        "('MintQ', now() - interval '1 hour'), ('MintQ', null)"
    )
    assert conn.execute("select count(*) from holder_score_queue where token_mint = 'MintQ'").fetchone() == (3,)


def test_technical_total_score_is_the_sum_of_its_components(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "insert into technical_scores (token_mint, timestamp, market_cap_score, bonding_curve_score, "
        "trading_health_score, selloff_response_score) values ('m', now(), 60, 41, 30.5, -20.25) returning total_score"
    ).fetchone()
    assert row == (Decimal("111.25"),)


def test_technical_total_score_defaults_components_to_zero(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "insert into technical_scores (token_mint, timestamp, market_cap_score) values ('m', now(), 12.5) "
        "returning total_score"
    ).fetchone()
    assert row == (Decimal("12.50"),)


def test_holder_total_score_is_the_sum_of_its_parts(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "insert into holder_scores (token_mint, timestamp, distribution_score, quality_score, activity_score, "
        "bonding_curve_progress) values ('m', now(), 100, 80.5, 11.25, 30) returning total_score"
    ).fetchone()
    assert row == (Decimal("191.75"),)


def test_overall_risk_is_the_greatest_known_risk(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "insert into risk_metrics (token_mint, timestamp, concentration_risk, bot_activity_score, rug_risk_score, "
        "wash_trading_score) values ('a', now(), 20, 75.5, null, 40), ('b', now(), null, null, null, null) "
        "returning token_mint, overall_risk_score"
    ).fetchall()
    assert sorted(rows) == [("a", Decimal("75.50")), ("b", None)]


def test_duplicate_and_useless_seed_indexes_are_gone(conn: psycopg.Connection) -> None:
    names = {
        r[0] for r in conn.execute("select indexname from pg_indexes where schemaname = 'public'").fetchall()
    }
    assert "idx_tokens_mint_address" not in names  # the unique constraint's index serves it
    assert "tokens_mint_address_key" in names
    assert "token_holders_token_mint_wallet_address_key" not in names  # the key declared twice
    assert "uq_holder_score_queue_pending" in names


def test_wallet_quality_metrics_has_no_foreign_key_into_a_hypertable(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "select count(*) from pg_constraint where contype = 'f' and confrelid in ("
        "select format('%I.%I', hypertable_schema, hypertable_name)::regclass "
        "from timescaledb_information.hypertables)"
    ).fetchone()
    assert row == (0,)
