"""Fuzz benchmark: >= 100,000 generated records, good and poisoned, through `megatron ingest`.

Inputs: canonical JSON Lines (plain, gzip, a gzip cut short, a .gz that is not gzip), JSON-RPC
getTransaction envelopes (the real trade fixtures re-signed, and broken ones), event log items
(real `Program data:` lines re-signed, and broken ones), SOL/USD CSV and Pyth Hermes JSON Lines,
with every poison class of issue 9 (tests/poison.py). Every record carries the outcome the
generator planted: new events, a re-delivery, a skip (failed on chain) or a reject with its reason.
The loader runs with its default batch size, so the 100,000 records cross several batches and lanes.

It makes a fresh database on the server (DATABASE_URL, else the embedded cluster), migrates it,
loads as a login role of megatron_ingest, runs the command twice (all files, then re-deliveries
of loaded lines with new poison) and drops the database. It prints `name: value unit` lines and
counts each side on its own: read from the generator, loaded from the tables, rejected from
megatron.ingest_rejects, already loaded from the generator's re-deliveries; crashes are runs that
exit non-zero or print a traceback.

    .venv/bin/python benchmarks/fuzz_ingest.py [--records 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from megatron import cluster, db, migrate  # noqa: E402
from tests import poison  # noqa: E402
from tests.poison import Expect, GenFile, rejected  # noqa: E402

FIXTURES = Path(os.environ.get("MEGATRON_FIXTURES", ROOT.parent / "shared" / "fixtures" / "solana"))
#: the real getTransaction fixtures that hold only trades, and how many each holds (test_decode.py asserts them)
RPC_TEMPLATES = {"33LHUzKf": 2, "3LgG7q93": 1, "3oqdtu8E": 1, "4udm6NA1": 1}
LOG_TEMPLATE_ITEMS = (1, 2, 4, 5, 6, 7, 8)  # pump_trade_events.json items that carry a signature


def rpc_templates() -> list[tuple[dict[str, Any], int]]:
    out = []
    for path in sorted((FIXTURES / "rpc").glob("*.json")):
        events = RPC_TEMPLATES.get(path.name[:8])
        if events:
            doc = json.loads(path.read_text())
            out.append((doc.get("result") or doc["response"]["result"], events))
    return out


def rpc_file(gen: poison.Generator, name: str, good: int, bad: int) -> GenFile:
    templates = rpc_templates()
    lines: list[tuple[bytes, Expect]] = []
    for i in range(good + bad):
        result, events = gen.rnd.choice(templates)
        tx = json.loads(json.dumps(result))
        tx["transaction"]["signatures"][0] = poison.sig(f"{gen.tag}-rpc-{i}")
        envelope: dict[str, Any] = {"jsonrpc": "2.0", "id": i, "result": tx}
        expect = Expect("loaded", events)
        if i >= good:
            cls = gen.rnd.choice(["truncated", "failed", "null", "error", "bad_slot", "nul"])
            if cls == "failed":
                tx["meta"]["err"] = {"InstructionError": [0, {"Custom": 6001}]}
                expect = Expect("skipped")
            elif cls == "null":
                envelope, expect = {"jsonrpc": "2.0", "id": i, "result": None}, rejected("no_transaction")
            elif cls == "error":
                envelope = {"jsonrpc": "2.0", "id": i, "error": {"code": -32009, "message": "slot skipped"}}
                expect = rejected("rpc_error")
            elif cls == "bad_slot":
                tx["slot"] = "abc"
                expect = rejected("bad_transaction")
        text = json.dumps(envelope, separators=(",", ":"))
        if i >= good and cls == "truncated":
            text, expect = text[: gen.rnd.randrange(1, len(text) - 1)], rejected(*poison.JSON_ERRORS)
        elif i >= good and cls == "nul":
            text, expect = text.replace('"jsonrpc"', '"json\x00rpc"', 1), rejected("not_json")
        lines.append((text.encode(), expect))
    gen.rnd.shuffle(lines)
    return GenFile(name, b"".join(t + b"\n" for t, _e in lines), [(f":{n}", e) for n, (_t, e) in enumerate(lines, start=1)])


def log_file(gen: poison.Generator, name: str, good: int, bad: int) -> GenFile:
    items = json.loads((FIXTURES / "logs" / "pump_trade_events.json").read_text())["items"]
    lines: list[tuple[bytes, Expect]] = []
    for i in range(good + bad):
        item = {"log": items[gen.rnd.choice(LOG_TEMPLATE_ITEMS)]["log"], "signature": poison.sig(f"{gen.tag}-log-{i}"),
                "event_index": 0}
        expect = Expect("loaded")
        if i >= good:
            cls = gen.rnd.choice(["bad_base64", "no_signature", "bad_signature"])
            if cls == "bad_base64":
                item["log"], expect = "Program data: !!not-base64!!", rejected("bad_base64")
            elif cls == "no_signature":
                del item["signature"]
                expect = rejected("no_signature")
            else:
                item["signature"], expect = "abc", rejected("bad_signature")
        lines.append((json.dumps(item).encode(), expect))
    gen.rnd.shuffle(lines)
    return GenFile(name, b"".join(t + b"\n" for t, _e in lines), [(f":{n}", e) for n, (_t, e) in enumerate(lines, start=1)])


def generate(gen: poison.Generator, records: int) -> list[GenFile]:
    """At least ``records`` records reach the loader: 60 % canonical (plus the part of a cut gzip
    file that is lost), 12 % JSON-RPC, 12 % log items, 10 % CSV, 6 % Hermes; about one in seven is poison."""
    share = lambda f: max(1, int(records * f))  # noqa: E731
    bad = lambda n: n // 7  # noqa: E731
    # no "twin" (an exact copy of a line earlier in the file): at this size the loader's batches end
    # somewhere inside the files, and a copy that lands in the batch after its original is, rightly,
    # "already loaded" instead of "duplicate_in_batch" -- which the generator cannot foresee without
    # knowing the loader's batching. The fuzz test (tests/test_ingest.py) plants twins in one batch.
    classes = [c for c in poison.CANONICAL_POISON if c != "twin"]
    files = []
    for n, (variant, part) in enumerate([("plain", 0.2), ("gzip", 0.2), ("truncated", 0.06), ("plain", 0.2)]):
        per = share(part)
        plain = gen.canonical(f"canonical-{n}.jsonl", [gen.rnd.choice(classes) for _ in range(bad(per))], good=per - bad(per))
        files.append({"plain": lambda f: f, "gzip": gen.gzipped, "truncated": gen.truncated_gzip}[variant](plain))
    files.append(gen.not_gzip(gen.canonical("not-gzip.jsonl", [], good=50)))
    n = share(0.12)
    files.append(rpc_file(gen, "rpc.jsonl", n - bad(n), bad(n)))
    files.append(log_file(gen, "logs.jsonl", n - bad(n), bad(n)))
    n = share(0.10)
    files.append(gen.csv("prices.csv", n - bad(n), [gen.rnd.choice(poison.CSV_POISON) for _ in range(bad(n))]))
    n = share(0.06)
    files.append(gen.hermes("hermes.jsonl", n - bad(n), [gen.rnd.choice(poison.HERMES_POISON) for _ in range(bad(n))]))
    return files


def ingest(url: str, loader_url: str, paths: list[Path]) -> tuple[int | None, bool, float]:
    """(run id, crashed, seconds) of one `megatron ingest` run."""
    env = dict(os.environ, DATABASE_URL=url, MEGATRON_INGEST_URL=loader_url)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "megatron.cli", "ingest", *map(str, paths)], env=env,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
    found = re.search(r"ingest run (\d+):", result.stdout)
    crashed = result.returncode != 0 or "Traceback" in result.stderr or found is None
    if crashed:
        print(f"# crash: exit {result.returncode}: {result.stderr.strip()[-2000:]}", file=sys.stderr)
    return (int(found.group(1)) if found else None), crashed, seconds


def loaded_rows(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "select (select count(*) from transactions) + (select count(*) from tokens where creation_signature is not null)"
        " + (select count(*) from sol_usd_prices)"
    ).fetchone()
    assert row is not None
    return int(row[0])


def report(label: str, conn: psycopg.Connection, run_id: int, files: list[GenFile], paths: list[Path], loaded: int) -> bool:
    want = poison.totals(files)
    rejects = conn.execute("select origin, reason from megatron.ingest_rejects where run_id = %s", (run_id,)).fetchall()
    run = conn.execute(
        "select records_read, records_skipped, records_rejected, events_accepted, events_duplicate, events_rejected "
        "from megatron.ingest_runs where run_id = %s", (run_id,)
    ).fetchone()
    assert run is not None
    records_read, skipped, records_rejected, accepted, duplicate, events_rejected = run
    planted = {f"{p}{suffix}": e.reasons for f, p in zip(files, paths) for suffix, e in f.records if e.outcome == "rejected"}
    misplaced = sum(1 for origin, reason in rejects if reason not in planted.get(origin, frozenset()))
    balanced = want.read == loaded + want.already + len(rejects)
    agree = (
        records_read == want.records and skipped == want.skipped and accepted == loaded == want.loaded
        and duplicate == want.already and records_rejected + events_rejected == len(rejects) == want.rejected
        and misplaced == 0
    )
    print(f"{label}_records: {want.records} records (generator) = {records_read} read by the loader")
    print(f"{label}_read: {want.read} events and rejected records (generator)")
    print(f"{label}_loaded: {loaded} events (counted in the tables; generator planted {want.loaded}, loader says {accepted})")
    print(f"{label}_already: {want.already} events (generator's re-deliveries; loader says {duplicate})")
    print(f"{label}_rejected: {len(rejects)} rows (counted in megatron.ingest_rejects; generator planted {want.rejected}, "
          f"loader says {records_rejected + events_rejected}; {misplaced} at an unplanted origin or reason)")
    print(f"{label}_skipped: {want.skipped} records (failed on chain; loader says {skipped})")
    print(f"{label}_reconciles: {'yes' if balanced and agree else 'NO'} "
          f"(read {want.read} = loaded {loaded} + already {want.already} + rejected {len(rejects)}: {balanced}; every side agrees: {agree})")
    top = Counter(reason for _o, reason in rejects).most_common(6)
    print(f"# {label} reject reasons: " + ", ".join(f"{r} {n}" for r, n in top))
    return balanced and agree


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="Keep the database (its name is printed).")
    args = ap.parse_args()

    server = db.database_url()
    name = f"megatron_fuzz_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = db.with_dbname(server, name)
    try:
        migrate.migrate(url)
        role, password = "megatron_loader_fuzz", secrets.token_urlsafe(18)
        cluster.ensure_login_role(url, role, password, "megatron_ingest")
        loader_url = db.with_user(url, role, password)
        gen = poison.Generator(args.seed, f"bench{args.seed}", now=int(time.time()))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            files = generate(gen, args.records)
            paths = [f.write(folder) for f in files]
            size = sum(p.stat().st_size for p in paths)
            print(f"# {len(files)} files, {size / 2**20:.1f} MiB, seed {args.seed}, database {name}")
            again = [gen.redelivery("again.jsonl", list(poison.CANONICAL_POISON) * 20, len(gen.loaded_lines) // 5)]
            again_paths = [f.write(folder) for f in again]
            with psycopg.connect(url, autocommit=True) as conn:
                run1, crash1, s1 = ingest(url, loader_url, paths)
                first_loaded = loaded_rows(conn)
                run2, crash2, s2 = ingest(url, loader_url, again_paths)
                total = poison.totals(files).records + poison.totals(again).records
                print(f"records: {total} records generated ({poison.totals(files).records} in run 1, "
                      f"{poison.totals(again).records} re-delivered or new poison in run 2)")
                print(f"crashes: {int(crash1) + int(crash2)} runs")
                ok = True
                if run1 is not None:
                    ok &= report("run1", conn, run1, files, paths, first_loaded)
                    print(f"run1_throughput: {poison.totals(files).records / s1:,.0f} records/s ({s1:.1f} s)")
                if run2 is not None:
                    ok &= report("run2", conn, run2, again, again_paths, loaded_rows(conn) - first_loaded)
                    print(f"run2_throughput: {poison.totals(again).records / s2:,.0f} records/s ({s2:.1f} s)")
                print(f"reconciles: {'yes' if ok and not (crash1 or crash2) else 'NO'}")
    finally:
        if not args.keep:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
