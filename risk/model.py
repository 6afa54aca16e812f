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

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar

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


# --------------------------------------------------------------------------- parsing helpers

_E = TypeVar("_E", bound=enum.Enum)


def _obj(v: Any, path: str, allowed: frozenset[str], required: tuple[str, ...] = ()
         ) -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        raise InputError(path, f"must be an object, got {_kind(v)}")
    for k in v:
        if k not in allowed:
            raise InputError(f"{path}.{k}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    for k in required:
        if k not in v:
            raise InputError(f"{path}.{k}", "is required")
    return v


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


def _str(v: Any, path: str, max_len: int = 200) -> str:
    if not isinstance(v, str):
        raise InputError(path, f"must be a string, got {_kind(v)}")
    if not v or len(v) > max_len:
        raise InputError(path, f"must be 1 to {max_len} characters")
    return v


def _opt_str(v: Any, path: str) -> str | None:
    return None if v is None else _str(v, path)


def _bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise InputError(path, f"must be true or false, got {_kind(v)}")
    return v


def _int(v: Any, path: str, lo: int = 0, hi: int = 2**53) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise InputError(path, f"must be an integer, got {_kind(v)}")
    if not lo <= v <= hi:
        raise InputError(path, f"must be between {lo} and {hi}, got {v}")
    return v


def _num(v: Any, path: str, lo: float = 0.0, hi: float = 1e15) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise InputError(path, f"must be a number, got {_kind(v)}")
    if not lo <= v <= hi:  # also rejects NaN
        raise InputError(path, f"must be between {lo:g} and {hi:g}, got {v!r}")
    return float(v)


def _enum(cls: type[_E], v: Any, path: str) -> _E:
    try:
        return cls(v)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in cls)
        raise InputError(path, f"must be one of {allowed}, got {v!r}") from None


def _date(v: Any, path: str) -> date:
    """An ISO date, or an ISO date-time whose UTC date is taken (timezone required)."""
    if not isinstance(v, str):
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
    if not isinstance(v, str):
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
    if not isinstance(v, list | tuple):
        raise InputError(path, f"must be an array, got {_kind(v)}")
    if len(v) > max_items:
        raise InputError(path, f"must have at most {max_items} items")
    return v


def _dob(v: Any, path: str) -> str:
    """FORMATS.md: "YYYY", "YYYY-MM" or "YYYY-MM-DD", each part a real date."""
    s = _str(v, path, 10)
    try:
        if len(s) == 4 and s.isdigit():
            date(int(s), 1, 1)
        elif len(s) == 7 and s[4] == "-":
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


def parse_input(data: Any) -> AssessmentInput:
    """Build an :class:`AssessmentInput` from decoded JSON, or raise :class:`InputError`."""
    d = _obj(data, "$", _K_TOP, ("case_id", "assessed_at", "bank_checks"))
    schema = d.get("schema", INPUT_SCHEMA_VERSION)
    if schema != INPUT_SCHEMA_VERSION:
        raise InputError("$.schema", f"unsupported input schema version {schema!r}")
    att = d.get("attestation")
    jur = d.get("jurisdiction")
    acc = d.get("account")
    tx = d.get("transactions")
    req = d.get("request")
    return AssessmentInput(
        case_id=_str(d["case_id"], "$.case_id"),
        assessed_at=_date(d["assessed_at"], "$.assessed_at"),
        attestation=None if att is None else _attestation(att, "$.attestation"),
        bank_checks=_bank(d["bank_checks"], "$.bank_checks"),
        request=Request() if req is None else _request(req, "$.request"),
        jurisdiction=None if jur is None else _str(jur, "$.jurisdiction", 16),
        applicant_key=_opt_str(d.get("applicant_key"), "$.applicant_key"),
        account=None if acc is None else _account(acc, "$.account"),
        transactions=None if tx is None else _transactions(tx, "$.transactions"),
    )


