"""COSE WG examples (github.com/cose-wg/Examples) against our COSE_Sign1 layer.

Pass cases verify; fail cases are rejected, each for the reason the vector is about. Two
"examples" use algorithms outside this project's allowlist (Ed448, ES384): the signature
is genuinely valid (checked with ``cryptography`` directly) and our layer still refuses it,
which is the allowlist working. RFC 8392 A.3 is a signed CWT.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from att_support import vector
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from onboarding.attestation import ACCEPTED_ALGS, decode_sign1, verify_sign1
from onboarding.attestation.cose import sig_structure
from onboarding.attestation.errors import CoseError
from onboarding.attestation.keys import PublicKey

ROOT = "cose-wg-examples/"


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(jwk: dict[str, Any]) -> Any:
    if jwk["kty"] == "OKP":
        x = bytes.fromhex(jwk["x_hex"])
        okp = Ed25519PublicKey if jwk["crv"] == "Ed25519" else Ed448PublicKey
        return okp.from_public_bytes(x)
    curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[jwk["crv"]]
    x = bytes.fromhex(jwk["x_hex"]) if "x_hex" in jwk else _b64(jwk["x"])
    y = bytes.fromhex(jwk["y_hex"]) if "y_hex" in jwk else _b64(jwk["y"])
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)


def _case(name: str) -> tuple[dict[str, Any], bytes, Any, bytes]:
    case = vector(ROOT + name)
    sign0 = case["input"]["sign0"]
    aad = bytes.fromhex(sign0.get("external", ""))
    return case, bytes.fromhex(case["output"]["cbor"]), _key(sign0["key"]), aad


@pytest.mark.parametrize("name", ["sign1-tests/sign-pass-02.json", "sign1-tests/sign-pass-03.json",
                                  "ecdsa-examples/ecdsa-sig-01.json",
                                  "eddsa-examples/eddsa-sig-01.json"])
def test_pass_vectors_verify(name: str) -> None:
    case, data, key, aad = _case(name)
    msg = decode_sign1(data)
    assert msg.payload == case["input"]["plaintext"].encode()
    assert sig_structure(msg.protected_bytes, aad, msg.payload) == bytes.fromhex(
        case["intermediates"]["ToBeSign_hex"])
    verify_sign1(msg, key, algorithms=ACCEPTED_ALGS, external_aad=aad)
    assert msg.tagged == (name != "sign1-tests/sign-pass-03.json")  # pass-03: untagged


def test_pass_02_needs_its_external_aad() -> None:
    _, data, key, _ = _case("sign1-tests/sign-pass-02.json")
    with pytest.raises(CoseError) as err:
        verify_sign1(decode_sign1(data), key, algorithms=ACCEPTED_ALGS)
    assert err.value.code == "signature_invalid"


def test_pass_01_alg_only_unprotected_is_valid_cose_but_not_our_profile() -> None:
    """sign-pass-01 carries alg in the unprotected header (legal RFC 9052). We refuse it by
    default (FORMATS.md / SECURITY.md 31) and verify it only in conformance mode."""
    _, data, key, aad = _case("sign1-tests/sign-pass-01.json")
    with pytest.raises(CoseError) as err:
        decode_sign1(data)
    assert err.value.code == "alg_unprotected"
    msg = decode_sign1(data, allow_unprotected_alg=True)
    # "Redo protected": the message carries h'A0' (an empty map) where the signer used a
    # zero-length bstr; RFC 9052 §4.4 makes both mean "no protected parameters".
    assert msg.protected_bytes == b"\xa0"
    verify_sign1(msg, key, algorithms=ACCEPTED_ALGS, external_aad=aad)


@pytest.mark.parametrize(
    ("name", "stage", "code"),
    [
        ("sign1-tests/sign-fail-01.json", "decode", "cose_wrong_tag"),  # tag 998
        ("sign1-tests/sign-fail-02.json", "verify", "signature_invalid"),  # payload changed
        ("sign1-tests/sign-fail-03.json", "verify", "alg_not_allowed"),  # alg -999
        ("sign1-tests/sign-fail-04.json", "verify", "alg_not_allowed"),  # alg "unknown"
        ("sign1-tests/sign-fail-06.json", "verify", "signature_invalid"),  # protected added
        ("sign1-tests/sign-fail-07.json", "verify", "signature_invalid"),  # protected removed
    ],
)
def test_fail_vectors_rejected(name: str, stage: str, code: str) -> None:
    case, data, key, aad = _case(name)
    assert case["fail"] is True
    with pytest.raises(CoseError) as err:
        msg = decode_sign1(data)
        assert stage == "verify", "decoding should have failed"
        verify_sign1(msg, key, algorithms=ACCEPTED_ALGS, external_aad=aad)
    assert err.value.code == code


def _verify_directly(key: PublicKey | Ed448PublicKey | Any, tbs: bytes, sig: bytes) -> None:
    if isinstance(key, Ed448PublicKey):
        key.verify(sig, tbs)
    else:
        half = len(sig) // 2
        der = encode_dss_signature(int.from_bytes(sig[:half], "big"),
                                   int.from_bytes(sig[half:], "big"))
        key.verify(der, tbs, ec.ECDSA(hashes.SHA384()))


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("eddsa-examples/eddsa-sig-02.json", "alg_key_mismatch"),  # -8 with an Ed448 key
        ("ecdsa-examples/ecdsa-sig-02.json", "alg_not_allowed"),  # ES384
    ],
)
def test_valid_signatures_outside_the_allowlist_are_refused(name: str, code: str) -> None:
    _, data, key, aad = _case(name)
    msg = decode_sign1(data)
    _verify_directly(key, sig_structure(msg.protected_bytes, aad, msg.payload), msg.signature)
    with pytest.raises(CoseError) as err:
        verify_sign1(msg, key, algorithms=ACCEPTED_ALGS)
    assert err.value.code == code


def test_ecdsa_vector_rejected_when_caller_allows_only_eddsa() -> None:
    """The caller fixes the algorithms: an ES256 token cannot widen an EdDSA-only set."""
    _, data, key, _ = _case("ecdsa-examples/ecdsa-sig-01.json")
    with pytest.raises(CoseError) as err:
        verify_sign1(decode_sign1(data), key, algorithms={-19, -8})
    assert err.value.code == "alg_not_allowed"


def test_eddsa_vector_with_wrong_key_type() -> None:
    _, data, _, _ = _case("eddsa-examples/eddsa-sig-01.json")
    _, _, p256, _ = _case("ecdsa-examples/ecdsa-sig-01.json")
    with pytest.raises(CoseError) as err:
        verify_sign1(decode_sign1(data), p256, algorithms=ACCEPTED_ALGS)
    assert err.value.code == "alg_key_mismatch"


def test_rfc8392_a3_signed_cwt() -> None:
    import cbor2

    case, data, key, _ = _case("CWT/A_3.json")
    msg = decode_sign1(data)
    assert msg.alg == -7 and msg.kid is None and msg.tagged
    verify_sign1(msg, key, algorithms=ACCEPTED_ALGS)
    assert msg.payload == bytes.fromhex(case["input"]["plaintext_hex"])
    claims = cbor2.loads(msg.payload)
    assert claims[1] == "coap://as.example.com"
    assert claims[2] == "erikw"
    assert claims[4] == 1444064944 and claims[7] == bytes.fromhex("0b71")
    tampered = bytearray(data)
    tampered[-1] ^= 1
    with pytest.raises(CoseError):
        verify_sign1(decode_sign1(bytes(tampered)), key, algorithms=ACCEPTED_ALGS)
