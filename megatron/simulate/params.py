"""Every knob of the synthetic market, with defaults chosen so a seed-fixed run looks like pump.fun.

docs/simulator.md explains each parameter and why its default is what it is. Everything here is
plain data: frozen dataclasses, no behaviour beyond validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from megatron.errors import MegatronError

Fate = Literal["dud", "rug", "fade", "recover", "graduate"]
FATES: tuple[Fate, ...] = ("dud", "rug", "fade", "recover", "graduate")

Archetype = Literal["retail", "sniper", "bundler", "bot", "smart_money", "creator"]
ARCHETYPES: tuple[Archetype, ...] = ("retail", "sniper", "bundler", "bot", "smart_money", "creator")


class SimulationError(MegatronError):
    """Bad arguments or parameters for the simulator."""


@dataclass(frozen=True, slots=True)
class Activity:
    """How many organic trades a token (or one phase of it) gets and how they are spaced.

    Trade count: lognormal with median ``trades_median`` and log-sd ``trades_sigma``, at least
    ``trades_min``. Gaps: exponential with mean ``gap_seconds * (1 + k / gap_half) ** gap_power``
    at the k-th trade of the phase, so activity fades as a token ages.
    """

    trades_median: float
    trades_sigma: float
    trades_min: int
    gap_seconds: float
    gap_half: float
    gap_power: float


@dataclass(frozen=True, slots=True)
class FateProfile:
    """What one kind of token does (see docs/simulator.md, "Fates")."""

    weight: float  # share of created tokens
    activity: Activity
    peak_sol_median: float  # SOL in the curve at the peak of the target path
    peak_sol_sigma: float
    snipers_mean: float  # Poisson mean of sniper wallets
    bundle_probability: float  # chance the launch is bundled (insiders buy in the create slot)
    smart_money_mean: float  # Poisson mean of informed (smart money) wallets that enter


def _default_fates() -> dict[str, FateProfile]:
    return {
        "dud": FateProfile(
            weight=0.648,
            activity=Activity(3.0, 0.8, 1, 15.0, 6.0, 1.0),
            peak_sol_median=1.5,
            peak_sol_sigma=0.6,
            snipers_mean=1.0,
            bundle_probability=0.08,
            smart_money_mean=0.02,
        ),
        "rug": FateProfile(
            weight=0.10,
            activity=Activity(30.0, 0.7, 5, 6.0, 30.0, 0.8),
            peak_sol_median=10.0,
            peak_sol_sigma=0.5,
            snipers_mean=2.0,
            bundle_probability=0.85,
            smart_money_mean=0.02,
        ),
        "fade": FateProfile(
            weight=0.16,
            activity=Activity(60.0, 0.9, 12, 4.0, 40.0, 0.9),
            peak_sol_median=16.0,
            peak_sol_sigma=0.55,
            snipers_mean=2.5,
            bundle_probability=0.15,
            smart_money_mean=0.5,
        ),
        "recover": FateProfile(
            weight=0.08,
            activity=Activity(120.0, 0.8, 30, 4.0, 60.0, 0.8),
            peak_sol_median=22.0,
            peak_sol_sigma=0.45,
            snipers_mean=3.0,
            bundle_probability=0.15,
            smart_money_mean=0.9,
        ),
        "graduate": FateProfile(
            weight=0.012,
            # the curve phase: a nominal count that paces the target path; the phase itself
            # lasts until the curve completes
            activity=Activity(300.0, 0.5, 120, 3.0, 150.0, 0.5),
            peak_sol_median=100.0,
            peak_sol_sigma=0.0,
            snipers_mean=4.0,
            bundle_probability=0.15,
            smart_money_mean=3.0,
        ),
    }


@dataclass(frozen=True, slots=True)
class SimParams:
    """Parameters of the synthetic market. Defaults: docs/simulator.md."""

    # --- clock ---------------------------------------------------------------------------
    slot_ms: int = 400  # 2.5 slots per second, Solana's target
    start_slot: int | None = None  # None: derived from the start time (see start_slot_for)
    diurnal_amplitude: float = 0.35  # creation rate swings ±35 % over the UTC day
    diurnal_peak_hour_utc: float = 16.0  # busiest hour (US morning)

    # --- SOL/USD ---------------------------------------------------------------------------
    sol_usd_start: float = 150.0
    sol_usd_daily_volatility: float = 0.045  # sd of the daily log return
    sol_usd_reversion_per_day: float = 0.3  # pull of the log price back to ln(sol_usd_start)
    sol_usd_interval_seconds: int = 60

    # --- fees --------------------------------------------------------------------------
    pumpfun_fee_bps: int = 100
    pumpfun_creator_fee_bps: int = 0  # 0 = the field is absent (pre-2025 events)
    pumpswap_lp_fee_bps: int = 20
    pumpswap_protocol_fee_bps: int = 5
    pumpswap_creator_fee_bps: int = 5
    pool_migration_fee: int = 15_000_001  # lamports kept by pump.fun at migration
    base_tx_fee: int = 5_000  # lamports per signature
    priority_fee_median: int = 20_000  # lamports, lognormal (sd 1) on top of the base fee
    fast_priority_fee_median: int = 400_000  # snipers, bundles, bots, rug dumps
    migration_delay_slots: tuple[int, int] = (1, 6)

    # --- token fates ----------------------------------------------------------------------
    fates: dict[str, FateProfile] = field(default_factory=_default_fates)
    # PumpSwap phase of a graduated token: Pareto trade count (heavy tail), capped
    amm_trades_min: int = 400
    amm_trades_alpha: float = 1.05
    amm_trades_cap: int = 60_000
    amm_activity: Activity = Activity(0.0, 0.0, 0, 3.0, 100.0, 1.3)
    amm_peak_multiple_median: float = 2.0  # pool SOL at the post-migration peak ÷ at migration
    amm_peak_multiple_sigma: float = 0.6
    non_graduate_peak_cap_sol: float = 75.0  # scripted peaks of other fates stay below completion

    # --- wallets ------------------------------------------------------------------------
    wallets_per_token: float = 4.0
    wallets_min: int = 2_000
    wallets_max: int = 200_000
    wallet_shares: dict[str, float] = field(
        default_factory=lambda: {
            "creator": 0.12,
            "sniper": 0.02,
            "bundler": 0.05,
            "bot": 0.01,
            "smart_money": 0.01,
            "retail": 0.79,
        }
    )
    serial_rugger_share: float = 0.05  # rugs come from this leading slice of the creators
    address_cache_size: int = 16_384

    # --- traders ------------------------------------------------------------------------
    retail_buy_median_sol: float = 0.2  # grows with the curve: × (1 + SOL in curve / growth)
    retail_buy_growth_sol: float = 40.0
    retail_buy_sigma: float = 1.1
    max_buy_sol: float = 60.0
    min_buy_sol: float = 0.005
    bot_share: float = 0.25  # share of organic steps that are a bot round trip
    bot_buy_median_sol: float = 0.08
    bot_buy_sigma: float = 0.6
    bot_repeat_mean: float = 0.6  # extra round trips in the same burst (Poisson)
    sandwich_min_sol: float = 1.0
    sandwich_probability: float = 0.3
    sniper_window_slots: int = 8
    sniper_buy_median_sol: float = 0.8
    sniper_exit_steps: int = 12  # snipers sell within this many organic steps
    sniper_take_profit: tuple[float, float] = (1.3, 2.0)
    bundle_wallets: tuple[int, int] = (2, 6)
    bundle_buy_median_sol: float = 1.0
    creator_buy_probability: float = 0.85
    creator_buy_median_sol: float = 0.8
    rug_creator_buy_median_sol: float = 2.5
    creator_dump_probability: float = 0.5
    smart_money_buy_median_sol: float = 1.5
    smart_money_take_profit: tuple[float, float] = (2.0, 4.0)
    smart_money_stop_loss: float = 0.45
    steering: float = 0.4  # buy probability = 0.5 + steering·tanh(gap / scale)
    steering_scale_sol: float = 1.5

    def validate(self) -> None:
        """Raise SimulationError with a sentence when a parameter is out of range."""
        if self.slot_ms <= 0:
            raise SimulationError(f"slot_ms must be positive, got {self.slot_ms}")
        if not 0 <= self.diurnal_amplitude < 1:
            raise SimulationError(f"diurnal_amplitude must be in [0, 1), got {self.diurnal_amplitude}")
        if self.sol_usd_start <= 0 or self.sol_usd_interval_seconds <= 0:
            raise SimulationError("sol_usd_start and sol_usd_interval_seconds must be positive")
        for name in (
            "pumpfun_fee_bps",
            "pumpfun_creator_fee_bps",
            "pumpswap_lp_fee_bps",
            "pumpswap_protocol_fee_bps",
            "pumpswap_creator_fee_bps",
        ):
            value = getattr(self, name)
            if not 0 <= value < 10_000:
                raise SimulationError(f"{name} must be in [0, 10000), got {value}")
        if set(self.fates) != set(FATES):
            raise SimulationError(f"fates must name exactly {', '.join(FATES)}; got {', '.join(sorted(self.fates))}")
        if sum(p.weight for p in self.fates.values()) <= 0 or any(p.weight < 0 for p in self.fates.values()):
            raise SimulationError("fate weights must be non-negative and not all zero")
        for name, profile in self.fates.items():
            act = profile.activity
            if act.trades_median <= 0 or act.gap_seconds <= 0 or act.gap_half <= 0:
                raise SimulationError(f"fate {name!r}: trades_median, gap_seconds and gap_half must be positive")
        act = self.amm_activity
        if act.gap_seconds <= 0 or act.gap_half <= 0:
            raise SimulationError("amm_activity: gap_seconds and gap_half must be positive")
        if set(self.wallet_shares) != set(ARCHETYPES):
            raise SimulationError(f"wallet_shares must name exactly {', '.join(ARCHETYPES)}")
        if any(v <= 0 for v in self.wallet_shares.values()):
            raise SimulationError("every wallet share must be positive")
        if self.wallets_min < 100 or self.wallets_max < self.wallets_min:
            raise SimulationError("wallets_min must be at least 100 and wallets_max at least wallets_min")
        if not 0 <= self.bot_share < 1 or not 0 <= self.steering <= 0.5:
            raise SimulationError("bot_share must be in [0, 1) and steering in [0, 0.5]")
        if self.sniper_window_slots < 1:
            raise SimulationError("sniper_window_slots must be at least 1")
        if self.min_buy_sol <= 0 or self.max_buy_sol <= self.min_buy_sol:
            raise SimulationError("need 0 < min_buy_sol < max_buy_sol")
        if self.amm_trades_alpha <= 0 or self.amm_trades_cap < self.amm_trades_min:
            raise SimulationError("amm_trades_alpha must be positive and amm_trades_cap ≥ amm_trades_min")
