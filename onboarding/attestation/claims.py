"""The attestation claim set of FORMATS.md as typed, validated dataclasses.

```
attestation = {                      ; CWT claim set, exactly these 7 keys
  1 => tstr, 4 => uint, 5 => uint, 6 => uint, 7 => bstr .size 16,
  65535 => { "status_list": { "idx": uint, "uri": tstr } },
  -65537 => attested,
}
attested = {
  0 => 1, 1 => [+ tstr], 2 => tstr, ? 3 => true, ? 4 => tstr, ? 5 => bstr,
  6 => 0 / 1 / 2, 7 => [* uint], 8 => 0 / 1 / 2, 9 => uint, ? 10 => [* tstr],
}
```

Validation is the same whether a claim set is being built for issuance or decoded after a
signature check, so an issuer cannot sign anything a verifier would refuse. Only one
thing differs: issuance accepts only the evidence codes registered in
:class:`EvidenceCategory`, while decoding accepts any code 1-255 so that verifiers keep
working when the registry grows (unknown codes are passed on as numbers).

Evidence category *names* live in this module and in docs/formats.md only. The payload
and the verification result carry numbers, never words (SECURITY.md check 32).
"""

from __future__ import annotations

import base64
import re
import struct
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from typing import Any

import cbor2

from onboarding.attestation._countries import NATIONALITY_CODES
from onboarding.attestation._util import MAX_TIME, iso
from onboarding.attestation.errors import ClaimsError

__all__ = [
    "CLAIM_ATTESTED",
    "CLAIM_CTI",
    "CLAIM_EXP",
    "CLAIM_IAT",
    "CLAIM_ISS",
    "CLAIM_NBF",
    "CLAIM_STATUS",
    "MAX_THUMBNAIL_BYTES",
    "SCHEMA_VERSION",
    "Assurance",
    "Attestation",
    "Attested",
    "EvidenceCategory",
    "RefereeSession",
    "decode_claims",
    "thumbnail_media_type",
]

CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_NBF = 5
CLAIM_IAT = 6
CLAIM_CTI = 7
CLAIM_STATUS = 65535
CLAIM_ATTESTED = -65537
_CLAIM_KEYS = frozenset({CLAIM_ISS, CLAIM_EXP, CLAIM_NBF, CLAIM_IAT, CLAIM_CTI,
                         CLAIM_STATUS, CLAIM_ATTESTED})

A_SCHEMA, A_NAMES, A_DOB, A_DOB_APPROX, A_NATIONALITY, A_THUMBNAIL = 0, 1, 2, 3, 4, 5
A_ASSURANCE, A_EVIDENCE, A_SESSION, A_REFERENCES, A_LANGUAGES = 6, 7, 8, 9, 10
_ATTESTED_REQUIRED = frozenset({A_SCHEMA, A_NAMES, A_DOB, A_ASSURANCE, A_EVIDENCE,
                                A_SESSION, A_REFERENCES})
_ATTESTED_ALLOWED = _ATTESTED_REQUIRED | {A_DOB_APPROX, A_NATIONALITY, A_THUMBNAIL, A_LANGUAGES}
_STATUS_KEYS = frozenset({"status_list"})
_STATUS_REF_KEYS = frozenset({"idx", "uri"})

SCHEMA_VERSION = 1
MAX_THUMBNAIL_BYTES = 400
MAX_NAMES = 6
MAX_NAME_CHARS = 100
MAX_EVIDENCE = 16
MAX_REFERENCES = 99
MAX_LANGUAGES = 8
MAX_ISSUER_ID = 64
MAX_URI = 200
MAX_INDEX = 2**32 - 1
MIN_BIRTH_YEAR = 1900


class Assurance(IntEnum):
    """Identity assurance (NIST SP 800-63-4 IAL)."""

    REFEREE_EXCEPTION = 0  # trusted-referee exception, below IAL1
    IAL1 = 1
    IAL2 = 2


class RefereeSession(IntEnum):
    """How the trusted-referee session took place."""

    NONE = 0
    ONSITE = 1
    REMOTE_ATTENDED = 2


