"""The SQL the web pages run: every query parameterized, read-only, over the marts and staging views.

Functions take a connection (the web app's read-only analyst connection) and return plain rows as dicts.
The score and signal marts of the scoring issues (`marts.latest_token_scores`, `marts.token_score_history`,
`marts.token_signals`, `marts.token_risk`) are read when they exist; until then the screener orders by the
documented default (see docs/web.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

Interval = Literal["1m", "5m", "1h", "1d"]
Quote = Literal["sol", "usd"]

CANDLE_MARTS: dict[str, str] = {"1m": "price_candles_1m", "5m": "price_candles_5m", "1h": "price_candles_1h",
                                "1d": "price_candles_1d"}
BUCKET_WIDTH: dict[str, str] = {"1m": "1 minute", "5m": "5 minutes", "1h": "1 hour", "1d": "1 day"}

# the screener's sortable columns: name in the API -> SQL expression over the `screener` CTE
SORT_COLUMNS: dict[str, str] = {
    "total_score": "total_score",
    "technical_score": "technical_score",
    "holder_score": "holder_score",
    "social_score": "social_score",
    "progress": "bonding_curve_progress",
    "market_cap": "market_cap_usd",
    "volume_24h": "volume_24h_usd",
    "holders": "holder_count",
    "age": "creation_timestamp",
    "symbol": "symbol",
}

MAX_CANDLES = 5000
LORENZ_POINTS = 2000


OPTIONAL_RELATIONS: dict[str, str] = {
    "latest_token_scores": "marts.latest_token_scores",
    "token_score_history": "marts.token_score_history",
    "token_signals": "marts.token_signals",
    "token_risk": "marts.token_risk",
    "token_scores": "staging.stg_megatron__token_scores",
}


def optional_marts(conn: psycopg.Connection) -> set[str]:
    """Which of the relations built in parallel by the scoring issues exist in this database."""
    rows = conn.execute(
        "select key from unnest(%s::text[], %s::text[]) as r(key, qualified) where to_regclass(qualified) is not null",
        (list(OPTIONAL_RELATIONS), list(OPTIONAL_RELATIONS.values())),
    ).fetchall()
    return {str(r[0]) for r in rows}


def _rows(conn: psycopg.Connection, query: sql.Composable | str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)  # type: ignore[arg-type]
        return list(cur.fetchall())


@dataclass(frozen=True)
class ScreenerFilter:
    platform: str | None = None
    min_progress: float | None = None
    max_progress: float | None = None
    max_age_hours: float | None = None
    min_score: float | None = None


def platforms(conn: psycopg.Connection) -> list[str]:
    return [str(r[0]) for r in conn.execute(
        "select distinct platform from marts.top_tokens_by_usd_volume where platform is not null order by 1"
    ).fetchall()]


def screener(
    conn: psycopg.Connection,
    flt: ScreenerFilter,
    *,
    sort: str = "total_score",
    descending: bool = True,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The screener rows: the tokens of marts.top_tokens_by_usd_volume (created in the 7 days before the
    marts' as-of time) with scores, progress, market cap, 24h USD volume, holders, signals and risk.

    Scores: marts.latest_token_scores when it exists; otherwise the technical and holder totals that
    top_tokens_by_usd_volume carries (0 when a token has none), social NULL, total their sum."""
    have = optional_marts(conn)
    if "latest_token_scores" in have:
        scores = sql.SQL("""
            select ls.token_mint, ls.technical_score, ls.holder_score, ls.social_score, ls.total_score,
                   ls.holder_missing, ls.holder_stale, ls.bonding_curve_progress, ls.market_cap_usd,
                   to_jsonb(ls.*) as score_detail
            from marts.latest_token_scores as ls""")
    else:
        scores = sql.SQL("""
            select tt.mint_address as token_mint, tt.technical_score, tt.holder_score,
                   null::numeric as social_score, tt.technical_score + tt.holder_score as total_score,
                   null::boolean as holder_missing, null::boolean as holder_stale,
                   null::numeric as bonding_curve_progress, null::numeric as market_cap_usd,
                   jsonb_build_object('technical', to_jsonb(lt.*), 'holder', to_jsonb(lh.*)) as score_detail
            from marts.top_tokens_by_usd_volume as tt
            left join marts.latest_technical_scores as lt on tt.mint_address = lt.token_mint
            left join marts.latest_holder_scores_v2 as lh on tt.mint_address = lh.token_mint""")
    signals = (sql.SQL("select sg.token_mint, to_jsonb(sg.*) as signals from marts.token_signals as sg")
               if "token_signals" in have else sql.SQL("select null::text as token_mint, null::jsonb as signals"))
    risk = (sql.SQL("select rk.token_mint, to_jsonb(rk.*) as risk from marts.token_risk as rk")
            if "token_risk" in have else sql.SQL("select null::text as token_mint, null::jsonb as risk"))
    order_column = sql.Identifier(SORT_COLUMNS[sort])
    direction = sql.SQL("desc nulls last" if descending else "asc nulls last")
    query = sql.SQL("""
        with
        scores as ({scores}),
        signals as ({signals}),
        risk as ({risk}),
        screener as (
            select
                tt.mint_address as token_mint,
                tt.symbol,
                tt.name,
                tt.platform,
                tt.pool_type,
                tt.creation_timestamp,
                round(extract(epoch from (now() - tt.creation_timestamp)) / 3600, 2) as age_hours,
                case
                    when tt.pool_type = 'graduated' then 100
                    else coalesce(sc.bonding_curve_progress, lt.bonding_curve_progress, tt.bonding_curve_progress)
                end as bonding_curve_progress,
                coalesce(sc.market_cap_usd, lt.market_cap_usd, tt.latest_price_usd * hd.supply) as market_cap_usd,
                tt.latest_price_usd,
                tt.volume_24h_usd,
                hd.holder_count,
                hd.gini,
                hd.top_10_pct,
                sc.total_score,
                sc.technical_score,
                sc.holder_score,
                sc.social_score,
                sc.holder_missing,
                sc.holder_stale,
                sc.score_detail,
                sg.signals,
                rk.risk
            from marts.top_tokens_by_usd_volume as tt
            left join marts.latest_technical_scores as lt on tt.mint_address = lt.token_mint
            left join marts.holder_distribution as hd on tt.token_id = hd.token_id
            left join scores as sc on tt.mint_address = sc.token_mint
            left join signals as sg on tt.mint_address = sg.token_mint
            left join risk as rk on tt.mint_address = rk.token_mint
        )
        select * from screener
        where
            (%(platform)s::text is null or platform = %(platform)s::text)
            and (%(min_progress)s::numeric is null or bonding_curve_progress >= %(min_progress)s::numeric)
            and (%(max_progress)s::numeric is null or bonding_curve_progress <= %(max_progress)s::numeric)
            and (%(max_age_hours)s::numeric is null
                 or creation_timestamp >= now() - %(max_age_hours)s::numeric * interval '1 hour')
            and (%(min_score)s::numeric is null or total_score >= %(min_score)s::numeric)
        order by {order_column} {direction}, total_score desc nulls last, volume_24h_usd desc nulls last,
                 token_mint
        limit %(limit)s
    """).format(scores=scores, signals=signals, risk=risk, order_column=order_column, direction=direction)
    params = {
        "platform": flt.platform, "min_progress": flt.min_progress, "max_progress": flt.max_progress,
        "max_age_hours": flt.max_age_hours, "min_score": flt.min_score, "limit": limit,
    }
    return _rows(conn, query, params)


