"""Reading input files and folders into records, and decoding one record into events.

:func:`iter_records` accepts a file or a folder (walked recursively, in sorted order; in a
folder only ``*.json``, ``*.jsonl``, ``*.ndjson``, ``*.txt`` and ``*.log`` files are read, and
hidden paths are skipped). A file holds either one JSON document or lines:

- a getTransaction envelope ``{"jsonrpc", "result"}``, a bare result ``{"transaction",
  "meta", ...}``, a Helius ``transactionNotification`` (or its ``params.result``), the capture
  wrapper ``{"request", "response"}``, a ``logsNotification``;
- a logs fixture document ``{"items": [{"log": "Program data: ...", "signature"?,
  "program"?, ...}]}`` (one record per item), or a JSON array (one record per element);
- JSON Lines of any of the above, and canonical event lines (objects with ``"v"`` and
  ``"kind"``);
- plain text lines ``Program data: <base64>``; other Solana log lines in the same file
  (``Program <id> invoke [n]`` / ``success``) are not records but attribute the data lines to
  the program executing at that point.

Every :class:`RawRecord` keeps its ``origin`` (``path``, ``path:line``, ``path#items[3]``,
``path#[3]``) and its raw text, so a reject can be stored verbatim. Input that cannot even be
parsed becomes a record of kind ``"error"``; :func:`decode_record` turns it into the reject.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from megatron.decode.borsh import DecodeError
from megatron.decode.layouts import decode_event
from megatron.decode.transaction import (
    LOG_DATA_PREFIX,
    EventContext,
    FailedTransaction,
    decode_transaction_result,
    events_from_logs,
    to_canonical,
)
from megatron.events import PUMPFUN_PROGRAM_ID, Event, SolUsdPrice
from megatron.validate import RejectError, parse_canonical, validate_event

READ_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".txt", ".log", ".gz"})
LINE_SUFFIXES = frozenset({".jsonl", ".ndjson"})


def is_line_file(path: Path) -> bool:
    """JSON Lines files (``.jsonl``, ``.ndjson``, and those gzipped) are streamed line by line."""
    suffixes = [x.lower() for x in path.suffixes[-2:]]
    return bool(suffixes) and (suffixes[-1] in LINE_SUFFIXES or (suffixes[-1] == ".gz" and suffixes[0] in LINE_SUFFIXES))

AnyCanonical = Event | SolUsdPrice


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One unit of input.

    ``kind``: ``transaction`` | ``logs`` (logsNotification) | ``log`` (one event line) |
    ``canonical`` | ``unrecognized`` | ``error`` (unparseable; ``hints`` holds
    ``reason``/``message``). ``text`` is the raw input (a line, an item re-serialised, or a
    whole file); ``payload`` the parsed JSON when there is one; ``hints`` extra context
    (``program``, ``signature``, ``slot``, ``block_time``, ``event_index`` for log lines).
    """

    origin: str
    text: str
    payload: Any = None
    kind: str = "unrecognized"
    hints: Mapping[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# reading


def _json_error(text: str, exc: json.JSONDecodeError) -> tuple[str, str]:
    end = len(text.rstrip())
    if exc.pos >= end or exc.msg.startswith("Unterminated string"):
        return "truncated_json", f"JSON ends early ({exc.msg} at line {exc.lineno} column {exc.colno})"
    return "not_json", f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"


def _error(origin: str, text: str, reason: str, message: str) -> RawRecord:
    return RawRecord(origin, text, None, "error", {"reason": reason, "message": message})


def raw_text(data: bytes) -> str:
    """Bytes as text that keeps every byte: what is not UTF-8 becomes surrogate escapes, which the
    loader stores verbatim (ingest_rejects.payload_bytes)."""
    return data.decode("utf-8", "surrogateescape")


_DIGITS = re.compile(r"value has (\d+) digits")


def number_error(exc: ValueError) -> tuple[str, str]:
    """The reject of JSON whose number Python refuses to read (more than 4300 digits)."""
    found = _DIGITS.search(str(exc))
    digits = f"{found.group(1)} digits" if found else "too many digits"
    return "bad_field", f"a number in it has {digits}, more than any field can hold"


def _classify(obj: Any, origin: str, text: str | None = None) -> Iterator[RawRecord]:
    """Records for one parsed JSON value (a document, a line, or an array element)."""
    raw = text if text is not None else json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    if isinstance(obj, list):
        for n, item in enumerate(obj):
            yield from _classify(item, f"{origin}#[{n}]")
        return
    if not isinstance(obj, dict):
        yield RawRecord(origin, raw, obj, "unrecognized")
        return
    if "v" in obj and "kind" in obj:
        yield RawRecord(origin, raw, obj, "canonical")
        return
    if isinstance(obj.get("items"), list) and "transaction" not in obj:
        for n, item in enumerate(obj["items"]):
            item_origin = f"{origin}#items[{n}]"
            item_text = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
            if isinstance(item, dict) and isinstance(item.get("log"), str):
                yield RawRecord(item_origin, item_text, item, "log", _item_hints(item))
            else:
                yield RawRecord(item_origin, item_text, item, "unrecognized")
        return
    if isinstance(obj.get("log"), str):
        yield RawRecord(origin, raw, obj, "log", _item_hints(obj))
        return
    if obj.get("method") == "logsNotification":
        yield RawRecord(origin, raw, obj, "logs")
        return
    if (
        obj.get("method") == "transactionNotification"
        or ("request" in obj and "response" in obj)
        or ("jsonrpc" in obj and ("result" in obj or "error" in obj))
        or ("transaction" in obj and ("meta" in obj or "signature" in obj))
    ):
        yield RawRecord(origin, raw, obj, "transaction")
        return
    yield RawRecord(origin, raw, obj, "unrecognized")


def _item_hints(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in ("program", "signature", "slot", "block_time", "event_index") if k in item}


def _looks_like_lines(lines: list[str]) -> bool:
    for line in [ln.strip() for ln in lines if ln.strip()][:5]:
        if line.startswith("Program "):
            return True
        if line.startswith("{") and line.endswith("}"):
            try:
                if isinstance(json.loads(line), dict):
                    return True
            except ValueError:  # not JSON, or a number of more than 4300 digits
                pass
    return False


def records_from_text(text: str, origin: str, *, lines: bool = False) -> Iterator[RawRecord]:
    """Records of one file's text (``origin`` names the file).

    ``lines=True`` (JSON Lines files) reads line by line even when the whole text happens to
    be a single JSON document.
    """
    if not text.strip():
        return
    if lines:
        yield from _records_from_lines(text.splitlines(), origin)
        return
    try:
        doc = json.loads(text)
    except RecursionError:
        yield _error(origin, text, "not_json", "JSON nested too deeply")
        return
    except json.JSONDecodeError as exc:
        text_lines = text.splitlines()
        stripped = text.lstrip()
        if stripped[:1] in ("{", "[") and not _looks_like_lines(text_lines):
            reason, message = _json_error(text, exc)
            yield _error(origin, text, reason, message)
            return
        yield from _records_from_lines(text_lines, origin)
        return
    except ValueError as exc:
        yield _error(origin, text, *number_error(exc))
        return
    yield from _classify(doc, origin, text)


def _records_from_lines(lines: Iterable[str | bytes], origin: str) -> Iterator[RawRecord]:
    """Records of a file's lines; ``bytes`` lines (streamed files) are decoded one by one, so a
    line that is not UTF-8 is rejected alone instead of the whole file."""
    stack: list[str] = []  # invoke stack of plain-text Solana logs in this file
    for lineno, raw_line in enumerate(lines, start=1):
        where = f"{origin}:{lineno}"
        if isinstance(raw_line, bytes):
            raw_line = raw_line.rstrip(b"\r\n")
            try:
                line = raw_line.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield _error(where, raw_text(raw_line), "not_text", f"not UTF-8 text ({exc.reason} at byte {exc.start})")
                continue
        else:
            line = raw_line
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(LOG_DATA_PREFIX):
            hints = {"program": stack[-1]} if stack else {}
            yield RawRecord(where, line, None, "log", hints)
            continue
        if stripped.startswith("Program "):
            parts = stripped.split(" ")
            if len(parts) >= 4 and parts[2] == "invoke":
                stack.append(parts[1])
            elif len(parts) >= 3 and (parts[2] == "success" or parts[2].startswith("failed")):
                if parts[1] in stack:
                    while stack and stack.pop() != parts[1]:
                        pass
            continue  # other log lines are context, not records
        if stripped[:1] in ("{", "["):
            try:
                obj = json.loads(stripped)
            except RecursionError:
                yield _error(where, line, "not_json", "JSON nested too deeply")
                continue
            except json.JSONDecodeError as exc:
                reason, message = _json_error(stripped, exc)
                yield _error(where, line, reason, message)
                continue
            except ValueError as exc:
                yield _error(where, line, *number_error(exc))
                continue
            if isinstance(obj, list):  # one line is one record: arrays are not expanded here
                yield RawRecord(where, line, obj, "unrecognized")
                continue
            yield from _classify(obj, where, line)
            continue
        yield _error(where, line, "not_json", "the line is neither a JSON object nor a 'Program data:' log line")


def _iter_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith(".") or Path(name).suffix.lower() not in READ_SUFFIXES:
                continue
            p = Path(dirpath) / name
            found.append((p.relative_to(root).as_posix(), p))
    for _, p in sorted(found):
        yield p


GZIP_MAGIC = b"\x1f\x8b"
#: how much of a file that is not gzip a reject keeps
RAW_CAP = 1 << 20


class GzipLines:
    """The lines of a gzip file, streamed, as bytes. Iteration stops at the first problem — not
    gzip at all, corrupt, or cut short — and leaves it in :attr:`problem` as (reason, message,
    raw bytes), so every line before it is still read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self.problem: tuple[str, str, bytes] | None = None

    def __iter__(self) -> Iterator[bytes]:
        with self.path.open("rb") as fh:
            if fh.read(2) != GZIP_MAGIC:
                fh.seek(0)
                raw = fh.read(RAW_CAP)
                kept = "" if len(raw) < RAW_CAP else f"; its first {RAW_CAP} bytes are kept"
                self.problem = ("not_gzip", f"the file is named .gz but is not gzip (no 1f 8b magic bytes){kept}", raw)
                return
            fh.seek(0)
            yield from self._lines(fh)

    def _lines(self, fh: Any) -> Iterator[bytes]:
        unzip = zlib.decompressobj(wbits=31)
        pending = b""
        while chunk := fh.read(1 << 16):
            try:
                data = unzip.decompress(chunk)
                while unzip.eof and unzip.unused_data:  # concatenated gzip members
                    rest, unzip = unzip.unused_data, zlib.decompressobj(wbits=31)
                    data += unzip.decompress(rest)
            except zlib.error as exc:
                self.problem = ("bad_gzip", f"the gzip data is corrupt after {self.lines} lines ({exc})", pending)
                return
            *complete, pending = (pending + data).split(b"\n")
            for line in complete:
                self.lines += 1
                yield line
        if not unzip.eof:
            self.problem = (
                "truncated_gzip",
                f"the gzip stream ends early, after {self.lines} lines; those were read, the cut line is kept here",
                pending,
            )
        elif pending:
            self.lines += 1
            yield pending


def _gzip_records(file: Path, origin: str, *, lines: bool) -> Iterator[RawRecord]:
    reader = GzipLines(file)
    if lines:
        yield from _records_from_lines(reader, origin)
    else:
        data = b"\n".join(reader)
        if reader.problem is None:
            yield from _text_records(data, origin)
    if reader.problem is not None:
        reason, message, raw = reader.problem
        yield _error(origin, raw_text(raw), reason, message)


def _text_records(raw: bytes, origin: str) -> Iterator[RawRecord]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield _error(origin, raw_text(raw), "not_text", f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return
    yield from records_from_text(text, origin)


def iter_records(path: str | os.PathLike[str]) -> Iterator[RawRecord]:
    """Records of a file, or of every readable file below a folder (recursive, sorted)."""
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(str(root))
    for file in _iter_files(root):
        origin = str(file)
        if file.suffix.lower() == ".gz":
            yield from _gzip_records(file, origin, lines=is_line_file(file))
        elif is_line_file(file):
            with file.open("rb") as fh:
                yield from _records_from_lines(fh, origin)
        else:
            yield from _text_records(file.read_bytes(), origin)


# ---------------------------------------------------------------------------------------------
# decoding


def _opt_int(hints: Mapping[str, Any], name: str) -> int | None:
    value = hints.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DecodeError("bad_field", f"{name} {value!r:.40} is not an integer")
    return value


def _opt_str(hints: Mapping[str, Any], name: str) -> str | None:
    value = hints.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DecodeError("bad_field", f"{name} {value!r:.40} is not a string")
    return value


def decode_log_line(
    line: str,
    *,
    program_id: str = PUMPFUN_PROGRAM_ID,
    signature: str | None = None,
    slot: int = 0,
    block_time: int | None = None,
    event_index: int = 0,
) -> list[Event]:
    """Canonical events of one standalone ``Program data:`` line (or bare base64 payload).

    ``program_id`` defaults to pump.fun. ``block_time`` defaults to the event's own
    timestamp. ``slot`` defaults to 0 (standalone lines carry none). Raises DecodeError with
    ``no_signature`` when the line decodes but cannot be keyed, ``no_mint`` for PumpSwap /
    LaunchLab trades (their events do not name the mint), ``no_block_time`` when neither the
    caller nor the event gives a time.
    """
    text = line.strip()
    if text.startswith(LOG_DATA_PREFIX):
        text = text[len(LOG_DATA_PREFIX) :].strip()
    elif text.startswith("Program "):
        raise DecodeError("not_event_data", "the log line is not a 'Program data:' line")
    if not text or " " in text:
        raise DecodeError("bad_base64", "a standalone event line must carry exactly one base64 payload")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DecodeError("bad_base64", f"event data {text[:40]!r} is not valid base64") from None
    decoded = decode_event(program_id, data)
    if decoded.ignored:
        return []
    if signature is None:
        raise DecodeError(
            "no_signature",
            f"{decoded.program} {decoded.name} line has no transaction signature, so it cannot be keyed",
        )
    ctx = EventContext(signature=signature, slot=slot, block_time=block_time)
    event = to_canonical(decoded, ctx, event_index)
    return [] if event is None else [event]


def _decode_log_record(record: RawRecord) -> list[Event]:
    hints = record.hints
    line = record.payload["log"] if isinstance(record.payload, Mapping) else record.text
    program = _opt_str(hints, "program") or PUMPFUN_PROGRAM_ID
    return decode_log_line(
        line,
        program_id=program,
        signature=_opt_str(hints, "signature"),
        slot=_opt_int(hints, "slot") or 0,
        block_time=_opt_int(hints, "block_time"),
        event_index=_opt_int(hints, "event_index") or 0,
    )


def _decode_logs_notification(obj: Mapping[str, Any]) -> list[Event]:
    params = obj.get("params")
    result = params.get("result") if isinstance(params, Mapping) else None
    value = result.get("value") if isinstance(result, Mapping) else None
    context = result.get("context") if isinstance(result, Mapping) else None
    if not isinstance(value, Mapping) or not isinstance(value.get("logs"), list):
        raise DecodeError("bad_transaction", "logsNotification lacks params.result.value.logs")
    signature = _opt_str(value, "signature")
    if signature is None:
        raise DecodeError("no_signature", "logsNotification carries no signature")
    if value.get("err") is not None:
        raise FailedTransaction(f"transaction {signature} failed on chain: {str(value['err'])[:200]}", value["err"])
    slot = _opt_int(context, "slot") if isinstance(context, Mapping) else None
    raw, truncated = events_from_logs(value["logs"])
    decoded = []
    for r in raw:
        try:
            d = decode_event(r.program_id, r.data)
        except DecodeError as exc:
            if exc.reason_code == "unknown_discriminator":
                continue
            raise
        if not d.ignored:
            decoded.append(d)
    fallback = next((d.fields["timestamp"] for d in decoded if isinstance(d.fields.get("timestamp"), int)), None)
    ctx = EventContext(signature=signature, slot=slot or 0, block_time=None, fallback_time=fallback)
    events: list[Event] = []
    for d in decoded:
        ev = to_canonical(d, ctx, len(events))
        if ev is not None:
            events.append(ev)
    return events


def _decode(record: RawRecord) -> list[AnyCanonical]:
    kind = record.kind
    if kind == "error":
        raise DecodeError(
            str(record.hints.get("reason", "not_json")), str(record.hints.get("message", "unreadable input"))
        )
    if kind == "canonical":
        return [parse_canonical(record.payload)]
    if kind == "transaction":
        result = decode_transaction_result(record.payload)
        if result.failed:
            raise FailedTransaction(
                f"transaction {result.signature} failed on chain (meta.err = {json.dumps(result.err)[:200]})",
                result.err,
            )
        return list(result.events)
    if kind == "logs":
        return list(_decode_logs_notification(record.payload))
    if kind == "log":
        return list(_decode_log_record(record))
    raise DecodeError(
        "unrecognized_json",
        "the JSON is none of: a transaction, a logs fixture item, a canonical event",
    )


def decode_record(record: RawRecord, *, now: int | float | datetime) -> list[AnyCanonical]:
    """Validated canonical events of one record.

    Raises :class:`~megatron.decode.borsh.DecodeError` (``FailedTransaction`` for failed
    transactions, which callers count as skipped) or
    :class:`~megatron.validate.InvalidEvent`; the message starts with the record's origin.
    """
    try:
        events = _decode(record)
        for n, event in enumerate(events):
            try:
                validate_event(event, now=now)
            except RejectError as exc:
                if len(events) > 1:
                    raise exc.with_origin(f"event {n} ({event.kind})") from exc
                raise
        return events
    except RejectError as exc:
        located = exc.with_origin(record.origin)
        if located is exc:
            raise
        raise located from exc
