"""SOL/USD prices from CSV files and Pyth-Hermes-shaped JSON, as canonical ``SolUsdPrice`` events.

CSV: a header row with a time column (``price_time``, ``time`` or ``timestamp``: Unix seconds or
ISO 8601), a price column (``price_usd`` or ``price``), optional ``source`` (default ``csv``) and
``confidence``.

Hermes: the body of ``/v2/updates/price/latest`` (or a list of such bodies, or JSON Lines): each
``parsed[]`` item has ``price: {price, conf, expo, publish_time}``; price = price × 10^expo.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from megatron.decode.records import RAW_CAP, raw_text
from megatron.events import SolUsdPrice
from megatron.validate import InvalidEvent

MAX_EXPO = 30  # Pyth exponents are small negatives; beyond this a price cannot be a SOL/USD price

PYTH_SOL_USD_FEED = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d"


def looks_like_hermes(head: str) -> bool:
    return '"publish_time"' in head and '"expo"' in head


def _unix(value: str, origin: str) -> int:
    value = value.strip()
    if value.lstrip("-").isdigit():
        if len(value) > 12:
            raise InvalidEvent("bad_field", f"{origin}: time {value[:40]!r} has {len(value)} digits; Unix seconds have at most 12")
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
    if number and not -40 <= number.adjusted() <= 40:  # written out, it would be millions of digits
        raise InvalidEvent("bad_price", f"{origin}: {field} {value[:40]!r} is not below 10^14 nor above 10^-40")
    return format(number, "f")


def _decoded_lines(path: Path) -> Iterator[tuple[int, bytes, str | None]]:
    """(line number, raw bytes, text or None when the line is not UTF-8) of each non-blank line."""
    for n, raw in enumerate(path.read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield n, raw, raw.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError:
            yield n, raw, None


def _not_text(origin: str, raw: bytes) -> tuple[str, str, InvalidEvent]:
    return origin, raw_text(raw), InvalidEvent("not_text", f"{origin}: the line is not UTF-8 text")


def csv_prices(path: Path) -> Iterator[tuple[str, str, SolUsdPrice | InvalidEvent]]:
    """(origin, raw line, event or the error) per data row; a line that is not UTF-8 or not CSV is
    rejected alone."""
    header: dict[str, int] | None = None
    for n, raw, line in _decoded_lines(path):
        origin = f"{path}:{n}"
        if line is None:
            yield _not_text(origin, raw)
            continue
        try:
            cells = next(csv.reader([line]))
        except (csv.Error, StopIteration) as exc:
            yield origin, line, InvalidEvent("bad_field", f"{origin}: not a CSV line ({exc})")
            continue
        if header is None:
            header = {c.strip().lower(): i for i, c in enumerate(cells)}
            continue
        yield origin, line, _csv_price(header, cells, path, origin)


def _csv_price(header: dict[str, int], cells: list[str], path: Path, origin: str) -> SolUsdPrice | InvalidEvent:
    def cell(*names: str) -> str | None:
        for name in names:
            if name in header:
                i = header[name]
                return cells[i].strip() if i < len(cells) else ""
        return None

    when, price = cell("price_time", "time", "timestamp"), cell("price_usd", "price")
    if when is None or price is None:
        return InvalidEvent(
            "bad_field", f"{path}: the CSV header needs a time column (price_time/time/timestamp) and a price column (price_usd/price)"
        )
    try:
        confidence = cell("confidence") or ""
        return SolUsdPrice(
            price_time=_unix(when, origin),
            price_usd=_decimal_text(price, "price", origin),
            source=cell("source") or "csv",
            confidence=_decimal_text(confidence, "confidence", origin) if confidence else None,
        )
    except InvalidEvent as exc:
        return exc


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
        if not -MAX_EXPO <= expo <= MAX_EXPO:
            raise InvalidEvent("bad_price", f"{origin}: expo {expo} is outside -{MAX_EXPO}..{MAX_EXPO} (Pyth's SOL/USD uses -8)")
        price = Decimal(int(p["price"])).scaleb(expo)
        conf = Decimal(int(p["conf"])).scaleb(expo) if p.get("conf") is not None else None
        when = int(p["publish_time"])
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        if isinstance(exc, InvalidEvent):
            raise
        raise InvalidEvent("bad_field", f"{origin}: not a Hermes price item ({exc.__class__.__name__}: {str(exc)[:200]})") from None
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
    """(origin, raw item, event or the error) per ``parsed[]`` item of one JSON document or of
    JSON Lines; a line that is not UTF-8 or not JSON is rejected alone."""
    data = path.read_bytes()
    docs: list[Any] = []
    try:
        docs = [json.loads(data.decode("utf-8-sig"))]
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        for n, raw, line in _decoded_lines(path):
            origin = f"{path}:{n}"
            if line is None:
                yield _not_text(origin, raw)
                continue
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                yield origin, line, InvalidEvent("not_json", f"{origin}: not JSON ({exc.msg})")
            except (ValueError, RecursionError) as exc:
                yield origin, line, InvalidEvent("bad_field", f"{origin}: {str(exc)[:200]}")
    except ValueError as exc:  # a number of more than 4300 digits
        yield str(path), raw_text(data[:RAW_CAP]), InvalidEvent("bad_field", f"{path}: {str(exc)[:200]}")
    for i, item in enumerate(_hermes_items(docs)):
        origin = f"{path}#parsed[{i}]"
        try:
            yield origin, json.dumps(item), hermes_price(item, origin)
        except InvalidEvent as exc:
            yield origin, json.dumps(item), exc
