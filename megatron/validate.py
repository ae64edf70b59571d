"""Validation of canonical events, and parsing of canonical JSON objects.

Everything a producer hands the loader goes through :func:`validate_event`; canonical JSON
Lines written by other producers go through :func:`parse_canonical` first. Both raise an
exception carrying a short snake_case ``reason_code`` (listed in docs/canonical-events.md) and
a human-readable ``message``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, get_args, get_origin

import base58

from megatron.events import (
    EVENT_TYPES,
    FORMAT_VERSION,
    SYSTEM_PROGRAM_ID,
    WSOL_MINT,
    CurveComplete,
    Event,
    Migration,
    SocialObservation,
    SolUsdPrice,
    TokenCreate,
    Trade,
)

U64_MAX = 2**64 - 1
#: pump.fun launched in January 2024; nothing canonical is older.
PUMPFUN_EPOCH = 1_704_067_200  # 2024-01-01T00:00:00Z
#: tolerated clock skew for "not in the future"
FUTURE_SLACK_SECONDS = 300
#: 1e15 raw units = the whole 1e9-token supply of a 6-decimal pump.fun/LaunchLab coin
MAX_TOKEN_AMOUNT = 10**15
MAX_BASIS_POINTS = 10_000
MAX_TX_INDEX = 2**31 - 1  # transactions.tx_index is an integer
#: the columns decide the limits below (docs/canonical-events.md lists them):
#: transactions.event_index is a smallint
MAX_EVENT_INDEX = 2**15 - 1
#: slot and transactions.transaction_fee are bigint
MAX_BIGINT = 2**63 - 1
#: tokens.decimals: SPL mints in use have at most 18 (amounts are stored with 6 decimals anyway)
MAX_DECIMALS = 18
#: text columns: tokens.name/symbol/uri, sol_usd_prices.source; fields not stored: MAX_TEXT_LENGTH
TEXT_LIMITS = {"name": 100, "symbol": 10, "uri": 255, "source": 50}
MAX_TEXT_LENGTH = 4096
#: sol_usd_prices.price_usd and confidence are numeric(20, 6): below 10^14, six decimals kept
MAX_PRICE = Decimal(10) ** 14
PRICE_QUANTUM = Decimal("0.000001")

_SIDES = ("buy", "sell")
MIGRATION_PLATFORMS = frozenset({"pumpswap", "raydium", "raydium_cpmm"})

_DECIMAL_TEXT = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")


class RejectError(ValueError):
    """Base of every reject: ``reason_code`` (snake_case) and ``message`` (a sentence)."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(f"{reason_code}: {message}")
        self.reason_code = reason_code
        self.message = message

    def with_origin(self, origin: str) -> RejectError:
        """The same error (same class and reason) with ``origin: `` in front of the message."""
        if not origin or self.message.startswith(f"{origin}: "):
            return self
        clone = copy_error(self, f"{origin}: {self.message}")
        clone.__cause__ = self.__cause__
        return clone


def copy_error(exc: RejectError, message: str) -> RejectError:
    clone = exc.__class__.__new__(exc.__class__)
    clone.__dict__.update(exc.__dict__)
    RejectError.__init__(clone, exc.reason_code, message)
    return clone


class InvalidEvent(RejectError):
    """A canonical event (or canonical JSON object) that breaks a rule."""


# ---------------------------------------------------------------------------------------------
# field kinds

_ADDRESS_FIELDS = frozenset(
    {
        "mint",
        "pool",
        "user",
        "creator",
        "bonding_curve",
        "token_program",
        "quote_mint",
        "lp_mint",
        "base_vault",
        "quote_vault",
    }
)
_AMOUNT_FIELDS = frozenset(
    {
        "sol_amount",
        "token_amount",
        "virtual_sol_reserves",
        "virtual_token_reserves",
        "real_sol_reserves",
        "real_token_reserves",
        "token_total_supply",
        "fee",
        "creator_fee",
        "lp_fee",
        "platform_fee",
        "tx_fee",
        "pool_migration_fee",
        "curve_sell_supply",
    }
)
_BPS_FIELDS = frozenset({"fee_basis_points", "creator_fee_basis_points", "lp_fee_basis_points"})
_TIME_FIELDS = ("block_time", "timestamp")
_TEXT_FIELDS = frozenset({"name", "symbol", "uri", "ix_name", "platform", "source"})


