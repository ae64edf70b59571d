"""Anchor event layouts of pump.fun, PumpSwap and Raydium LaunchLab, and the payload decoder.

Layouts come from the official IDLs and their git history (see
../shared/fixtures/solana/PROVENANCE.md §1 and ``idl/event_layouts.json``). pump.fun and
PumpSwap only ever *append* fields, so an event is decoded by reading the longest known
generation that fits the payload; bytes beyond the newest known layout are counted in
``DecodedEvent.trailing`` and otherwise ignored (mainnet events from 2026-09 already carry 16
such bytes).

LaunchLab is different: its newer TradeEvent inserted ``creator_fee`` in the middle, so the
two layouts are told apart by length (130 vs 139 payload bytes). The 139-byte layout is
*inferred* from source-asserted values (PROVENANCE §5), not from an official IDL.

Discriminators are computed the Anchor way (``sha256("event:<Name>")[:8]`` and
``sha256("global:<ix_name>")[:8]``) instead of being copied, and the tests check them against
the IDL files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import base58

from megatron.decode.borsh import DecodeError, Reader, ShortInput
from megatron.events import LAUNCHLAB_PROGRAM_ID, PUMPFUN_PROGRAM_ID, PUMPSWAP_PROGRAM_ID

# ---------------------------------------------------------------------------------------------
# programs

PROGRAM_NAMES: dict[str, str] = {
    PUMPFUN_PROGRAM_ID: "pumpfun",
    PUMPSWAP_PROGRAM_ID: "pumpswap",
    LAUNCHLAB_PROGRAM_ID: "raydium_launchlab",
}
PROGRAM_IDS: dict[str, str] = {name: pid for pid, name in PROGRAM_NAMES.items()}

#: Anchor ``emit_cpi!`` prefixes the self-CPI instruction data with this tag.
ANCHOR_EVENT_IX_TAG = bytes.fromhex("e445a52e51cb9a1d")
ZERO_PUBKEY = "11111111111111111111111111111111"


def event_discriminator(name: str) -> bytes:
    return hashlib.sha256(f"event:{name}".encode()).digest()[:8]


def instruction_discriminator(name: str) -> bytes:
    return hashlib.sha256(f"global:{name}".encode()).digest()[:8]


# ---------------------------------------------------------------------------------------------
# field types
#
# A field type is one of the scalar names below, ("vec", <struct name>) or ("enum", variants).

FieldType = str | tuple[str, Any]
Fields = tuple[tuple[str, FieldType], ...]

_SCALAR_SIZES = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "i64": 8, "bool": 1, "pubkey": 32, "string": 4}

STRUCTS: dict[str, Fields] = {
    "Shareholder": (("address", "pubkey"), ("share_bps", "u16")),
}


def _min_size(ftype: FieldType) -> int:
    if isinstance(ftype, str):
        return _SCALAR_SIZES[ftype]
    kind = ftype[0]
    if kind == "vec":
        return 4
    if kind == "enum":
        return 1
    raise ValueError(f"unknown field type {ftype!r}")


def _struct_min_size(fields: Fields) -> int:
    return sum(_min_size(t) for _, t in fields)


def _read(reader: Reader, name: str, ftype: FieldType) -> Any:
    if isinstance(ftype, str):
        if ftype == "u8":
            return reader.u8(name)
        if ftype == "u16":
            return reader.u16(name)
        if ftype == "u32":
            return reader.u32(name)
        if ftype == "u64":
            return reader.u64(name)
        if ftype == "i64":
            return reader.i64(name)
        if ftype == "bool":
            return reader.bool(name)
        if ftype == "pubkey":
            return reader.pubkey(name)
        if ftype == "string":
            return reader.string(name)
        raise ValueError(f"unknown field type {ftype!r}")
    kind, arg = ftype
    if kind == "vec":
        item_fields = STRUCTS[arg]

        def read_item(r: Reader) -> dict[str, Any]:
            return {n: _read(r, f"{name}.{n}", t) for n, t in item_fields}

        return reader.vec(read_item, item_min_size=_struct_min_size(item_fields), field=name)
    if kind == "enum":
        variants: tuple[str, ...] = arg
        at = reader.pos
        index = reader.u8(name)
        if index >= len(variants):
            raise DecodeError(
                "bad_payload",
                f"{reader.what}: {name} at offset {at} is variant {index}, "
                f"but only {len(variants)} variants are known ({', '.join(variants)})",
            )
        return variants[index]
    raise ValueError(f"unknown field type {ftype!r}")


# ---------------------------------------------------------------------------------------------
# layouts


@dataclass(frozen=True, slots=True)
class Generation:
    """One layout of an event, as of ``commit`` (None when it predates the public IDL)."""

    label: str
    commit: str | None
    date: str | None
    fields: Fields
    note: str = ""

    @property
    def min_size(self) -> int:
        return _struct_min_size(self.fields)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.fields)


@dataclass(frozen=True, slots=True)
class EventSpec:
    program: str  # canonical program name: 'pumpfun' | 'pumpswap' | 'raydium_launchlab'
    name: str
    generations: tuple[Generation, ...]  # oldest first

    @property
    def discriminator(self) -> bytes:
        return event_discriminator(self.name)


def _appending(
    program: str, name: str, steps: list[tuple[str, str | None, str | None, Fields]], note: str = ""
) -> EventSpec:
    """Build an append-only event: each step adds fields to the previous generation."""
    gens: list[Generation] = []
    acc: Fields = ()
    for label, commit, date, added in steps:
        acc = acc + added
        gens.append(Generation(label, commit, date, acc, note))
    return EventSpec(program, name, tuple(gens))


U64 = "u64"
PK = "pubkey"

PUMP_TRADE_EVENT = _appending(
    "pumpfun",
    "TradeEvent",
    [
        (
            "v0",
            None,
            "2024",
            (
                ("mint", PK),
                ("sol_amount", U64),
                ("token_amount", U64),
                ("is_buy", "bool"),
                ("user", PK),
                ("timestamp", "i64"),
                ("virtual_sol_reserves", U64),
                ("virtual_token_reserves", U64),
            ),
        ),
        ("v1", "df5013e", "2025-04-04", (("real_sol_reserves", U64), ("real_token_reserves", U64))),
        (
            "v2",
            "e2b66e4",
            "2025-05-08",
            (
                ("fee_recipient", PK),
                ("fee_basis_points", U64),
                ("fee", U64),
                ("creator", PK),
                ("creator_fee_basis_points", U64),
                ("creator_fee", U64),
            ),
        ),
        (
            "v3",
            "0c64400",
            "2025-08-28",
            (
                ("track_volume", "bool"),
                ("total_unclaimed_tokens", U64),
                ("total_claimed_tokens", U64),
                ("current_sol_volume", U64),
                ("last_update_timestamp", "i64"),
            ),
        ),
        ("v4", "3359025", "2025-10-17", (("ix_name", "string"),)),
        ("v5", "f0ef005", "2026-01-10", (("mayhem_mode", "bool"),)),
        ("v6", "82dacac", "2026-02-17", (("cashback_fee_basis_points", U64), ("cashback", U64))),
        (
            "v7",
            "91db680",
            "2026-05-07",
            (
                ("buyback_fee_basis_points", U64),
                ("buyback_fee", U64),
                ("shareholders", ("vec", "Shareholder")),
                ("quote_mint", PK),
                ("quote_amount", U64),
                ("virtual_quote_reserves", U64),
                ("real_quote_reserves", U64),
            ),
        ),
    ],
)

PUMP_CREATE_EVENT = _appending(
    "pumpfun",
    "CreateEvent",
    [
        (
            "c0",
            None,
            "2024",
            (
                ("name", "string"),
                ("symbol", "string"),
                ("uri", "string"),
                ("mint", PK),
                ("bonding_curve", PK),
                ("user", PK),
            ),
        ),
        ("c1", "df5013e", "2025-04-04", (("creator", PK), ("timestamp", "i64"))),
        (
            "c2",
            "e2b66e4",
            "2025-05-08",
            (
                ("virtual_token_reserves", U64),
                ("virtual_sol_reserves", U64),
                ("real_token_reserves", U64),
                ("token_total_supply", U64),
            ),
        ),
        ("c3", "864c072", "2025-11-07", (("token_program", PK), ("is_mayhem_mode", "bool"))),
        ("c4", "82dacac", "2026-02-17", (("is_cashback_enabled", "bool"),)),
        ("c5", "91db680", "2026-05-07", (("quote_mint", PK), ("virtual_quote_reserves", U64))),
    ],
)

PUMP_COMPLETE_EVENT = _appending(
    "pumpfun",
    "CompleteEvent",
    [
        (
            "k0",
            "df5013e",
            "2025-04-04",
            (("user", PK), ("mint", PK), ("bonding_curve", PK), ("timestamp", "i64")),
        ),
        ("k1", "91db680", "2026-05-07", (("quote_mint", PK),)),
    ],
)

PUMP_MIGRATION_EVENT = _appending(
    "pumpfun",
    "CompletePumpAmmMigrationEvent",
    [
        (
            "m0",
            "df5013e",
            "2025-04-04",
            (
                ("user", PK),
                ("mint", PK),
                ("mint_amount", U64),
                ("sol_amount", U64),
                ("pool_migration_fee", U64),
                ("bonding_curve", PK),
                ("timestamp", "i64"),
                ("pool", PK),
            ),
        ),
        ("m1", "3c6721a", "2026-05-19", (("quote_mint", PK),)),
    ],
)

_AMM_TRADE_COMMON_TAIL: Fields = (
    ("pool", PK),
    ("user", PK),
    ("user_base_token_account", PK),
    ("user_quote_token_account", PK),
    ("protocol_fee_recipient", PK),
    ("protocol_fee_recipient_token_account", PK),
)
_AMM_COIN_CREATOR: Fields = (
    ("coin_creator", PK),
    ("coin_creator_fee_basis_points", U64),
    ("coin_creator_fee", U64),
)
_AMM_VOLUME: Fields = (
    ("track_volume", "bool"),
    ("total_unclaimed_tokens", U64),
    ("total_claimed_tokens", U64),
    ("current_sol_volume", U64),
    ("last_update_timestamp", "i64"),
)
_AMM_CASHBACK: Fields = (("cashback_fee_basis_points", U64), ("cashback", U64))
_AMM_BUYBACK: Fields = (("buyback_fee_basis_points", U64), ("buyback_fee", U64))

PUMPSWAP_BUY_EVENT = _appending(
    "pumpswap",
    "BuyEvent",
    [
        (
            "b0",
            "df5013e",
            "2025-04-04",
            (
                ("timestamp", "i64"),
                ("base_amount_out", U64),
                ("max_quote_amount_in", U64),
                ("user_base_token_reserves", U64),
                ("user_quote_token_reserves", U64),
                ("pool_base_token_reserves", U64),
                ("pool_quote_token_reserves", U64),
                ("quote_amount_in", U64),
                ("lp_fee_basis_points", U64),
                ("lp_fee", U64),
                ("protocol_fee_basis_points", U64),
                ("protocol_fee", U64),
                ("quote_amount_in_with_lp_fee", U64),
                ("user_quote_amount_in", U64),
            )
            + _AMM_TRADE_COMMON_TAIL,
        ),
        ("b1", "e2b66e4", "2025-05-08", _AMM_COIN_CREATOR),
        ("b2", "0c64400", "2025-08-28", _AMM_VOLUME),
        ("b3", "3359025", "2025-10-17", (("min_base_amount_out", U64), ("ix_name", "string"))),
        ("b4", "82dacac", "2026-02-17", _AMM_CASHBACK),
        ("b5", "3c6721a", "2026-05-19", _AMM_BUYBACK),
    ],
)

PUMPSWAP_SELL_EVENT = _appending(
    "pumpswap",
    "SellEvent",
    [
        (
            "s0",
            "df5013e",
            "2025-04-04",
            (
                ("timestamp", "i64"),
                ("base_amount_in", U64),
                ("min_quote_amount_out", U64),
                ("user_base_token_reserves", U64),
                ("user_quote_token_reserves", U64),
                ("pool_base_token_reserves", U64),
                ("pool_quote_token_reserves", U64),
                ("quote_amount_out", U64),
                ("lp_fee_basis_points", U64),
                ("lp_fee", U64),
                ("protocol_fee_basis_points", U64),
                ("protocol_fee", U64),
                ("quote_amount_out_without_lp_fee", U64),
                ("user_quote_amount_out", U64),
            )
            + _AMM_TRADE_COMMON_TAIL,
        ),
        ("s1", "e2b66e4", "2025-05-08", _AMM_COIN_CREATOR),
        ("s2", "82dacac", "2026-02-17", _AMM_CASHBACK),
        ("s3", "3c6721a", "2026-05-19", _AMM_BUYBACK),
    ],
)

PUMPSWAP_CREATE_POOL_EVENT = _appending(
    "pumpswap",
    "CreatePoolEvent",
    [
        (
            "p0",
            "df5013e",
            "2025-04-04",
            (
                ("timestamp", "i64"),
                ("index", "u16"),
                ("creator", PK),
                ("base_mint", PK),
                ("quote_mint", PK),
                ("base_mint_decimals", "u8"),
                ("quote_mint_decimals", "u8"),
                ("base_amount_in", U64),
                ("quote_amount_in", U64),
                ("pool_base_amount", U64),
                ("pool_quote_amount", U64),
                ("minimum_liquidity", U64),
                ("initial_liquidity", U64),
                ("lp_token_amount_out", U64),
                ("pool_bump", "u8"),
                ("pool", PK),
                ("lp_mint", PK),
                ("user_base_token_account", PK),
                ("user_quote_token_account", PK),
            ),
        ),
        ("p1", "e2b66e4", "2025-05-08", (("coin_creator", PK),)),
        ("p2", "864c072", "2025-11-07", (("is_mayhem_mode", "bool"),)),
    ],
)

_LL_DIRECTION = ("enum", ("Buy", "Sell"))
_LL_STATUS = ("enum", ("Fund", "Migrate", "Trade"))
_LL_HEAD: Fields = (
    ("pool_state", PK),
    ("total_base_sell", U64),
    ("virtual_base", U64),
    ("virtual_quote", U64),
    ("real_base_before", U64),
    ("real_quote_before", U64),
    ("real_base_after", U64),
    ("real_quote_after", U64),
    ("amount_in", U64),
    ("amount_out", U64),
    ("protocol_fee", U64),
    ("platform_fee", U64),
)

LAUNCHLAB_TRADE_EVENT = EventSpec(
    "raydium_launchlab",
    "TradeEvent",
    (
        Generation(
            "v1",
            None,
            None,
            _LL_HEAD + (("share_fee", U64), ("trade_direction", _LL_DIRECTION), ("pool_status", _LL_STATUS)),
            note="public LaunchLab IDL (chainstacklabs/pump-fun-bot idl/raydium_launchlab_idl.json); 130 bytes",
        ),
        Generation(
            "v2",
            None,
            None,
            _LL_HEAD
            + (
                ("creator_fee", U64),
                ("share_fee", U64),
                ("trade_direction", _LL_DIRECTION),
                ("pool_status", _LL_STATUS),
                ("exact_in", "bool"),
            ),
            note="inferred from source-asserted values (PROVENANCE §5), no official IDL; 139 bytes",
        ),
    ),
)

EVENT_SPECS: tuple[EventSpec, ...] = (
    PUMP_CREATE_EVENT,
    PUMP_TRADE_EVENT,
    PUMP_COMPLETE_EVENT,
    PUMP_MIGRATION_EVENT,
    PUMPSWAP_BUY_EVENT,
    PUMPSWAP_SELL_EVENT,
    PUMPSWAP_CREATE_POOL_EVENT,
    LAUNCHLAB_TRADE_EVENT,
)

#: Events the programs emit that have no canonical counterpart: recognised and skipped.
IGNORED_EVENT_NAMES: dict[str, tuple[str, ...]] = {
    "pumpfun": (
        "AdminSetCreatorEvent",
        "AdminSetIdlAuthorityEvent",
        "AdminUpdateTokenIncentivesEvent",
        "ClaimCashbackEvent",
        "ClaimTokenIncentivesEvent",
        "CloseUserVolumeAccumulatorEvent",
        "CollectCreatorFeeEvent",
        "DistributeCreatorFeesEvent",
        "ExtendAccountEvent",
        "InitUserVolumeAccumulatorEvent",
        "MigrateBondingCurveCreatorEvent",
        "MinimumDistributableFeeEvent",
        "ReservedFeeRecipientsEvent",
        "SetCreatorEvent",
        "SetMetaplexCreatorEvent",
        "SetParamsEvent",
        "SyncUserVolumeAccumulatorEvent",
        "UpdateGlobalAuthorityEvent",
        "UpdateMayhemVirtualParamsEvent",
    ),
    "pumpswap": (
        "AdminSetCoinCreatorEvent",
        "AdminUpdateTokenIncentivesEvent",
        "ClaimCashbackEvent",
        "ClaimTokenIncentivesEvent",
        "CloseUserVolumeAccumulatorEvent",
        "CollectCoinCreatorFeeEvent",
        "CreateConfigEvent",
        "DepositEvent",
        "DisableEvent",
        "ExtendAccountEvent",
        "InitUserVolumeAccumulatorEvent",
        "MigratePoolCoinCreatorEvent",
        "ReservedFeeRecipientsEvent",
        "SetBondingCurveCoinCreatorEvent",
        "SetMetaplexCoinCreatorEvent",
        "SyncUserVolumeAccumulatorEvent",
        "UpdateAdminEvent",
        "UpdateFeeConfigEvent",
        "WithdrawEvent",
    ),
    # LaunchLab PoolCreateEvent carries enum-typed curve parameters; no fixture holds one, so
    # it is recognised but not decoded (see docs/canonical-events.md).
    "raydium_launchlab": ("PoolCreateEvent", "ClaimVestedEvent", "CreateVestingEvent"),
}

_SPECS_BY_KEY: dict[tuple[str, bytes], EventSpec] = {(s.program, s.discriminator): s for s in EVENT_SPECS}
_IGNORED_BY_KEY: dict[tuple[str, bytes], str] = {
    (program, event_discriminator(name)): name for program, names in IGNORED_EVENT_NAMES.items() for name in names
}


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """One Anchor event payload decoded at the layout level (every field, raw units)."""

    program: str  # 'pumpfun' | 'pumpswap' | 'raydium_launchlab'
    program_id: str
    name: str  # IDL event name, e.g. 'TradeEvent'
    layout: str | None  # generation label ('v0'..'v7', 'c0'..); None for ignored events
    fields: dict[str, Any] = field(default_factory=dict)
    size: int = 0  # payload bytes after the 8-byte discriminator
    trailing: int = 0  # bytes beyond the layout that was read
    ignored: bool = False  # a known event without a canonical counterpart


def decode_event(program_id: str, data: bytes) -> DecodedEvent:
    """Decode ``data`` (8-byte discriminator + Borsh payload) emitted by ``program_id``.

    Raises DecodeError: ``wrong_program``, ``unknown_discriminator``, ``short_payload`` or
    ``bad_payload``.
    """
    program = PROGRAM_NAMES.get(program_id)
    if program is None:
        raise DecodeError(
            "wrong_program",
            f"program {program_id} is not pump.fun, PumpSwap or Raydium LaunchLab",
        )
    if len(data) < 8:
        raise ShortInput(
            f"event data is {len(data)} bytes, shorter than the 8-byte discriminator",
            needed=8,
            available=len(data),
        )
    disc = bytes(data[:8])
    payload = bytes(data[8:])
    spec = _SPECS_BY_KEY.get((program, disc))
    if spec is None:
        ignored = _IGNORED_BY_KEY.get((program, disc))
        if ignored is not None:
            return DecodedEvent(program, program_id, ignored, None, {}, len(payload), 0, True)
        raise DecodeError(
            "unknown_discriminator",
            f"{program} event discriminator {disc.hex()} is not a known event of {program_id}",
        )
    first_error: DecodeError | None = None
    for gen in reversed(spec.generations):
        if len(payload) < gen.min_size:
            continue
        reader = Reader(payload, f"{spec.name} payload")
        try:
            values = {name: _read(reader, name, ftype) for name, ftype in gen.fields}
        except DecodeError as exc:
            first_error = exc  # keep the error of the oldest generation tried
            continue
        return DecodedEvent(program, program_id, spec.name, gen.label, values, len(payload), reader.remaining)
    oldest = spec.generations[0]
    if len(payload) < oldest.min_size:
        raise ShortInput(
            f"{spec.name} payload is {len(payload)} bytes, shorter than the oldest known layout "
            f"({oldest.min_size} bytes)",
            needed=oldest.min_size,
            available=len(payload),
        )
    assert first_error is not None
    raise first_error


def split_anchor_cpi(data: bytes) -> bytes | None:
    """The event bytes of an Anchor self-CPI instruction, or None if ``data`` is not one."""
    if len(data) >= 16 and data[:8] == ANCHOR_EVENT_IX_TAG:
        return data[8:]
    return None


# ---------------------------------------------------------------------------------------------
# instructions whose accounts name the mints of a PumpSwap pool / LaunchLab pool state


@dataclass(frozen=True, slots=True)
class AccountPositions:
    pool: int
    base_mint: int
    quote_mint: int
    user: int


PUMPSWAP_POOL_IXS: dict[bytes, tuple[str, AccountPositions]] = {
    instruction_discriminator(n): (n, AccountPositions(pool=0, base_mint=3, quote_mint=4, user=u))
    for n, u in (("buy", 1), ("sell", 1), ("buy_exact_quote_in", 1), ("create_pool", 2))
}
LAUNCHLAB_POOL_IXS: dict[bytes, tuple[str, AccountPositions]] = {
    instruction_discriminator(n): (n, AccountPositions(pool=4, base_mint=9, quote_mint=10, user=0))
    for n in ("buy_exact_in", "buy_exact_out", "sell_exact_in", "sell_exact_out")
}

# ---------------------------------------------------------------------------------------------
# program-derived addresses (pure Python ed25519 on-curve test)

_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P


def is_on_ed25519_curve(point: bytes) -> bool:
    """True if the 32 bytes decompress to a point on edwards25519 (as curve25519-dalek does)."""
    y = int.from_bytes(point, "little") & ((1 << 255) - 1)
    y2 = y * y % _P
    u = (y2 - 1) % _P
    v = (_D * y2 + 1) % _P
    x2 = u * pow(v, _P - 2, _P) % _P
    return x2 == 0 or pow(x2, (_P - 1) // 2, _P) == 1


def find_program_address(seeds: list[bytes], program_id: str) -> tuple[str, int]:
    """Solana ``Pubkey::find_program_address``: the first off-curve hash, bump 255 downwards."""
    program = base58.b58decode(program_id)
    for bump in range(255, -1, -1):
        h = hashlib.sha256(b"".join(seeds) + bytes([bump]) + program + b"ProgramDerivedAddress").digest()
        if not is_on_ed25519_curve(h):
            return base58.b58encode(h).decode("ascii"), bump
    raise ValueError("no viable bump seed")


@lru_cache(maxsize=65536)
def bonding_curve_address(mint: str) -> str:
    """pump.fun bonding curve PDA: seeds ``[b"bonding-curve", mint]`` (IDL ``buy``/``buy_v2``)."""
    return find_program_address([b"bonding-curve", base58.b58decode(mint)], PUMPFUN_PROGRAM_ID)[0]


@lru_cache(maxsize=65536)
def pool_authority_address(mint: str) -> str:
    """pump.fun ``pool-authority`` PDA (IDL ``migrate``): the creator of a coin's PumpSwap pool at graduation."""
    return find_program_address([b"pool-authority", base58.b58decode(mint)], PUMPFUN_PROGRAM_ID)[0]
