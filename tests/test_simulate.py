"""The synthetic market has the properties it claims. Pure Python: no database.

One seed-fixed run (2,000 tokens over one day) is generated once per module; every test reads it.
"""

from __future__ import annotations

import collections
import itertools
import json
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import base58
import pytest

from megatron.events import (
    INITIAL_REAL_TOKEN_RESERVES,
    INITIAL_VIRTUAL_SOL_RESERVES,
    INITIAL_VIRTUAL_TOKEN_RESERVES,
    TOTAL_SUPPLY_RAW,
    AnyEvent,
    CurveComplete,
    Migration,
    SolUsdPrice,
    TokenCreate,
    Trade,
)
from megatron.simulate import (
    SimParams,
    SimSummary,
    SimulationError,
    simulate,
    token_fates,
    wallet_labels,
    write_jsonl,
)
from megatron.validate import parse_canonical, validate_event

TOKENS = 2_000
DAYS = 1.0
SEED = 7
START = datetime(2025, 3, 1, tzinfo=timezone.utc)
PARAMS = SimParams()


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass
class Run:
    events: list[AnyEvent]
    summary: SimSummary
    labels: dict[str, str]  # wallet address → archetype
    fates: dict[str, str]  # mint → scripted fate
    creates: dict[str, TokenCreate]
    trades: list[Trade]
    graduated: set[str]


@pytest.fixture(scope="module")
def run() -> Run:
    summary = SimSummary()
    events = list(simulate(TOKENS, DAYS, SEED, START, summary=summary))
    creates = {e.mint: e for e in events if isinstance(e, TokenCreate)}
    return Run(
        events=events,
        summary=summary,
        labels=dict(wallet_labels(TOKENS, SEED)),
        fates=dict(token_fates(TOKENS, SEED)),
        creates=creates,
        trades=[e for e in events if isinstance(e, Trade)],
        graduated={e.mint for e in events if isinstance(e, CurveComplete)},
    )


def trades_by_archetype(run: Run, archetype: str) -> list[Trade]:
    return [t for t in run.trades if run.labels[t.user] == archetype]


# --- well-formed stream ---------------------------------------------------------------------


def test_every_event_passes_the_canonical_validator(run: Run) -> None:
    # every non-trade event and every fourth trade: the validator costs ~70 µs an event, and the
    # other tests check every trade's amounts, addresses and reserves
    now = START + timedelta(days=DAYS + 1)
    for i, event in enumerate(run.events):
        if i % 4 == 0 or not isinstance(event, Trade):
            validate_event(event, now=now)


def test_every_address_is_32_bytes_of_base58_and_every_signature_64(run: Run) -> None:
    addresses = set()
    for event in run.events:
        if isinstance(event, SolUsdPrice):
            continue
        assert len(base58.b58decode(event.signature)) == 64
        for name in ("mint", "pool", "user", "creator", "bonding_curve", "base_vault", "quote_vault", "lp_mint"):
            value = getattr(event, name, None)
            if value is not None:
                addresses.add(value)
    for address in addresses:
        assert len(base58.b58decode(address)) == 32
        assert base58.b58encode(base58.b58decode(address)).decode() == address
    assert all(mint.endswith("pump") for mint in run.creates)


def test_trades_have_positive_amounts_and_fees(run: Run) -> None:
    for t in run.trades:
        assert t.sol_amount > 0 and t.token_amount > 0
        assert t.fee is not None and t.fee > 0 and t.fee_basis_points is not None
        assert t.tx_fee is not None and t.tx_fee >= PARAMS.base_tx_fee
        assert t.timestamp == t.block_time


def test_events_come_in_nondecreasing_time_and_slot_order(run: Run) -> None:
    last_time, last_slot = 0, 0
    for event in run.events:
        if isinstance(event, SolUsdPrice):
            assert event.price_time >= last_time
            last_time = event.price_time
            continue
        assert event.block_time >= last_time and event.slot >= last_slot
        last_time, last_slot = event.block_time, event.slot
    end = int(START.timestamp() + DAYS * 86_400)
    assert last_time < end


