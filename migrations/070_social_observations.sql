-- 070_social_observations: the raw input of the social score (issue 11). The seed leaves social
-- scoring open ("planned: social_scores from TweetScout"); we store what a TweetScout-shaped
-- provider said about a token's X account at one time, and score it as of T in dbt
-- (macros/social.sql, docs/scoring-social.md).
--
-- One row per (token_mint, source, observed_at): re-loading the same file stores nothing new, and
-- an observation whose key is stored with other values is rejected by the loader as a
-- conflicting_duplicate (the stored one stays). token_mint is not a foreign key to tokens: a
-- social observation may arrive before the token's create or trades do (input order must not
-- change what is stored), so an unknown mint is accepted and simply scores once its token exists.
--
-- The loader's SQL half for this table is its own pair of functions (ingest_prepare_social,
-- ingest_apply_social), kept apart from megatron.ingest_apply().

set local search_path = public, megatron;

create table social_observations (
    token_mint text not null check (char_length(token_mint) between 32 and 44),
    observed_at timestamptz not null,
    source text not null check (char_length(source) between 1 and 50),
    handle text not null check (handle ~ '^[A-Za-z0-9_]{1,15}$'),
    twitter_id text check (twitter_id ~ '^[0-9]{1,20}$'),
    followers_count bigint not null check (followers_count >= 0),
    friends_count bigint check (friends_count >= 0),
    tweets_count bigint check (tweets_count >= 0),
    account_created_at timestamptz,
    verified boolean,
    score numeric(12, 4) check (score >= 0),
    influencers_count bigint check (influencers_count >= 0),
    projects_count bigint check (projects_count >= 0),
    venture_capitals_count bigint check (venture_capitals_count >= 0),
    mentions_24h bigint check (mentions_24h >= 0),
    smart_mentions_24h bigint check (smart_mentions_24h >= 0),
    engagement_24h bigint check (engagement_24h >= 0),
    loaded_at timestamptz not null default now(),
    primary key (token_mint, source, observed_at),
    constraint smart_mentions_within_mentions check (smart_mentions_24h <= mentions_24h)
);

comment on table social_observations is
'What a social-data provider (TweetScout-shaped) said about a token''s X account at observed_at; one row '
'per (token_mint, source, observed_at). Hypertable on observed_at. Input format: docs/canonical-events.md '
'(kind social_observation); the score read from it: docs/scoring-social.md.';
comment on column social_observations.observed_at is 'When the provider was asked (event time of the row).';
comment on column social_observations.handle is 'The token''s X account, without @ (TweetScout screen_name).';
comment on column social_observations.score is 'TweetScout score of the account (/v2/score).';
comment on column social_observations.influencers_count is
'Followers the provider classes as influencers (/v2/followers-stats); with projects and VCs, the smart '
'followers.';
comment on column social_observations.mentions_24h is
'Tweets naming the token (cashtag, mint or handle) in the 24 hours before observed_at.';
comment on column social_observations.smart_mentions_24h is
'Of mentions_24h, those by influencer, project or VC accounts.';
comment on column social_observations.engagement_24h is
'Likes + retweets + replies + quotes on the mentions_24h tweets.';

-- small table: weekly chunks, no compression, kept (the as-of score reads old observations in backfills)
select megatron.declare_hypertable('social_observations', 'observed_at', interval '7 days');

-- the primary key leads with token_mint; the "latest observation at or before T" lookup per token
-- uses (token_mint, observed_at desc), which the key's index serves within a source
create index social_observations_mint_time_idx on social_observations (token_mint, observed_at desc);

alter table social_observations owner to megatron_owner;
-- observations are facts: the loader inserts them and never changes or removes one (the default
-- privileges of 003 would also give it update)
grant select, insert on social_observations to megatron_ingest;
revoke update, delete, truncate on social_observations from megatron_ingest;
grant select on social_observations to megatron_analyst, megatron_orchestrator;