def token(conn: psycopg.Connection, mint: str) -> dict[str, Any] | None:
    """The token's header: identity, current pool, holder distribution, activity; None when unknown."""
    found = _rows(conn, """
        select
            tk.token_id, tk.mint_address as token_mint, tk.symbol, tk.name, tk.platform, tk.creator_address,
            tk.creation_timestamp, tk.is_graduated, tk.graduation_timestamp, tk.graduation_platform,
            case when tk.is_graduated then 100 else tt.bonding_curve_progress end as bonding_curve_progress,
            tt.latest_price_usd, tt.volume_24h_usd, tt.pool_type,
            hd.as_of as holders_as_of, hd.holder_count, hd.gini, hd.theil, hd.shannon, hd.hhi,
            hd.top_10_pct, hd.supply,
            am.buys_1h, am.sells_1h, am.buys_24h, am.sells_24h, am.unique_buyers_24h, am.unique_sellers_24h
        from staging.stg_megatron__tokens as tk
        left join marts.top_tokens_by_usd_volume as tt on tk.token_id = tt.token_id
        left join marts.holder_distribution as hd on tk.token_id = hd.token_id
        left join marts.token_activity_metrics as am on tk.token_id = am.token_id
        where tk.mint_address = %s
    """, (mint,))
    if not found:
        return None
    out = found[0]
    have = optional_marts(conn)
    for mart, key in (("latest_token_scores", "scores"), ("token_signals", "signals"), ("token_risk", "risk")):
        out[key] = None
        if mart in have:
            row = _rows(conn, sql.SQL("select to_jsonb(m.*) as doc from marts.{} as m where m.token_mint = %s")
                        .format(sql.Identifier(mart)), (mint,))
            out[key] = row[0]["doc"] if row else None
    return out


