"""Canonical events: the one interface between producers and the loader.

Every producer (the RPC decoder, the RPC source, the simulator, anyone else) emits these;
only the loader writes raw tables. On disk they are JSON Lines, one object per line, with
``"v": 1`` and ``"kind"`` naming the class below (see docs/canonical-events.md).

Conventions:
- ``block_time`` is Unix seconds (UTC), as Solana's ``blockTime``.
- Amounts are integers in base units: lamports for SOL, raw token units (6 decimals on
  pump.fun) for tokens. Reserves are the curve's state *after* the event.
- Addresses are base58 strings. ``quote_mint`` ``None`` means SOL.
- ``(signature, event_index)`` identifies an event: one transaction can hold several.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

FORMAT_VERSION = 1

Program = Literal["pumpfun", "pumpswap", "raydium_launchlab"]
Side = Literal["buy", "sell"]

PUMPFUN_PROGRAM_ID = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"
PUMPSWAP_PROGRAM_ID = "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA"
LAUNCHLAB_PROGRAM_ID = "LanMV9sAd7wArD4vJFi2qDdfnVhFxYSUg6eADduJ3uj"
WSOL_MINT = "So11111111111111111111111111111111111111112"
SYSTEM_PROGRAM_ID = "11111111111111111111111111111111"

# pump.fun bonding-curve constants
TOKEN_DECIMALS = 6
TOTAL_SUPPLY_RAW = 1_000_000_000 * 10**TOKEN_DECIMALS
INITIAL_VIRTUAL_SOL_RESERVES = 30 * 10**9
INITIAL_VIRTUAL_TOKEN_RESERVES = 1_073_000_000 * 10**TOKEN_DECIMALS
INITIAL_REAL_TOKEN_RESERVES = 793_100_000 * 10**TOKEN_DECIMALS
LAMPORTS_PER_SOL = 10**9


@dataclass(frozen=True, slots=True)
class Event:
    kind: ClassVar[str]
    signature: str
    slot: int
    block_time: int
    event_index: int

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": FORMAT_VERSION, "kind": self.kind}
        out.update(dataclasses.asdict(self))
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class TokenCreate(Event):
    kind: ClassVar[str] = "token_create"
    program: Program
    mint: str
    name: str
    symbol: str
    uri: str
    creator: str
    bonding_curve: str
    decimals: int = TOKEN_DECIMALS
    token_program: str | None = None
    quote_mint: str | None = None
    virtual_sol_reserves: int | None = None
    virtual_token_reserves: int | None = None
    real_token_reserves: int | None = None
    token_total_supply: int | None = None
    # added for the decoder (optional; None when the source does not carry them)
    user: str | None = None  # the signer who created the coin (CreateEvent.user)
    timestamp: int | None = None  # the event's own clock, Unix seconds
    is_mayhem_mode: bool | None = None
    is_cashback_enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class Trade(Event):
    kind: ClassVar[str] = "trade"
    program: Program
    mint: str
    pool: str  # bonding curve (pump.fun / LaunchLab pool state) or AMM pool address
    side: Side
    user: str
    sol_amount: int  # lamports (quote amount when the quote is SOL)
    token_amount: int  # raw token units
    timestamp: int | None = None  # the event's own clock, Unix seconds
    virtual_sol_reserves: int | None = None
    virtual_token_reserves: int | None = None
    real_sol_reserves: int | None = None
    real_token_reserves: int | None = None
    fee: int | None = None  # protocol fee, lamports
    fee_basis_points: int | None = None
    creator_fee: int | None = None
    creator_fee_basis_points: int | None = None
    quote_mint: str | None = None
    ix_name: str | None = None
    tx_fee: int | None = None  # transaction fee paid, lamports (meta.fee)
    # added for the decoder (optional; None when the source does not carry them)
    creator: str | None = None  # the coin's creator as named by the event (fee recipient of creator_fee)
    mayhem_mode: bool | None = None  # pump.fun mayhem-mode coin
    lp_fee: int | None = None  # PumpSwap liquidity-provider fee, quote units
    lp_fee_basis_points: int | None = None
    platform_fee: int | None = None  # Raydium LaunchLab platform fee, quote units
    # where the source knows them (optional)
    tx_index: int | None = None  # position of the transaction in its block (Geyser, getBlock)
    curve_sell_supply: int | None = None  # tokens the curve sells in total (LaunchLab total_base_sell)


@dataclass(frozen=True, slots=True)
class CurveComplete(Event):
    kind: ClassVar[str] = "curve_complete"
    program: Program
    mint: str
    bonding_curve: str
    user: str
    timestamp: int | None = None
    quote_mint: str | None = None  # added for the decoder: the curve's quote (None = SOL)


@dataclass(frozen=True, slots=True)
class Migration(Event):
    """A graduated token's liquidity moves to an AMM pool (PumpSwap or Raydium)."""

    kind: ClassVar[str] = "migration"
    program: Program
    mint: str
    pool: str
    platform: str  # 'pumpswap', 'raydium', 'raydium_cpmm'
    bonding_curve: str | None = None
    user: str | None = None
    sol_amount: int | None = None
    token_amount: int | None = None
    pool_migration_fee: int | None = None
    quote_mint: str | None = None
    lp_mint: str | None = None
    base_vault: str | None = None
    quote_vault: str | None = None
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class SolUsdPrice:
    """A SOL/USD price observation (not tied to a transaction)."""

    kind: ClassVar[str] = "sol_usd_price"
    price_time: int  # Unix seconds
    price_usd: str  # decimal as text, exact
    source: str
    confidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": FORMAT_VERSION, "kind": self.kind}
        out.update(dataclasses.asdict(self))
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class SocialObservation:
    """What a social-data provider (TweetScout-shaped) said about a token's X account at one time.

    Not tied to a transaction: its identity is ``(mint, source, observed_at)``. The field names follow
    TweetScout's v2 API (``/info``, ``/score``, ``/followers-stats``); the ``*_24h`` counts come from a
    tweet search over the 24 hours before ``observed_at`` (docs/scoring-social.md).
    """

    kind: ClassVar[str] = "social_observation"
    mint: str
    observed_at: int  # Unix seconds: when the provider was asked
    source: str  # who observed it, e.g. 'tweetscout'
    handle: str  # the token's X account, without '@' (TweetScout's screen_name)
    followers_count: int
    twitter_id: str | None = None
    friends_count: int | None = None
    tweets_count: int | None = None
    account_created_at: int | None = None  # Unix seconds (TweetScout's register_date)
    verified: bool | None = None
    score: float | None = None  # TweetScout score of the account (a JSON number, >= 0)
    influencers_count: int | None = None  # followers TweetScout classes as influencers
    projects_count: int | None = None  # ... as projects
    venture_capitals_count: int | None = None  # ... as venture capital
    mentions_24h: int | None = None  # tweets naming the token (cashtag, mint or handle) in the last 24 h
    smart_mentions_24h: int | None = None  # of those, by influencer / project / VC accounts
    engagement_24h: int | None = None  # likes + retweets + replies + quotes on those tweets

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": FORMAT_VERSION, "kind": self.kind}
        out.update(dataclasses.asdict(self))
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))


AnyEvent = TokenCreate | Trade | CurveComplete | Migration | SolUsdPrice | SocialObservation

EVENT_TYPES: dict[str, type[Any]] = {
    cls.kind: cls for cls in (TokenCreate, Trade, CurveComplete, Migration, SolUsdPrice, SocialObservation)
}
