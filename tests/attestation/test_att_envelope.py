"""The QR text envelope: prefix, strict and bounded zlib, canonical deflate padding."""

from __future__ import annotations

import zlib

import pytest
from att_support import make_world

from onboarding.attestation import b45decode, decode_envelope, encode_envelope
from onboarding.attestation.envelope import MAX_COSE_BYTES, check_prefix, decompress, split_prefix
from onboarding.attestation.errors import EnvelopeError


def test_round_trip() -> None:
    cose = b"\xd2\x84" + bytes(range(200))
    text = encode_envelope(cose, "ID1:")
    assert text.startswith("ID1:")
    assert decode_envelope(text) == cose
    assert zlib.decompress(b45decode(text[4:])) == cose


@pytest.mark.parametrize("prefix", ["", "ID1", "id1:", "ID 1:x", "ÍD1:", "ID_1:"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(EnvelopeError):
        check_prefix(prefix)


def test_unknown_prefix_reason_names_the_accepted_ones() -> None:
    with pytest.raises(EnvelopeError) as err:
        split_prefix("HC1:ABC", ("ID1:", "ID2:"))
    assert err.value.code == "prefix_unknown" and "ID1:, ID2:" in err.value.message


def test_size_limit_stops_zip_bombs() -> None:
    decompress(zlib.compress(bytes(MAX_COSE_BYTES)))
    with pytest.raises(EnvelopeError) as err:
        decompress(zlib.compress(bytes(MAX_COSE_BYTES + 1)))
    assert err.value.code == "zlib_too_large"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x78\xda",
        zlib.compress(b"hello")[:-1],  # truncated Adler-32
        zlib.compress(b"hello") + b"\x00",  # trailing byte
        zlib.compress(b"hello", wbits=-15),  # raw deflate, no zlib header
        zlib.compress(b"hello", wbits=31),  # gzip, not zlib
    ],
)
def test_invalid_streams(data: bytes) -> None:
    with pytest.raises(EnvelopeError):
        decompress(data)


def test_preset_dictionary_is_refused() -> None:
    co = zlib.compressobj(9, zdict=b"dictionary")
    data = co.compress(b"dictionary text") + co.flush()
    with pytest.raises(EnvelopeError):
        decompress(data)


def test_nonzero_final_padding_bits_are_refused() -> None:
    """Inflaters ignore the bits after the final block: setting them would make a second
    QR text for the same signed bytes. Found in real attestations, then refused."""
    world = make_world()
    exercised = 0
    for n in range(30):
        compressed = b45decode(world.issue(idx=n)[4:])
        original = zlib.decompress(compressed)
        assert decompress(compressed) == original  # our own output is canonical
        last = len(compressed) - 5
        for bit in range(8):
            mutated = bytearray(compressed)
            mutated[last] ^= 1 << bit
            try:
                same = zlib.decompress(bytes(mutated)) == original
            except zlib.error:
                same = False
            if same:
                exercised += 1
                with pytest.raises(EnvelopeError) as err:
                    decompress(bytes(mutated))
                assert err.value.code == "zlib_noncanonical"
    assert exercised > 0


def test_stored_block_padding_bits_are_refused() -> None:
    co = zlib.compressobj(0)
    stored = co.compress(b"incompressible-ish" * 3) + co.flush()
    assert stored[2] == 0x01  # final stored block, padding zero
    assert decompress(stored) == b"incompressible-ish" * 3
    for bit in range(3, 8):
        mutated = bytearray(stored)
        mutated[2] |= 1 << bit
        assert zlib.decompress(bytes(mutated)) == b"incompressible-ish" * 3  # zlib ignores it
        with pytest.raises(EnvelopeError):
            decompress(bytes(mutated))
