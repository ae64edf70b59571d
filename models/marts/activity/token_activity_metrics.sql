{{ config(indexes=[{'columns': ['token_id'], 'unique': true}]) }}
{#- Trading activity per token as of var('as_of') (now by default): macros/activity.sql. -#}
with

activity as (
    {{ activity_as_of(as_of_time()) }}
)

select * from activity
