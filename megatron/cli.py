"""`megatron`: the command line. A thin face over the package; no logic lives only here."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import click
import psycopg

from megatron import cluster, db, migrate as migrations, policies as policy_registry
from megatron.errors import MegatronError
from megatron.events import PUMPFUN_PROGRAM_ID
from megatron.paths import project_root
from megatron.ingest.loader import TABLE_OF_KIND, Counts
from megatron.simulate import SimSummary


class FriendlyGroup(click.Group):
    """Turns MegatronError into a one-line message and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MegatronError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(1)
        except db.LOST as exc:  # a command without its own wording for it
            click.secho(f"error: {db.lost_connection(exc, 'the command')}", fg="red", err=True)
            ctx.exit(1)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())


@click.group(cls=FriendlyGroup)
@click.version_option(package_name="megatron")
def main() -> None:
    """Megatron: a pump.fun / Raydium LaunchLab analytics warehouse on PostgreSQL + TimescaleDB.

    Every command uses DATABASE_URL when it is set, else the embedded cluster under .megatron/.
    """


# --- db ---------------------------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """The embedded PostgreSQL + TimescaleDB cluster (ignored when DATABASE_URL is set)."""


def _external_notice() -> bool:
    if db.external_url():
        click.echo(f"DATABASE_URL is set: using {db.describe(db.external_url() or '')}; no embedded cluster involved.")
        return True
    return False


@db_group.command("start")
def db_start() -> None:
    """Create (first time) and start the embedded cluster; does nothing if it runs."""
    if _external_notice():
        return
    before = cluster.status().state
    state = cluster.start()
    verb = "already running" if before == "running" else "started"
    click.echo(f"embedded cluster {verb}: 127.0.0.1:{state.port} (data {state.data_dir})")


