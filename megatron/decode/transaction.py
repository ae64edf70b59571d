"""Solana JSON-RPC transaction -> canonical events.

Accepts a getTransaction result in ``json`` or ``jsonParsed`` encoding (legacy, v0 and v1
messages), wrapped or bare: the JSON-RPC envelope ``{"jsonrpc", "result"}``, a Helius
``transactionNotification`` (or its ``params.result``), and the ``{request, response}``
capture wrapper.

Events are read from ``Program data:`` log lines, each attributed to the program executing at
that point (the invoke/success stack in ``logMessages``): the *emitting* program decides which
layout applies, which is how a LaunchLab TradeEvent is told apart from pump.fun's (same
discriminator). When logs are absent, truncated or hold fewer events, the Anchor self-CPI inner
instructions (``e445a52e51cb9a1d`` + discriminator + payload, attributed to the inner
instruction's program) are used instead.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict, cast

import base58

from megatron.decode.borsh import DecodeError
from megatron.decode.layouts import (
    LAUNCHLAB_POOL_IXS,
    PROGRAM_NAMES,
    PUMPSWAP_POOL_IXS,
    ZERO_PUBKEY,
    AccountPositions,
    DecodedEvent,
    bonding_curve_address,
    decode_event,
    pool_authority_address,
    split_anchor_cpi,
)
from megatron.events import (
    LAUNCHLAB_PROGRAM_ID,
    PUMPSWAP_PROGRAM_ID,
    WSOL_MINT,
    CurveComplete,
    Event,
    Migration,
    Side,
    TokenCreate,
    Trade,
)

LOG_DATA_PREFIX = "Program data: "


class FailedTransaction(DecodeError):
    """The transaction failed on chain (``meta.err`` is set): it is skipped, not rejected."""

    def __init__(self, message: str, err: object = None) -> None:
        super().__init__("failed_transaction", message)
        self.err = err


# ---------------------------------------------------------------------------------------------
# unwrapping


@dataclass(frozen=True, slots=True)
class TxEnvelope:
    result: Mapping[str, Any]  # {"transaction": {...}, "meta": {...}, "slot", "blockTime"?, "version"?}
    signature: str | None  # from the wrapper (Helius / request params), if any
    slot: int | None


def _as_mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DecodeError("bad_transaction", f"{what} is {type(value).__name__}, not an object")
    return cast(Mapping[str, Any], value)


def unwrap_transaction(obj: object) -> TxEnvelope:
    """Find the getTransaction result inside any supported wrapper."""
    o = _as_mapping(obj, "transaction document")
    signature: str | None = None
    slot: int | None = None
    if "request" in o and "response" in o:  # capture wrapper {request, response}
        params = o["request"].get("params") if isinstance(o["request"], Mapping) else None
        if isinstance(params, list) and params and isinstance(params[0], str):
            signature = params[0]
        o = _as_mapping(o["response"], "response")
    if o.get("method") == "transactionNotification":
        params = _as_mapping(o.get("params"), "params")
        o = _as_mapping(params.get("result"), "params.result")
    if "jsonrpc" in o or ("result" in o and "transaction" not in o):
        if o.get("error") is not None:
            err = o["error"]
            msg = err.get("message") if isinstance(err, Mapping) else err
            raise DecodeError("rpc_error", f"the RPC answered with an error: {str(msg)[:200]}")
        if o.get("result") is None:
            raise DecodeError("no_transaction", "the RPC result is null (transaction not found)")
        o = _as_mapping(o["result"], "result")
    inner = o.get("transaction")
    # Helius transactionNotification result: {"transaction": {"transaction", "meta", "version"}, "signature", "slot"}
    if isinstance(inner, Mapping) and "meta" in inner and "transaction" in inner and "meta" not in o:
        if isinstance(o.get("signature"), str):
            signature = o["signature"]
        if isinstance(o.get("slot"), int):
            slot = o["slot"]
        o = inner
    if isinstance(o.get("transaction"), (str, list)) and "meta" in o:
        raise DecodeError(
            "unsupported_encoding",
            "the transaction is base58/base64-encoded; request json or jsonParsed",
        )
    if not isinstance(o.get("transaction"), Mapping) or "meta" not in o:
        raise DecodeError("bad_transaction", "no transaction/meta pair found in the document")
    return TxEnvelope(o, signature, slot)


# ---------------------------------------------------------------------------------------------
# instructions


@dataclass(frozen=True, slots=True)
class Instruction:
    program_id: str
    accounts: tuple[str, ...]  # empty for jsonParsed "parsed" instructions
    data: bytes | None  # None for jsonParsed "parsed" instructions
    outer_index: int  # index of the top-level instruction
    inner_index: int | None  # position within innerInstructions[outer_index], None if top level
    stack_height: int | None


def _account_keys(result: Mapping[str, Any]) -> list[str]:
    tx = result.get("transaction")
    if not isinstance(tx, Mapping):
        raise DecodeError(
            "unsupported_encoding",
            "the transaction is not JSON (base58/base64 encodings are not supported; request json or jsonParsed)",
        )
    message = _as_mapping(tx.get("message"), "transaction.message")
    raw_keys = message.get("accountKeys")
    if not isinstance(raw_keys, list):
        raise DecodeError("bad_transaction", "transaction.message.accountKeys is missing")
    keys: list[str] = []
    parsed_style = False
    for k in raw_keys:
        if isinstance(k, str):
            keys.append(k)
        elif isinstance(k, Mapping) and isinstance(k.get("pubkey"), str):
            keys.append(k["pubkey"])
            parsed_style = True
        else:
            raise DecodeError("bad_transaction", f"account key {str(k)[:60]} is neither a string nor {{pubkey}}")
    meta = result.get("meta")
    loaded = meta.get("loadedAddresses") if isinstance(meta, Mapping) else None
    # jsonParsed already lists lookup-table accounts in accountKeys (source "lookupTable");
    # json lists only the static keys and puts the rest in meta.loadedAddresses.
    if not parsed_style and isinstance(loaded, Mapping):
        for part in ("writable", "readonly"):
            extra = loaded.get(part) or []
            if not isinstance(extra, list) or not all(isinstance(a, str) for a in extra):
                raise DecodeError("bad_transaction", f"meta.loadedAddresses.{part} is not a list of strings")
            keys.extend(extra)
    return keys


#: base58 decoding is quadratic; CPI data is at most 10 KiB (about 13 700 base58 characters)
MAX_B58_DATA_CHARS = 20_000


def _b58_data(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise DecodeError("bad_transaction", f"{where}.data is not a string")
    if len(value) > MAX_B58_DATA_CHARS:
        raise DecodeError(
            "bad_transaction", f"{where}.data is {len(value)} base58 characters, more than any instruction"
        )
    try:
        return base58.b58decode(value)
    except ValueError:
        raise DecodeError("bad_transaction", f"{where}.data is not base58") from None


def _instruction(ix: object, keys: Sequence[str], outer: int, inner: int | None) -> Instruction:
    where = f"instruction {outer}" if inner is None else f"inner instruction {outer}.{inner}"
    d = _as_mapping(ix, where)
    stack = d.get("stackHeight")
    stack_height = stack if isinstance(stack, int) and not isinstance(stack, bool) else None

    def key(i: object) -> str:
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(keys):
            raise DecodeError("bad_transaction", f"{where} refers to account index {i!r:.20} of {len(keys)}")
        return keys[i]

    if isinstance(d.get("programId"), str):
        program_id = d["programId"]
    elif "programIdIndex" in d:
        program_id = key(d["programIdIndex"])
    else:
        raise DecodeError("bad_transaction", f"{where} has neither programId nor programIdIndex")
    if "parsed" in d:  # jsonParsed system/token/... instruction: no raw bytes
        return Instruction(program_id, (), None, outer, inner, stack_height)
    raw_accounts = d.get("accounts", [])
    if not isinstance(raw_accounts, list):
        raise DecodeError("bad_transaction", f"{where}.accounts is not a list")
    accounts = tuple(a if isinstance(a, str) else key(a) for a in raw_accounts)
    return Instruction(program_id, accounts, _b58_data(d.get("data"), where), outer, inner, stack_height)


def iter_instructions(obj: object) -> Iterator[Instruction]:
    """Every instruction of the transaction in execution order (each top-level one, then its inner ones)."""
    result = unwrap_transaction(obj).result
    keys = _account_keys(result)
    message = result["transaction"]["message"]
    outer_ixs = message.get("instructions") or []
    if not isinstance(outer_ixs, list):
        raise DecodeError("bad_transaction", "transaction.message.instructions is not a list")
    inner_by_outer: dict[int, list[Any]] = {}
    meta = result.get("meta")
    inner_groups = meta.get("innerInstructions") if isinstance(meta, Mapping) else None
    if inner_groups is not None and not isinstance(inner_groups, list):
        raise DecodeError("bad_transaction", "meta.innerInstructions is not a list")
    for group in inner_groups or []:
        g = _as_mapping(group, "innerInstructions entry")
        idx = g.get("index")
        ixs = g.get("instructions")
        if not isinstance(idx, int) or isinstance(idx, bool) or not isinstance(ixs, list):
            raise DecodeError("bad_transaction", "an innerInstructions entry lacks index/instructions")
        inner_by_outer.setdefault(idx, []).extend(ixs)
    for outer, ix in enumerate(outer_ixs):
        yield _instruction(ix, keys, outer, None)
        for n, inner in enumerate(inner_by_outer.get(outer, [])):
            yield _instruction(inner, keys, outer, n)


# ---------------------------------------------------------------------------------------------
# raw events: from logs or from self-CPI instructions


Frame = tuple[int, int | None]  # (outer instruction index, inner index or None)


@dataclass(frozen=True, slots=True)
class RawEvent:
    program_id: str
    data: bytes  # discriminator + payload
    source: str  # 'log' | 'cpi'
    frame: Frame | None = None  # the instruction that emitted it, when known


def _invoke_depth(token: str) -> int | None:
    if token.startswith("[") and token.endswith("]") and token[1:-1].isdigit():
        return int(token[1:-1])
    return None


def events_from_logs(logs: Sequence[object]) -> tuple[list[RawEvent], bool]:
    """``Program data:`` lines of known programs, attributed via the invoke stack.

    Returns the events and whether the log was truncated. Each event carries the frame
    (instruction coordinates) that emitted it: the n-th ``invoke [1]`` is top-level
    instruction n, deeper invokes count the inner instructions of that top-level one.
    """
    stack: list[tuple[str, Frame]] = []
    out: list[RawEvent] = []
    truncated = False
    outer = -1
    inner = 0
    frame: Frame
    for n, line in enumerate(logs):
        if not isinstance(line, str):
            raise DecodeError("bad_transaction", f"logMessages[{n}] is not a string")
        if line.startswith(LOG_DATA_PREFIX):
            if not stack or stack[-1][0] not in PROGRAM_NAMES:
                continue  # emitted by a program we do not decode
            program_id, frame = stack[-1]
            text = line[len(LOG_DATA_PREFIX) :].strip()
            for chunk in text.split():  # sol_log_data logs several base64 fields separated by spaces
                try:
                    data = base64.b64decode(chunk, validate=True)
                except (binascii.Error, ValueError):
                    raise DecodeError("bad_base64", f"logMessages[{n}] carries invalid base64 {chunk[:40]!r}") from None
                out.append(RawEvent(program_id, data, "log", frame))
            continue
        if line.startswith("Log truncated"):
            truncated = True
            break
        if not line.startswith("Program ") or line.startswith(
            ("Program log:", "Program return:", "Program consumption:")
        ):
            continue
        parts = line.split(" ")
        if len(parts) >= 4 and parts[2] == "invoke":
            depth = _invoke_depth(parts[3])
            if depth == 1 or not stack:
                outer += 1
                inner = 0
                frame = (outer, None)
            else:
                frame = (outer, inner)
                inner += 1
            stack.append((parts[1], frame))
        elif len(parts) >= 3 and (parts[2] == "success" or parts[2].startswith("failed")):
            pid = parts[1]
            if any(p == pid for p, _ in stack):
                while stack and stack.pop()[0] != pid:
                    pass
    return out, truncated


def events_from_cpi(instructions: Sequence[Instruction]) -> list[RawEvent]:
    """Anchor self-CPI events, each with the frame of the instruction that made the CPI."""
    out: list[RawEvent] = []
    for k, ix in enumerate(instructions):
        if ix.inner_index is None or ix.data is None or ix.program_id not in PROGRAM_NAMES:
            continue
        data = split_anchor_cpi(ix.data)
        if data is None:
            continue
        parent: Frame | None = None
        for j in range(k - 1, -1, -1):
            cand = instructions[j]
            if cand.outer_index != ix.outer_index:
                break
            if cand.program_id != ix.program_id:
                continue
            height_ok = ix.stack_height is None or cand.stack_height is None or cand.stack_height == ix.stack_height - 1
            if cand.inner_index is None:
                height_ok = ix.stack_height in (None, 2)
            if height_ok:
                parent = (cand.outer_index, cand.inner_index)
                break
        out.append(RawEvent(ix.program_id, data, "cpi", parent))
    return out


# ---------------------------------------------------------------------------------------------
# canonical conversion


@dataclass(slots=True)
class EventContext:
    """What a decoded event needs beyond its own bytes."""

    signature: str
    slot: int
    block_time: int | None  # the block's time; None -> the event's own timestamp
    tx_fee: int | None = None
    instructions: Sequence[Instruction] = ()
    token_account_mints: Mapping[str, str] = field(default_factory=dict)
    fallback_time: int | None = None  # another event's timestamp in the same transaction
    emitter: Instruction | None = None  # the instruction that emitted the event being converted


def _sol(mint: str | None) -> str | None:
    """Canonical quote mint: None for SOL (all-zero pubkey or WSOL)."""
    if mint is None or mint in (ZERO_PUBKEY, WSOL_MINT):
        return None
    return mint


def _nonzero(address: object) -> str | None:
    return address if isinstance(address, str) and address != ZERO_PUBKEY else None


def _block_time(ev: DecodedEvent, ctx: EventContext) -> int:
    if ctx.block_time is not None:
        return ctx.block_time
    ts = ev.fields.get("timestamp")
    if isinstance(ts, int):
        return ts
    if ctx.fallback_time is not None:
        return ctx.fallback_time
    raise DecodeError(
        "no_block_time",
        f"{ev.program} {ev.name} has no timestamp and no blockTime is known, so it cannot be placed in time",
    )


class _Where(TypedDict):
    """The fields every event takes from its transaction and place in it."""

    signature: str
    slot: int
    block_time: int
    event_index: int


def _where(ev: DecodedEvent, ctx: EventContext, event_index: int) -> _Where:
    return _Where(signature=ctx.signature, slot=ctx.slot, block_time=_block_time(ev, ctx), event_index=event_index)


def _find_pool_accounts(
    ctx: EventContext, program_id: str, table: Mapping[bytes, tuple[str, AccountPositions]], pool: str
) -> tuple[str, str, str, str] | None:
    """(instruction name, base mint, quote mint, user) from the instruction that touched ``pool``.

    The instruction that emitted the event is preferred; otherwise the first instruction of
    ``program_id`` whose pool account is ``pool``.
    """
    candidates = list(ctx.instructions)
    if ctx.emitter is not None:
        candidates.insert(0, ctx.emitter)
    for ix in candidates:
        if ix.program_id != program_id or ix.data is None or len(ix.data) < 8:
            continue
        hit = table.get(ix.data[:8])
        if hit is None:
            continue
        name, pos = hit
        if len(ix.accounts) > max(pos.pool, pos.base_mint, pos.quote_mint, pos.user) and ix.accounts[pos.pool] == pool:
            return name, ix.accounts[pos.base_mint], ix.accounts[pos.quote_mint], ix.accounts[pos.user]
    return None


def _no_mint(ev: DecodedEvent, pool: str) -> DecodeError:
    return DecodeError(
        "no_mint",
        f"{ev.program} {ev.name} names pool {pool} but not its mint; it can only be decoded "
        "together with its transaction (instruction accounts or token balances)",
    )


def to_canonical(ev: DecodedEvent, ctx: EventContext, event_index: int) -> Event | None:
    """The canonical event for one decoded payload.

    None for events without a canonical counterpart: ignored events, and PumpSwap pools not
    created by pump.fun's migration.
    """
    if ev.ignored:
        return None
    f = ev.fields
    key = (ev.program, ev.name)
    if key == ("pumpfun", "TradeEvent"):
        return _pump_trade(ev, ctx, event_index)
    if key == ("pumpfun", "CreateEvent"):
        quote = _sol(f.get("quote_mint"))
        return TokenCreate(
            **_where(ev, ctx, event_index),
            program="pumpfun",
            mint=f["mint"],
            name=f["name"],
            symbol=f["symbol"],
            uri=f["uri"],
            # 2024 events stop after `user`; then the creator *is* the user who created the coin
            creator=f.get("creator", f["user"]),
            bonding_curve=f["bonding_curve"],
            token_program=f.get("token_program"),
            quote_mint=quote,
            virtual_sol_reserves=f.get("virtual_quote_reserves") if quote else f.get("virtual_sol_reserves"),
            virtual_token_reserves=f.get("virtual_token_reserves"),
            real_token_reserves=f.get("real_token_reserves"),
            token_total_supply=f.get("token_total_supply"),
            user=f["user"],
            timestamp=f.get("timestamp"),
            is_mayhem_mode=f.get("is_mayhem_mode"),
            is_cashback_enabled=f.get("is_cashback_enabled"),
        )
    if key == ("pumpfun", "CompleteEvent"):
        return CurveComplete(
            **_where(ev, ctx, event_index),
            program="pumpfun",
            mint=f["mint"],
            bonding_curve=f["bonding_curve"],
            user=f["user"],
            timestamp=f["timestamp"],
            quote_mint=_sol(f.get("quote_mint")),
        )
    if key == ("pumpfun", "CompletePumpAmmMigrationEvent"):
        return Migration(
            **_where(ev, ctx, event_index),
            program="pumpfun",
            mint=f["mint"],
            pool=f["pool"],
            platform="pumpswap",
            bonding_curve=f["bonding_curve"],
            user=f["user"],
            sol_amount=f["sol_amount"],
            token_amount=f["mint_amount"],
            pool_migration_fee=f["pool_migration_fee"],
            quote_mint=_sol(f.get("quote_mint")),
            timestamp=f["timestamp"],
        )
    if key == ("pumpswap", "CreatePoolEvent"):
        return _pumpswap_create_pool(ev, ctx, event_index)
    if key in (("pumpswap", "BuyEvent"), ("pumpswap", "SellEvent")):
        return _pumpswap_trade(ev, ctx, event_index)
    if key == ("raydium_launchlab", "TradeEvent"):
        return _launchlab_trade(ev, ctx, event_index)
    raise DecodeError("unknown_discriminator", f"{ev.program} {ev.name} has no canonical mapping")


def _pump_trade(ev: DecodedEvent, ctx: EventContext, event_index: int) -> Trade:
    f = ev.fields
    quote = _sol(f.get("quote_mint"))
    # With a non-SOL quote (2026 layout), the quote_* fields carry the amounts in quote units.
    sol_amount = f["quote_amount"] if quote else f["sol_amount"]
    return Trade(
        **_where(ev, ctx, event_index),
        program="pumpfun",
        mint=f["mint"],
        pool=bonding_curve_address(f["mint"]),
        side="buy" if f["is_buy"] else "sell",
        user=f["user"],
        sol_amount=sol_amount,
        token_amount=f["token_amount"],
        timestamp=f["timestamp"],
        virtual_sol_reserves=f["virtual_quote_reserves"] if quote else f["virtual_sol_reserves"],
        virtual_token_reserves=f["virtual_token_reserves"],
        real_sol_reserves=f["real_quote_reserves"] if quote else f.get("real_sol_reserves"),
        real_token_reserves=f.get("real_token_reserves"),
        fee=f.get("fee"),
        fee_basis_points=f.get("fee_basis_points"),
        creator_fee=f.get("creator_fee"),
        creator_fee_basis_points=f.get("creator_fee_basis_points"),
        quote_mint=quote,
        ix_name=f.get("ix_name"),
        tx_fee=ctx.tx_fee,
        creator=_nonzero(f.get("creator")),
        mayhem_mode=f.get("mayhem_mode"),
    )


def _pumpswap_mints(ev: DecodedEvent, ctx: EventContext) -> tuple[str | None, str, str]:
    """(instruction name, base mint, quote mint) of a PumpSwap Buy/SellEvent's pool."""
    f = ev.fields
    hit = _find_pool_accounts(ctx, PUMPSWAP_PROGRAM_ID, PUMPSWAP_POOL_IXS, f["pool"])
    if hit is not None:
        return hit[0], hit[1], hit[2]
    base = ctx.token_account_mints.get(f["user_base_token_account"])
    quote = ctx.token_account_mints.get(f["user_quote_token_account"])
    if base is not None and quote is not None:
        return None, base, quote
    raise _no_mint(ev, f["pool"])


