"""Holder score, wallet classes, trader signals and risks as of T (issue 11 items 1, 3, 6; spec §2.2, §4).

Hand-built trade histories go through the loader; `megatron dbt build --vars {as_of: T}` builds the marts
token_holder_scores, token_signals, token_risk and wallet_classes as a user does, and the rows are compared with
values computed here by hand from the spec's formulas. Each token's holders buy whole numbers of tokens, so its
balances, Gini and shares are exact; trades carry no curve state, so progress is the traded sum over the
793.1 M tokens a pump.fun curve sells (10 M tokens = 1.26 %).

The history is loaded in two parts: everything up to shortly after T1 first (the marts are built as of T1 and
read), then later trades (the marts are built as of T1 again: nothing may change), then as of T2 (the later
trades count).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from megatron.cli import main
from megatron.events import CurveComplete, TokenCreate, Trade

from .test_exact_raw import key, load, sig

T0 = 1_790_000_000  # 2026-09-21 14:13:20 UTC, long before now()
T1 = T0 + 3_600  # the first as-of time: an hour after the first trades
T2 = T0 + 7_200  # the second
SLOT0 = 500_000_000  # slot at T0 (2.5 slots per second)
M = 10**6  # raw units of one token (6 decimals)


def slot_at(at: int) -> int:
    return SLOT0 + (at - T0) * 5 // 2


class Book:
    """The events of the hand-built market, numbered so every signature is unique."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.events: list[Any] = []
        self.n = 0

    def trade(self, token: str, wallet: str, side: str, tokens: int, at: int, *, slot: int | None = None,
              sol: int = 10**8) -> Trade:
        self.n += 1
        event = Trade(
            signature=sig(f"{self.name}-{self.n}"), slot=slot if slot is not None else slot_at(at), block_time=at,
            event_index=0, program="pumpfun", mint=key(f"{token}-mint"), pool=key(f"{token}-curve"),
            side=side, user=key(wallet), sol_amount=sol, token_amount=tokens * M,  # type: ignore[arg-type]
        )
        self.events.append(event)
        return event

    def create(self, token: str, at: int, slot: int) -> None:
        self.events.append(TokenCreate(
            signature=sig(f"{token}-create"), slot=slot, block_time=at, event_index=0, program="pumpfun",
            mint=key(f"{token}-mint"), name=token, symbol=token[:8].upper(), uri="https://x.invalid",
            creator=key(f"{token}-creator"), bonding_curve=key(f"{token}-curve"),
            virtual_sol_reserves=30 * 10**9, virtual_token_reserves=1_073_000_000 * M,
            real_token_reserves=793_100_000 * M, token_total_supply=10**15,
        ))

    def complete(self, token: str, at: int) -> None:
        self.n += 1
        self.events.append(CurveComplete(
            signature=sig(f"{self.name}-{self.n}"), slot=slot_at(at), block_time=at, event_index=1, program="pumpfun",
            mint=key(f"{token}-mint"), bonding_curve=key(f"{token}-curve"), user=key(f"{token}-finisher"),
        ))

    def holders(self, token: str, balances: list[int], at: int = T0) -> None:
        """One buy per holder, a second apart from `at`."""
        for i, tokens in enumerate(balances):
            self.trade(token, f"{token}-h{i}", "buy", tokens, at + i)


# the hand-built sets: name → balances in whole tokens (bought at T0, T0 + 1 s, ...)
SETS: dict[str, list[int]] = {
    "even10": [10_000_000] * 10,  # Gini 0 (40), top-1 exactly 10 % (20, not 30), 10 holders: not dampened
    "nine": [10_000_000] * 9,  # 9 holders: dampened, f = 0.9
    "five": [20_000_000] * 5,  # 5 holders, the fewest allowed: f = 0.5, top-1 exactly 20 % (0)
    "four": [25_000_000] * 4,  # 4 holders: absent
    "early": [10_000_000] * 5,  # 50 M tokens = 6.3 % progress: below the 10 % gate, absent
    "gini03": [4_000_000] * 5 + [16_000_000] * 5,  # Gini exactly 0.3 (30, not 40), top-1 16 % (10)
    "whale": [1_000_000] * 9 + [91_000_000],  # Gini 0.81 (0), top-1 91 % (0)
}
GRADUATED = [12_000_000] * 8  # 96 M tokens, then the curve completes at T0 + 100