def candles(conn: psycopg.Connection, token_id: Any, interval: Interval, quote: Quote) -> list[dict[str, Any]]:
    """The token's candles at `interval` in SOL or USD, oldest first (the newest MAX_CANDLES). In USD, the
    buckets without a USD price are left out."""
    suffix = "_usd" if quote == "usd" else ""
    cols = {name: sql.Identifier(name + suffix) for name in ("open", "high", "low", "close")}
    volume = sql.Identifier("volume_usd" if quote == "usd" else "volume_sol")
    query = sql.SQL("""
        with newest as (
            select c.bucket, c.{open} as open, c.{high} as high, c.{low} as low, c.{close} as close,
                   c.{volume} as volume, c.trade_count
            from marts.{mart} as c
            where c.token_id = %s and c.{open} is not null
            order by c.bucket desc
            limit %s
        )
        select * from newest order by bucket
    """).format(mart=sql.Identifier(CANDLE_MARTS[interval]), volume=volume, **cols)
    return _rows(conn, query, (token_id, MAX_CANDLES))


def events(conn: psycopg.Connection, mint: str) -> list[dict[str, Any]]:
    """Graduation steps (curve complete, migration) and sell-offs, oldest first."""
    return _rows(conn, """
        with
        graduations as (
            select ge.block_time as at, ge.kind as kind,
                   coalesce(ge.kind || ' (' || ge.platform || ')', ge.kind) as label
            from staging.stg_megatron__graduation_events as ge
            where ge.token_mint = %(mint)s
        ),
        selloffs as (
            select se.detection_time as at, 'selloff' as kind,
                   'sell-off −' || round(se.drop_percentage, 1) || '%%' as label
            from staging.stg_megatron__selloff_events as se
            where se.token_mint = %(mint)s
        )
        select * from graduations
        union all
        select * from selloffs
        order by at
    """, {"mint": mint})


def score_history(conn: psycopg.Connection, mint: str) -> list[dict[str, Any]]:
    """999 total, technical and holder over time: marts.token_score_history when it exists, else the 999
    aggregate hypertable through its staging view; before either, the stored technical and holder score
    snapshots (no total)."""
    have = optional_marts(conn)
    for key in ("token_score_history", "token_scores"):
        if key in have:
            schema, name = OPTIONAL_RELATIONS[key].split(".")
            return _rows(conn, sql.SQL("""
                select sh.as_of, sh.total_score, sh.technical_score, sh.holder_score
                from {}.{} as sh
                where sh.token_mint = %s
                order by sh.as_of
            """).format(sql.Identifier(schema), sql.Identifier(name)), (mint,))
    return _rows(conn, """
        with
        technical as (
            select ts."timestamp" as as_of, ts.total_score as technical_score, null::numeric as holder_score
            from staging.stg_megatron__technical_scores as ts
            where ts.token_mint = %(mint)s
        ),
        holder as (
            select hs."timestamp" as as_of, null::numeric as technical_score, hs.total_score as holder_score
            from staging.stg_megatron__holder_scores as hs
            where hs.token_mint = %(mint)s
        ),
        both_kinds as (
            select * from technical
            union all
            select * from holder
        )
        select as_of, null::numeric as total_score, max(technical_score) as technical_score,
               max(holder_score) as holder_score
        from both_kinds
        group by as_of
        order by as_of
    """, {"mint": mint})