class EvidenceCategory(IntEnum):
    """Registered evidence category codes (docs/formats.md has the descriptions).

    Member names are deliberately neutral: they may end up in logs or templates, and the
    code list must never put revealing words in front of a teller or in the QR.
    """

    REFEREE_INTERVIEW = 1
    EXPIRED_PASSPORT = 2
    PROTECTION_DOCUMENT = 3  # refugee / asylum-seeker document
    GOV_STATUS_LETTER = 4  # see docs/formats.md
    POLICE_REPORT = 5
    EMPLOYER_RECORD = 6
    REFERENCE_VOUCH = 7
    OTHER_GOV_DOCUMENT = 8
    BIRTH_CERTIFICATE = 9
    EXPIRED_NATIONAL_ID = 10
    CONSULAR_DOCUMENT = 11
    EDUCATION_RECORD = 12
    MEDICAL_RECORD = 13
    SERVICE_PROVIDER_RECORD = 14


_KNOWN_EVIDENCE = frozenset(int(c) for c in EvidenceCategory)
_LEVELS = frozenset({0, 1, 2})
_ASSURANCE_TYPES = (int, Assurance)
_SESSION_TYPES = (int, RefereeSession)
_EVIDENCE_TYPES = (int, EvidenceCategory)

_DOB_RE = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_fromisoformat = date.fromisoformat
_ISSUER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
_URI_RE = re.compile(r"https?://[\x21-\x7e]+")
_LANG_RE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")
# Characters no name may contain: C0/C1 controls, line/paragraph separators, bidi
# embeddings/overrides/isolates (they can make a name display as something else:
# "Trojan Source", CVE-2021-42574), private-use code points and non-characters.
_BAD_NAME_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ue000-\uf8ff\ufdd0-\ufdef\ufffe\uffff\U000f0000-\U0010ffff]"
)


def _fail(message: str, code: str = "claims_invalid") -> ClaimsError:
    return ClaimsError(message, code=code)


# Type checks use type() rather than isinstance() throughout: bool is an int subclass and
# must not pass for an integer claim.
def _text(value: object, what: str, maximum: int) -> str:
    if type(value) is not str or not value or len(value) > maximum:
        raise _fail(f"{what} must be non-empty text of at most {maximum} characters")
    return value


def check_name(name: object) -> str:
    """A name: non-empty, NFC, no surrounding spaces, no controls or bidi overrides."""
    name = _text(name, "a name", MAX_NAME_CHARS)
    if name != name.strip():
        raise _fail("a name must not start or end with whitespace")
    if _BAD_NAME_CHARS.search(name):
        raise _fail("a name contains a control, bidi-override or private-use character")
    if not unicodedata.is_normalized("NFC", name):
        raise _fail("a name must be in Unicode NFC")
    return name


def check_dob(dob: object) -> str:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, a real calendar date from 1900 on."""
    if type(dob) is not str or not _DOB_RE.fullmatch(dob):
        raise _fail("date of birth must be YYYY, YYYY-MM or YYYY-MM-DD")
    if int(dob[:4]) < MIN_BIRTH_YEAR:
        raise _fail(f"date of birth before {MIN_BIRTH_YEAR}")
    try:
        # The regex admits only these three shapes, so fromisoformat's other accepted
        # forms (week dates, basic format) cannot reach it.
        date.fromisoformat(dob if len(dob) == 10 else (dob + "-01-01")[:10])
    except ValueError:
        raise _fail("date of birth is not a real date") from None
    return dob


def _iso_date(ts: int) -> str:
    """UTC calendar date of a timestamp as ``YYYY-MM-DD`` (no datetime object needed)."""
    return date.fromordinal(_EPOCH_ORDINAL + ts // 86400).isoformat()


def thumbnail_media_type(data: bytes) -> str:
    """``image/jpeg`` or ``image/webp`` from magic bytes; :class:`ClaimsError` otherwise."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if (
        len(data) >= 12
        and data[:4] == b"RIFF"
        and data[8:12] == b"WEBP"
        and int.from_bytes(data[4:8], "little") == len(data) - 8
    ):
        return "image/webp"
    raise _fail("thumbnail must be JPEG or WebP")


