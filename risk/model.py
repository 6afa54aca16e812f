"""Typed inputs of the risk engine and their parser.

The input is what a bank knows about one applicant without calling the issuer (FORMATS.md):
the verification result and verified claims of the attestation, the issuer's accreditation
from the trust list, what is known of the trusted referee, the bank's own checks, the product
asked for and, for open accounts, a transaction summary for monitoring.

Every class is a frozen, slotted dataclass: the engine keeps a reference to its input and builds
the rule trace from it lazily, so the input must not change after assessment (and slots keep
construction cheap: a batch re-tiers a million of these).

``parse_input`` is strict on purpose: an unknown key is an error, because a misspelt flag
(``"consent_given"`` for ``"consent"``) that silently fell back to a default could open an
account that policy says must not be opened. Every error names the JSON path it is about.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, ParamSpec, TypeVar

from risk._countries import ALPHA3

INPUT_SCHEMA_VERSION: Final = 1


class InputError(ValueError):
    """The input does not follow the schema; ``path`` is a JSONPath-like pointer (``$.a.b[0]``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class VerificationResult(enum.StrEnum):
    """FORMATS.md verification result, in the order of precedence given there."""

    VALID = "valid"
    UNREADABLE = "unreadable"
    INVALID = "invalid"
    UNTRUSTED_ISSUER = "untrusted_issuer"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


class AccreditationState(enum.StrEnum):
    """Issuer state on the trust list."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    LAPSED = "lapsed"


class RefereeCertification(enum.StrEnum):
    """Trusted-referee certification (NIST SP 800-63A-4: recertified annually)."""

    CERTIFIED = "certified"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RefereeSession(enum.IntEnum):
    """Claim 8 of the attestation."""

    NONE = 0
    ONSITE = 1
    REMOTE_ATTENDED = 2


class Consent(enum.StrEnum):
    """The applicant's consent as recorded by the bank."""

    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    NOT_RECORDED = "not_recorded"


class CheckStatus(enum.StrEnum):
    """Result of a check whose positive finding needs a human to confirm (duplicates)."""

    CLEAR = "clear"
    POSSIBLE = "possible"
    CONFIRMED = "confirmed"
    NOT_RUN = "not_run"


class ScreeningStatus(enum.StrEnum):
    COMPLETED = "completed"
    NOT_RUN = "not_run"


class HitKind(enum.StrEnum):
    SANCTIONS = "sanctions"
    PEP = "pep"


class Disposition(enum.StrEnum):
    """What a reviewer decided about a screening hit. ``cleared`` is a no-hit whitelist entry."""

    OPEN = "open"
    CLEARED = "cleared"
    CONFIRMED = "confirmed"


class CddStatus(enum.StrEnum):
    """The bank's normal (foundational-ID) customer due diligence."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_DONE = "not_done"


class RequestType(enum.StrEnum):
    ONBOARDING = "onboarding"
    PERIODIC_REVIEW = "periodic_review"
    STEP_UP = "step_up"
    RENEWAL = "renewal"


class CoercionIndicator(enum.StrEnum):
    """Signs at the counter that someone else controls the applicant (FIN-2020-A008)."""

    SPEAKS_FOR_APPLICANT = "speaks_for_applicant"
    HOLDS_APPLICANT_DOCUMENTS = "holds_applicant_documents"
    CONTROLS_APPLICANT_MONEY = "controls_applicant_money"
    INSISTS_ON_BEING_PRESENT = "insists_on_being_present"
    APPLICANT_DISTRESSED_OR_SCRIPTED = "applicant_distressed_or_scripted"
    SHARED_CONTACT_DETAILS = "shared_contact_details"
    OTHER = "other"


TIERS: Final = ("T0", "T1", "T2", "T3")


@dataclass(frozen=True, slots=True)
class Claims:
    """The verified claims of the attestation that matter for tiering (FORMATS.md)."""

    identity_assurance: int
    evidence_categories: tuple[int, ...]
    trusted_referee_session: RefereeSession
    applicant_references: int
    iat: datetime
    exp: datetime
    date_of_birth: str | None = None
    date_of_birth_approximate: bool = False
    nationality: str | None = None
    photo: bool = False


@dataclass(frozen=True, slots=True)
class Issuer:
    id: str
    accreditation_state: AccreditationState
    accreditation_expires: date | None = None


@dataclass(frozen=True, slots=True)
class Referee:
    certification_state: RefereeCertification | None = None
    certification_expires: date | None = None
    #: Attestations this referee issued in the policy's vouching window (the issuer reports it).
    attestations_in_window: int | None = None


@dataclass(frozen=True, slots=True)
class Attestation:
    result: VerificationResult
    claims: Claims | None
    issuer: Issuer | None
    referee: Referee | None = None
    warnings: tuple[str, ...] = ()
    status_as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScreeningHit:
    entity_id: str
    list_name: str
    kind: HitKind
    score: float
    disposition: Disposition = Disposition.OPEN
    list_version: str | None = None
    matched_name: str | None = None


@dataclass(frozen=True, slots=True)
class Screening:
    status: ScreeningStatus
    hits: tuple[ScreeningHit, ...] = ()


@dataclass(frozen=True, slots=True)
class IndicatorSeen:
    code: CoercionIndicator
    #: The registered caseworker is an expected companion (DOMAIN.md §5): their presence alone
    #: is not a sign of control.
    by_registered_caseworker: bool = False


@dataclass(frozen=True, slots=True)
class BankChecks:
    consent: Consent
    screening: Screening
    duplicate: CheckStatus
    coercion_indicators: tuple[IndicatorSeen, ...] = ()
    third_party_control_confirmed: bool = False
    fraud_confirmed: bool = False
    attribute_conflicts: tuple[str, ...] = ()
    #: The bank's own finding that the applicant is under age; ``None`` when not assessed.
    minor: bool | None = None
    authenticator_aal: int | None = None
    standard_cdd: CddStatus = CddStatus.NOT_DONE
    id_application_confirmed: bool = False


@dataclass(frozen=True, slots=True)
class Account:
    """An account that is already open (periodic review, renewal, step-up)."""

    tier: str
    opened_on: date
    valid_until: date | None = None
    renewals_used: int = 0


@dataclass(frozen=True, slots=True)
class Request:
    type: RequestType = RequestType.ONBOARDING
    features: tuple[str, ...] = ()
    override_requested: bool = False


@dataclass(frozen=True, slots=True)
class TransactionSummary:
    """One period (usually a calendar month) of an open account, for monitoring rules."""

    period_start: date
    period_end: date
    inflow: float = 0.0
    outflow: float = 0.0
    cash_in: float = 0.0
    cash_out: float = 0.0
    max_balance: float = 0.0
    max_single_transfer: float = 0.0
    inbound_cross_border: float = 0.0
    cash_deposit_locations: int = 0
    prepaid_card_purchases: int = 0
    prepaid_card_amount: float = 0.0
    regions: int = 0
    baseline_regions: int = 0


@dataclass(frozen=True, slots=True)
class AssessmentInput:
    case_id: str
    assessed_at: date
    attestation: Attestation | None
    bank_checks: BankChecks
    request: Request = Request()
    jurisdiction: str | None = None
    applicant_key: str | None = None
    account: Account | None = None
    transactions: TransactionSummary | None = None



# --------------------------------------------------------------------------- fast construction

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _slot_setter(cls: Callable[_P, _T]) -> Callable[_P, _T]:
    """The constructor of frozen, slotted dataclass ``cls``, same signature and same object,
    but setting each slot through its descriptor.

    The dataclass ``__init__`` of a frozen class calls ``object.__setattr__`` once per field,
    and that made building the input the largest single cost of ``batch`` (about 50 fields
    per case). Calling the slot descriptors' ``__set__`` directly is about twice as fast, and
    the class keeps its frozen ``__setattr__`` for everybody else. Built with ``exec`` from
    the field list, as ``dataclasses`` builds ``__init__`` itself, so nothing loops per call.
    """
    assert isinstance(cls, type) and dataclasses.is_dataclass(cls)
    fields = dataclasses.fields(cls)
    params = []
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    for f in fields:
        env[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            env[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    body = "".join(f"    _set_{f.name}(self, {f.name})\n" for f in fields)
    src = f"def make({', '.join(params)}):\n    self = _new(_cls)\n{body}    return self\n"
    exec(src, env)  # noqa: S102 - the source is built from the class's own field names
    make: Callable[_P, _T] = env["make"]
    make.__qualname__ = f"{cls.__qualname__}.<fast constructor>"
    return make


_new_input = _slot_setter(AssessmentInput)
_new_attestation = _slot_setter(Attestation)
_new_claims = _slot_setter(Claims)
_new_issuer = _slot_setter(Issuer)
_new_referee = _slot_setter(Referee)
_new_bank = _slot_setter(BankChecks)
_new_screening = _slot_setter(Screening)
_new_hit = _slot_setter(ScreeningHit)
_new_indicator = _slot_setter(IndicatorSeen)
_new_request = _slot_setter(Request)
_new_account = _slot_setter(Account)
_new_tx = _slot_setter(TransactionSummary)

# --------------------------------------------------------------------------- parsing helpers
#
# Written for speed as well as clarity: ``batch`` parses a million lines, so the happy path
# does no string formatting (error paths are built only when an error is raised), checks types
# with ``type(v) is`` (JSON gives exact types) and looks enums up in dicts.

_E = TypeVar("_E", bound=enum.Enum)


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list | tuple):
        return "an array"
    if isinstance(v, Mapping):
        return "an object"
    return type(v).__name__


def _obj(v: Any, path: str, allowed: frozenset[str], required: tuple[str, ...] = ()
         ) -> Mapping[str, Any]:
    if type(v) is not dict and not isinstance(v, Mapping):
        raise InputError(path, f"must be an object, got {_kind(v)}")
    if not allowed.issuperset(v):
        k = next(k for k in v if k not in allowed)
        raise InputError(f"{path}.{k}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    for k in required:
        if k not in v:
            raise InputError(f"{path}.{k}", "is required")
    return v


def _str(v: Any, path: str, max_len: int = 200) -> str:
    if type(v) is not str:
        raise InputError(path, f"must be a string, got {_kind(v)}")
    if not v or len(v) > max_len:
        raise InputError(path, f"must be 1 to {max_len} characters")
    return v


def _bool(v: Any, path: str) -> bool:
    if v is True or v is False:
        return v
    raise InputError(path, f"must be true or false, got {_kind(v)}")


def _int(v: Any, path: str, lo: int = 0, hi: int = 2**53) -> int:
    if type(v) is not int:
        raise InputError(path, f"must be an integer, got {_kind(v)}")
    if not lo <= v <= hi:
        raise InputError(path, f"must be between {lo} and {hi}, got {v}")
    return v


def _num(v: Any, path: str, lo: float = 0.0, hi: float = 1e15) -> float:
    t = type(v)
    if t is not float and t is not int:
        raise InputError(path, f"must be a number, got {_kind(v)}")
    if not lo <= v <= hi:  # also rejects NaN
        raise InputError(path, f"must be between {lo:g} and {hi:g}, got {v!r}")
    return float(v)


class _EnumOf:
    """Value -> member lookup for one enum, without ``Enum.__call__``'s overhead."""

    __slots__ = ("allowed", "members")

    def __init__(self, cls: type[enum.Enum]) -> None:
        self.members: dict[Any, Any] = {m.value: m for m in cls}
        self.allowed = ", ".join(repr(m.value) for m in cls)


def _enum(e: _EnumOf, v: Any, path: str) -> Any:
    try:
        m = e.members.get(v)
    except TypeError:  # unhashable (a list or an object)
        m = None
    if m is None or type(v) is bool:
        raise InputError(path, f"must be one of {e.allowed}, got {v!r}")
    return m


_VR = _EnumOf(VerificationResult)
_ACC = _EnumOf(AccreditationState)
_CERT = _EnumOf(RefereeCertification)
_SESS = _EnumOf(RefereeSession)
_CONSENT = _EnumOf(Consent)
_CHECK = _EnumOf(CheckStatus)
_SCRS = _EnumOf(ScreeningStatus)
_HITK = _EnumOf(HitKind)
_DISP = _EnumOf(Disposition)
_CDD = _EnumOf(CddStatus)
_REQT = _EnumOf(RequestType)
_COERC = _EnumOf(CoercionIndicator)


def _date(v: Any, path: str) -> date:
    """An ISO date, or an ISO date-time whose UTC date is taken (timezone required)."""
    if type(v) is not str:
        raise InputError(path, f"must be an ISO 8601 date string, got {_kind(v)}")
    if len(v) == 10:
        try:
            return date.fromisoformat(v)
        except ValueError:
            raise InputError(path, f"is not a valid date (YYYY-MM-DD): {v!r}") from None
    return _datetime(v, path).date()


def _opt_date(v: Any, path: str) -> date | None:
    return None if v is None else _date(v, path)


def _datetime(v: Any, path: str) -> datetime:
    if type(v) is not str:
        raise InputError(path, f"must be an ISO 8601 date-time string, got {_kind(v)}")
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        raise InputError(path, f"is not a valid ISO 8601 date-time: {v!r}") from None
    if dt.tzinfo is None:
        # A time without a zone is ambiguous by up to a day, which moves expiry decisions.
        raise InputError(path, "must carry a timezone (e.g. 'Z' or '+01:00')")
    return dt.astimezone(UTC)


def _epoch(v: Any, path: str) -> datetime:
    """CWT times are seconds since the epoch (RFC 8392 NumericDate)."""
    return datetime.fromtimestamp(_int(v, path, 0, 253402300799), UTC)


def _seq(v: Any, path: str, max_items: int = 100) -> Sequence[Any]:
    if type(v) is not list and not isinstance(v, tuple):
        raise InputError(path, f"must be an array, got {_kind(v)}")
    if len(v) > max_items:
        raise InputError(path, f"must have at most {max_items} items")
    return v


def _str_list(v: Any, path: str, max_len: int) -> tuple[str, ...]:
    items = _seq(v, path)
    for i, s in enumerate(items):
        if type(s) is not str or not s or len(s) > max_len:
            _str(s, f"{path}[{i}]", max_len)  # raises with the item's path
    return tuple(items)


def _dob(v: Any, path: str) -> str:
    """FORMATS.md: "YYYY", "YYYY-MM" or "YYYY-MM-DD", each part a real date."""
    s = _str(v, path, 10)
    try:
        if len(s) == 4 and s.isdigit():
            date(int(s), 1, 1)
        elif len(s) == 7 and s[4] == "-" and s[:4].isdigit() and s[5:].isdigit():
            date(int(s[:4]), int(s[5:]), 1)
        elif len(s) == 10:
            date.fromisoformat(s)
        else:
            raise ValueError(s)
    except ValueError:
        raise InputError(path, f"must be YYYY, YYYY-MM or YYYY-MM-DD, got {s!r}") from None
    return s


# --------------------------------------------------------------------------- parsers

_K_TOP = frozenset({"schema", "case_id", "assessed_at", "jurisdiction", "applicant_key",
                    "attestation", "bank_checks", "request", "account", "transactions"})
_K_ATT = frozenset({"verification", "claims", "issuer", "referee"})
_K_VER = frozenset({"result", "warnings", "status_as_of", "steps"})
_K_CLAIMS = frozenset({"identity_assurance", "evidence_categories", "trusted_referee_session",
                       "applicant_references", "iat", "exp", "date_of_birth",
                       "date_of_birth_approximate", "nationality", "photo"})
_K_ISS = frozenset({"id", "accreditation_state", "accreditation_expires"})
_K_REF = frozenset({"certification_state", "certification_expires", "attestations_in_window"})
_K_BANK = frozenset({"consent", "screening", "duplicate", "coercion", "fraud_confirmed",
                     "attribute_conflicts", "minor", "authenticator_aal", "standard_cdd",
                     "id_application_confirmed"})
_K_SCR = frozenset({"status", "hits"})
_K_HIT = frozenset({"entity_id", "list", "kind", "score", "disposition", "list_version",
                    "matched_name"})
_K_COER = frozenset({"indicators", "third_party_control_confirmed"})
_K_IND = frozenset({"code", "by_registered_caseworker"})
_K_REQ = frozenset({"type", "features", "override_requested"})
_K_ACC = frozenset({"tier", "opened_on", "valid_until", "renewals_used"})
_K_TX = frozenset({"period_start", "period_end", "inflow", "outflow", "cash_in", "cash_out",
                   "max_balance", "max_single_transfer", "inbound_cross_border",
                   "cash_deposit_locations", "prepaid_card_purchases", "prepaid_card_amount",
                   "regions", "baseline_regions"})
_TX_AMOUNTS: Final = ("inflow", "outflow", "cash_in", "cash_out", "max_balance",
                      "max_single_transfer", "inbound_cross_border", "prepaid_card_amount")
_TX_COUNTS: Final = ("cash_deposit_locations", "prepaid_card_purchases", "regions",
                     "baseline_regions")
_DEFAULT_REQUEST: Final = Request()
_A = "$.attestation"
_C = "$.attestation.claims"
_B = "$.bank_checks"


def parse_input(data: Any) -> AssessmentInput:
    """Build an :class:`AssessmentInput` from decoded JSON, or raise :class:`InputError`."""
    d = _obj(data, "$", _K_TOP, ("case_id", "assessed_at", "bank_checks"))
    schema = d.get("schema", INPUT_SCHEMA_VERSION)
    if schema != INPUT_SCHEMA_VERSION or type(schema) is not int:
        raise InputError("$.schema", f"unsupported input schema version {schema!r}")
    att = d.get("attestation")
    jur = d.get("jurisdiction")
    key = d.get("applicant_key")
    acc = d.get("account")
    tx = d.get("transactions")
    req = d.get("request")
    return _new_input(
        case_id=_str(d["case_id"], "$.case_id"),
        assessed_at=_date(d["assessed_at"], "$.assessed_at"),
        attestation=None if att is None else _attestation(att),
        bank_checks=_bank(d["bank_checks"]),
        request=_DEFAULT_REQUEST if req is None else _request(req),
        jurisdiction=None if jur is None else _str(jur, "$.jurisdiction", 16),
        applicant_key=None if key is None else _str(key, "$.applicant_key"),
        account=None if acc is None else _account(acc),
        transactions=None if tx is None else _transactions(tx),
    )


def _attestation(v: Any) -> Attestation:
    d = _obj(v, _A, _K_ATT, ("verification",))
    ver = _obj(d["verification"], _A + ".verification", _K_VER, ("result",))
    result = _enum(_VR, ver["result"], _A + ".verification.result")
    w = ver.get("warnings")
    warnings = () if not w else _str_list(w, _A + ".verification.warnings", 500)
    sa = ver.get("status_as_of")
    claims = d.get("claims")
    if result is VerificationResult.VALID and claims is None:
        # FORMATS.md: a valid result always carries its claims; without them nothing is known.
        raise InputError(_C, "is required when the verification result is 'valid'")
    iss = d.get("issuer")
    ref = d.get("referee")
    return _new_attestation(
        result=result,
        claims=None if claims is None else _claims(claims),
        issuer=None if iss is None else _issuer(iss),
        referee=None if ref is None else _referee(ref),
        warnings=warnings,
        status_as_of=None if sa is None else _datetime(sa, _A + ".verification.status_as_of"),
    )


def _claims(v: Any) -> Claims:
    d = _obj(v, _C, _K_CLAIMS, ("identity_assurance", "evidence_categories",
                                "trusted_referee_session", "applicant_references", "iat", "exp"))
    ev = _seq(d["evidence_categories"], _C + ".evidence_categories")
    for i, c in enumerate(ev):
        if type(c) is not int or not 0 <= c <= 65535:
            _int(c, f"{_C}.evidence_categories[{i}]", 0, 65535)  # raises with the item's path
    iat = _epoch(d["iat"], _C + ".iat")
    exp = _epoch(d["exp"], _C + ".exp")
    if exp <= iat:
        raise InputError(_C + ".exp", "must be after iat")
    nat = d.get("nationality")
    if nat is not None and (type(nat) is not str or nat not in ALPHA3):
        raise InputError(_C + ".nationality",
                         f"must be an ISO 3166-1 alpha-3 code (XXA for stateless), got {nat!r}")
    dob = d.get("date_of_birth")
    approx = d.get("date_of_birth_approximate", False)
    photo = d.get("photo", False)
    return _new_claims(
        identity_assurance=_int(d["identity_assurance"], _C + ".identity_assurance", 0, 2),
        evidence_categories=tuple(ev),
        trusted_referee_session=_enum(_SESS, d["trusted_referee_session"],
                                      _C + ".trusted_referee_session"),
        applicant_references=_int(d["applicant_references"], _C + ".applicant_references", 0,
                                  100),
        iat=iat,
        exp=exp,
        date_of_birth=None if dob is None else _dob(dob, _C + ".date_of_birth"),
        date_of_birth_approximate=_bool(approx, _C + ".date_of_birth_approximate"),
        nationality=nat,
        photo=_bool(photo, _C + ".photo"),
    )


def _issuer(v: Any) -> Issuer:
    p = _A + ".issuer"
    d = _obj(v, p, _K_ISS, ("id", "accreditation_state"))
    return _new_issuer(
        id=_str(d["id"], p + ".id"),
        accreditation_state=_enum(_ACC, d["accreditation_state"], p + ".accreditation_state"),
        accreditation_expires=_opt_date(d.get("accreditation_expires"),
                                        p + ".accreditation_expires"),
    )


def _referee(v: Any) -> Referee:
    p = _A + ".referee"
    d = _obj(v, p, _K_REF)
    st = d.get("certification_state")
    n = d.get("attestations_in_window")
    return _new_referee(
        certification_state=None if st is None else _enum(_CERT, st,
                                                         p + ".certification_state"),
        certification_expires=_opt_date(d.get("certification_expires"),
                                        p + ".certification_expires"),
        attestations_in_window=None if n is None else _int(n, p + ".attestations_in_window"),
    )


def _bank(v: Any) -> BankChecks:
    d = _obj(v, _B, _K_BANK, ("consent", "screening", "duplicate"))
    s = _obj(d["screening"], _B + ".screening", _K_SCR, ("status",))
    raw_hits = s.get("hits")
    hits: tuple[ScreeningHit, ...] = () if not raw_hits else tuple(
        _hit(h, i) for i, h in enumerate(_seq(raw_hits, _B + ".screening.hits", 1000)))
    status = _enum(_SCRS, s["status"], _B + ".screening.status")
    if status is ScreeningStatus.NOT_RUN and hits:
        raise InputError(_B + ".screening.hits", "must be empty when screening was not run")
    c = d.get("coercion")
    indicators: tuple[IndicatorSeen, ...] = ()
    tpc = False
    if c is not None:
        co = _obj(c, _B + ".coercion", _K_COER)
        raw = co.get("indicators")
        if raw:
            indicators = tuple(_indicator(x, i) for i, x in
                               enumerate(_seq(raw, _B + ".coercion.indicators")))
        tpc = _bool(co.get("third_party_control_confirmed", False),
                    _B + ".coercion.third_party_control_confirmed")
    minor = d.get("minor")
    aal = d.get("authenticator_aal")
    conflicts = d.get("attribute_conflicts")
    cdd = d.get("standard_cdd")
    return _new_bank(
        consent=_enum(_CONSENT, d["consent"], _B + ".consent"),
        screening=_new_screening(status, hits),
        duplicate=_enum(_CHECK, d["duplicate"], _B + ".duplicate"),
        coercion_indicators=indicators,
        third_party_control_confirmed=tpc,
        fraud_confirmed=_bool(d.get("fraud_confirmed", False), _B + ".fraud_confirmed"),
        attribute_conflicts=() if not conflicts else _str_list(
            conflicts, _B + ".attribute_conflicts", 64),
        minor=None if minor is None else _bool(minor, _B + ".minor"),
        authenticator_aal=None if aal is None else _int(aal, _B + ".authenticator_aal", 1, 3),
        standard_cdd=CddStatus.NOT_DONE if cdd is None else _enum(_CDD, cdd,
                                                                  _B + ".standard_cdd"),
        id_application_confirmed=_bool(d.get("id_application_confirmed", False),
                                       _B + ".id_application_confirmed"),
    )


def _hit(v: Any, i: int) -> ScreeningHit:
    p = f"{_B}.screening.hits[{i}]"
    d = _obj(v, p, _K_HIT, ("entity_id", "list", "kind", "score"))
    lv = d.get("list_version")
    mn = d.get("matched_name")
    disp = d.get("disposition")
    return _new_hit(
        entity_id=_str(d["entity_id"], p + ".entity_id"),
        list_name=_str(d["list"], p + ".list"),
        kind=_enum(_HITK, d["kind"], p + ".kind"),
        score=_num(d["score"], p + ".score", 0.0, 100.0),
        disposition=Disposition.OPEN if disp is None else _enum(_DISP, disp,
                                                                p + ".disposition"),
        list_version=None if lv is None else _str(lv, p + ".list_version"),
        matched_name=None if mn is None else _str(mn, p + ".matched_name", 500),
    )


def _indicator(v: Any, i: int) -> IndicatorSeen:
    p = f"{_B}.coercion.indicators[{i}]"
    d = _obj(v, p, _K_IND, ("code",))
    return _new_indicator(
        code=_enum(_COERC, d["code"], p + ".code"),
        by_registered_caseworker=_bool(d.get("by_registered_caseworker", False),
                                       p + ".by_registered_caseworker"),
    )


def _request(v: Any) -> Request:
    d = _obj(v, "$.request", _K_REQ)
    t = d.get("type")
    f = d.get("features")
    return _new_request(
        type=RequestType.ONBOARDING if t is None else _enum(_REQT, t, "$.request.type"),
        features=() if not f else _str_list(f, "$.request.features", 64),
        override_requested=_bool(d.get("override_requested", False),
                                 "$.request.override_requested"),
    )


def _account(v: Any) -> Account:
    d = _obj(v, "$.account", _K_ACC, ("tier", "opened_on"))
    tier = d["tier"]
    if tier not in TIERS:
        raise InputError("$.account.tier", f"must be one of {', '.join(TIERS)}, got {tier!r}")
    return _new_account(
        tier=tier,
        opened_on=_date(d["opened_on"], "$.account.opened_on"),
        valid_until=_opt_date(d.get("valid_until"), "$.account.valid_until"),
        renewals_used=_int(d.get("renewals_used", 0), "$.account.renewals_used", 0, 100),
    )


def _transactions(v: Any) -> TransactionSummary:
    p = "$.transactions"
    d = _obj(v, p, _K_TX, ("period_start", "period_end"))
    start = _date(d["period_start"], p + ".period_start")
    end = _date(d["period_end"], p + ".period_end")
    if end < start:
        raise InputError(p + ".period_end", "must not be before period_start")
    # Any-typed so both dicts can be splatted into the dataclass; each value is checked here.
    amounts: dict[str, Any] = {k: _num(d.get(k, 0), f"{p}.{k}") for k in _TX_AMOUNTS}
    counts: dict[str, Any] = {k: _int(d.get(k, 0), f"{p}.{k}", 0, 100_000) for k in _TX_COUNTS}
    return _new_tx(period_start=start, period_end=end, **amounts, **counts)


#: The fields of a transaction summary, in the order a CSV file gives them.
TRANSACTION_AMOUNTS: Final = _TX_AMOUNTS
TRANSACTION_COUNTS: Final = _TX_COUNTS
TRANSACTION_FIELDS: Final = ("period_start", "period_end", *_TX_AMOUNTS, *_TX_COUNTS)


def parse_transactions(data: Any) -> TransactionSummary:
    """Parse one period's transaction summary (the ``transactions`` object of the input
    schema) on its own, e.g. as fed monthly by a core banking system for monitoring."""
    return _transactions(data)


def parse_json(text: str | bytes) -> AssessmentInput:
    """Parse one JSON document (raises :class:`InputError` for JSON syntax errors too)."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError("$", f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"
                         ) from None
    return parse_input(data)