def progress_history(conn: psycopg.Connection, token_id: Any, interval: Interval) -> list[dict[str, Any]]:
    """Bonding-curve progress at the end of each bucket, from the curve state each trade on the curve
    keeps (megatron.curve_progress, the one formula), last trade of the bucket in the event order."""
    return _rows(conn, """
        with
        curve_trades as (
            select
                tx.block_time, tx.slot, tx.slot_order, tx.signature, tx.event_index,
                megatron.curve_progress(tx.real_token_reserves, tx.virtual_token_reserves, pl.curve_sell_supply)
                    as progress
            from staging.stg_megatron__transactions as tx
            inner join staging.stg_megatron__pools as pl on tx.pool_id = pl.pool_id
            where tx.token_id = %(token_id)s and tx.type in ('buy', 'sell') and pl.pool_type = 'initial'
        ),
        per_bucket as (
            select
                time_bucket(%(width)s::interval, ct.block_time) as bucket,
                (array_agg(ct.progress order by ct.block_time desc, ct.slot desc nulls last,
                    ct.slot_order desc nulls last, ct.signature desc, ct.event_index desc)
                    filter (where ct.progress is not null))[1] as progress
            from curve_trades as ct
            group by 1
        )
        select * from per_bucket where progress is not null order by bucket
    """, {"token_id": token_id, "width": BUCKET_WIDTH[interval]})


def top_holders(conn: psycopg.Connection, mint: str, limit: int = 20) -> list[dict[str, Any]]:
    return _rows(conn, """
        select hb.rank, hb.wallet_address, hb.balance, hb.pct_of_circulating, hb.is_creator, hb.is_sniper,
               hb.is_bundler
        from marts.token_holder_balances as hb
        where hb.token_mint = %s
        order by hb.rank
        limit %s
    """, (mint, limit))


def lorenz(conn: psycopg.Connection, mint: str) -> list[dict[str, Any]]:
    """The Lorenz curve of the token's holders (balances smallest first): x = share of holders, y = share of
    the held tokens, from (0, 0) to (1, 1); every point up to LORENZ_POINTS holders, evenly thinned above."""
    return _rows(conn, """
        with
        balances as (
            select hb.balance, hb.rank from marts.token_holder_balances as hb where hb.token_mint = %(mint)s
        ),
        cumulative as (
            select
                row_number() over (order by bl.balance asc, bl.rank desc) as position,
                count(*) over () as holders,
                sum(bl.balance) over (order by bl.balance asc, bl.rank desc rows unbounded preceding) as running,
                sum(bl.balance) over () as total
            from balances as bl
        ),
        points as (
            select 0::float8 as x, 0::float8 as y
            union all
            select (cm.position::numeric / cm.holders)::float8, (cm.running / cm.total)::float8
            from cumulative as cm
            where cm.holders <= %(points)s or cm.position = cm.holders
                or cm.position %% ceil(cm.holders::numeric / %(points)s)::bigint = 0
        )
        select * from points order by x, y
    """, {"mint": mint, "points": LORENZ_POINTS})


def trades(conn: psycopg.Connection, token_id: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The latest buys and sells, newest first in the one event order."""
    return _rows(conn, """
        select tx.block_time, tx.type, tx.user_address, tx.sol_amount, tx.token_amount, tx.price_per_token,
               tx.sol_amount_usd, tx.signature
        from staging.stg_megatron__transactions as tx
        where tx.token_id = %s and tx.type in ('buy', 'sell')
        order by tx.block_time desc, tx.slot desc nulls last, tx.slot_order desc nulls last, tx.signature desc,
                 tx.event_index desc
        limit %s
    """, (token_id, limit))


def freshness(conn: psycopg.Connection) -> datetime | None:
    """When the marts the screener reads were last built (their newest as-of time)."""
    row = conn.execute("select max(as_of) from marts.holder_distribution").fetchone()
    return None if row is None else row[0]
