"""Base45 (RFC 9285), hand-written because the QR text is decoded on every verification.

The PyPI ``base45`` package is correct but decodes one character at a time in Python; the
benchmark (``bench/verify_bench.py``) measures both in the same run: for a 378-character
attestation it took 29.8 µs against 4.1 µs here (7x), i.e. a third of an Ed25519
signature check (93 µs) on the reference machine, where the whole non-signature budget
of the 0.8 target is about 23 µs.

Decoding is strict: the text must use the 45-character alphabet exactly (uppercase, space
included), its length must not be 1 mod 3, every 3-character group must encode a value
at most 65535 and a trailing 2-character group at most 255. That makes the mapping a
bijection, so a changed character can never decode to the same bytes.
"""

from __future__ import annotations

import struct

from onboarding.attestation.errors import Base45Error

__all__ = ["ALPHABET", "b45decode", "b45encode"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

# byte -> digit value, 0xFF for anything outside the alphabet (lowercase included).
_DECODE = bytes(ALPHABET.index(chr(b)) if chr(b) in ALPHABET else 0xFF for b in range(256))
# The low byte / high byte of every 24-bit lane, for as many lanes as the longest text
# has; & with a positive int only touches the shorter operand's digits.
_LANES = 4296 // 3 + 1


def _masks(lanes: int) -> tuple[int, int]:
    return (int.from_bytes(b"\xff\x00\x00" * lanes, "little"),
            int.from_bytes(b"\x00\x00\xff" * lanes, "little"))


_LOW, _HIGH = _masks(_LANES)
# value % 2025 -> its two low digits, least significant first (RFC 9285 order).
_PAIRS = tuple(ALPHABET[v % 45] + ALPHABET[v // 45] for v in range(2025))


def b45encode(data: bytes) -> str:
    """Encode ``data`` as Base45 text (RFC 9285 §4)."""
    n = len(data)
    k = n // 2
    values = struct.unpack(f">{k}H", data[: 2 * k])
    pairs = _PAIRS
    alphabet = ALPHABET
    text = "".join([pairs[v % 2025] + alphabet[v // 2025] for v in values])
    if n % 2:
        text += pairs[data[-1]]
    return text


def b45decode(text: str | bytes) -> bytes:
    """Decode Base45 text; raise :class:`Base45Error` on anything not canonical Base45.

    The 3-character groups are combined with one big-integer expression instead of a
    Python loop: the digits are laid out as little-endian 24-bit lanes, and
    ``a + 45 b + 2025 c`` is computed for every lane at once (each lane result is below
    2**24, so lanes never carry into each other). This is what makes the decoder fast.
    """
    if isinstance(text, str):
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            raise Base45Error("not Base45: non-ASCII character") from None
    else:
        raw = bytes(text)
    digits = raw.translate(_DECODE)
    if 0xFF in digits:
        raise Base45Error("not Base45: character outside the alphabet")
    k, rem = divmod(len(digits), 3)
    if rem == 1:
        raise Base45Error("not Base45: length is 1 more than a multiple of 3")
    m = 3 * k
    # digits[:m] read as lanes is a + 256 b + 65536 c; the b and c of every lane come out
    # of it with a shift and a mask; subtract to get a + 45 b + 2025 c.
    low, high = (_LOW, _HIGH) if k <= _LANES else _masks(k)
    raw_lanes = int.from_bytes(digits[:m], "little")
    total = raw_lanes - 211 * ((raw_lanes >> 8) & low) - 63511 * ((raw_lanes >> 16) & low)
    if total & high:
        raise Base45Error("not Base45: a 3-character group exceeds 65535")
    lanes = total.to_bytes(m, "little")
    out = bytearray(2 * k + (rem == 2))
    out[0 : 2 * k : 2] = lanes[1::3]
    out[1 : 2 * k : 2] = lanes[0::3]
    if rem == 2:
        last = digits[-2] + 45 * digits[-1]
        if last > 255:
            raise Base45Error("not Base45: final 2-character group exceeds 255")
        out[-1] = last
    return bytes(out)