def _attestation(v: Any, p: str) -> Attestation:
    d = _obj(v, p, _K_ATT, ("verification",))
    ver = _obj(d["verification"], p + ".verification", _K_VER, ("result",))
    result = _enum(VerificationResult, ver["result"], p + ".verification.result")
    warnings = tuple(_str(w, f"{p}.verification.warnings[{i}]", 500)
                     for i, w in enumerate(_seq(ver.get("warnings", ()),
                                                p + ".verification.warnings")))
    sa = ver.get("status_as_of")
    claims = d.get("claims")
    if result is VerificationResult.VALID and claims is None:
        # FORMATS.md: a valid result always carries its claims; without them nothing is known.
        raise InputError(p + ".claims", "is required when the verification result is 'valid'")
    iss = d.get("issuer")
    ref = d.get("referee")
    return Attestation(
        result=result,
        claims=None if claims is None else _claims(claims, p + ".claims"),
        issuer=None if iss is None else _issuer(iss, p + ".issuer"),
        referee=None if ref is None else _referee(ref, p + ".referee"),
        warnings=warnings,
        status_as_of=None if sa is None else _datetime(sa, p + ".verification.status_as_of"),
    )


def _claims(v: Any, p: str) -> Claims:
    d = _obj(v, p, _K_CLAIMS, ("identity_assurance", "evidence_categories",
                               "trusted_referee_session", "applicant_references", "iat", "exp"))
    ev = tuple(_int(c, f"{p}.evidence_categories[{i}]", 0, 65535)
               for i, c in enumerate(_seq(d["evidence_categories"], p + ".evidence_categories")))
    iat = _epoch(d["iat"], p + ".iat")
    exp = _epoch(d["exp"], p + ".exp")
    if exp <= iat:
        raise InputError(p + ".exp", "must be after iat")
    nat = d.get("nationality")
    if nat is not None and (not isinstance(nat, str) or nat not in ALPHA3):
        raise InputError(p + ".nationality",
                         f"must be an ISO 3166-1 alpha-3 code (XXA for stateless), got {nat!r}")
    dob = d.get("date_of_birth")
    return Claims(
        identity_assurance=_int(d["identity_assurance"], p + ".identity_assurance", 0, 2),
        evidence_categories=ev,
        trusted_referee_session=RefereeSession(
            _int(d["trusted_referee_session"], p + ".trusted_referee_session", 0, 2)),
        applicant_references=_int(d["applicant_references"], p + ".applicant_references", 0, 100),
        iat=iat,
        exp=exp,
        date_of_birth=None if dob is None else _dob(dob, p + ".date_of_birth"),
        date_of_birth_approximate=_bool(d.get("date_of_birth_approximate", False),
                                        p + ".date_of_birth_approximate"),
        nationality=nat,
        photo=_bool(d.get("photo", False), p + ".photo"),
    )


def _issuer(v: Any, p: str) -> Issuer:
    d = _obj(v, p, _K_ISS, ("id", "accreditation_state"))
    return Issuer(
        id=_str(d["id"], p + ".id"),
        accreditation_state=_enum(AccreditationState, d["accreditation_state"],
                                  p + ".accreditation_state"),
        accreditation_expires=_opt_date(d.get("accreditation_expires"),
                                        p + ".accreditation_expires"),
    )


def _referee(v: Any, p: str) -> Referee:
    d = _obj(v, p, _K_REF)
    st = d.get("certification_state")
    n = d.get("attestations_in_window")
    return Referee(
        certification_state=None if st is None else _enum(RefereeCertification, st,
                                                         p + ".certification_state"),
        certification_expires=_opt_date(d.get("certification_expires"),
                                        p + ".certification_expires"),
        attestations_in_window=None if n is None else _int(n, p + ".attestations_in_window"),
    )


