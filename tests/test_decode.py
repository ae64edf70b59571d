"""Decoder tests against the real mainnet fixtures in ../shared/fixtures/solana.

Every value a fixture's source asserts is checked here (the ``expected`` blocks of logs/*.json,
the PROVENANCE table for rpc/ and helius/, the ``_decodedPumpTradeEvents`` annotations). A
mismatch is a decoder bug: fixtures are never edited. Transactions marked *synthetic* below are
built in the test from real event bytes to exercise paths no fixture covers (LaunchLab and
PumpSwap inside a transaction, migrations); they say so where they are built.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
import re
import struct
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import base58
import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from megatron.decode import (
    DecodedEvent,
    DecodeError,
    FailedTransaction,
    RawRecord,
    Reader,
    decode_event,
    decode_log_line,
    decode_record,
    decode_transaction,
    decode_transaction_result,
    iter_instructions,
    iter_records,
)
from megatron.decode.layouts import (
    ANCHOR_EVENT_IX_TAG,
    EVENT_SPECS,
    LAUNCHLAB_TRADE_EVENT,
    PUMP_TRADE_EVENT,
    ZERO_PUBKEY,
    bonding_curve_address,
    event_discriminator,
    find_program_address,
    instruction_discriminator,
    pool_authority_address,
    split_anchor_cpi,
)
from megatron.decode.records import records_from_text
from megatron.decode.transaction import events_from_cpi, events_from_logs
from megatron.events import (
    LAUNCHLAB_PROGRAM_ID,
    PUMPFUN_PROGRAM_ID,
    PUMPSWAP_PROGRAM_ID,
    WSOL_MINT,
    CurveComplete,
    Event,
    Migration,
    SolUsdPrice,
    TokenCreate,
    Trade,
)
from megatron.validate import InvalidEvent, RejectError, validate_event

from .conftest import FIXTURES  # noqa: E402 - the one place that says where the fixtures live

if not FIXTURES.is_dir():
    # not a skip: without the fixtures the decoder is untested, and CI must say so
    raise RuntimeError(f"the Solana fixtures are missing: expected {FIXTURES} (set MEGATRON_FIXTURES)")

NOW = 1_800_000_000  # 2027-01-15: after every fixture
TOKEN_2022 = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"

SIG_2ZCP = "2zcP2CkxE14L1CG6hHfw6emU7rcxsLVg19swyuxbHKJ7MXj3GYmXAD4289MzJUdV759wk4QfF4odTwEgPWwd49vh"
SIG_52AR = "52ar89rghM8EwKZkxFnBMC4LaMReqtVdpxqXxGWBCMYV1DnYdLrdsqJo8Hbn9KjVpckAokqGNHzTSVfK5xuLepdC"
SIG_33LH = "33LHUzKfhBvU68kYib22oFx2XdQKQZ2sfvTmmdCFEr6YidyP8S3WwAurjz6Suewvr2WUByV79K3stNCZDe7wq3De"
SIG_2ROR = "2RoRJxatbF9Qkv87jei19u7ei2ckyjjnrCHZBRRAXi4GFJi68kra2iPSk7aoQ9Ugnf5FK5Mdp274hMaVSzn6SN5M"
SIG_3LGG = "3LgG7q93TcXa5g99bUt4Xbxxwy3v8aKdmFToNk7qwfjvLJXjFxNu9H5SpuZ6DL6yqsctYaGNMWFBpWM7hd66FtQA"
SIG_4UDM = "4udm6NA1et1irGeY4UNyd8hHYEdAr1ZZ6B4NkqeVFPwDp97qx87KjL2FYSSKb4YVmM4jAKh5Uv2yi4TUznXztd5C"
SIG_3OQD = "3oqdtu8EHg7i6TqinKgmCLdZvt7k4LEMXV3eWQYbuF4caiJMm43c5yh88JWMqrqWSSbwDQa2c2Nkh94WGES55r9K"
SIG_HELIUS_SELL = "54aBiJz2eWtNEA6giPNz1MXPjmqFJGa3jnTN1XY6cUqqueJLxvn35ghBMtxn9iMvTnoHMxCa8eVbkbMMktZRFtV"
SIG_HELIUS_BUY = "ArKpUgtPa32SBLP1uGRGFAWECuZYDZ37nrBv7DycZGTks7r17vdUYR6NxjqSeD6vQyVVyZSwKFfocz99foePMdF"

RPC_FILES = {sig: f"rpc/{sig}.json" for sig in (SIG_2ZCP, SIG_52AR, SIG_33LH, SIG_2ROR, SIG_3LGG, SIG_4UDM, SIG_3OQD)}
HELIUS_FILES = {
    SIG_HELIUS_SELL: f"helius/transactionNotification_{SIG_HELIUS_SELL}.json",
    SIG_HELIUS_BUY: f"helius/transactionNotification_{SIG_HELIUS_BUY}.json",
}
TX_FILES = {**RPC_FILES, **HELIUS_FILES}
LOG_FILES = (
    "logs/pump_trade_events.json",
    "logs/pump_create_events.json",
    "logs/pump_complete_events.json",
    "logs/pumpswap_events.json",
    "logs/launchlab_events.json",
)
IDL_FILES = ("idl/pump.json", "idl/pump_amm.json", "idl/pump_2025-04-04_df5013e.json", "idl/event_layouts.json")
DANIZARG = (SIG_3LGG, SIG_4UDM, SIG_3OQD)


# ---------------------------------------------------------------------------------------------
# helpers


def load(rel: str) -> Any:
    return json.loads((FIXTURES / rel).read_text())


def items(rel: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = load(rel)["items"]
    return out


def log_bytes(line: str) -> bytes:
    return base64.b64decode(line.removeprefix("Program data: "))


def decode_item(item: dict[str, Any]) -> DecodedEvent:
    return decode_event(item.get("program", PUMPFUN_PROGRAM_ID), log_bytes(item["log"]))


def tx_part(doc: Any) -> dict[str, Any]:
    """The dict that holds "transaction" and "meta" inside any wrapper (mutable)."""
    if "response" in doc:
        doc = doc["response"]
    if doc.get("method") == "transactionNotification":
        inner: dict[str, Any] = doc["params"]["result"]["transaction"]
        return inner
    part: dict[str, Any] = doc["result"] if "result" in doc else doc
    return part


def key(label: str) -> str:
    """A synthetic 32-byte address."""
    return base58.b58encode(hashlib.sha256(label.encode()).digest()).decode()


def signature(label: str) -> str:
    """A synthetic 64-byte signature."""
    h = hashlib.sha256(label.encode()).digest()
    return base58.b58encode(h + h).decode()


def to_json_encoding(doc: Any) -> Any:
    """A copy of a jsonParsed document re-expressed in `json` encoding.

    Static keys stay in accountKeys, lookup-table keys move to meta.loadedAddresses
    (writable, then readonly), instructions refer to accounts by index. jsonParsed "parsed"
    instructions (system/token) have no raw bytes; they become index-only instructions with
    empty data, which is irrelevant to event decoding.
    """
    out = copy.deepcopy(doc)
    part = tx_part(out)
    message = part["transaction"]["message"]
    keys = message["accountKeys"]
    static = [k["pubkey"] for k in keys if k.get("source", "transaction") == "transaction"]
    writable = [k["pubkey"] for k in keys if k.get("source") == "lookupTable" and k["writable"]]
    readonly = [k["pubkey"] for k in keys if k.get("source") == "lookupTable" and not k["writable"]]
    full = static + writable + readonly
    assert full == [k["pubkey"] for k in keys], "jsonParsed lists static, then writable, then readonly keys"
    index = {pk: i for i, pk in enumerate(full)}

    def conv(ix: dict[str, Any]) -> dict[str, Any]:
        if "parsed" in ix:
            return {
                "programIdIndex": index[ix["programId"]],
                "accounts": [],
                "data": "",
                "stackHeight": ix.get("stackHeight"),
            }
        return {
            "programIdIndex": index[ix["programId"]],
            "accounts": [index[a] for a in ix["accounts"]],
            "data": ix["data"],
            "stackHeight": ix.get("stackHeight"),
        }

    message["accountKeys"] = static
    message["instructions"] = [conv(ix) for ix in message["instructions"]]
    meta = part["meta"]
    meta["innerInstructions"] = [
        {"index": g["index"], "instructions": [conv(ix) for ix in g["instructions"]]} for g in meta["innerInstructions"]
    ]
    meta["loadedAddresses"] = {"writable": writable, "readonly": readonly}
    return out


def synthetic_tx(
    *,
    logs: list[str] | None,
    instructions: list[dict[str, Any]],
    inner: list[dict[str, Any]] | None = None,
    sig: str | None = None,
    block_time: int | None = 1_790_000_000,
    token_balances: list[dict[str, Any]] | None = None,
    extra_keys: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A jsonParsed-style getTransaction result built in the test (synthetic)."""
    keys: list[str] = []
    for ix in instructions + [i for g in (inner or []) for i in g["instructions"]]:
        for k in [*ix.get("accounts", []), ix["programId"]]:
            if k not in keys:
                keys.append(k)
    keys.extend(k for k in extra_keys if k not in keys)
    return {
        "slot": 400_000_000,
        "blockTime": block_time,
        "version": 0,
        "transaction": {
            "signatures": [sig or signature("synthetic")],
            "message": {
                "accountKeys": [
                    {"pubkey": k, "signer": i == 0, "writable": True, "source": "transaction"}
                    for i, k in enumerate(keys)
                ],
                "instructions": instructions,
                "recentBlockhash": key("blockhash"),
            },
        },
        "meta": {
            "err": None,
            "fee": 5000,
            "logMessages": logs,
            "innerInstructions": inner or [],
            "preTokenBalances": [],
            "postTokenBalances": token_balances or [],
        },
    }