def _check_attested(
    names: object, dob: object, assurance: object, evidence: object, referee_session: object,
    references: object, dob_approximate: object, nationality: object, thumbnail: object,
    languages: object, registered_only: bool,
) -> None:
    """Every rule for the attested claim, on plain values (shared by the constructor and
    the fast decoder). Written for speed (it runs on every verification): each condition
    is checked inline, and the slower helpers run only to produce the precise error."""
    if type(names) is not tuple or not 0 < len(names) <= MAX_NAMES:
        raise _fail(f"names must be a tuple of 1 to {MAX_NAMES} names")
    for name in names:
        if not (
            type(name) is str
            and 0 < len(name) <= MAX_NAME_CHARS
            and not name[0].isspace()
            and not name[-1].isspace()
            and _BAD_NAME_CHARS.search(name) is None
            and unicodedata.is_normalized("NFC", name)
        ):
            check_name(name)
    # Full dates, the usual case, without the regex: fromisoformat also takes week dates
    # and other shapes, but only a YYYY-MM-DD of ASCII digits prints back identically.
    try:
        full_date = (type(dob) is str and len(dob) == 10 and dob >= "1900"
                     and _fromisoformat(dob).isoformat() == dob)
    except ValueError:
        full_date = False
    if not full_date:
        check_dob(dob)
    if type(dob_approximate) is not bool:
        raise _fail("dob_approximate must be a bool")
    if nationality is not None and (
        type(nationality) is not str or nationality not in NATIONALITY_CODES
    ):
        raise _fail("nationality must be an ISO 3166-1 alpha-3 code (or XXA/XXB/XXC/XXX)")
    if thumbnail is not None:
        if type(thumbnail) is not bytes or not thumbnail:
            raise _fail("thumbnail must be bytes")
        if len(thumbnail) > MAX_THUMBNAIL_BYTES:
            raise _fail(f"thumbnail is larger than {MAX_THUMBNAIL_BYTES} bytes")
        thumbnail_media_type(thumbnail)
    # Type first: a list or dict would make the set membership test raise TypeError.
    if type(assurance) not in _ASSURANCE_TYPES or assurance not in _LEVELS:
        raise _fail("assurance must be 0, 1 or 2")
    if type(evidence) is not tuple or len(evidence) > MAX_EVIDENCE:
        raise _fail(f"evidence must be a tuple of at most {MAX_EVIDENCE} codes")
    for code in evidence:
        if type(code) not in _EVIDENCE_TYPES or not 0 < code <= 255:
            raise _fail("evidence codes are integers 1-255")
        if registered_only and code not in _KNOWN_EVIDENCE:
            raise _fail(f"evidence code {code} is not registered")
    if len(evidence) > 1 and len(set(evidence)) != len(evidence):
        raise _fail("evidence codes must not repeat")
    if type(referee_session) not in _SESSION_TYPES or referee_session not in _LEVELS:
        raise _fail("referee_session must be 0, 1 or 2")
    if type(references) is not int or not 0 <= references <= MAX_REFERENCES:
        raise _fail(f"references must be an unsigned integer up to {MAX_REFERENCES}")
    if languages is not None:
        if type(languages) is not tuple or len(languages) > MAX_LANGUAGES:
            raise _fail(f"languages must be a tuple of at most {MAX_LANGUAGES} tags")
        for tag in languages:
            if type(tag) is not str or len(tag) > 35 or not _LANG_RE.fullmatch(tag):
                raise _fail("languages must be BCP 47 tags")


