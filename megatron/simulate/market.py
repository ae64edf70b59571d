"""The synthetic pump.fun market: tokens, traders and a SOL/USD path, streamed as canonical events.

How it streams: every token is a small state machine (its curve or pool, the balances of its
holders, a few scheduled actions) driven by its own random stream, and exposed as a generator of
``(slot, event)`` in slot order. A heap merges the live tokens, a creation schedule that starts
new ones, and the SOL/USD path, so memory holds only the tokens alive at the current moment,
not the events. A token's state is dropped when its generator ends.

Determinism: nothing reads the wall clock or a global random state. Every random stream is a
``random.Random`` seeded by text derived from the run's seed (the token's index, "creations",
"sol_usd"), and ties in the merge break on (slot, token index, push order), so the same
arguments give the same stream on the same Python version.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from random import Random
from typing import Any

from megatron.events import (
    INITIAL_REAL_TOKEN_RESERVES,
    INITIAL_VIRTUAL_SOL_RESERVES,
    INITIAL_VIRTUAL_TOKEN_RESERVES,
    LAMPORTS_PER_SOL,
    TOTAL_SUPPLY_RAW,
    AnyEvent,
    CurveComplete,
    Migration,
    SolUsdPrice,
    TokenCreate,
    Trade,
)
from megatron.simulate.curve import MIGRATION_TOKEN_AMOUNT, BondingCurve, PumpSwapPool, fee_for
from megatron.simulate.ids import ipfs_uri, pubkey, pump_mint, seed_key, signature, token_name
from megatron.simulate.params import ARCHETYPES, FATES, SimParams, SimulationError
from megatron.simulate.wallets import WalletPool, pool_size

#: called with (simulated seconds done, simulated seconds in total), once per simulated minute
ProgressCallback = Callable[[int, int], None]

SPL_TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
PUMPFUN_EPOCH = 1_704_067_200  # 2024-01-01T00:00:00Z; nothing canonical is older
#: mainnet was near this slot at PUMPFUN_EPOCH; start slots are extrapolated from it
EPOCH_SLOT = 240_000_000
SOL = LAMPORTS_PER_SOL


def start_slot_for(start_ts: int, slot_ms: int = 400) -> int:
    """A plausible mainnet slot for a Unix time (extrapolated at the simulated slot rate)."""
    return EPOCH_SLOT + max(0, start_ts - PUMPFUN_EPOCH) * 1000 // slot_ms


@dataclass
class SimSummary:
    """What a run produced, accumulated while it streams (counts only what was yielded, except
    ``wallets``, which counts a wallet once its first event is generated)."""

    tokens: int = 0
    trades: int = 0
    pumpfun_trades: int = 0
    pumpswap_trades: int = 0
    buys: int = 0
    sells: int = 0
    graduations: int = 0  # CurveComplete events
    migrations: int = 0
    sol_usd_prices: int = 0
    events: int = 0
    sol_volume_lamports: int = 0  # Σ sol_amount over trades
    protocol_fees_lamports: int = 0
    first_block_time: int | None = None
    last_block_time: int | None = None
    wallets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ARCHETYPES, 0))
    fates: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FATES, 0))
    smart_money_tokens: int = 0  # tokens a smart-money wallet bought
    smart_money_graduated_tokens: int = 0  # … of which graduated

    @property
    def sol_volume(self) -> float:
        return self.sol_volume_lamports / SOL

    @property
    def graduation_share(self) -> float:
        return self.graduations / self.tokens if self.tokens else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "trades": self.trades,
            "pumpfun_trades": self.pumpfun_trades,
            "pumpswap_trades": self.pumpswap_trades,
            "buys": self.buys,
            "sells": self.sells,
            "graduations": self.graduations,
            "graduation_share": round(self.graduation_share, 6),
            "migrations": self.migrations,
            "sol_usd_prices": self.sol_usd_prices,
            "events": self.events,
            "sol_volume": round(self.sol_volume, 3),
            "protocol_fees_sol": round(self.protocol_fees_lamports / SOL, 3),
            "first_block_time": self.first_block_time,
            "last_block_time": self.last_block_time,
            "wallets": dict(self.wallets),
            "fates": dict(self.fates),
            "smart_money_tokens": self.smart_money_tokens,
            "smart_money_graduated_tokens": self.smart_money_graduated_tokens,
        }


class _Context:
    """Everything the tokens of one run share."""

    __slots__ = (
        "params",
        "seed",
        "key",
        "pool",
        "summary",
        "start_ts",
        "start_slot",
        "end_ts",
        "end_slot",
        "migration_authority",
    )

    def __init__(self, params: SimParams, seed: int, pool: WalletPool, summary: SimSummary,
                 start_ts: int, start_slot: int, end_ts: int) -> None:
        self.params = params
        self.seed = seed
        self.key = seed_key(seed)
        self.pool = pool
        self.summary = summary
        self.start_ts = start_ts
        self.start_slot = start_slot
        self.end_ts = end_ts
        self.end_slot = self.slot_at(end_ts)  # first slot whose block_time is ≥ end_ts
        self.migration_authority = pubkey(self.key, "migration-authority")

    def slot_at(self, ts: int) -> int:
        """The first slot whose block time is ≥ ``ts``."""
        return self.start_slot + -(-(ts - self.start_ts) * 1000 // self.params.slot_ms)

    def block_time(self, slot: int) -> int:
        return self.start_ts + (slot - self.start_slot) * self.params.slot_ms // 1000


def _lognormal(rng: Random, median: float, sigma: float) -> float:
    return median * math.exp(sigma * rng.gauss(0.0, 1.0)) if sigma > 0 else median


def _poisson(rng: Random, mean: float) -> int:
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _interp(knots: list[tuple[float, float]], u: float) -> float:
    if u <= knots[0][0]:
        return knots[0][1]
    for (u0, v0), (u1, v1) in itertools.pairwise(knots):
        if u <= u1:
            return v0 + (v1 - v0) * (u - u0) / (u1 - u0) if u1 > u0 else v1
    return knots[-1][1]


def _token_rng(seed: int, idx: int) -> Random:
    return Random(f"{seed}:token:{idx}")


def _draw_fate(rng: Random, params: SimParams) -> str:
    """The first draw of a token's random stream (so fates can be listed without a run)."""
    return rng.choices(FATES, [params.fates[f].weight for f in FATES])[0]


