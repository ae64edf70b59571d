"""What is in the database, for the demo and `megatron status`-style output."""

from __future__ import annotations

import psycopg

SUMMARY_SQL = """
select 'tokens' as name, count(*)::bigint as n,
       format('%s graduated, %s known only from trades', count(*) filter (where is_graduated),
              count(*) filter (where creation_signature is null)) as detail
from tokens
union all
select 'pools', count(*), format('%s bonding curves, %s AMM pools', count(*) filter (where pool_type = 'initial'),
                                 count(*) filter (where pool_type = 'graduated'))
from pools
union all
select 'transactions', count(*), format('%s buys, %s sells, %s SOL volume, %s with USD values',
                                        count(*) filter (where type = 'buy'), count(*) filter (where type = 'sell'),
                                        coalesce(round(sum(sol_amount), 2), 0), count(sol_amount_usd))
from transactions
union all
select 'token_holders', count(*), format('%s with a balance', count(*) filter (where current_balance > 0))
from token_holders
union all
select 'holder_updates', count(*), '' from holder_updates
union all
select 'sol_usd_prices', count(*), coalesce(format('%s .. %s', min(price_time)::date, max(price_time)::date), '')
from sol_usd_prices
union all
select 'holder_score_queue', count(*), format('%s pending', count(*) filter (where processed_at is null))
from holder_score_queue
union all
select 'ingest_rejects', count(*), coalesce(string_agg(distinct reason, ', '), '') from megatron.ingest_rejects
"""


def table_summary(conn: psycopg.Connection) -> list[tuple[str, int, str]]:
    return [(str(r[0]), int(r[1]), str(r[2])) for r in conn.execute(SUMMARY_SQL).fetchall()]
