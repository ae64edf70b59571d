"""What is in the database, for the demo and `megatron status`-style output."""

from __future__ import annotations

import psycopg

SUMMARY_SQL = """
select * from (
select 1 as ord, 'tokens' as name, count(*)::bigint as n,
       format('%s graduated, %s known only from trades', count(*) filter (where is_graduated),
              count(*) filter (where creation_signature is null)) as detail
from tokens
union all
select 2, 'pools', count(*), format('%s bonding curves, %s AMM pools', count(*) filter (where pool_type = 'initial'),
                                 count(*) filter (where pool_type = 'graduated'))
from pools
union all
select 3, 'transactions', count(*), format('%s buys, %s sells, %s SOL volume, %s with USD values',
                                        count(*) filter (where type = 'buy'), count(*) filter (where type = 'sell'),
                                        coalesce(round(sum(sol_amount), 2), 0), count(sol_amount_usd))
from transactions
union all
select 4, 'token_holders', count(*), format('%s with a balance', count(*) filter (where current_balance > 0))
from token_holders
union all
select 5, 'holder_updates', count(*), '' from holder_updates
union all
select 6, 'sol_usd_prices', count(*), case when count(*) > 0 then format('%s .. %s', min(price_time), max(price_time)) else '' end
from sol_usd_prices
union all
select 7, 'holder_score_queue', count(*), format('%s pending', count(*) filter (where processed_at is null))
from holder_score_queue
union all
select 8, 'ingest_rejects', count(*), coalesce(string_agg(distinct reason, ', '), '') from megatron.ingest_rejects
) as summary
order by ord
"""


def table_summary(conn: psycopg.Connection) -> list[tuple[str, int, str]]:
    return [(str(r[1]), int(r[2]), str(r[3])) for r in conn.execute(SUMMARY_SQL).fetchall()]


MART_SAMPLES: list[tuple[str, list[str], str]] = [
    (
        "top tokens by 24h USD volume (marts.top_tokens_by_usd_volume):",
        ["symbol", "pool", "progress %", "volume 24h USD", "technical", "holder"],
        """
        select symbol, pool_type, round(bonding_curve_progress, 1), round(volume_24h_usd, 2), technical_score,
               holder_score
        from marts.top_tokens_by_usd_volume
        order by volume_24h_usd desc, mint_address
        limit 5
        """,
    ),
    (
        "latest 1-minute candles (marts.price_candles_1m):",
        ["symbol", "minute", "open SOL", "close SOL", "volume SOL", "trades"],
        """
        select tk.symbol, to_char(c.bucket at time zone 'utc', 'YYYY-MM-DD HH24:MI'), round(c.open, 12),
               round(c.close, 12), round(c.volume_sol, 3), c.trade_count
        from marts.price_candles_1m as c
        join tokens as tk on tk.id = c.token_id
        order by c.bucket desc, c.volume_sol desc
        limit 3
        """,
    ),
    (
        "most held tokens (marts.holder_distribution):",
        ["symbol", "holders", "top 10 %", "gini", "shannon"],
        """
        select tk.symbol, hd.holder_count, round(hd.top_10_pct, 1), round(hd.gini, 3), round(hd.shannon, 3)
        from marts.holder_distribution as hd
        join tokens as tk on tk.id = hd.token_id
        order by hd.holder_count desc, hd.token_mint
        limit 3
        """,
    ),
    (
        "best wallets by realized PnL (marts.wallet_performance):",
        ["wallet", "realized SOL", "tokens", "win rate %"],
        """
        select left(wallet_address, 8) || '…', round(realized_pnl_sol, 3), tokens_traded, win_rate
        from marts.wallet_performance
        order by realized_pnl_sol desc, wallet_address
        limit 3
        """,
    ),
]


def mart_samples(conn: psycopg.Connection) -> list[tuple[str, list[str], list[tuple[object, ...]]]]:
    """A few lines from the dbt marts (after `dbt build`), each with its title and headers."""
    return [(title, headers, conn.execute(query).fetchall()) for title, headers, query in MART_SAMPLES]
