"""Our COSE_Sign1 layer and the strict CBOR reader under it."""

from __future__ import annotations

import contextlib

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onboarding.attestation import (
    ACCEPTED_ALGS,
    ALG_ED25519,
    ALG_EDDSA,
    ALG_ES256,
    decode_sign1,
    generate_private_key,
    kid_for,
    sign1,
    verify_sign1,
)
from onboarding.attestation.cbor import decode_strict
from onboarding.attestation.cose import sig_structure
from onboarding.attestation.errors import CborError, CoseError

PAYLOAD = b"payload bytes"


def _raw_sign1(protected: dict | bytes, unprotected: dict, key: object, alg: int,
               payload: bytes = PAYLOAD, tag: int | None = 18) -> bytes:
    """Hand-built COSE_Sign1 with any headers, signed for real (for negative tests)."""
    protected_bytes = protected if isinstance(protected, bytes) else cbor2.dumps(protected)
    tbs = sig_structure(protected_bytes, b"", payload)
    if alg == ALG_ES256:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(key.sign(tbs, ec.ECDSA(hashes.SHA256())))  # type: ignore[attr-defined]
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(tbs)  # type: ignore[attr-defined]
    body = [protected_bytes, unprotected, payload, signature]
    return cbor2.dumps(body if tag is None else cbor2.CBORTag(tag, body))


@pytest.mark.parametrize("alg", [ALG_ED25519, ALG_ES256])
def test_sign_verify_round_trip(alg: int) -> None:
    key = generate_private_key(alg)
    data = sign1(PAYLOAD, key, alg=alg, kid=kid_for(key))
    assert data[0] == 0xD2  # tag 18
    msg = decode_sign1(data)
    assert msg.alg == alg and msg.kid == kid_for(key) and msg.payload == PAYLOAD
    assert msg.protected == {1: alg, 4: kid_for(key)}
    assert msg.unprotected == {}
    verify_sign1(msg, key.public_key(), algorithms=ACCEPTED_ALGS)
    if alg == ALG_ES256:
        assert len(msg.signature) == 64  # raw r || s, not DER


def test_eddsa_minus_8_accepted_with_ed25519_key() -> None:
    key = generate_private_key(ALG_ED25519)
    data = sign1(PAYLOAD, key, alg=ALG_EDDSA, kid=None)
    verify_sign1(decode_sign1(data), key.public_key(), algorithms=ACCEPTED_ALGS)


def test_verify_returns_none_and_raises_on_wrong_key() -> None:
    key, other = generate_private_key(), generate_private_key()
    msg = decode_sign1(sign1(PAYLOAD, key, alg=ALG_ED25519, kid=None))
    assert verify_sign1(msg, key.public_key(), algorithms=ACCEPTED_ALGS) is None  # type: ignore[func-returns-value]
    with pytest.raises(CoseError) as err:
        verify_sign1(msg, other.public_key(), algorithms=ACCEPTED_ALGS)
    assert err.value.code == "signature_invalid"


def test_sign_refuses_alg_that_does_not_fit_key() -> None:
    with pytest.raises(CoseError) as err:
        sign1(PAYLOAD, generate_private_key(ALG_ED25519), alg=ALG_ES256, kid=None)
    assert err.value.code == "alg_key_mismatch"


def test_caller_allowlist_wins_over_token() -> None:
    key = generate_private_key(ALG_ES256)
    msg = decode_sign1(sign1(PAYLOAD, key, alg=ALG_ES256, kid=None))
    with pytest.raises(CoseError) as err:
        verify_sign1(msg, key.public_key(), algorithms={ALG_ED25519})
    assert err.value.code == "alg_not_allowed"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda k: _raw_sign1({4: b"k"}, {}, k, ALG_ED25519), "alg_missing"),
        (lambda k: _raw_sign1({4: b"k"}, {1: ALG_ED25519}, k, ALG_ED25519), "alg_unprotected"),
        (lambda k: _raw_sign1(b"", {1: ALG_ED25519}, k, ALG_ED25519), "alg_unprotected"),
        (lambda k: _raw_sign1({1: ALG_ED25519}, {1: ALG_ED25519}, k, ALG_ED25519),
         "header_duplicate"),
        (lambda k: _raw_sign1({1: ALG_ED25519, 2: [99], 99: 1}, {}, k, ALG_ED25519),
         "crit_unsupported"),
        (lambda k: _raw_sign1({1: ALG_ED25519}, {}, k, ALG_ED25519, tag=17), "cose_wrong_type"),
        (lambda k: _raw_sign1({1: ALG_ED25519}, {}, k, ALG_ED25519, tag=98), "cose_wrong_type"),
        (lambda k: _raw_sign1({1: ALG_ED25519}, {}, k, ALG_ED25519, tag=61), "cose_wrong_tag"),
        (lambda k: _raw_sign1({1: ALG_ED25519}, {}, k, ALG_ED25519, tag=16), "cose_wrong_tag"),
        (lambda k: _raw_sign1({1: ALG_ED25519, 4: "text kid"}, {}, k, ALG_ED25519),
         "cose_malformed"),
        (lambda k: _raw_sign1({1: 1.5}, {}, k, ALG_ED25519), "cose_malformed"),
        (lambda k: _raw_sign1(cbor2.dumps([1, -19]), {}, k, ALG_ED25519), "cose_malformed"),
    ],
)
def test_structural_rejections(make: object, code: str) -> None:
    key = generate_private_key(ALG_ED25519)
    with pytest.raises(CoseError) as err:
        decode_sign1(make(key))  # type: ignore[operator]
    assert err.value.code == code


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xd2",
        cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"x"])),  # 3 items
        cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"x", b"s", b"extra"])),
        cbor2.dumps(cbor2.CBORTag(18, ["text", {}, b"x", b"s"])),
        cbor2.dumps(cbor2.CBORTag(18, [b"", [], b"x", b"s"])),
        cbor2.dumps(cbor2.CBORTag(18, [b"", {}, None, b"s"])),  # detached payload
        cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"x", "sig"])),
        cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"x", b"s"])) + b"\x00",  # trailing byte
        cbor2.dumps(cbor2.CBORTag(18, cbor2.CBORTag(18, [b"", {}, b"x", b"s"]))),
        cbor2.dumps({"not": "an array"}),
        bytes.fromhex("d2 9f 40 a0 41 78 41 73 ff".replace(" ", "")),  # indefinite array
        bytes.fromhex("d2 98 04 40 a0 41 78 41 73".replace(" ", "")),  # non-shortest length
    ],
)
def test_malformed_envelopes(data: bytes) -> None:
    with pytest.raises(CoseError) as err:
        decode_sign1(data)
    assert err.value.code in {"cose_malformed", "cose_wrong_tag"}


