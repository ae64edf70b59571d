"""``megatron ingest PATH…``: files and folders of RPC JSON, Helius notifications, event log
lines, canonical JSONL and SOL/USD prices, through the decoder into the loader."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg

from megatron import db
from megatron.decode import iter_records
from megatron.decode.records import READ_SUFFIXES
from megatron.errors import MegatronError
from megatron.ingest import prices
from megatron.ingest.feed import UNEXPECTED, feed_record, undecodable_message
from megatron.ingest.loader import DEFAULT_BATCH_SIZE, Counts, Loader
from megatron.validate import RejectError, validate_event

PRICE_SUFFIXES = frozenset({".csv"})


def input_files(paths: Sequence[str | Path]) -> list[Path]:
    """Every file the paths name, folders walked in sorted order; missing paths are an error."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise MegatronError(f"{path} does not exist.")
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and p.suffix.lower() in READ_SUFFIXES | PRICE_SUFFIXES
            )
        else:
            files.append(path)
    return files


def _is_hermes(path: Path) -> bool:
    if path.suffix.lower() not in {".json", ".jsonl", ".ndjson"}:
        return False
    with path.open(errors="replace") as fh:
        return prices.looks_like_hermes(fh.read(4096))


def load_file(loader: Loader, path: Path, *, now: float, on_bytes: Callable[[int], None] | None = None) -> None:
    """Read, decode, validate and stage one file's records; ``on_bytes`` hears how far into the
    file it got (approximately, by record size), so a bar moves inside large files too."""
    size = path.stat().st_size
    reported = 0

    def advance(n: int) -> None:
        nonlocal reported
        step = min(n, size - reported)
        if step > 0 and on_bytes:
            reported += step
            on_bytes(step)

    try:
        _load_file(loader, path, now=now, advance=advance)
    finally:
        advance(size - reported)


def _load_file(loader: Loader, path: Path, *, now: float, advance: Callable[[int], None]) -> None:
    if path.suffix.lower() in PRICE_SUFFIXES or _is_hermes(path):
        reader = prices.csv_prices(path) if path.suffix.lower() in PRICE_SUFFIXES else prices.hermes_prices(path)
        for origin, raw, item in reader:
            advance(len(raw) + 1)
            loader.record_read()
            if isinstance(item, RejectError):
                loader.record_rejected(origin, item.reason_code, item.message, raw)
                continue
            try:
                validate_event(item, now=now)
            except RejectError as exc:
                loader.record_rejected(origin, exc.reason_code, exc.with_origin(origin).message, raw)
                continue
            except UNEXPECTED as exc:
                loader.record_rejected(origin, "undecodable", undecodable_message(origin, exc), raw)
                continue
            loader.add(item, origin)
        return
    for record in iter_records(path):
        advance(len(record.text) + 1)
        loader.record_read()
        feed_record(loader, record, now=now)


def ingest_paths(
    conn: psycopg.Connection,
    paths: Sequence[str | Path],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_bytes: Callable[[int], None] | None = None,
    now: float | None = None,
) -> tuple[int, Counts]:
    """Load every record of the given paths. Returns (run id, counts)."""
    files = input_files(paths)
    clock = time.time() if now is None else now
    try:
        loader = Loader(conn, source="files: " + ", ".join(str(p) for p in paths)[:500], batch_size=batch_size)
        with loader:
            for path in files:
                load_file(loader, path, now=clock, on_bytes=on_bytes)
    except db.LOST as exc:
        raise db.lost_connection(exc) from None
    return loader.run_id, loader.counts

