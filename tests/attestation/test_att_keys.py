"""Keys: kid rule, encryption at rest (SECURITY.md check 30), PEM/JWK import and export."""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from onboarding.attestation import (
    ALG_ED25519,
    ALG_ES256,
    dump_private_key_pem,
    dump_public_key_pem,
    generate_private_key,
    kid_for,
    kid_to_text,
    load_private_key_pem,
    load_public_key,
    public_key_from_jwk,
    public_key_to_jwk,
    unwrap_private_key,
    wrap_private_key,
)
from onboarding.attestation.errors import KeyMaterialError
from onboarding.attestation.keys import b64url_decode, default_alg, spki_der


@pytest.mark.parametrize("alg", [ALG_ED25519, ALG_ES256])
def test_kid_is_first_8_bytes_of_sha256_of_spki(alg: int) -> None:
    key = generate_private_key(alg)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    assert kid_for(key) == kid_for(key.public_key()) == hashlib.sha256(der).digest()[:8]
    assert spki_der(key) == der
    assert default_alg(key) == alg


def test_generate_refuses_other_algorithms() -> None:
    with pytest.raises(KeyMaterialError):
        generate_private_key(-35)


def test_p384_key_is_refused() -> None:
    with pytest.raises(KeyMaterialError):
        spki_der(ec.generate_private_key(ec.SECP384R1()))


@pytest.mark.parametrize("alg", [ALG_ED25519, ALG_ES256])
def test_pkcs8_pem_encrypted_round_trip(alg: int) -> None:
    key = generate_private_key(alg)
    pem = dump_private_key_pem(key, b"correct horse battery staple")
    assert b"ENCRYPTED PRIVATE KEY" in pem
    loaded = load_private_key_pem(pem, b"correct horse battery staple")
    assert kid_for(loaded) == kid_for(key)
    with pytest.raises(KeyMaterialError):
        load_private_key_pem(pem, b"wrong passphrase")


def test_unencrypted_pem_is_refused() -> None:
    key = generate_private_key()
    plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    with pytest.raises(KeyMaterialError) as err:
        load_private_key_pem(plain, b"any")
    assert err.value.code == "key_not_encrypted"
    with pytest.raises(KeyMaterialError):
        dump_private_key_pem(key, b"")


@pytest.mark.parametrize("alg", [ALG_ED25519, ALG_ES256])
def test_kek_wrap_round_trip_and_binding(alg: int) -> None:
    key, kek = generate_private_key(alg), secrets.token_bytes(32)
    blob = wrap_private_key(key, kek, context=b"issuer:ngo-a|kid:1")
    assert blob.startswith(b"OBK1")
    raw = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    assert raw not in blob
    assert kid_for(unwrap_private_key(blob, kek, context=b"issuer:ngo-a|kid:1")) == kid_for(key)
    for bad_kek, context in ((secrets.token_bytes(32), b"issuer:ngo-a|kid:1"),
                             (kek, b"issuer:ngo-b|kid:1"), (kek, b"")):
        with pytest.raises(KeyMaterialError) as err:
            unwrap_private_key(blob, bad_kek, context=context)
        assert err.value.code == "key_unwrap_failed"
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(KeyMaterialError):
        unwrap_private_key(bytes(tampered), kek, context=b"issuer:ngo-a|kid:1")
    assert wrap_private_key(key, kek) != wrap_private_key(key, kek)  # fresh nonce


def test_kek_must_be_32_bytes() -> None:
    with pytest.raises(KeyMaterialError):
        wrap_private_key(generate_private_key(), b"short")


@pytest.mark.parametrize("alg", [ALG_ED25519, ALG_ES256])
def test_public_key_formats(alg: int) -> None:
    key = generate_private_key(alg)
    kid = kid_for(key)
    pem = dump_public_key_pem(key)
    jwk = public_key_to_jwk(key)
    assert jwk["kid"] == kid_to_text(kid) and "=" not in jwk["kid"]
    if alg == ALG_ED25519:
        assert set(jwk) == {"kty", "crv", "x", "kid"}
        assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    else:
        assert set(jwk) == {"kty", "crv", "x", "y", "kid"}
        assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
    for source in (pem, pem.decode(), spki_der(key), jwk, json.dumps(jwk)):
        assert kid_for(load_public_key(source)) == kid  # type: ignore[arg-type]


def test_jwk_refuses_private_and_unknown() -> None:
    key = generate_private_key()
    jwk = dict(public_key_to_jwk(key))
    with pytest.raises(KeyMaterialError):
        public_key_from_jwk({**jwk, "d": "AAAA"})
    with pytest.raises(KeyMaterialError):
        public_key_from_jwk({**jwk, "crv": "Ed448"})
    with pytest.raises(KeyMaterialError):
        public_key_from_jwk({**jwk, "x": jwk["x"] + "="})
    with pytest.raises(KeyMaterialError):
        public_key_from_jwk({**jwk, "x": jwk["x"][:-2]})
    bad_point = public_key_to_jwk(generate_private_key(ALG_ES256))
    with pytest.raises(KeyMaterialError):
        public_key_from_jwk({**bad_point, "y": bad_point["x"]})


@pytest.mark.parametrize("text", ["", "a", "ab=", "a+b/", "a b", "AB", "AAC"])
def test_b64url_is_strict(text: str) -> None:
    # "AB" and "AAC" have non-zero unused bits: not the canonical encoding of any bytes.
    with pytest.raises(KeyMaterialError):
        b64url_decode(text)


def test_garbage_public_key() -> None:
    for data in (b"", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", b"{",
                 b"[1]", b"\x30\x00"):
        with pytest.raises(KeyMaterialError):
            load_public_key(data)
