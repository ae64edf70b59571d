"""Validation of canonical events and parsing of canonical JSON (no fixtures, no database).

The valid events used here are the example lines of docs/canonical-events.md, which are real
decoder output; the tests also keep that page honest (every kind has an example, every reason
code the code can raise is listed).
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from megatron.events import EVENT_TYPES, CurveComplete, Migration, SolUsdPrice, TokenCreate, Trade
from megatron.validate import (
    FUTURE_SLACK_SECONDS,
    PUMPFUN_EPOCH,
    InvalidEvent,
    RejectError,
    parse_canonical,
    validate_event,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "canonical-events.md"
NOW = 1_800_000_000


def doc_examples() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for block in re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S):
        for line in block.splitlines():
            if line.strip():
                obj = json.loads(line)
                out[obj["kind"]] = obj
    return out


EXAMPLES = doc_examples()


def example(kind: str, **changes: Any) -> dict[str, Any]:
    obj = dict(EXAMPLES[kind])
    obj.update(changes)
    return obj


def event(kind: str, **changes: Any) -> Any:
    return parse_canonical(example(kind, **changes))


def reason_of(obj: Any, now: int = NOW) -> str | None:
    try:
        validate_event(parse_canonical(obj) if isinstance(obj, dict) else obj, now=now)
    except InvalidEvent as exc:
        return exc.reason_code
    return None


# ---------------------------------------------------------------------------------------------
# the documentation


def test_docs_show_one_valid_example_line_per_kind() -> None:
    assert set(EXAMPLES) == set(EVENT_TYPES)
    for kind, obj in EXAMPLES.items():
        parsed = parse_canonical(obj)
        validate_event(parsed, now=NOW)
        assert json.loads(parsed.to_json()) == obj, kind  # examples are complete, in to_json form


def _raised_reason_codes() -> set[str]:
    codes: set[str] = set()
    sources = [ROOT / "megatron" / "validate.py", *sorted((ROOT / "megatron" / "decode").glob("*.py"))]
    for path in sources:
        text = path.read_text()
        codes |= set(
            re.findall(
                r"(?:DecodeError|InvalidEvent|RejectError|_error)\((?:[^()\"]|\([^()]*\))*?\"([a-z][a-z0-9_]*)\"", text
            )
        )
        codes |= set(re.findall(r"super\(\).__init__\(\"([a-z][a-z0-9_]*)\"", text))
        codes |= set(re.findall(r"\"(bad_[a-z]+)\"\}", text))  # the side/program code table
        codes |= set(re.findall(r"return \"([a-z_]+)\", f\"", text))  # JSON error helper
    return codes


def test_every_reason_code_is_documented() -> None:
    codes = _raised_reason_codes()
    assert {"short_payload", "failed_transaction", "truncated_json", "not_json", "bad_side", "bad_program"} <= codes
    table = set(re.findall(r"^\| `([a-z][a-z0-9_]*)` \|", DOC.read_text(), flags=re.M))
    assert codes - table == set(), "reason codes raised but not documented"
    # rows for kinds/fields are not reason codes: only compare the reject table itself
    reject_table = DOC.read_text().split("## Reject reasons", 1)[1].split("## How the RPC decoder", 1)[0]
    documented = set(re.findall(r"^\| `([a-z][a-z0-9_]*)` \|", reject_table, flags=re.M))
    assert documented - codes == set(), "documented reason codes that nothing raises"


# ---------------------------------------------------------------------------------------------
# parse_canonical


def test_canonical_round_trip() -> None:
    for kind in EXAMPLES:
        parsed = parse_canonical(example(kind))
        assert type(parsed) is EVENT_TYPES[kind]
        assert parse_canonical(json.loads(parsed.to_json())) == parsed


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ([1, 2], "not_an_object"),
        ("trade", "not_an_object"),
        ({"kind": "trade"}, "bad_version"),
        ({**EXAMPLES["trade"], "v": 2}, "bad_version"),
        ({**EXAMPLES["trade"], "v": True}, "bad_version"),
        ({**EXAMPLES["trade"], "kind": "swap"}, "unknown_kind"),
        ({**EXAMPLES["trade"], "kind": None}, "unknown_kind"),
        ({k: v for k, v in EXAMPLES["trade"].items() if k != "mint"}, "missing_field"),
        ({k: v for k, v in EXAMPLES["trade"].items() if k != "signature"}, "missing_field"),
        ({**EXAMPLES["trade"], "price": 1}, "extra_field"),
        ({**EXAMPLES["trade"], "slot": True}, "bad_field"),  # bool is not int
        ({**EXAMPLES["trade"], "sol_amount": False}, "bad_field"),
        ({**EXAMPLES["trade"], "sol_amount": 1.0}, "bad_field"),
        ({**EXAMPLES["trade"], "sol_amount": "987650071"}, "bad_field"),
        ({**EXAMPLES["trade"], "mayhem_mode": 0}, "bad_field"),
        ({**EXAMPLES["trade"], "mint": 12}, "bad_field"),
        ({**EXAMPLES["trade"], "side": "hold"}, "bad_side"),
        ({**EXAMPLES["trade"], "program": "orca"}, "bad_program"),
        ({**EXAMPLES["sol_usd_price"], "price_usd": 187.42}, "bad_field"),
    ],
)
def test_parse_canonical_rejects_bad_shapes(obj: Any, reason: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_canonical(obj)
    assert info.value.reason_code == reason


def test_optional_fields_may_be_omitted() -> None:
    required = {
        "v",
        "kind",
        "signature",
        "slot",
        "block_time",
        "event_index",
        "program",
        "mint",
        "pool",
        "side",
        "user",
        "sol_amount",
        "token_amount",
    }
    trade = parse_canonical({k: v for k, v in EXAMPLES["trade"].items() if k in required})
    assert isinstance(trade, Trade) and trade.fee is None and trade.tx_fee is None
    validate_event(trade, now=NOW)


# ---------------------------------------------------------------------------------------------
# validate_event: one rule at a time

_31_BYTES = "1" + "2" * 42  # valid base58, wrong length
_LONG = "5" * 60


@pytest.mark.parametrize(
    ("kind", "changes", "reason"),
    [
        ("trade", {"mint": "0OIl" + "1" * 40}, "bad_address"),  # not base58
        ("trade", {"mint": "1111"}, "bad_address"),  # 4 bytes
        ("trade", {"pool": _LONG}, "bad_address"),
        ("trade", {"user": ""}, "bad_address"),
        ("trade", {"quote_mint": "So11111111111111111111111111111111111111112"}, "bad_address"),
        ("trade", {"quote_mint": "11111111111111111111111111111111"}, "bad_address"),
        ("token_create", {"token_program": "not-an-address"}, "bad_address"),
        ("migration", {"lp_mint": "xyz"}, "bad_address"),
        ("trade", {"signature": "1" * 63}, "bad_signature"),
        (
            "trade",
            {"signature": "4udm6NA1et1irGeY4UNyd8hHYEdAr1ZZ6B4NkqeVFPwDp97qx87KjL2FYSSKb4YVmM4jAKh5Uv2yi4TUzn"},
            "bad_signature",
        ),
        ("trade", {"signature": "0" * 88}, "bad_signature"),
        ("trade", {"sol_amount": -1}, "negative_amount"),
        ("trade", {"token_amount": -5}, "negative_amount"),
        ("trade", {"virtual_sol_reserves": -1}, "negative_amount"),
        ("trade", {"tx_fee": -1}, "negative_amount"),
        ("trade", {"sol_amount": 2**64}, "amount_overflow"),
        ("trade", {"fee": 2**70}, "amount_overflow"),
        ("trade", {"real_token_reserves": 2**64}, "amount_overflow"),
        ("migration", {"sol_amount": 2**64}, "amount_overflow"),
        ("trade", {"token_amount": 10**15 + 1}, "implausible_amount"),
        ("migration", {"token_amount": 10**16}, "implausible_amount"),
        ("trade", {"fee_basis_points": 10_001}, "bad_field"),
        ("trade", {"slot": -1}, "bad_slot"),
        ("trade", {"slot": 2**64}, "bad_slot"),
        ("trade", {"event_index": -1}, "out_of_range"),
        ("trade", {"event_index": 32_768}, "out_of_range"),
        ("trade", {"tx_fee": 2**63}, "out_of_range"),
        ("trade", {"slot": 2**63}, "bad_slot"),
        ("trade", {"block_time": NOW + FUTURE_SLACK_SECONDS + 1}, "future_timestamp"),
        ("trade", {"timestamp": NOW + 86_400}, "future_timestamp"),
        ("trade", {"block_time": PUMPFUN_EPOCH - 1}, "before_pumpfun"),
        ("trade", {"block_time": 0}, "before_pumpfun"),
        ("curve_complete", {"timestamp": 1_600_000_000}, "before_pumpfun"),
        ("token_create", {"name": "a\x00b"}, "bad_field"),
        ("token_create", {"uri": "x" * 256}, "too_long"),
        ("token_create", {"name": "x" * 101}, "too_long"),
        ("token_create", {"symbol": "x" * 11}, "too_long"),
        ("token_create", {"decimals": 19}, "out_of_range"),
        ("migration", {"platform": "meteora"}, "bad_field"),
        ("sol_usd_price", {"price_usd": "-1"}, "bad_price"),
        ("sol_usd_price", {"price_usd": "0"}, "bad_price"),
        ("sol_usd_price", {"price_usd": "1e3"}, "bad_price"),
        ("sol_usd_price", {"confidence": "abc"}, "bad_price"),
        ("sol_usd_price", {"source": ""}, "bad_field"),
        ("sol_usd_price", {"price_time": NOW + 3600}, "future_timestamp"),
    ],
)
def test_validate_event_rejects(kind: str, changes: dict[str, Any], reason: str) -> None:
    assert reason_of(example(kind, **changes)) == reason


def test_time_bounds_are_inclusive_of_the_slack_and_the_epoch() -> None:
    assert reason_of(example("trade", block_time=NOW + FUTURE_SLACK_SECONDS, timestamp=NOW)) is None
    assert reason_of(example("trade", block_time=PUMPFUN_EPOCH, timestamp=PUMPFUN_EPOCH)) is None
    assert reason_of(example("trade", token_amount=10**15, sol_amount=2**64 - 1)) is None


def test_validate_event_accepts_datetime_now() -> None:
    trade = event("trade")
    validate_event(trade, now=datetime(2026, 12, 1, tzinfo=UTC))
    with pytest.raises(InvalidEvent):
        validate_event(trade, now=datetime(2026, 1, 1))  # naive = UTC; the trade is from 2026-09


def test_validate_event_checks_types_of_dataclasses_built_in_code() -> None:
    trade = event("trade")
    assert reason_of(dataclasses.replace(trade, slot=True)) == "bad_field"
    assert reason_of(dataclasses.replace(trade, sol_amount=1.5)) == "bad_field"
    assert reason_of(dataclasses.replace(trade, side="long")) == "bad_side"
    assert reason_of(dataclasses.replace(trade, program="jupiter")) == "bad_program"
    assert reason_of("not an event") == "unknown_kind"
    for cls in (TokenCreate, CurveComplete, Migration, SolUsdPrice):
        assert reason_of(event(cls.kind)) is None


def test_invalid_event_carries_code_and_sentence() -> None:
    with pytest.raises(InvalidEvent) as info:
        validate_event(event("trade", sol_amount=-3), now=NOW)
    exc = info.value
    assert isinstance(exc, RejectError) and isinstance(exc, ValueError)
    assert exc.reason_code == "negative_amount" and exc.message == "sol_amount is negative (-3)"
    located = exc.with_origin("a.jsonl:7")
    assert type(located) is InvalidEvent and located.message == "a.jsonl:7: sol_amount is negative (-3)"
    assert str(located) == "negative_amount: a.jsonl:7: sol_amount is negative (-3)"


# ---------------------------------------------------------------------------------------------
# malformed canonical objects: InvalidEvent or a valid event, never anything else

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(0, 2**64 - 1),
    st.integers(NOW - 10**9, NOW + 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=10),
    st.sampled_from(
        [
            "So11111111111111111111111111111111111111112",
            "11111111111111111111111111111111",
            "DHpRzLRuACd8i1BVGZh8rGQWaQsP7b4spBZFWbzW5WSb",
            "1" * 64,
            "0OIl",
            "buy",
            "sell",
            "pumpfun",
            "pumpswap",
            "raydium",
            "187.42",
            "a\x00",
        ]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(
    max_examples=4000, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    kind=st.sampled_from(sorted(EXAMPLES)),
    edits=st.lists(st.tuples(st.sampled_from(["v", "kind", "extra", "Mint", "price"]), _VALUES), max_size=1),
    field_edits=st.lists(st.tuples(st.integers(0, 40), _VALUES), max_size=3),
    drops=st.lists(st.integers(0, 40), max_size=1),
    now=st.integers(PUMPFUN_EPOCH - 10**6, NOW + 10**9),
)
def test_mutated_canonical_objects_are_rejected_or_valid(
    kind: str, edits: list[tuple[str, Any]], field_edits: list[tuple[int, Any]], drops: list[int], now: int
) -> None:
    obj: dict[str, Any] = dict(EXAMPLES[kind])
    names = sorted(set(obj) - {"v", "kind"})
    for n, value in field_edits:
        obj[names[n % len(names)]] = value
    for n in drops:
        obj.pop(names[n % len(names)], None)
    for name, value in edits[: 1 if now % 4 == 0 else 0]:  # rarely: the envelope or an unknown field
        obj[name] = value
    try:
        parsed = parse_canonical(obj)
        validate_event(parsed, now=now)
    except InvalidEvent as exc:
        hypothesis.event(f"reject: {exc.reason_code}")
        assert re.fullmatch(r"[a-z][a-z0-9_]*", exc.reason_code) and exc.message
        return
    hypothesis.event("valid")
    assert type(parsed) is EVENT_TYPES[kind]
