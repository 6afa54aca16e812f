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

__all__ = ["MAX_DEPTH", "Tagged", "bstr_head", "decode_strict", "head", "read_head"]

MAX_DEPTH = 8
_ARG_SIZES = {24: 1, 25: 2, 26: 4, 27: 8}


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


def read_head(data: bytes, pos: int) -> tuple[int, int, int]:
    """``(major type, argument, next position)`` of the head at ``pos``.

    Rejects truncation, reserved and indefinite-length heads and non-shortest arguments.
    Major type 7 is returned with the raw additional-information value as argument.
    """
    if pos >= len(data):
        raise CborError("truncated CBOR")
    initial = data[pos]
    major = initial >> 5
    ai = initial & 0x1F
    if ai < 24:
        return major, ai, pos + 1
    if major == 7:
        raise CborError("unsupported CBOR simple value or float")
    size = _ARG_SIZES.get(ai)
    if size is None:  # 28-30 reserved, 31 indefinite length / break
        raise CborError("indefinite length or reserved CBOR head")
    end = pos + 1 + size
    if end > len(data):
        raise CborError("truncated CBOR head")
    value = int.from_bytes(data[pos + 1 : end], "big")
    # Preferred serialization: the argument must not fit a shorter head.
    if value < (24 if size == 1 else 1 << (4 * size)):
        raise CborError("non-shortest CBOR head")
    return major, value, end


def _item(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise CborError("CBOR nested too deeply")
    major, arg, pos = read_head(data, pos)
    if major == 0:
        return arg, pos
    if major == 2 or major == 3:
        end = pos + arg
        if end > len(data):
            raise CborError("truncated CBOR string")
        chunk = data[pos:end]
        if major == 2:
            return chunk, end
        try:
            return chunk.decode("utf-8"), end
        except UnicodeDecodeError:
            raise CborError("invalid UTF-8 in CBOR text string") from None
    if major == 1:
        return -1 - arg, pos
    if major == 4:
        # Each element takes at least one byte: refuse absurd counts before looping.
        if arg > len(data) - pos:
            raise CborError("truncated CBOR array")
        items = []
        for _ in range(arg):
            value, pos = _item(data, pos, depth + 1)
            items.append(value)
        return items, pos
    if major == 5:
        if 2 * arg > len(data) - pos:
            raise CborError("truncated CBOR map")
        result: dict[Any, Any] = {}
        for _ in range(arg):
            key, pos = _item(data, pos, depth + 1)
            if type(key) is not int and type(key) is not str:
                raise CborError("CBOR map key is neither an integer nor a text string")
            if key in result:
                raise CborError("duplicate CBOR map key")
            result[key], pos = _item(data, pos, depth + 1)
        return result, pos
    if major == 6:
        raise CborError("unexpected CBOR tag")
    # major 7 with a short argument: only false / true / null
    if arg == 20:
        return False, pos
    if arg == 21:
        return True, pos
    if arg == 22:
        return None, pos
    raise CborError("unsupported CBOR simple value")


def decode_item(data: bytes, pos: int) -> tuple[Any, int]:
    """One untagged item at ``pos``: ``(value, next position)``."""
    return _item(data, pos, 1)


def decode_strict(data: bytes, *, allow_tag: bool = False) -> Any:
    """Decode exactly one CBOR item filling ``data``.

    With ``allow_tag`` the outermost item may carry one tag, returned as :class:`Tagged`.
    """
    pos = 0
    tag = None
    if allow_tag and data and data[0] >> 5 == 6:
        _, tag, pos = read_head(data, 0)
    value, pos = _item(data, pos, 0)
    if pos != len(data):
        raise CborError("trailing bytes after CBOR item")
    return value if tag is None else Tagged(tag, value)