def _now_seconds(now: int | float | datetime) -> float:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now.timestamp()
    if isinstance(now, bool) or not isinstance(now, (int, float)):
        raise TypeError("now must be Unix seconds or a datetime")
    return float(now)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fmt_time(ts: int) -> str:
    try:
        return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(ts)


def check_address(value: object, field: str) -> None:
    if not isinstance(value, str):
        raise InvalidEvent("bad_address", f"{field} must be a base58 string, got {type(value).__name__}")
    if not 32 <= len(value) <= 44:  # 32 bytes are 32..44 base58 characters; checked before decoding
        raise InvalidEvent("bad_address", f"{field} {value[:60]!r} is {len(value)} characters, not a 32-byte address")
    try:
        raw = base58.b58decode(value)
    except ValueError:
        raise InvalidEvent("bad_address", f"{field} {value!r} is not valid base58") from None
    if len(raw) != 32:
        raise InvalidEvent("bad_address", f"{field} {value!r} decodes to {len(raw)} bytes, not 32")


def check_signature(value: object) -> None:
    if not isinstance(value, str):
        raise InvalidEvent("bad_signature", f"signature must be a base58 string, got {type(value).__name__}")
    if not 64 <= len(value) <= 88:  # 64 bytes are 64..88 base58 characters
        raise InvalidEvent(
            "bad_signature", f"signature {value[:100]!r} is {len(value)} characters, not a 64-byte signature"
        )
    try:
        raw = base58.b58decode(value)
    except ValueError:
        raise InvalidEvent("bad_signature", f"signature {value!r} is not valid base58") from None
    if len(raw) != 64:
        raise InvalidEvent("bad_signature", f"signature {value!r} decodes to {len(raw)} bytes, not 64")


def _check_amount(value: object, field: str) -> None:
    if not _is_int(value):
        raise InvalidEvent("bad_field", f"{field} must be an integer, got {type(value).__name__}")
    assert isinstance(value, int)
    if value < 0:
        raise InvalidEvent("negative_amount", f"{field} is negative ({value})")
    if value > U64_MAX:
        raise InvalidEvent("amount_overflow", f"{field} {value} does not fit in a u64")


def _check_time(value: object, field: str, now_s: float) -> None:
    if not _is_int(value):
        raise InvalidEvent("bad_field", f"{field} must be integer Unix seconds, got {type(value).__name__}")
    assert isinstance(value, int)
    if value < PUMPFUN_EPOCH:
        raise InvalidEvent(
            "before_pumpfun",
            f"{field} {value} ({_fmt_time(value)}) is before pump.fun existed (2024-01-01T00:00:00Z)",
        )
    if value > now_s + FUTURE_SLACK_SECONDS:
        raise InvalidEvent(
            "future_timestamp",
            f"{field} {value} ({_fmt_time(value)}) is more than {FUTURE_SLACK_SECONDS} s in the future",
        )


