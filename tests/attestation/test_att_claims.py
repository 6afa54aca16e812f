"""Claims: the FORMATS.md CDDL as validated dataclasses (SECURITY.md check 18 for names
and dates)."""

from __future__ import annotations

import contextlib
import unicodedata
from typing import Any

import cbor2
import pytest
from att_support import CANARY_DOB, CANARY_NAME, TS, canary_attested, jpeg_thumbnail
from hypothesis import given, settings
from hypothesis import strategies as st

from onboarding.attestation import Attestation, Attested, EvidenceCategory, decode_claims
from onboarding.attestation.claims import check_for_issuance
from onboarding.attestation.errors import ClaimsError


def _attestation(**overrides: Any) -> Attestation:
    fields: dict[str, Any] = {
        "iss": "ngo-a", "iat": TS, "nbf": TS, "exp": TS + 86400, "cti": b"\x01" * 16,
        "status_idx": 7, "status_uri": "https://st.example.org/a/1",
        "attested": canary_attested(),
    }
    fields.update(overrides)
    return Attestation(**fields)


def test_round_trip_through_cbor() -> None:
    att = _attestation(attested=canary_attested(thumbnail=jpeg_thumbnail(),
                                                dob_approximate=True, languages=("es", "am-ET")))
    payload = att.encode()
    assert decode_claims(payload) == att
    raw = cbor2.loads(payload)
    assert set(raw) == {1, 4, 5, 6, 7, 65535, -65537}
    assert raw[65535] == {"status_list": {"idx": 7, "uri": "https://st.example.org/a/1"}}
    assert set(raw[-65537]) == {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
    assert raw[-65537][3] is True


def test_encoding_is_deterministic_rfc8949() -> None:
    payload = _attestation().encode()
    assert payload == cbor2.dumps(cbor2.loads(payload), canonical=True)
    assert list(cbor2.loads(payload)) == [1, 4, 5, 6, 7, 65535, -65537]  # bytewise key order


def test_optional_fields_absent_when_not_given() -> None:
    att = Attested(names=("A",), dob="1990", assurance=0, evidence=(), referee_session=0,
                   references=0)
    assert set(att.to_cbor_map()) == {0, 1, 2, 6, 7, 8, 9}


@pytest.mark.parametrize(
    "name",
    [
        "مريم الحسن",  # Arabic
        "สมชาย ใจดี",  # Thai
        "አበበ ቢቂላ",  # Amharic
        "Nguyễn Thị Minh Khai",  # Vietnamese, precomposed (NFC)
        "José María",
        "Zoë O'Brien-Łukasz",
        "زهرا\u200cمحمدی",  # Persian with ZWNJ, which names legitimately use
        "李小龍",
    ],
)
def test_names_in_any_script_accepted_and_round_trip(name: str) -> None:
    att = _attestation(attested=canary_attested(names=(name, CANARY_NAME)))
    assert decode_claims(att.encode()).attested.names == (name, CANARY_NAME)


@pytest.mark.parametrize(
    "name",
    [
        "",
        " Leading",
        "Trailing ",
        "Line\nbreak",
        "Tab\tname",
        "Nul\x00",
        "Bidi \u202eevil",  # RIGHT-TO-LEFT OVERRIDE
        "Isolate \u2066x\u2069",
        "Private \ue000",
        unicodedata.normalize("NFD", "José"),  # decomposed: not NFC
        "x" * 101,
    ],
)
def test_bad_names_rejected(name: str) -> None:
    with pytest.raises(ClaimsError):
        canary_attested(names=(name,))


def test_names_must_be_one_to_six() -> None:
    with pytest.raises(ClaimsError):
        canary_attested(names=())
    with pytest.raises(ClaimsError):
        canary_attested(names=tuple("ABCDEFG"))
    with pytest.raises(ClaimsError):
        canary_attested(names=["List", "not tuple"])


@pytest.mark.parametrize("dob", ["1990", "1990-02", "2000-02-29", CANARY_DOB, "1900-01-01"])
def test_dates_of_birth_accepted(dob: str) -> None:
    assert canary_attested(dob=dob).dob == dob


@pytest.mark.parametrize(
    "dob",
    ["1990-13", "1990-00", "1990-02-30", "1900-02-29", "2001-02-29", "1899-12-31", "1990-2",
     "90-02-01", "1990/02/01", "1990-02-01T00:00", "19900201", "2011-W01-2", "１９９０",
     "", "1990-02-01 ", "٠١٢٣-01-01"],
)
def test_impossible_dates_rejected(dob: str) -> None:
    with pytest.raises(ClaimsError):
        canary_attested(dob=dob)


def test_dob_after_issue_date_rejected() -> None:
    with pytest.raises(ClaimsError):
        _attestation(attested=canary_attested(dob="2027"))
    _attestation(attested=canary_attested(dob="2026-03"))  # same month as iat: possible


@pytest.mark.parametrize("code", ["ESP", "XXA", "XXB", "XXC", "XXX", "USA", "NGA", "THA"])
def test_nationality_accepted(code: str) -> None:
    assert canary_attested(nationality=code).nationality == code


@pytest.mark.parametrize("code", ["esp", "ES", "SPAIN", "ZZZ", "DDR", "", "E5P"])
def test_nationality_rejected(code: str) -> None:
    with pytest.raises(ClaimsError):
        canary_attested(nationality=code)


def test_thumbnail_limits() -> None:
    canary_attested(thumbnail=jpeg_thumbnail(400))
    webp = b"RIFF" + (392).to_bytes(4, "little") + b"WEBP" + b"\x00" * 388
    assert len(webp) == 400
    canary_attested(thumbnail=webp)
    with pytest.raises(ClaimsError):
        canary_attested(thumbnail=jpeg_thumbnail(401))
    with pytest.raises(ClaimsError):
        canary_attested(thumbnail=b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)  # PNG is not allowed
    with pytest.raises(ClaimsError):
        canary_attested(thumbnail=b"")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("assurance", 3), ("assurance", -1), ("assurance", True), ("assurance", 1.0),
        ("referee_session", 3), ("referee_session", "1"),
        ("references", -1), ("references", 100), ("references", False),
        ("evidence", (0,)), ("evidence", (256,)), ("evidence", (1, 1)), ("evidence", [1]),
        ("evidence", tuple(range(1, 18))), ("evidence", (True,)),
        ("languages", ("not a tag!",)), ("languages", ("x" * 36,)), ("languages", ["es"]),
        ("dob_approximate", 1),
    ],
)
def test_field_rules(field: str, value: object) -> None:
    with pytest.raises(ClaimsError):
        canary_attested(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("iss", ""), ("iss", "has space"), ("iss", "x" * 65), ("iss", 5),
        ("cti", b"\x00" * 15), ("cti", b"\x00" * 17), ("cti", "0" * 16),
        ("iat", -1), ("iat", True), ("exp", TS), ("nbf", TS + 86400), ("exp", 2**41),
        ("status_idx", -1), ("status_idx", 2**32), ("status_uri", "ftp://x"),
        ("status_uri", "https://a b"), ("status_uri", "https://" + "x" * 200),
    ],
)
def test_claim_set_rules(field: str, value: object) -> None:
    with pytest.raises(ClaimsError):
        _attestation(**{field: value})