@db_group.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster."""
    if _external_notice():
        return
    click.echo("embedded cluster stopped" if cluster.stop() else "embedded cluster was not running")


@db_group.command("status")
def db_status() -> None:
    """Tell whether the embedded cluster runs (and notice a crash)."""
    if _external_notice():
        return
    st = cluster.status()
    click.echo(f"{st.state}: {st.detail}")
    if st.state != "running":
        sys.exit(3)


@db_group.command("url")
def db_url() -> None:
    """Print the connection URL (DATABASE_URL, or the embedded cluster's)."""
    click.echo(db.database_url(start=False))


@db_group.command("psql", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def db_psql(args: tuple[str, ...]) -> None:
    """Open psql on the database (extra arguments go to psql)."""
    url = db.database_url()
    psql = "psql"
    state = cluster.load_state()
    if state and not db.external_url():
        psql = os.path.join(state.pg_bin, "psql")
    # the password travels in the environment (readable only by this user), never on the command
    # line, where `ps` and /proc/PID/cmdline show it to everyone
    conninfo, password = db.without_password(url)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    os.execvpe(psql, [psql, conninfo, *args], env)


@db_group.command("reset")
@click.confirmation_option(prompt="Delete the embedded cluster and all its data?")
def db_reset() -> None:
    """Stop the embedded cluster and delete its data."""
    if _external_notice():
        return
    cluster.destroy()
    click.echo("embedded cluster deleted")


# --- migrate ------------------------------------------------------------------------------


def _progress(m: migrations.Migration, duration: float | None) -> None:
    if duration is None:
        click.echo(f"  applying {m.display} …", nl=False)
    else:
        click.echo(f" {duration:.0f} ms")


@main.command("migrate")
@click.option("--status", "show_status", is_flag=True, help="List migrations and whether each is applied.")
@click.option("--dry-run", is_flag=True, help="Show what would be applied; change nothing.")
def migrate_cmd(show_status: bool, dry_run: bool) -> None:
    """Apply pending migrations from migrations/ in order."""
    url = db.database_url()
    if show_status:
        with db.connect(url) as conn:
            rows = migrations.status(conn)
        print_table(
            ["version", "name", "state", "mode", "applied_at", "ms"],
            [
                (
                    f"{(r.migration or r.applied).version:03d}",  # type: ignore[union-attr]
                    (r.migration or r.applied).name,  # type: ignore[union-attr]
                    r.state,
                    "" if r.migration is None else ("tx" if r.migration.transactional else "no-tx"),
                    r.applied.applied_at.strftime("%Y-%m-%d %H:%M:%S") if r.applied else "",
                    f"{r.applied.duration_ms:.0f}" if r.applied else "",
                )
                for r in rows
            ],
        )
        return
    applied = run_migrations(url, dry_run=dry_run)
    if dry_run:
        if not applied:
            click.echo("nothing to apply")
        for m in applied:
            click.echo(f"would apply {m.display} ({'transaction' if m.transactional else 'no-transaction'})")


def run_migrations(url: str, *, dry_run: bool = False, echo: Callable[[str], None] = click.echo) -> list[migrations.Migration]:
    applied = migrations.migrate(url, dry_run=dry_run, on_progress=None if dry_run else _progress)
    if not dry_run:
        echo(f"migrations: {len(applied)} applied, database {db.describe(url)} is up to date")
    return applied


# --- policies -----------------------------------------------------------------------------


@main.command("policies")
def policies_cmd() -> None:
    """Print the time-series policy registry and whether each is native or orchestrated."""
    with db.connect() as conn:
        edition = db.timescaledb_license(conn)
        rows = policy_registry.registry(conn)
    show_policies(edition, rows)


def show_policies(edition: str, rows: list[policy_registry.PolicyRow]) -> None:
    click.echo(f"TimescaleDB edition: {edition} ({policy_registry.edition_meaning(edition)})")
    print_table(
        ["object", "kind", "chunk/bucket", "compress", "compress_after", "drop_after", "refresh", "applied_by"],
        [
            (
                r.object_name,
                r.object_kind,
                policy_registry.fmt_interval(r.chunk_interval),
                r.compression,
                policy_registry.fmt_interval(r.compress_after),
                policy_registry.fmt_interval(r.drop_after),
                r.refresh,
                r.applied_by,
            )
            for r in rows
        ],
    )


# --- ingest -------------------------------------------------------------------------------


def print_counts(run_id: int, counts: Counts) -> None:
    c = counts
    if c.records_read:
        click.echo(
            f"ingest run {run_id}: {c.records_read} records read = {c.records_decoded} decoded + "
            f"{c.records_skipped} skipped (failed on chain) + {c.records_rejected} rejected"
        )
    else:
        click.echo(f"ingest run {run_id}:")
    click.echo(
        f"  events: {c.events_read} read = {c.events_accepted} loaded + {c.events_duplicate} already loaded + "
        f"{c.events_rejected} rejected"
    )
    for kind, (read, accepted) in sorted(c.by_kind.items()):
        click.echo(f"    {kind:<15} {read:>9} read {accepted:>9} loaded")
    for kind, n in sorted(c.expiring.items()):
        table = TABLE_OF_KIND.get(kind, kind)
        click.echo(
            f"  {table}: {n} of the loaded rows are older than its retention ({c.retention.get(table, 'drop_after')}) "
            "and will be removed by the next retention run"
        )
    if c.records_rejected or c.events_rejected:
        click.echo(
            "  rejects are kept with their reasons and raw input in megatron.ingest_rejects "
            "(each once, under the run that first saw it)"
        )


@main.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--rpc", "rpc_url", metavar="URL", help="Pull from a Solana JSON-RPC node instead of files.")
@click.option("--address", "addresses", multiple=True, metavar="ADDR",
              help="With --rpc: addresses to page (default: the pump.fun program); repeat for several mints.")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(min=1),
              help="With --rpc: transactions per address per run.")
@click.option("--backfill", is_flag=True, help="With --rpc: continue into the past from the oldest signature fetched.")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(min=1),
              help="With --rpc: requests in flight.")
@click.option("--rps", default=10.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="With --rpc: requests per second at most.")
@click.option("--rpc-timeout", default=30.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="With --rpc: seconds to wait for the node's answer to one request.")
@click.option("--rpc-retries", default=5, show_default=True, type=click.IntRange(min=0),
              help="With --rpc: retries of a request after a 429, a 5xx, a timeout or a malformed answer.")
@click.option("--batch-size", default=25_000, show_default=True, type=click.IntRange(min=1),
              help="Events per database transaction.")
