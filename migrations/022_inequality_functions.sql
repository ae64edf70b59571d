-- 022_inequality_functions: Gini, Shannon and Theil over an array of holder balances (spec §4.2).
--
-- One rule for all three, so a caller can pass the same array to each:
--   * a NULL array gives NULL; NULL elements are ignored;
--   * a negative balance is an error (SQLSTATE 22023): balances cannot be negative, so it
--     means an upstream bug, and a silently shifted measure would hide it;
--   * zeros are holders: they count in n (the caller leaves out accounts it does not count);
--   * no balances, or all zero, gives NULL (the distribution of nothing is undefined);
--   * a single holder gives 0 (perfect equality, no uncertainty).
-- Gini is computed in exact numeric arithmetic; Shannon and Theil need logarithms and use
-- double precision internally (relative error ~1e-15); log2 ratios are taken as ln ratios.
-- Each is one set-based statement.

set local search_path = public, megatron;

create function calculate_gini_coefficient(balances numeric[]) returns numeric
language plpgsql immutable strict parallel safe
as $$
declare
    v_negatives bigint;
    v_gini numeric;
begin
    with

    holders as (
        select b.x
        from unnest(balances) as b (x)
        where b.x is not null
    ),

    ranked as (
        select
            x,
            row_number() over (order by x) as i,
            count(*) over () as n,
            sum(x) over () as s
        from holders
    )

    select
        count(*) filter (where x < 0),
        case
            when max(s) > 0
                then greatest(0, least(1, sum((2 * i - n - 1) * x) / (max(n) * max(s))))
        end
    into v_negatives, v_gini
    from ranked;

    if v_negatives > 0 then
        raise exception 'calculate_gini_coefficient: % negative balance(s); balances must be >= 0', v_negatives
            using errcode = 'invalid_parameter_value';
    end if;
    return v_gini;
end
$$;

comment on function calculate_gini_coefficient(numeric[]) is
'Gini of the balances: sorted ascending, sum((2i - n - 1) x_i) / (n S), clamped to [0, 1] (spec §4.2). '
'NULL elements ignored, zeros count as holders, negatives raise 22023; NULL when empty or all zero; 0 for one holder.';

create function calculate_shannon_entropy(balances numeric[]) returns numeric
language plpgsql immutable strict parallel safe
as $$
declare
    v_negatives bigint;
    v_entropy numeric;
begin
    with

    holders as (
        select b.x
        from unnest(balances) as b (x)
        where b.x is not null
    ),

    totals as (
        select
            count(*) as n,
            sum(x)::double precision as s,
            count(*) filter (where x < 0) as negatives
        from holders
    ),

    terms as (
        select h.x::double precision / t.s as p
        from holders as h
        cross join totals as t
        where h.x > 0 and t.s > 0
    )

    select
        t.negatives,
        case
            when t.n = 0 or t.s is null or t.s <= 0 then null
            when t.n = 1 then 0
            else greatest(0, -(select sum(terms.p * ln(terms.p)) from terms) / ln(t.n::double precision))::numeric
        end
    into v_negatives, v_entropy
    from totals as t;

    if v_negatives > 0 then
        raise exception 'calculate_shannon_entropy: % negative balance(s); balances must be >= 0', v_negatives
            using errcode = 'invalid_parameter_value';
    end if;
    return v_entropy;
end
$$;

comment on function calculate_shannon_entropy(numeric[]) is
'Normalized Shannon entropy: -sum(p_i log2 p_i) / log2 n, p_i = x_i / S, in [0, 1] (spec §4.2). '
'NULL elements ignored, zeros count in n (0 log 0 = 0), negatives raise 22023; NULL when empty or all zero; 0 for '
'one holder.';

create function calculate_theil_index(balances numeric[]) returns numeric
language plpgsql immutable strict parallel safe
as $$
declare
    v_negatives bigint;
    v_theil numeric;
begin
    with

    holders as (
        select b.x
        from unnest(balances) as b (x)
        where b.x is not null
    ),

    totals as (
        select
            count(*) as n,
            sum(x)::double precision / nullif(count(*), 0) as mu,
            count(*) filter (where x < 0) as negatives
        from holders
    ),

    terms as (
        select h.x::double precision / t.mu as r
        from holders as h
        cross join totals as t
        where h.x > 0 and t.mu > 0
    )

    select
        t.negatives,
        case
            when t.n = 0 or t.mu is null or t.mu <= 0 then null
            else greatest(0, (select sum(terms.r * ln(terms.r)) from terms) / t.n)::numeric
        end
    into v_negatives, v_theil
    from totals as t;

    if v_negatives > 0 then
        raise exception 'calculate_theil_index: % negative balance(s); balances must be >= 0', v_negatives
            using errcode = 'invalid_parameter_value';
    end if;
    return v_theil;
end
$$;

comment on function calculate_theil_index(numeric[]) is
'Theil T index: (1/n) sum((x_i/mu) ln(x_i/mu)), mu = S/n, floored at 0; 0 is equality, ln n is one holder owning all '
'(spec §4.2). NULL elements ignored, zeros count in n (0 ln 0 = 0), negatives raise 22023; '
'NULL when empty or all zero.';
