"""One event, one row (issue 9 items 5 and 6): (signature, event_index) is unique across the whole
transactions table whatever the block time, identical re-deliveries are "already loaded", and a
re-delivery with other content is a `conflicting_duplicate` reject that keeps both versions.
Driven through `megatron ingest`, as users load files."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from megatron.cli import main

from .test_exact_raw import T0, Curve, key


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as c:
        yield c


def ingest(database_url: str, path: Path, events: list[Any]) -> dict[str, int]:
    path.write_text("".join(e.to_json() + "\n" for e in events))
    result = CliRunner().invoke(main, ["ingest", str(path)], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    m = re.search(r"events: (\d+) read = (\d+) loaded \+ (\d+) already loaded \+ (\d+) rejected", result.output)
    assert m, result.output
    return dict(zip(("read", "loaded", "already", "rejected"), map(int, m.groups()), strict=True))


def one(db: psycopg.Connection, query: str, *args: object) -> Any:
    row = db.execute(query, args).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def test_the_same_trade_with_another_block_time_is_not_stored_twice(
    db: psycopg.Connection, database_url: str, tmp_path: Path
) -> None:
    curve = Curve("shifted")
    trades = [curve.buy(10**9, f"w{i}", T0 + 10 * i, 5000 + i) for i in range(4)]
    assert ingest(database_url, tmp_path / "a.jsonl", trades) == {"read": 4, "loaded": 4, "already": 0, "rejected": 0}
    shifted = dataclasses.replace(trades[2], block_time=trades[2].block_time + 3600)
    counts = ingest(database_url, tmp_path / "b.jsonl", [shifted])
    assert counts == {"read": 1, "loaded": 0, "already": 0, "rejected": 1}
    assert one(db, "select count(*) from transactions where signature = %s", trades[2].signature) == 1
    assert one(db, "select transaction_count from token_holders where token_mint = %s and wallet_address = %s",
               curve.mint, key("w2")) == 1
    reject = one(db, "select reason, payload, message from megatron.ingest_rejects where payload = %s", shifted.to_json())
    assert reject[0] == "conflicting_duplicate" and json.loads(reject[1])["block_time"] == shifted.block_time
    assert '"block_time": "' in reject[2]  # the stored version's time is named beside the new one


def test_a_differing_copy_is_rejected_with_both_versions_and_an_identical_one_is_already_loaded(
    db: psycopg.Connection, database_url: str, tmp_path: Path
) -> None:
    curve = Curve("twins")
    original = curve.buy(2 * 10**9, "t1", T0 + 5, 6000)
    ingest(database_url, tmp_path / "a.jsonl", [original])
    forged = dataclasses.replace(original, side="sell", sol_amount=original.sol_amount * 7)
    counts = ingest(database_url, tmp_path / "b.jsonl", [forged, curve.buy(10**9, "t2", T0 + 9, 6001)])
    assert counts == {"read": 2, "loaded": 1, "already": 0, "rejected": 1}
    stored = one(db, "select type, amount_in from transactions where signature = %s", original.signature)
    assert stored == ("buy", original.sol_amount)  # the stored version stays
    message, payload = one(db, "select message, payload from megatron.ingest_rejects "
                               "where reason = 'conflicting_duplicate' and payload = %s", forged.to_json())
    assert json.loads(payload)["side"] == "sell" and '"side": "buy"' in message  # both versions kept
    again = ingest(database_url, tmp_path / "c.jsonl", [original])
    assert again == {"read": 1, "loaded": 0, "already": 1, "rejected": 0}


def test_a_second_create_for_a_mint_with_another_name_is_a_conflict(
    db: psycopg.Connection, database_url: str, tmp_path: Path
) -> None:
    curve = Curve("renamed")
    create = curve.create()
    ingest(database_url, tmp_path / "a.jsonl", [create])
    other = dataclasses.replace(create, name="Another Name", signature=create.signature[:-4] + "zzzz")
    counts = ingest(database_url, tmp_path / "b.jsonl", [other, create])
    assert counts == {"read": 2, "loaded": 0, "already": 1, "rejected": 1}
    assert one(db, "select name from tokens where mint_address = %s", curve.mint) == "renamed"
    assert one(db, "select count(*) from megatron.ingest_rejects where reason = 'conflicting_duplicate' "
                   "and payload = %s", other.to_json()) == 1
