"""A bounded pool of wallets, each with a fixed archetype, reused across tokens.

Wallet ``i`` of a pool is the same address in every run with the same seed. Archetypes own
contiguous index ranges in the order of :data:`ARCHETYPES`. Picks can be skewed towards the
start of a range so that a few wallets of an archetype do most of its trading (busy bots,
serial snipers, serial ruggers), as on-chain.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from random import Random

from megatron.simulate.ids import pubkey, seed_key
from megatron.simulate.params import ARCHETYPES, Archetype, SimParams


def pool_size(tokens: int, params: SimParams) -> int:
    """Wallets in the pool of a run with ``tokens`` tokens."""
    return max(params.wallets_min, min(params.wallets_max, math.ceil(tokens * params.wallets_per_token)))


class WalletPool:
    def __init__(self, seed: int, size: int, params: SimParams) -> None:
        self._key = seed_key(seed)
        self.size = size
        total = sum(params.wallet_shares.values())
        self.ranges: dict[str, tuple[int, int]] = {}
        start = 0
        for i, archetype in enumerate(ARCHETYPES):
            if i == len(ARCHETYPES) - 1:
                count = size - start
            else:
                count = max(1, round(size * params.wallet_shares[archetype] / total))
            self.ranges[archetype] = (start, start + count)
            start += count
        if start != size or any(b <= a for a, b in self.ranges.values()):
            raise ValueError(f"wallet pool of {size} is too small for every archetype")
        self._archetype_of = [
            archetype for archetype in ARCHETYPES for _ in range(self.ranges[archetype][1] - self.ranges[archetype][0])
        ]
        self._cache: dict[int, str] = {}
        self._cache_size = max(1, params.address_cache_size)
        self.seen = bytearray(size)  # 1 once a wallet has appeared in an event

    def address(self, index: int) -> str:
        cached = self._cache.get(index)
        if cached is None:
            if len(self._cache) >= self._cache_size:
                self._cache.clear()  # bounded memory; addresses are cheap to derive again
            cached = pubkey(self._key, f"wallet:{index}")
            self._cache[index] = cached
        return cached

    def archetype(self, index: int) -> Archetype:
        return self._archetype_of[index]

    def pick(self, archetype: str, rng: Random, skew: float = 1.0, share: float = 1.0) -> int:
        """A wallet of ``archetype``; ``skew`` > 1 favours the first ones, ``share`` < 1 uses
        only the leading share of the range."""
        start, end = self.ranges[archetype]
        count = max(1, int((end - start) * share))
        u = rng.random()
        if skew != 1.0:
            u **= skew
        return start + int(u * count)

    def active_by_archetype(self) -> dict[str, int]:
        """Wallets that appeared in at least one event, per archetype."""
        return {a: sum(self.seen[lo:hi]) for a, (lo, hi) in self.ranges.items()}

    def labels(self) -> Iterator[tuple[str, Archetype]]:
        """Every wallet of the pool as ``(address, archetype)`` (ground truth for tests and backtests)."""
        for index in range(self.size):
            yield pubkey(self._key, f"wallet:{index}"), self.archetype(index)
