"""Simulator benchmark: events/s and peak memory of `megatron.simulate` at a given size.

Streams the market and throws the events away (no database), so the figures are the
simulator's own. The 100,000-token week (~9M events) takes a few minutes on one core:

    .venv/bin/python benchmarks/simulate.py --tokens 100000 --days 7

Prints `name: value unit` lines; the baseline for the ratios is a run of --baseline-tokens over
the proportionally shorter period in the same process (default 1,000 tokens), to show that
memory stays flat as the market grows (peak RSS of the whole process, interpreter included).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from megatron.simulate import SimSummary, simulate  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(tokens: int, days: float, seed: int) -> tuple[float, int, int, SimSummary]:
    """(seconds, events, process peak RSS in bytes after the run, summary)."""
    summary = SimSummary()
    started = time.perf_counter()
    n = 0
    for _ in simulate(tokens, days, seed, START, summary=summary):
        n += 1
    return time.perf_counter() - started, n, max_rss(), summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=100_000)
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--baseline-tokens", type=int, default=1_000)
    args = ap.parse_args()

    before = max_rss()
    b_s, b_n, b_peak, _ = run(args.baseline_tokens, args.days * args.baseline_tokens / args.tokens, args.seed)
    s, n, peak, summary = run(args.tokens, args.days, args.seed)
    print(f"# {args.tokens:,} tokens over {args.days:g} days, seed {args.seed}: {n:,} events "
          f"({summary.trades:,} trades, {summary.graduations:,} graduations = {summary.graduation_share:.2%})")
    print(f"simulator_throughput: {n / s:,.0f} events/s ({(n / s) / (b_n / b_s):.2f} x the {args.baseline_tokens:,}-token run; {s:.1f} s)")
    print(f"simulator_peak_rss: {peak / 2**20:.0f} MiB ({peak / b_peak:.2f} x the {args.baseline_tokens:,}-token run's "
          f"{b_peak / 2**20:.0f} MiB, for {n / max(b_n, 1):.0f} x the events; {before / 2**20:.0f} MiB before any run)")


if __name__ == "__main__":
    main()
