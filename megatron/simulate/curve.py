"""Exact integer pricing: the pump.fun bonding curve and a PumpSwap constant-product pool.

All amounts are integers in base units (lamports, raw token units). Every rounding goes the
way the on-chain programs round it: against the trader, so the product of the reserves never
decreases.

pump.fun (constant product on *virtual* reserves ``vs · vt = k``):

- buy with ``sol`` lamports going into the curve (fee charged on top):
  ``tokens = vt − ceil(k / (vs + sol))``, the ``buy_exact_sol_in`` rule; the ceiling is the
  curve's side of the rounding (equal to the SDK's ``floor(k / (vs + sol)) + 1`` except when
  the division is exact). When ``tokens`` would reach the real reserves left, the buy takes
  exactly what is left and pays ``floor(tokens · vs / (vt − tokens)) + 1``, the program's
  exact-tokens-out price; that buy completes the curve.
- sell ``tokens``: ``sol = floor(tokens · vs / (vt + tokens))``.
- fees: ``ceil(sol · bps / 10 000)`` on the curve's SOL amount, paid on top of a buy and out of a
  sell's proceeds; they never touch the reserves.

PumpSwap (constant product on the pool's real reserves, no virtual part):

- buy with ``quote`` lamports swapped: ``base_out = floor(base · quote / (pool_quote + quote))``;
  the LP fee ``ceil(quote · lp_bps / 10 000)`` is paid on top and stays in the pool.
- sell ``base``: ``quote_out = floor(pool_quote · base / (pool_base + base))``; the LP fee
  ``ceil(quote_out · lp_bps / 10 000)`` is kept back and stays in the pool.
- the protocol and coin-creator fees (same ceiling rule) are paid to their recipients, outside
  the pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from megatron.events import (
    INITIAL_REAL_TOKEN_RESERVES,
    INITIAL_VIRTUAL_SOL_RESERVES,
    INITIAL_VIRTUAL_TOKEN_RESERVES,
    TOTAL_SUPPLY_RAW,
)

#: tokens that never sit on the curve's real reserves; they seed the PumpSwap pool at migration
MIGRATION_TOKEN_AMOUNT = TOTAL_SUPPLY_RAW - INITIAL_REAL_TOKEN_RESERVES
#: virtual token reserves when the real ones are gone (2.799e14)
FINAL_VIRTUAL_TOKEN_RESERVES = INITIAL_VIRTUAL_TOKEN_RESERVES - INITIAL_REAL_TOKEN_RESERVES


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def fee_for(amount: int, bps: int) -> int:
    """A fee in basis points, rounded up as the programs do."""
    return -(-amount * bps // 10_000)


def curve_buy_tokens(vs: int, vt: int, sol_in: int) -> int:
    """Tokens out of a pump.fun buy of ``sol_in`` lamports (uncapped)."""
    return vt - ceil_div(vs * vt, vs + sol_in)


def curve_buy_cost(vs: int, vt: int, tokens: int) -> int:
    """Lamports a pump.fun buy of exactly ``tokens`` costs (the capped last buy)."""
    return tokens * vs // (vt - tokens) + 1


def curve_sell_sol(vs: int, vt: int, tokens: int) -> int:
    """Lamports out of a pump.fun sell of ``tokens`` (before the fee)."""
    return tokens * vs // (vt + tokens)


@dataclass(slots=True)
class BondingCurve:
    """A pump.fun bonding curve's reserves."""

    virtual_sol_reserves: int = INITIAL_VIRTUAL_SOL_RESERVES
    virtual_token_reserves: int = INITIAL_VIRTUAL_TOKEN_RESERVES
    real_sol_reserves: int = 0
    real_token_reserves: int = INITIAL_REAL_TOKEN_RESERVES

    @property
    def complete(self) -> bool:
        return self.real_token_reserves == 0

    def price(self) -> float:
        """Lamports per raw token unit (= SOL per whole token × 1e-3)."""
        return self.virtual_sol_reserves / self.virtual_token_reserves

    def buy(self, sol_in: int) -> tuple[int, int]:
        """Apply a buy; returns ``(sol_amount, token_amount)``. ``(0, 0)`` if it buys nothing.

        The last buy is capped at the real token reserves left and then pays only for those.
        """
        vs, vt, left = self.virtual_sol_reserves, self.virtual_token_reserves, self.real_token_reserves
        if sol_in <= 0 or left <= 0:
            return 0, 0
        tokens = curve_buy_tokens(vs, vt, sol_in)
        if tokens <= 0:
            return 0, 0
        if tokens >= left:
            tokens = left
            sol_in = curve_buy_cost(vs, vt, tokens)
        self.virtual_sol_reserves = vs + sol_in
        self.virtual_token_reserves = vt - tokens
        self.real_sol_reserves += sol_in
        self.real_token_reserves = left - tokens
        return sol_in, tokens

    def sell(self, tokens: int) -> int:
        """Apply a sell of ``tokens``; returns lamports out of the curve (0: nothing happens)."""
        vs, vt = self.virtual_sol_reserves, self.virtual_token_reserves
        if tokens <= 0:
            return 0
        sol_out = curve_sell_sol(vs, vt, tokens)
        if sol_out <= 0 or sol_out > self.real_sol_reserves:
            return 0
        self.virtual_sol_reserves = vs - sol_out
        self.virtual_token_reserves = vt + tokens
        self.real_sol_reserves -= sol_out
        self.real_token_reserves += tokens
        return sol_out


@dataclass(slots=True)
class PumpSwapPool:
    """A PumpSwap pool's reserves: ``base`` raw tokens, ``quote`` lamports."""

    base: int
    quote: int
    lp_fee_bps: int = 20

    def price(self) -> float:
        return self.quote / self.base

    def buy(self, quote_in: int) -> int:
        """Swap ``quote_in`` lamports for tokens; returns the tokens out (0: nothing happens)."""
        if quote_in <= 0:
            return 0
        base_out = self.base * quote_in // (self.quote + quote_in)
        if base_out <= 0 or base_out >= self.base:
            return 0
        self.base -= base_out
        self.quote += quote_in + fee_for(quote_in, self.lp_fee_bps)
        return base_out

    def sell(self, base_in: int) -> int:
        """Swap ``base_in`` tokens for lamports; returns the quote out before fees (0: nothing)."""
        if base_in <= 0:
            return 0
        quote_out = self.quote * base_in // (self.base + base_in)
        lp_fee = fee_for(quote_out, self.lp_fee_bps)
        if quote_out <= lp_fee:
            return 0
        self.base += base_in
        self.quote -= quote_out - lp_fee
        return quote_out
