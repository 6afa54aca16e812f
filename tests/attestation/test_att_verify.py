"""verify(): the nine steps, the result precedence, trust states, status lists, and
SECURITY.md checks 31 (one test per bullet) and 32 (minimal disclosure)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import zlib
from datetime import timedelta
from typing import Any

import cbor2
import pytest
from att_support import (
    CANARY_DOB,
    CANARY_NAME,
    DAY,
    FORBIDDEN_WORDS,
    NOW,
    STATUS_URI,
    TS,
    World,
    canary_attested,
    jpeg_thumbnail,
    make_world,
)

from onboarding.attestation import (
    RESULTS,
    STEP_NAMES,
    Issuer,
    IssuerKey,
    IssuerState,
    KeyState,
    StatusStore,
    TrustStore,
    b45decode,
    b45encode,
    decode_sign1,
    encode_envelope,
    generate_private_key,
    issue,
    kid_for,
    verify,
    verify_status_list,
)
from onboarding.attestation.cose import sig_structure
from onboarding.attestation.verify import VerificationResult


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


def run(world: World, text: str, *, status: StatusStore | None = None, at: Any = NOW,
        trust: TrustStore | None = None, **kw: Any) -> VerificationResult:
    result = verify(text, trust=trust or world.trust, status=status, at=at, **kw)
    assert [s.name for s in result.steps] == list(STEP_NAMES)  # all nine, in order, always
    assert result.result in (*RESULTS, "valid")
    json.dumps(result.to_json())
    return result


def oks(result: VerificationResult) -> dict[str, bool | None]:
    return {s.name: s.ok for s in result.steps}


def cose_of(text: str) -> bytes:
    return zlib.decompress(b45decode(text[4:]))


def payload_of(text: str) -> bytes:
    return decode_sign1(cose_of(text)).payload


def forge(world: World, *, protected: dict[Any, Any] | bytes, unprotected: dict[Any, Any] | None
          = None, payload: bytes | None = None, key: str = "a", tag: int | None = 18,
          sign: bool = True) -> str:
    """A COSE_Sign1 with arbitrary headers, really signed by a trusted key, as QR text."""
    payload = payload if payload is not None else payload_of(world.issue())
    protected_bytes = protected if isinstance(protected, bytes) else cbor2.dumps(protected)
    signature = world.keys[key].sign(sig_structure(protected_bytes, b"", payload)) if sign \
        else bytes(64)  # type: ignore[call-arg]
    body = [protected_bytes, unprotected or {}, payload, signature]
    return encode_envelope(cbor2.dumps(body if tag is None else cbor2.CBORTag(tag, body)))


# ------------------------------------------------------------------ the valid case
def test_valid_attestation(world: World) -> None:
    result = run(world, world.issue(), status=world.status_store())
    assert result.result == "valid" and result.valid and result.code == "valid"
    assert all(oks(result).values())
    assert result.warnings == ()
    assert result.claims is not None and result.claims.attested.names == (CANARY_NAME,)
    assert result.issuer is not None and result.issuer.display_name == "Community Services A"
    out = result.to_json()
    assert list(out) == ["result", "steps", "warnings", "status_as_of", "issuer", "claims"]
    assert all(list(step) == ["name", "ok", "reason"] for step in out["steps"])
    assert out["status_as_of"] == "2026-03-01T11:59:00Z"
    assert out["issuer"] == {"id": "ngo-a", "display_name": "Community Services A",
                             "jurisdiction": "ES", "accreditation": "active",
                             "accredited_until": "2027-04-05T12:00:00Z"}
    assert out["claims"]["date_of_birth"] == CANARY_DOB
    coded = result.to_json(include_codes=True)
    assert coded["code"] == "valid" and coded["steps"][0]["code"] == "ok"


def test_es256_attestation_is_valid(world: World) -> None:
    text = world.issue("es")
    assert decode_sign1(cose_of(text)).alg == -7
    assert run(world, text).result == "valid"


def test_no_status_data_is_a_warning_not_a_failure(world: World) -> None:
    result = run(world, world.issue(), status=None)
    assert result.result == "valid"
    assert result.step("status").ok is None and result.status_as_of is None
    assert "revocation was not checked" in result.warnings[0]
    other = run(world, world.issue(uri="https://st.example.org/a/2"),
                status=world.status_store())
    assert other.result == "valid" and other.step("status").ok is None
    assert "no status list for https://st.example.org/a/2" in other.warnings[0]


def test_photo_round_trip_to_data_uri(world: World) -> None:
    thumb = jpeg_thumbnail()
    result = run(world, world.issue(attested=canary_attested(thumbnail=thumb)))
    assert result.result == "valid"
    assert result.to_json()["claims"]["photo"].startswith("data:image/jpeg;base64,")


# ------------------------------------------------------------------ SECURITY.md check 31
class TestCheck31:
    """Bank side: only the valid attestation and one signed by a previous, still-trusted key
    verify; everything else is rejected with a reason code."""

    def test_signed_by_previous_still_trusted_key_verifies(self, world: World) -> None:
        text = world.issue("a_old", iat=TS - 20 * DAY)  # retired 10 days ago, issued before
        result = run(world, text)
        assert result.result == "valid"
        assert "retired" in result.step("kid").reason

    def test_one_byte_changed(self, world: World) -> None:
        cose = bytearray(cose_of(world.issue()))
        cose[len(cose) // 2] ^= 0x20  # inside the signed payload
        result = run(world, encode_envelope(bytes(cose)))
        assert (result.result, result.code) == ("invalid", "signature_invalid")
        assert result.claims is None and result.issuer is None

    def test_unknown_kid(self, world: World) -> None:
        stranger = generate_private_key()
        text = issue(canary_attested(), issuer_id="ngo-a", signing_key=stranger, status_idx=1,
                     status_uri=STATUS_URI, iat=TS, exp=TS + DAY)
        result = run(world, text)
        assert (result.result, result.code) == ("untrusted_issuer", "kid_unknown")
        assert oks(result)["signature"] is None

    def test_missing_alg(self, world: World) -> None:
        result = run(world, forge(world, protected={4: kid_for(world.keys["a"])}))
        assert (result.result, result.code) == ("invalid", "alg_missing")

    def test_alg_only_in_unprotected_header(self, world: World) -> None:
        text = forge(world, protected={4: kid_for(world.keys["a"])}, unprotected={1: -19})
        result = run(world, text)
        assert (result.result, result.code) == ("invalid", "alg_unprotected")

    @pytest.mark.parametrize("alg", [-35, -257, 5, -999, "EdDSA"])  # ES384, RS256, HS256
    def test_alg_outside_allowlist(self, world: World, alg: object) -> None:
        text = forge(world, protected={1: alg, 4: kid_for(world.keys["a"])})
        result = run(world, text)
        assert (result.result, result.code) == ("invalid", "alg_not_allowed")

    def test_caller_narrowed_allowlist(self, world: World) -> None:
        result = run(world, world.issue(), algorithms={-7})
        assert (result.result, result.code) == ("invalid", "alg_not_allowed")

    def test_cose_mac0_instead_of_sign1(self, world: World) -> None:
        protected = cbor2.dumps({1: 5, 4: kid_for(world.keys["a"])})  # HMAC 256/256
        payload = payload_of(world.issue())
        mac_structure = cbor2.dumps(["MAC0", protected, b"", payload])
        tag = hmac.new(b"k" * 32, mac_structure, hashlib.sha256).digest()
        text = encode_envelope(cbor2.dumps(cbor2.CBORTag(17, [protected, {}, payload, tag])))
        result = run(world, text)
        assert (result.result, result.code) == ("invalid", "cose_wrong_type")

    def test_cose_sign_instead_of_sign1(self, world: World) -> None:
        key = world.keys["a"]
        payload = payload_of(world.issue())
        body_protected = cbor2.dumps({})
        sign_protected = cbor2.dumps({1: -19})
        tbs = cbor2.dumps(["Signature", body_protected, sign_protected, b"", payload])
        signer = [sign_protected, {4: kid_for(key)}, key.sign(tbs)]
        text = encode_envelope(cbor2.dumps(cbor2.CBORTag(98, [body_protected, {}, payload,
                                                              [signer]])))
        result = run(world, text)
        assert (result.result, result.code) == ("invalid", "cose_wrong_type")

    def test_iss_not_the_issuer_of_the_kid(self, world: World) -> None:
        text = world.issue("a", issuer_id="ngo-b")  # ngo-a's key claims to be ngo-b
        result = run(world, text)
        assert (result.result, result.code) == ("invalid", "iss_mismatch")
        assert result.claims is None

    def test_expired(self, world: World) -> None:
        text = world.issue(iat=TS - 400 * DAY, exp=TS - DAY)
        result = run(world, text)
        assert (result.result, result.code) == ("expired", "expired")
        assert result.claims is not None  # authentic, shown so the teller sees whose it is

    def test_nbf_in_the_future(self, world: World) -> None:
        text = world.issue(iat=TS + 3600, exp=TS + 365 * DAY)
        result = run(world, text)
        assert (result.result, result.code) == ("not_yet_valid", "not_yet_valid")

    def test_key_revoked_for_compromise(self) -> None:
        world = make_world(key_a_state=KeyState.REVOKED)
        text = world.issue("a", iat=TS - 100 * DAY)  # even if "issued" long before
        result = run(world, text)
        assert (result.result, result.code) == ("invalid", "key_revoked")


# ------------------------------------------------------------------ trust states
def test_retired_key_cannot_sign_new_attestations(world: World) -> None:
    result = run(world, world.issue("a_old", iat=TS - DAY))  # retired TS - 10 days
    assert (result.result, result.code) == ("invalid", "key_retired")


@pytest.mark.parametrize(
    ("state", "code"),
    [(IssuerState.SUSPENDED, "issuer_suspended"), (IssuerState.REVOKED, "issuer_revoked")],
)
def test_issuer_not_active(state: IssuerState, code: str) -> None:
    world = make_world(issuer_a_state=state)
    result = run(world, world.issue())
    assert (result.result, result.code) == ("untrusted_issuer", code)
    assert result.claims is None
    assert result.issuer is not None and result.issuer.accreditation == str(state)


def test_accreditation_expired() -> None:
    world = make_world(accredited_until=TS - 1)
    result = run(world, world.issue(iat=TS - 10 * DAY))
    assert (result.result, result.code) == ("untrusted_issuer", "accreditation_expired")


def test_trust_list_expired_at_verification_time(world: World) -> None:
    text = world.issue(exp=TS + 400 * DAY)
    result = run(world, text, at=NOW + timedelta(days=31))
    assert (result.result, result.code) == ("untrusted_issuer", "trust_list_expired")


def test_several_keys_sharing_a_kid_are_each_tried() -> None:
    k1, k2 = generate_private_key(), generate_private_key()
    shared = b"SHAREDID"
    trust = TrustStore([
        Issuer(id="ngo-1", display_name="One", jurisdiction="ES", accredited_until=TS + DAY,
               keys=(IssuerKey.from_public_key(k1.public_key(), kid=shared),)),
        Issuer(id="ngo-2", display_name="Two", jurisdiction="ES", accredited_until=TS + DAY,
               keys=(IssuerKey.from_public_key(k2.public_key(), kid=shared),)),
    ])
    for issuer_id, key in (("ngo-1", k1), ("ngo-2", k2)):
        text = issue(canary_attested(), issuer_id=issuer_id, signing_key=key, kid=shared,
                     status_idx=1, status_uri=STATUS_URI, iat=TS, exp=TS + DAY)
        result = verify(text, trust=trust, status=None, at=NOW)
        assert result.result == "valid" and result.issuer is not None
        assert result.issuer.id == issuer_id


def test_kid_only_in_unprotected_header_is_accepted(world: World) -> None:
    text = forge(world, protected={1: -19}, unprotected={4: kid_for(world.keys["a"])})
    assert run(world, text).result == "valid"


def test_unexpected_headers_are_refused(world: World) -> None:
    kid = kid_for(world.keys["a"])
    for protected, unprotected in (({1: -19, 4: kid, 3: 0}, {}), ({1: -19, 4: kid}, {99: 1})):
        result = run(world, forge(world, protected=protected, unprotected=unprotected))
        assert (result.result, result.code) == ("invalid", "header_unexpected")


def test_untagged_attestation_is_accepted(world: World) -> None:
    kid = kid_for(world.keys["a"])
    assert run(world, forge(world, protected={1: -19, 4: kid}, tag=None)).result == "valid"


# ------------------------------------------------------------------ time
@pytest.mark.parametrize(("offset", "expected"), [(200, "valid"), (301, "not_yet_valid")])
def test_clock_skew_for_nbf(world: World, offset: int, expected: str) -> None:
    text = world.issue(iat=TS + offset)
    assert run(world, text).result == expected
    assert run(world, text, skew_seconds=600).result == "valid"


def test_expiry_boundary(world: World) -> None:
    text = world.issue(exp=TS + 10)
    assert run(world, text, at=NOW + timedelta(seconds=9)).result == "valid"
    assert run(world, text, at=NOW + timedelta(seconds=10)).result == "expired"


def test_naive_time_is_a_programming_error(world: World) -> None:
    with pytest.raises(ValueError):
        verify(world.issue(), trust=world.trust, status=None, at=NOW.replace(tzinfo=None))


# ------------------------------------------------------------------ status
@pytest.mark.parametrize(("value", "expected"), [(1, "revoked"), (2, "suspended"),
                                                  (3, "invalid")])
def test_status_values(world: World, value: int, expected: str) -> None:
    result = run(world, world.issue(idx=77), status=world.status_store(changes={77: value}))
    assert result.result == expected and result.step("status").ok is False
    assert result.status_as_of == TS - 60


def test_neighbouring_entries_do_not_matter(world: World) -> None:
    store = world.status_store(changes={76: 1, 78: 2})
    assert run(world, world.issue(idx=77), status=store).result == "valid"


def test_stale_and_expired_status_lists(world: World) -> None:
    text = world.issue(idx=5)
    store = world.status_store(ttl=60)  # issued TS-60 with ttl 60: stale now
    stale = run(world, text, status=store)
    assert stale.result == "valid" and "older than its ttl" in stale.warnings[0]
    expired_store = world.status_store(exp=TS - 1, iat=TS - 100)
    expired = run(world, text, status=expired_store)
    assert expired.result == "valid" and expired.step("status").ok is None
    assert "expired" in expired.warnings[0]
    # A revocation in an expired list still counts: fail closed.
    revoked = run(world, text, status=world.status_store(exp=TS - 1, iat=TS - 100,
                                                         changes={5: 1}))
    assert revoked.result == "revoked" and revoked.warnings


def test_status_list_of_another_issuer_is_ignored(world: World) -> None:
    foreign = StatusStore([verify_status_list(world.status_token("b", changes={4242: 1}),
                                              world.trust)])
    result = run(world, world.issue(), status=foreign)
    assert result.result == "valid" and result.step("status").ok is None
    assert "another issuer" in result.warnings[0]


def test_status_index_outside_the_list(world: World) -> None:
    result = run(world, world.issue(idx=200_000), status=world.status_store())
    assert (result.result, result.code) == ("invalid", "status_index_out_of_range")


# ------------------------------------------------------------------ precedence
def test_precedence(world: World) -> None:
    # revoked beats expired
    text = world.issue(iat=TS - 400 * DAY, exp=TS - DAY, idx=9)
    assert run(world, text, status=world.status_store(changes={9: 1})).result == "revoked"
    # suspended beats expired
    assert run(world, text, status=world.status_store(changes={9: 2})).result == "suspended"
    # untrusted issuer beats revoked and expired
    suspended_world = make_world(issuer_a_state=IssuerState.SUSPENDED)
    text2 = suspended_world.issue(iat=TS - 400 * DAY, exp=TS - DAY, idx=9)
    store = suspended_world.status_store(changes={9: 1})
    result = run(suspended_world, text2, status=store)
    assert result.result == "untrusted_issuer"
    failed = {s.name for s in result.steps if s.ok is False}
    assert failed == {"kid", "expiry", "status"}
    # invalid beats untrusted issuer
    text3 = suspended_world.issue("a", issuer_id="ngo-b")
    assert run(suspended_world, text3).result == "invalid"
    # expired beats not yet valid cannot both hold; not_yet_valid is last
    assert RESULTS[-1] == "not_yet_valid"


# ------------------------------------------------------------------ garbage in
@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("", "prefix"),
        ("HC1:6BF", "prefix"),
        ("id1:6BF", "prefix"),
        ("ID1:", "decompress"),
        ("ID1:abc", "base45"),
        ("ID1:ABCD", "base45"),
        ("ID1:" + "0" * 30, "decompress"),
        ("ID1:" + "A" * 5000, "prefix"),
    ],
)
def test_unreadable_inputs(world: World, text: str, step: str) -> None:
    result = run(world, text)
    assert result.result == "unreadable"
    failed = [s.name for s in result.steps if s.ok is False]
    assert failed == [step]
    assert all(s.ok is None for s in result.steps[STEP_NAMES.index(step) + 1:])


def test_non_text_input_is_unreadable(world: World) -> None:
    result = verify(b"ID1:...", trust=world.trust, status=None, at=NOW)  # type: ignore[arg-type]
    assert result.result == "unreadable" and result.code == "not_text"


def test_not_cose_inside(world: World) -> None:
    assert run(world, encode_envelope(cbor2.dumps({"hello": 1}))).result == "unreadable"
    assert run(world, encode_envelope(b"\xff\xff")).result == "unreadable"


def test_zip_bomb_is_bounded(world: World) -> None:
    text = "ID1:" + b45encode(zlib.compress(bytes(1_000_000), 9))
    result = run(world, text)
    assert (result.result, result.code) == ("unreadable", "zlib_too_large")


def test_trailing_data_after_zlib_stream(world: World) -> None:
    compressed = b45decode(world.issue()[4:])
    result = run(world, "ID1:" + b45encode(compressed + b"\x00"))
    assert (result.result, result.code) == ("unreadable", "zlib_invalid")


def test_cr_lf_are_trimmed_but_nothing_else(world: World) -> None:
    text = world.issue()
    assert run(world, text + "\r\n").result == "valid"
    assert run(world, " " + text).result == "unreadable"


def test_custom_prefixes(world: World) -> None:
    text = world.issue(prefix="NGO2:")
    assert run(world, text).result == "unreadable"
    assert run(world, text, prefixes=("ID1:", "NGO2:")).result == "valid"
    assert run(world, text, prefixes="NGO2:").result == "valid"  # a bare string is one prefix
    assert run(world, world.issue(), prefixes="NGO2:").result == "unreadable"


def test_status_list_token_is_not_an_attestation(world: World) -> None:
    """Token confusion: an issuer-signed status list put into a QR is refused."""
    result = run(world, encode_envelope(world.status_token()))
    assert result.result == "invalid"


# ------------------------------------------------------------------ SECURITY.md check 32
ALLOWED_PAYLOAD_KEYS = {1, 4, 5, 6, 7, 65535, -65537}
ALLOWED_ATTESTED_KEYS = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}


def test_minimal_disclosure_in_payload_and_result(world: World) -> None:
    attested = canary_attested(thumbnail=jpeg_thumbnail(), dob_approximate=True,
                               evidence=(1, 4, 5, 7))  # 4: the government status letter
    text = world.issue(attested=attested)
    payload = payload_of(text)
    claims = cbor2.loads(payload)
    assert set(claims) == ALLOWED_PAYLOAD_KEYS
    assert set(claims[-65537]) <= ALLOWED_ATTESTED_KEYS
    assert set(claims[65535]) == {"status_list"}
    cose_text = cose_of(text).lower()
    result = run(world, text, status=world.status_store())
    rendered = json.dumps(result.to_json(include_codes=True)).lower()
    for word in FORBIDDEN_WORDS:
        assert word.encode() not in cose_text, word
        assert word not in rendered, word
        assert word not in text.lower(), word
    assert set(result.to_json()["claims"]) == {
        "attestation_id", "issuer", "issued_at", "valid_from", "expires_at", "status_list",
        "schema", "names", "date_of_birth", "date_of_birth_approximate", "nationality",
        "photo", "assurance", "evidence", "referee_session", "references", "languages",
    }
    assert result.to_json()["claims"]["evidence"] == [1, 4, 5, 7]  # numbers, never words


def test_verification_makes_no_network_call(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    text = world.issue()
    store = world.status_store()

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("verification tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    assert verify(text, trust=world.trust, status=store, at=NOW).result == "valid"
