"""The migration runner against a real server: order, checksums, locking, rollback, no-transaction files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from megatron import migrate
from megatron.errors import MegatronError
from megatron.sqlsplit import split_sql

from .conftest import create_database, drop_database


@pytest.fixture
def fresh_db(server_url: str, run_id: str, request: pytest.FixtureRequest):
    name = f"megatron_m_{run_id}_{request.node.name[:40].lower()}"
    url = create_database(server_url, name)
    yield url
    drop_database(server_url, name)


def write(directory: Path, name: str, sql: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(sql).lstrip())
    return path


def table_exists(url: str, name: str) -> bool:
    with psycopg.connect(url) as c:
        return c.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]


def recorded_versions(url: str) -> list[int]:
    with psycopg.connect(url) as c:
        return [r[0] for r in c.execute("select version from megatron.schema_migrations order by 1")]


def test_pending_files_apply_in_order_once_and_are_recorded_with_checksums(fresh_db: str, tmp_path: Path) -> None:
    write(tmp_path, "001_first.sql", "create table a (x int);")
    write(tmp_path, "002_second.sql", "insert into a values (1); insert into a values (2);")
    applied = migrate.migrate(fresh_db, directory=tmp_path)
    assert [m.version for m in applied] == [1, 2]
    assert migrate.migrate(fresh_db, directory=tmp_path) == []
    with psycopg.connect(fresh_db) as c:
        assert c.execute("select count(*) from a").fetchone()[0] == 2
        rows = c.execute("select version, sha256, duration_ms >= 0 from megatron.schema_migrations order by 1").fetchall()
    files = migrate.discover(tmp_path)
    assert rows == [(1, files[0].sha256, True), (2, files[1].sha256, True)]


def test_a_changed_applied_file_is_refused_by_name(fresh_db: str, tmp_path: Path) -> None:
    path = write(tmp_path, "001_first.sql", "create table a (x int);")
    migrate.migrate(fresh_db, directory=tmp_path)
    path.write_text("create table a (x bigint);\n")
    write(tmp_path, "002_second.sql", "create table b (x int);")
    with pytest.raises(MegatronError, match=r"001_first\.sql was changed after it was applied"):
        migrate.migrate(fresh_db, directory=tmp_path)
    assert not table_exists(fresh_db, "b"), "nothing after the refusal may run"


def test_a_failing_file_rolls_back_and_names_file_and_line(fresh_db: str, tmp_path: Path) -> None:
    write(tmp_path, "001_ok.sql", "create table a (x int);")
    write(
        tmp_path,
        "002_bad.sql",
        """
        -- creates b, then fails
        create table b (x int);
        insert into b values (1);

        insert into b (wallet)
        values (2);
        """,
    )
    with pytest.raises(MegatronError) as err:
        migrate.migrate(fresh_db, directory=tmp_path)
    message = str(err.value)
    assert "002_bad.sql failed at line 5" in message
    assert 'column "wallet" of relation "b" does not exist' in message
    assert "rolled back" in message
    assert table_exists(fresh_db, "a")
    assert not table_exists(fresh_db, "b"), "the failing file's earlier statements must be rolled back"
    assert recorded_versions(fresh_db) == [1]


def test_no_transaction_header_runs_statements_in_autocommit(fresh_db: str, tmp_path: Path) -> None:
    write(tmp_path, "001_table.sql", "create table a (x int);")
    write(
        tmp_path,
        "002_index.sql",
        """
        -- megatron: no-transaction
        -- create index concurrently cannot run inside a transaction block
        create index concurrently a_x on a (x);
        """,
    )
    migrate.migrate(fresh_db, directory=tmp_path)
    assert table_exists(fresh_db, "a_x")
    assert [m.transactional for m in migrate.discover(tmp_path)] == [True, False]


def test_the_same_statement_without_the_header_fails_inside_a_transaction(fresh_db: str, tmp_path: Path) -> None:
    write(tmp_path, "001_table.sql", "create table a (x int);")
    write(tmp_path, "002_index.sql", "create index concurrently a_x on a (x);")
    with pytest.raises(MegatronError, match=r"002_index\.sql failed at line 1: .*cannot run inside a transaction block"):
        migrate.migrate(fresh_db, directory=tmp_path)


def test_two_runners_serialize_on_the_advisory_lock(fresh_db: str, tmp_path: Path) -> None:
    write(
        tmp_path,
        "001_slow.sql",
        """
        create table runs (at timestamptz default clock_timestamp());
        select pg_sleep(1.5);
        insert into runs default values;
        """,
    )
    script = (
        "import sys; from pathlib import Path; from megatron import migrate; "
        "print(len(migrate.migrate(sys.argv[1], directory=Path(sys.argv[2]))))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, fresh_db, str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
    assert sorted(int(out) for out, _ in results) == [0, 1], "exactly one runner applies the file, the other waits and finds nothing"
    with psycopg.connect(fresh_db) as c:
        assert c.execute("select count(*) from runs").fetchone()[0] == 1


def test_duplicate_versions_and_bad_names_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "001_a.sql", "select 1;")
    write(tmp_path, "001_b.sql", "select 1;")
    with pytest.raises(MegatronError, match="Two migrations share version 1"):
        migrate.discover(tmp_path)
    (tmp_path / "001_b.sql").unlink()
    write(tmp_path, "2-oops.sql", "select 1;")
    with pytest.raises(MegatronError, match="not a migration name"):
        migrate.discover(tmp_path)


def test_dry_run_lists_pending_and_changes_nothing(fresh_db: str, tmp_path: Path) -> None:
    write(tmp_path, "001_a.sql", "create table a (x int);")
    todo = migrate.migrate(fresh_db, directory=tmp_path, dry_run=True)
    assert [m.name for m in todo] == ["a"]
    assert not table_exists(fresh_db, "a")


def test_splitter_keeps_dollar_quotes_strings_and_comments_intact() -> None:
    script = textwrap.dedent(
        """
        -- a comment; with a semicolon
        create function f() returns text language sql as $$ select 'a;b' $$;
        /* block ; comment */ select E'it\\'s;', 'x''y;', "odd;name" from t;
        do $body$ begin perform 1; end $body$;
        """
    )
    stmts = split_sql(script)
    assert [s.line for s in stmts] == [3, 4, 5]
    assert stmts[0].text.endswith("$$ select 'a;b' $$")
    assert "'x''y;'" in stmts[1].text and '"odd;name"' in stmts[1].text
    assert stmts[2].text == "do $body$ begin perform 1; end $body$"


def test_the_project_migrations_apply_to_an_empty_database(fresh_db: str) -> None:
    applied = migrate.migrate(fresh_db)
    assert applied, "the project has migrations"
    assert [m.version for m in applied] == sorted(m.version for m in applied)
    assert migrate.migrate(fresh_db) == [], "a second run changes nothing"
