{#- score_snapshot: the materialization of the scoring models (models/scoring/). The relation is a hypertable a
    migration owns (the model's schema and alias name it); the model's rows are inserted with
    `on conflict do nothing`, so re-scoring a (token, T) that is stored changes nothing and duplicates nothing.
    It never creates, drops or truncates the table, and a full refresh is refused. -#}
{% materialization score_snapshot, adapter='postgres' %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- if should_full_refresh() -%}
        {{ exceptions.raise_compiler_error(
            "full refresh is disabled for " ~ this ~ ": it is a snapshot hypertable owned by a migration; "
            ~ "delete rows by hand if a rule changed, then score again") }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if existing is none -%}
        {{ exceptions.raise_compiler_error(
            this ~ " does not exist: the scoring models write tables made by the migrations; run `megatron migrate`") }}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set columns = get_columns_in_query(sql) -%}
    {%- set column_list = [] -%}
    {%- for column in columns -%}
        {%- do column_list.append(adapter.quote(column)) -%}
    {%- endfor -%}

    {#- The scoring query is one large statement whose plan JIT-compiles for minutes and then runs in a second:
        JIT stays off for it (in this transaction only). #}
    {% call statement('main') -%}
        set local jit = off;
        insert into {{ target_relation }} ({{ column_list | join(', ') }})
        select {{ column_list | join(', ') }}
        from (
            {{ sql }}
        ) as snapshot_rows
        on conflict do nothing
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
