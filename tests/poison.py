"""A generator of ingest input, good and poisoned, that knows what must become of every record.

Used by the loader's fuzz test (tests/test_ingest.py) and by benchmarks/fuzz_ingest.py. Each
record comes with its expectation, written down by the generator and never derived from the
loader: ``loaded`` (new events, and how many), ``already`` (a re-delivery of loaded events) or
``rejected`` (with the reason codes it may carry). Files are canonical JSON Lines (plain or
gzip, whole, cut short, or not gzip at all), SOL/USD CSV and Pyth Hermes JSON Lines, with the
poison classes of issue 9: NUL bytes, bytes that are not UTF-8, 5,000-digit integers, slots and
fees beyond bigint, prices the columns cannot hold, text longer than its column, Hermes
exponents near a million, and the malformed JSON of every shape.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import base58

PYTH_SOL_USD = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d"
JSON_ERRORS = frozenset({"not_json", "truncated_json"})


def key(name: str) -> str:
    return base58.b58encode(hashlib.sha256(name.encode()).digest()).decode()


def sig(name: str) -> str:
    return base58.b58encode(hashlib.sha512(name.encode()).digest()).decode()


@dataclass(frozen=True)
class Expect:
    outcome: str  # 'loaded' | 'already' | 'rejected' | 'skipped'
    events: int = 1  # events the record holds (loaded or already); a reject or skip counts 1
    reasons: frozenset[str] = frozenset()  # for rejects: the reason codes it may carry


LOADED, ALREADY = Expect("loaded"), Expect("already")


def rejected(*reasons: str) -> Expect:
    return Expect("rejected", 1, frozenset(reasons))


@dataclass
class GenFile:
    """One generated input file: its bytes, and per record its origin and expectation."""

    name: str
    data: bytes
    records: list[tuple[str, Expect]] = field(default_factory=list)  # (origin suffix, expectation)

    def write(self, folder: Path) -> Path:
        path = folder / self.name
        path.write_bytes(self.data)
        return path


@dataclass
class Totals:
    records: int = 0
    loaded: int = 0  # events new to the database
    already: int = 0  # events re-delivered
    rejected: int = 0  # reject rows
    skipped: int = 0

    def add(self, expect: Expect) -> None:
        self.records += 1
        if expect.outcome == "loaded":
            self.loaded += expect.events
        elif expect.outcome == "already":
            self.already += expect.events
        elif expect.outcome == "skipped":
            self.skipped += 1
        else:
            self.rejected += 1

    @property
    def read(self) -> int:
        """Events read, as the loader counts them: every event, plus one per rejected record."""
        return self.loaded + self.already + self.rejected


def totals(files: list[GenFile]) -> Totals:
    t = Totals()
    for f in files:
        for _origin, expect in f.records:
            t.add(expect)
    return t


class Generator:
    """Records of one fuzz example; ``tag`` keeps its keys apart from every other example's."""

    def __init__(self, seed: int, tag: str, *, now: int, t0: int = 1_790_000_000) -> None:
        self.rnd = random.Random(seed)
        self.tag = tag
        self.now = now
        self.t0 = t0
        self.n = 0
        self.mints = [key(f"{tag}-mint-{i}") for i in range(self.rnd.randint(1, 12))]
        self.loaded_lines: list[str] = []  # canonical lines that load: material for re-deliveries

    def _next(self) -> int:
        self.n += 1
        return self.n

    # -- good records ------------------------------------------------------------------------

    def trade(self) -> dict[str, Any]:
        n, mint = self._next(), self.rnd.choice(self.mints)
        return {
            "v": 1, "kind": "trade", "signature": sig(f"{self.tag}-t{n}"), "slot": self.rnd.randint(1, 4 * 10**8),
            "block_time": self.rnd.randint(self.t0, self.now - 3600), "event_index": self.rnd.randint(0, 3),
            "program": "pumpfun", "mint": mint, "pool": key(f"{self.tag}-pool-{mint}"),
            "side": self.rnd.choice(["buy", "sell"]), "user": key(f"{self.tag}-w{self.rnd.randint(0, 50)}"),
            "sol_amount": self.rnd.randint(1, 10**12), "token_amount": self.rnd.randint(10**6, 10**15),
        }

    def create(self) -> dict[str, Any]:
        n = self._next()
        return {
            "v": 1, "kind": "token_create", "signature": sig(f"{self.tag}-c{n}"), "slot": self.rnd.randint(1, 4 * 10**8),
            "block_time": self.rnd.randint(self.t0, self.now - 3600), "event_index": 0, "program": "pumpfun",
            "mint": key(f"{self.tag}-created-{n}"), "name": f"coin {n}", "symbol": f"C{n % 10**6}",
            "uri": f"https://example.invalid/{n}.json", "creator": key(f"{self.tag}-creator-{n}"),
            "bonding_curve": key(f"{self.tag}-curve-{n}"),
        }

    def price(self) -> dict[str, Any]:
        n = self._next()
        return {"v": 1, "kind": "sol_usd_price", "price_time": self.t0 + n, "price_usd": f"{self.rnd.uniform(80, 300):.4f}",
                "source": f"fuzz-{self.tag}"[:50]}

    def good(self) -> tuple[bytes, Expect]:
        obj = self.rnd.choice([self.trade, self.trade, self.trade, self.create, self.price])()
        line = json.dumps(obj, separators=(",", ":"))
        self.loaded_lines.append(line)
        return line.encode(), LOADED

    # -- poison ------------------------------------------------------------------------------

    def _mutated(self, change: Callable[[dict[str, Any]], None], base: Callable[[], dict[str, Any]] | None = None) -> bytes:
        obj = (base or self.trade)()
        change(obj)
        return json.dumps(obj, separators=(",", ":")).encode()

    def poison(self, cls: str, file_lines: list[bytes]) -> tuple[bytes, Expect]:
        """One record of poison class ``cls``; ``file_lines`` are the lines of the file so far that load."""
        r = self.rnd
        t = self.trade
        if cls == "garbage":
            return ("x" + "".join(r.choice('abc{}[]":,0123456789 \\\t') for _ in range(r.randrange(0, 60)))).encode(), rejected("not_json")
        if cls == "truncated":
            text = json.dumps(t())
            return text[: r.randrange(1, len(text) - 1)].encode(), rejected(*JSON_ERRORS)
        if cls == "missing":
            return self._mutated(lambda o: o.pop(r.choice(["mint", "pool", "side", "user", "sol_amount", "slot"]))), rejected("missing_field")
        if cls == "extra":
            return self._mutated(lambda o: o.update(bogus=1)), rejected("extra_field")
        if cls == "bool_int":
            return self._mutated(lambda o: o.update(slot=True)), rejected("bad_field")
        if cls == "unknown_kind":
            return self._mutated(lambda o: o.update(kind="teleport")), rejected("unknown_kind")
        if cls == "bad_address":
            return self._mutated(lambda o: o.update(user="0OIl" * 9)), rejected("bad_address")
        if cls == "negative":
            return self._mutated(lambda o: o.update(sol_amount=-r.randint(1, 10**9))), rejected("negative_amount")
        if cls == "future":
            return self._mutated(lambda o: o.update(block_time=self.now + 86_400)), rejected("future_timestamp")
        if cls == "nul_raw":
            return json.dumps(t()).replace('"pumpfun"', '"pump\x00fun"').encode(), rejected("not_json")
        if cls == "nul_escaped":
            return self._mutated(lambda o: o.update(ix_name="a\u0000b")), rejected("bad_field")
        if cls == "not_utf8":
            return json.dumps(t()).encode().replace(b'"pumpfun"', b'"pump\xff\xfefun"'), rejected("not_text")
        if cls == "huge_int":
            return json.dumps(t()).replace('"sol_amount":', '"sol_amount":' + "7" * 5000 + ',"x":').encode(), rejected("bad_field")
        if cls == "slot_2_63":
            return self._mutated(lambda o: o.update(slot=r.randint(2**63, 2**64 - 1))), rejected("bad_slot")
        if cls == "tx_fee_u64":
            return self._mutated(lambda o: o.update(tx_fee=r.randint(2**63, 2**64 - 1))), rejected("out_of_range")
        if cls == "event_index_32768":
            return self._mutated(lambda o: o.update(event_index=r.randint(2**15, 2**32))), rejected("out_of_range")
        if cls == "decimals_255":
            return self._mutated(lambda o: o.update(decimals=r.randint(19, 255)), self.create), rejected("out_of_range")
        if cls == "name_4096":
            return self._mutated(lambda o: o.update(name="n" * r.randint(101, 4096)), self.create), rejected("too_long")
        if cls == "uri_4096":
            return self._mutated(lambda o: o.update(uri="u" * r.randint(256, 4096)), self.create), rejected("too_long")
        if cls == "price_1e20":
            return self._mutated(lambda o: o.update(price_usd="1" + "0" * r.randint(14, 40)), self.price), rejected("bad_price")
        if cls == "price_1e-7":
            return self._mutated(lambda o: o.update(price_usd="0.000000" + str(r.randint(1, 4))), self.price), rejected("bad_price")
        if cls == "source_60":
            return self._mutated(lambda o: o.update(source="s" * r.randint(51, 200)), self.price), rejected("too_long")
        if cls == "confidence_30":
            return self._mutated(lambda o: o.update(confidence="9" * r.randint(15, 30)), self.price), rejected("bad_price")
        if cls == "twin":  # ``file_lines``: the lines of this file that load, so far
            if file_lines:
                return r.choice(file_lines), rejected("duplicate_in_batch")
            return self.good()
        raise ValueError(f"unknown poison class {cls}")

    # -- files -------------------------------------------------------------------------------

    def canonical(self, name: str, classes: list[str], *, good: int) -> GenFile:
        """JSON Lines: ``good`` good records with one record of each class in ``classes`` mixed in."""
        plan = ["good"] * good + list(classes)
        self.rnd.shuffle(plan)
        lines: list[bytes] = []
        loading: list[bytes] = []  # this file's lines that load: what a twin copies
        expects: list[Expect] = []
        for cls in plan:
            line, expect = self.good() if cls == "good" else self.poison(cls, loading)
            lines.append(line)
            expects.append(expect)
            if expect.outcome == "loaded":
                loading.append(line)
        gen = GenFile(name, b"".join(line + b"\n" for line in lines))
        gen.records = [(f":{n}", e) for n, e in enumerate(expects, start=1)]
        return gen

    def redelivery(self, name: str, classes: list[str], count: int) -> GenFile:
        """A later file: exact copies of ``count`` lines that loaded before, and new poison."""
        chosen = self.rnd.sample(self.loaded_lines, min(count, len(self.loaded_lines)))
        plan: list[tuple[bytes, Expect]] = [(line.encode(), ALREADY) for line in chosen]
        for cls in classes:
            if cls == "twin":
                continue
            plan.append(self.poison(cls, []))
        self.rnd.shuffle(plan)
        gen = GenFile(name, b"".join(line + b"\n" for line, _e in plan))
        gen.records = [(f":{n}", e) for n, (_line, e) in enumerate(plan, start=1)]
        return gen

    def _forget(self, lines: list[bytes]) -> None:
        """Lines that never reach the loader (after a gzip cut) cannot be re-delivered later."""
        lost = {line.decode("utf-8", "replace") for line in lines}
        self.loaded_lines = [line for line in self.loaded_lines if line not in lost]

    def gzipped(self, plain: GenFile) -> GenFile:
        return GenFile(plain.name + ".gz", gzip.compress(plain.data), plain.records)

    def truncated_gzip(self, plain: GenFile) -> GenFile:
        """``plain`` gzipped and cut short: the records before the cut load, the cut is one reject."""
        packed = gzip.compress(plain.data)
        cut = packed[: self.rnd.randrange(20, max(21, len(packed) - 8))]
        readable = zlib.decompressobj(wbits=31).decompress(cut)
        whole = readable.count(b"\n")
        self._forget(plain.data.split(b"\n")[whole:])
        gen = GenFile(plain.name + ".gz", cut, plain.records[:whole] + [("", rejected("truncated_gzip"))])
        return gen

    def not_gzip(self, plain: GenFile) -> GenFile:
        self._forget(plain.data.split(b"\n"))
        return GenFile(plain.name + ".gz", plain.data, [("", rejected("not_gzip"))])

    def csv(self, name: str, good: int, classes: list[str]) -> GenFile:
        rows: list[tuple[bytes, Expect]] = []
        for _ in range(good):
            n = self._next()
            rows.append((f"{self.t0 + n},{self.rnd.uniform(80, 300):.3f},csv-{self.tag}"[:200].encode(), LOADED))
        for cls in classes:
            n = self._next()
            t = self.t0 + n
            row = {
                "price_1e20": (f"{t},1{'0' * 20},pyth".encode(), rejected("bad_price")),
                "price_1e-7": (f"{t},0.0000001,pyth".encode(), rejected("bad_price")),
                "source_60": (f"{t},150,{'s' * 60}".encode(), rejected("too_long")),
                "confidence_30": (f"{t},150,pyth,{'9' * 30}".encode(), rejected("bad_price")),
                "not_utf8": (f"{t},150,caf".encode() + b"\xe9", rejected("not_text")),
                "huge_int": (("9" * 5000 + ",150,pyth").encode(), rejected("bad_field")),
                "garbage": (b"yesterday,150,pyth", rejected("bad_field")),
                "nul_raw": (f"{t},150,py\x00th".encode(), rejected("bad_field")),
            }.get(cls)
            if row is not None:
                rows.append(row)
        self.rnd.shuffle(rows)
        data = b"price_time,price_usd,source,confidence\n" + b"".join(r + b"\n" for r, _e in rows)
        return GenFile(name, data, [(f":{n}", e) for n, (_r, e) in enumerate(rows, start=2)])

    def hermes(self, name: str, good: int, classes: list[str]) -> GenFile:
        """Hermes bodies as JSON Lines, one ``parsed`` item per line; items are numbered among the
        lines that are JSON."""
        lines: list[tuple[bytes, Expect | None]] = []
        for _ in range(good):
            lines.append((self._hermes_line(expo=-8), LOADED))
        for cls in classes:
            if cls == "expo":
                lines.append((self._hermes_line(expo=self.rnd.choice([999_999, 1_000_001, -999_999])), rejected("bad_price")))
            elif cls == "wrong_feed":
                lines.append((self._hermes_line(expo=-8, feed="ab" * 32), rejected("wrong_feed")))
            elif cls == "not_utf8":
                lines.append((b'{"parsed": [{"note": "\xff\xfe"}]}', None))
            elif cls == "garbage":
                lines.append((b"{oops", None))
        if len(lines) < 2:  # one line would be read as a whole document
            lines.append((self._hermes_line(expo=-8), LOADED))
        self.rnd.shuffle(lines)
        records: list[tuple[str, Expect]] = []
        item = 0
        for n, (line, expect) in enumerate(lines, start=1):
            if expect is None:
                records.append((f":{n}", rejected("not_text") if b"\xff" in line else rejected("not_json")))
            else:
                records.append((f"#parsed[{item}]", expect))
                item += 1
        return GenFile(name, b"".join(line + b"\n" for line, _e in lines), records)

    def _hermes_line(self, *, expo: int, feed: str = PYTH_SOL_USD) -> bytes:
        n = self._next()
        item = {"id": feed, "price": {"price": str(self.rnd.randint(8 * 10**9, 3 * 10**10)), "conf": "1234567",
                                      "expo": expo, "publish_time": self.t0 + n}}
        return json.dumps({"parsed": [item]}).encode()


CANONICAL_POISON = (
    "garbage", "truncated", "missing", "extra", "bool_int", "unknown_kind", "bad_address", "negative", "future",
    "nul_raw", "nul_escaped", "not_utf8", "huge_int", "slot_2_63", "tx_fee_u64", "event_index_32768",
    "decimals_255", "name_4096", "uri_4096", "price_1e20", "price_1e-7", "source_60", "confidence_30", "twin",
)
CSV_POISON = ("price_1e20", "price_1e-7", "source_60", "confidence_30", "not_utf8", "huge_int", "garbage", "nul_raw")
HERMES_POISON = ("expo", "wrong_feed", "not_utf8", "garbage")