def ix(program: str, accounts: list[str], data: bytes) -> dict[str, Any]:
    return {"programId": program, "accounts": accounts, "data": base58.b58encode(data).decode(), "stackHeight": None}


def check_expected(
    item: dict[str, Any], decoded: DecodedEvent, special: dict[str, Callable[[Any], None]] | None = None
) -> None:
    """Every key of the item's `expected` block is checked, raw fields by equality."""
    special = special or {}
    for name, value in item["expected"].items():
        if name in special:
            special[name](value)
        else:
            assert name in decoded.fields, f"{name} not decoded"
            assert decoded.fields[name] == value, f"{name}: {decoded.fields[name]!r} != {value!r}"


# ---------------------------------------------------------------------------------------------
# the fixture set itself


def test_fixture_files_are_the_ones_these_tests_cover() -> None:
    found = {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*") if p.is_file()}
    covered = set(TX_FILES.values()) | set(LOG_FILES) | set(IDL_FILES) | {"PROVENANCE.md", "SHA256SUMS"}
    assert found == covered


def test_fixtures_are_unmodified() -> None:
    for line in (FIXTURES / "SHA256SUMS").read_text().splitlines():
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        name = name.lstrip("*").removeprefix("./")
        assert hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest() == digest, name


# ---------------------------------------------------------------------------------------------
# layouts against the IDLs


def _idl_type(t: Any) -> Any:
    if isinstance(t, dict) and "vec" in t:
        return ("vec", t["vec"]["defined"]["name"])
    return t


def test_event_discriminators_match_the_idl_files() -> None:
    for rel in ("idl/pump.json", "idl/pump_amm.json", "idl/pump_2025-04-04_df5013e.json"):
        for event in load(rel)["events"]:
            assert event_discriminator(event["name"]).hex() == bytes(event["discriminator"]).hex()
    for rel in ("idl/pump.json", "idl/pump_amm.json"):
        for ins in load(rel)["instructions"]:
            assert instruction_discriminator(ins["name"]) == bytes(ins["discriminator"]), ins["name"]
    # Raydium LaunchLab buy_exact_in, as listed in its public IDL (not among the fixtures)
    assert list(instruction_discriminator("buy_exact_in")) == [250, 234, 13, 123, 213, 156, 19, 236]
    assert LAUNCHLAB_TRADE_EVENT.discriminator == PUMP_TRADE_EVENT.discriminator == bytes.fromhex("bddb7fd34ee661ee")


def test_event_layouts_follow_the_idl_history() -> None:
    history = load("idl/event_layouts.json")
    by_program = {"pump": "pumpfun", "pump_amm": "pumpswap"}
    specs = {(s.program, s.name): s for s in EVENT_SPECS}
    seen = 0
    for idl_name, program in by_program.items():
        for entry in history[idl_name]:
            spec = specs[(program, entry["event"])]
            assert spec.discriminator == bytes(entry["discriminator"])
            gens = [g for g in spec.generations if g.commit and entry["commit"].startswith(g.commit)]
            assert len(gens) == 1, (entry["event"], entry["commit"])
            assert [(n, t) for n, t in gens[0].fields] == [(n, _idl_type(t)) for n, t in entry["fields"]]
            seen += 1
    assert seen == len(history["pump"]) + len(history["pump_amm"])
    # the newest generation is the current IDL
    idl = {t["name"]: t for t in load("idl/pump.json")["types"]}
    for name in ("TradeEvent", "CreateEvent", "CompleteEvent", "CompletePumpAmmMigrationEvent"):
        newest = specs[("pumpfun", name)].generations[-1]
        assert list(newest.field_names) == [f["name"] for f in idl[name]["type"]["fields"]]
    amm = {t["name"]: t for t in load("idl/pump_amm.json")["types"]}
    for name in ("BuyEvent", "SellEvent", "CreatePoolEvent"):
        newest = specs[("pumpswap", name)].generations[-1]
        assert list(newest.field_names) == [f["name"] for f in amm[name]["type"]["fields"]]
    shareholder = history["pump_types_Shareholder_at_HEAD"]["type"]["fields"]
    assert [(f["name"], f["type"]) for f in shareholder] == [("address", "pubkey"), ("share_bps", "u16")]


def test_trade_event_generations_have_the_provenance_sizes() -> None:
    sizes = {g.label: g.min_size + 8 for g in PUMP_TRADE_EVENT.generations}
    assert (sizes["v0"], sizes["v1"], sizes["v2"], sizes["v3"]) == (113, 129, 225, 258)


# ---------------------------------------------------------------------------------------------
# logs/*.json: every asserted value


@pytest.mark.parametrize("n", range(9))
def test_pump_trade_event_lines_decode_to_their_asserted_values(n: int) -> None:
    item = items("logs/pump_trade_events.json")[n]
    decoded = decode_item(item)
    assert (decoded.program, decoded.name) == ("pumpfun", "TradeEvent")
    f = decoded.fields
    special: dict[str, Callable[[Any], None]] = {}
    if item["source"]["repo"] == "m3n4ce-dev/meme_traderv1":
        # the source asserts its own Trade object in SOL / whole-token units
        def ui(field: str, scale: int) -> Callable[[Any], None]:
            def check(value: Any) -> None:
                assert Decimal(f[field]) / scale == Decimal(str(value))

            return check

        special = {
            "mint": lambda v: _eq(f["mint"], v),
            "trader": lambda v: _eq(f["user"], v),
            "side": lambda v: _eq("buy" if f["is_buy"] else "sell", v),
            "sol": ui("sol_amount", 10**9),
            "tokens": ui("token_amount", 10**6),
            "v_sol": ui("virtual_sol_reserves", 10**9),
            "v_tokens": ui("virtual_token_reserves", 10**6),
        }
        assert decoded.trailing == 36  # PROVENANCE: the 2026-10 event carries 36 extra bytes
    check_expected(item, decoded, special)
    # the layout generation named by the fixture
    variant = item["source"].get("source_event_variant")
    if variant:
        assert decoded.layout == {"TradeV0": "v0", "TradeV1": "v1", "TradeV2": "v2", "TradeV3": "v3"}[variant]
    # canonical mapping of the same line
    trade = decode_log_line(item["log"], signature=item.get("signature") or signature(f"trade-{n}"))[0]
    assert isinstance(trade, Trade)
    validate_event(trade, now=NOW)
    assert trade.program == "pumpfun" and trade.mint == f["mint"] and trade.user == f["user"]
    assert trade.side == ("buy" if f["is_buy"] else "sell")
    assert (trade.sol_amount, trade.token_amount, trade.timestamp) == (
        f["sol_amount"],
        f["token_amount"],
        f["timestamp"],
    )
    assert trade.block_time == f["timestamp"]  # no blockTime on a log line
    assert trade.pool == bonding_curve_address(f["mint"])
    for name in (
        "virtual_sol_reserves",
        "virtual_token_reserves",
        "real_sol_reserves",
        "real_token_reserves",
        "fee",
        "fee_basis_points",
        "creator_fee",
        "creator_fee_basis_points",
        "ix_name",
        "mayhem_mode",
    ):
        assert getattr(trade, name) == f.get(name), name
    assert trade.creator == f.get("creator")


def _eq(a: Any, b: Any) -> None:
    assert a == b


@pytest.mark.parametrize("n", range(3))
def test_pump_create_event_lines_decode_to_their_asserted_values(n: int) -> None:
    item = items("logs/pump_create_events.json")[n]
    decoded = decode_item(item)
    assert decoded.name == "CreateEvent"
    check_expected(item, decoded, {"metadata_uri": lambda v: _eq(decoded.fields["uri"], v)})
    create = decode_log_line(item["log"], signature=item.get("signature") or signature(f"create-{n}"))[0]
    assert isinstance(create, TokenCreate)
    validate_event(create, now=NOW)
    f = decoded.fields
    assert (create.mint, create.name, create.symbol, create.uri) == (f["mint"], f["name"], f["symbol"], f["uri"])
    assert (create.creator, create.user, create.bonding_curve) == (f["creator"], f["user"], f["bonding_curve"])
    assert create.bonding_curve == bonding_curve_address(f["mint"])
    for name in ("virtual_token_reserves", "virtual_sol_reserves", "real_token_reserves", "token_total_supply"):
        assert getattr(create, name) == f[name]
    assert create.token_program == f.get("token_program")
    assert create.is_mayhem_mode == f.get("is_mayhem_mode")
    assert create.is_cashback_enabled == f.get("is_cashback_enabled")
    assert create.timestamp == f["timestamp"] == create.block_time


def test_pump_complete_event_line_decodes_to_its_asserted_values() -> None:
    (item,) = items("logs/pump_complete_events.json")
    decoded = decode_item(item)
    assert decoded.name == "CompleteEvent"

    def zero_quote(value: Any) -> None:
        assert value["const"] == "NATIVE_SOL_QUOTE_SENTINEL"
        assert decoded.fields["quote_mint"] == ZERO_PUBKEY

    check_expected(item, decoded, {"quote_mint": zero_quote})
    records = list(records_from_text(json.dumps({"items": [item]}), "complete.json"))
    (event,) = decode_record(records[0], now=NOW)
    assert isinstance(event, CurveComplete)
    assert (event.signature, event.mint, event.user, event.bonding_curve) == (
        item["signature"],
        item["expected"]["mint"],
        item["expected"]["user"],
        item["expected"]["bonding_curve"],
    )
    assert event.timestamp == event.block_time == 1787337289
    assert event.quote_mint is None  # the all-zero quote mint means SOL


@pytest.mark.parametrize("n", range(5))
def test_pumpswap_event_lines_decode_to_their_asserted_values(n: int) -> None:
    item = items("logs/pumpswap_events.json")[n]
    decoded = decode_item(item)
    assert decoded.program == "pumpswap"
    if "event" in item:
        assert decoded.name == item["event"]
    f = decoded.fields
    special: dict[str, Callable[[Any], None]] = {}
    if item["source"]["repo"] == "kshetty851-bit/MEMESCOPE":
        migration = decode_log_line(item["log"], program_id=PUMPSWAP_PROGRAM_ID, signature=signature("memescope"))[0]
        assert isinstance(migration, Migration)
        validate_event(migration, now=NOW)
        special = {
            "mint_address": lambda v: _eq(migration.mint, v),
            "block_time_unix": lambda v: _eq(migration.block_time, v),
            "decimals": lambda v: _eq(f["base_mint_decimals"], v),
            "quote": lambda v: _eq((v.split()[0], f["quote_mint"], migration.quote_mint), ("WSOL", WSOL_MINT, None)),
        }
        # the pool named in the source's docstring, and who created it
        assert migration.pool == "8A3DaQpw8CPz4t9zqDyHDwCmkqREkPYgBE6X4eYHKmJE"
        assert f["creator"] == pool_authority_address(migration.mint)
        assert migration.lp_mint == f["lp_mint"] and migration.platform == "pumpswap"
        assert (migration.sol_amount, migration.token_amount) == (f["quote_amount_in"], f["base_amount_in"])
    check_expected(item, decoded, special)


@pytest.mark.parametrize("n", range(3))
def test_launchlab_event_lines_decode_to_their_asserted_values(n: int) -> None:
    item = items("logs/launchlab_events.json")[n]
    assert item["program"] == LAUNCHLAB_PROGRAM_ID
    decoded = decode_item(item)
    assert (decoded.program, decoded.name) == ("raydium_launchlab", "TradeEvent")

    def enum(field: str, index0: str) -> Callable[[Any], None]:
        def check(value: Any) -> None:
            if "variant" in value:  # pinax: the Rust variant name
                assert decoded.fields[field] == value["variant"]
            else:
                # LuKks/borsh-encoding labels variant 0 "QuoteToken" (its decoder's naming,
                # kept verbatim by the fixture); the byte is variant 0 = Buy / Fund.
                assert value == {"name": "QuoteToken"} and decoded.fields[field] == index0

        return check

    check_expected(
        item, decoded, {"trade_direction": enum("trade_direction", "Buy"), "pool_status": enum("pool_status", "Fund")}
    )
    variant = item["source"].get("source_event_variant")
    # pinax names the 139-byte layout "V1" and the 130-byte public-IDL layout "V2"
    assert decoded.layout == {"TradeEventV1": "v2", "TradeEventV2": "v1", None: "v2"}[variant]
    f = decoded.fields
    # LaunchLab's constant-product curve reproduces amount_out from the curve-side quote
    base0 = f["virtual_base"] - f["real_base_before"]
    quote0 = f["virtual_quote"] + f["real_quote_before"]
    net_in = f["real_quote_after"] - f["real_quote_before"]
    assert base0 * net_in // (quote0 + net_in) == f["amount_out"] == f["real_base_after"] - f["real_base_before"]
    fees = f["protocol_fee"] + f["platform_fee"] + f.get("creator_fee", 0) + f["share_fee"]
    assert f["amount_in"] - fees == net_in


def test_self_cpi_hex_equals_the_log_line() -> None:
    n = 0
    for rel in LOG_FILES:
        for item in items(rel):
            if "cpi_data_hex" not in item:
                continue
            raw = bytes.fromhex(item["cpi_data_hex"])
            assert raw[:8] == ANCHOR_EVENT_IX_TAG
            assert split_anchor_cpi(raw) == log_bytes(item["log"])
            n += 1
    assert n == 11


def test_log_items_become_events_or_named_rejects() -> None:
    outcome: dict[str, str] = {}
    for rel in LOG_FILES:
        for record in iter_records(FIXTURES / rel):
            assert record.kind == "log"
            try:
                events = decode_record(record, now=NOW)
                outcome[record.origin.split("/")[-1]] = ",".join(e.kind for e in events) or "-"
            except RejectError as exc:
                assert exc.message.startswith(record.origin + ": ")
                outcome[record.origin.split("/")[-1]] = exc.reason_code
    assert outcome == {
        "pump_trade_events.json#items[0]": "no_signature",
        "pump_trade_events.json#items[1]": "trade",
        "pump_trade_events.json#items[2]": "trade",
        "pump_trade_events.json#items[3]": "no_signature",
        "pump_trade_events.json#items[4]": "trade",
        "pump_trade_events.json#items[5]": "trade",
        "pump_trade_events.json#items[6]": "trade",
        "pump_trade_events.json#items[7]": "trade",
        "pump_trade_events.json#items[8]": "trade",
        "pump_create_events.json#items[0]": "token_create",
        "pump_create_events.json#items[1]": "no_signature",
        "pump_create_events.json#items[2]": "token_create",
        "pump_complete_events.json#items[0]": "curve_complete",
        "pumpswap_events.json#items[0]": "no_signature",
        "pumpswap_events.json#items[1]": "no_signature",
        "pumpswap_events.json#items[2]": "no_mint",  # the event names the pool, not the mint
        "pumpswap_events.json#items[3]": "no_mint",
        "pumpswap_events.json#items[4]": "-",  # a pool not created by pump.fun's migrate
        "launchlab_events.json#items[0]": "no_signature",
        "launchlab_events.json#items[1]": "no_signature",
        "launchlab_events.json#items[2]": "no_signature",
    }


def test_pool_created_by_anyone_but_pumpfun_is_not_a_migration() -> None:
    item = items("logs/pumpswap_events.json")[4]
    f = decode_item(item).fields
    assert f["base_mint"] == WSOL_MINT and f["creator"] not in (
        pool_authority_address(f["base_mint"]),
        pool_authority_address(f["quote_mint"]),
    )
    assert decode_log_line(item["log"], program_id=PUMPSWAP_PROGRAM_ID, signature=item["signature"]) == []


# ---------------------------------------------------------------------------------------------
# rpc/ and helius/: the PROVENANCE table


def _pump_ix(doc: Any, name: str) -> Any:
    disc = instruction_discriminator(name)
    return next(
        i for i in iter_instructions(doc) if i.program_id == PUMPFUN_PROGRAM_ID and i.data and i.data[:8] == disc
    )


def _sizes(doc: Any) -> list[int]:
    raw, _ = events_from_logs(tx_part(doc)["meta"]["logMessages"])
    return [len(r.data) for r in raw]


def test_2024_create_and_buy_names_the_asserted_bonding_curve_and_user_account() -> None:
    doc = load(RPC_FILES[SIG_2ZCP])
    create, trade = decode_transaction(doc)
    assert isinstance(create, TokenCreate) and isinstance(trade, Trade)
    assert (create.slot, create.block_time, trade.event_index) == (270141532, 1717642161, 1)
    assert create.mint == trade.mint and create.mint.startswith("825fFpXB") and create.mint.endswith("pump")
    assert create.bonding_curve == trade.pool == "GSJ7gix2Q7k81quBYfH9ceD7Vz2bC8Bfim9JJBiKWtKE"
    buy = _pump_ix(doc, "buy")
    assert buy.accounts[3] == "GSJ7gix2Q7k81quBYfH9ceD7Vz2bC8Bfim9JJBiKWtKE"  # bonding_curve
    assert buy.accounts[5] == "ARK76xJyuS9kEJqVQtxPBtXct1D9wnufoJjwf5onyaQh"  # associated_user
    assert _sizes(doc) == [202, 129]
    assert create.creator == create.user  # 2024 CreateEvents stop after `user`
    assert create.timestamp is None and trade.tx_fee == 72500


def test_2024_create_and_buy_without_assertions_decodes() -> None:
    doc = load(RPC_FILES[SIG_52AR])
    create, trade = decode_transaction(doc)
    assert isinstance(create, TokenCreate) and isinstance(trade, Trade)
    assert (create.slot, create.block_time) == (284682639, 1724128600)
    assert create.mint == trade.mint and create.mint.startswith("ER2N5eaD")
    assert trade.side == "buy" and trade.pool == create.bonding_curve


def test_buy_and_sell_in_one_transaction_give_two_indexed_trades() -> None:
    doc = load(RPC_FILES[SIG_33LH])
    buy, sell = decode_transaction(doc)
    assert isinstance(buy, Trade) and isinstance(sell, Trade)
    assert [(t.side, t.event_index) for t in (buy, sell)] == [("buy", 0), ("sell", 1)]
    assert (buy.slot, buy.block_time) == (284677332, 1724126293)
    assert buy.mint == sell.mint and buy.mint.startswith("HfJVjBdk") and buy.mint.endswith("pump")
    # the sibling script's decoded buy arg `amount`
    buy_ix = _pump_ix(doc, "buy")
    assert Reader(buy_ix.data[8:]).u64() == 605426095720 == buy.token_amount


def test_create_v2_with_lookup_table_has_the_asserted_hunter_values() -> None:
    doc = load(RPC_FILES[SIG_2ROR])
    result = decode_transaction_result(doc)
    create, trade = result.events
    assert isinstance(create, TokenCreate) and isinstance(trade, Trade)
    assert result.ignored == ("ExtendAccountEvent",)  # recognised, no canonical counterpart
    assert (create.slot, create.block_time) == (435946190, 1785327618)
    assert create.mint == trade.mint == "CWiTGbCiDd8BKtNYNE2boT9fJGFG2MU53Uf6HQk4pump"
    assert create.token_program == TOKEN_2022
    # hunter maps the zero quote mint to WSOL; canonically that is SOL = null
    raw, _ = events_from_logs(doc["result"]["meta"]["logMessages"])
    assert decode_event(raw[0].program_id, raw[0].data).fields["quote_mint"] == ZERO_PUBKEY
    assert create.quote_mint is None and trade.quote_mint is None
    assert create.is_cashback_enabled is True  # is_cashback_coin
    # state_from_event: the create event carries the whole initial curve state
    assert None not in (create.virtual_sol_reserves, create.virtual_token_reserves, create.real_token_reserves)
    # quote_token_program (SPL Token for the SOL quote) is hunter's constant, not event data
    assert _sizes(doc)[0] == 343 and _sizes(doc)[-1] == 371
    assert any(k.get("source") == "lookupTable" for k in doc["result"]["transaction"]["message"]["accountKeys"])
    assert trade.ix_name == "buy_exact_sol_in"


@pytest.mark.parametrize("sig", DANIZARG)
def test_orbyt_annotations_match_the_decoded_trade_event(sig: str) -> None:
    doc = load(RPC_FILES[sig])
    (annotation,) = doc["_decodedPumpTradeEvents"]
    result = decode_transaction_result(doc)
    (trade,) = result.events
    assert isinstance(trade, Trade)
    raw, _ = events_from_logs(doc["response"]["result"]["meta"]["logMessages"])
    (event,) = [decode_event(r.program_id, r.data) for r in raw]
    assert annotation["disc"] == raw[0].data[:8].hex()
    for name, value in annotation.items():
        if name in ("disc", "_remainingBytes", "_remainingHex"):
            continue
        expected = int(value) if isinstance(value, str) and value.isdigit() else value
        assert event.fields[name] == expected, name
    # the annotation stops after ix_name: the v5..v7 fields (93 bytes with no shareholders)
    # and the 16 bytes beyond the newest public IDL
    assert annotation["_remainingBytes"] == 93 + event.trailing and event.trailing == 16
    assert raw[0].data[-16:] == bytes.fromhex(annotation["_remainingHex"])[-16:]
    assert event.fields["quote_amount"] == event.fields["sol_amount"]
    # canonical trade
    f = event.fields
    assert (trade.mint, trade.user, trade.sol_amount, trade.token_amount) == (
        f["mint"],
        f["user"],
        f["sol_amount"],
        f["token_amount"],
    )
    assert (trade.fee, trade.creator_fee, trade.ix_name, trade.timestamp) == (
        f["fee"],
        f["creator_fee"],
        f["ix_name"],
        f["timestamp"],
    )
    assert trade.side == ("buy" if f["is_buy"] else "sell")
    # the orbyt-derived swap summary agrees where it overlaps
    swap = doc["_derivedSwap_byOrbytAlgorithm"]
    assert swap["wallet"] == trade.user and swap["side"].lower() == trade.side
    assert swap["feeLamports"] == trade.tx_fee
    assert (swap["blockTime"], swap["slot"]) == (trade.block_time, trade.slot)
    assert swap["version"] == doc["response"]["result"]["version"]
    (token,) = swap["tokens"]
    assert token["mint"] == trade.mint
    assert int(token["rawDelta"]) == (trade.token_amount if trade.side == "buy" else -trade.token_amount)
    # the same event from the self-CPI instruction
    stripped = copy.deepcopy(doc)
    del stripped["response"]["result"]["meta"]["logMessages"]
    cpi = decode_transaction_result(stripped)
    assert cpi.source == "cpi" and cpi.events == result.events


def test_buy_v2_trade_matches_the_orbyt_trade_from_pump_events() -> None:
    (trade,) = decode_transaction(load(RPC_FILES[SIG_4UDM]))
    assert isinstance(trade, Trade)
    assert trade.user == "DHpRzLRuACd8i1BVGZh8rGQWaQsP7b4spBZFWbzW5WSb" and trade.side == "buy"
    assert Decimal(trade.token_amount) / 10**6 == Decimal("20682995.874269")
    assert Decimal(trade.sol_amount) / 10**9 == Decimal("0.987650071")
    assert trade.timestamp is not None and trade.timestamp * 1000 == 1790628401000
    assert trade.pool == "9ZZuz4cVoYhbAFomLMHJjpPijY7EXryqHRjY79f9VC7A"
    assert trade.virtual_sol_reserves is not None and trade.virtual_token_reserves is not None
    price = (Decimal(trade.virtual_sol_reserves) / 10**9) / (Decimal(trade.virtual_token_reserves) / 10**6)
    assert price == Decimal("39.703185855") / Decimal("810766172.125991")
    assert trade.ix_name == "buy" and trade.quote_mint is None and trade.mayhem_mode is False


def test_buy_exact_sol_in_on_a_mayhem_coin() -> None:
    (trade,) = decode_transaction(load(RPC_FILES[SIG_3OQD]))
    assert isinstance(trade, Trade)
    assert trade.ix_name == "buy_exact_sol_in" and trade.mayhem_mode is True
    assert trade.slot == 451430529 and trade.tx_fee == 6000


def test_version_1_transaction_decodes() -> None:
    doc = load(RPC_FILES[SIG_3LGG])
    result = doc["response"]["result"]
    assert result["version"] == 1 and "transactionConfig" in result["transaction"]["message"]
    (trade,) = decode_transaction(doc)
    assert isinstance(trade, Trade)
    assert (trade.signature, trade.slot, trade.block_time) == (SIG_3LGG, 451430528, 1790628401)
    assert trade.side == "sell" and trade.ix_name == "sell"
    # routed through a bot program: the pump frame still emitted the event
    assert trade.user == "6nWLPrww43HxwYwCGShgSNK126426aFLFknSFZYX9NxL"
    sell = _pump_ix(doc, "sell")
    assert sell.inner_index is not None and sell.accounts[3] == trade.pool


@pytest.mark.parametrize(
    ("sig", "mint", "curve", "assoc_curve", "ix_name", "disc", "amount", "sol_arg"),
    [
        (
            SIG_HELIUS_SELL,
            "8Y3RkHg21Gj1VBXJi7pcay4qeRqRrY3juZaBac64pump",
            "DMFahXyBj2uuRg42yGvoWmkM2XB7MoK7CJwzUCERrRyj",
            "AT9MPiGshbqzZCjwCX9RYaJKgHVRErhZHCfTWdh4h2eL",
            "sell",
            [51, 230, 133, 164, 1, 127, 131, 173],
            2948735678665,
            1234,
        ),
        (
            SIG_HELIUS_BUY,
            "FWv5hiQqoUahjMyRFzz78q5ajmtwZ9vrn8tytgdFpump",
            "3CtGMXMRJy4gwn6Fp6XzN6asErRqQd5pa4yCpBoqnN6T",
            "jaeeUCUMKyjZudq2XEBhcB3wHNZrVU5gV33CUTgRwbK",
            "buy",
            [102, 6, 61, 18, 1, 218, 235, 234],
            83000000,
            2390,
        ),
    ],
)
def test_helius_notifications_match_the_bfg9000_assertions(
    sig: str, mint: str, curve: str, assoc_curve: str, ix_name: str, disc: list[int], amount: int, sol_arg: int
) -> None:
    doc = load(HELIUS_FILES[sig])
    (trade,) = decode_transaction(doc)
    assert isinstance(trade, Trade)
    assert (trade.signature, trade.mint, trade.pool, trade.side) == (sig, mint, curve, ix_name)
    assert "blockTime" not in tx_part(doc) and trade.block_time == trade.timestamp
    assert trade.slot == doc["params"]["result"]["slot"]
    ins = _pump_ix(doc, ix_name)
    assert list(ins.data[:8]) == disc
    assert (Reader(ins.data[8:]).u64(), Reader(ins.data[16:]).u64()) == (amount, sol_arg)
    assert (ins.accounts[2], ins.accounts[3], ins.accounts[4]) == (mint, curve, assoc_curve)
    assert trade.token_amount == amount
    assert _sizes(doc) == [129]
    if ix_name == "buy":
        inner = tx_part(doc)["meta"]["innerInstructions"][0]["instructions"]
        transfers = [i["parsed"]["info"] for i in inner if "parsed" in i]
        assert transfers[0]["amount"] == "83000000" == str(trade.token_amount)
        assert transfers[1]["lamports"] == 2321 == trade.sol_amount and transfers[1]["destination"] == curve
        assert transfers[2]["lamports"] == 23 and transfers[2]["destination"] == ins.accounts[1]  # fee recipient


@pytest.mark.parametrize("sig", sorted(TX_FILES))
def test_pump_trade_pool_is_the_bonding_curve_account_of_its_instruction(sig: str) -> None:
    doc = load(TX_FILES[sig])
    curves = set()
    for i in iter_instructions(doc):
        if i.program_id != PUMPFUN_PROGRAM_ID or not i.data:
            continue
        name = next(
            (
                n
                for n in ("buy", "sell", "buy_exact_sol_in", "create", "create_v2")
                if i.data[:8] == instruction_discriminator(n)
            ),
            None,
        )
        if name:
            curves.add(i.accounts[2] if name.startswith("create") else i.accounts[3])
        elif i.data[:8] == instruction_discriminator("buy_v2"):
            curves.add(i.accounts[10])
    events = decode_transaction(doc)
    assert events
    for e in events:
        assert isinstance(e, (Trade, TokenCreate))
        assert (e.pool if isinstance(e, Trade) else e.bonding_curve) in curves


# ---------------------------------------------------------------------------------------------
# transaction mechanics


@pytest.mark.parametrize("sig", sorted(TX_FILES))
def test_inner_instruction_fallback_when_logs_are_dropped(sig: str) -> None:
    doc = load(TX_FILES[sig])
    from_logs = decode_transaction_result(doc)
    stripped = copy.deepcopy(doc)
    del tx_part(stripped)["meta"]["logMessages"]
    from_cpi = decode_transaction_result(stripped)
    assert from_logs.source == "log" and from_cpi.source == "cpi"
    assert from_cpi.events == from_logs.events


def test_emptied_logs_fall_back_to_inner_instructions() -> None:
    doc = load(RPC_FILES[SIG_2ROR])
    expected = decode_transaction(doc)
    doc["result"]["meta"]["logMessages"] = []  # some providers strip logs
    result = decode_transaction_result(doc)
    assert result.source == "cpi" and result.events == expected


def test_truncated_logs_fall_back_to_inner_instructions() -> None:
    doc = load(RPC_FILES[SIG_33LH])
    expected = decode_transaction(doc)
    logs = doc["result"]["meta"]["logMessages"]
    first_data = next(n for n, line in enumerate(logs) if line.startswith("Program data:"))
    doc["result"]["meta"]["logMessages"] = logs[: first_data + 1] + ["Log truncated"]
    result = decode_transaction_result(doc)
    assert result.source == "cpi" and result.events == expected and len(expected) == 2


@pytest.mark.parametrize("sig", sorted(TX_FILES))
def test_json_encoding_gives_the_same_events(sig: str) -> None:
    doc = load(TX_FILES[sig])
    converted = to_json_encoding(doc)
    assert isinstance(tx_part(converted)["transaction"]["message"]["accountKeys"][0], str)
    assert decode_transaction(converted) == decode_transaction(doc)
    del tx_part(converted)["meta"]["logMessages"]
    assert decode_transaction(converted) == decode_transaction(doc)


def test_v0_loaded_addresses_resolve_writable_then_readonly() -> None:
    doc = load(RPC_FILES[SIG_2ROR])
    converted = to_json_encoding(doc)
    loaded = converted["result"]["meta"]["loadedAddresses"]
    assert len(loaded["writable"]) == 7 and len(loaded["readonly"]) == 8
    parsed_ixs = [i for i in iter_instructions(doc) if i.data]  # instructions with raw bytes
    json_ixs = [i for i in iter_instructions(converted) if i.data]
    assert [(i.program_id, i.accounts, i.data) for i in parsed_ixs] == [
        (i.program_id, i.accounts, i.data) for i in json_ixs
    ]
    buy = _pump_ix(converted, "buy_exact_sol_in")
    assert buy.accounts[0] == loaded["readonly"][1]  # the pump global account comes from the table
    # the self-CPI's event-authority account is a loaded address too
    cpi = [i for i in json_ixs if i.program_id == PUMPFUN_PROGRAM_ID and i.data and i.data[:8] == ANCHOR_EVENT_IX_TAG]
    assert cpi and all(i.accounts == ("Ce6TQqeHC9p8KetsN6JsjHK7UTZk7nasjjnr7XxXp9F1",) for i in cpi)
    assert "Ce6TQqeHC9p8KetsN6JsjHK7UTZk7nasjjnr7XxXp9F1" in loaded["readonly"]
    # swapping the two halves would misplace every loaded account
    broken = copy.deepcopy(converted)
    broken["result"]["meta"]["loadedAddresses"] = {"writable": loaded["readonly"], "readonly": loaded["writable"]}
    assert _pump_ix(broken, "buy_exact_sol_in").accounts != buy.accounts


@pytest.mark.parametrize("sig", sorted(TX_FILES))
def test_failed_transaction_is_skipped(sig: str) -> None:
    doc = load(TX_FILES[sig])
    tx_part(doc)["meta"]["err"] = {"InstructionError": [3, {"Custom": 6002}]}
    assert decode_transaction(doc) == []
    result = decode_transaction_result(doc)
    assert result.failed and result.err == {"InstructionError": [3, {"Custom": 6002}]}
    (record,) = records_from_text(json.dumps(doc), "failed.json")
    with pytest.raises(FailedTransaction) as info:
        decode_record(record, now=NOW)
    assert info.value.reason_code == "failed_transaction" and info.value.message.startswith("failed.json: ")


def test_transaction_without_events_is_not_failed() -> None:
    doc = load(RPC_FILES[SIG_2ZCP])
    doc["result"]["meta"]["logMessages"] = [
        line for line in doc["result"]["meta"]["logMessages"] if not line.startswith("Program data:")
    ]
    doc["result"]["meta"]["innerInstructions"] = []
    result = decode_transaction_result(doc)
    assert result.events == [] and not result.failed


def test_data_lines_of_other_programs_are_not_ours() -> None:
    doc = load(RPC_FILES[SIG_52AR])
    logs = doc["result"]["meta"]["logMessages"]
    # an impostor program logs a byte-identical pump.fun TradeEvent from its own frame
    trade_line = next(line for line in logs if line.startswith("Program data: vdt/"))
    impostor = key("impostor")
    doc["result"]["meta"]["logMessages"] = logs + [
        f"Program {impostor} invoke [1]",
        trade_line,
        f"Program {impostor} success",
    ]
    assert len(decode_transaction(doc)) == 2


# ---------------------------------------------------------------------------------------------
# LaunchLab and PumpSwap inside transactions (synthetic transactions around real event bytes)

LAUNCHLAB_LINE = items("logs/launchlab_events.json")[0]["log"] if FIXTURES.is_dir() else ""
PUMP_V1_LINE = items("logs/pump_trade_events.json")[0]["log"] if FIXTURES.is_dir() else ""


def _launchlab_tx(first_program: str, second_program: str) -> dict[str, Any]:
    """Synthetic: a LaunchLab buy_exact_in and a pump.fun buy, each logging one TradeEvent."""
    pool = items("logs/launchlab_events.json")[0]["expected"]["pool_state"]
    accounts = [
        key("payer"),
        key("ll-authority"),
        key("ll-global"),
        key("ll-platform"),
        pool,
        key("user-base"),
        key("user-quote"),
        key("base-vault"),
        key("quote-vault"),
        key("ll-mint"),
        WSOL_MINT,
        SPL_TOKEN,
        SPL_TOKEN,
        key("ll-event-authority"),
        LAUNCHLAB_PROGRAM_ID,
    ]
    data = instruction_discriminator("buy_exact_in") + struct.pack("<QQQ", 1980000000, 0, 0)
    logs = [
        f"Program {first_program} invoke [1]",
        "Program log: Instruction: BuyExactIn",
        LAUNCHLAB_LINE,
        f"Program {first_program} success",
        f"Program {second_program} invoke [1]",
        "Program log: Instruction: Buy",
        PUMP_V1_LINE,
        f"Program {second_program} success",
    ]
    return synthetic_tx(
        logs=logs,
        instructions=[
            ix(LAUNCHLAB_PROGRAM_ID, accounts, data),
            ix(PUMPFUN_PROGRAM_ID, [key("payer")], instruction_discriminator("buy")),
        ],
    )


def test_launchlab_trade_is_told_apart_by_program() -> None:
    ll, pump = decode_transaction(_launchlab_tx(LAUNCHLAB_PROGRAM_ID, PUMPFUN_PROGRAM_ID))
    assert isinstance(ll, Trade) and isinstance(pump, Trade)
    assert (ll.program, ll.event_index, pump.program, pump.event_index) == ("raydium_launchlab", 0, "pumpfun", 1)
    expected = items("logs/launchlab_events.json")[0]["expected"]
    assert ll.pool == expected["pool_state"] and ll.mint == key("ll-mint") and ll.user == key("payer")
    assert ll.side == "buy" and ll.ix_name == "buy_exact_in" and ll.quote_mint is None
    assert ll.sol_amount == expected["real_quote_after"] - expected["real_quote_before"] == 1954260000
    assert ll.token_amount == expected["amount_out"]
    assert (ll.fee, ll.platform_fee, ll.creator_fee) == (
        expected["protocol_fee"],
        expected["platform_fee"],
        expected["creator_fee"],
    )
    assert ll.virtual_sol_reserves == expected["virtual_quote"] + expected["real_quote_after"]
    assert ll.virtual_token_reserves == expected["virtual_base"] - expected["real_base_after"]
    assert ll.real_token_reserves == expected["total_base_sell"] - expected["real_base_after"]
    assert ll.timestamp is None and ll.block_time == 1_790_000_000
    assert pump.mint == items("logs/pump_trade_events.json")[0]["expected"]["mint"]
    for event in (ll, pump):
        validate_event(event, now=NOW)
    # the same bytes under the other program's frame do not fit its layout
    with pytest.raises(DecodeError) as info:
        decode_transaction(_launchlab_tx(PUMPFUN_PROGRAM_ID, LAUNCHLAB_PROGRAM_ID))
    assert info.value.reason_code in ("bad_payload", "short_payload")
    with pytest.raises(DecodeError, match="not a Borsh bool"):
        decode_event(PUMPFUN_PROGRAM_ID, log_bytes(LAUNCHLAB_LINE))
    with pytest.raises(DecodeError, match="shorter than the oldest known layout"):
        decode_event(LAUNCHLAB_PROGRAM_ID, log_bytes(PUMP_V1_LINE))


def test_launchlab_trade_without_its_instruction_has_no_mint() -> None:
    tx = _launchlab_tx(LAUNCHLAB_PROGRAM_ID, PUMPFUN_PROGRAM_ID)
    tx["transaction"]["message"]["instructions"] = tx["transaction"]["message"]["instructions"][1:]
    with pytest.raises(DecodeError) as info:
        decode_transaction(tx)
    assert info.value.reason_code == "no_mint"


def _pumpswap_tx(
    *, with_instruction: bool = True, base_mint: str = WSOL_MINT, quote_mint: str | None = None
) -> dict[str, Any]:
    """Synthetic: the real pinax SellEvent then BuyEvent of pool ECCY… in one transaction."""
    sell_item, buy_item = items("logs/pumpswap_events.json")[2:4]
    pool = sell_item["expected"]["pool"]
    quote_mint = quote_mint or key("pumpswap-coin")
    accounts = [pool, key("swapper"), key("amm-global"), base_mint, quote_mint] + [key(f"acc{i}") for i in range(12)]
    logs = [
        f"Program {PUMPSWAP_PROGRAM_ID} invoke [1]",
        "Program log: Instruction: Sell",
        sell_item["log"],
        f"Program {PUMPSWAP_PROGRAM_ID} success",
        f"Program {PUMPSWAP_PROGRAM_ID} invoke [1]",
        "Program log: Instruction: Buy",
        buy_item["log"],
        f"Program {PUMPSWAP_PROGRAM_ID} success",
    ]
    instructions = [
        ix(PUMPSWAP_PROGRAM_ID, accounts, instruction_discriminator("sell") + bytes(16)),
        ix(PUMPSWAP_PROGRAM_ID, accounts, instruction_discriminator("buy") + bytes(16)),
    ]
    balances = []
    if not with_instruction:
        instructions = [ix(key("router"), [key("x")], b"\x01")]
        for item in (sell_item, buy_item):
            for field, mint in (("user_base_token_account", base_mint), ("user_quote_token_account", quote_mint)):
                balances.append({"account": item["expected"][field], "mint": mint})
    tx = synthetic_tx(
        logs=logs,
        instructions=instructions,
        extra_keys=tuple(b["account"] for b in balances),
        block_time=None,
    )
    keys = [k["pubkey"] for k in tx["transaction"]["message"]["accountKeys"]]
    tx["meta"]["postTokenBalances"] = [
        {"accountIndex": keys.index(b["account"]), "mint": b["mint"], "uiTokenAmount": {"amount": "0", "decimals": 6}}
        for b in balances
    ]
    return tx


def test_pumpswap_trades_take_their_mints_from_the_instruction_accounts() -> None:
    sell_event, buy_event = decode_transaction(_pumpswap_tx())
    assert isinstance(sell_event, Trade) and isinstance(buy_event, Trade)
    sell_f = items("logs/pumpswap_events.json")[2]["expected"]
    # the pool's base is WSOL: selling the base (SOL) for the coin is a buy of the coin
    assert (sell_event.program, sell_event.mint, sell_event.side) == ("pumpswap", key("pumpswap-coin"), "buy")
    assert sell_event.sol_amount == sell_f["base_amount_in"] and sell_event.token_amount == sell_f["quote_amount_out"]
    assert sell_event.fee is None and sell_event.lp_fee is None  # charged in coin units
    assert buy_event.side == "sell" and buy_event.ix_name == "buy"
    assert sell_event.block_time == sell_f["timestamp"]  # no blockTime: the event's clock


def test_pumpswap_self_cpi_events_find_the_instruction_that_emitted_them() -> None:
    tx = _pumpswap_tx()
    sell_item, buy_item = items("logs/pumpswap_events.json")[2:4]
    tx["meta"]["innerInstructions"] = [
        {
            "index": n,
            "instructions": [
                {
                    "programId": PUMPSWAP_PROGRAM_ID,
                    "accounts": [key("amm-event-authority")],
                    "data": base58.b58encode(ANCHOR_EVENT_IX_TAG + log_bytes(item["log"])).decode(),
                    "stackHeight": 2,
                }
            ],
        }
        for n, item in enumerate((sell_item, buy_item))
    ]
    from_logs = decode_transaction(tx)
    tx["meta"]["logMessages"] = None
    result = decode_transaction_result(tx)
    assert result.source == "cpi" and result.events == from_logs
    assert [e.ix_name for e in result.events] == ["sell", "buy"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("sig", sorted(TX_FILES))
def test_log_frames_and_self_cpi_parents_name_the_same_instructions(sig: str) -> None:
    doc = load(TX_FILES[sig])
    instructions = list(iter_instructions(doc))
    by_frame = {(i.outer_index, i.inner_index): i for i in instructions}
    from_logs, truncated = events_from_logs(tx_part(doc)["meta"]["logMessages"])
    assert not truncated and from_logs
    for r in from_logs:
        assert r.frame is not None and by_frame[r.frame].program_id == r.program_id
    from_cpi = events_from_cpi(instructions)
    assert [(r.data, r.frame) for r in from_cpi] == [(r.data, r.frame) for r in from_logs]


def test_pumpswap_reserves_after_a_sell_match_the_next_buy_event() -> None:
    sell_event, _ = decode_transaction(_pumpswap_tx())
    assert isinstance(sell_event, Trade)
    buy_f = items("logs/pumpswap_events.json")[3]["expected"]
    # the BuyEvent reports the pool *before* it: the sell's after-state, decoded independently
    assert sell_event.real_sol_reserves == buy_f["pool_base_token_reserves"]
    assert sell_event.real_token_reserves == buy_f["pool_quote_token_reserves"]


def test_pumpswap_trades_fall_back_to_token_balances_for_mints() -> None:
    with_ix = decode_transaction(_pumpswap_tx())
    without = decode_transaction(_pumpswap_tx(with_instruction=False))
    assert [(e.mint, e.side, e.sol_amount) for e in without] == [(e.mint, e.side, e.sol_amount) for e in with_ix]  # type: ignore[attr-defined]


def test_pumpswap_trade_with_sol_quote_is_read_base_first() -> None:
    coin = key("normal-coin")
    sell_event, buy_event = decode_transaction(_pumpswap_tx(base_mint=coin, quote_mint=WSOL_MINT))
    assert isinstance(sell_event, Trade) and isinstance(buy_event, Trade)
    sell_f, buy_f = (items("logs/pumpswap_events.json")[i]["expected"] for i in (2, 3))
    assert (sell_event.side, sell_event.mint, sell_event.quote_mint) == ("sell", coin, None)
    assert (sell_event.sol_amount, sell_event.token_amount) == (sell_f["quote_amount_out"], sell_f["base_amount_in"])
    assert (sell_event.fee, sell_event.lp_fee, sell_event.creator_fee) == (
        sell_f["protocol_fee"],
        sell_f["lp_fee"],
        sell_f["coin_creator_fee"],
    )
    assert buy_event.side == "buy" and buy_event.sol_amount == buy_f["quote_amount_in"]
    assert buy_event.real_token_reserves == buy_f["pool_base_token_reserves"] - buy_f["base_amount_out"]
    assert buy_event.real_sol_reserves == buy_f["pool_quote_token_reserves"] + buy_f["quote_amount_in_with_lp_fee"]
    assert buy_event.creator is None  # all-zero coin_creator


def _migration_event_bytes(*, mint: str, pool: str, curve: str, user: str) -> bytes:
    """Synthetic: a CompletePumpAmmMigrationEvent (m1 layout) built from the IDL field list."""
    pk = base58.b58decode
    return (
        event_discriminator("CompletePumpAmmMigrationEvent")
        + pk(user)
        + pk(mint)
        + struct.pack("<QQQ", 206_900_000_000_000, 84_990_359_038, 15_000_001)
        + pk(curve)
        + struct.pack("<q", 1785435005)
        + pk(pool)
        + bytes(32)
    )


def test_pump_migration_and_its_pool_creation_become_one_migration() -> None:
    create_pool = items("logs/pumpswap_events.json")[0]
    f = decode_item(create_pool).fields
    mint, pool = f["base_mint"], f["pool"]
    migrate_bytes = _migration_event_bytes(
        mint=mint, pool=pool, curve=bonding_curve_address(mint), user=key("migrator")
    )
    logs = [
        f"Program {PUMPFUN_PROGRAM_ID} invoke [1]",
        "Program log: Instruction: Migrate",
        f"Program {PUMPSWAP_PROGRAM_ID} invoke [2]",
        create_pool["log"],
        f"Program {PUMPSWAP_PROGRAM_ID} success",
        "Program data: " + base64.b64encode(migrate_bytes).decode(),
        f"Program {PUMPFUN_PROGRAM_ID} success",
    ]
    tx = synthetic_tx(
        logs=logs, instructions=[ix(PUMPFUN_PROGRAM_ID, [key("migrator")], instruction_discriminator("migrate"))]
    )
    (migration,) = decode_transaction(tx)
    assert isinstance(migration, Migration)
    assert (migration.program, migration.platform, migration.mint, migration.pool) == (
        "pumpfun",
        "pumpswap",
        mint,
        pool,
    )
    assert migration.lp_mint == f["lp_mint"] and migration.event_index == 0
    assert migration.bonding_curve == bonding_curve_address(mint)
    assert (migration.sol_amount, migration.token_amount, migration.pool_migration_fee) == (
        84_990_359_038,
        206_900_000_000_000,
        15_000_001,
    )
    validate_event(migration, now=NOW)


def test_migration_pool_is_the_pumpswap_pool_pda_of_the_pool_authority() -> None:
    f = decode_item(items("logs/pumpswap_events.json")[0]).fields
    authority = pool_authority_address(f["base_mint"])
    seeds = [
        b"pool",
        (0).to_bytes(2, "little"),
        base58.b58decode(authority),
        base58.b58decode(f["base_mint"]),
        base58.b58decode(WSOL_MINT),
    ]
    assert find_program_address(seeds, PUMPSWAP_PROGRAM_ID) == (f["pool"], f["pool_bump"])


# ---------------------------------------------------------------------------------------------
# layouts: lengths and trailing bytes


def test_trailing_bytes_beyond_newest_idl_are_tolerated() -> None:
    item = items("logs/pump_trade_events.json")[1]  # newest layout, 0 bytes left over
    data = log_bytes(item["log"])
    base = decode_event(PUMPFUN_PROGRAM_ID, data)
    assert (base.layout, base.trailing) == ("v7", 0)
    for extra in (1, 16, 36, 500):
        longer = decode_event(PUMPFUN_PROGRAM_ID, data + bytes((i * 7) % 256 for i in range(extra)))
        assert longer.fields == base.fields and longer.trailing == extra and longer.layout == "v7"
    line = "Program data: " + base64.b64encode(data + b"\xff" * 16).decode()
    assert decode_log_line(line, signature=item["signature"]) == decode_log_line(
        item["log"], signature=item["signature"]
    )


@pytest.mark.parametrize("item_index", [4, 5, 6, 7])  # v0, v1, v2, v3
def test_each_older_trade_generation_is_read_as_itself(item_index: int) -> None:
    item = items("logs/pump_trade_events.json")[item_index]
    decoded = decode_item(item)
    assert decoded.trailing == 0
    assert set(decoded.fields) == set(
        next(g for g in PUMP_TRADE_EVENT.generations if g.label == decoded.layout).field_names
    )


def test_short_payload_message_names_the_sizes() -> None:
    data = log_bytes(items("logs/pump_trade_events.json")[0]["log"])[: 8 + 97]
    record = RawRecord(
        "rpc/x.json",
        "",
        {"log": "Program data: " + base64.b64encode(data).decode(), "signature": SIG_2ZCP},
        "log",
        {"signature": SIG_2ZCP},
    )
    with pytest.raises(DecodeError) as info:
        decode_record(record, now=NOW)
    assert info.value.reason_code == "short_payload"
    assert (
        info.value.message
        == "rpc/x.json: TradeEvent payload is 97 bytes, shorter than the oldest known layout (105 bytes)"
    )


def test_unknown_discriminator_is_rejected_alone_and_skipped_inside_a_transaction() -> None:
    unknown = b"\x01\x02\x03\x04\x05\x06\x07\x08" + bytes(40)
    with pytest.raises(DecodeError) as info:
        decode_log_line("Program data: " + base64.b64encode(unknown).decode(), signature=SIG_2ZCP)
    assert info.value.reason_code == "unknown_discriminator"
    doc = load(RPC_FILES[SIG_52AR])
    logs = doc["result"]["meta"]["logMessages"]
    at = next(n for n, line in enumerate(logs) if line.startswith("Program data: vdt/"))
    logs.insert(at, "Program data: " + base64.b64encode(unknown).decode())
    result = decode_transaction_result(doc)
    assert len(result.events) == 2 and result.ignored == ("unknown:0102030405060708",)


def test_events_of_other_programs_are_a_wrong_program_reject() -> None:
    line = items("logs/pump_trade_events.json")[0]["log"]
    with pytest.raises(DecodeError) as info:
        decode_log_line(line, program_id=key("someone-else"), signature=SIG_2ZCP)
    assert info.value.reason_code == "wrong_program"


# ---------------------------------------------------------------------------------------------
# records


def test_iter_records_walks_folders_recursively_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "b" / "z.jsonl").write_text(json.dumps(load(RPC_FILES[SIG_33LH])) + "\n")
    (tmp_path / "a.json").write_text((FIXTURES / HELIUS_FILES[SIG_HELIUS_BUY]).read_text())
    (tmp_path / ".hidden" / "x.json").write_text("{}")
    (tmp_path / "notes.md").write_text("# not input")
    origins = [r.origin for r in iter_records(tmp_path)]
    assert origins == [str(tmp_path / "a.json"), str(tmp_path / "b" / "z.jsonl") + ":1"]


def test_every_fixture_folder_yields_records_with_origins() -> None:
    records = (
        list(iter_records(FIXTURES / "rpc"))
        + list(iter_records(FIXTURES / "helius"))
        + list(iter_records(FIXTURES / "logs"))
    )
    assert len(records) == 7 + 2 + 21
    assert all(r.kind == "transaction" for r in records[:9])
    assert records[9].origin == str(FIXTURES / "logs" / "launchlab_events.json") + "#items[0]"
    for r in records[:9]:
        assert r.text == Path(r.origin).read_text()  # the raw document, verbatim
    events = [e for r in records[:9] for e in decode_record(r, now=NOW)]
    assert len(events) == 13


def test_jsonl_and_plain_text_inputs(tmp_path: Path) -> None:
    trade_items = items("logs/pump_trade_events.json")
    canonical = decode_transaction(load(RPC_FILES[SIG_4UDM]))[0].to_json()
    price = SolUsdPrice(price_time=1790628400, price_usd="187.42", source="pyth").to_json()
    lines = [
        canonical,
        price,
        json.dumps(load(RPC_FILES[SIG_2ZCP])),
        json.dumps(trade_items[1]),
        '{"jsonrpc": "2.0", "result": {"transaction": ',
        "hello world",
        "",
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    records = list(iter_records(path))
    assert [r.kind for r in records] == ["canonical", "canonical", "transaction", "log", "error", "error"]
    assert [r.origin.rsplit(":", 1)[1] for r in records] == ["1", "2", "3", "4", "5", "6"]
    assert records[4].hints["reason"] == "truncated_json" and records[5].hints["reason"] == "not_json"
    assert records[4].text == lines[4]
    assert decode_record(records[0], now=NOW)[0].to_json() == canonical
    assert decode_record(records[1], now=NOW)[0].to_json() == price
    assert len(decode_record(records[2], now=NOW)) == 2
    (from_item,) = decode_record(records[3], now=NOW)
    assert isinstance(from_item, Trade) and from_item.signature == trade_items[1]["signature"]
    for r, reason in ((records[4], "truncated_json"), (records[5], "not_json")):
        with pytest.raises(DecodeError) as info:
            decode_record(r, now=NOW)
        assert info.value.reason_code == reason and info.value.message.startswith(r.origin + ": ")

    # plain text: Program data lines take their program from the enclosing invoke
    text = tmp_path / "logs.txt"
    text.write_text(
        "\n".join(
            [
                f"Program {LAUNCHLAB_PROGRAM_ID} invoke [1]",
                LAUNCHLAB_LINE,
                f"Program {LAUNCHLAB_PROGRAM_ID} success",
                trade_items[0]["log"],
            ]
        )
    )
    ll, pump = list(iter_records(text))
    assert ll.hints == {"program": LAUNCHLAB_PROGRAM_ID} and pump.hints == {}
    assert ll.origin.endswith("logs.txt:2") and pump.origin.endswith("logs.txt:4")
    for r in (ll, pump):
        with pytest.raises(DecodeError) as info:
            decode_record(r, now=NOW)
        assert info.value.reason_code == "no_signature"


def test_truncated_json_document_is_one_reject(tmp_path: Path) -> None:
    text = (FIXTURES / RPC_FILES[SIG_2ZCP]).read_text()
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2])
    (record,) = iter_records(path)
    assert record.kind == "error" and record.text == text[: len(text) // 2]
    with pytest.raises(DecodeError) as info:
        decode_record(record, now=NOW)
    assert info.value.reason_code == "truncated_json"
    path.write_text(text.replace('"meta"', '"meta" "x"', 1))
    (record,) = iter_records(path)
    assert record.hints["reason"] == "not_json"


def test_rpc_error_and_missing_transaction_are_named() -> None:
    for doc, reason in (
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "error": {"code": -32015, "message": "Transaction version (1) is not supported"},
            },
            "rpc_error",
        ),
        ({"jsonrpc": "2.0", "id": 1, "result": None}, "no_transaction"),
        ({"transaction": "AAAA", "meta": {"err": None}, "slot": 1}, "unsupported_encoding"),
        ({"hello": "world"}, "unrecognized_json"),
    ):
        (record,) = records_from_text(json.dumps(doc), "doc.json")
        with pytest.raises(DecodeError) as info:
            decode_record(record, now=NOW)
        assert info.value.reason_code == reason