-- The loader's staging table for social observations (session-temporary, emptied at commit).
create function megatron.ingest_prepare_social() returns void
language plpgsql
set search_path = public, megatron
as $$
begin
    create temp table if not exists ingest_social_observations (
        mint text not null,
        observed_at bigint not null,
        source text not null,
        handle text not null,
        twitter_id text,
        followers_count bigint not null,
        friends_count bigint,
        tweets_count bigint,
        account_created_at bigint,
        verified boolean,
        score numeric,
        influencers_count bigint,
        projects_count bigint,
        venture_capitals_count bigint,
        mentions_24h bigint,
        smart_mentions_24h bigint,
        engagement_24h bigint
    ) on commit delete rows;

    -- staged observations whose key is stored with other values (the loader rejects them)
    create temp table if not exists ingest_social_conflicts (
        mint text not null,
        source text not null,
        observed_at bigint not null,
        stored text not null
    ) on commit delete rows;
end
$$;

comment on function megatron.ingest_prepare_social() is
'Creates the session''s staging table for social observations (ingest_social_observations) and its '
'conflict list; the loader calls it once per connection.';


-- Stores the staged observations (insert ... on conflict do nothing) and lists in
-- ingest_social_conflicts those whose key is stored with other values. Returns one row in the
-- shape of megatron.ingest_apply(): staged, accepted (newly stored), expiring (none: no retention).
create function megatron.ingest_apply_social()
returns table (kind text, staged bigint, accepted bigint, expiring bigint)
language plpgsql
set search_path = public, megatron
as $$
declare
    v_staged bigint;
    v_accepted bigint;
begin
    select count(*) into v_staged from ingest_social_observations;

    with inserted as (
        insert into social_observations (
            token_mint, observed_at, source, handle, twitter_id, followers_count, friends_count,
            tweets_count, account_created_at, verified, score, influencers_count, projects_count,
            venture_capitals_count, mentions_24h, smart_mentions_24h, engagement_24h
        )
        select
            s.mint, to_timestamp(s.observed_at), s.source, s.handle, s.twitter_id, s.followers_count,
            s.friends_count, s.tweets_count, to_timestamp(s.account_created_at), s.verified, s.score,
            s.influencers_count, s.projects_count, s.venture_capitals_count, s.mentions_24h,
            s.smart_mentions_24h, s.engagement_24h
        from ingest_social_observations as s
        on conflict do nothing
        returning 1
    )
    select count(*) into v_accepted from inserted;

    -- a staged observation equal to the stored one is "already loaded"; one that differs is a conflict
    insert into ingest_social_conflicts (mint, source, observed_at, stored)
    select s.mint, s.source, s.observed_at,
        jsonb_strip_nulls(jsonb_build_object(
            'handle', o.handle, 'twitter_id', o.twitter_id, 'followers_count', o.followers_count,
            'friends_count', o.friends_count, 'tweets_count', o.tweets_count,
            'account_created_at', extract(epoch from o.account_created_at)::bigint, 'verified', o.verified,
            'score', o.score, 'influencers_count', o.influencers_count, 'projects_count', o.projects_count,
            'venture_capitals_count', o.venture_capitals_count, 'mentions_24h', o.mentions_24h,
            'smart_mentions_24h', o.smart_mentions_24h, 'engagement_24h', o.engagement_24h
        ))::text
    from ingest_social_observations as s
    inner join social_observations as o
        on o.token_mint = s.mint and o.source = s.source and o.observed_at = to_timestamp(s.observed_at)
    where (
        o.handle, o.twitter_id, o.followers_count, o.friends_count, o.tweets_count, o.account_created_at,
        o.verified, o.score, o.influencers_count, o.projects_count, o.venture_capitals_count,
        o.mentions_24h, o.smart_mentions_24h, o.engagement_24h
    ) is distinct from (
        s.handle, s.twitter_id, s.followers_count, s.friends_count, s.tweets_count,
        to_timestamp(s.account_created_at), s.verified, s.score::numeric(12, 4), s.influencers_count,
        s.projects_count, s.venture_capitals_count, s.mentions_24h, s.smart_mentions_24h, s.engagement_24h
    );

    return query select 'social_observation'::text, v_staged, v_accepted, 0::bigint;
end
$$;

comment on function megatron.ingest_apply_social() is
'The loader''s SQL half for social observations: stores the staged rows keyed by (token_mint, source, '
'observed_at) and lists conflicting duplicates in ingest_social_conflicts. Returns (kind, staged, accepted, '
'expiring) like megatron.ingest_apply().';

revoke all on function megatron.ingest_prepare_social() from public;
revoke all on function megatron.ingest_apply_social() from public;
grant execute on function megatron.ingest_prepare_social() to megatron_ingest;
grant execute on function megatron.ingest_apply_social() to megatron_ingest;