def _pumpswap_trade(ev: DecodedEvent, ctx: EventContext, event_index: int) -> Trade:
    f = ev.fields
    ix_name, base_mint, quote_mint = _pumpswap_mints(ev, ctx)
    is_buy_event = ev.name == "BuyEvent"  # the user buys the pool's *base* token
    if is_buy_event:
        base_amount = f["base_amount_out"]
        quote_amount = f["quote_amount_in"]
        base_after = f["pool_base_token_reserves"] - base_amount
        quote_after = f["pool_quote_token_reserves"] + f["quote_amount_in_with_lp_fee"]
    else:
        base_amount = f["base_amount_in"]
        quote_amount = f["quote_amount_out"]
        base_after = f["pool_base_token_reserves"] + base_amount
        quote_after = f["pool_quote_token_reserves"] - f["quote_amount_out_without_lp_fee"]
    reversed_pool = base_mint == WSOL_MINT and quote_mint != WSOL_MINT
    side: Side
    if reversed_pool:
        # WSOL is the pool's base: buying the base means selling the token. Fees are charged in
        # the quote (the token), so they do not fit the lamport fee fields and are left out.
        mint, quote = quote_mint, None
        side = "sell" if is_buy_event else "buy"
        sol_amount, token_amount = base_amount, quote_amount
        sol_after, token_after = base_after, quote_after
        fee = fee_bps = lp_fee = lp_bps = creator_fee = creator_bps = None
    else:
        mint, quote = base_mint, _sol(quote_mint)
        side = "buy" if is_buy_event else "sell"
        sol_amount, token_amount = quote_amount, base_amount
        sol_after, token_after = quote_after, base_after
        fee, fee_bps = f["protocol_fee"], f["protocol_fee_basis_points"]
        lp_fee, lp_bps = f["lp_fee"], f["lp_fee_basis_points"]
        creator_fee = f.get("coin_creator_fee")
        creator_bps = f.get("coin_creator_fee_basis_points")
    return Trade(
        **_where(ev, ctx, event_index),
        program="pumpswap",
        mint=mint,
        pool=f["pool"],
        side=side,
        user=f["user"],
        sol_amount=sol_amount,
        token_amount=token_amount,
        timestamp=f["timestamp"],
        # an AMM has no virtual liquidity: virtual = real = the pool's balances after the swap
        virtual_sol_reserves=sol_after,
        virtual_token_reserves=token_after,
        real_sol_reserves=sol_after,
        real_token_reserves=token_after,
        fee=fee,
        fee_basis_points=fee_bps,
        creator_fee=creator_fee,
        creator_fee_basis_points=creator_bps,
        quote_mint=quote,
        ix_name=f.get("ix_name") or ix_name,
        tx_fee=ctx.tx_fee,
        creator=_nonzero(f.get("coin_creator")),
        lp_fee=lp_fee,
        lp_fee_basis_points=lp_bps,
    )


