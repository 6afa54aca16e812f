"""A deliberately small, strict CBOR reader for the bytes an attacker controls.

``cbor2`` is used to *encode* everything and to decode payloads only *after* their
signature has been verified. The COSE envelope and header maps are decoded here instead,
because they are read before any signature check and ``cbor2`` always applies its
semantic-tag decoders (regular expressions, MIME messages, shared references that can
build cyclic objects, big decimals...) with no way to switch them off.

Accepted: unsigned and negative integers (up to 64 bits), byte strings, UTF-8 text
strings, arrays, maps with integer or text keys, ``false``/``true``/``null``, and tags
only where the caller asks for them (the outer COSE tag). Rejected as malformed:
indefinite lengths, non-shortest ("non-preferred") heads, duplicate map keys, floats,
undefined and other simple values, tags anywhere else, nesting deeper than
:data:`MAX_DEPTH`, truncated input and trailing bytes. Rejecting non-shortest heads and
duplicates means one signed message has exactly one byte representation at this layer.
"""

from __future__ import annotations

from typing import Any

from onboarding.attestation.errors import CborError

__all__ = ["MAX_DEPTH", "Tagged", "bstr_head", "decode_strict", "head"]

MAX_DEPTH = 8


class Tagged:
    """A tag read at the top level (only the outermost item may be tagged)."""

    __slots__ = ("tag", "value")

    def __init__(self, tag: int, value: Any) -> None:
        self.tag = tag
        self.value = value


def head(major: int, value: int) -> bytes:
    """Shortest-form CBOR head for ``major`` type and argument ``value``."""
    mt = major << 5
    if value < 24:
        return bytes((mt | value,))
    if value < 0x100:
        return bytes((mt | 24, value))
    if value < 0x10000:
        return bytes((mt | 25,)) + value.to_bytes(2, "big")
    if value < 0x100000000:
        return bytes((mt | 26,)) + value.to_bytes(4, "big")
    return bytes((mt | 27,)) + value.to_bytes(8, "big")


def bstr_head(length: int) -> bytes:
    """Head of a byte string of ``length`` bytes."""
    return head(2, length)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _arg(self, ai: int) -> int:
        data = self.data
        pos = self.pos
        if ai < 24:
            return ai
        if ai == 24:
            size = 1
        elif ai == 25:
            size = 2
        elif ai == 26:
            size = 4
        elif ai == 27:
            size = 8
        else:  # 28-30 reserved, 31 indefinite length / break
            raise CborError("indefinite length or reserved CBOR head")
        end = pos + size
        if end > len(data):
            raise CborError("truncated CBOR head")
        value = int.from_bytes(data[pos:end], "big")
        self.pos = end
        # Preferred serialization: the argument must not fit a shorter head.
        if (size == 1 and value < 24) or (size > 1 and value < (1 << (4 * size))):
            raise CborError("non-shortest CBOR head")
        return value

    def _take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise CborError("truncated CBOR string")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def item(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise CborError("CBOR nested too deeply")
        if self.pos >= len(self.data):
            raise CborError("truncated CBOR")
        initial = self.data[self.pos]
        self.pos += 1
        major = initial >> 5
        ai = initial & 0x1F
        if major == 7:
            if ai == 20:
                return False
            if ai == 21:
                return True
            if ai == 22:
                return None
            raise CborError("unsupported CBOR simple value or float")
        if major == 6:
            raise CborError("unexpected CBOR tag")
        arg = self._arg(ai)
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major == 2:
            return self._take(arg)
        if major == 3:
            try:
                return self._take(arg).decode("utf-8")
            except UnicodeDecodeError:
                raise CborError("invalid UTF-8 in CBOR text string") from None
        if major == 4:
            # Each element takes at least one byte: refuse absurd counts before looping.
            if arg > len(self.data) - self.pos:
                raise CborError("truncated CBOR array")
            return [self.item(depth + 1) for _ in range(arg)]
        # major == 5
        if 2 * arg > len(self.data) - self.pos:
            raise CborError("truncated CBOR map")
        result: dict[Any, Any] = {}
        for _ in range(arg):
            key = self.item(depth + 1)
            if type(key) is not int and type(key) is not str:
                raise CborError("CBOR map key is neither an integer nor a text string")
            if key in result:
                raise CborError("duplicate CBOR map key")
            result[key] = self.item(depth + 1)
        return result


def decode_strict(data: bytes, *, allow_tag: bool = False) -> Any:
    """Decode exactly one CBOR item filling ``data``.

    With ``allow_tag`` the outermost item may carry one tag, returned as :class:`Tagged`.
    """
    reader = _Reader(data)
    if allow_tag and data and data[0] >> 5 == 6:
        reader.pos = 1
        tag = reader._arg(data[0] & 0x1F)
        value: Any = Tagged(tag, reader.item(1))
    else:
        value = reader.item(0)
    if reader.pos != len(data):
        raise CborError("trailing bytes after CBOR item")
    return value