def _bank(v: Any, p: str) -> BankChecks:
    d = _obj(v, p, _K_BANK, ("consent", "screening", "duplicate"))
    s = _obj(d["screening"], p + ".screening", _K_SCR, ("status",))
    hits = tuple(_hit(h, f"{p}.screening.hits[{i}]")
                 for i, h in enumerate(_seq(s.get("hits", ()), p + ".screening.hits", 1000)))
    status = _enum(ScreeningStatus, s["status"], p + ".screening.status")
    if status is ScreeningStatus.NOT_RUN and hits:
        raise InputError(p + ".screening.hits", "must be empty when screening was not run")
    c = d.get("coercion")
    indicators: tuple[IndicatorSeen, ...] = ()
    tpc = False
    if c is not None:
        co = _obj(c, p + ".coercion", _K_COER)
        indicators = tuple(_indicator(x, f"{p}.coercion.indicators[{i}]")
                           for i, x in enumerate(_seq(co.get("indicators", ()),
                                                      p + ".coercion.indicators")))
        tpc = _bool(co.get("third_party_control_confirmed", False),
                    p + ".coercion.third_party_control_confirmed")
    minor = d.get("minor")
    aal = d.get("authenticator_aal")
    return BankChecks(
        consent=_enum(Consent, d["consent"], p + ".consent"),
        screening=Screening(status, hits),
        duplicate=_enum(CheckStatus, d["duplicate"], p + ".duplicate"),
        coercion_indicators=indicators,
        third_party_control_confirmed=tpc,
        fraud_confirmed=_bool(d.get("fraud_confirmed", False), p + ".fraud_confirmed"),
        attribute_conflicts=tuple(
            _str(a, f"{p}.attribute_conflicts[{i}]", 64)
            for i, a in enumerate(_seq(d.get("attribute_conflicts", ()),
                                       p + ".attribute_conflicts"))),
        minor=None if minor is None else _bool(minor, p + ".minor"),
        authenticator_aal=None if aal is None else _int(aal, p + ".authenticator_aal", 1, 3),
        standard_cdd=_enum(CddStatus, d.get("standard_cdd", "not_done"), p + ".standard_cdd"),
        id_application_confirmed=_bool(d.get("id_application_confirmed", False),
                                       p + ".id_application_confirmed"),
    )


def _hit(v: Any, p: str) -> ScreeningHit:
    d = _obj(v, p, _K_HIT, ("entity_id", "list", "kind", "score"))
    lv = d.get("list_version")
    mn = d.get("matched_name")
    return ScreeningHit(
        entity_id=_str(d["entity_id"], p + ".entity_id"),
        list_name=_str(d["list"], p + ".list"),
        kind=_enum(HitKind, d["kind"], p + ".kind"),
        score=_num(d["score"], p + ".score", 0.0, 100.0),
        disposition=_enum(Disposition, d.get("disposition", "open"), p + ".disposition"),
        list_version=None if lv is None else _str(lv, p + ".list_version"),
        matched_name=None if mn is None else _str(mn, p + ".matched_name", 500),
    )


def _indicator(v: Any, p: str) -> IndicatorSeen:
    d = _obj(v, p, _K_IND, ("code",))
    return IndicatorSeen(
        code=_enum(CoercionIndicator, d["code"], p + ".code"),
        by_registered_caseworker=_bool(d.get("by_registered_caseworker", False),
                                       p + ".by_registered_caseworker"),
    )


def _request(v: Any, p: str) -> Request:
    d = _obj(v, p, _K_REQ)
    return Request(
        type=_enum(RequestType, d.get("type", "onboarding"), p + ".type"),
        features=tuple(_str(f, f"{p}.features[{i}]", 64)
                       for i, f in enumerate(_seq(d.get("features", ()), p + ".features"))),
        override_requested=_bool(d.get("override_requested", False), p + ".override_requested"),
    )


def _account(v: Any, p: str) -> Account:
    d = _obj(v, p, _K_ACC, ("tier", "opened_on"))
    tier = d["tier"]
    if tier not in TIERS:
        raise InputError(p + ".tier", f"must be one of {', '.join(TIERS)}, got {tier!r}")
    return Account(
        tier=tier,
        opened_on=_date(d["opened_on"], p + ".opened_on"),
        valid_until=_opt_date(d.get("valid_until"), p + ".valid_until"),
        renewals_used=_int(d.get("renewals_used", 0), p + ".renewals_used", 0, 100),
    )


def _transactions(v: Any, p: str) -> TransactionSummary:
    d = _obj(v, p, _K_TX, ("period_start", "period_end"))
    start = _date(d["period_start"], p + ".period_start")
    end = _date(d["period_end"], p + ".period_end")
    if end < start:
        raise InputError(p + ".period_end", "must not be before period_start")
    # Any-typed so both dicts can be splatted into the dataclass; each value is checked above.
    amounts: dict[str, Any] = {k: _num(d.get(k, 0), f"{p}.{k}") for k in _TX_AMOUNTS}
    counts: dict[str, Any] = {k: _int(d.get(k, 0), f"{p}.{k}", 0, 100_000) for k in _TX_COUNTS}
    return TransactionSummary(period_start=start, period_end=end, **amounts, **counts)


def parse_json(text: str | bytes) -> AssessmentInput:
    """Parse one JSON document (raises :class:`InputError` for JSON syntax errors too)."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError("$", f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"
                         ) from None
    return parse_input(data)
