"""Social observations for a simulated market, so the demo has social scores (docs/scoring-social.md).

:func:`with_social` passes a market's events through and adds, for each token created, TweetScout-shaped
``SocialObservation`` events every ``every`` seconds for ``horizon`` seconds after its creation, in time
order. The values follow the token's scripted fate (a graduate's account grows and gets talked about; a rug's
account is days old with bought followers and bot chatter; most duds have no account at all), drawn from a
``random.Random`` seeded with ``"<seed>:social:<mint>"``: the same run gives the same observations. The
fates shape the simulated data only; the scoring never reads them.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from random import Random

from megatron.events import AnyEvent, SocialObservation, SolUsdPrice, TokenCreate


@dataclass(frozen=True)
class _Profile:
    has_account: float  # probability the token has an X account at all
    followers: float  # median followers at the first observation
    growth: float  # followers multiply by this per observation
    score: float  # median TweetScout score
    smart: float  # mean smart followers (influencers + projects + VCs)
    mentions: float  # median mentions in 24 h at the first observation
    mentions_trend: float  # mentions multiply by this per observation
    engagement_per_mention: float
    smart_mention_share: float
    account_age_days: float  # median age of the account when the token is created


PROFILES: dict[str, _Profile] = {
    "graduate": _Profile(0.95, 2500, 1.12, 180, 8, 60, 1.15, 45, 0.06, 120),
    "recover": _Profile(0.85, 1200, 1.05, 70, 3, 25, 1.02, 30, 0.04, 60),
    "fade": _Profile(0.75, 700, 1.01, 30, 1.2, 20, 0.85, 20, 0.02, 30),
    "rug": _Profile(0.9, 4000, 1.02, 4, 0.2, 70, 0.8, 6, 0.0, 1.5),
    "dud": _Profile(0.35, 120, 1.0, 2, 0.1, 3, 0.8, 10, 0.0, 10),
}


def _around(rng: Random, median: float, spread: float = 0.35) -> float:
    return median * math.exp(rng.gauss(0.0, spread))


def _handle(mint: str) -> str:
    letters = "".join(ch for ch in mint if ch.isalnum())[:10]
    return f"{letters}_x"


def observations(mint: str, created: int, fate: str, seed: int, *, every: int, horizon: int) -> list[SocialObservation]:
    """The observations of one token (none when its draw says it has no account)."""
    rng = Random(f"{seed}:social:{mint}")
    profile = PROFILES.get(fate, PROFILES["dud"])
    if rng.random() >= profile.has_account:
        return []
    followers = _around(rng, profile.followers, 0.5)
    mentions = _around(rng, profile.mentions, 0.5)
    score = _around(rng, profile.score, 0.4)
    account_created = created - int(_around(rng, profile.account_age_days, 0.3) * 86400)
    twitter_id = str(10**18 + rng.randrange(10**18))
    out = []
    for k in range(1, horizon // every + 1):
        followers *= profile.growth * math.exp(rng.gauss(0.0, 0.03))
        mentions *= profile.mentions_trend * math.exp(rng.gauss(0.0, 0.1))
        count = int(mentions)
        smart = sum(1 for _ in range(3) if rng.random() < profile.smart / 3) + int(profile.smart * rng.random())
        smart_mentions = min(count, int(count * profile.smart_mention_share + rng.random()))
        influencers = (smart + 1) // 2
        out.append(SocialObservation(
            mint=mint, observed_at=created + k * every, source="simulator", handle=_handle(mint),
            followers_count=int(followers), twitter_id=twitter_id, friends_count=int(_around(rng, 150, 0.2)),
            tweets_count=10 + 3 * k, account_created_at=max(account_created, 1_142_899_200), verified=False,
            score=round(score * (1 + 0.02 * k), 2), influencers_count=influencers,
            projects_count=smart - influencers, venture_capitals_count=0, mentions_24h=count,
            smart_mentions_24h=smart_mentions, engagement_24h=int(count * _around(rng, profile.engagement_per_mention)),
        ))
    return out


def _time_of(event: AnyEvent) -> int:
    if isinstance(event, SolUsdPrice):
        return event.price_time
    if isinstance(event, SocialObservation):
        return event.observed_at
    return event.block_time


def with_social(
    events: Iterable[AnyEvent], seed: int, fates: Mapping[str, str], *, end: int, every: int = 1800,
    horizon: int = 12 * 3600,
) -> Iterator[AnyEvent]:
    """``events`` (in time order) with each created token's social observations merged in, in time order;
    nothing at or after ``end`` (Unix seconds)."""
    pending: list[tuple[int, int, SocialObservation]] = []
    counter = 0
    for event in events:
        now = _time_of(event)
        while pending and pending[0][0] <= now:
            yield heapq.heappop(pending)[2]
        if isinstance(event, TokenCreate):
            for obs in observations(event.mint, event.block_time, fates.get(event.mint, "dud"), seed,
                                    every=every, horizon=horizon):
                if obs.observed_at < end:
                    heapq.heappush(pending, (obs.observed_at, counter, obs))
                    counter += 1
        yield event
    while pending:
        yield heapq.heappop(pending)[2]
