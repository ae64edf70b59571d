"""Truth benchmark: the wallet classes and the risk / holder scores against the simulator's ground truth (issue 11
item 7).

A fresh migrated database gets a simulated market through the loader; the simulator's truth (each wallet's
archetype, each token's fate) goes to a CSV sidecar the loader never reads (megatron.simulate.truth). Then,
with the project's own dbt models and macros:

1. wallet classes  — `dbt build -s +wallet_classes` as of the end of the period; precision and recall of the
                     sniper, bundler, bot (bot or MEV bot) and smart-money classes over the wallets that traded
                     (goal: sniper and bundler precision ≥ 0.9, recall ≥ 0.8).
2. rug risk        — risk_metrics_for over a grid of (token, its creation + --risk-after seconds), i.e. early,
                     before a rug happens; AUROC of rug_risk, insider_risk and overall_risk for fate = rug
                     against every other fate (goal ≥ 0.8).
3. holder score    — holder_scores_for over (token, creation + --score-after seconds); a token without a score
                     (gated out) counts 0; AUROC for fate = graduate against every other fate.
4. 999 total       — `megatron.scoring.score(T)` every --every-hours over the period, each token scored once
                     between --score-after and --score-after + --every-hours after its creation (not yet
                     graduated then); AUROC of total_score for fate = graduate against every other fate.

Prints `name: value unit (ratio vs goal)` lines. The truth is read only here, never by the scoring code.

    .venv/bin/python benchmarks/truth.py --tokens 1000 --days 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_db import drop, fresh_database  # noqa: E402

from megatron import db, dbt, scoring  # noqa: E402
from megatron.ingest.loader import Loader  # noqa: E402
from megatron.simulate import simulate  # noqa: E402
from megatron.simulate.truth import read_truth, write_truth  # noqa: E402

CLASSES = {"sniper": "is_sniper", "bundler": "is_bundler", "bot": "(is_bot or is_mev_bot)",
           "smart_money": "is_smart_money"}


def auroc(scores: list[tuple[float, bool]]) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties counted half)."""
    ranked = sorted(scores, key=lambda s: s[0])
    positives = sum(1 for _, p in ranked if p)
    negatives = len(ranked) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2
        rank_sum += mean_rank * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def dbt_ok(url: str, *args: str) -> str:
    result = dbt.run(list(args), url, capture=True)
    if result.returncode != 0:
        sys.exit(f"dbt {' '.join(args[:3])} failed:\n{result.stdout[-3000:]}")
    return result.stdout


def compiled(url: str, macro_call: str, offset_seconds: int) -> str:
    """The SQL of `macro_call` over a grid of every token at its creation + offset (dbt compile --inline)."""
    inline = (
        "with grid as (select tk.mint_address as token_mint, tk.creation_timestamp + interval "
        f"'{offset_seconds} seconds' as as_of from {{{{ ref('stg_megatron__tokens') }}}} as tk), "
        f"answer as ({{{{ {macro_call} }}}}) select * from answer"
    )
    return dbt_ok(url, "compile", "--quiet", "--inline", inline)


