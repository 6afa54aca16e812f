"""QR text envelope: ``PREFIX + Base45(zlib(COSE_Sign1))`` (FORMATS.md, as in the EU DCC).

Decoding is bounded and strict, because this is the first thing an attacker's bytes meet:

* the text is at most :data:`MAX_TEXT_CHARS` (a version-40 QR's alphanumeric capacity);
* zlib (RFC 1950) output is capped at :data:`MAX_COSE_BYTES` — a "zip bomb" stops there;
* the zlib stream must end exactly at its Adler-32 (no trailing bytes) and use no preset
  dictionary;
* the unused padding bits after the final deflate block must be zero. Inflaters ignore
  them, so without this check flipping one of them would yield a different QR text that
  still verifies. (Re-compressing the same COSE bytes differently is always possible and
  harmless — the signature covers the COSE bytes, not the envelope — but a *single* bit
  flip of a genuine attestation must never be accepted: SECURITY.md check 17.)
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from onboarding.attestation.base45 import b45decode, b45encode
from onboarding.attestation.errors import EnvelopeError

__all__ = [
    "DEFAULT_PREFIX",
    "MAX_COSE_BYTES",
    "MAX_TEXT_CHARS",
    "compress",
    "decompress",
    "encode_envelope",
    "split_prefix",
]

DEFAULT_PREFIX = "ID1:"
MAX_TEXT_CHARS = 4296
MAX_COSE_BYTES = 4096
_QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def check_prefix(prefix: str) -> str:
    """A prefix is non-empty, QR-alphanumeric and ends with ``:`` (e.g. ``ID1:``)."""
    if not prefix or not prefix.endswith(":") or not set(prefix) <= _QR_ALPHANUMERIC:
        raise EnvelopeError(
            "a prefix is uppercase letters/digits ending with ':' (e.g. 'ID1:')",
            code="prefix_invalid",
        )
    return prefix


def compress(cose: bytes) -> bytes:
    """zlib at level 9 (FORMATS.md)."""
    return zlib.compress(cose, 9)


def encode_envelope(cose: bytes, prefix: str = DEFAULT_PREFIX) -> str:
    """``prefix + Base45(zlib(cose))``."""
    return check_prefix(prefix) + b45encode(compress(cose))


def split_prefix(text: str, prefixes: Sequence[str]) -> tuple[str, str]:
    """Return ``(prefix, rest)``; :class:`EnvelopeError` ``prefix_unknown`` otherwise."""
    for prefix in prefixes:
        if text.startswith(prefix):
            return prefix, text[len(prefix) :]
    raise EnvelopeError(
        "does not start with an accepted prefix (" + ", ".join(prefixes) + ")",
        code="prefix_unknown",
    )


def _inflate(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, limit)
    if inflater.unconsumed_tail:
        raise EnvelopeError(f"decompressed data exceeds {limit} bytes", code="zlib_too_large")
    if not inflater.eof:
        raise EnvelopeError("zlib stream is truncated", code="zlib_invalid")
    if inflater.unused_data:
        raise EnvelopeError("bytes after the end of the zlib stream", code="zlib_invalid")
    return out


def decompress(data: bytes, limit: int = MAX_COSE_BYTES) -> bytes:
    """Strict, bounded zlib decompression (see the module docstring)."""
    try:
        out = _inflate(data, limit)
    except zlib.error as exc:
        raise EnvelopeError(f"not a valid zlib stream ({exc})", code="zlib_invalid") from None
    # Final-byte padding: deflate packs bits from the least significant end, so padding
    # sits above the end-of-block code. Flip the highest set bit of the last deflate byte
    # (the byte before the 4-byte Adler-32): if the output is unchanged, it was padding.
    # One extra inflate of a few hundred bytes (~1 us) per verification.
    last = len(data) - 5
    if last >= 2 and data[last]:
        mutated = bytearray(data)
        mutated[last] ^= 1 << (data[last].bit_length() - 1)
        try:
            same = _inflate(bytes(mutated), limit) == out
        except (zlib.error, EnvelopeError):
            same = False
        if same:
            raise EnvelopeError("non-zero padding bits in the zlib stream",
                                code="zlib_noncanonical")
    # A stored first block (BTYPE 00) is followed by padding to the next byte boundary.
    if len(data) > 2 and data[2] & 0x06 == 0 and data[2] > 0x01:
        raise EnvelopeError("non-zero padding bits in the zlib stream", code="zlib_noncanonical")
    return out


def decode_envelope(text: str, prefixes: Sequence[str] = (DEFAULT_PREFIX,)) -> bytes:
    """QR text to COSE bytes (raises :class:`EnvelopeError` / ``Base45Error``)."""
    if len(text) > MAX_TEXT_CHARS:
        raise EnvelopeError(f"text longer than {MAX_TEXT_CHARS} characters", code="too_long")
    _, rest = split_prefix(text, prefixes)
    return decompress(b45decode(rest))