def test_logs_notification_decodes_from_logs_alone() -> None:
    result = load(RPC_FILES[SIG_52AR])["result"]
    note = {
        "jsonrpc": "2.0",
        "method": "logsNotification",
        "params": {
            "result": {
                "context": {"slot": result["slot"]},
                "value": {"signature": SIG_52AR, "err": None, "logs": result["meta"]["logMessages"]},
            }
        },
    }
    (record,) = records_from_text(json.dumps(note), "ws.json")
    assert record.kind == "logs"
    create, trade = decode_record(record, now=NOW)
    from_tx = decode_transaction(result)[1]
    assert isinstance(trade, Trade) and isinstance(from_tx, Trade)
    assert trade == dataclasses.replace(from_tx, block_time=trade.block_time, tx_fee=None)
    assert isinstance(create, TokenCreate) and create.block_time == trade.block_time  # taken from the trade's timestamp
    note["params"]["result"]["value"]["err"] = {"InstructionError": [0, "Custom"]}  # type: ignore[index]
    (record,) = records_from_text(json.dumps(note), "ws.json")
    with pytest.raises(FailedTransaction):
        decode_record(record, now=NOW)


def test_decode_record_validates_events() -> None:
    doc = load(RPC_FILES[SIG_4UDM])
    (record,) = records_from_text(json.dumps(doc), "tx.json")
    with pytest.raises(InvalidEvent) as info:
        decode_record(record, now=1_790_000_000)  # the block lies in this `now`'s future
    assert info.value.reason_code == "future_timestamp" and info.value.message.startswith("tx.json: ")