def _pumpswap_create_pool(ev: DecodedEvent, ctx: EventContext, event_index: int) -> Migration | None:
    """A PumpSwap pool created by pump.fun's ``migrate`` (a graduation); None for any other pool.

    Anyone can create a PumpSwap pool; only pools whose creator is pump.fun's ``pool-authority``
    PDA of the coin come from a bonding curve's migration.
    """
    f = ev.fields
    base, quote, creator = f["base_mint"], f["quote_mint"], f["creator"]
    if creator == pool_authority_address(base):
        mint, quote_mint = base, _sol(quote)
        sol_amount, token_amount = f["quote_amount_in"], f["base_amount_in"]
    elif creator == pool_authority_address(quote):  # WSOL as base, the coin as quote
        mint, quote_mint = quote, _sol(base)
        sol_amount, token_amount = f["base_amount_in"], f["quote_amount_in"]
    else:
        return None
    return Migration(
        **_where(ev, ctx, event_index),
        program="pumpswap",
        mint=mint,
        pool=f["pool"],
        platform="pumpswap",
        bonding_curve=bonding_curve_address(mint),
        user=creator,
        sol_amount=sol_amount,
        token_amount=token_amount,
        quote_mint=quote_mint,
        lp_mint=f["lp_mint"],
        timestamp=f["timestamp"],
    )