# actions scheduled at an organic step
_SELL_ALL, _SM_BUY, _RUG = 0, 1, 2


class _Token:
    """One token's life; :meth:`run` yields its ``(slot, event)`` in slot order."""

    __slots__ = (
        "ctx", "p", "idx", "rng", "slot", "dead", "out",
        "mint", "curve_addr", "creator", "fate", "curve", "pool", "pool_addr",
        "balances", "free", "free_pos", "sched", "positions", "sm_bought",
        "step", "amm_start", "n_steps", "n_amm", "knots", "amm_knots", "amm_q0",
        "insiders", "activity", "sm_exit_u", "_last_sig", "creator_addr",
    )

    def __init__(self, ctx: _Context, idx: int, create_slot: int) -> None:
        self.ctx = ctx
        self.p = ctx.params
        self.idx = idx
        self.rng = _token_rng(ctx.seed, idx)
        self.slot = create_slot
        self.dead = False
        self.out: list[tuple[int, AnyEvent]] = []
        self.mint = pump_mint(ctx.key, f"mint:{idx}")
        self.curve_addr = pubkey(ctx.key, f"curve:{idx}")
        self.curve = BondingCurve()
        self.pool: PumpSwapPool | None = None
        self.pool_addr = ""
        self.balances: dict[int, int] = {}  # wallet index → raw tokens held (> 0)
        self.free: list[int] = []  # retail holders, sold by the organic flow
        self.free_pos: dict[int, int] = {}
        self.sched: dict[int, list[tuple[Any, ...]]] = {}
        # wallets with managed exits (snipers, smart money) → [entry price, take profit, exit step,
        # sold half, stop loss]
        self.positions: dict[int, list[Any]] = {}
        self.sm_bought = False
        self.step = 0
        self.amm_start = -1
        self.n_amm = 0
        self.amm_knots: list[tuple[float, float]] = []
        self.amm_q0 = 0.0
        self.insiders: list[int] = []
        self.creator = -1
        self.creator_addr = ""
        self.sm_exit_u = 1.0
        self._last_sig = ""
        self._plan()

    # --- planning ---------------------------------------------------------------------

    def _plan(self) -> None:
        rng, p = self.rng, self.p
        self.fate = _draw_fate(rng, p)
        prof = p.fates[self.fate]
        self.activity = prof.activity
        act = prof.activity
        n = max(act.trades_min, round(_lognormal(rng, act.trades_median, act.trades_sigma)))
        peak = _lognormal(rng, prof.peak_sol_median, prof.peak_sol_sigma)
        if self.fate != "graduate":
            peak = min(peak, p.non_graduate_peak_cap_sol)  # below the ~85 SOL that completes a curve
        fate = self.fate
        if fate == "dud":
            up = rng.uniform(0.15, 0.5)
            self.knots = [(0.0, 0.0), (up, peak), (1.0, peak * 0.15)]
            self.sm_exit_u = up
        elif fate == "rug":
            post = rng.randint(1, 6)
            rug_step = n
            n += post
            u_rug = rug_step / n
            self.knots = [(0.0, 0.0), (u_rug * 0.8, peak), (u_rug, peak), (min(1.0, u_rug + 1e-6), 0.0), (1.0, 0.0)]
            self._at(rug_step, (_RUG,))
            self.sm_exit_u = u_rug * 0.9
        elif fate == "fade":
            up = rng.uniform(0.25, 0.55)
            down = up + rng.uniform(0.05, 0.15)
            self.knots = [(0.0, 0.0), (up, peak), (down, peak * rng.uniform(0.1, 0.3)), (1.0, peak * 0.05)]
            self.sm_exit_u = up - rng.uniform(0.0, 0.05)
        elif fate == "recover":
            a = rng.uniform(0.15, 0.3)
            b = a + rng.uniform(0.08, 0.15)
            c = b + rng.uniform(0.2, 0.35)
            second = min(peak * rng.uniform(1.1, 1.7), p.non_graduate_peak_cap_sol)
            self.knots = [
                (0.0, 0.0), (a, peak), (b, peak * rng.uniform(0.35, 0.6)), (c, second), (1.0, second * rng.uniform(0.2, 0.5)),
            ]
            self.sm_exit_u = c - rng.uniform(0.0, 0.05)
        else:  # graduate: climb through 85 SOL, sometimes after a sell-off that recovers
            if rng.random() < 0.5:
                a = rng.uniform(0.25, 0.5)
                level = rng.uniform(25.0, 55.0)
                self.knots = [(0.0, 0.0), (a, level), (a + 0.1, level * rng.uniform(0.4, 0.7)), (1.0, peak)]
            else:
                self.knots = [(0.0, 0.0), (rng.uniform(0.2, 0.5), rng.uniform(20.0, 50.0)), (1.0, peak)]
            self.sm_exit_u = 10.0  # smart money rides graduated tokens into the pool
        self.n_steps = n

        pool = self.ctx.pool
        # creator: ruggers are a small set of serial creators
        if fate == "rug":
            self.creator = pool.pick("creator", rng, skew=1.0, share=p.serial_rugger_share)
        else:
            self.creator = pool.pick("creator", rng, skew=1.5)
        # insiders bundled into the create slot
        if rng.random() < prof.bundle_probability:
            lo, hi = p.bundle_wallets
            self.insiders = [pool.pick("bundler", rng, skew=1.3) for _ in range(rng.randint(lo, hi))]
        # the creator's later dump, and the insiders' exits (a rug handles both at once)
        if fate != "rug":
            if rng.random() < p.creator_dump_probability:
                self._at(int(n * rng.uniform(0.15, 0.9)), (_SELL_ALL, self.creator))
            for w in self.insiders:
                if rng.random() < 0.8:
                    self._at(int(n * rng.uniform(0.05, 0.7)), (_SELL_ALL, w))
        # smart money: informed wallets, more of them on tokens that will do well
        for _ in range(_poisson(rng, prof.smart_money_mean)):
            w = pool.pick("smart_money", rng, skew=1.2)
            if fate == "recover" and rng.random() < 0.5:  # buy the dip
                knot_b, knot_c = self.knots[2][0], self.knots[3][0]
                entry_u = rng.uniform(knot_b, (knot_b + knot_c) / 2)
            elif fate == "graduate":
                entry_u = rng.uniform(0.02, 0.35)
            else:
                entry_u = rng.uniform(0.0, max(0.01, min(self.sm_exit_u, 1.0) * 0.5))
            exit_step = 10**9 if fate == "graduate" else max(int(n * self.sm_exit_u), int(n * entry_u) + 1)
            lamports = int(_lognormal(rng, p.smart_money_buy_median_sol, 0.6) * SOL)
            take_profit = rng.uniform(*p.smart_money_take_profit)
            self._at(int(n * entry_u), (_SM_BUY, w, lamports, take_profit, exit_step))

    def _at(self, step: int, action: tuple[Any, ...]) -> None:
        self.sched.setdefault(step, []).append(action)

    # --- the life ------------------------------------------------------------------------

    def run(self) -> Iterator[tuple[int, AnyEvent]]:
        rng, p, ctx = self.rng, self.p, self.ctx
        self._launch()
        yield from self.out
        self.out.clear()
        elapsed = 0.0  # seconds since the phase began
        phase_slot = self.slot
        spm = 1000.0 / p.slot_ms  # slots per second
        act = self.activity
        n_curve_cap = self.n_steps if self.fate != "graduate" else self.n_steps * 20 + 2_000
        while not self.dead:
            step = self.step
            if self.pool is None:
                if step >= n_curve_cap:
                    break
                k = step
            else:
                k = step - self.amm_start
                if k >= self.n_amm:
                    break
                if k == 0:
                    act = p.amm_activity
                    elapsed = 0.0
                    phase_slot = self.slot
            mean_gap = act.gap_seconds * (1.0 + k / act.gap_half) ** act.gap_power
            elapsed += rng.expovariate(1.0 / mean_gap)
            slot = phase_slot + 1 + int(elapsed * spm)  # the flow starts a slot after create / migration
            if slot > self.slot:
                self.slot = slot
            if self.slot >= ctx.end_slot:
                break
            actions = self.sched.pop(step, None)
            if actions:
                for action in actions:
                    self._act(action)
            if self.positions:
                self._managed_exits()
            self._organic()
            self.step = step + 1
            if self.out:
                yield from self.out
                self.out.clear()
        # the token is done: its state goes with the generator

    def _launch(self) -> None:
        rng, p, pool = self.rng, self.p, self.ctx.pool
        sig = signature(rng)
        slot = self.slot
        name, symbol = token_name(rng)
        creator = self.creator_addr = pool.address(self.creator)
        self._seen(self.creator)
        bt = self.ctx.block_time(slot)
        self._emit(slot, TokenCreate(
            signature=sig, slot=slot, block_time=bt, event_index=0, program="pumpfun", mint=self.mint,
            name=name, symbol=symbol, uri=ipfs_uri(rng), creator=creator, bonding_curve=self.curve_addr,
            token_program=SPL_TOKEN_PROGRAM, quote_mint=None,
            virtual_sol_reserves=INITIAL_VIRTUAL_SOL_RESERVES, virtual_token_reserves=INITIAL_VIRTUAL_TOKEN_RESERVES,
            real_token_reserves=INITIAL_REAL_TOKEN_RESERVES, token_total_supply=TOTAL_SUPPLY_RAW,
            user=creator, timestamp=bt,
        ))
        if self.fate == "rug" or rng.random() < p.creator_buy_probability:
            median = p.rug_creator_buy_median_sol if self.fate == "rug" else p.creator_buy_median_sol
            self._buy(self.creator, self._sol(median, 0.6), sig=sig, index=1, priority=True)
        for w in self.insiders:  # same-slot bundle
            self._buy(w, self._sol(p.bundle_buy_median_sol, 0.5), priority=True)
        snipes = sorted(
            (rng.randint(1, p.sniper_window_slots), pool.pick("sniper", rng, skew=2.0))
            for _ in range(_poisson(rng, p.fates[self.fate].snipers_mean))
        )
        last_exit = max(1, min(self.n_steps - 1, p.sniper_exit_steps))
        for offset, w in snipes:
            self.slot = max(self.slot, slot + offset)
            if self._buy(w, self._sol(p.sniper_buy_median_sol, 0.7), priority=True):
                # take a quick profit, or leave by a step early in the token's life
                take_profit = rng.uniform(*p.sniper_take_profit)
                self.positions[w] = [self._price(), take_profit, rng.randint(0, last_exit), False, 0.0]

    def _act(self, action: tuple[Any, ...]) -> None:
        p = self.p
        kind = action[0]
        if kind == _SELL_ALL:
            self._sell(action[1], self.balances.get(action[1], 0))
        elif kind == _SM_BUY:
            _, w, lamports, take_profit, exit_step = action
            if self._buy(w, lamports):
                self.positions[w] = [self._price(), take_profit, exit_step, False, p.smart_money_stop_loss]
        elif kind == _RUG:  # creator and insiders dump everything within a slot or two
            dumpers = [self.creator, *self.insiders]
            self.rng.shuffle(dumpers)
            for w in dumpers:
                self._sell(w, self.balances.get(w, 0), priority=True)
                self.slot += self.rng.randint(0, 1)

    def _managed_exits(self) -> None:
        """Snipers and smart money sell into strength: half at their take-profit, the rest at a
        higher one; everything at their exit step or stop loss."""
        price = self._price()
        for w, state in list(self.positions.items()):
            entry, take_profit, exit_step, sold_half, stop_loss = state
            held = self.balances.get(w, 0)
            if held == 0:
                del self.positions[w]
            elif self.step >= exit_step or price < entry * stop_loss:
                self._sell(w, held)
                del self.positions[w]
            elif price >= entry * take_profit:
                if sold_half:
                    self._sell(w, held)
                    del self.positions[w]
                else:
                    self._sell(w, held // 2)
                    state[1], state[3] = take_profit * 1.6, True

    def _organic(self) -> None:
        rng, p = self.rng, self.p
        if rng.random() < p.bot_share:
            self._bot_burst()
            return
        if self.pool is None:
            current = self.curve.real_sol_reserves / SOL
            target = _interp(self.knots, self.step / self.n_steps)
        else:
            current = self.pool.quote / SOL
            target = self.amm_q0 * _interp(self.amm_knots, (self.step - self.amm_start) / self.n_amm)
        scale = max(p.steering_scale_sol, 0.12 * max(target, current))
        p_buy = 0.5 + p.steering * math.tanh((target - current) / scale)
        if rng.random() < p_buy or not self.free:
            w = self.ctx.pool.pick("retail", rng)
            sol = self._sol(p.retail_buy_median_sol * (1.0 + current / p.retail_buy_growth_sol), p.retail_buy_sigma)
            if sol >= p.sandwich_min_sol * SOL and rng.random() < p.sandwich_probability:
                bot = self.ctx.pool.pick("bot", rng, skew=2.0)
                if self._buy(bot, min(sol, int(p.max_buy_sol * SOL)), priority=True):
                    self._buy(w, sol)
                    self._sell(bot, self.balances.get(bot, 0), priority=True)
                    return
            self._buy(w, sol)
        else:
            w = self.free[rng.randrange(len(self.free))]
            held = self.balances[w]
            panic = current > target * 1.3 + 1.0
            if rng.random() < (0.75 if panic else 0.4):
                amount = held
            else:
                amount = int(held * rng.uniform(0.25, 1.0))
            self._sell(w, amount)

    def _bot_burst(self) -> None:
        rng, p = self.rng, self.p
        bot = self.ctx.pool.pick("bot", rng, skew=2.0)
        for _ in range(1 + _poisson(rng, p.bot_repeat_mean)):
            if not self._buy(bot, self._sol(p.bot_buy_median_sol, p.bot_buy_sigma), priority=True):
                return
            self.slot += rng.randint(0, 2)
            self._sell(bot, self.balances.get(bot, 0), priority=True)
            self.slot += rng.randint(0, 1)

    # --- trades ----------------------------------------------------------------------------

    def _sol(self, median: float, sigma: float) -> int:
        p = self.p
        sol = min(p.max_buy_sol, max(p.min_buy_sol, _lognormal(self.rng, median, sigma)))
        return int(sol * SOL)

    def _price(self) -> float:
        return self.pool.price() if self.pool is not None else self.curve.price()

    def _tx_fee(self, priority: bool) -> int:
        p = self.p
        median = p.fast_priority_fee_median if priority else p.priority_fee_median
        return p.base_tx_fee + int(_lognormal(self.rng, median, 1.0))

    def _seen(self, w: int) -> None:
        seen = self.ctx.pool.seen
        if not seen[w]:
            seen[w] = 1
            self.ctx.summary.wallets[self.ctx.pool.archetype(w)] += 1

    def _hold(self, w: int, delta: int) -> None:
        balance = self.balances.get(w, 0) + delta
        if balance < 0:
            raise AssertionError(f"wallet {w} would hold {balance} of token {self.idx}")
        is_retail = self.ctx.pool.archetype(w) == "retail"
        if balance == 0:
            self.balances.pop(w, None)
            if is_retail and w in self.free_pos:
                i = self.free_pos.pop(w)
                last = self.free.pop()
                if last != w:
                    self.free[i] = last
                    self.free_pos[last] = i
        else:
            self.balances[w] = balance
            if is_retail and w not in self.free_pos:
                self.free_pos[w] = len(self.free)
                self.free.append(w)

    def _buy(self, w: int, lamports: int, *, sig: str | None = None, index: int = 0, priority: bool = False) -> bool:
        if self.dead or lamports <= 0:
            return False
        if self.pool is not None:
            return self._pool_trade(w, "buy", lamports, priority)
        sol, tokens = self.curve.buy(lamports)
        if tokens <= 0:
            return False
        self._curve_trade(w, "buy", sol, tokens, sig, index, priority)
        if self.curve.real_token_reserves == 0:
            self._complete(w)
        return True

    def _sell(self, w: int, tokens: int, *, priority: bool = False) -> bool:
        if self.dead or tokens <= 0:
            return False
        if tokens > self.balances.get(w, 0):
            raise AssertionError(f"wallet {w} cannot sell {tokens} of token {self.idx}")
        if self.pool is not None:
            return self._pool_trade(w, "sell", tokens, priority)
        sol = self.curve.sell(tokens)
        if sol <= 0:
            return False
        self._curve_trade(w, "sell", sol, tokens, None, 0, priority)
        return True

    def _curve_trade(self, w: int, side: str, sol: int, tokens: int, sig: str | None, index: int, priority: bool) -> None:
        p, c, slot = self.p, self.curve, self.slot
        bt = self.ctx.block_time(slot)
        cbps = p.pumpfun_creator_fee_bps
        self._last_sig = sig = sig or signature(self.rng)
        self._emit(slot, Trade(
            signature=sig, slot=slot, block_time=bt, event_index=index, program="pumpfun", mint=self.mint,
            pool=self.curve_addr, side=side, user=self.ctx.pool.address(w),  # type: ignore[arg-type]
            sol_amount=sol, token_amount=tokens, timestamp=bt,
            virtual_sol_reserves=c.virtual_sol_reserves, virtual_token_reserves=c.virtual_token_reserves,
            real_sol_reserves=c.real_sol_reserves, real_token_reserves=c.real_token_reserves,
            fee=fee_for(sol, p.pumpfun_fee_bps), fee_basis_points=p.pumpfun_fee_bps,
            creator_fee=fee_for(sol, cbps) if cbps else None, creator_fee_basis_points=cbps if cbps else None,
            quote_mint=None, ix_name="buy_exact_sol_in" if side == "buy" else "sell", tx_fee=self._tx_fee(priority),
            creator=self.creator_addr,
        ))
        self._seen(w)
        self._hold(w, tokens if side == "buy" else -tokens)
        if side == "buy" and not self.sm_bought and self.ctx.pool.archetype(w) == "smart_money":
            self.sm_bought = True
            self.ctx.summary.smart_money_tokens += 1

    def _pool_trade(self, w: int, side: str, amount: int, priority: bool) -> bool:
        p, pool = self.p, self.pool
        assert pool is not None
        if side == "buy":
            tokens = pool.buy(amount)
            sol = amount
        else:
            sol = pool.sell(amount)
            tokens = amount
        if tokens <= 0 or sol <= 0:
            return False
        slot = self.slot
        bt = self.ctx.block_time(slot)
        cbps = p.pumpswap_creator_fee_bps
        self._emit(slot, Trade(
            signature=signature(self.rng), slot=slot, block_time=bt, event_index=0, program="pumpswap", mint=self.mint,
            pool=self.pool_addr, side=side, user=self.ctx.pool.address(w),  # type: ignore[arg-type]
            sol_amount=sol, token_amount=tokens, timestamp=bt,
            # an AMM has no virtual liquidity: virtual = real = the pool's balances (as decoded)
            virtual_sol_reserves=pool.quote, virtual_token_reserves=pool.base,
            real_sol_reserves=pool.quote, real_token_reserves=pool.base,
            fee=fee_for(sol, p.pumpswap_protocol_fee_bps), fee_basis_points=p.pumpswap_protocol_fee_bps,
            creator_fee=fee_for(sol, cbps) if cbps else None, creator_fee_basis_points=cbps if cbps else None,
            quote_mint=None, ix_name="buy_exact_quote_in" if side == "buy" else "sell", tx_fee=self._tx_fee(priority),
            creator=self.creator_addr, lp_fee=fee_for(sol, p.pumpswap_lp_fee_bps), lp_fee_basis_points=p.pumpswap_lp_fee_bps,
        ))
        self._seen(w)
        self._hold(w, tokens if side == "buy" else -tokens)
        return True

    def _complete(self, w: int) -> None:
        """The buy that took the last real tokens: CurveComplete in the same transaction, then
        the migration to a new PumpSwap pool a few slots later."""
        ctx, p, rng = self.ctx, self.p, self.rng
        slot = self.slot
        bt = ctx.block_time(slot)
        self._emit(slot, CurveComplete(
            signature=self._last_sig, slot=slot, block_time=bt, event_index=1, program="pumpfun", mint=self.mint,
            bonding_curve=self.curve_addr, user=ctx.pool.address(w), timestamp=bt,
        ))
        if self.sm_bought:
            ctx.summary.smart_money_graduated_tokens += 1
        self.slot = slot + rng.randint(*p.migration_delay_slots)
        quote = self.curve.real_sol_reserves - p.pool_migration_fee
        self.pool_addr = pubkey(ctx.key, f"pool:{self.idx}")
        self.pool = PumpSwapPool(base=MIGRATION_TOKEN_AMOUNT, quote=quote, lp_fee_bps=p.pumpswap_lp_fee_bps)
        bt = ctx.block_time(self.slot)
        self._emit(self.slot, Migration(
            signature=signature(rng), slot=self.slot, block_time=bt, event_index=0, program="pumpfun", mint=self.mint,
            pool=self.pool_addr, platform="pumpswap", bonding_curve=self.curve_addr, user=ctx.migration_authority,
            sol_amount=quote, token_amount=MIGRATION_TOKEN_AMOUNT, pool_migration_fee=p.pool_migration_fee,
            quote_mint=None, lp_mint=pubkey(ctx.key, f"lp-mint:{self.idx}"),
            base_vault=pubkey(ctx.key, f"base-vault:{self.idx}"), quote_vault=pubkey(ctx.key, f"quote-vault:{self.idx}"),
            timestamp=bt,
        ))
        # the PumpSwap phase: a heavy-tailed number of trades around a post-migration pump and fade
        self.amm_start = self.step + 1
        if self.fate == "graduate":
            u = rng.random()
            self.n_amm = min(p.amm_trades_cap, int(p.amm_trades_min / (1.0 - u) ** (1.0 / p.amm_trades_alpha)))
        else:
            self.n_amm = max(50, self.n_steps - self.step)
        self.amm_q0 = quote / SOL
        peak_u = rng.uniform(0.05, 0.3)
        peak = max(1.1, _lognormal(rng, p.amm_peak_multiple_median, p.amm_peak_multiple_sigma))
        self.amm_knots = [(0.0, 1.0), (peak_u, peak), (1.0, rng.uniform(0.15, 0.9))]
        exit_step = self.amm_start + int(self.n_amm * peak_u * rng.uniform(0.6, 1.0))
        for state in self.positions.values():
            state[2] = min(state[2], exit_step)

    def _emit(self, slot: int, event: AnyEvent) -> None:
        if slot >= self.ctx.end_slot:
            self.dead = True  # the period is over; nothing after this is emitted
            return
        self.out.append((slot, event))


# --- creations and SOL/USD -------------------------------------------------------------------


def _creation_offsets(tokens: int, total: int, start_ts: int, params: SimParams, rng: Random) -> Iterator[float]:
    """Creation times (seconds after start), sorted, streamed: order statistics of ``tokens``
    uniform draws, mapped through the inverse CDF of a daily cycle of creation intensity."""
    amp = params.diurnal_amplitude
    omega = 2 * math.pi / 86_400
    phase = start_ts - params.diurnal_peak_hour_utc * 3_600

    def cumulative(t: float) -> float:  # ∫₀ᵗ 1 + amp·cos(ω(start + s − peak)) ds
        return t + amp / omega * (math.sin(omega * (phase + t)) - math.sin(omega * phase))

    whole = cumulative(total)
    x = 0.0
    for i in range(tokens):
        x = 1.0 - (1.0 - x) * rng.random() ** (1.0 / (tokens - i))
        goal = x * whole
        lo, hi, t = 0.0, float(total), x * total
        for _ in range(60):  # Newton inside a bisection bracket
            f = cumulative(t) - goal
            if abs(f) < 1e-4:
                break
            if f > 0:
                hi = t
            else:
                lo = t
            t -= f / (1.0 + amp * math.cos(omega * (phase + t)))
            if not lo < t < hi:
                t = (lo + hi) / 2
        yield t


def _sol_usd(ctx: _Context) -> Iterator[tuple[int, SolUsdPrice]]:
    p = ctx.params
    rng = Random(f"{ctx.seed}:sol_usd")
    dt = p.sol_usd_interval_seconds / 86_400
    mean = math.log(p.sol_usd_start)
    x = mean
    step_sd = p.sol_usd_daily_volatility * math.sqrt(dt)
    t = ctx.start_ts
    while t < ctx.end_ts:
        yield ctx.slot_at(t), SolUsdPrice(price_time=t, price_usd=f"{math.exp(x):.4f}", source="simulator")
        x += p.sol_usd_reversion_per_day * (mean - x) * dt + step_sd * rng.gauss(0.0, 1.0)
        t += p.sol_usd_interval_seconds


# --- the merge ---------------------------------------------------------------------------------


def simulate(
    tokens: int,
    days: float,
    seed: int,
    start: datetime,
    params: SimParams | None = None,
    *,
    summary: SimSummary | None = None,
    progress: ProgressCallback | None = None,
) -> Iterator[AnyEvent]:
    """Stream a synthetic pump.fun market as canonical events in nondecreasing (block_time, slot).

    ``tokens`` are created over ``days`` from ``start`` (a naive datetime is taken as UTC);
    events after the period are not emitted. Pass a :class:`SimSummary` to have it filled as the
    stream is consumed, and ``progress`` to hear (seconds simulated, seconds in total) once per
    simulated minute. Arguments are checked now; the events come lazily.
    """
    params = params or SimParams()
    params.validate()
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        raise SimulationError(f"tokens must be a non-negative integer, got {tokens!r}")
    if not days > 0 or math.isinf(days):
        raise SimulationError(f"days must be a positive number, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SimulationError(f"seed must be an integer, got {seed!r}")
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    start_ts = math.floor(start.timestamp())
    if start_ts < PUMPFUN_EPOCH:
        raise SimulationError(f"start {start.isoformat()} is before pump.fun existed (2024-01-01)")
    total = max(1, round(days * 86_400))
    summary = summary if summary is not None else SimSummary()
    wallets = WalletPool(seed, pool_size(tokens, params), params)
    start_slot = params.start_slot if params.start_slot is not None else start_slot_for(start_ts, params.slot_ms)
    ctx = _Context(params, seed, wallets, summary, start_ts, start_slot, start_ts + total)
    return _merge(ctx, tokens, total, progress)


def _merge(ctx: _Context, tokens: int, total: int, progress: ProgressCallback | None) -> Iterator[AnyEvent]:
    summary = ctx.summary
    counter = itertools.count()
    heap: list[tuple[int, int, int, Any, Iterator[Any]]] = []
    creations = enumerate(_creation_offsets(tokens, total, ctx.start_ts, ctx.params, Random(f"{ctx.seed}:creations")))
    prices = _sol_usd(ctx)

    def push_creation() -> None:
        for idx, offset in creations:
            slot = ctx.start_slot + int(offset * 1000 / ctx.params.slot_ms)
            if slot < ctx.end_slot:
                heapq.heappush(heap, (slot, idx, next(counter), None, creations))
            return  # creations past the end (rounding only) are skipped

    def push_price() -> None:
        for slot, price in prices:
            heapq.heappush(heap, (slot, -1, next(counter), price, prices))
            return

    push_creation()
    push_price()
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        slot, order, _, event, source = pop(heap)
        if source is creations:
            token = _Token(ctx, order, slot)
            summary.fates[token.fate] += 1
            life = token.run()
            for ev_slot, ev in life:
                push(heap, (ev_slot, order, next(counter), ev, life))
                break
            push_creation()
            continue
        if source is prices:
            summary.sol_usd_prices += 1
            summary.events += 1
            if summary.first_block_time is None:
                summary.first_block_time = event.price_time
            summary.last_block_time = event.price_time
            push_price()
            if progress is not None:
                progress(event.price_time - ctx.start_ts, total)
            yield event
            continue
        for ev_slot, ev in source:  # the token's next event
            push(heap, (ev_slot, order, next(counter), ev, source))
            break
        summary.events += 1
        if summary.first_block_time is None:
            summary.first_block_time = event.block_time
        summary.last_block_time = event.block_time
        kind = type(event)
        if kind is Trade:
            summary.trades += 1
            summary.sol_volume_lamports += event.sol_amount
            summary.protocol_fees_lamports += event.fee or 0
            if event.program == "pumpfun":
                summary.pumpfun_trades += 1
            else:
                summary.pumpswap_trades += 1
            if event.side == "buy":
                summary.buys += 1
            else:
                summary.sells += 1
        elif kind is TokenCreate:
            summary.tokens += 1
        elif kind is CurveComplete:
            summary.graduations += 1
        elif kind is Migration:
            summary.migrations += 1
        yield event
    if progress is not None:
        progress(total, total)


def wallet_labels(tokens: int, seed: int, params: SimParams | None = None) -> Iterator[tuple[str, str]]:
    """The archetype of every wallet a run with these arguments can use: ``(address, archetype)``.

    Ground truth for tests and for backtesting wallet classification; the stream itself carries
    no labels.
    """
    params = params or SimParams()
    return WalletPool(seed, pool_size(tokens, params), params).labels()


def token_fates(tokens: int, seed: int, params: SimParams | None = None) -> Iterator[tuple[str, str]]:
    """The scripted fate of every token of a run: ``(mint, fate)``, without running it.

    Ground truth (rug, fade, recover, graduate, dud) for tests and backtests; whether a token
    really graduated is in the stream (CurveComplete), since a run can end first.
    """
    params = params or SimParams()
    key = seed_key(seed)
    for idx in range(tokens):
        yield pump_mint(key, f"mint:{idx}"), _draw_fate(_token_rng(seed, idx), params)