def ingest_cmd(
    paths: tuple[str, ...], rpc_url: str | None, addresses: tuple[str, ...], limit: int, backfill: bool,
    concurrency: int, rps: float, rpc_timeout: float, rpc_retries: int, batch_size: int,
) -> None:
    """Load files and folders (RPC JSON, Helius notifications, event log lines, canonical JSONL,
    SOL/USD CSV or Hermes JSON), or pull from an RPC node with --rpc."""
    from megatron.ingest import files as file_ingest, rpc

    if bool(paths) == bool(rpc_url):
        raise MegatronError("Give either PATH… to load files, or --rpc URL to pull from a node (not both, not neither).")
    url = db.ingest_url()
    with db.connect(url, autocommit=True) as conn:
        if rpc_url:
            settings = rpc.RpcSettings(
                concurrency=concurrency, requests_per_second=rps, timeout=rpc_timeout, max_retries=rpc_retries
            )
            with click.progressbar(length=limit * max(1, len(addresses)), label="fetching", file=sys.stderr) as bar:
                last = [0]

                def step(done: int, total: int) -> None:
                    bar.update(done - last[0])
                    last[0] = done

                result = rpc.pull(conn, rpc_url, addresses or (PUMPFUN_PROGRAM_ID,), limit=limit, backfill=backfill,
                                  settings=settings, batch_size=batch_size, on_progress=step)
            click.echo(
                f"rpc: {result.signatures} signatures, {result.retried_signatures} retried from earlier runs, "
                f"{result.calls} calls ({result.retries} retried)"
            )
            print_counts(result.run_id, result.counts)
            return
        todo = file_ingest.input_files(paths)
        total = sum(f.stat().st_size for f in todo)
        with click.progressbar(length=total, label=f"loading {len(todo)} files", file=sys.stderr) as bar:
            run_id, counts = file_ingest.ingest_paths(conn, paths, batch_size=batch_size, on_bytes=bar.update)
        print_counts(run_id, counts)


# --- simulate -----------------------------------------------------------------------------

def default_sim_start(days: float) -> str:
    """The default start of a simulated market: its window ends at the start of the current UTC
    day, so the market is recent (within every retention policy) and a re-run on the same day
    gives the same events; pass --start for a market that never changes."""
    from datetime import datetime, timedelta, timezone

    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today - timedelta(seconds=int(days * 86400))).isoformat()


def print_sim_summary(summary: SimSummary) -> None:
    d = summary.as_dict()
    click.echo(
        f"simulated: {d['tokens']} tokens, {d['trades']} trades ({d['buys']} buys, {d['sells']} sells; "
        f"{d['pumpswap_trades']} on PumpSwap), {d['graduations']} graduations ({d['graduation_share']:.2%}), "
        f"{d['sol_volume']:,.1f} SOL volume, {d['sol_usd_prices']} SOL/USD prices"
    )
    click.echo("  wallets by archetype: " + ", ".join(f"{k} {v}" for k, v in d["wallets"].items()))
    click.echo("  token fates: " + ", ".join(f"{k} {v}" for k, v in d["fates"].items()))


def run_simulation(
    conn: psycopg.Connection | None, tokens: int, days: float, seed: int, start: str, out: Path | None,
    max_bytes: int | None, batch_size: int, social: bool = True,
) -> None:
    from datetime import UTC, datetime

    from megatron.ingest.loader import Loader
    from megatron.simulate import SimSummary, simulate, write_jsonl

    begin = datetime.fromisoformat(start)
    summary = SimSummary()
    total_seconds = int(days * 86400)
    label = f"simulating {tokens} tokens over {days:g} day{'' if days == 1 else 's'}"
    with click.progressbar(length=total_seconds, label=label, file=sys.stderr) as bar:
        last = [0.0]

        def step(done: float, _total: float) -> None:
            bar.update(int(done - last[0]))
            last[0] = int(done)

        events = simulate(tokens, days, seed, begin, summary=summary, progress=step)
        if social:  # TweetScout-shaped observations of the simulated tokens (megatron/simulate/social.py)
            from megatron.simulate import token_fates
            from megatron.simulate.social import with_social

            aware = begin if begin.tzinfo else begin.replace(tzinfo=UTC)  # naive is UTC, as simulate() takes it
            end = int(aware.timestamp() + days * 86400)
            events = with_social(events, seed, dict(token_fates(tokens, seed)), end=end)
        if out is not None:
            files = write_jsonl(events, out, max_bytes=max_bytes)
        else:
            assert conn is not None
            loader = Loader(conn, source=f"simulator: tokens={tokens} days={days:g} seed={seed} start={start}",
                            batch_size=batch_size)
            with loader:
                loader.add_all(events, origin=f"simulator seed {seed}")
    print_sim_summary(summary)
    if out is not None:
        click.echo(f"wrote {len(files)} file(s): {', '.join(str(f) for f in files[:5])}{' …' if len(files) > 5 else ''}")
    else:
        print_counts(loader.run_id, loader.counts)