def build_market() -> tuple[Book, Book]:
    """(events up to T1 + 60 s, events after)."""
    first, later = Book("first"), Book("later")
    for token, balances in SETS.items():
        first.holders(token, balances)
    first.holders("grad", GRADUATED)
    first.complete("grad", T0 + 100)
    first.trade("grad", "grad-late", "buy", 5_000_000, T0 + 200)  # after graduation: not in the frozen snapshot

    # a launch with a creator buy and two bundled buys in the create slot, a sniper 3 slots later, a buyer
    # 11 slots later (outside the 10-slot window), the creator selling part 20 s after the launch
    launch_slot = slot_at(T0)
    first.create("launch", T0, launch_slot)
    first.trade("launch", "launch-creator", "buy", 5_000_000, T0, slot=launch_slot)
    first.trade("launch", "bundler-a", "buy", 3_000_000, T0, slot=launch_slot)
    first.trade("launch", "bundler-b", "buy", 3_000_000, T0, slot=launch_slot)
    first.trade("launch", "sniper", "buy", 2_000_000, T0 + 1, slot=launch_slot + 3)
    first.trade("launch", "late-buyer", "buy", 1_000_000, T0 + 4, slot=launch_slot + 11)
    first.trade("launch", "launch-creator", "sell", 2_000_000, T0 + 20)
    # the same sniper 2 slots into a second launch: two snipes out of two tokens bought make a sniper
    second_slot = slot_at(T0 + 600)
    first.create("launch2", T0 + 600, second_slot)
    first.trade("launch2", "sniper", "buy", 2_000_000, T0 + 601, slot=second_slot + 2)

    # a bot: 12 round trips over 6 tokens, one a second, the same amount each time
    for k in range(12):
        token = f"botted{k % 6}"
        first.trade(token, "bot", "buy", 1_000_000, T0 + 1000 + 2 * k)
        first.trade(token, "bot", "sell", 1_000_000, T0 + 1001 + 2 * k)

    # after T1: more holders, the creator dumps, a new sniper-looking buy in a new launch
    for i in range(5):
        later.trade("even10", f"even10-new{i}", "buy", 10_000_000, T1 + 600 + i)
    later.trade("launch", "launch-creator", "sell", 3_000_000, T1 + 900)
    later.trade("launch", "sniper", "sell", 2_000_000, T1 + 901)
    later.trade("gini03", "gini03-h0", "sell", 4_000_000, T1 + 1000)
    return first, later


def iso(at: int) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat()


def build_marts(url: str, at: int) -> None:
    """`megatron dbt build` of the four marts and everything they read, as of `at`, as a user runs it."""
    args = ["dbt", "build", "-s", "+token_holder_scores", "+token_signals", "+token_risk", "+wallet_classes",
            "--indirect-selection", "cautious", "--vars", f"{{as_of: '{iso(at)}'}}"]
    result = CliRunner().invoke(main, args, env={"DATABASE_URL": url}, catch_exceptions=False)
    assert result.exit_code == 0, f"megatron dbt build as of {iso(at)} exited with {result.exit_code}"


Rows = dict[str, dict[str, dict[str, Any]]]


def read_marts(url: str) -> Rows:
    """mart → key (token mint or wallet) → row, without the columns of when it was built."""
    out: Rows = {}
    with psycopg.connect(url) as conn:
        for mart, key_column in (("token_holder_scores", "token_mint"), ("token_signals", "token_mint"),
                                 ("token_risk", "token_mint"), ("wallet_classes", "wallet_address")):
            cur = conn.execute(f"select * from marts.{mart}")
            names = [d.name for d in cur.description or []]
            out[mart] = {row[names.index(key_column)]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}
    return out


@dataclass(frozen=True)
class Built:
    at_t1: Rows
    at_t1_again: Rows  # after the later trades were loaded
    at_t2: Rows


