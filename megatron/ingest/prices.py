"""SOL/USD prices from CSV files and Pyth-Hermes-shaped JSON, as canonical ``SolUsdPrice`` events.

CSV: a header row with a time column (``price_time``, ``time`` or ``timestamp``: Unix seconds or
ISO 8601), a price column (``price_usd`` or ``price``), optional ``source`` (default ``csv``) and
``confidence``.

Hermes: the body of ``/v2/updates/price/latest`` (or a list of such bodies, or JSON Lines): each
``parsed[]`` item has ``price: {price, conf, expo, publish_time}``; price = price × 10^expo.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from megatron.events import SolUsdPrice
from megatron.validate import InvalidEvent

PYTH_SOL_USD_FEED = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d"


def looks_like_hermes(head: str) -> bool:
    return '"publish_time"' in head and '"expo"' in head


def _unix(value: str, origin: str) -> int:
    value = value.strip()
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvent("bad_field", f"{origin}: time {value!r} is neither Unix seconds nor ISO 8601") from None
    if parsed.tzinfo is None:
        raise InvalidEvent("bad_field", f"{origin}: time {value!r} has no time zone; add Z or +00:00")
    return int(parsed.timestamp())


def _decimal_text(value: str, field: str, origin: str) -> str:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise InvalidEvent("bad_field", f"{origin}: {field} {value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidEvent("bad_field", f"{origin}: {field} {value!r} is not a finite number")
    return format(number, "f")


def csv_prices(path: Path) -> Iterator[tuple[str, str, SolUsdPrice | InvalidEvent]]:
    """(origin, raw line, event or the error) per data row."""
    text = path.read_text()
    lines = text.splitlines()
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower(): f for f in (reader.fieldnames or [])}
    time_col = next((fields[c] for c in ("price_time", "time", "timestamp") if c in fields), None)
    price_col = next((fields[c] for c in ("price_usd", "price") if c in fields), None)
    for n, row in enumerate(reader, start=2):
        origin = f"{path}:{n}"
        raw = lines[n - 1] if n - 1 < len(lines) else ""
        if time_col is None or price_col is None:
            yield origin, raw, InvalidEvent(
                "bad_field", f"{path}: the CSV header needs a time column (price_time/time/timestamp) and a price column (price_usd/price)"
            )
            continue
        try:
            confidence = (row.get(fields.get("confidence", ""), "") or "").strip()
            event = SolUsdPrice(
                price_time=_unix(row[time_col] or "", origin),
                price_usd=_decimal_text(row[price_col] or "", "price", origin),
                source=(row.get(fields.get("source", ""), "") or "").strip() or "csv",
                confidence=_decimal_text(confidence, "confidence", origin) if confidence else None,
            )
        except InvalidEvent as exc:
            yield origin, raw, exc
            continue
        yield origin, raw, event


def _hermes_items(doc: Any) -> Iterator[dict[str, Any]]:
    if isinstance(doc, list):
        for d in doc:
            yield from _hermes_items(d)
    elif isinstance(doc, dict):
        if isinstance(doc.get("parsed"), list):
            yield from (p for p in doc["parsed"] if isinstance(p, dict))
        elif "price" in doc and isinstance(doc["price"], dict):
            yield doc


def hermes_price(item: dict[str, Any], origin: str) -> SolUsdPrice:
    try:
        p = item["price"]
        expo = int(p["expo"])
        price = Decimal(int(p["price"])).scaleb(expo)
        conf = Decimal(int(p["conf"])).scaleb(expo) if p.get("conf") is not None else None
        when = int(p["publish_time"])
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise InvalidEvent("bad_field", f"{origin}: not a Hermes price item ({exc.__class__.__name__}: {exc})") from None
    feed = str(item.get("id", "")).removeprefix("0x")
    if feed and feed != PYTH_SOL_USD_FEED:
        raise InvalidEvent("wrong_feed", f"{origin}: price feed {feed[:16]}… is not Pyth's SOL/USD feed")
    return SolUsdPrice(
        price_time=when,
        price_usd=format(price, "f"),
        source="pyth_hermes",
        confidence=format(conf, "f") if conf is not None else None,
    )


def hermes_prices(path: Path) -> Iterator[tuple[str, str, SolUsdPrice | InvalidEvent]]:
    text = path.read_text()
    try:
        docs: list[Any] = [json.loads(text)]
    except json.JSONDecodeError:
        docs = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                yield f"{path}:{n}", line, InvalidEvent("not_json", f"{path}:{n}: not JSON ({exc.msg})")
    for i, item in enumerate(_hermes_items(docs)):
        origin = f"{path}#parsed[{i}]"
        try:
            yield origin, json.dumps(item), hermes_price(item, origin)
        except InvalidEvent as exc:
            yield origin, json.dumps(item), exc