@main.command("simulate")
@click.option("--tokens", default=300, show_default=True, help="Tokens launched over the period.")
@click.option("--days", default=1.0, show_default=True, help="Length of the simulated period.")
@click.option("--seed", default=1, show_default=True, help="Same seed, same market.")
@click.option("--start", default=None,
              help="Start of the period (ISO 8601). Default: the period ends at the start of today (UTC), so "
                   "re-runs on the same day are identical and load as duplicates; the same --start and --seed "
                   "always give the same market.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write canonical JSONL here (a .jsonl or .jsonl.gz file) instead of loading.")
@click.option("--max-bytes", type=int, default=None, help="With --out: split into parts of at most this size.")
@click.option("--batch-size", default=25_000, show_default=True, help="Events per database transaction.")
@click.option("--truth", type=click.Path(path_type=Path), default=None,
              help="Also write the ground truth (each wallet's archetype, each token's fate) to this CSV sidecar; "
                   "the loader never reads it.")
@click.option("--social/--no-social", default=True, show_default=True,
              help="Add TweetScout-shaped social observations of the simulated tokens (docs/scoring-social.md).")
def simulate_cmd(tokens: int, days: float, seed: int, start: str | None, out: Path | None, max_bytes: int | None,
                 batch_size: int, truth: Path | None, social: bool) -> None:
    """Simulate a pump.fun market and load it through the loader (or write canonical JSONL)."""
    start = start or default_sim_start(days)
    if truth is not None:
        from megatron.simulate.truth import write_truth

        wallets, fates = write_truth(truth, tokens, seed)
        click.echo(f"truth: {wallets} wallet archetypes and {fates} token fates written to {truth}")
    if out is not None:
        run_simulation(None, tokens, days, seed, start, out, max_bytes, batch_size, social)
        return
    with db.connect(db.ingest_url(), autocommit=True) as conn:
        run_simulation(conn, tokens, days, seed, start, None, None, batch_size, social)


# --- dbt ----------------------------------------------------------------------------------