@dataclass(frozen=True, slots=True)
class Attested:
    """The private-use claim -65537: what the issuer attests about the person."""

    names: tuple[str, ...]
    dob: str
    assurance: int
    evidence: tuple[int, ...]
    referee_session: int
    references: int
    dob_approximate: bool = False
    nationality: str | None = None
    thumbnail: bytes | None = None
    languages: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self._validate(registered_evidence_only=False)

    def _validate(self, *, registered_evidence_only: bool) -> None:
        _check_attested(self.names, self.dob, self.assurance, self.evidence,
                        self.referee_session, self.references, self.dob_approximate,
                        self.nationality, self.thumbnail, self.languages,
                        registered_evidence_only)

    def to_cbor_map(self) -> dict[int, Any]:
        out: dict[int, Any] = {A_SCHEMA: SCHEMA_VERSION, A_NAMES: list(self.names), A_DOB: self.dob}
        if self.dob_approximate:
            out[A_DOB_APPROX] = True
        if self.nationality is not None:
            out[A_NATIONALITY] = self.nationality
        if self.thumbnail is not None:
            out[A_THUMBNAIL] = self.thumbnail
        out[A_ASSURANCE] = int(self.assurance)
        out[A_EVIDENCE] = [int(c) for c in self.evidence]
        out[A_SESSION] = int(self.referee_session)
        out[A_REFERENCES] = self.references
        if self.languages is not None:
            out[A_LANGUAGES] = list(self.languages)
        return out

    @classmethod
    def from_cbor_map(cls, value: object) -> Attested:
        if type(value) is not dict:
            raise _fail("attested claim must be a map")
        keys = value.keys()
        if not (_ATTESTED_REQUIRED <= keys <= _ATTESTED_ALLOWED):
            raise _fail("attested claim has missing or unknown keys", "claims_keys")
        if type(value[A_SCHEMA]) is not int or value[A_SCHEMA] != SCHEMA_VERSION:
            raise _fail("unsupported attested schema version", "claims_schema")
        names = value[A_NAMES]
        evidence = value[A_EVIDENCE]
        if type(names) is not list or type(evidence) is not list:
            raise _fail("names and evidence must be arrays")
        approx = value.get(A_DOB_APPROX, False)
        if A_DOB_APPROX in value and approx is not True:
            raise _fail("date-of-birth-approximate, when present, must be true")
        nationality = value.get(A_NATIONALITY)
        if A_NATIONALITY in value and type(nationality) is not str:
            raise _fail("nationality must be text")
        thumbnail = value.get(A_THUMBNAIL)
        if A_THUMBNAIL in value and type(thumbnail) is not bytes:
            raise _fail("thumbnail must be a byte string")
        languages = value.get(A_LANGUAGES)
        if A_LANGUAGES in value:
            if type(languages) is not list:
                raise _fail("languages must be an array")
            languages = tuple(languages)
        return cls(
            tuple(names),
            value[A_DOB],
            value[A_ASSURANCE],
            tuple(evidence),
            value[A_SESSION],
            value[A_REFERENCES],
            approx,
            nationality,
            thumbnail,
            languages,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-able form for the verification result (photo as a data: URI)."""
        photo = None
        if self.thumbnail is not None:
            photo = (
                f"data:{thumbnail_media_type(self.thumbnail)};base64,"
                + base64.b64encode(self.thumbnail).decode("ascii")
            )
        return {
            "schema": SCHEMA_VERSION,
            "names": list(self.names),
            "date_of_birth": self.dob,
            "date_of_birth_approximate": self.dob_approximate,
            "nationality": self.nationality,
            "photo": photo,
            "assurance": int(self.assurance),
            "evidence": [int(c) for c in self.evidence],
            "referee_session": int(self.referee_session),
            "references": self.references,
            "languages": None if self.languages is None else list(self.languages),
        }


def _check_attestation(iss: object, iat: object, nbf: object, exp: object, cti: object,
                       idx: object, uri: object, attested: object) -> None:
    """Every rule for the claim set around the attested claim (shared by the constructor
    and the fast decoder)."""
    if type(iss) is not str or len(iss) > MAX_ISSUER_ID or not _ISSUER_RE.fullmatch(iss):
        raise _fail("iss must be an issuer id (1-64 letters, digits, '.', '_', ':', '-')")
    if not (
        type(iat) is int and type(nbf) is int and type(exp) is int
        and 0 <= iat < exp <= MAX_TIME and 0 <= nbf < exp
    ):
        raise _fail("iat, nbf and exp must be unsigned integers with exp after iat and nbf")
    if type(cti) is not bytes or len(cti) != 16:
        raise _fail("cti must be 16 bytes")
    if type(idx) is not int or not 0 <= idx <= MAX_INDEX:
        raise _fail(f"status idx must be an unsigned integer up to {MAX_INDEX}")
    if type(uri) is not str or len(uri) > MAX_URI or not _URI_RE.fullmatch(uri):
        raise _fail(f"status uri must be an http(s) URI of at most {MAX_URI} characters")
    if type(attested) is not Attested:
        raise _fail("attested must be an Attested instance")
    # Fixed-width ISO strings compare like dates; a shorter DOB ("2026-03") compares
    # as its earliest day, so this rejects a DOB that cannot be on or before iat.
    # Shortcut first: no year is longer than 366 days, so iat's year is at least
    # 1970 + iat // (366 days); a birth year before that needs no calendar conversion.
    dob = attested.dob
    if int(dob[:4]) >= 1970 + iat // 31_622_400 and dob > _iso_date(iat):
        raise _fail("date of birth is after the issuing date")


@dataclass(frozen=True, slots=True)
class Attestation:
    """A complete CWT claim set (the COSE_Sign1 payload)."""

    iss: str
    iat: int
    nbf: int
    exp: int
    cti: bytes
    status_idx: int
    status_uri: str
    attested: Attested

    def __post_init__(self) -> None:
        _check_attestation(self.iss, self.iat, self.nbf, self.exp, self.cti, self.status_idx,
                           self.status_uri, self.attested)

    def to_cbor_map(self) -> dict[int, Any]:
        return {
            CLAIM_ISS: self.iss,
            CLAIM_EXP: self.exp,
            CLAIM_NBF: self.nbf,
            CLAIM_IAT: self.iat,
            CLAIM_CTI: self.cti,
            CLAIM_STATUS: {"status_list": {"idx": self.status_idx, "uri": self.status_uri}},
            CLAIM_ATTESTED: self.attested.to_cbor_map(),
        }

    def encode(self) -> bytes:
        """Deterministic CBOR (RFC 8949 §4.2.1: for these integer keys cbor2's canonical
        length-first order and the bytewise order coincide)."""
        return cbor2.dumps(self.to_cbor_map(), canonical=True)

    @classmethod
    def from_cbor_map(cls, value: Mapping[Any, Any]) -> Attestation:
        if type(value) is not dict or value.keys() != _CLAIM_KEYS:
            raise _fail("claim set must have exactly the keys 1, 4, 5, 6, 7, 65535, -65537",
                        "claims_keys")
        status = value[CLAIM_STATUS]
        if type(status) is not dict or status.keys() != _STATUS_KEYS:
            raise _fail("status claim must be {\"status_list\": {...}}")
        ref = status["status_list"]
        if type(ref) is not dict or ref.keys() != _STATUS_REF_KEYS:
            raise _fail("status_list reference must have exactly idx and uri")
        return cls(
            value[CLAIM_ISS],
            value[CLAIM_IAT],
            value[CLAIM_NBF],
            value[CLAIM_EXP],
            value[CLAIM_CTI],
            ref["idx"],
            ref["uri"],
            Attested.from_cbor_map(value[CLAIM_ATTESTED]),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``claims`` member of the verification result. Only these keys, ever."""
        out = {
            "attestation_id": self.cti.hex(),
            "issuer": self.iss,
            "issued_at": iso(self.iat),
            "valid_from": iso(self.nbf),
            "expires_at": iso(self.exp),
            "status_list": {"idx": self.status_idx, "uri": self.status_uri},
        }
        out.update(self.attested.to_json())
        return out


def check_for_issuance(attestation: Attestation) -> None:
    """Extra rules for what we sign: registered evidence codes only."""
    attestation.attested._validate(registered_evidence_only=True)


class _Irregular(Exception):
    """The payload is not laid out the way :meth:`Attestation.encode` lays it out."""


# Fixed byte runs of the canonical claim set (RFC 8949 §4.2.1 order, as encode() writes):
# keys 4, 5, 6 with 4-byte times and key 7 with a 16-byte cti; key 65535 with its
# one-entry map, the "status_list" key and the "idx" key; the "uri" key; key -65537.
_TIMES = struct.Struct(">HIHIHIH")
_TIMES_KEYS = (0x041A, 0x051A, 0x061A, 0x0750)
_STATUS_HEAD = b"\x19\xff\xff\xa1\x6bstatus_list\xa2\x63idx"
_URI_KEY = b"\x63uri"
_ATTESTED_KEY = b"\x3a\x00\x01\x00\x00"
_new = object.__new__


def _slot_setters(cls: type, names: str) -> tuple[Any, ...]:
    """The slots' own setters: they skip the frozen ``__setattr__`` (as the dataclass
    ``__init__`` does with ``object.__setattr__``) and the attribute look-up by name."""
    return tuple(cls.__dict__[name].__set__ for name in names.split())


(_SET_NAMES, _SET_DOB, _SET_ASSURANCE, _SET_EVIDENCE, _SET_SESSION, _SET_REFERENCES,
 _SET_APPROX, _SET_NATIONALITY, _SET_THUMBNAIL, _SET_LANGUAGES) = _slot_setters(
    Attested, "names dob assurance evidence referee_session references dob_approximate "
    "nationality thumbnail languages")
(_SET_ISS, _SET_IAT, _SET_NBF, _SET_EXP, _SET_CTI, _SET_IDX, _SET_URI,
 _SET_ATTESTED) = _slot_setters(
    Attestation, "iss iat nbf exp cti status_idx status_uri attested")


def _uint(p: bytes, pos: int) -> tuple[int, int]:
    """Unsigned integer at ``pos``, any head width (as cbor2 reads it)."""
    b = p[pos]
    if b < 0x18:
        return b, pos + 1
    if b == 0x18:
        return p[pos + 1], pos + 2
    if b == 0x19:
        return p[pos + 1] << 8 | p[pos + 2], pos + 3
    if b == 0x1A or b == 0x1B:
        end = pos + (5 if b == 0x1A else 9)
        if end > len(p):
            raise _Irregular
        return int.from_bytes(p[pos + 1 : end], "big"), end
    raise _Irregular


def _string(p: bytes, pos: int, major: int) -> tuple[bytes, int]:
    """Raw bytes of a definite-length byte (0x40) or text (0x60) string at ``pos``."""
    n = p[pos] - major
    if 0 <= n < 0x18:
        pos += 1
    elif n == 0x18:
        n = p[pos + 1]
        pos += 2
    elif n == 0x19:
        n = p[pos + 1] << 8 | p[pos + 2]
        pos += 3
    else:
        raise _Irregular
    end = pos + n
    if end > len(p):
        raise _Irregular
    return p[pos:end], end


def _texts(p: bytes, pos: int) -> tuple[tuple[str, ...], int]:
    """A short array of text strings at ``pos``."""
    count = p[pos] - 0x80
    if not 0 <= count < 0x18:
        raise _Irregular
    pos += 1
    out = []
    for _ in range(count):
        raw, pos = _string(p, pos, 0x60)
        out.append(raw.decode())
    return tuple(out), pos


def _decode_regular(p: bytes) -> Attestation:
    """Decode a claim set laid out exactly as :meth:`Attestation.encode` writes it.

    Why: it is the largest part of a verification besides the signature. cbor2 builds a
    dict or list per map and array (~0.2 us per item, ~45 items), and
    :meth:`Attestation.from_cbor_map` then looks every value up again; this reader walks
    the bytes once, in the canonical key order, straight into local variables, runs the
    same checks as the constructors (:func:`_check_attested`, :func:`_check_attestation`)
    and fills the frozen instances without running those checks a second time.

    It accepts a strict subset of what the general path accepts (keys strictly ascending,
    so no duplicates; every value of its CDDL type; nothing after the map) and yields the
    same values. Anything else raises :class:`_Irregular`, IndexError or ValueError
    (ClaimsError included), and :func:`decode_claims` takes the general path, which
    gives the precise error.
    """
    # 1 => iss
    if p[1] != 0x01:
        raise _Irregular
    n = p[2] - 0x60  # text strings under 24 bytes, the usual case, read inline
    if 0 <= n < 0x18:
        pos = 3 + n
        raw = p[3:pos]
    else:
        raw, pos = _string(p, 2, 0x60)
    iss = raw.decode()
    # 4 => exp, 5 => nbf, 6 => iat (4-byte heads until 2106), 7 => cti (16 bytes)
    k_exp, exp, k_nbf, nbf, k_iat, iat, k_cti = _TIMES.unpack_from(p, pos)
    if (k_exp, k_nbf, k_iat, k_cti) != _TIMES_KEYS:
        raise _Irregular
    cti = p[pos + 20 : pos + 36]
    pos += 36
    # 65535 => {"status_list": {"idx": uint, "uri": tstr}}
    if p[pos : pos + 21] != _STATUS_HEAD:
        raise _Irregular
    idx, pos = _uint(p, pos + 21)
    if p[pos : pos + 4] != _URI_KEY:
        raise _Irregular
    n = p[pos + 4] - 0x60
    if 0 <= n < 0x18:
        raw = p[pos + 5 : pos + 5 + n]
        pos += 5 + n
    else:
        raw, pos = _string(p, pos + 4, 0x60)
    uri = raw.decode()
    # -65537 => attested: a map head, 0 => 1, then keys 1..10 in order
    if p[pos : pos + 5] != _ATTESTED_KEY or p[pos + 6 : pos + 9] != b"\x00\x01\x01":
        raise _Irregular
    entries = p[pos + 5] - 0xA0
    names, pos = _texts(p, pos + 9)
    if p[pos] != 0x02:
        raise _Irregular
    n = p[pos + 1] - 0x60
    if 0 <= n < 0x18:
        raw = p[pos + 2 : pos + 2 + n]
        pos += 2 + n
    else:
        raw, pos = _string(p, pos + 1, 0x60)
    dob = raw.decode()
    found = 7  # 0, 1, 2, 6, 7, 8, 9 are required
    approx = False
    if p[pos] == 0x03:
        if p[pos + 1] != 0xF5:  # only `true` is allowed
            raise _Irregular
        approx = True
        pos += 2
        found += 1
    nationality = None
    if p[pos] == 0x04:
        raw, pos = _string(p, pos + 1, 0x60)
        nationality = raw.decode()
        found += 1
    thumbnail = None
    if p[pos] == 0x05:
        thumbnail, pos = _string(p, pos + 1, 0x40)
        found += 1
    if p[pos] != 0x06:
        raise _Irregular
    assurance, pos = _uint(p, pos + 1)
    if p[pos] != 0x07:
        raise _Irregular
    count = p[pos + 1] - 0x80
    if not 0 <= count < 0x18:
        raise _Irregular
    pos += 2
    codes = []
    for _ in range(count):
        code = p[pos]
        if code < 0x18:
            pos += 1
        else:
            code, pos = _uint(p, pos)
        codes.append(code)
    evidence = tuple(codes)
    if p[pos] != 0x08:
        raise _Irregular
    session, pos = _uint(p, pos + 1)
    if p[pos] != 0x09:
        raise _Irregular
    references, pos = _uint(p, pos + 1)
    languages = None
    if pos < len(p):
        if p[pos] != 0x0A:
            raise _Irregular
        languages, pos = _texts(p, pos + 1)
        found += 1
    if pos != len(p) or found != entries:
        raise _Irregular
    _check_attested(names, dob, assurance, evidence, session, references, approx,
                    nationality, thumbnail, languages, False)
    attested = _new(Attested)
    _SET_NAMES(attested, names)
    _SET_DOB(attested, dob)
    _SET_ASSURANCE(attested, assurance)
    _SET_EVIDENCE(attested, evidence)
    _SET_SESSION(attested, session)
    _SET_REFERENCES(attested, references)
    _SET_APPROX(attested, approx)
    _SET_NATIONALITY(attested, nationality)
    _SET_THUMBNAIL(attested, thumbnail)
    _SET_LANGUAGES(attested, languages)
    _check_attestation(iss, iat, nbf, exp, cti, idx, uri, attested)
    att = _new(Attestation)
    _SET_ISS(att, iss)
    _SET_IAT(att, iat)
    _SET_NBF(att, nbf)
    _SET_EXP(att, exp)
    _SET_CTI(att, cti)
    _SET_IDX(att, idx)
    _SET_URI(att, uri)
    _SET_ATTESTED(att, attested)
    return att


def decode_claims(payload: bytes) -> Attestation:
    """Decode and validate a signed payload. Raises :class:`ClaimsError`.

    Called only after the signature verified, so ``cbor2`` sees issuer-signed bytes.
    The first byte must be the head of a 7-pair map: together with the exact key-set
    check that rules out duplicate keys at the top level.
    """
    if not payload or payload[0] != 0xA7:
        raise _fail("claim set must be a CBOR map of 7 entries", "claims_keys")
    try:
        return _decode_regular(payload)
    except (_Irregular, IndexError, ValueError, struct.error):
        # Not our issuer's layout, truncated, or invalid (ClaimsError is a ValueError): the
        # general path below decides, and words the error, exactly as it always did.
        pass
    try:
        value = cbor2.loads(payload)
    except Exception:  # cbor2 raises several types (and ValueError from its tag decoders)
        raise _fail("payload is not well-formed CBOR", "claims_malformed") from None
    return Attestation.from_cbor_map(value)
