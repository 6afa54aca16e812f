"""SECURITY.md check 17: a mutated attestation is never valid, and no input crashes.

Every single bit of a valid attestation is flipped at two layers — the zlib bytes under the
Base45 text, and the COSE bytes under zlib (re-compressed) — and every result must be
something other than "valid". Hypothesis then throws random text, random envelopes and
mutated genuine strings at the whole pipeline.
"""

from __future__ import annotations

import zlib

import cbor2
import pytest
from att_support import NOW, World, canary_attested, jpeg_thumbnail, make_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding.attestation import (
    b45decode,
    b45encode,
    decode_claims,
    decode_sign1,
    encode_envelope,
    kid_for,
    sign1,
    verify,
)
from onboarding.attestation.base45 import ALPHABET
from onboarding.attestation.verify import STEP_NAMES


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def genuine(world: World) -> str:
    """One fixed genuine attestation: Hypothesis needs the same input on every replay."""
    return world.issue()


def _flips(data: bytes):  # type: ignore[no-untyped-def]
    for i in range(len(data)):
        for bit in range(8):
            mutated = bytearray(data)
            mutated[i] ^= 1 << bit
            yield i, bit, bytes(mutated)


CASES = {
    "ed25519": {},
    "ed25519+photo": {"attested": "photo"},
    "es256": {"key": "es"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_bit_flip_of_the_zlib_bytes_is_rejected(world: World, case: str) -> None:
    options = CASES[case]
    attested = canary_attested(thumbnail=jpeg_thumbnail()) if options.get("attested") else None
    text = world.issue(options.get("key", "a"), attested=attested)
    store = world.status_store() if options.get("key", "a") == "a" else None
    trust = world.trust
    assert verify(text, trust=trust, status=store, at=NOW).result == "valid"
    compressed = b45decode(text[4:])
    accepted = []
    results: dict[str, int] = {}
    for i, bit, mutated in _flips(compressed):
        result = verify("ID1:" + b45encode(mutated), trust=trust, status=store, at=NOW)
        results[result.result] = results.get(result.result, 0) + 1
        if result.result == "valid":
            accepted.append((i, bit))
    assert accepted == [], f"bit flips accepted at {accepted[:10]}"
    assert sum(results.values()) == 8 * len(compressed)


@pytest.mark.parametrize("case", list(CASES))
def test_every_bit_flip_of_the_cose_bytes_is_rejected(world: World, case: str) -> None:
    options = CASES[case]
    attested = canary_attested(thumbnail=jpeg_thumbnail()) if options.get("attested") else None
    text = world.issue(options.get("key", "a"), attested=attested)
    trust = world.trust
    cose = zlib.decompress(b45decode(text[4:]))
    accepted = [
        (i, bit) for i, bit, mutated in _flips(cose)
        if verify(encode_envelope(mutated), trust=trust, status=None, at=NOW).result == "valid"
    ]
    assert accepted == [], f"bit flips accepted at {accepted[:10]}"


def test_every_character_substitution_of_the_text_is_rejected(world: World) -> None:
    text = world.issue()
    trust = world.trust
    for i in range(4, len(text)):
        replacement = ALPHABET[(ALPHABET.index(text[i]) + 1) % 45]
        mutated = text[:i] + replacement + text[i + 1:]
        assert verify(mutated, trust=trust, status=None, at=NOW).result != "valid", i


def test_truncations_are_rejected(world: World) -> None:
    text = world.issue()
    trust = world.trust
    for end in range(len(text) - 1, 3, -7):
        assert verify(text[:end], trust=trust, status=None, at=NOW).result != "valid"


# ------------------------------------------------------------------ Hypothesis fuzzing
_FUZZ = settings(max_examples=1000, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def _check(world: World, text: str, genuine: str | None = None) -> None:
    result = verify(text, trust=world.trust, status=None, at=NOW)
    assert [s.name for s in result.steps] == list(STEP_NAMES)
    if result.result == "valid":
        # The only way to be valid is to carry the genuine signed COSE bytes (e.g. CR/LF
        # trimmed, or an equivalent re-encoding of the same signed message).
        assert genuine is not None
        assert zlib.decompress(b45decode(text.strip("\r\n")[4:])) == zlib.decompress(
            b45decode(genuine[4:]))
    result.to_json()


@_FUZZ
@given(st.text(max_size=300))
def test_random_text_never_crashes_or_validates(world: World, text: str) -> None:
    _check(world, text)


@_FUZZ
@given(st.text(alphabet=ALPHABET, max_size=400))
def test_random_base45_never_crashes_or_validates(world: World, text: str) -> None:
    _check(world, "ID1:" + text)


@_FUZZ
@given(st.binary(max_size=400))
def test_random_envelopes_never_crash_or_validate(world: World, data: bytes) -> None:
    _check(world, "ID1:" + b45encode(zlib.compress(data)))
    _check(world, "ID1:" + b45encode(data))


@_FUZZ
@given(data=st.data())
def test_mutated_genuine_strings(world: World, genuine: str, data: st.DataObject) -> None:
    chars = list(genuine)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["replace", "insert", "delete", "swap"]))
        pos = data.draw(st.integers(0, len(chars) - 1))
        if op == "replace":
            chars[pos] = data.draw(st.sampled_from(ALPHABET + "abc\x00é"))
        elif op == "insert":
            chars.insert(pos, data.draw(st.sampled_from(ALPHABET)))
        elif op == "delete" and len(chars) > 1:
            del chars[pos]
        else:
            other = data.draw(st.integers(0, len(chars) - 1))
            chars[pos], chars[other] = chars[other], chars[pos]
    _check(world, "".join(chars), genuine)


@_FUZZ
@given(data=st.data())
def test_mutated_genuine_cose(world: World, genuine: str, data: st.DataObject) -> None:
    cose = bytearray(zlib.decompress(b45decode(genuine[4:])))
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(cose) - 1))
        cose[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(0, len(cose)))
        cose = cose[:cut] + bytearray(data.draw(st.binary(max_size=8))) + cose[cut:]
    _check(world, encode_envelope(bytes(cose)), genuine)


