"""Poison input through `megatron ingest` as users run it (issue 9, items 4, 5 and 7): every bad
record becomes a reject with its reason and raw input, the rest of the file loads, the run ends
'succeeded', and its counts reconcile with what the tables and the rejects hold."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from megatron import db as megatron_db
from megatron.events import TokenCreate, Trade

from .test_ingest import NOW, key, sig, token_life

MEGATRON = [sys.executable, "-m", "megatron.cli"]
T_PRICE = 1_790_100_000


LOADER: dict[str, str] = {}


@pytest.fixture(scope="module")
def db(database_url: str, ingest_role: tuple[str, str]) -> Iterator[psycopg.Connection]:
    LOADER["url"] = megatron_db.with_user(database_url, *ingest_role)
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def ingest(url: str, *paths: Path) -> int:
    """Run `megatron ingest PATH…` as the ingest role; it must succeed without a traceback.
    Returns the run id."""
    env = dict(os.environ, DATABASE_URL=url, MEGATRON_INGEST_URL=LOADER["url"])
    result = subprocess.run([*MEGATRON, "ingest", *map(str, paths)], env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr and "Aborted" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    found = re.search(r"ingest run (\d+):", result.stdout)
    assert found, result.stdout
    return int(found.group(1))


def run_row(conn: psycopg.Connection, run_id: int) -> dict[str, Any]:
    cur = conn.execute("select * from megatron.ingest_runs where run_id = %s", (run_id,))
    row = cur.fetchone()
    assert row is not None and cur.description is not None
    return {d.name: v for d, v in zip(cur.description, row)}


def rejects(conn: psycopg.Connection, run_id: int) -> list[tuple[str, str, str | None, bytes | None]]:
    return conn.execute(
        "select reason, message, payload, payload_bytes from megatron.ingest_rejects where run_id = %s order by reject_id",
        (run_id,),
    ).fetchall()


def assert_reconciles(conn: psycopg.Connection, run_id: int, *, records: int, loaded: int, rejected_rows: int) -> None:
    """Each side counted on its own: what the test wrote, what the tables gained, what the rejects hold."""
    run = run_row(conn, run_id)
    assert run["status"] == "succeeded"
    assert run["records_read"] == records
    assert run["events_accepted"] == loaded
    assert run["records_rejected"] + run["events_rejected"] == rejected_rows == len(rejects(conn, run_id))
    assert run["records_read"] == (
        run["records_read"] - run["records_skipped"] - run["records_rejected"]
    ) + run["records_skipped"] + run["records_rejected"]
    assert run["events_read"] == run["events_accepted"] + run["events_duplicate"] + run["events_rejected"]


def lines(events: list[Any]) -> list[str]:
    return [e.to_json() for e in events]


def trades_of(conn: psycopg.Connection, mint: str) -> int:
    return int(conn.execute(
        "select count(*) from transactions t join tokens k on k.id = t.token_id where k.mint_address = %s", (mint,)
    ).fetchone()[0])  # type: ignore[index]


def life(name: str) -> tuple[list[Any], str]:
    return token_life(name, graduate=False), key(f"{name}-mint")


# --- item 4: one bad record never stops the run ---------------------------------------------------


def test_a_nul_byte_in_a_line_is_rejected_with_its_raw_bytes_and_the_rest_loads(db: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    events, mint = life("nul")
    raw_nul = events[1].to_json().replace('"buy"', '"b\x00uy"')  # a literal NUL byte: not even JSON
    escaped = json.dumps({**events[2].to_dict(), "signature": sig("nul-esc"), "ix_name": "a\u0000b"})  # type: ignore[attr-defined]
    path = tmp_path / "nul.jsonl"
    path.write_text("\n".join([events[0].to_json(), raw_nul, escaped, *lines(events[2:])]) + "\n")
    run_id = ingest(database_url, path)
    assert trades_of(db, mint) == 2
    got = rejects(db, run_id)
    assert [r[0] for r in got] == ["not_json", "bad_field"]
    assert got[0][3] == (raw_nul).encode(), "the raw bytes are kept verbatim"
    assert got[0][2] == raw_nul.replace("\x00", "\\x00")
    assert "NUL" in got[1][1]
    assert_reconciles(db, run_id, records=5, loaded=3, rejected_rows=2)


def test_a_slot_or_tx_fee_above_the_bigint_range_is_rejected_before_the_database(db: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    events, mint = life("big")
    too_big_slot = json.dumps({**events[1].to_dict(), "slot": 2**63})
    too_big_fee = json.dumps({**events[2].to_dict(), "tx_fee": 2**64 - 1})
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join([events[0].to_json(), too_big_slot, too_big_fee, events[3].to_json()]) + "\n")
    run_id = ingest(database_url, path)
    assert trades_of(db, mint) == 1
    got = rejects(db, run_id)
    assert [r[0] for r in got] == ["bad_slot", "out_of_range"]
    assert "9223372036854775807" in got[0][1] and "tx_fee" in got[1][1]
    assert_reconciles(db, run_id, records=4, loaded=2, rejected_rows=2)


def test_a_five_thousand_digit_integer_is_rejected_and_the_rest_loads(db: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    events, mint = life("digits")
    huge = events[1].to_json().replace('"sol_amount":', '"sol_amount":' + "7" * 5000 + ",\"x\":")
    path = tmp_path / "digits.jsonl"
    path.write_text("\n".join([events[0].to_json(), huge, *lines(events[2:])]) + "\n")
    run_id = ingest(database_url, path)
    assert trades_of(db, mint) == 2
    (reason, message, payload, _raw), = rejects(db, run_id)
    assert reason == "bad_field" and "5000 digits" in message and payload == huge
    assert_reconciles(db, run_id, records=4, loaded=3, rejected_rows=1)


def test_prices_the_database_would_refuse_are_rejected_one_by_one(db: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "sol.csv"
    csv.write_text(
        "price_time,price_usd,source,confidence\n"
        f"{T_PRICE},151.25,pyth,0.05\n"
        f"{T_PRICE + 1},100000000000000000000,pyth,\n"  # 1e20: more than numeric(20, 6) holds
        f"{T_PRICE + 2},0.0000001,pyth,\n"  # rounds to 0 at 6 decimals
        f"{T_PRICE + 3},150,{'s' * 60},\n"  # source longer than 50
        f"{T_PRICE + 4},150,pyth,{'9' * 30}\n"  # confidence of 30 digits
        f"{T_PRICE + 5},152.5,pyth,\n"
    )
    canonical = tmp_path / "prices.jsonl"
    canonical.write_text(
        json.dumps({"v": 1, "kind": "sol_usd_price", "price_time": T_PRICE + 6, "price_usd": "1" + "0" * 20, "source": "x"}) + "\n"
        + json.dumps({"v": 1, "kind": "sol_usd_price", "price_time": T_PRICE + 7, "price_usd": "153", "source": "x"}) + "\n"
    )
    run_id = ingest(database_url, csv, canonical)
    times = [int(t) for (t,) in db.execute(
        "select extract(epoch from price_time)::bigint from sol_usd_prices where price_time >= to_timestamp(%s) order by 1",
        (T_PRICE,),
    )]
    assert times == [T_PRICE, T_PRICE + 5, T_PRICE + 7]
    got = rejects(db, run_id)
    assert sorted(r[0] for r in got) == ["bad_price", "bad_price", "bad_price", "bad_price", "too_long"]
    assert_reconciles(db, run_id, records=8, loaded=3, rejected_rows=5)


def test_csv_and_hermes_lines_that_are_not_utf8_are_rejected_alone(db: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "latin1.csv"
    csv.write_bytes(
        b"price_time,price_usd,source\n"
        + f"{T_PRICE + 100},150,pyth\n".encode()
        + f"{T_PRICE + 101},150,caf\xe9\n".encode("latin-1")
        + f"{T_PRICE + 102},151,pyth\n".encode()
    )
    hermes = tmp_path / "hermes.jsonl"
    item = {"id": "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d",
            "price": {"price": "15012345678", "conf": "1234567", "expo": -8, "publish_time": T_PRICE + 103}}
    hermes.write_bytes(
        json.dumps({"parsed": [item]}).encode() + b"\n"
        + b'{"parsed": [{"note": "\xff\xfe"}]}\n'
        + json.dumps({"parsed": [{**item, "price": {**item["price"], "publish_time": T_PRICE + 104}}]}).encode() + b"\n"
    )
    run_id = ingest(database_url, csv, hermes)
    assert int(db.execute(
        "select count(*) from sol_usd_prices where price_time between to_timestamp(%s) and to_timestamp(%s)",
        (T_PRICE + 100, T_PRICE + 104),
    ).fetchone()[0]) == 4  # type: ignore[index]
    got = rejects(db, run_id)
    assert [r[0] for r in got] == ["not_text", "not_text"]
    assert got[0][3] == f"{T_PRICE + 101},150,caf\xe9".encode("latin-1")
    assert_reconciles(db, run_id, records=6, loaded=4, rejected_rows=2)


def test_a_hermes_exponent_near_a_million_is_rejected_not_a_crash(db: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    good = {"id": "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d",
            "price": {"price": "15012345678", "conf": "1234567", "expo": -8, "publish_time": T_PRICE + 200}}
    bad = {**good, "price": {**good["price"], "expo": 999_999, "publish_time": T_PRICE + 201}}
    worse = {**good, "price": {**good["price"], "expo": 1_000_001, "publish_time": T_PRICE + 202}}
    path = tmp_path / "expo.json"
    path.write_text(json.dumps({"parsed": [good, bad, worse]}))
    run_id = ingest(database_url, path)
    got = rejects(db, run_id)
    assert [r[0] for r in got] == ["bad_price", "bad_price"]
    assert "expo 999999" in got[0][1]
    assert_reconciles(db, run_id, records=3, loaded=1, rejected_rows=2)


def test_a_gz_file_that_is_not_gzip_is_one_reject_and_the_other_files_load(db: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    events, mint = life("notgz")
    fake = tmp_path / "a-fake.jsonl.gz"
    fake.write_text("\n".join(lines(events)) + "\n")  # plain text under a .gz name
    real = tmp_path / "b-real.jsonl"
    real.write_text("\n".join(lines(events)) + "\n")
    run_id = ingest(database_url, fake, real)
    assert trades_of(db, mint) == 3
    (reason, message, payload, raw), = rejects(db, run_id)
    assert reason == "not_gzip" and str(fake) in message
    assert (payload, raw) == (fake.read_text(), None), "the file's text is kept verbatim"
    assert_reconciles(db, run_id, records=5, loaded=4, rejected_rows=1)


def test_a_truncated_gzip_loads_every_record_before_the_cut(db: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    events: list[Any] = []
    for n in range(14):
        events += token_life(f"cut{n}", graduate=False)  # 4 events each
    data = gzip.compress(("\n".join(lines(events)) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) * 9 // 10])
    # the records a reader of the truncated stream can get out whole
    intact = zlib.decompressobj(wbits=31).decompress(path.read_bytes()).decode().split("\n")[:-1]
    assert 40 < len(intact) < len(events)
    run_id = ingest(database_url, path)
    (reason, message, _payload, _raw), = rejects(db, run_id)
    assert reason == "truncated_gzip" and f"after {len(intact)} lines" in message
    loaded = int(db.execute("select count(*) from transactions where signature = any(%s)",
                            ([json.loads(line)["signature"] for line in intact],)).fetchone()[0])  # type: ignore[index]
    assert loaded == sum(1 for line in intact if json.loads(line)["kind"] == "trade")
    assert_reconciles(db, run_id, records=len(intact) + 1, loaded=len(intact), rejected_rows=1)


# --- item 5 (the Python half): one key under two mints loads once ----------------------------------


def test_one_event_key_under_two_mints_in_one_file_loads_once(db: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    from megatron.ingest.loader import DEFAULT_BATCH_SIZE  # noqa: F401 - the default: two lanes

    first, mint_a = life("lane-a")
    n = 0
    while zlib.crc32(key(f"lane-b{n}-mint").encode()) % 2 == zlib.crc32(mint_a.encode()) % 2:
        n += 1
    second, mint_b = life(f"lane-b{n}")
    trade = first[1]
    assert isinstance(trade, Trade)
    twin = json.dumps({**second[1].to_dict(), "signature": trade.signature, "event_index": trade.event_index})  # type: ignore[attr-defined]
    path = tmp_path / "twins.jsonl"
    path.write_text("\n".join([first[0].to_json(), second[0].to_json(), trade.to_json(), twin]) + "\n")
    run_id = ingest(database_url, path)
    assert int(db.execute("select count(*) from transactions where signature = %s", (trade.signature,)).fetchone()[0]) == 1  # type: ignore[index]
    assert (trades_of(db, mint_a), trades_of(db, mint_b)) == (1, 0)
    (reason, message, payload, _raw), = rejects(db, run_id)
    assert reason == "duplicate_in_batch" and mint_a in message and mint_b in message and payload == twin.replace(" ", "")
    assert_reconciles(db, run_id, records=4, loaded=3, rejected_rows=1)


# --- item 7: the format, the validator and the columns agree ----------------------------------------


def test_text_and_numbers_the_columns_cannot_hold_are_rejected_by_validation(db: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    events, mint = life("limits")
    create = events[0]
    assert isinstance(create, TokenCreate)
    fits = json.dumps({**create.to_dict(), "name": "n" * 100, "symbol": "S" * 10, "uri": "u" * 255, "decimals": 18})
    bad = {
        "name": {**create.to_dict(), "name": "n" * 4096, "mint": key("l-1"), "signature": sig("l-1")},
        "uri": {**create.to_dict(), "uri": "u" * 4096, "mint": key("l-2"), "signature": sig("l-2")},
        "symbol": {**create.to_dict(), "symbol": "S" * 11, "mint": key("l-3"), "signature": sig("l-3")},
        "decimals": {**create.to_dict(), "decimals": 255, "mint": key("l-4"), "signature": sig("l-4")},
        "event_index": {**events[1].to_dict(), "event_index": 32_768},  # type: ignore[attr-defined]
    }
    edge = json.dumps({**events[2].to_dict(), "event_index": 32_767})  # type: ignore[attr-defined]
    path = tmp_path / "limits.jsonl"
    path.write_text("\n".join([fits, *(json.dumps(v) for v in bad.values()), edge]) + "\n")
    run_id = ingest(database_url, path)
    got = rejects(db, run_id)
    assert [r[0] for r in got] == ["too_long", "too_long", "too_long", "out_of_range", "out_of_range"]
    for (reason, message, _p, _r), name in zip(got, bad):
        assert name in message
    assert "database_rejected" not in {r[0] for r in got}
    assert db.execute("select char_length(name), decimals from tokens where mint_address = %s", (mint,)).fetchone() == (100, 18)
    assert trades_of(db, mint) == 1
    assert_reconciles(db, run_id, records=7, loaded=2, rejected_rows=5)


def test_a_price_the_database_refuses_is_isolated_like_any_other_event(db: psycopg.Connection, database_url: str) -> None:
    """Producers other than the file reader hand the loader events directly; a price that slipped past
    validation must cost only itself, on the main connection's price path too."""
    from megatron.events import SolUsdPrice
    from megatron.ingest.loader import Loader

    prices = [
        SolUsdPrice(price_time=T_PRICE + 300, price_usd="150", source="direct"),
        SolUsdPrice(price_time=T_PRICE + 301, price_usd="1" + "0" * 20, source="direct"),  # numeric(20, 6) overflows
        SolUsdPrice(price_time=T_PRICE + 302, price_usd="151", source="direct"),
    ]
    with psycopg.connect(LOADER["url"], autocommit=True) as conn:
        loader = Loader(conn, "direct prices")
        loader.add_all(prices, origin="direct")
        counts = loader.finish()
    assert (counts.events_accepted, counts.events_rejected, counts.events_duplicate) == (2, 1, 0)
    assert [int(t) for (t,) in db.execute(
        "select extract(epoch from price_time)::bigint from sol_usd_prices where source = 'direct' order by 1"
    )] == [T_PRICE + 300, T_PRICE + 302]
    (reason, message, payload, _raw), = rejects(db, loader.run_id)
    assert reason == "database_rejected" and "numeric field overflow" in message and '"price_time":' in (payload or "")
    assert run_row(db, loader.run_id)["status"] == "succeeded"