def test_shared_signatures_are_create_with_buy_and_buy_with_complete_only(run: Run) -> None:
    by_sig: dict[str, list[AnyEvent]] = collections.defaultdict(list)
    for event in run.events:
        if not isinstance(event, SolUsdPrice):
            by_sig[event.signature].append(event)
    shapes = collections.Counter()
    for group in by_sig.values():
        assert [e.event_index for e in group] == list(range(len(group)))
        if len(group) > 1:
            shapes[tuple(type(e).__name__ for e in group)] += 1
            assert len({e.slot for e in group}) == 1
    assert set(shapes) == {("TokenCreate", "Trade"), ("Trade", "CurveComplete")}
    for mint, create in run.creates.items():
        first = by_sig[create.signature]
        if len(first) == 2:
            assert first[1].user == create.creator and first[1].side == "buy"


def test_summary_matches_the_stream(run: Run) -> None:
    s = run.summary
    kinds = collections.Counter(type(e) for e in run.events)
    assert s.events == len(run.events)
    assert s.tokens == kinds[TokenCreate] == TOKENS
    assert s.trades == kinds[Trade] == s.buys + s.sells == s.pumpfun_trades + s.pumpswap_trades
    assert s.graduations == kinds[CurveComplete] == len(run.graduated)
    assert s.migrations == kinds[Migration]
    assert s.sol_usd_prices == kinds[SolUsdPrice]
    assert s.sol_volume_lamports == sum(t.sol_amount for t in run.trades)
    active = collections.Counter(run.labels[a] for a in {t.user for t in run.trades} | {c.creator for c in run.creates.values()})
    assert s.wallets == {a: active.get(a, 0) for a in s.wallets}
    assert all(n > 0 for n in s.wallets.values())
    assert sum(s.fates.values()) == TOKENS


# --- market shape ---------------------------------------------------------------------------


def test_graduation_share_is_between_half_and_two_percent(run: Run) -> None:
    share = len(run.graduated) / TOKENS
    assert 0.005 <= share <= 0.02, share


