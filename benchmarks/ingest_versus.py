"""Loader ÷ storage floor of two trees, measured in the same session, interleaved.

Runs ``benchmarks/ingest.py`` of an older checkout and of this one alternately (old, new, old,
new, ...), one round each time, on the same server, and compares each tree's loader ÷ floor (the
floor: a binary COPY of the same trades straight into ``transactions``, measured in the same
round). On a shared, noisy machine the absolute figures move from minute to minute; the ratio
to the floor of the same round, and the alternation, are what make the two trees comparable.

    DATABASE_URL=... .venv/bin/python benchmarks/ingest_versus.py --old /path/to/old/checkout --rounds 3

Prints one line per run and the medians, then ``goal: ...`` (new loader/floor >= 0.9 x old's).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
LOADER = re.compile(r"^loader: ([\d,]+) trades/s", re.M)
ONE_LANE = re.compile(r"^loader_one_lane: ([\d,]+) trades/s", re.M)
FLOOR = re.compile(r"^copy_into_transactions: ([\d,]+) trades/s", re.M)


def one_round(tree: Path, args: argparse.Namespace) -> tuple[float, float, float]:
    cmd = [sys.executable, str(tree / "benchmarks" / "ingest.py"), "--tokens", str(args.tokens), "--days",
           str(args.days), "--repeat", "1", "--naive-trades", str(args.naive_trades), "--workers", str(args.workers)]
    out = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0:
        raise SystemExit(f"the benchmark of {tree} failed:\n{out.stderr[-2000:]}")

    def number(pattern: re.Pattern[str]) -> float:
        found = pattern.search(out.stdout)
        if not found:
            raise SystemExit(f"no figure matching {pattern.pattern!r} in the output of {tree}:\n{out.stdout}")
        return float(found.group(1).replace(",", ""))

    return number(LOADER), number(ONE_LANE), number(FLOOR)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="the older checkout (its own benchmarks/ingest.py)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--naive-trades", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL: both trees must load into the same server (each would otherwise start "
                         "the embedded cluster of its own checkout).")

    trees = {"old": args.old.resolve(), "new": HERE}
    ratios: dict[str, list[float]] = {"old": [], "new": []}
    one_lane: dict[str, list[float]] = {"old": [], "new": []}
    for n in range(args.rounds):
        for name, tree in trees.items():
            loader, single, floor = one_round(tree, args)
            ratios[name].append(loader / floor)
            one_lane[name].append(single / floor)
            print(f"# round {n + 1} {name}: loader {loader:,.0f} trades/s ({args.workers} lanes), one lane "
                  f"{single:,.0f}, floor {floor:,.0f}: loader/floor {loader / floor:.2f}, one lane/floor "
                  f"{single / floor:.2f}", flush=True)
    med = {k: statistics.median(v) for k, v in ratios.items()}
    med1 = {k: statistics.median(v) for k, v in one_lane.items()}
    print(f"old loader/floor: {med['old']:.2f} (1.00 baseline) [{min(ratios['old']):.2f}..{max(ratios['old']):.2f}]")
    print(f"new loader/floor: {med['new']:.2f} ({med['new'] / med['old']:.2f} x old) "
          f"[{min(ratios['new']):.2f}..{max(ratios['new']):.2f}]")
    print(f"one lane/floor: old {med1['old']:.2f}, new {med1['new']:.2f} ({med1['new'] / med1['old']:.2f} x old)")
    verdict = "met" if med["new"] >= 0.9 * med["old"] else "MISSED"
    print(f"goal: new loader/floor >= 0.9 x old's: {med['new'] / med['old']:.2f} -> {verdict}")


if __name__ == "__main__":
    main()
