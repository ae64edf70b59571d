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
