"""A small Borsh reader for Anchor event payloads, and the decode error types.

Borsh is little-endian and unpadded: integers are fixed width, ``bool`` is one byte that must
be 0 or 1, a ``pubkey`` is 32 raw bytes, a ``string`` is a u32 byte length followed by UTF-8,
and a ``vec<T>`` is a u32 element count followed by the elements.

Every read that runs past the end of the buffer raises :class:`ShortInput` (a
:class:`DecodeError` with reason ``short_payload``) that names the field, the offset and how
many bytes were missing, so a rejected record can say exactly what was wrong with it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TypeVar

import base58

from megatron.validate import RejectError

T = TypeVar("T")

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")


class DecodeError(RejectError):
    """Input that cannot be turned into canonical events.

    ``reason_code`` is a short snake_case string (listed in docs/canonical-events.md);
    ``message`` is a sentence naming the problem.
    """


class ShortInput(DecodeError):
    """A read ran past the end of the payload."""

    def __init__(self, message: str, *, needed: int = 0, available: int = 0) -> None:
        super().__init__("short_payload", message)
        self.needed = needed
        self.available = available


def b58encode(raw: bytes) -> str:
    return base58.b58encode(raw).decode("ascii")


class Reader:
    """Sequential little-endian reader over ``data``.

    ``what`` names the buffer in error messages (e.g. ``"TradeEvent payload"``).
    """

    __slots__ = ("_data", "_pos", "what")

    def __init__(self, data: bytes, what: str = "payload") -> None:
        self._data = bytes(data)
        self._pos = 0
        self.what = what

    @property
    def pos(self) -> int:
        return self._pos

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def rest(self) -> bytes:
        """The unread bytes (does not advance)."""
        return self._data[self._pos :]

    def _take(self, n: int, field: str) -> bytes:
        if n < 0:
            raise DecodeError("bad_payload", f"{self.what}: negative length for {field}")
        end = self._pos + n
        if end > len(self._data):
            raise ShortInput(
                f"{self.what} is {len(self._data)} bytes; reading {field} needs {n} bytes at "
                f"offset {self._pos} but only {self.remaining} remain",
                needed=n,
                available=self.remaining,
            )
        out = self._data[self._pos : end]
        self._pos = end
        return out

    def u8(self, field: str = "u8") -> int:
        return self._take(1, field)[0]

    def u16(self, field: str = "u16") -> int:
        value: int = _U16.unpack(self._take(2, field))[0]
        return value

    def u32(self, field: str = "u32") -> int:
        value: int = _U32.unpack(self._take(4, field))[0]
        return value

    def u64(self, field: str = "u64") -> int:
        value: int = _U64.unpack(self._take(8, field))[0]
        return value

    def i64(self, field: str = "i64") -> int:
        value: int = _I64.unpack(self._take(8, field))[0]
        return value

    def bool(self, field: str = "bool") -> bool:
        at = self._pos
        byte = self._take(1, field)[0]
        if byte > 1:
            raise DecodeError(
                "bad_payload",
                f"{self.what}: {field} at offset {at} is 0x{byte:02x}, not a Borsh bool (0 or 1)",
            )
        return byte == 1

    def pubkey_bytes(self, field: str = "pubkey") -> bytes:
        return self._take(32, field)

    def pubkey(self, field: str = "pubkey") -> str:
        return b58encode(self._take(32, field))

    def string(self, field: str = "string") -> str:
        at = self._pos
        length = self.u32(f"{field} length")
        raw = self._take(length, field)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(
                "bad_payload", f"{self.what}: {field} at offset {at} is not valid UTF-8 ({exc.reason})"
            ) from None

    def vec(self, read_item: Callable[[Reader], T], *, item_min_size: int, field: str = "vec") -> list[T]:
        """Read a u32 count then ``count`` items; refuses counts that cannot fit up front."""
        count = self.u32(f"{field} length")
        if count * max(item_min_size, 1) > self.remaining:
            raise ShortInput(
                f"{self.what}: {field} claims {count} elements of at least {item_min_size} bytes "
                f"but only {self.remaining} bytes remain",
                needed=count * item_min_size,
                available=self.remaining,
            )
        return [read_item(self) for _ in range(count)]
