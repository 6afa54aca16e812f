"""IETF Token Status List (CWT form): bit packing, tokens, random indexes, the store."""

from __future__ import annotations

import itertools
import statistics
import zlib

import cbor2
import pytest
from att_support import DAY, NOW, STATUS_URI, TS, make_world
from hypothesis import given, settings
from hypothesis import strategies as st

from onboarding.attestation import (
    DEFAULT_SIZE,
    STATUS_INVALID,
    STATUS_SUSPENDED,
    STATUS_VALID,
    StatusList,
    StatusStore,
    allocate_index,
    decode_sign1,
    generate_private_key,
    kid_for,
    sign1,
    sign_status_list,
    verify,
    verify_status_list,
)
from onboarding.attestation.errors import ClaimsError, StatusListError, StatusListFullError
from onboarding.attestation.statuslist import STATUS_LIST_TYP


def test_draft_example_1_bit() -> None:
    """draft-ietf-oauth-status-list, "Status List": 16 one-bit statuses -> 0xB9 0xA3."""
    statuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    lst = StatusList(16, bits=1)
    for i, value in enumerate(statuses):
        lst.set(i, value)
    assert lst.to_bytes() == bytes([0xB9, 0xA3])


def test_draft_example_2_bits() -> None:
    """The draft's 2-bit example: byte_array = [0xc9, 0x44, 0xf9] and its CBOR encoding."""
    statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    lst = StatusList(12, bits=2)
    for i, value in enumerate(statuses):
        lst.set(i, value)
    assert lst.to_bytes() == bytes([0xC9, 0x44, 0xF9])
    draft_cbor = bytes.fromhex("a2646269747302636c73744b78da3be9f2130003df0207")
    decoded = cbor2.loads(draft_cbor)
    parsed = StatusList.from_compressed(decoded["lst"], decoded["bits"])
    assert [parsed.get(i) for i in range(12)] == statuses
    # Same zlib bytes as the draft (level 9); the draft writes "bits" first, while our tokens
    # use RFC 8949 deterministic order ("lst" sorts first), which decoders must not care about.
    assert cbor2.dumps(lst.to_cbor_map()) == draft_cbor


def test_set_get_and_isolation_of_neighbours() -> None:
    lst = StatusList(64)
    lst.set(5, STATUS_SUSPENDED)
    lst.set(6, STATUS_INVALID)
    lst.set(5, STATUS_VALID)
    assert [lst.get(i) for i in range(4, 8)] == [0, 0, 1, 0]
    for bad in (-1, 64, "1"):
        with pytest.raises(StatusListError):
            lst.get(bad)  # type: ignore[arg-type]
    with pytest.raises(StatusListError):
        lst.set(0, 4)


def test_default_size_and_compression() -> None:
    lst = StatusList()
    assert lst.size == DEFAULT_SIZE == 131_072 and len(lst.to_bytes()) == 32_768
    assert len(lst.compressed()) < 100  # all-zero lists are tiny
    assert zlib.decompress(lst.compressed()) == lst.to_bytes()


def test_decompression_is_bounded() -> None:
    bomb = zlib.compress(bytes(20 * 1024 * 1024), 9)
    with pytest.raises(StatusListError):
        StatusList.from_compressed(bomb, 2)
    with pytest.raises(StatusListError):
        StatusList.from_compressed(zlib.compress(b"\x00" * 8) + b"x", 2)
    with pytest.raises(StatusListError):
        StatusList.from_compressed(b"not zlib", 2)


