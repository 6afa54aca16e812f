"""The verification fast paths (PERFORMANCE.md) change speed only: each is compared with
the general code it short-cuts, on valid input and on every one-byte mutation, and the
per-key / per-issuer caches are shown not to carry trust from one trust store to another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import cbor2
import pytest
from att_support import NOW, TS, World, canary_attested, jpeg_thumbnail, make_world

from onboarding.attestation import (
    ALG_ED25519,
    ALG_ES256,
    Attestation,
    IssuerKey,
    IssuerState,
    KeyState,
    TrustStore,
    decode_claims,
    decode_sign1,
    generate_private_key,
    sign1,
    verify,
    verify_sign1,
)
from onboarding.attestation import claims as claims_module
from onboarding.attestation import cose as cose_module
from onboarding.attestation.errors import AttestationError, CoseError

VARIANTS: list[dict[str, Any]] = [
    {},
    {"names": ("Ana", "Ana María López"), "dob": "1990-02", "nationality": None,
     "languages": None, "evidence": ()},
    {"dob": "1985", "dob_approximate": True, "thumbnail": jpeg_thumbnail(),
     "languages": ("es", "am-ET", "fr"), "evidence": tuple(range(1, 15)), "references": 40,
     "assurance": 2, "referee_session": 2},
]


def _payload(**overrides: Any) -> bytes:
    return Attestation(iss="ngo-a", iat=TS, nbf=TS, exp=TS + 86400, cti=b"\x01" * 16,
                       status_idx=70000, status_uri="https://st.example.org/a/1",
                       attested=canary_attested(**overrides)).encode()


def _general_claims(payload: bytes) -> Attestation:
    """decode_claims as it was before the fast path: cbor2 + from_cbor_map."""
    original = claims_module._decode_regular

    def irregular(_: bytes) -> Attestation:
        raise claims_module._Irregular

    claims_module._decode_regular = irregular
    try:
        return decode_claims(payload)
    finally:
        claims_module._decode_regular = original


def _outcome(fn: Callable[[bytes], object], data: bytes) -> object:
    try:
        return fn(data)
    except AttestationError as exc:
        return ("error", type(exc).__name__, exc.code, exc.message)


def _mutations(data: bytes) -> list[bytes]:
    out = []
    for i in range(len(data)):
        for value in {0x00, 0x01, 0x17, 0x18, 0x40, 0x60, 0xA0, 0xF5, 0xFF, data[i] ^ 0x01}:
            if value != data[i]:
                out.append(data[:i] + bytes((value,)) + data[i + 1 :])
    out.extend(data[:n] for n in range(1, len(data)))  # every truncation (struct reads too)
    out.append(data + b"\x00")
    return out


@pytest.mark.parametrize("overrides", VARIANTS)
def test_regular_claims_reader_takes_the_canonical_layout(overrides: dict[str, Any]) -> None:
    payload = _payload(**overrides)
    fast = claims_module._decode_regular(payload)  # raises if it would fall back
    assert fast == _general_claims(payload) == decode_claims(payload)
    assert fast.attested == canary_attested(**overrides)


@pytest.mark.parametrize("overrides", VARIANTS)
def test_claims_fast_path_agrees_with_general_path_on_every_mutation(
    overrides: dict[str, Any],
) -> None:
    for mutated in _mutations(_payload(**overrides)):
        assert _outcome(decode_claims, mutated) == _outcome(_general_claims, mutated), (
            mutated.hex())


def test_claims_fast_path_never_accepts_duplicate_or_reordered_keys() -> None:
    raw = cbor2.loads(_payload())
    reordered = cbor2.dumps(dict(reversed(list(raw.items()))))
    with pytest.raises(claims_module._Irregular):
        claims_module._decode_regular(reordered)
    assert decode_claims(reordered) == decode_claims(_payload())  # general path still reads it
    attested = cbor2.dumps(raw[-65537], canonical=True)
    # attested map claiming one entry more, repeating key 9 at the end
    dup = bytes((attested[0] + 1,)) + attested[1:] + b"\x09\x01"
    payload = _payload()
    forged = payload[: len(payload) - len(attested)] + dup
    with pytest.raises(claims_module._Irregular):
        claims_module._decode_regular(forged)


def _general_sign1(data: bytes) -> object:
    original = cose_module._decode_common
    cose_module._decode_common = lambda _: None
    try:
        return decode_sign1(data)
    finally:
        cose_module._decode_common = original


@pytest.mark.parametrize("alg", [ALG_ED25519, ALG_ES256])
@pytest.mark.parametrize("payload_size", [0, 23, 24, 255, 256, 300])
def test_cose_fast_path_agrees_with_general_parser(alg: int, payload_size: int) -> None:
    key = generate_private_key(alg)
    cose = sign1(bytes(range(256))[:payload_size] + b"\x00" * max(0, payload_size - 256),
                 key, alg=alg, kid=b"12345678")
    assert decode_sign1(cose) == _general_sign1(cose)
    verify_sign1(decode_sign1(cose), key.public_key(), algorithms={alg})
    if payload_size == 300:
        assert cose_module._decode_common(cose) is not None  # the fast path was taken
    for mutated in _mutations(cose):
        assert _outcome(decode_sign1, mutated) == _outcome(_general_sign1, mutated), (
            mutated.hex())


@pytest.mark.parametrize("payload_size", [0, 1, 23, 24, 255, 256, 70000])
def test_cached_sig_structure_prefix_matches_sig_structure(payload_size: int) -> None:
    key = generate_private_key(ALG_ED25519)
    payload = b"\x07" * payload_size
    msg = decode_sign1(sign1(payload, key, alg=ALG_ED25519, kid=b"k"))
    verify_sign1(msg, key.public_key(), algorithms={ALG_ED25519})
    verify_sign1(msg, key.public_key(), algorithms={ALG_ED25519})  # cached prefix
    with pytest.raises(CoseError):
        verify_sign1(msg._replace(payload=payload + b"\x00"), key.public_key(),
                     algorithms={ALG_ED25519})


def _store(world: World, *, key_state: KeyState = KeyState.ACTIVE,
           issuer_state: IssuerState = IssuerState.ACTIVE, display_name: str | None = None,
           drop_key: bool = False) -> TrustStore:
    issuer = world.issuers["ngo-a"]
    key = issuer.keys[0]
    if key_state != KeyState.ACTIVE or drop_key:
        new_key = IssuerKey.from_public_key(key.public_key, state=key_state,
                                            revoked_at=TS - 1 if key_state == KeyState.REVOKED
                                            else None)
        keys = issuer.keys[1:] if drop_key else (new_key, *issuer.keys[1:])
        issuer = replace(issuer, keys=keys)
    issuer = replace(issuer, state=issuer_state,
                     display_name=display_name or issuer.display_name)
    return TrustStore([issuer, world.issuers["ngo-b"]], valid_until=TS + 86400)


def test_per_key_and_per_issuer_caches_do_not_carry_trust_between_stores() -> None:
    world = make_world()
    text = world.issue("a")

    def check(trust: TrustStore) -> tuple[str, str]:
        result = verify(text, trust=trust, status=None, at=NOW)
        return result.result, result.code

    active = _store(world)
    assert check(active) == ("valid", "valid")
    # the same kid, now revoked (compromise): the cached Sig_structure prefix and issuer
    # details must not make it valid
    assert check(_store(world, key_state=KeyState.REVOKED)) == ("invalid", "key_revoked")
    # rotated out of the list
    assert check(_store(world, drop_key=True)) == ("untrusted_issuer", "kid_unknown")
    # issuer suspended, then renamed: the result shows the current trust-list entry
    suspended = verify(text, trust=_store(world, issuer_state=IssuerState.SUSPENDED),
                       status=None, at=NOW)
    assert suspended.result == "untrusted_issuer"
    assert suspended.issuer is not None and suspended.issuer.accreditation == "suspended"
    renamed = verify(text, trust=_store(world, display_name="Renamed A"), status=None, at=NOW)
    assert renamed.valid and renamed.issuer is not None
    assert renamed.issuer.display_name == "Renamed A"
    # and the first store still says valid, with its own details
    result = verify(text, trust=active, status=None, at=NOW)
    assert result.valid and result.issuer is not None
    assert result.issuer.display_name == "Community Services A"
    assert result.issuer.accreditation == "active"


def test_issuer_details_report_accreditation_expiry_at_each_call() -> None:
    world = make_world(accredited_until=TS + 10)
    text = world.issue("a")
    trust = world.trust
    before = verify(text, trust=trust, status=None, at=NOW)
    assert before.issuer is not None and before.issuer.accreditation == "active"
    later = NOW.replace(second=NOW.second + 20)
    after = verify(text, trust=trust, status=None, at=later)
    assert after.result == "untrusted_issuer" and after.code == "accreditation_expired"
    assert after.issuer is not None and after.issuer.accreditation == "expired"
    again = verify(text, trust=trust, status=None, at=NOW)
    assert again.valid and again.issuer is not None and again.issuer.accreditation == "active"