def _launchlab_trade(ev: DecodedEvent, ctx: EventContext, event_index: int) -> Trade:
    f = ev.fields
    pool = f["pool_state"]
    hit = _find_pool_accounts(ctx, LAUNCHLAB_PROGRAM_ID, LAUNCHLAB_POOL_IXS, pool)
    if hit is None:
        raise _no_mint(ev, pool)
    ix_name, base_mint, quote_mint, payer = hit
    real_base_after, real_quote_after = f["real_base_after"], f["real_quote_after"]
    return Trade(
        **_where(ev, ctx, event_index),
        program="raydium_launchlab",
        mint=base_mint,
        pool=pool,
        side="buy" if f["trade_direction"] == "Buy" else "sell",
        user=payer,
        # the curve-side amounts (fees excluded), like pump.fun's sol_amount/token_amount
        sol_amount=abs(real_quote_after - f["real_quote_before"]),
        token_amount=abs(real_base_after - f["real_base_before"]),
        timestamp=None,
        # constant-product curve on (virtual_base - real_base) x (virtual_quote + real_quote)
        virtual_sol_reserves=f["virtual_quote"] + real_quote_after,
        virtual_token_reserves=f["virtual_base"] - real_base_after,
        real_sol_reserves=real_quote_after,
        real_token_reserves=f["total_base_sell"] - real_base_after,
        fee=f["protocol_fee"],
        creator_fee=f.get("creator_fee"),
        quote_mint=_sol(quote_mint),
        ix_name=ix_name,
        tx_fee=ctx.tx_fee,
        platform_fee=f["platform_fee"],
        curve_sell_supply=f["total_base_sell"],
    )