def test_kid_in_unprotected_is_accepted_and_protected_kid_wins() -> None:
    key = generate_private_key()
    only_unprotected = decode_sign1(_raw_sign1({1: ALG_ED25519}, {4: b"unprot"}, key, ALG_ED25519))
    assert only_unprotected.kid == b"unprot"
    both = decode_sign1(_raw_sign1({1: ALG_ED25519, 4: b"prot"}, {4: b"unprot"}, key, ALG_ED25519))
    assert both.kid == b"prot"
    verify_sign1(both, key.public_key(), algorithms=ACCEPTED_ALGS)


def test_untagged_sign1_is_accepted() -> None:
    key = generate_private_key()
    data = sign1(PAYLOAD, key, alg=ALG_ED25519, kid=b"k", tagged=False)
    msg = decode_sign1(data)
    assert not msg.tagged
    verify_sign1(msg, key.public_key(), algorithms=ACCEPTED_ALGS)


def test_es256_signature_with_wrong_length_or_zero_scalars() -> None:
    key = generate_private_key(ALG_ES256)
    msg = decode_sign1(sign1(PAYLOAD, key, alg=ALG_ES256, kid=None))
    for signature in (msg.signature[:-1], msg.signature + b"\x00", bytes(64),
                      b"\x00" * 32 + msg.signature[32:], b"\xff" * 64):
        with pytest.raises(CoseError) as err:
            verify_sign1(msg._replace(signature=signature), key.public_key(),
                         algorithms=ACCEPTED_ALGS)
        assert err.value.code == "signature_invalid"


def test_ed25519_non_canonical_s_rejected() -> None:
    """S + L (the group order) is the classic Ed25519 malleability; it must not verify."""
    key = generate_private_key()
    msg = decode_sign1(sign1(PAYLOAD, key, alg=ALG_ED25519, kid=None))
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(msg.signature[32:], "little") + order
    if s < 2**256:
        forged = msg.signature[:32] + s.to_bytes(32, "little")
        with pytest.raises(CoseError):
            verify_sign1(msg._replace(signature=forged), key.public_key(),
                         algorithms=ACCEPTED_ALGS)


# ------------------------------------------------------------------ strict CBOR reader
@pytest.mark.parametrize(
    ("hex_", "why"),
    [
        ("1817", "23 in a 1-byte argument (non-shortest)"),
        ("190017", "2-byte argument that fits in one"),
        ("1a0000ffff", "4-byte argument that fits in two"),
        ("1b00000000ffffffff", "8-byte argument that fits in four"),
        ("5f4100ff", "indefinite-length byte string"),
        ("9fff", "indefinite-length array"),
        ("a2010201", "map shorter than its count"),
        ("a201020103", "duplicate key 1"),
        ("a1f401", "map key false"),
        ("a14101 01", "byte-string map key"),
        ("f93c00", "half float"),
        ("fb3ff0000000000000", "double"),
        ("f7", "undefined"),
        ("f820", "simple value 32"),
        ("c11a00000000", "tag 1 (epoch date) in a header"),
        ("d81c01", "tag 28 (shareable) in a header"),
        ("62c328", "invalid UTF-8"),
        ("0000", "trailing bytes"),
        ("5a00010000", "byte string longer than the input"),
        ("9b0000000100000000", "array count beyond the input"),
        ("1c", "reserved additional information"),
        ("81" * 12 + "00", "nested deeper than 8"),
    ],
)
def test_strict_reader_rejects(hex_: str, why: str) -> None:
    with pytest.raises(CborError):
        decode_strict(bytes.fromhex(hex_.replace(" ", "")))


def test_strict_reader_accepts_what_cbor2_writes_for_headers() -> None:
    value = {1: -19, 4: b"\x01" * 8, 16: "application/statuslist+cwt", -1: [1, "x", None, True]}
    assert decode_strict(cbor2.dumps(value)) == value


@settings(max_examples=300, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.binary(max_size=40)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.integers(-100, 100) | st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
))
def test_strict_reader_round_trips_cbor2_output(value: object) -> None:
    try:
        decoded = decode_strict(cbor2.dumps(value))
    except CborError as exc:
        assert "deeply" in exc.message  # only the depth limit may refuse valid data
        return
    assert decoded == value


@settings(deadline=None)
@given(st.binary(max_size=64))
def test_strict_reader_never_crashes(data: bytes) -> None:
    with contextlib.suppress(CborError):
        decode_strict(data, allow_tag=True)


@settings(deadline=None)
@given(st.binary(max_size=200))
def test_decode_sign1_never_crashes(data: bytes) -> None:
    with contextlib.suppress(CoseError):
        decode_sign1(data)