# ------------------------------------------------------------------ issuer-signed garbage
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.binary(max_size=24)
    | st.text(max_size=24) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.integers(-70_000, 70_000) | st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)


def _signed(world: World, payload: bytes) -> str:
    key = world.keys["a"]
    return encode_envelope(sign1(payload, key, alg=-19, kid=kid_for(key)))


@_FUZZ
@given(data=st.data())
def test_issuer_signed_mutated_claims_never_crash(world: World, genuine: str,
                                                  data: st.DataObject) -> None:
    """Even a trusted key signing nonsense must give a verdict, not an exception; and a
    verdict of valid only for a claim set that passes the full validation."""
    claims = cbor2.loads(decode_sign1(zlib.decompress(b45decode(genuine[4:]))).payload)
    target = data.draw(st.sampled_from(["top", "attested", "status"]))
    where = {"top": claims, "attested": claims[-65537],
             "status": claims[65535]["status_list"]}[target]
    key = data.draw(st.sampled_from([*where.keys(), 11, 2, "extra"]))
    if data.draw(st.booleans()) and key in where:
        del where[key]
    else:
        where[key] = data.draw(_VALUES)
    payload = cbor2.dumps(claims)
    result = verify(_signed(world, payload), trust=world.trust, status=None, at=NOW)
    result.to_json(include_codes=True)
    if result.result == "valid":
        decode_claims(payload)


@_FUZZ
@given(st.binary(max_size=300) | _VALUES.map(cbor2.dumps))
def test_issuer_signed_arbitrary_payloads_never_crash(world: World, payload: bytes) -> None:
    result = verify(_signed(world, payload), trust=world.trust, status=None, at=NOW)
    assert result.result != "valid"
    result.to_json(include_codes=True)
