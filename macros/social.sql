{#- The social score (0-333) of every (token_mint, as_of) of `grid`, a CTE or relation with those two columns
    (docs/scoring-social.md; ours, the seed leaves it open). As of T: only observations with observed_at <= T
    are read, and only the newest of them within seeds/scoring/social_parameters.max_observation_age_hours
    (ties at one instant: the source sorting last). A pair with no such observation gets no row.

    Three parts of 0-111, each the sum of its metrics' tier points (seeds/scoring/social_tiers.csv), capped:
      audience    = followers points, times fresh_account_factor when the account was younger than
                    fresh_account_days when observed
      credibility = TweetScout score points + smart-follower points (influencers + projects + VCs)
      buzz        = mentions_24h points + engagement_24h points + smart_mentions_24h points
    A metric the observation lacks (null) earns 0. Returns one row per scored pair with the parts, each metric's
    points, the observation used (social_as_of = its observed_at, observation_source, handle) and the rule
    version. Used as `social as ({{ social_scores_for('grid') }})`. -#}
{% macro social_scores_for(grid) -%}
    with

    social_parameters as (
        select
            sp.rule_version,
            sp.max_observation_age_hours * interval '1 hour' as max_age,
            sp.fresh_account_days * interval '1 day' as fresh_age,
            sp.fresh_account_factor
        from {{ ref('social_parameters') }} as sp
    ),

    social_tiers as (
        select * from {{ ref('social_tiers') }}
    ),

    social_grid as (
        select distinct
            g.token_mint,
            g.as_of
        from {{ grid }} as g
    ),

    social_latest as (
        select
            sg.token_mint,
            sg.as_of,
            so.observed_at,
            so.source,
            so.handle,
            so.followers_count,
            so.score,
            so.influencers_count,
            so.projects_count,
            so.venture_capitals_count,
            so.mentions_24h,
            so.smart_mentions_24h,
            so.engagement_24h,
            coalesce(so.observed_at - so.account_created_at < sp.fresh_age, false) as fresh_account
        from social_grid as sg
        cross join social_parameters as sp
        inner join lateral (
            select obs.*
            from {{ ref('stg_megatron__social_observations') }} as obs
            where
                obs.token_mint = sg.token_mint
                and obs.observed_at <= sg.as_of
                and obs.observed_at > sg.as_of - sp.max_age
            order by obs.observed_at desc, obs.source desc
            limit 1
        ) as so on true
    ),

    social_metric_values as (
        select
            sl.token_mint,
            sl.as_of,
            mv.metric,
            mv.metric_value
        from social_latest as sl
        cross join lateral (
            values
            ('followers', sl.followers_count::numeric),
            ('tweetscout_score', sl.score),
            (
                'smart_followers',
                case
                    when num_nonnulls(sl.influencers_count, sl.projects_count, sl.venture_capitals_count) > 0
                        then (
                            coalesce(sl.influencers_count, 0) + coalesce(sl.projects_count, 0)
                            + coalesce(sl.venture_capitals_count, 0)
                        )::numeric
                end
            ),
            ('mentions_24h', sl.mentions_24h::numeric),
            ('engagement_24h', sl.engagement_24h::numeric),
            ('smart_mentions_24h', sl.smart_mentions_24h::numeric)
        ) as mv (metric, metric_value)
    ),

    social_metric_points as (
        select
            smv.token_mint,
            smv.as_of,
            smv.metric,
            coalesce(max(st.points), 0) as points
        from social_metric_values as smv
        left join social_tiers as st
            on st.metric = smv.metric and smv.metric_value >= st.min_value
        group by smv.token_mint, smv.as_of, smv.metric
    ),

    social_points_wide as (
        select
            smp.token_mint,
            smp.as_of,
            max(smp.points) filter (where smp.metric = 'followers') as followers_points,
            max(smp.points) filter (where smp.metric = 'tweetscout_score') as tweetscout_score_points,
            max(smp.points) filter (where smp.metric = 'smart_followers') as smart_followers_points,
            max(smp.points) filter (where smp.metric = 'mentions_24h') as mentions_points,
            max(smp.points) filter (where smp.metric = 'engagement_24h') as engagement_points,
            max(smp.points) filter (where smp.metric = 'smart_mentions_24h') as smart_mentions_points
        from social_metric_points as smp
        group by smp.token_mint, smp.as_of
    ),

    social_parts as (
        select
            sl.token_mint,
            sl.as_of,
            round(
                least(
                    111, spw.followers_points * case when sl.fresh_account then sp.fresh_account_factor else 1 end
                ),
                2
            ) as audience_points,
            round(least(111, spw.tweetscout_score_points + spw.smart_followers_points), 2) as credibility_points,
            round(
                least(111, spw.mentions_points + spw.engagement_points + spw.smart_mentions_points), 2
            ) as buzz_points,
            spw.followers_points,
            spw.tweetscout_score_points,
            spw.smart_followers_points,
            spw.mentions_points,
            spw.engagement_points,
            spw.smart_mentions_points,
            sl.fresh_account,
            sl.observed_at as social_as_of,
            sl.source as observation_source,
            sl.handle,
            sp.rule_version
        from social_latest as sl
        inner join social_points_wide as spw
            on spw.token_mint = sl.token_mint and spw.as_of = sl.as_of
        cross join social_parameters as sp
    ),

    social_scored as (
        select
            sps.token_mint,
            sps.as_of,
            sps.audience_points + sps.credibility_points + sps.buzz_points as social_score,
            sps.audience_points,
            sps.credibility_points,
            sps.buzz_points,
            sps.followers_points,
            sps.tweetscout_score_points,
            sps.smart_followers_points,
            sps.mentions_points,
            sps.engagement_points,
            sps.smart_mentions_points,
            sps.fresh_account,
            sps.social_as_of,
            sps.observation_source,
            sps.handle,
            sps.rule_version
        from social_parts as sps
    )

    select * from social_scored
{%- endmacro %}
