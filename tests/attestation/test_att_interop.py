"""Cross-checks with python-cwt, an independent COSE/CWT implementation.

python-cwt checks exp/nbf against the real clock, so the tokens here are issued "now".
"""

from __future__ import annotations

import time
import zlib
from datetime import UTC, datetime

import cwt
import pytest
from att_support import STATUS_URI, canary_attested, jpeg_thumbnail
from cryptography.hazmat.primitives import serialization
from cwt import COSEKey

from onboarding.attestation import (
    ALG_ED25519,
    ALG_ES256,
    Attestation,
    Issuer,
    IssuerKey,
    StatusList,
    TrustList,
    TrustStore,
    b45decode,
    decode_claims,
    encode_envelope,
    generate_private_key,
    issue,
    kid_for,
    sign_status_list,
    sign_trust_list,
    verify,
)
from onboarding.attestation.keys import PrivateKey, dump_public_key_pem


def _cwt_key(key: PrivateKey, alg: int) -> COSEKey:
    return COSEKey.from_pem(dump_public_key_pem(key), alg=alg, kid=kid_for(key))


@pytest.mark.parametrize("alg", [ALG_ED25519, ALG_ES256])
def test_python_cwt_verifies_our_attestation(alg: int) -> None:
    now = int(time.time())
    key = generate_private_key(alg)
    text = issue(canary_attested(thumbnail=jpeg_thumbnail()), issuer_id="ngo-a",
                 signing_key=key, status_idx=99, status_uri=STATUS_URI, iat=now, exp=now + 3600)
    cose = zlib.decompress(b45decode(text[4:]))
    claims = cwt.decode(cose, _cwt_key(key, alg))
    ours = decode_claims(cwt.COSE.new().decode(cose, _cwt_key(key, alg)))
    assert claims[1] == "ngo-a" and claims[65535]["status_list"]["idx"] == 99
    assert claims[-65537][1] == list(ours.attested.names)
    assert claims[-65537][5] == ours.attested.thumbnail
    tampered = bytearray(cose)
    tampered[-10] ^= 1
    with pytest.raises(cwt.VerifyError):
        cwt.decode(bytes(tampered), _cwt_key(key, alg))
    impostor = COSEKey.from_pem(dump_public_key_pem(generate_private_key(alg)), alg=alg,
                                kid=kid_for(key))  # right kid, wrong key
    with pytest.raises(cwt.VerifyError):
        cwt.decode(cose, impostor)


def test_python_cwt_verifies_our_trust_list() -> None:
    now = int(time.time())
    governance, issuer_key = generate_private_key(), generate_private_key(ALG_ES256)
    trust_list = TrustList(version=3, iat=now, exp=now + 86400, issuers=(
        Issuer(id="ngo-a", display_name="A", jurisdiction="ES", accredited_until=now + 86400,
               keys=(IssuerKey.from_public_key(issuer_key.public_key()),)),))
    token = sign_trust_list(trust_list, governance)
    claims = cwt.decode(token, _cwt_key(governance, ALG_ED25519))
    body = claims[-65538]
    assert body["version"] == 3 and body["issuers"][0]["id"] == "ngo-a"
    assert body["issuers"][0]["keys"][0]["kid"] == kid_for(issuer_key)
    assert TrustList.from_cbor_map(claims) == trust_list


def test_python_cwt_verifies_our_status_list() -> None:
    now = int(time.time())
    key = generate_private_key()
    lst = StatusList()
    lst.set(1234, 1)
    token = sign_status_list(lst, uri=STATUS_URI, issuer_id="ngo-a", signing_key=key,
                             kid=kid_for(key), alg=ALG_ED25519, iat=now, exp=now + 600, ttl=300)
    claims = cwt.decode(token, _cwt_key(key, ALG_ED25519))
    assert claims[2] == STATUS_URI and claims[65534] == 300
    raw = zlib.decompress(claims[65533]["lst"])
    assert (raw[1234 * 2 // 8] >> (1234 * 2 % 8)) & 0b11 == 1  # LSB-first, 2 bits


def test_attestation_signed_by_python_cwt_verifies_with_ours() -> None:
    now = int(time.time())
    key = generate_private_key()
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    signer = COSEKey.from_pem(private_pem, alg=ALG_ED25519, kid=kid_for(key))
    claims = Attestation(iss="ngo-a", iat=now, nbf=now, exp=now + 3600, cti=b"\x07" * 16,
                         status_idx=3, status_uri=STATUS_URI, attested=canary_attested())
    token = cwt.encode(claims.to_cbor_map(), signer)  # python-cwt puts kid unprotected
    trust = TrustStore([Issuer(id="ngo-a", display_name="A", jurisdiction="ES",
                               accredited_until=now + 86400,
                               keys=(IssuerKey.from_public_key(key.public_key()),))])
    result = verify(encode_envelope(token), trust=trust, status=None, at=datetime.now(UTC))
    assert result.result == "valid"
    assert result.claims == claims