@pytest.fixture(scope="module")
def built(database_url: str) -> Iterator[Built]:
    first, later = build_market()
    with psycopg.connect(database_url, autocommit=True) as conn:
        load(conn, first.events)
    build_marts(database_url, T1)
    at_t1 = read_marts(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        load(conn, later.events)
    build_marts(database_url, T1)
    at_t1_again = read_marts(database_url)
    build_marts(database_url, T2)
    yield Built(at_t1, at_t1_again, read_marts(database_url))


# --- the spec's formulas, by hand ----------------------------------------------------------------


def tier(value: float, bounds: list[tuple[float, float]]) -> float:
    """Points of the first `value < bound` tier, else 0."""
    return next((points for bound, points in bounds if value < bound), 0.0)


def entropy(parts: list[int]) -> float:
    total = sum(parts)
    return -sum(p / total * math.log2(p / total) for p in parts if p) / math.log2(5)


def expected_score(balances: list[int], bought_at: list[int], at: int) -> dict[str, float]:
    """Spec §4.5-4.6 for a set of fresh one-trade wallets (no bots, no smart money, ages < 7 days)."""
    n, total = len(balances), sum(balances)
    ordered = sorted(balances)
    gini = sum((2 * i - n - 1) * x for i, x in enumerate(ordered, 1)) / (n * total)
    top1 = max(balances) / total * 100
    f = max(0.3, n / 10) if n < 10 else 1.0
    gini_points = tier(gini, [(0.3, 40), (0.5, 30), (0.7, 20), (0.8, 10)]) * f
    top1_points = tier(top1, [(5, 40), (10, 30), (15, 20), (20, 10)]) * f
    count_points = min(31, 2 * n) * f if n < 10 else min(31, n // 10)
    quality = 40 + 0 + 5  # bot ratio 0 → 40, smart money 0 → 0, average age < 7 days → the config's 5
    active = min(40, 1.0 * 50)  # every holder traded in the last 24 h
    velocity = sum(0.7 * max(0, 1 - (at - t) / 86400 / 30) + 0.3 * min(1, 1 / 100) for t in bought_at) / n
    shares = [b / total for b in balances]
    balance_buckets = [0] * 5
    for s in shares:
        balance_buckets[next((i for i, b in enumerate([0.0001, 0.001, 0.01, 0.05]) if s < b), 4)] += 1
    values = {b: balances.count(b) for b in balances}
    suspicion = min(1, 0.3 * sum(1 for c in values.values() if c > 0.1 * n))
    organic = max(0.0, 0.5 * entropy([n]) + 0.5 * entropy(balance_buckets) - 0.3 * suspicion)
    activity = active + min(40, organic * 40) + min(31, velocity * 31)
    distribution = round(gini_points + top1_points + count_points, 1)
    return {"gini": gini, "top1": top1, "f": f, "gini_points": gini_points, "top_1_points": top1_points,
            "holder_count_points": count_points, "distribution": distribution, "quality": quality,
            "activity": round(activity, 1), "total": distribution + quality + round(activity, 1)}


def mint(token: str) -> str:
    return key(f"{token}-mint")


# --- holder score ------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["even10", "nine", "five", "gini03", "whale"])
def test_holder_score_of_a_hand_built_set_equals_the_spec_computed_by_hand(built: Built, token: str) -> None:
    balances = SETS[token]
    expected = expected_score(balances, [T0 + i for i in range(len(balances))], T1)
    row = built.at_t1["token_holder_scores"][mint(token)]
    assert row["mode"] == "trade" and row["is_frozen"] is False and row["included_holders"] == len(balances)
    assert row["gini"] == round(Decimal(expected["gini"]), 4)
    assert float(row["gini_points"]) == pytest.approx(expected["gini_points"])
    assert float(row["top_1_points"]) == pytest.approx(expected["top_1_points"])
    assert float(row["holder_count_points"]) == pytest.approx(expected["holder_count_points"])
    assert float(row["dampening_factor"]) == pytest.approx(expected["f"])
    assert float(row["distribution_score"]) == expected["distribution"]
    assert float(row["quality_score"]) == expected["quality"]
    assert float(row["activity_score"]) == pytest.approx(expected["activity"], abs=0.1)
    assert row["holder_score"] == row["distribution_score"] + row["quality_score"] + row["activity_score"]


def test_tier_boundaries_fall_on_the_lower_tier(built: Built) -> None:
    rows = built.at_t1["token_holder_scores"]
    # Gini exactly 0.3 is not < 0.3: 30 points; top-1 exactly 10 % is not < 10: 20 points; exactly 20 %: 0
    assert rows[mint("gini03")]["gini"] == Decimal("0.3000") and rows[mint("gini03")]["gini_points"] == 30
    assert rows[mint("even10")]["top1_pct"] == 10 and rows[mint("even10")]["top_1_points"] == 20
    assert rows[mint("five")]["top1_pct"] == 20 and rows[mint("five")]["top_1_points"] == 0


def test_low_holder_dampening_scales_gini_top1_and_count_points(built: Built) -> None:
    rows = built.at_t1["token_holder_scores"]
    nine, ten = rows[mint("nine")], rows[mint("even10")]
    assert (nine["dampening_factor"], ten["dampening_factor"]) == (Decimal("0.900"), Decimal("1.000"))
    # 9 holders: min(31, 2 × 9) × 0.9 = 16.2; 10 holders: floor(10 / 10) = 1
    assert (nine["holder_count_points"], ten["holder_count_points"]) == (Decimal("16.20"), Decimal("1.00"))
    assert nine["gini_points"] == Decimal("36.00") and ten["gini_points"] == Decimal("40.00")


def test_fewer_than_five_holders_or_progress_below_ten_percent_means_no_score(built: Built) -> None:
    rows = built.at_t1["token_holder_scores"]
    assert mint("four") not in rows  # 4 holders at 12.6 %: absent, not 0
    assert mint("early") not in rows  # 5 holders at 6.3 %
    assert mint("five") in rows  # 5 holders at 12.6 %: the smallest set that counts
    assert all(row["progress"] >= 10 or row["is_frozen"] for row in rows.values())


def test_a_graduated_token_keeps_its_frozen_snapshot_taken_at_graduation(built: Built) -> None:
    for rows in (built.at_t1, built.at_t2):
        row = rows["token_holder_scores"][mint("grad")]
        assert row["is_frozen"] is True
        assert row["scored_at"] == datetime.fromtimestamp(T0 + 100, timezone.utc)
        assert row["included_holders"] == 8  # the buyer after graduation is not in it
        assert row["dampening_factor"] == Decimal("0.800")
    assert built.at_t1["token_holder_scores"][mint("grad")] == {
        **built.at_t2["token_holder_scores"][mint("grad")], "as_of": built.at_t1["token_holder_scores"][mint("grad")]["as_of"]
    }


# --- trader signals and wallet classes -----------------------------------------------------------------


def test_signals_count_snipers_bundles_and_the_creators_first_sell(built: Built) -> None:
    row = built.at_t1["token_signals"][mint("launch")]
    assert row["sniper_count"] == 1  # the buyer 11 slots in is outside the 10-slot window
    assert row["sniper_supply_pct"] == Decimal("0.2")  # 2 M of 1 B
    assert (row["bundled_buy_wallets"], row["is_bundled"]) == (2, True)
    assert row["bundled_supply_pct"] == Decimal("0.6")
    assert row["creator_holding_pct"] == Decimal("0.3")  # bought 5 M, sold 2 M
    assert row["creator_sold"] is True
    assert row["creator_first_sell_at"] == datetime.fromtimestamp(T0 + 20, timezone.utc)
    assert row["buyer_count"] == 4 and row["fresh_wallet_share"] == 1  # every buyer first seen at its buy
    assert row["holder_count"] == 5 and row["top10_pct"] == 100


def test_wallet_classes_find_the_sniper_the_bundlers_and_the_bot(built: Built) -> None:
    wallets = built.at_t1["wallet_classes"]
    sniper, late, bundler, bot = (wallets[key(w)] for w in ("sniper", "late-buyer", "bundler-a", "bot"))
    assert (sniper["snipes"], sniper["is_sniper"]) == (2, True)
    assert (late["snipes"], late["is_sniper"]) == (0, False)
    assert (bundler["bundled_buys"], bundler["is_bundler"], bundler["is_sniper"]) == (1, True, False)
    assert wallets[key("launch-creator")]["is_bundler"] is False  # the creator's own buy in its create slot
    # the bot: very new 0.20, round numbers (12 buys / 12 sells) 0.15, regular 1 s gaps 0.20, the same amount
    # 0.15, fast triples 0.30, buy-sell-buy triples 0.25, 6 tokens in < 1 day 0.20 = 1.45 of 2.10 evaluable
    assert (bot["timing_patterns"], bot["mev_activity"], bot["sandwich_pattern"], bot["identical_trades"]) == (
        True, True, True, True)
    assert bot["bot_score"] == round(Decimal("1.45") / Decimal("2.10"), 4) and bot["is_bot"] is True
    # a one-buy holder: very new 0.20 + only buys 0.10 = 0.30 / 2.10
    holder = wallets[key("even10-h0")]
    assert holder["bot_score"] == round(Decimal("0.30") / Decimal("2.10"), 4) and holder["is_bot"] is False


# --- as of T ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mart", ["token_holder_scores", "token_signals", "token_risk", "wallet_classes"])
def test_data_after_t_changes_nothing_as_of_t(built: Built, mart: str) -> None:
    assert built.at_t1_again[mart] == built.at_t1[mart]


def test_data_before_the_later_t_does_count_then(built: Built) -> None:
    assert built.at_t2["token_holder_scores"][mint("even10")]["included_holders"] == 15
    assert built.at_t2["token_signals"][mint("launch")]["creator_holding_pct"] == 0
    assert built.at_t2["token_signals"][mint("launch")]["sniper_supply_pct"] == 0


# --- risks ----------------------------------------------------------------------------------------------


def test_every_risk_stays_within_0_and_100_and_the_overall_is_the_weighted_sum(built: Built) -> None:
    parts = ["concentration_risk", "bot_swarm_risk", "rug_risk", "wash_trading_risk", "liquidity_risk",
             "volatility_risk", "insider_risk", "overall_risk"]
    rows = [*built.at_t1["token_risk"].values(), *built.at_t2["token_risk"].values()]
    assert len(rows) >= 2 * len(SETS)
    for row in rows:
        assert all(0 <= row[p] <= 100 for p in parts), row
        weighted = (Decimal("0.25") * row["concentration_risk"] + Decimal("0.20") * row["bot_swarm_risk"]
                    + Decimal("0.25") * row["rug_risk"] + Decimal("0.10") * row["wash_trading_risk"]
                    + Decimal("0.10") * row["liquidity_risk"] + Decimal("0.10") * row["volatility_risk"])
        assert row["overall_risk"] == min(Decimal(100), weighted).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_risks_of_a_whale_held_token_by_hand(built: Built) -> None:
    row = built.at_t1["token_risk"][mint("whale")]
    gini = Decimal(sum((2 * i - 10 - 1) * x for i, x in enumerate(sorted(SETS["whale"]), 1))) / (10 * sum(SETS["whale"]))
    assert row["concentration_risk"] == 80  # Gini 0.81 > 0.8
    assert row["liquidity_risk"] == 70  # 10 holders: < 50 → 70
    # rug: 2 × 91 % + 100 × (all holders younger than 7 days) + 50 × Gini, capped at 100
    assert row["rug_risk"] == 100
    assert row["gini"] == round(gini, 4)
    assert row["bot_swarm_risk"] == 0 and row["volatility_risk"] == 0
    launch = built.at_t1["token_risk"][mint("launch")]
    # insider: 2 × (0.3 creator + 0.6 bundled + 0.2 sniper) + 20 bundled + 20 creator sold
    assert launch["insider_risk"] == Decimal("42.20")
