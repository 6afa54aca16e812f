"""Trust list: signing, pinned verification, rollback protection, JSON/JWKS, rollover."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta

import cbor2
import pytest
from att_support import DAY, NOW, TS, make_world
from hypothesis import given, settings
from hypothesis import strategies as st

from onboarding.attestation import (
    Issuer,
    IssuerKey,
    KeyState,
    TrustList,
    TrustStore,
    decode_sign1,
    follow_rollovers,
    generate_private_key,
    kid_for,
    sign1,
    sign_rollover,
    sign_trust_list,
    verify,
    verify_rollover,
    verify_trust_list,
)
from onboarding.attestation.errors import KeyMaterialError, TrustListError
from onboarding.attestation.keys import spki_der
from onboarding.attestation.trustlist import TRUST_LIST_TYP


def test_sign_and_verify_with_pinned_governance_key() -> None:
    world = make_world()
    verified = verify_trust_list(world.trust_token, world.governance.public_key(), at=NOW)
    assert verified == world.trust_list
    msg = decode_sign1(world.trust_token)
    assert msg.protected[16] == TRUST_LIST_TYP and msg.kid == kid_for(world.governance)


def test_wrong_governance_key() -> None:
    world = make_world()
    with pytest.raises(TrustListError) as err:
        verify_trust_list(world.trust_token, generate_private_key().public_key(), at=NOW)
    assert err.value.code == "trust_list_signature"


def test_several_anchors_during_rollover() -> None:
    world = make_world()
    anchors = [generate_private_key().public_key(), world.governance.public_key()]
    assert verify_trust_list(world.trust_token, anchors, at=NOW).version == 7


def test_tampered_trust_list_rejected() -> None:
    world = make_world()
    data = bytearray(world.trust_token)
    data[len(data) // 2] ^= 0x01
    with pytest.raises(TrustListError):
        verify_trust_list(bytes(data), world.governance.public_key(), at=NOW)


def test_expired_and_future_trust_lists_rejected() -> None:
    world = make_world()
    with pytest.raises(TrustListError) as err:
        verify_trust_list(world.trust_token, world.governance.public_key(),
                          at=NOW + timedelta(days=30))
    assert err.value.code == "trust_list_expired"
    with pytest.raises(TrustListError) as err:
        verify_trust_list(world.trust_token, world.governance.public_key(),
                          at=NOW - timedelta(days=2))
    assert err.value.code == "trust_list_not_yet_valid"


def test_version_rollback_rejected() -> None:
    world = make_world()
    key = world.governance.public_key()
    assert verify_trust_list(world.trust_token, key, at=NOW, previous_version=7).version == 7
    with pytest.raises(TrustListError) as err:
        verify_trust_list(world.trust_token, key, at=NOW, previous_version=8)
    assert err.value.code == "trust_list_rollback"


def test_other_token_types_are_not_trust_lists() -> None:
    """A governance-signed payload without the trust-list typ (e.g. a rollover
    announcement, or anything else it signs) is refused: explicit typing."""
    world = make_world()
    payload = cbor2.dumps(world.trust_list.to_cbor_map())
    untyped = sign1(payload, world.governance, alg=-19, kid=kid_for(world.governance))
    with pytest.raises(TrustListError) as err:
        verify_trust_list(untyped, world.governance.public_key(), at=NOW)
    assert err.value.code == "trust_list_wrong_type"


def test_malformed_signed_content_rejected() -> None:
    gov = generate_private_key()
    for payload in (b"\xff", cbor2.dumps([1]), cbor2.dumps({1: "g", 4: TS + 9, 6: TS}),
                    cbor2.dumps({1: "g", 4: TS + 9, 6: TS, -65538: {"version": 1,
                                                                     "issuers": [{"id": "x"}]}})):
        token = sign1(payload, gov, alg=-19, kid=kid_for(gov), protected_extra={16: TRUST_LIST_TYP})
        with pytest.raises(TrustListError):
            verify_trust_list(token, gov.public_key(), at=NOW)


def test_json_for_people() -> None:
    out = make_world().trust_list.to_json()
    json.dumps(out)
    assert out["version"] == 7 and out["expires_at"] == "2026-03-31T12:00:00Z"
    a = out["issuers"][0]
    assert a["display_name"] == "Community Services A"
    assert [k["state"] for k in a["keys"]] == ["active", "retired"]
    assert a["keys"][1]["retired_at"] == "2026-02-19T12:00:00Z"
    assert a["keys"][0]["jwk"]["kty"] == "OKP"


def test_jwks_export_and_pinned_store() -> None:
    world = make_world(key_a_state=KeyState.REVOKED)
    jwks = world.trust_list.to_jwks(at=NOW)
    kids = {k["kid"] for k in jwks["keys"]}
    assert len(jwks["keys"]) == 3  # revoked key of ngo-a left out
    for jwk in jwks["keys"]:
        assert jwk["use"] == "sig" and jwk["iss"] in {"ngo-a", "ngo-b"}
        assert jwk["alg"] in {"Ed25519", "ES256"}
    store = TrustStore.from_jwks(json.dumps(jwks))
    assert store.source == "jwks"
    text = world.issue("b")
    assert verify(text, trust=store, status=None, at=NOW).result == "valid"
    text_es = world.issue("es")
    assert verify(text_es, trust=store, status=None, at=NOW).result == "valid"
    old = world.issue("a_old", iat=TS - 20 * DAY)
    assert verify(old, trust=store, status=None, at=NOW).result == "valid"
    too_new = world.issue("a_old", iat=TS - 5 * DAY)  # after its retirement
    result = verify(too_new, trust=store, status=None, at=NOW)
    assert (result.result, result.code) == ("invalid", "key_retired")
    assert all(isinstance(k, str) for k in kids)


def test_jwks_without_issuer_needs_issuer_id() -> None:
    key = generate_private_key()
    from onboarding.attestation import public_key_to_jwk

    jwks = {"keys": [public_key_to_jwk(key)]}
    with pytest.raises(KeyMaterialError):
        TrustStore.from_jwks(jwks)
    store = TrustStore.from_jwks(jwks, issuer_id="ngo-x", display_name="X")
    assert store.candidates(kid_for(key))[0][0].id == "ngo-x"
    with pytest.raises(KeyMaterialError):
        TrustStore.from_jwks({"keys": [{**public_key_to_jwk(key), "alg": "ES256"}]},
                             issuer_id="ngo-x")


def test_accreditation_expired_issuer_left_out_of_jwks() -> None:
    world = make_world(accredited_until=TS - 1)
    assert {k["iss"] for k in world.trust_list.to_jwks(at=NOW)["keys"]} == {"ngo-b"}


def test_consistency_rules() -> None:
    key = generate_private_key().public_key()
    with pytest.raises(TrustListError):
        IssuerKey.from_public_key(key, state=KeyState.RETIRED)  # retired needs retired_at
    with pytest.raises(TrustListError):
        IssuerKey(kid=b"k", alg=-7, public_key=key)  # alg does not fit key
    entry = IssuerKey.from_public_key(key)
    with pytest.raises(TrustListError):
        Issuer(id="a b", display_name="x", jurisdiction="ES", accredited_until=1)
    with pytest.raises(TrustListError):
        Issuer(id="a", display_name="x", jurisdiction="ES", accredited_until=1,
               keys=(entry, entry))
    issuer = Issuer(id="a", display_name="x", jurisdiction="ES", accredited_until=TS)
    with pytest.raises(TrustListError):
        TrustList(version=1, iat=TS, exp=TS + 1, issuers=(issuer, issuer))
    with pytest.raises(TrustListError):
        TrustList(version=1, iat=TS, exp=TS, issuers=())


def test_keys_sharing_a_kid_are_all_candidates() -> None:
    k1, k2 = generate_private_key(), generate_private_key()
    shared = b"samekid!"
    store = TrustStore([
        Issuer(id="ngo-1", display_name="One", jurisdiction="ES", accredited_until=TS + DAY,
               keys=(IssuerKey.from_public_key(k1.public_key(), kid=shared),)),
        Issuer(id="ngo-2", display_name="Two", jurisdiction="ES", accredited_until=TS + DAY,
               keys=(IssuerKey.from_public_key(k2.public_key(), kid=shared),)),
    ])
    assert [i.id for i, _ in store.candidates(shared)] == ["ngo-1", "ngo-2"]


# ------------------------------------------------------------------ governance rollover
def test_governance_rollover_ceremony() -> None:
    world = make_world()
    old, new = world.governance, generate_private_key()
    announcement = sign_rollover(old, new, iat=TS)
    pinned = verify_rollover(announcement, old.public_key())
    assert kid_for(pinned) == kid_for(new)
    # The next trust list is signed by the new key only; the bank now pins `pinned`.
    next_list = TrustList(version=8, iat=TS, exp=TS + 30 * DAY, issuers=world.trust_list.issuers)
    token = sign_trust_list(next_list, new)
    assert verify_trust_list(token, pinned, at=NOW, previous_version=7).version == 8
    with pytest.raises(TrustListError):
        verify_trust_list(token, old.public_key(), at=NOW)


def test_rollover_must_be_signed_by_the_pinned_key() -> None:
    old, new, attacker = generate_private_key(), generate_private_key(), generate_private_key()
    forged = sign_rollover(attacker, new, iat=TS)
    with pytest.raises(TrustListError) as err:
        verify_rollover(forged, old.public_key())
    assert err.value.code == "trust_list_signature"


def test_rollover_needs_proof_of_possession_of_the_new_key() -> None:
    """The old key alone cannot announce a key nobody holds (or someone else's key)."""
    old, new, other = generate_private_key(), generate_private_key(), generate_private_key()
    genuine = sign_rollover(old, new, iat=TS)
    payload = cbor2.loads(decode_sign1(genuine).payload)
    payload[-65539]["new_spki"] = spki_der(other)  # keep new's proof, announce another key
    swapped = sign1(cbor2.dumps(payload), old, alg=-19, kid=kid_for(old),
                    protected_extra={16: "application/vnd.onboarding.key-rollover+cwt"})
    with pytest.raises(TrustListError) as err:
        verify_rollover(swapped, old.public_key())
    assert err.value.code == "rollover_pop_invalid"


def test_a_verifier_follows_a_chain_of_rollovers_from_any_pinned_key() -> None:
    """Two planned rotations: a bank that pinned the first key, or the second, ends at the
    third; a forged announcement changes nothing; the retired keys no longer sign."""
    k1, k2, k3, attacker = (generate_private_key() for _ in range(4))
    chain = [sign_rollover(k2, k3, iat=TS + 10), sign_rollover(k1, k2, iat=TS)]  # any order
    forged = sign_rollover(attacker, generate_private_key(), iat=TS + 20)
    for pinned in (k1, k2, k3):
        in_force = follow_rollovers(pinned.public_key(), [forged, *chain])
        assert kid_for(in_force) == kid_for(k3)
    assert kid_for(follow_rollovers(k1.public_key(), [])) == kid_for(k1)
    assert kid_for(follow_rollovers(attacker.public_key(), chain)) == kid_for(attacker)
    world = make_world()
    token = sign_trust_list(world.trust_list, k2)  # a retired key signing a list
    with pytest.raises(TrustListError):
        verify_trust_list(token, follow_rollovers(k1.public_key(), chain), at=NOW)
    assert kid_for(follow_rollovers(k1.public_key(), [b"garbage", b""])) == kid_for(k1)
    # a fork (the same key announcing two different successors) is refused outright
    rival = sign_rollover(k2, attacker, iat=TS + 30)
    with pytest.raises(TrustListError) as err:
        follow_rollovers(k1.public_key(), [*chain, rival])
    assert err.value.code == "rollover_fork"


def test_trust_list_is_not_a_rollover() -> None:
    world = make_world()
    with pytest.raises(TrustListError):
        verify_rollover(world.trust_token, world.governance.public_key())


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.binary(max_size=24)
    | st.text(max_size=24) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.integers(-70_000, 70_000) | st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_governance_signed_garbage_never_escapes_as_another_exception(
        data: st.DataObject) -> None:
    world = _FUZZ_WORLD
    content = cbor2.loads(decode_sign1(world.trust_token).payload)
    body = content[-65538]
    issuer = body["issuers"][0]
    key = issuer["keys"][1]
    where = data.draw(st.sampled_from([content, body, issuer, key]))
    name = data.draw(st.sampled_from([*where.keys(), "extra", 99]))
    where[name] = data.draw(_VALUES)
    token = sign1(cbor2.dumps(content), world.governance, alg=-19,
                  kid=kid_for(world.governance), protected_extra={16: TRUST_LIST_TYP})
    with contextlib.suppress(TrustListError):
        verify_trust_list(token, world.governance.public_key(), at=NOW)


_FUZZ_WORLD = make_world()
