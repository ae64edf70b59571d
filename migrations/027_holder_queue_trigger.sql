-- 027_holder_queue_trigger: queue a holder-score calculation when a pool's bonding-curve
-- progress crosses 10, 25, 50 or 75 % (seed: queue_holder_score_update).
--
-- A pool first seen with NULL progress counts as 0 (the seed's OLD < 10 was NULL there and
-- never fired). Priorities follow spec §2.3: 2 for 75 %, 3 for the 10 % milestone, 5 for the
-- others; when one update crosses several milestones the most urgent priority and the
-- highest milestone are kept. A token already pending is left alone (the partial unique
-- index of 018_holder_score_queue with ON CONFLICT DO NOTHING).

set local search_path = public, megatron;

create function queue_holder_score_calculation() returns trigger
language plpgsql
as $$
begin
    insert into public.holder_score_queue (token_mint, priority, reason)
    select
        t.mint_address,
        min(m.priority),
        format('milestone_crossed %s%%', max(m.milestone))
    from public.tokens as t
    cross join (values (10, 3), (25, 5), (50, 5), (75, 2)) as m (milestone, priority)
    where t.id = new.token_id
      and coalesce(old.bonding_curve_progress, 0) < m.milestone
      and new.bonding_curve_progress >= m.milestone
    group by t.mint_address
    on conflict (token_mint) where processed_at is null do nothing;
    return null;
end
$$;

comment on function queue_holder_score_calculation() is
'AFTER UPDATE trigger on pools: queues the token for a holder score when progress crosses 10/25/50/75 %, '
'at most one pending entry per token.';

create trigger queue_holder_score_update
after update of bonding_curve_progress on pools
for each row
when (
    (coalesce(old.bonding_curve_progress, 0) < 10 and new.bonding_curve_progress >= 10)
    or (coalesce(old.bonding_curve_progress, 0) < 25 and new.bonding_curve_progress >= 25)
    or (coalesce(old.bonding_curve_progress, 0) < 50 and new.bonding_curve_progress >= 50)
    or (coalesce(old.bonding_curve_progress, 0) < 75 and new.bonding_curve_progress >= 75)
)
execute function queue_holder_score_calculation();