def test_issuance_accepts_only_registered_evidence_codes() -> None:
    check_for_issuance(_attestation())
    unknown = _attestation(attested=canary_attested(evidence=(1, 200)))  # decodable...
    with pytest.raises(ClaimsError):
        check_for_issuance(unknown)  # ...but not issued by us


def _mutated(change: Any) -> bytes:
    raw = cbor2.loads(_attestation().encode())
    change(raw)
    return cbor2.dumps(raw)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda r: r.__setitem__(2, "subject"), "claims_keys"),
        (lambda r: r.pop(5), "claims_keys"),
        (lambda r: r[-65537].__setitem__(11, "extra"), "claims_keys"),
        (lambda r: r[-65537].pop(6), "claims_keys"),
        (lambda r: r[-65537].__setitem__(0, 2), "claims_schema"),
        (lambda r: r[-65537].__setitem__(3, False), "claims_invalid"),
        (lambda r: r[-65537].__setitem__(1, "not a list"), "claims_invalid"),
        (lambda r: r[65535].__setitem__("other", 1), "claims_invalid"),
        (lambda r: r[65535]["status_list"].__setitem__("idx", "7"), "claims_invalid"),
        (lambda r: r.__setitem__(-65537, [1]), "claims_invalid"),
        (lambda r: r.__setitem__(4, 1.5e9), "claims_invalid"),
    ],
)
def test_decode_rejects_wrong_shapes(change: Any, code: str) -> None:
    with pytest.raises(ClaimsError) as err:
        decode_claims(_mutated(change))
    assert err.value.code == code


def test_decode_rejects_duplicate_top_level_key() -> None:
    payload = _attestation().encode()
    # Same content with key 1 twice: 8 pairs in the head; cbor2 alone would keep the last.
    duplicated = b"\xa8" + payload[1:] + cbor2.dumps(1) + cbor2.dumps("ngo-b")
    with pytest.raises(ClaimsError):
        decode_claims(duplicated)


def test_decoder_accepts_unknown_evidence_codes_for_forward_compatibility() -> None:
    att = _attestation(attested=canary_attested(evidence=(1, 200)))
    assert decode_claims(att.encode()).attested.evidence == (1, 200)


def test_evidence_codes_are_stable() -> None:
    assert [int(c) for c in EvidenceCategory] == list(range(1, 15))


def test_to_json_keys_and_photo_data_uri() -> None:
    thumb = jpeg_thumbnail()
    out = _attestation(attested=canary_attested(thumbnail=thumb)).to_json()
    assert set(out) == {
        "attestation_id", "issuer", "issued_at", "valid_from", "expires_at", "status_list",
        "schema", "names", "date_of_birth", "date_of_birth_approximate", "nationality",
        "photo", "assurance", "evidence", "referee_session", "references", "languages",
    }
    assert out["photo"].startswith("data:image/jpeg;base64,/9j/")
    assert out["issued_at"] == "2026-03-01T12:00:00Z"
    assert out["evidence"] == [1, 2]


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_decode_claims_never_crashes(data: bytes) -> None:
    with contextlib.suppress(ClaimsError):
        decode_claims(data)