def _check_text(value: object, field: str) -> None:
    if not isinstance(value, str):
        raise InvalidEvent("bad_field", f"{field} must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise InvalidEvent("bad_field", f"{field} contains a NUL character, which PostgreSQL text cannot store")
    limit = TEXT_LIMITS.get(field, MAX_TEXT_LENGTH)
    if len(value) > limit:
        raise InvalidEvent("too_long", f"{field} is {len(value)} characters long; the limit is {limit}")


def validate_event(event: object, *, now: int | float | datetime) -> None:
    """Raise :class:`InvalidEvent` unless ``event`` is a well-formed canonical event.

    ``now`` (Unix seconds or a datetime) bounds timestamps: nothing may lie more than five
    minutes in the future, nor before 2024-01-01.
    """
    now_s = _now_seconds(now)
    if isinstance(event, SolUsdPrice):
        _validate_price(event, now_s)
        return
    if isinstance(event, SocialObservation):
        _validate_social(event, now_s)
        return
    if not isinstance(event, (TokenCreate, Trade, CurveComplete, Migration)):
        raise InvalidEvent("unknown_kind", f"{type(event).__name__} is not a canonical event class")
    _validate_types(event)
    check_signature(event.signature)
    if event.slot < 0 or event.slot > MAX_BIGINT:
        raise InvalidEvent("bad_slot", f"slot {event.slot} is not between 0 and {MAX_BIGINT} (the largest bigint)")
    if event.event_index < 0 or event.event_index > MAX_EVENT_INDEX:
        raise InvalidEvent(
            "out_of_range", f"event_index {event.event_index} is not between 0 and {MAX_EVENT_INDEX} (a smallint)"
        )
    values = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    if values.get("program") not in _PROGRAM_VALUES:
        raise InvalidEvent("bad_program", f"program {values.get('program')!r} is not one of {sorted(_PROGRAM_VALUES)}")
    for name, value in values.items():
        if value is None:
            continue
        if name in _ADDRESS_FIELDS:
            check_address(value, name)
        elif name in _AMOUNT_FIELDS:
            _check_amount(value, name)
        elif name in _BPS_FIELDS:
            _check_amount(value, name)
            if value > MAX_BASIS_POINTS:
                raise InvalidEvent("bad_field", f"{name} {value} exceeds {MAX_BASIS_POINTS} (100%)")
        elif name in _TIME_FIELDS:
            _check_time(value, name, now_s)
        elif name in _TEXT_FIELDS:
            _check_text(value, name)
    quote_mint = values.get("quote_mint")
    if quote_mint in (WSOL_MINT, SYSTEM_PROGRAM_ID):
        raise InvalidEvent("bad_address", f"quote_mint {quote_mint} means SOL and must be written as null")
    tx_fee = values.get("tx_fee")
    if isinstance(tx_fee, int) and tx_fee > MAX_BIGINT:
        raise InvalidEvent("out_of_range", f"tx_fee {tx_fee} is above {MAX_BIGINT} (the largest bigint)")
    token_amount = values.get("token_amount")
    if isinstance(token_amount, int) and token_amount > MAX_TOKEN_AMOUNT:
        raise InvalidEvent(
            "implausible_amount",
            f"token_amount {token_amount} exceeds {MAX_TOKEN_AMOUNT} raw units (a whole 1e9-token supply)",
        )
    if isinstance(event, Trade):
        if event.tx_index is not None and not 0 <= event.tx_index <= MAX_TX_INDEX:
            raise InvalidEvent("bad_field", f"tx_index {event.tx_index} is not a position in a block (0..{MAX_TX_INDEX})")
        if event.side not in _SIDES:
            raise InvalidEvent("bad_side", f"side {event.side!r} is neither 'buy' nor 'sell'")
    elif isinstance(event, TokenCreate):
        if not 0 <= event.decimals <= MAX_DECIMALS:
            raise InvalidEvent("out_of_range", f"decimals {event.decimals} is not between 0 and {MAX_DECIMALS}")
    elif isinstance(event, Migration):
        if event.platform not in MIGRATION_PLATFORMS:
            raise InvalidEvent("bad_field", f"platform {event.platform!r} is not one of {sorted(MIGRATION_PLATFORMS)}")


def _validate_price(event: SolUsdPrice, now_s: float) -> None:
    _validate_types(event)
    _check_time(event.price_time, "price_time", now_s)
    for name in ("price_usd", "confidence"):
        value = getattr(event, name)
        if value is None:
            continue
        if not _DECIMAL_TEXT.match(value) or len(value) > 64:
            raise InvalidEvent("bad_price", f"{name} {value[:64]!r} is not a non-negative decimal number")
    if not _DECIMAL_TEXT.match(event.price_usd) or float(event.price_usd) <= 0 or math.isinf(float(event.price_usd)):
        raise InvalidEvent("bad_price", f"price_usd {event.price_usd!r} must be positive")
    for name in ("price_usd", "confidence"):
        value = getattr(event, name)
        if value is None:
            continue
        number = Decimal(value)
        stored = number.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP) if number < MAX_PRICE else number
        if stored >= MAX_PRICE:
            raise InvalidEvent("bad_price", f"{name} {value[:64]} is not below {MAX_PRICE:,} (numeric(20, 6))")
        if name == "price_usd" and stored <= 0:
            raise InvalidEvent("bad_price", f"price_usd {value} rounds to 0 at six decimals")
    _check_text(event.source, "source")
    if not event.source:
        raise InvalidEvent("bad_field", "source must not be empty")