def test_trade_counts_are_heavy_tailed(run: Run) -> None:
    per_token = collections.Counter(t.mint for t in run.trades)
    counts = sorted((per_token.get(m, 0) for m in run.creates), reverse=True)
    top = counts[: TOKENS // 100]
    assert sum(top) / sum(counts) > 0.20
    assert statistics.median(counts) <= 20
    assert counts[0] > 1_000


def test_most_tokens_die_within_minutes(run: Run) -> None:
    last = {t.mint: t.block_time for t in run.trades}
    lives = [last.get(m, c.block_time) - c.block_time for m, c in run.creates.items()]
    assert statistics.median(lives) < 600
    assert max(lives) > 6 * 3_600  # and a few live for hours


def test_sol_usd_price_every_minute_over_the_whole_period(run: Run) -> None:
    prices = [e for e in run.events if isinstance(e, SolUsdPrice)]
    start = int(START.timestamp())
    assert [p.price_time for p in prices] == list(range(start, start + int(DAYS * 86_400), 60))
    values = [float(p.price_usd) for p in prices]
    assert all(p.source == "simulator" for p in prices)
    assert 100 < min(values) and max(values) < 220
    assert len(set(values)) > len(values) // 2  # it moves


# --- exact curve and pool math ------------------------------------------------------------------


def test_every_pumpfun_and_pumpswap_trade_replays_exactly_on_its_reserves(run: Run) -> None:
    curve: dict[str, list[int]] = {}
    pools: dict[str, list[int]] = {}
    last_trade: dict[str, Trade] = {}
    bps = PARAMS.pumpfun_fee_bps
    lp_bps = PARAMS.pumpswap_lp_fee_bps
    for e in run.events:
        if isinstance(e, TokenCreate):
            assert (e.virtual_sol_reserves, e.virtual_token_reserves, e.real_token_reserves, e.token_total_supply) == (
                INITIAL_VIRTUAL_SOL_RESERVES, INITIAL_VIRTUAL_TOKEN_RESERVES, INITIAL_REAL_TOKEN_RESERVES, TOTAL_SUPPLY_RAW,
            )
            curve[e.mint] = [INITIAL_VIRTUAL_SOL_RESERVES, INITIAL_VIRTUAL_TOKEN_RESERVES, 0, INITIAL_REAL_TOKEN_RESERVES]
        elif isinstance(e, Trade) and e.program == "pumpfun":
            vs, vt, rs, rt = curve[e.mint]
            assert rt > 0, "no pump.fun trade after the curve completed"
            sol, tok = e.sol_amount, e.token_amount
            assert e.fee == ceil_div(sol * bps, 10_000) and e.fee_basis_points == bps
            if e.side == "buy":
                if tok == rt:  # the last buy: capped, pays the exact-tokens price
                    assert vt - ceil_div(vs * vt, vs + sol) >= rt
                    assert sol == tok * vs // (vt - tok) + 1
                else:
                    assert tok == vt - ceil_div(vs * vt, vs + sol) and tok < rt
                vs, vt, rs, rt = vs + sol, vt - tok, rs + sol, rt - tok
            else:
                assert sol == tok * vs // (vt + tok)
                vs, vt, rs, rt = vs - sol, vt + tok, rs - sol, rt + tok
            assert (vs, vt, rs, rt) == (
                e.virtual_sol_reserves, e.virtual_token_reserves, e.real_sol_reserves, e.real_token_reserves,
            )
            assert vs - INITIAL_VIRTUAL_SOL_RESERVES == rs >= 0
            assert vt * vs >= INITIAL_VIRTUAL_SOL_RESERVES * INITIAL_VIRTUAL_TOKEN_RESERVES
            curve[e.mint] = [vs, vt, rs, rt]
            last_trade[e.mint] = e
        elif isinstance(e, CurveComplete):
            vs, vt, rs, rt = curve[e.mint]
            assert rt == 0
            assert abs(rs / 1e9 - 85.0) < 0.05  # ≈ 85 SOL raised
            buy = last_trade[e.mint]
            assert (buy.signature, buy.event_index, e.event_index, buy.side, e.user) == (
                e.signature, 0, 1, "buy", buy.user,
            )
        elif isinstance(e, Migration):
            rs = curve[e.mint][2]
            assert curve[e.mint][3] == 0 and e.platform == "pumpswap" and e.program == "pumpfun"
            assert e.sol_amount == rs - PARAMS.pool_migration_fee
            assert e.token_amount == TOTAL_SUPPLY_RAW - INITIAL_REAL_TOKEN_RESERVES
            assert e.pool not in (e.bonding_curve, e.mint)
            pools[e.mint] = [e.token_amount, e.sol_amount]
            last_trade[e.mint] = e  # type: ignore[assignment]
        elif isinstance(e, Trade):
            assert e.program == "pumpswap"
            base, quote = pools[e.mint]
            sol, tok = e.sol_amount, e.token_amount
            assert e.pool == last_trade[e.mint].pool
            if e.side == "buy":
                assert tok == base * sol // (quote + sol)
                base, quote = base - tok, quote + sol + ceil_div(sol * lp_bps, 10_000)
            else:
                assert sol == quote * tok // (base + tok)
                base, quote = base + tok, quote - sol + ceil_div(sol * lp_bps, 10_000)
            assert (base, quote) == (e.real_token_reserves, e.real_sol_reserves)
            assert (base, quote) == (e.virtual_token_reserves, e.virtual_sol_reserves)
            assert e.fee == ceil_div(sol * PARAMS.pumpswap_protocol_fee_bps, 10_000)
            assert e.lp_fee == ceil_div(sol * lp_bps, 10_000) and e.lp_fee_basis_points == lp_bps
            pools[e.mint] = [base, quote]
    assert len(pools) == len(run.graduated) > 0


def test_holder_balances_equal_the_sum_of_trades_and_never_go_negative(run: Run) -> None:
    balances: dict[tuple[str, str], int] = collections.Counter()
    reserves: dict[str, int] = {}  # the curve's real token reserves, then the pool's
    for e in run.events:
        if isinstance(e, Migration):
            reserves[e.mint] = e.token_amount or 0
        elif isinstance(e, Trade):
            key = (e.mint, e.user)
            balances[key] += e.token_amount if e.side == "buy" else -e.token_amount
            assert balances[key] >= 0, f"{e.user} sold more {e.mint} than it held"
            reserves[e.mint] = e.real_token_reserves or 0
    held: dict[str, int] = collections.Counter()
    for (mint, _), amount in balances.items():
        held[mint] += amount
    for mint, amount in held.items():
        if mint in run.graduated:  # every token is either held or in the pool
            assert amount + reserves[mint] == TOTAL_SUPPLY_RAW
        else:  # what the curve sold is held by someone
            assert amount == INITIAL_REAL_TOKEN_RESERVES - reserves[mint]


# --- archetypes ------------------------------------------------------------------------------------


def test_snipers_buy_only_within_the_first_slots_after_create(run: Run) -> None:
    buys = [t for t in trades_by_archetype(run, "sniper") if t.side == "buy"]
    assert len(buys) > TOKENS
    for t in buys:
        assert 1 <= t.slot - run.creates[t.mint].slot <= PARAMS.sniper_window_slots


def test_bundlers_buy_in_the_creation_slot(run: Run) -> None:
    buys = [t for t in trades_by_archetype(run, "bundler") if t.side == "buy"]
    assert all(t.slot == run.creates[t.mint].slot for t in buys)
    per_token = collections.Counter(t.mint for t in buys)
    assert sum(1 for n in per_token.values() if n >= 2) > TOKENS * 0.1


def test_bots_trade_small_amounts_often_and_round_trip_within_slots(run: Run) -> None:
    bot, retail = trades_by_archetype(run, "bot"), trades_by_archetype(run, "retail")
    per_bot = len(bot) / len({t.user for t in bot})
    per_retail = len(retail) / len({t.user for t in retail})
    assert per_bot > 20 * per_retail
    assert statistics.median(t.sol_amount for t in bot if t.side == "buy") < statistics.median(
        t.sol_amount for t in retail if t.side == "buy"
    )
    opened: dict[tuple[str, str], Trade] = {}
    gaps = []
    for t in bot:
        if t.side == "buy":
            opened[(t.mint, t.user)] = t
        elif (t.mint, t.user) in opened:
            buy = opened.pop((t.mint, t.user))
            if buy.program == t.program:  # (a round trip can straddle a migration)
                gaps.append(t.slot - buy.slot)
    assert len(gaps) > len(bot) // 3 and max(gaps) <= 2


def test_smart_money_buys_tokens_that_graduate_far_more_often_and_profits(run: Run) -> None:
    sm = trades_by_archetype(run, "smart_money")
    bought = {t.mint for t in sm if t.side == "buy"}
    rate = len(bought & run.graduated) / len(bought)
    overall = len(run.graduated) / TOKENS
    assert rate > 3 * overall, (rate, overall)
    realized = sum((t.sol_amount - t.fee) if t.side == "sell" else -(t.sol_amount + t.fee) for t in sm)  # type: ignore[operator]
    assert realized > 0
    assert any(t.side == "sell" for t in sm)


def test_creators_dump_later_and_rug_creators_take_sol_out(run: Run) -> None:
    creator_of = {m: c.creator for m, c in run.creates.items()}
    flows: dict[str, int] = collections.Counter()
    dumped = set()
    for t in run.trades:
        if t.user == creator_of[t.mint]:
            if t.side == "sell":
                assert t.slot > run.creates[t.mint].slot
                dumped.add(t.mint)
            flows[run.fates[t.mint]] += (t.sol_amount - t.fee) if t.side == "sell" else -(t.sol_amount + t.fee)  # type: ignore[operator]
    assert len(dumped) > TOKENS * 0.3
    assert flows["rug"] > 0
    end = START.timestamp() + DAYS * 86_400
    rugs = [m for m, f in run.fates.items() if f == "rug" and run.creates[m].block_time < end - 7_200]
    assert all(m in dumped for m in rugs)  # every rug that had time to happen did


def test_rugs_and_fades_collapse_while_recoveries_come_back(run: Run) -> None:
    peak: dict[str, int] = collections.Counter()
    last: dict[str, int] = {}
    recovered: dict[str, bool] = {}
    trough_after_peak: dict[str, int] = {}
    for t in run.trades:
        if t.program != "pumpfun":
            continue
        sol = t.real_sol_reserves or 0
        if sol > peak[t.mint]:
            if trough_after_peak.get(t.mint, sol) < peak[t.mint] * 0.5 and sol >= peak[t.mint]:
                recovered[t.mint] = True  # a sell-off of half or more, then a new high
            peak[t.mint] = sol
            trough_after_peak[t.mint] = sol
        trough_after_peak[t.mint] = min(trough_after_peak[t.mint], sol)
        last[t.mint] = sol

    def final_over_peak(fate: str) -> float:
        return statistics.median(last[m] / peak[m] for m in last if run.fates[m] == fate and peak[m] > 0)

    assert final_over_peak("rug") < 0.3
    assert final_over_peak("fade") < 0.4
    assert final_over_peak("recover") > 0.5
    with_recovery = sum(1 for m in recovered if run.fates[m] in ("recover", "graduate"))
    without = sum(1 for m in last if run.fates[m] == "fade" and last[m] < peak[m] * 0.5)
    assert with_recovery > 20 and without > 100


# --- determinism, I/O, arguments ------------------------------------------------------------------


def test_same_seed_gives_the_same_events_and_another_seed_does_not(run: Run) -> None:
    first = list(itertools.islice(simulate(TOKENS, DAYS, SEED, START), 10_000))
    again = list(itertools.islice(simulate(TOKENS, DAYS, SEED, START), 10_000))
    other = list(itertools.islice(simulate(TOKENS, DAYS, SEED + 1, START), 10_000))
    assert first == again == run.events[:10_000]
    assert first != other
    trades = [e for e in other if isinstance(e, Trade)]
    assert not {t.signature for t in trades} & {e.signature for e in first if isinstance(e, Trade)}


def test_jsonl_files_hold_the_canonical_lines_split_by_size(run: Run, tmp_path: Path) -> None:
    events = run.events[:3_000]
    parts = write_jsonl(events, tmp_path / "sim.jsonl", max_bytes=250_000)
    assert len(parts) > 2 and [p.name for p in parts[:2]] == ["sim-00000.jsonl", "sim-00001.jsonl"]
    lines = [line for p in parts for line in p.read_text().splitlines()]
    assert all(p.stat().st_size <= 250_000 for p in parts)
    assert lines == [e.to_json() for e in events]
    assert [parse_canonical(json.loads(line)) for line in lines] == events
    single = write_jsonl(events[:10], tmp_path / "one.jsonl.gz")
    assert [p.name for p in single] == ["one.jsonl.gz"]


def test_progress_is_reported_up_to_the_whole_period() -> None:
    calls: list[tuple[int, int]] = []
    events = list(simulate(20, 0.05, 1, START, progress=lambda done, total: calls.append((done, total))))
    assert events and calls[-1] == (4_320, 4_320)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tokens": -1}, "tokens must be a non-negative integer"),
        ({"days": 0}, "days must be a positive number"),
        ({"start": datetime(2023, 6, 1, tzinfo=timezone.utc)}, "before pump.fun existed"),
        ({"params": SimParams(pumpfun_fee_bps=10_000)}, "pumpfun_fee_bps must be in"),
    ],
)
def test_bad_arguments_are_refused_with_a_sentence(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"tokens": 10, "days": 1.0, "seed": 1, "start": START, **kwargs}
    with pytest.raises(SimulationError, match=message):
        simulate(**args)  # type: ignore[arg-type]