def line(name: str, value: float, unit: str, goal: float | None = None) -> None:
    ratio = f" ({value / goal:.2f}× goal {goal})" if goal else ""
    print(f"{name}: {value:.3f} {unit}{ratio}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--risk-after", type=int, default=60, help="seconds after creation the risk is read at")
    parser.add_argument("--score-after", type=int, default=1800, help="seconds after creation the score is read at")
    parser.add_argument("--every-hours", type=float, default=2.0,
                        help="hours between the times T the 999 total is scored at")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    server = db.database_url()
    url = fresh_database(server, "truth")
    try:
        start = datetime(2026, 11, 1, tzinfo=timezone.utc)
        end = start + timedelta(days=args.days)
        with tempfile.TemporaryDirectory() as tmp:
            sidecar = Path(tmp) / "truth.csv"
            write_truth(sidecar, args.tokens, args.seed)
            archetypes, fates = read_truth(sidecar)
        t = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            loader = Loader(conn, "truth benchmark", batch_size=50_000, pipeline=True, workers=2)
            loader.add_all(simulate(args.tokens, args.days, args.seed, start))
            counts = loader.finish()
        print(f"market: {args.tokens} tokens over {args.days} days, seed {args.seed}, loaded in "
              f"{time.perf_counter() - t:.1f} s (reconciles: {counts.reconciles()})", flush=True)

        t = time.perf_counter()
        dbt_ok(url, "build", "-s", "+wallet_classes", "+token_risk", "--indirect-selection", "cautious",
               "--vars", f"{{as_of: '{end.isoformat()}'}}")
        print(f"wallet_classes and token_risk built in {time.perf_counter() - t:.1f} s", flush=True)
        with psycopg.connect(url) as conn:
            columns = ", ".join(CLASSES.values())
            rows = conn.execute(f"select wallet_address, {columns} from marts.wallet_classes").fetchall()
        for i, (archetype, _) in enumerate(CLASSES.items(), 1):
            flagged = [r[0] for r in rows if r[i]]
            true_positive = sum(1 for w in flagged if archetypes.get(w) == archetype)
            actual = sum(1 for r in rows if archetypes.get(r[0]) == archetype)
            precision = true_positive / len(flagged) if flagged else float("nan")
            recall = true_positive / actual if actual else float("nan")
            goal_p, goal_r = (0.9, 0.8) if archetype in ("sniper", "bundler") else (None, None)
            print(f"# {archetype}: {len(flagged)} flagged, {true_positive} right, {actual} in the market")
            line(f"{archetype} precision", precision, "", goal_p)
            line(f"{archetype} recall", recall, "", goal_r)

        t = time.perf_counter()
        sql = compiled(url, "risk_metrics_for('grid')", args.risk_after)
        with psycopg.connect(url) as conn:
            risks = conn.execute(
                f"select token_mint, rug_risk, insider_risk, overall_risk from ({sql}) as r").fetchall()
        print(f"# risk of {len(risks)} tokens at creation + {args.risk_after} s in {time.perf_counter() - t:.1f} s")
        for i, name in enumerate(("rug_risk", "insider_risk", "overall_risk"), 1):
            scored = [(float(r[i]), fates.get(r[0]) == "rug") for r in risks]
            line(f"{name} AUROC rug vs other fates", auroc(scored), "", 0.8)

        t = time.perf_counter()
        sql = compiled(url, "holder_scores_for('grid')", args.score_after)
        with psycopg.connect(url) as conn:
            scores = dict(conn.execute(f"select token_mint, holder_score from ({sql}) as s").fetchall())
        print(f"# holder scores at creation + {args.score_after} s: {len(scores)} of {len(fates)} tokens pass the "
              f"gates, in {time.perf_counter() - t:.1f} s")
        graduated = [(float(scores.get(m, 0)), fate == "graduate") for m, fate in fates.items()]
        line("holder_score AUROC graduate vs other fates (absent = 0)", auroc(graduated), "")

        # 4. the 999 total early in a token's life, as users get it (megatron.scoring.score at T): at every
        # --every-th hour T of the period, the tokens created in [T - every - score-after, T - score-after) are
        # scored, so each token is read once, between score-after and score-after + every after its creation;
        # a token already graduated at its T is left out (its score is frozen at graduation: no forecast left)
        t = time.perf_counter()
        step = timedelta(hours=args.every_hours)
        early = timedelta(seconds=args.score_after)
        with psycopg.connect(url) as conn:
            created = conn.execute(
                "select mint_address, creation_timestamp, graduation_timestamp from tokens").fetchall()
        totals: dict[str, float] = {}
        at = start + step
        while at <= end + step:
            due = [m for m, c, g in created if at - step - early <= c < at - early and (g is None or g > at)]
            if due:
                scoring.score(at, tokens=scoring.TokenSelection(tuple(due)), url=url)
                with psycopg.connect(url) as conn:
                    totals |= dict((m, float(v)) for m, v in conn.execute(
                        "select token_mint, total_score from token_scores where as_of = %s and token_mint = any(%s)",
                        (at, due)).fetchall())
            at += step
        graduates = sum(1 for m in totals if fates.get(m) == "graduate")
        print(f"# 999 totals of {len(totals)} tokens ({graduates} of them graduate later), each {args.score_after} s "
              f"to {args.score_after} s + {args.every_hours} h after creation, in {time.perf_counter() - t:.1f} s")
        total_vs_fate = [(totals[m], fates.get(m) == "graduate") for m in totals]
        line("total_score (999) AUROC graduate vs other fates", auroc(total_vs_fate), "")
    finally:
        if not args.keep:
            drop(server, url)
        else:
            print(f"database kept: {url}")


if __name__ == "__main__":
    main()