# ---------------------------------------------------------------------------------------------
# malformed input: decode_record must answer with events or a reject, never crash


def _fixture_texts() -> list[str]:
    return [(FIXTURES / rel).read_text() for rel in sorted(TX_FILES.values())] if FIXTURES.is_dir() else [""]


FIXTURE_TEXTS = _fixture_texts()
EVENT_PAYLOADS = [log_bytes(i["log"]) for rel in LOG_FILES for i in items(rel)] if FIXTURES.is_dir() else [b""]
PROGRAM_CHOICES = [PUMPFUN_PROGRAM_ID, PUMPSWAP_PROGRAM_ID, LAUNCHLAB_PROGRAM_ID, key("other"), "not base58 0OIl", None]
DISCRIMINATORS = [s.discriminator for s in EVENT_SPECS] + [event_discriminator("ExtendAccountEvent"), b"\x00" * 8]
HYPOTHESIS = settings(
    max_examples=2500, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _answer(record: RawRecord) -> None:
    try:
        events = decode_record(record, now=NOW)
    except RejectError as exc:
        hypothesis.event(f"reject: {exc.reason_code}")
        assert isinstance(exc, (DecodeError, InvalidEvent))
        assert re.fullmatch(r"[a-z][a-z0-9_]*", exc.reason_code)
        assert exc.message.startswith(record.origin)
        return
    hypothesis.event(f"events: {len(events)}")
    for event in events:
        assert isinstance(event, (Event, SolUsdPrice))
        validate_event(event, now=NOW)


@HYPOTHESIS
@given(doc=st.sampled_from(range(len(FIXTURE_TEXTS))), cut=st.floats(0, 1), junk=st.text(max_size=5))
def test_truncated_or_damaged_json_is_rejected_not_crashed(doc: int, cut: float, junk: str) -> None:
    text = FIXTURE_TEXTS[doc]
    at = int(len(text) * cut)
    for record in records_from_text(text[:at] + junk, "fuzz.json"):
        _answer(record)


@HYPOTHESIS
@given(
    disc=st.sampled_from(DISCRIMINATORS),
    body=st.binary(max_size=420),
    program=st.sampled_from(PROGRAM_CHOICES),
    sig=st.sampled_from([SIG_2ZCP, SIG_2ZCP, SIG_2ZCP, None, "", "abc", 7]),
    slot=st.one_of(
        st.none(), *[st.integers(0, 10**9)] * 4, st.integers(-(2**65), 2**65), st.booleans(), st.text(max_size=3)
    ),
    block_time=st.one_of(st.none(), st.integers(-(2**40), 2**40)),
)
def test_random_program_data_is_rejected_not_crashed(
    disc: bytes, body: bytes, program: str | None, sig: Any, slot: Any, block_time: int | None
) -> None:
    item: dict[str, Any] = {
        "log": "Program data: " + base64.b64encode(disc + body).decode(),
        "signature": sig,
        "slot": slot,
    }
    if program is not None:
        item["program"] = program
    if block_time is not None:
        item["block_time"] = block_time
    for record in records_from_text(json.dumps({"items": [item]}), "fuzz.json"):
        _answer(record)


@HYPOTHESIS
@given(
    payload=st.sampled_from(EVENT_PAYLOADS),
    length=st.integers(0, 500),
    fill=st.binary(min_size=0, max_size=64),
    program=st.sampled_from(PROGRAM_CHOICES[:3]),
    flip=st.integers(0, 499),
)
def test_real_payloads_with_wrong_lengths_are_rejected_not_crashed(
    payload: bytes, length: int, fill: bytes, program: str, flip: int
) -> None:
    data = bytearray((payload + fill)[:length])
    if data and flip < len(data):
        data[flip] ^= 0xFF
    line = "Program data: " + base64.b64encode(bytes(data)).decode()
    for text in (line, "Program data: " + base64.b64encode(bytes(data)).decode()[:-1] + "!"):
        for record in records_from_text(
            json.dumps({"items": [{"log": text, "program": program, "signature": SIG_2ZCP}]}), "fuzz.json"
        ):
            _answer(record)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not str(k).startswith("_"):
                yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for n, v in enumerate(obj[:40]):
            yield from _paths(v, prefix + (n,))


TX_DOCS = [json.loads(t) for t in FIXTURE_TEXTS if t]
TX_PATHS = [(n, p) for n, d in enumerate(TX_DOCS) for p in _paths(d) if p]
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["Program data: vdt/007mYe4=", "Log truncated", SIG_2ZCP, "11111111111111111111111111111111"]),
    st.lists(st.integers(-5, 300), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
)


@HYPOTHESIS
@given(target=st.sampled_from(TX_PATHS or [(0, ("x",))]), value=JUNK, drop=st.booleans())
def test_transactions_with_a_damaged_field_are_rejected_not_crashed(
    target: tuple[int, tuple[Any, ...]], value: Any, drop: bool
) -> None:
    n, path = target
    doc = copy.deepcopy(TX_DOCS[n]) if TX_DOCS else {}
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    for record in records_from_text(json.dumps(doc), "fuzz.json"):
        _answer(record)