# ---------------------------------------------------------------------------------------------
# transaction decoding


@dataclass(frozen=True, slots=True)
class TransactionDecode:
    """The outcome of decoding one transaction.

    ``failed`` is True (and ``events`` empty) when ``meta.err`` is set: such transactions are
    skipped, not rejected. ``source`` tells whether events came from logs or self-CPI data.
    """

    signature: str
    slot: int
    events: list[Event]
    failed: bool = False
    err: object = None
    source: str = "log"  # 'log' | 'cpi' | 'none'
    ignored: tuple[str, ...] = ()  # names of recognised events without a canonical counterpart
    notes: tuple[str, ...] = ()


def _int_field(o: Mapping[str, Any], name: str, where: str, *, optional: bool = False) -> int | None:
    value = o.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DecodeError("bad_transaction", f"{where}.{name} is {value!r:.30}, not an integer")
    return value


def decode_transaction_result(obj: object) -> TransactionDecode:
    """Decode one transaction (any supported wrapper) into canonical events, with details."""
    env = unwrap_transaction(obj)
    result = env.result
    meta = _as_mapping(result.get("meta"), "meta")
    tx = result.get("transaction")
    signature = env.signature
    if isinstance(tx, Mapping):
        sigs = tx.get("signatures")
        if isinstance(sigs, list) and sigs and isinstance(sigs[0], str):
            signature = sigs[0]  # the transaction's own first signature is authoritative
    if signature is None:
        raise DecodeError("no_signature", "the transaction carries no signature")
    slot = _int_field(result, "slot", "result", optional=True)
    if slot is None:
        slot = env.slot
    if slot is None:
        raise DecodeError("bad_transaction", "the transaction has no slot")
    if meta.get("err") is not None:
        return TransactionDecode(signature, slot, [], failed=True, err=meta["err"], source="none")
    block_time = _int_field(result, "blockTime", "result", optional=True)
    tx_fee = _int_field(meta, "fee", "meta", optional=True)
    instructions = list(iter_instructions(result))

    logs = meta.get("logMessages")
    notes: list[str] = []
    log_events: list[RawEvent] = []
    truncated = True  # absent logs count as truncated
    if isinstance(logs, list):
        log_events, truncated = events_from_logs(logs)
    elif logs is not None:
        raise DecodeError("bad_transaction", "meta.logMessages is not a list")
    cpi_events = events_from_cpi(instructions)
    # Logs are the primary source. Self-CPI data replaces them when the logs are absent or
    # truncated, or hold fewer events (e.g. a provider that strips logs to []).
    if truncated and len(cpi_events) >= len(log_events):
        raw, source = cpi_events, "cpi"
        notes.append("logs absent or truncated: events read from self-CPI inner instructions")
    elif len(cpi_events) > len(log_events):
        raw, source = cpi_events, "cpi"
        notes.append("self-CPI data holds more events than the logs: events read from it")
    else:
        raw, source = log_events, "log"
        if truncated:
            notes.append("logs truncated and self-CPI data incomplete: events after the truncation are lost")

    by_frame = {(i.outer_index, i.inner_index): i for i in instructions}
    decoded: list[tuple[DecodedEvent, Instruction | None]] = []
    ignored: list[str] = []
    for r in raw:
        try:
            d = decode_event(r.program_id, r.data)
        except DecodeError as exc:
            if exc.reason_code == "unknown_discriminator":
                ignored.append(f"unknown:{r.data[:8].hex()}")
                continue
            raise
        if d.ignored:
            ignored.append(d.name)
            continue
        emitter = by_frame.get(r.frame) if r.frame is not None else None
        if emitter is not None and emitter.program_id != r.program_id:
            emitter = None  # the log/instruction alignment is off; search by pool instead
        decoded.append((d, emitter))

    token_mints: dict[str, str] = {}
    keys = _account_keys(result)
    for part in ("preTokenBalances", "postTokenBalances"):
        balances = meta.get(part)
        for bal in balances if isinstance(balances, list) else []:
            if isinstance(bal, Mapping) and isinstance(bal.get("mint"), str):
                idx = bal.get("accountIndex")
                if isinstance(idx, int) and 0 <= idx < len(keys):
                    token_mints[keys[idx]] = bal["mint"]
    fallback_time = next(
        (d.fields["timestamp"] for d, _ in decoded if isinstance(d.fields.get("timestamp"), int)), None
    )
    ctx = EventContext(
        signature=signature,
        slot=slot,
        block_time=block_time,
        tx_fee=tx_fee,
        instructions=instructions,
        token_account_mints=token_mints,
        fallback_time=fallback_time,
    )
    events: list[Event] = []
    for d, emitter in decoded:
        ctx.emitter = emitter
        ev = to_canonical(d, ctx, 0)
        if ev is None:
            ignored.append(d.name)
        else:
            events.append(ev)
    events = _merge_migrations(events)
    events = [replace(ev, event_index=i) for i, ev in enumerate(events)]
    return TransactionDecode(signature, slot, events, source=source, ignored=tuple(ignored), notes=tuple(notes))


def _merge_migrations(events: list[Event]) -> list[Event]:
    """pump.fun's migrate CPIs into PumpSwap create_pool: keep one Migration per pool.

    The pump.fun CompletePumpAmmMigrationEvent is kept (it names the bonding curve and the
    migration fee) and takes the LP mint from PumpSwap's CreatePoolEvent for the same pool.
    """
    pump = {e.pool: e for e in events if isinstance(e, Migration) and e.program == "pumpfun"}
    if not pump:
        return events
    out: list[Event] = []
    lp_mints: dict[str, str | None] = {}
    for e in events:
        if isinstance(e, Migration) and e.program == "pumpswap" and e.pool in pump:
            lp_mints[e.pool] = e.lp_mint
            continue
        out.append(e)
    return [
        replace(e, lp_mint=e.lp_mint or lp_mints.get(e.pool))
        if isinstance(e, Migration) and e.program == "pumpfun" and e.pool in lp_mints
        else e
        for e in out
    ]


def decode_transaction(obj: object) -> list[Event]:
    """Canonical events of one transaction, in order of appearance.

    Failed transactions (``meta.err`` set) give ``[]``; use :func:`decode_transaction_result`
    (``.failed``) to tell them from transactions without events.
    """
    return decode_transaction_result(obj).events