@main.command("dbt", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt_cmd(args: tuple[str, ...]) -> None:
    """Run dbt (e.g. `megatron dbt build`) against the same database as every other command."""
    from megatron import dbt

    sys.exit(dbt.run(list(args) or ["--help"]).returncode)


# --- web pages ---------------------------------------------------------------------------------


@main.command("web")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port on 127.0.0.1 to serve the pages on.")
def web_cmd(port: int) -> None:
    """The screener and token pages on 127.0.0.1, read-only as the analyst role (Ctrl-C stops)."""
    from megatron import web

    url = db.web_url()
    click.echo(f"screener: {web.address(port)}  (token pages at /token/<mint>, dbt docs at /dbt-docs/; Ctrl-C stops)")
    web.serve(url, port)


# --- score / backfill -----------------------------------------------------------------------


def _selection(mints: tuple[str, ...], shard: str | None) -> Any:
    from megatron import scoring

    try:
        return scoring.TokenSelection.of(mints, shard)
    except MegatronError as exc:
        raise click.UsageError(str(exc)) from None


def _parsed(parse: Callable[[str], Any], value: str, option: str) -> Any:
    try:
        return parse(value)
    except MegatronError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def print_top_tokens(conn: psycopg.Connection, at: Any = None, limit: int = 10) -> None:
    from megatron import scoring

    rows = scoring.top_tokens(conn, at, limit)
    if not rows:
        click.echo("no token scores at that time")
        return
    click.echo(f"top tokens by the 999 score as of {rows[0][1]:%Y-%m-%d %H:%M:%S%z}:")
    print_table(
        ["token", "total/999", "technical/333", "holder/333", "social/333", "flags"],
        [
            (
                mint, total, technical, holder, social,
                ",".join(f for f, on in (("holder_missing", missing), ("holder_stale", stale), ("frozen", frozen)) if on),
            )
            for mint, _, total, technical, holder, social, missing, stale, frozen in rows
        ],
    )


@main.command("score")
@click.option("--at", "at_text", required=True, metavar="TIME", help="T: ISO 8601 (no zone = UTC) or 'now'.")
@click.option("--mint", "mints", multiple=True, metavar="MINT", help="Score only this token (repeatable).")
@click.option("--shard", metavar="I/N", help="Score only the tokens with abs(hashtext(mint)) % N = I.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=0), help="Tokens to list after.")
def score_cmd(at_text: str, mints: tuple[str, ...], shard: str | None, top: int) -> None:
    """Score tokens as of T from data with event time <= T and store the snapshots (re-running T writes nothing)."""
    from megatron import scoring

    at = _parsed(scoring.parse_time, at_text, "--at")
    tokens = _selection(mints, shard)
    url = db.orchestrator_url()  # the role the scheduled scoring runs as: it owns the snapshots and the marts
    run = scoring.score(at, tokens=tokens, url=url)
    for line in run.summary_lines():
        click.echo(line)
    if top:
        with db.connect(url) as conn:
            print_top_tokens(conn, at, top)


@main.command("backfill")
@click.option("--from", "start_text", required=True, metavar="TIME", help="First T (ISO 8601, no zone = UTC).")
@click.option("--to", "end_text", required=True, metavar="TIME", help="Last T (included when on a step).")
@click.option("--every", "every_text", default="5m", show_default=True, metavar="STEP", help="Step: 30s, 5m, 1h, 1d.")
@click.option("--mint", "mints", multiple=True, metavar="MINT", help="Score only this token (repeatable).")
@click.option("--shard", metavar="I/N", help="Score only the tokens with abs(hashtext(mint)) % N = I.")
@click.option("--chunk", default=24, show_default=True, type=click.IntRange(min=1),
              help="Values of T per dbt run (bounds memory).")
def backfill_cmd(start_text: str, end_text: str, every_text: str, mints: tuple[str, ...], shard: str | None,
                 chunk: int) -> None:
    """Score every T from --from to --to in steps of --every (idempotent: a second backfill writes nothing)."""
    from megatron import scoring

    start = _parsed(scoring.parse_time, start_text, "--from")
    end = _parsed(scoring.parse_time, end_text, "--to")
    every = _parsed(scoring.parse_interval, every_text, "--every")
    if end < start:
        raise click.BadParameter(f"{end_text} is before --from {start_text}.", param_hint="--to")
    tokens = _selection(mints, shard)
    began = time.monotonic()

    def step(done: int, total: int) -> None:
        elapsed = time.monotonic() - began
        eta = f", about {elapsed / done * (total - done):.0f} s left" if done and done < total else ""
        click.echo(f"  {done}/{total} times scored ({elapsed:.0f} s{eta})", err=True)

    run = scoring.backfill(start, end, every, tokens=tokens, url=db.orchestrator_url(), progress=step,
                           chunk=chunk)
    for line in run.summary_lines():
        click.echo(line)


# --- orchestration (Prefect) -------------------------------------------------------------------


@main.command("schedules")
def schedules_cmd() -> None:
    """List the Prefect deployments `megatron serve` runs, with their schedules (one table in code)."""
    from megatron.orchestrate.schedules import SCHEDULES

    print_table(
        ["deployment", "flow", "when", "parameters", "runs on"],
        [[s.name, s.entrypoint, s.when, ", ".join(f"{k}={v}" for k, v in s.parameters.items()),
          s.work_pool or "serve process"] for s in SCHEDULES],
    )


@main.command("serve")
@click.option("--workers", "workers_count", default=0, show_default=True, type=click.IntRange(min=0),
              help="Also start this many process workers on the backfill work pool.")
@click.option("--port", default=4200, show_default=True, type=click.IntRange(min=1, max=65535),
              help="Port of the local Prefect server (ignored when PREFECT_API_URL is set).")
@click.option("--web-port", default=8000, show_default=True, type=click.IntRange(min=1, max=65535),
              help="Port of the screener and token pages served beside the flows.")
@click.option("--no-web", is_flag=True, help="Serve the flows only, not the pages.")
def serve_cmd(workers_count: int, port: int, web_port: int, no_web: bool) -> None:
    """Serve every deployment with its schedule in one process until Ctrl-C, and the screener beside them.
    Against PREFECT_API_URL when set; otherwise a local Prefect server (SQLite under .megatron/prefect)
    started and stopped here."""
    from megatron.orchestrate import serve

    serve.run(workers_count=workers_count, port=port, web_port=None if no_web else web_port, echo=click.echo)


# --- demo (the main job) --------------------------------------------------------------------


def default_fixtures() -> Path:
    """The real mainnet fixtures shipped beside the project (``MEGATRON_FIXTURES`` to move them)."""
    return Path(os.environ.get("MEGATRON_FIXTURES", project_root().parent / "shared" / "fixtures" / "solana"))


@main.command("demo")
@click.option("--fixtures", type=click.Path(path_type=Path), default=None,
              help="Folder of real Solana fixtures (default: ../shared/fixtures/solana).")
@click.option("--sim-tokens", default=300, show_default=True, help="Tokens in the simulated market.")
@click.option("--sim-days", default=1.0, show_default=True, help="Days of simulated market.")
@click.option("--sim-seed", default=1, show_default=True, help="Seed of the simulated market.")
def demo_cmd(fixtures: Path | None, sim_tokens: int, sim_days: float, sim_seed: int) -> None:
    """The main job on the default database: start, migrate, load the real fixtures and a small
    simulated market, report what is there. Running it again loads nothing new."""
    from megatron.ingest import files as file_ingest

    if not db.external_url():
        before = cluster.status().state
        state = cluster.start()
        click.echo(
            f"embedded cluster {'already running' if before == 'running' else 'started'}: 127.0.0.1:{state.port}"
        )
    url = db.database_url()
    run_migrations(url)
    fixtures = fixtures or default_fixtures()
    with db.connect(db.ingest_url(), autocommit=True) as conn:
        if fixtures.exists():
            inputs = [p for p in (fixtures / "rpc", fixtures / "helius", fixtures / "logs") if p.exists()]
            click.echo(f"loading the real mainnet fixtures from {fixtures}")
            run_id, counts = file_ingest.ingest_paths(conn, inputs)
            print_counts(run_id, counts)
        else:
            click.echo(f"no fixtures at {fixtures}; skipping the real-data load (set MEGATRON_FIXTURES)")
        click.echo(f"loading a simulated market ({sim_tokens} tokens, {sim_days:g} day, seed {sim_seed})")
        sim_start = default_sim_start(sim_days)
        run_simulation(conn, sim_tokens, sim_days, sim_seed, sim_start, None, None, 25_000)
    # the loads ran as the ingest role, which may read nothing else: the report reads as the owner
    with db.connect(url, autocommit=True) as conn:
        edition = db.timescaledb_license(conn)
        rows = policy_registry.registry(conn)
        show_database(conn)
    show_policies(edition, rows)
    # the marts belong to the role that refreshes them on schedule (`megatron serve` hands over from here);
    # scoring runs as that role too
    build_marts(db.orchestrator_url())
    # the market ends at the start of the current UTC day: scoring at its end finds every simulated token
    # in its 24-hour window, where "now" late in the day would find only the last hour's
    market_end = datetime.fromisoformat(sim_start) + timedelta(seconds=int(sim_days * 86400))
    score_now(db.orchestrator_url(), market_end)
    from megatron import web

    click.echo(f"the screener: {web.address()}  (start it with `megatron serve`, which also keeps the marts and "
               f"scores fresh on schedule with the Prefect UI at http://127.0.0.1:4200; or `megatron web` for the "
               f"pages alone)")


def score_now(url: str, at: datetime) -> None:
    """The end of the main job: score every token active in the 24 hours before T and list the best by the
    999 score."""
    from megatron import scoring

    click.echo(f"scoring every token traded in the 24 hours before the simulated market's end, "
               f"T = {at:%Y-%m-%d %H:%M:%S}Z (megatron score --at '{at:%Y-%m-%d %H:%M:%S}Z')")
    run = scoring.score(at, url=url)
    for line in run.summary_lines():
        click.echo(line)
    with db.connect(url) as conn:
        print_top_tokens(conn, at, 10)


def build_marts(url: str) -> None:
    """`dbt build` (models, data tests, unit tests) on the loaded data, then a few lines from the marts."""
    from megatron import dbt

    click.echo("building the dbt marts (dbt build: models, data tests, unit tests)")
    result = dbt.run(["build", "--quiet"], url, capture=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise click.ClickException(f"dbt build failed (exit {result.returncode}); its last lines:\n{tail}")
    click.echo("dbt build: every model built and every test passed")
    from megatron import report

    with db.connect(url) as conn:
        for title, headers, rows in report.mart_samples(conn):
            click.echo(title)
            print_table(headers, rows)


def show_database(conn: psycopg.Connection) -> None:
    from megatron import report

    click.echo("database:")
    print_table(["table", "rows", "detail"], report.table_summary(conn))


if __name__ == "__main__":
    main()
