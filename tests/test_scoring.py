"""Scoring as of T (issue 11 core): hand-built trade histories whose technical scores are computed by hand here
(spec §3.1-3.4 golden values and boundaries), the gates and the freeze at graduation, the 999 aggregate with
holder_missing / holder_stale, idempotent re-runs, as-of invariance, and `megatron score` / `megatron backfill`
run as users run them (a subprocess on the module's database, committed).

Every token is created 60 minutes before T; SOL/USD is 100 every 5 minutes, so mcap_usd = price x 1e11. Trades
carry curve reserves that fix progress exactly: real_token_reserves = S x (1 - p / 100), S = 793,100,000 tokens.
One scoring run covers all the hand-built tokens (one dbt invocation): module-scoped fixtures do it once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from megatron import scoring
from megatron.events import CurveComplete, SolUsdPrice, TokenCreate, Trade

from .conftest import create_database, drop_database
from .test_exact_raw import key, load, sig

MEGATRON = [sys.executable, "-m", "megatron.cli"]
T = 1_790_000_000  # 2026-09-21 14:13:20 UTC, long before now()
AT = datetime.fromtimestamp(T, timezone.utc)
S = 793_100_000_000_000  # classic sell supply, raw units
D = Decimal


def run_cli(args: list[str], url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=url)
    return subprocess.run([*MEGATRON, *args], env=env, capture_output=True, text=True, timeout=900)


@dataclass
class Tok:
    """One pump.fun token: created at T - 60 min, trades at (seconds relative to T, side, SOL, price SOL/token,
    progress %, wallet)."""

    name: str
    events: list[Any] = field(default_factory=list)
    n: int = 0

    def __post_init__(self) -> None:
        self.mint, self.curve = key(f"{self.name}-mint"), key(f"{self.name}-curve")
        self.events.append(TokenCreate(
            signature=sig(f"{self.name}-create"), slot=500, block_time=T - 3600, event_index=0, program="pumpfun",
            mint=self.mint, name=self.name, symbol=self.name[:8].upper(), uri="", creator=key(f"{self.name}-dev"),
            bonding_curve=self.curve,
        ))

    def trade(self, at: int, side: str, sol: str, price: str, progress: str = "50", wallet: str = "w") -> Tok:
        self.n += 1
        lamports = int(D(sol) * 10**9)
        raw_tokens = D(sol) / D(price) * 10**6
        assert raw_tokens == raw_tokens.to_integral_value(), f"{sol} SOL at {price} is not a whole raw amount"
        self.events.append(Trade(
            signature=sig(f"{self.name}-t{self.n}"), slot=T + at + 10_000, block_time=T + at, event_index=0,
            program="pumpfun", mint=self.mint, pool=self.curve, side=side, user=key(f"{self.name}-{wallet}"),  # type: ignore[arg-type]
            sol_amount=lamports, token_amount=int(raw_tokens),
            real_token_reserves=int(S * (1 - D(progress) / 100)),
        ))
        return self

    def graduate(self, at: int) -> Tok:
        self.events.append(CurveComplete(
            signature=sig(f"{self.name}-complete"), slot=T + at + 10_000, block_time=T + at, event_index=1,
            program="pumpfun", mint=self.mint, bonding_curve=self.curve, user=key(f"{self.name}-w"),
        ))
        return self


def price_for_mcap(mcap_usd: str) -> str:
    """The SOL price per token whose market cap is mcap_usd at SOL/USD 100."""
    return str(D(mcap_usd) / D(10) ** 11)


def sol_usd(start: int, end: int) -> list[SolUsdPrice]:
    return [SolUsdPrice(price_time=t, price_usd="100", source="test") for t in range(start, end + 1, 300)]


# --- the hand-built market -------------------------------------------------------------------------------------

# §3.2 golden values with vp = 1.0 %/h: progress p - 0.5 at T - 40 min, p at T - 1 min
GOLDEN_CURVE = {
    "10": D("41.00"), "20": D("56.66"), "30": D("64.88"), "40": D("74.25"), "50": D("83.00"),
    "60": D("78.00"), "70": D("65.50"), "80": D("54.25"), "90": D("48.50"),
}
# §3.1 base curve (clean mode, T10) at its boundaries: one trade 50 minutes before T, so the velocity is 0
GOLDEN_MCAP = {
    "5799.9": D("0"), "5800": D("7.25"), "10000": D("14.29"), "20000": D("35.00"), "25000": D("60.00"),
    "45000": D("60.00"), "50000": D("50.00"), "80000": D("20.00"), "100000": D("10.00"), "100001": D("5.00"),
}


def curve_token(p: str) -> Tok:
    lower = str(D(p) - D("0.5"))
    price = price_for_mcap("30000")
    return Tok(f"curve{p}").trade(-2400, "buy", "0.3", price, lower).trade(-60, "buy", "0.3", price, p)


def mcap_token(mcap: str) -> Tok:
    price = price_for_mcap(mcap)
    return Tok(f"mcap{mcap}").trade(-3000, "buy", str(D(price) * 10**6), price, "50")  # a million tokens


def calm_token() -> Tok:
    """One 0.3-SOL buy 50 minutes before T at $30k, progress 50 throughout. By hand (spec §3):
    market cap 60 + 0 (velocity 0); bonding curve 0 (vp 0) + 12.5 + 37.5 = 50; trading health: no sells with a buy
    -> r = +inf -> 30, vol30 = 0 -> 0, one wallet wc = 1 -> 0 = 30; sell-off: no drops, not active -> 40 + 35 = 75.
    Total 215."""
    return Tok("calm").trade(-3000, "buy", "0.3", price_for_mcap("30000"), "50")


def dump_token() -> Tok:
    """Four trades in the last 25 minutes (u = 2.5e-9 SOL, prices 100u, 100u, 90u, 80u; wallets a-d):
    market cap $20k -> 25 + 5000/10000 x 20 = 35, velocity (20k - 25k)/25k/10 < 0 -> 0: 35.
    bonding curve: no curve trade by T - 30 min -> progress 0 then, vp = 100 %/h > 5 -> 0; 12.5 + 37.5 = 50.
    trading health: r = 2 x 0.4 / (1 x 0.7 + 0.9 + 0.8) = 0.33 -> 0; vt = (6 x 1.7 - 4.7) / 4.7 = 117 % -> 25;
    wc = 2 / 4.7 = 0.43 -> 0: 25.
    sell-off: d5 = (90 - 80)/90 = 11.11 %, d15 = d30 = 20 %; no red run (one trade per minute); the sell at
    T - 1 min is 20 % under the 15-minute high 100u -> an event opens there, dur(T) = 1 -> active;
    pressure row 4: max(-20, 10 - 2 x 11.1111) = -12.2222; penalty floor(1/2) = 0; rs = 2 x 0.5 /
    (1 + 0.9 x 1.5 + 0.8 x 1.5) = 0.28 -> 0; bonus +5 (active, red = 0): -7.2222 -> -7.22.
    Total 35 + 50 + 25 - 7.22 = 102.78."""
    u = D("2.5e-9")
    return (
        Tok("dump")
        .trade(-1500, "buy", "2", str(100 * u), "50", "a")
        .trade(-840, "sell", "1", str(100 * u), "50", "b")
        .trade(-240, "sell", "0.9", str(90 * u), "50", "c")
        .trade(-60, "sell", "0.8", str(80 * u), "50", "d")
    )


def graduated_token() -> Tok:
    """Trades before and after its curve completes at T - 10 min: scored at T it is frozen as of T - 10 min - 1 us."""
    price = price_for_mcap("60000")
    return (
        Tok("grad")
        .trade(-1800, "buy", "3", price, "97", "a")
        .trade(-900, "buy", "2", price_for_mcap("64000"), "99", "b")
        .graduate(-600)
        .trade(-300, "sell", "1", price_for_mcap("50000"), "100", "c")
    )


def quiet_token() -> Tok:
    """Its only trade is 2 days before T: not a candidate of the default selection (no trade in 24 h)."""
    return Tok("quiet").trade(-2 * 86400 + 3600, "buy", "0.3", price_for_mcap("30000"), "50")


def hand_built() -> dict[str, Tok]:
    tokens = [calm_token(), dump_token(), graduated_token(), quiet_token()]
    tokens += [curve_token(p) for p in GOLDEN_CURVE]
    tokens += [mcap_token(m) for m in GOLDEN_MCAP]
    return {t.name: t for t in tokens}


TOKENS = hand_built()


def all_events(until: int | None = None) -> list[Any]:
    events: list[Any] = sol_usd(T - 3 * 86400, T + 7200)
    for tok in TOKENS.values():
        events += tok.events
    if until is not None:
        events = [e for e in events if getattr(e, "block_time", getattr(e, "price_time", 0)) <= T + until]
    return events


def later_events() -> list[Any]:
    """Trades after T that must not change any score as of T."""
    out: list[Any] = []
    for i, tok in enumerate(t for t in TOKENS.values() if t.name != "grad"):
        tok.n += 100
        out.append(Trade(
            signature=sig(f"{tok.name}-late{i}"), slot=T + 1800 + 10_000 + i, block_time=T + 1800 + i, event_index=0,
            program="pumpfun", mint=tok.mint, pool=tok.curve, side="sell", user=key(f"{tok.name}-late"),  # type: ignore[arg-type]
            sol_amount=10**9, token_amount=10**12, real_token_reserves=int(S * D("0.7")),
        ))
    return out


@pytest.fixture(scope="module")
def scored(database_url: str) -> Iterator[str]:
    """The hand-built market plus later trades, loaded; holder snapshots for calm (40 min old at T: stale) and dump
    (10 min old); then `megatron score --at T` as a user runs it."""
    with psycopg.connect(database_url, autocommit=True) as c:
        load(c, all_events() + later_events())
        c.execute(
            "insert into holder_scores (token_mint, timestamp, distribution_score, quality_score, activity_score, "
            "bonding_curve_progress) values (%s, to_timestamp(%s), 50, 40, 30, 50), (%s, to_timestamp(%s), 20, 20, 20, 50)",
            (TOKENS["calm"].mint, T - 2400, TOKENS["dump"].mint, T - 600),
        )
    result = run_cli(["score", "--at", AT.isoformat(), "--top", "5"], database_url)
    assert result.returncode == 0, result.stderr
    yield result.stdout


def technical(url: str, name: str) -> dict[str, Any]:
    with psycopg.connect(url) as c:
        cur = c.execute("select * from technical_scores where token_mint = %s and timestamp = %s", (TOKENS[name].mint, AT))
        row = cur.fetchone()
        assert row is not None, f"no technical row for {name}"
        return dict(zip([d.name for d in cur.description or []], row))


def aggregate(url: str, name: str) -> dict[str, Any]:
    with psycopg.connect(url) as c:
        cur = c.execute("select * from token_scores where token_mint = %s and as_of = %s", (TOKENS[name].mint, AT))
        row = cur.fetchone()
        assert row is not None, f"no aggregate row for {name}"
        return dict(zip([d.name for d in cur.description or []], row))


def test_score_prints_one_line_per_part_and_the_top_tokens(scored: str) -> None:
    scored_tokens = len(TOKENS) - 1  # all but quiet
    assert f"{scored_tokens} (token, T) pairs over 1 time(s)" in scored
    assert f"technical (technical_scores): {scored_tokens} rows written, 0 already there" in scored
    assert f"aggregate (token_scores): {scored_tokens} rows written, 0 already there" in scored
    assert "top tokens by the 999 score" in scored


def test_a_calm_token_scores_the_hand_computed_215(database_url: str, scored: str) -> None:
    row = technical(database_url, "calm")
    assert (row["market_cap_score"], row["bonding_curve_score"], row["trading_health_score"],
            row["selloff_response_score"]) == (D("60.00"), D("50.00"), D("30.00"), D("75.00"))
    assert row["total_score"] == D("215.00")
    assert row["buy_sell_ratio"] == D("999999.9999")  # no sells with a buy: +infinity (T9)
    assert row["whale_concentration_points"] == 0 and row["volume_trend_points"] == 0
    assert row["selloff_active"] is False and row["recovery_points"] == 35 and row["red_candles"] == 0
    assert row["is_frozen"] is False and row["evaluated_at"] == AT and row["rule_version"]


def test_a_dumping_token_scores_the_hand_computed_breakdown(database_url: str, scored: str) -> None:
    row = technical(database_url, "dump")
    assert row["market_cap_usd"] == D("20000.00")
    assert (row["market_cap_base_points"], row["market_cap_velocity_points"]) == (D("35.00"), D("0"))
    assert row["market_cap_velocity"] == D("-2.0000")
    assert row["progress_velocity"] == D("100.0000") and row["progress_velocity_points"] == 0
    assert row["bonding_curve_score"] == D("50.00")
    assert (row["buy_sell_ratio_points"], row["volume_trend_points"], row["whale_concentration_points"]) == (0, 25, 0)
    assert row["whale_concentration"] == D("42.55")
    assert (row["price_drop_5m"], row["price_drop_15m"], row["price_drop_30m"], row["price_drop_60m"]) == (
        D("11.1111"), D("20.0000"), D("20.0000"), D("20.0000"))
    assert row["red_candles"] == 0
    assert row["selloff_duration_minutes"] == 1 and row["selloff_active"] is True
    assert row["sell_pressure_points"] == D("-12.22") and row["duration_penalty"] == 0
    assert row["recovery_points"] == 0 and row["recovery_bonus"] == 5
    assert row["selloff_response_score"] == D("-7.22")
    assert row["total_score"] == D("102.78")


@pytest.mark.parametrize("progress", list(GOLDEN_CURVE))
def test_bonding_curve_golden_values_of_spec_3_2(database_url: str, scored: str, progress: str) -> None:
    row = technical(database_url, f"curve{progress}")
    assert row["progress_velocity"] == D("1.0000")
    assert row["bonding_curve_progress"] == D(progress)
    assert row["bonding_curve_score"] == GOLDEN_CURVE[progress]


@pytest.mark.parametrize("mcap", list(GOLDEN_MCAP))
def test_market_cap_base_curve_of_spec_3_1_at_its_boundaries(database_url: str, scored: str, mcap: str) -> None:
    row = technical(database_url, f"mcap{mcap}")
    assert row["market_cap_usd"] == D(mcap).quantize(D("0.01"))
    assert row["market_cap_velocity_points"] == 0
    assert row["market_cap_base_points"] == GOLDEN_MCAP[mcap]


def test_after_graduation_the_technical_score_is_frozen_as_of_graduation(database_url: str, scored: str) -> None:
    frozen = technical(database_url, "grad")
    graduated = AT - timedelta(minutes=10)
    assert frozen["is_frozen"] is True and frozen["graduated_at"] == graduated
    assert frozen["evaluated_at"] == graduated - timedelta(microseconds=1)
    # the trade after graduation (at $50k) is not seen: price and progress are the last ones before it
    assert frozen["market_cap_usd"] == D("64000.00") and frozen["bonding_curve_progress"] == D("99.00")
    # the same value as scoring the token just before graduation
    before = graduated - timedelta(microseconds=1)
    run = scoring.score(before, tokens=scoring.TokenSelection((TOKENS["grad"].mint,)), url=database_url)
    assert run.parts["technical"].written == 1
    with psycopg.connect(database_url) as c:
        cur = c.execute("select * from technical_scores where token_mint = %s and timestamp = %s",
                        (TOKENS["grad"].mint, before))
        row = cur.fetchone()
        assert row is not None
        live = dict(zip([d.name for d in cur.description or []], row))
    volatile = {"timestamp", "is_frozen", "graduated_at", "created_at", "run_id"}
    assert {k: v for k, v in live.items() if k not in volatile} == {k: v for k, v in frozen.items() if k not in volatile}
    assert aggregate(database_url, "grad")["technical_frozen"] is True


def test_a_token_without_trades_in_the_last_24_hours_is_not_a_candidate(database_url: str, scored: str) -> None:
    with psycopg.connect(database_url) as c:
        assert c.execute("select count(*) from technical_scores where token_mint = %s",
                         (TOKENS["quiet"].mint,)).fetchone() == (0,)
    # named explicitly it is scored
    run = scoring.score(AT, tokens=scoring.TokenSelection((TOKENS["quiet"].mint,)), url=database_url)
    assert (run.pairs, run.parts["technical"].written) == (1, 1)


def test_the_aggregate_adds_the_newest_holder_snapshot_and_flags_missing_and_stale(database_url: str, scored: str) -> None:
    calm, dump, curve = aggregate(database_url, "calm"), aggregate(database_url, "dump"), aggregate(database_url, "curve50")
    assert (calm["technical_score"], calm["holder_score"], calm["social_score"], calm["total_score"]) == (
        D("215.00"), D("120.00"), D("0.00"), D("335.00"))
    assert calm["holder_missing"] is False and calm["holder_stale"] is True  # 40 minutes old
    assert calm["holder_as_of"] == AT - timedelta(minutes=40)
    assert dump["holder_score"] == D("60.00") and dump["holder_stale"] is False  # 10 minutes old
    assert dump["total_score"] == D("162.78")
    assert curve["holder_missing"] is True and curve["holder_score"] == 0 and curve["holder_stale"] is False
    assert curve["social_missing"] is True
    assert calm["technical_raw"] == D("215.00") and calm["rule_version"]


def test_a_negative_technical_total_is_clamped_to_zero_in_the_aggregate_only(database_url: str, scored: str) -> None:
    with psycopg.connect(database_url) as c:
        rows = c.execute(
            "select t.total_score, a.technical_score, a.technical_raw from technical_scores as t "
            "join token_scores as a on a.token_mint = t.token_mint and a.as_of = t.timestamp"
        ).fetchall()
    assert rows
    for raw, clamped, stored_raw in rows:
        assert clamped == max(D(0), raw) and stored_raw == raw


def test_scoring_the_same_time_again_writes_nothing(database_url: str, scored: str) -> None:
    def digest() -> list[Any]:
        with psycopg.connect(database_url) as c:
            return c.execute(
                "select token_mint, as_of, total_score, technical_score, holder_score, run_id from token_scores "
                "order by 1, 2").fetchall()

    before = digest()
    result = run_cli(["score", "--at", AT.isoformat(), "--top", "0"], database_url)
    assert result.returncode == 0, result.stderr
    scored_tokens = len(TOKENS) - 1
    assert f"technical (technical_scores): 0 rows written, {scored_tokens} already there" in result.stdout
    assert digest() == before
    with psycopg.connect(database_url) as c:
        assert c.execute("select count(*) from megatron.score_grid").fetchone() == (0,)


def test_backfilling_twice_changes_nothing(database_url: str, scored: str) -> None:
    args = ["backfill", "--from", (AT - timedelta(minutes=20)).isoformat(), "--to", AT.isoformat(), "--every", "10m",
            "--mint", TOKENS["dump"].mint, "--mint", TOKENS["calm"].mint]
    first = run_cli(args, database_url)
    assert first.returncode == 0, first.stderr
    assert "6 (token, T) pairs over 3 time(s)" in first.stdout
    assert "technical (technical_scores): 4 rows written, 2 already there" in first.stdout  # T itself was scored
    assert "3/3 times scored" in first.stderr
    with psycopg.connect(database_url) as c:
        before = c.execute("select * from technical_scores order by token_mint, timestamp").fetchall()
    second = run_cli(args, database_url)
    assert second.returncode == 0, second.stderr
    assert "technical (technical_scores): 0 rows written, 6 already there" in second.stdout
    with psycopg.connect(database_url) as c:
        assert c.execute("select * from technical_scores order by token_mint, timestamp").fetchall() == before


def test_scores_as_of_t_do_not_depend_on_data_after_t(server_url: str, template_db: str, run_id: str,
                                                      database_url: str, scored: str) -> None:
    """A database holding only the events up to T + 1 minute scores T exactly as this one (which holds trades
    30 minutes after T and more)."""
    name = f"megatron_t_{run_id}_scoring_asof"
    short_url = create_database(server_url, name, template=template_db)
    try:
        with psycopg.connect(short_url, autocommit=True) as c:
            load(c, all_events(until=60))
        run = scoring.score(AT, url=short_url)
        assert run.parts["technical"].written == len(TOKENS) - 1
        query = ("select token_mint, timestamp, total_score, market_cap_score, bonding_curve_score, "
                 "trading_health_score, selloff_response_score, market_cap_usd, bonding_curve_progress, "
                 "progress_velocity, price_drop_5m, price_drop_15m, price_drop_30m, red_candles, "
                 "selloff_duration_minutes, is_frozen, evaluated_at from technical_scores where timestamp = %s "
                 "and token_mint <> %s order by token_mint")  # quiet: scored by name in the full database only
        quiet = TOKENS["quiet"].mint
        with psycopg.connect(short_url) as short, psycopg.connect(database_url) as full:
            rows = short.execute(query, (AT, quiet)).fetchall()
            assert len(rows) == len(TOKENS) - 1
            assert rows == full.execute(query, (AT, quiet)).fetchall()
    finally:
        drop_database(server_url, name)


def test_bad_arguments_are_a_sentence_and_exit_2(database_url: str) -> None:
    for args, words in [
        (["score", "--at", "yesterday-ish"], "is not a time"),
        (["score", "--at", "now", "--shard", "4/4"], "does not exist"),
        (["backfill", "--from", "2026-01-02", "--to", "2026-01-01"], "before --from"),
        (["backfill", "--from", "2026-01-01", "--to", "2026-01-02", "--every", "5 parsecs"], "is not a step"),
    ]:
        result = run_cli(args, database_url)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr


# --- property: every score inside its range, every total equal to its parts ----------------------------------

trade_steps = st.lists(
    st.tuples(
        st.integers(min_value=-3500, max_value=0),  # seconds before T
        st.sampled_from(["buy", "sell"]),
        st.sampled_from(["0.1", "0.5", "1", "2", "5"]),
        st.sampled_from(["1e-8", "2.5e-8", "5e-8", "1e-7", "2e-7", "4e-7", "1e-6"]),
        st.integers(min_value=0, max_value=99),
        st.sampled_from(["a", "b", "c", "d"]),
    ),
    min_size=1, max_size=25,
)
EXAMPLE = iter(range(10**6))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(trade_steps, min_size=1, max_size=8))
def test_every_score_stays_in_its_range_and_each_total_equals_its_parts(database_url: str,
                                                                       histories: list[Any]) -> None:
    n = next(EXAMPLE)
    toks = []
    for i, steps in enumerate(histories):
        tok = Tok(f"prop{n}-{i}")
        for at, side, sol, price, progress, wallet in sorted(steps):
            tok.trade(at, side, sol, price, str(progress), wallet)
        toks.append(tok)
    with psycopg.connect(database_url, autocommit=True) as c:
        load(c, [e for tok in toks for e in tok.events] + sol_usd(T - 7200, T))
    at = AT + timedelta(seconds=n)  # its own T: earlier examples' rows do not count
    run = scoring.score(at, tokens=scoring.TokenSelection(tuple(t.mint for t in toks)), url=database_url)
    assert run.parts["technical"].written == len(toks) and run.parts["aggregate"].written == len(toks)
    with psycopg.connect(database_url) as c:
        rows = c.execute(
            "select t.market_cap_score, t.bonding_curve_score, t.trading_health_score, t.selloff_response_score, "
            "t.total_score, a.technical_score, a.holder_score, a.social_score, a.total_score "
            "from technical_scores as t join token_scores as a on a.token_mint = t.token_mint and a.as_of = t.timestamp "
            "where t.timestamp = %s", (at,)).fetchall()
    assert len(rows) == len(toks)
    for mc, bc, th, so, tech, tech_part, holder, social, total in rows:
        assert 0 <= mc <= 100 and D("12.5") <= bc <= 83 and 0 <= th <= 75 and -60 <= so <= 75
        assert tech == mc + bc + th + so and -60 <= tech <= 333
        assert tech_part == max(D(0), tech) and 0 <= total <= 999
        assert total == tech_part + holder + social
