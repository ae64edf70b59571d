"""The simulator's ground truth, written beside a run as a sidecar file the loader never reads.

Each wallet's archetype and each token's scripted fate: what a backtest of the wallet classes and of the
risk and total scores compares against (benchmarks/truth.py). Nothing in the scoring code reads it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from megatron.simulate.market import token_fates, wallet_labels
from megatron.simulate.params import SimParams


def write_truth(path: Path, tokens: int, seed: int, params: SimParams | None = None) -> tuple[int, int]:
    """Write ``kind,address,label`` rows (``wallet`` → archetype, ``token`` → fate) to ``path`` (CSV).

    Returns (wallets, tokens) written. The same arguments as the run give the same file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    wallets = fates = 0
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["kind", "address", "label"])
        for address, archetype in wallet_labels(tokens, seed, params):
            writer.writerow(["wallet", address, archetype])
            wallets += 1
        for mint, fate in token_fates(tokens, seed, params):
            writer.writerow(["token", mint, fate])
            fates += 1
    return wallets, fates


def read_truth(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(wallet → archetype, mint → fate) from a file written by :func:`write_truth`."""
    wallets: dict[str, str] = {}
    tokens: dict[str, str] = {}
    with path.open(newline="") as src:
        for row in csv.DictReader(src):
            (wallets if row["kind"] == "wallet" else tokens)[row["address"]] = row["label"]
    return wallets, tokens
