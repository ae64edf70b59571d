"""Throw-away databases for the benchmarks: each measurement loads into a fresh, fully migrated one."""

from __future__ import annotations

import secrets

import psycopg

from megatron import db, migrate


def fresh_database(server: str, label: str) -> str:
    """Create ``megatron_bench_<label>_<random>`` on ``server``, migrate it, return its URL."""
    name = f"megatron_bench_{label}_{secrets.token_hex(3)}"
    with psycopg.connect(server, autocommit=True) as c:
        c.execute(f'create database "{name}"')
    url = db.with_dbname(server, name)
    migrate.migrate(url)
    return url


def drop(server: str, url: str) -> None:
    """Drop the database ``url`` names, closing its sessions."""
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server, autocommit=True) as c:
        c.execute(f'drop database if exists "{name}" with (force)')