#: X (Twitter) handles: 1-15 letters, digits or underscores, written without the '@'
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_TWITTER_ID = re.compile(r"^[0-9]{1,20}$")
#: X opened in March 2006; no account is older
TWITTER_EPOCH = 1_142_899_200  # 2006-03-21T00:00:00Z
#: social_observations.score is numeric(12, 4): below 10^8
MAX_SOCIAL_SCORE = 10**8
_SOCIAL_COUNTS = ("followers_count", "friends_count", "tweets_count", "influencers_count", "projects_count",
                  "venture_capitals_count", "mentions_24h", "smart_mentions_24h", "engagement_24h")


def _validate_social(event: SocialObservation, now_s: float) -> None:
    _validate_types(event)
    check_address(event.mint, "mint")
    _check_time(event.observed_at, "observed_at", now_s)
    _check_text(event.source, "source")
    if not event.source:
        raise InvalidEvent("bad_field", "source must not be empty")
    if not _HANDLE.match(event.handle):
        raise InvalidEvent(
            "bad_handle",
            f"handle {event.handle[:40]!r} is not an X handle (1-15 letters, digits or _, written without '@')",
        )
    if event.twitter_id is not None and not _TWITTER_ID.match(event.twitter_id):
        raise InvalidEvent("bad_field", f"twitter_id {event.twitter_id[:40]!r} is not a numeric X user id")
    for name in _SOCIAL_COUNTS:
        value = getattr(event, name)
        if value is None:
            continue
        if value < 0:
            raise InvalidEvent("bad_count", f"{name} is negative ({value})")
        if value > MAX_BIGINT:
            raise InvalidEvent("bad_count", f"{name} {value} is above {MAX_BIGINT} (the largest bigint)")
    if event.mentions_24h is not None and event.smart_mentions_24h is not None \
            and event.smart_mentions_24h > event.mentions_24h:
        raise InvalidEvent(
            "inconsistent",
            f"smart_mentions_24h ({event.smart_mentions_24h}) is more than mentions_24h ({event.mentions_24h}); "
            "the smart mentions are a part of all mentions",
        )
    if event.account_created_at is not None:
        created = event.account_created_at
        if created < TWITTER_EPOCH or created > event.observed_at + FUTURE_SLACK_SECONDS:
            raise InvalidEvent(
                "bad_field",
                f"account_created_at {created} ({_fmt_time(created) if created >= 0 else created}) is not between "
                f"X's launch (2006-03-21) and observed_at ({_fmt_time(event.observed_at)})",
            )
    if event.score is not None:
        score = event.score
        if (isinstance(score, float) and not math.isfinite(score)) or not 0 <= score < MAX_SOCIAL_SCORE:
            raise InvalidEvent("bad_score", f"score {event.score!r} is not a number between 0 and {MAX_SOCIAL_SCORE:,}")


