"""The holder-score queue worked (issue 11 item 5 with the holder scoring of item 1).

`work_queue` claims due items of ``holder_score_queue`` in priority order (``megatron.take_holder_score_work``,
043), writes one scoring grid with their (mint, scheduled_at) pairs, runs the scoring models on it (the holder
part writes ``holder_scores``; technical, risk and the 999 aggregate come along for the same pairs) and reports
every item with ``megatron.finish_holder_score_work``: processed, or the error as a sentence (retried with
backoff, given up after 5 attempts). A pair the holder gate leaves out (progress outside 10-100 %, fewer than 5
holders) is processed with no row: the score is absent, not failed. The scores are SQL (models/scoring/).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from megatron import db
from megatron.errors import MegatronError
from megatron.scoring import _UPSTREAM, _Models, _replay_selloffs


@dataclass
class QueueRun:
    """What one pass did: items taken, and per outcome (processed, retry, failed, not_pending) how many."""

    run_id: int | None = None
    taken: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    holder_rows: int = 0
    error: str | None = None

    def lines(self) -> list[str]:
        if not self.taken:
            return ["holder queue: nothing due"]
        outcome = ", ".join(f"{n} {k}" for k, n in sorted(self.outcomes.items()))
        out = [f"holder queue: {self.taken} item(s) taken in scoring run {self.run_id}: {outcome}; "
               f"{self.holder_rows} holder snapshot(s) for them"]
        if self.error:
            out.append(f"  the run failed: {self.error}")
        return out


def work_queue(limit: int = 50, *, worker: str | None = None, url: str | None = None) -> QueueRun:
    """Take up to ``limit`` due holder-score requests, score them as of their scheduled time, finish each."""
    if limit < 1:
        raise MegatronError(f"The queue worker takes at least one item per pass, not {limit}.")
    target = url or db.database_url()
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    result = QueueRun()
    with db.connect(target, autocommit=True) as conn:
        items = conn.execute(
            "select id, token_mint, scheduled_at from megatron.take_holder_score_work(%s, %s)", (limit, worker)
        ).fetchall()
        result.taken = len(items)
        if not items:
            return result
        row = conn.execute("select nextval('megatron.score_run_id_seq')").fetchone()
        assert row is not None
        result.run_id = run_id = int(row[0])
        build_upstream = any(
            conn.execute("select to_regclass(%s) is null", (name,)).fetchone()[0]  # type: ignore[index]
            for name in _UPSTREAM
        )
        try:
            conn.execute(
                "insert into megatron.score_grid (run_id, token_mint, as_of) "
                "select %s, u.mint, u.at from unnest(%s::text[], %s::timestamptz[]) as u (mint, at) "
                "on conflict do nothing",
                (run_id, [i[1] for i in items], [i[2] for i in items]),
            )
            _replay_selloffs(conn, run_id, set())
            _Models(target, build_upstream).run(run_id)
            counted = conn.execute(
                "select count(*) from public.holder_scores as h "
                "join megatron.score_grid as g on g.token_mint = h.token_mint "
                "and h.timestamp = least(g.as_of, coalesce((select t.graduation_timestamp from public.tokens as t "
                "where t.mint_address = g.token_mint), g.as_of)) where g.run_id = %s",
                (run_id,),
            ).fetchone()
            result.holder_rows = int(counted[0]) if counted else 0
        except MegatronError as exc:
            result.error = str(exc)
        finally:
            conn.execute("delete from megatron.score_grid where run_id = %s", (run_id,))
        for item_id, _, _ in items:
            status = conn.execute(
                "select megatron.finish_holder_score_work(%s, %s)", (item_id, result.error)
            ).fetchone()
            key = str(status[0]) if status else "unknown"
            result.outcomes[key] = result.outcomes.get(key, 0) + 1
    return result
