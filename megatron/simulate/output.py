"""Canonical JSON Lines files from an event stream (the simulator as a test-data generator)."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from megatron.events import EVENT_TYPES, FORMAT_VERSION, AnyEvent

_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in EVENT_TYPES.values()
}
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def event_line(event: AnyEvent) -> str:
    """``event.to_json()``, byte for byte, without ``dataclasses.asdict``'s deep copy (the values
    of canonical events are flat)."""
    out: dict[str, Any] = {"v": FORMAT_VERSION, "kind": event.kind}
    for name in _FIELDS[type(event)]:
        out[name] = getattr(event, name)
    return _dumps(out)


def _open(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        return gzip.open(path, "wt", encoding="ascii", newline="\n", compresslevel=6)
    return open(path, "w", encoding="ascii", newline="\n", buffering=1 << 20)


def _part(path: Path, n: int) -> Path:
    name = path.name
    for ext in (".jsonl.gz", ".jsonl", ".gz"):
        if name.endswith(ext):
            return path.with_name(f"{name[: -len(ext)]}-{n:05d}{ext}")
    return path.with_name(f"{name}-{n:05d}")


def write_jsonl(events: Iterable[AnyEvent], path: str | Path, *, max_bytes: int | None = None) -> list[Path]:
    """Write ``events`` as canonical JSON Lines; returns the files written, in order.

    One file at ``path`` unless ``max_bytes`` is given: then parts ``<stem>-00000.jsonl``,
    ``-00001`` … next to it, each starting a new file once the current one holds ``max_bytes``
    of (uncompressed) text; an event is never split. A ``.gz`` suffix writes gzip.
    """
    path = Path(path)
    if max_bytes is not None and max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    written: list[Path] = []
    current = _part(path, 0) if max_bytes else path
    handle = _open(current)
    written.append(current)
    size = 0
    try:
        for event in events:
            line = event_line(event) + "\n"
            if max_bytes and size and size + len(line) > max_bytes:
                handle.close()
                current = _part(path, len(written))
                handle = _open(current)
                written.append(current)
                size = 0
            handle.write(line)
            size += len(line)
    finally:
        handle.close()
    return written