# ---------------------------------------------------------------------------------------------
# type checking against the dataclass annotations


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    cached = _HINTS.get(cls)
    if cached is None:
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        cached = _HINTS[cls] = {name: hint for name, hint in hints.items() if name in names}
    return cached


def _type_ok(value: object, hint: Any) -> bool:
    origin = get_origin(hint)
    if origin is Literal:
        return any(value == arg and type(value) is type(arg) for arg in get_args(hint))
    if origin is typing.Union or origin is types.UnionType:
        return any(_type_ok(value, arg) for arg in get_args(hint))
    if hint is type(None):
        return value is None
    if hint is int:
        return _is_int(value)
    if hint is bool:
        return isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint is float:
        return isinstance(value, float) or _is_int(value)
    return isinstance(value, hint) if isinstance(hint, type) else False


def _type_name(hint: Any) -> str:
    origin = get_origin(hint)
    if origin is Literal:
        return " or ".join(repr(a) for a in get_args(hint))
    args = get_args(hint)
    if args:
        return " or ".join(_type_name(a) for a in args)
    if hint is type(None):
        return "null"
    return getattr(hint, "__name__", str(hint))


def _validate_types(event: object) -> None:
    for name, hint in _hints(type(event)).items():
        value = getattr(event, name)
        if not _type_ok(value, hint):
            code = {"side": "bad_side", "program": "bad_program"}.get(name, "bad_field")
            raise InvalidEvent(code, f"{name} must be {_type_name(hint)}, got {value!r:.80}")


def _literal_values(hint: Any) -> frozenset[str]:
    for arg in get_args(hint) or (hint,):
        if get_origin(arg) is Literal:
            return frozenset(str(a) for a in get_args(arg))
    if get_origin(hint) is Literal:
        return frozenset(str(a) for a in get_args(hint))
    return frozenset()


_PROGRAM_VALUES = _literal_values(typing.get_type_hints(Trade)["program"])
PROGRAMS = _PROGRAM_VALUES


def parse_canonical(obj: object) -> Event | SolUsdPrice:
    """Turn one canonical JSON object (``{"v": 1, "kind": ..., ...}``) into its dataclass.

    Rejects (InvalidEvent): non-objects, a wrong ``v``, unknown kinds, missing required
    fields, unknown extra fields and values of the wrong JSON type (``true`` is not an
    integer, ``1.0`` is not an integer, ``"5"`` is not an integer). Optional fields may be
    omitted (they default to null). Semantic checks are :func:`validate_event`'s job.
    """
    if not isinstance(obj, dict):
        raise InvalidEvent("not_an_object", f"a canonical event must be a JSON object, got {type(obj).__name__}")
    version = obj.get("v")
    if not _is_int(version) or version != FORMAT_VERSION:
        raise InvalidEvent("bad_version", f'"v" must be {FORMAT_VERSION}, got {version!r:.40}')
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise InvalidEvent("unknown_kind", f"kind {kind!r:.60} is not one of {sorted(EVENT_TYPES)}")
    cls = EVENT_TYPES[kind]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    extra = sorted(set(obj) - set(fields) - {"v", "kind"})
    if extra:
        raise InvalidEvent("extra_field", f"{kind} has unknown field(s) {', '.join(repr(e)[:60] for e in extra[:5])}")
    missing = [
        name
        for name, f in fields.items()
        if name not in obj and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise InvalidEvent("missing_field", f"{kind} lacks required field(s) {', '.join(missing)}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for name in fields:
        if name not in obj:
            continue
        value = obj[name]
        if not _type_ok(value, hints[name]):
            code = {"side": "bad_side", "program": "bad_program"}.get(name, "bad_field")
            raise InvalidEvent(code, f"{kind}.{name} must be {_type_name(hints[name])}, got {value!r:.80}")
        kwargs[name] = value
    event: Event | SolUsdPrice = cls(**kwargs)
    return event