# ------------------------------------------------------------------ random indexes
def test_indexes_are_random_without_replacement() -> None:
    used: set[int] = set()
    drawn = []
    for _ in range(2000):
        idx = allocate_index(DEFAULT_SIZE, used)
        assert idx not in used and 0 <= idx < DEFAULT_SIZE
        used.add(idx)
        drawn.append(idx)
    gaps = [abs(b - a) for a, b in itertools.pairwise(drawn)]
    # Sequential or clustered allocation would give tiny gaps; uniform draws give a mean gap
    # of about size/3 (~43,690). Either way no pattern should predict the next index.
    assert statistics.mean(gaps) > DEFAULT_SIZE / 5
    assert sum(1 for g in gaps if g == 1) < 5
    assert sorted(drawn) != drawn
    # Spread across the whole list: every eighth of it gets a fair share.
    buckets = [0] * 8
    for idx in drawn:
        buckets[idx * 8 // DEFAULT_SIZE] += 1
    assert min(buckets) > 2000 / 8 * 0.6


def test_allocation_fills_up_and_then_refuses() -> None:
    used: set[int] = set()
    for _ in range(72):  # 90 % of 80
        used.add(allocate_index(80, used))
    assert len(used) == 72
    with pytest.raises(StatusListFullError):
        allocate_index(80, used)


# ------------------------------------------------------------------ tokens
def test_token_structure_follows_the_draft() -> None:
    world = make_world()
    token = world.status_token(changes={9: STATUS_INVALID})
    msg = decode_sign1(token)
    assert msg.tagged and msg.protected[16] == "application/statuslist+cwt"
    claims = cbor2.loads(msg.payload)
    assert set(claims) == {1, 2, 4, 6, 65533, 65534}
    assert claims[2] == STATUS_URI and claims[65534] == 3600
    assert set(claims[65533]) == {"bits", "lst"} and claims[65533]["bits"] == 2
    verified = verify_status_list(token, world.trust, expected_uri=STATUS_URI)
    assert verified.issuer_id == "ngo-a" and verified.status(9) == STATUS_INVALID
    assert verified.status(10) == STATUS_VALID
    assert verified.to_json()["size"] == DEFAULT_SIZE


def test_es256_status_list() -> None:
    world = make_world()
    verified = verify_status_list(world.status_token("es"), world.trust)
    assert verified.issuer_id == "ngo-b"


def test_untrusted_signer_and_wrong_uri() -> None:
    world = make_world()
    stranger = generate_private_key()
    token = sign_status_list(StatusList(), uri=STATUS_URI, issuer_id="ngo-a",
                             signing_key=stranger, kid=kid_for(stranger), alg=-19, iat=TS,
                             exp=TS + DAY, ttl=60)
    with pytest.raises(StatusListError) as err:
        verify_status_list(token, world.trust)
    assert err.value.code == "status_list_signature"
    with pytest.raises(StatusListError) as err:
        verify_status_list(world.status_token(), world.trust, expected_uri="https://other/1")
    assert err.value.code == "status_list_uri"


def test_issuer_claim_must_match_signing_key() -> None:
    world = make_world()
    key = world.keys["a"]
    token = sign_status_list(StatusList(), uri=STATUS_URI, issuer_id="ngo-b", signing_key=key,
                             kid=kid_for(key), alg=-19, iat=TS, exp=TS + DAY, ttl=60)
    with pytest.raises(StatusListError) as err:
        verify_status_list(token, world.trust)
    assert err.value.code == "status_list_issuer"


def test_revoked_or_retired_key_cannot_publish() -> None:
    from onboarding.attestation import KeyState

    world = make_world(key_a_state=KeyState.REVOKED)
    with pytest.raises(StatusListError) as err:
        verify_status_list(world.status_token("a"), world.trust)
    assert err.value.code == "status_list_key_revoked"
    with pytest.raises(StatusListError) as err:
        verify_status_list(world.status_token("a_old"), world.trust)  # retired 10 days ago
    assert err.value.code == "status_list_key_retired"


def test_typ_header_is_required() -> None:
    world = make_world()
    key = world.keys["a"]
    payload = cbor2.dumps({2: STATUS_URI, 6: TS, 65533: StatusList().to_cbor_map()})
    untyped = sign1(payload, key, alg=-19, kid=kid_for(key))
    with pytest.raises(StatusListError) as err:
        verify_status_list(untyped, world.trust)
    assert err.value.code == "status_list_wrong_type"
    typed = sign1(payload, key, alg=-19, kid=kid_for(key), protected_extra={16: STATUS_LIST_TYP})
    assert verify_status_list(typed, world.trust).ttl is None  # ttl and exp are optional


@pytest.mark.parametrize(
    "claims",
    [
        {6: TS, 65533: {"bits": 2, "lst": zlib.compress(bytes(8))}},  # no sub
        {2: STATUS_URI, 65533: {"bits": 2, "lst": zlib.compress(bytes(8))}},  # no iat
        {2: STATUS_URI, 6: TS},  # no status_list
        {2: STATUS_URI, 6: TS, 65533: {"bits": 3, "lst": zlib.compress(bytes(8))}},
        {2: STATUS_URI, 6: TS, 65533: {"bits": 2, "lst": "text"}},
        {2: STATUS_URI, 6: TS, 65533: {"bits": 2, "lst": zlib.compress(bytes(8))}, 65534: 0},
        {2: STATUS_URI, 6: TS, 4: TS - 1, 65533: {"bits": 2, "lst": zlib.compress(bytes(8))}},
        [1, 2],
    ],
)
def test_malformed_status_tokens(claims: object) -> None:
    world = make_world()
    key = world.keys["a"]
    token = sign1(cbor2.dumps(claims), key, alg=-19, kid=kid_for(key),
                  protected_extra={16: STATUS_LIST_TYP})
    with pytest.raises(StatusListError):
        verify_status_list(token, world.trust)


def test_publishing_refuses_small_lists() -> None:
    key = generate_private_key()
    with pytest.raises(StatusListError):
        sign_status_list(StatusList(1024), uri=STATUS_URI, issuer_id="ngo-a", signing_key=key,
                         kid=kid_for(key), alg=-19, iat=TS, exp=TS + DAY, ttl=60)


def test_store_keeps_the_newest_list_per_uri() -> None:
    world = make_world()
    old = verify_status_list(world.status_token(iat=TS - 100), world.trust)
    new = verify_status_list(world.status_token(iat=TS - 10, changes={1: 1}), world.trust)
    store = StatusStore([new, old])
    assert store.get(STATUS_URI) is new and len(store) == 1
    assert store.get("https://unknown") is None
    assert StatusStore.from_tokens([world.status_token()], world.trust).get(STATUS_URI)


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.binary(max_size=24)
    | st.text(max_size=24) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.integers(-70_000, 70_000) | st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
_FUZZ_WORLD = make_world()


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_issuer_signed_garbage_status_lists(data: st.DataObject) -> None:
    world = _FUZZ_WORLD
    content = cbor2.loads(decode_sign1(world.status_token()).payload)
    where = data.draw(st.sampled_from([content, content[65533]]))
    name = data.draw(st.sampled_from([*where.keys(), "extra", 3]))
    where[name] = data.draw(_VALUES)
    key = world.keys["a"]
    token = sign1(cbor2.dumps(content), key, alg=-19, kid=kid_for(key),
                  protected_extra={16: STATUS_LIST_TYP})
    try:
        verified = verify_status_list(token, world.trust)
    except StatusListError:
        return
    store = StatusStore([verified])
    try:
        text = world.issue(uri=verified.uri)
    except ClaimsError:  # a "sub" our attestations could never reference
        return
    verify(text, trust=world.trust, status=store, at=NOW).to_json()
