"""Offline verification of attestation QR text: the nine steps of FORMATS.md.

``verify()`` never raises for anything about the input: every decode error is caught and
becomes a step with ``ok: false``, a reason for people and a reason ``code`` for programs.
It raises only for programming errors (a naive ``at``).

Steps, always all nine and in this order (``ok`` null = not run / no data):

=========== ===========================================================================
prefix      the text starts with an accepted prefix (``ID1:``)
base45      canonical RFC 9285 Base45
decompress  zlib, at most 4 KiB, canonical padding, nothing after the stream
cose        a COSE_Sign1 (tag 18 or untagged); ``alg`` protected and allowed; protected
            header holds only alg and kid, unprotected at most kid
kid         the kid names a trust-list key; after the signature: key not revoked, not
            retired before ``iat``; issuer active and accredited; trust list not expired
signature   the signature verifies with one of the keys sharing that kid
expiry      ``exp`` not reached; ``nbf`` and ``iat`` not in the future (``skew_seconds``)
status      the IETF status list entry (valid / revoked / suspended); null when no list
claims      the claim set matches the CDDL and ``iss`` is the issuer of the key
=========== ===========================================================================

When several steps fail, the result is the first of: unreadable, invalid,
untrusted_issuer, revoked, suspended, expired, not_yet_valid.

Nothing here contacts the issuer: status lists are fetched whole, in advance.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from onboarding.attestation._util import iso, timestamp
from onboarding.attestation.base45 import b45decode
from onboarding.attestation.claims import Attestation, decode_claims
from onboarding.attestation.cose import (
    ACCEPTED_ALGS,
    HEADER_ALG,
    HEADER_KID,
    decode_sign1,
    verify_listed,
)
from onboarding.attestation.envelope import (
    DEFAULT_PREFIX,
    MAX_TEXT_CHARS,
    decompress,
    split_prefix,
)
from onboarding.attestation.errors import (
    Base45Error,
    ClaimsError,
    CoseError,
    EnvelopeError,
)
from onboarding.attestation.keys import alg_name, kid_to_text
from onboarding.attestation.statuslist import (
    STATUS_INVALID,
    STATUS_SUSPENDED,
    STATUS_VALID,
    StatusStore,
)
from onboarding.attestation.trustlist import Issuer, IssuerKey, IssuerState, KeyState, TrustStore

__all__ = [
    "RESULTS",
    "STEP_NAMES",
    "IssuerInfo",
    "Step",
    "VerificationResult",
    "verify",
]

STEP_NAMES = ("prefix", "base45", "decompress", "cose", "kid", "signature", "expiry",
              "status", "claims")
VALID = "valid"
UNREADABLE = "unreadable"
INVALID = "invalid"
UNTRUSTED = "untrusted_issuer"
REVOKED = "revoked"
SUSPENDED = "suspended"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
#: Precedence, most serious first (FORMATS.md).
RESULTS = (UNREADABLE, INVALID, UNTRUSTED, REVOKED, SUSPENDED, EXPIRED, NOT_YET_VALID)
_RANK = {name: rank for rank, name in enumerate(RESULTS)}
#: Results whose claims are shown: the signature verified and the issuer is trusted.
_SHOW_CLAIMS = frozenset({VALID, REVOKED, SUSPENDED, EXPIRED, NOT_YET_VALID})
_PROTECTED_LABELS = frozenset({HEADER_ALG, HEADER_KID})
_UNPROTECTED_LABELS = frozenset({HEADER_KID})
_NOT_RUN = "not run: an earlier step failed"
_COSE_OK = {alg: f"COSE_Sign1, {alg_name(alg)}" for alg in ACCEPTED_ALGS}
_SIG_OK = {alg: f"signature verifies ({alg_name(alg)})" for alg in ACCEPTED_ALGS}
#: A step reason: text, or (prefix, timestamp) rendered as prefix + ISO 8601 on access.
Reason = str | tuple[str, int]
_I_PREFIX, _I_BASE45, _I_DECOMPRESS, _I_COSE, _I_KID, _I_SIG, _I_EXPIRY, _I_STATUS, _I_CLAIMS = (
    range(9)
)


class Step(NamedTuple):
    """One verification step. ``ok`` is None when it did not run or had no data."""

    name: str
    ok: bool | None
    reason: str
    code: str


class IssuerInfo(NamedTuple):
    """What the result says about the issuer (from the trust list, never the token)."""

    id: str
    display_name: str
    jurisdiction: str
    accreditation: str  # active / suspended / revoked / expired
    accredited_until: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "display_name": self.display_name,
            "jurisdiction": self.jurisdiction,
            "accreditation": self.accreditation,
            "accredited_until": None if self.accredited_until is None
            else iso(self.accredited_until),
        }


class VerificationResult:
    """The FORMATS.md verification result. ``result == "valid"`` is the only acceptance."""

    __slots__ = ("_codes", "_oks", "_reasons", "_steps", "claims", "code", "issuer", "result",
                 "status_as_of", "warnings")

    def __init__(
        self,
        result: str,
        code: str,
        oks: list[bool | None],
        reasons: list[Reason],
        codes: list[str],
        warnings: tuple[str, ...],
        status_as_of: int | None,
        issuer: IssuerInfo | None,
        claims: Attestation | None,
    ) -> None:
        self.result = result
        self.code = code
        self._oks = oks
        self._reasons = reasons
        self._codes = codes
        self._steps: tuple[Step, ...] | None = None
        self.warnings = warnings
        self.status_as_of = status_as_of
        self.issuer = issuer
        self.claims = claims

    @property
    def steps(self) -> tuple[Step, ...]:
        """All nine steps, in FORMATS.md order (built on first access)."""
        if self._steps is None:
            reasons = [r if isinstance(r, str) else r[0] + iso(r[1]) for r in self._reasons]
            self._steps = tuple(map(Step, STEP_NAMES, self._oks, reasons, self._codes))
        return self._steps

    @property
    def valid(self) -> bool:
        return self.result == VALID

    def step(self, name: str) -> Step:
        return self.steps[STEP_NAMES.index(name)]

    def to_json(self, *, include_codes: bool = False) -> dict[str, Any]:
        """Exactly the FORMATS.md object. ``include_codes`` adds ``code`` members (top
        level and per step) for API consumers that want machine reasons."""
        steps: list[dict[str, Any]] = []
        for s in self.steps:
            item: dict[str, Any] = {"name": s.name, "ok": s.ok, "reason": s.reason}
            if include_codes:
                item["code"] = s.code
            steps.append(item)
        out: dict[str, Any] = {
            "result": self.result,
            "steps": steps,
            "warnings": list(self.warnings),
            "status_as_of": None if self.status_as_of is None else iso(self.status_as_of),
            "issuer": None if self.issuer is None else self.issuer.to_json(),
            "claims": None if self.claims is None else self.claims.to_json(),
        }
        if include_codes:
            out = {"result": out.pop("result"), "code": self.code, **out}
        return out

    def __repr__(self) -> str:
        return f"<VerificationResult {self.result} ({self.code})>"


def _short(kid: bytes) -> str:
    text = kid_to_text(kid)
    return text if len(text) <= 16 else text[:16] + "..."


#: id(issuer) -> (issuer, its IssuerInfo while accredited, after accreditation expiry).
#: Issuers are frozen, so what the result shows about one never changes except for that
#: expiry, which is decided per call. The entry holds the issuer itself, so its id cannot
#: be reused while cached; bounded because trust lists get replaced.
_INFO_CACHE: dict[int, tuple[Issuer, IssuerInfo, IssuerInfo]] = {}
_INFO_CACHE_MAX = 1024
_ISSUER_ACTIVE = IssuerState.ACTIVE
_KEY_ACTIVE = KeyState.ACTIVE


def _issuer_info(issuer: Issuer, now: int) -> IssuerInfo:
    cached = _INFO_CACHE.get(id(issuer))
    if cached is None or cached[0] is not issuer:
        if len(_INFO_CACHE) >= _INFO_CACHE_MAX:
            _INFO_CACHE.clear()
        current = "active" if issuer.state == _ISSUER_ACTIVE else str(issuer.state)
        expired = "expired" if issuer.state == _ISSUER_ACTIVE else current
        cached = (issuer,
                  IssuerInfo(issuer.id, issuer.display_name, issuer.jurisdiction, current,
                             issuer.accredited_until),
                  IssuerInfo(issuer.id, issuer.display_name, issuer.jurisdiction, expired,
                             issuer.accredited_until))
        _INFO_CACHE[id(issuer)] = cached
    until = issuer.accredited_until
    return cached[2] if until is not None and now >= until else cached[1]


def _judge_key(
    issuer: Issuer, key: IssuerKey, trust: TrustStore, iat: int | None, now: int
) -> tuple[str, str, str] | None:
    """(category, code, reason) when the key or its issuer must not be trusted."""
    # The usual case first, in one expression: an active key of an active, accredited
    # issuer in an unexpired trust list (each condition is also checked below).
    until = issuer.accredited_until
    valid_until = trust.valid_until
    if (key.state == _KEY_ACTIVE and issuer.state == _ISSUER_ACTIVE
            and (until is None or now < until)
            and (valid_until is None or now < valid_until)):
        return None
    if key.state == KeyState.REVOKED:
        return INVALID, "key_revoked", "the signing key was revoked (compromise): " \
            "nothing it signed is valid"
    if key.state == KeyState.RETIRED and key.retired_at is not None and (
        iat is None or iat >= key.retired_at
    ):
        return INVALID, "key_retired", f"the signing key was retired at {iso(key.retired_at)}, " \
            "before this attestation was issued"
    if issuer.state == IssuerState.SUSPENDED:
        return UNTRUSTED, "issuer_suspended", f"issuer {issuer.id} is suspended"
    if issuer.state == IssuerState.REVOKED:
        return UNTRUSTED, "issuer_revoked", f"issuer {issuer.id} is no longer accredited"
    if issuer.accredited_until is not None and now >= issuer.accredited_until:
        return UNTRUSTED, "accreditation_expired", \
            f"issuer {issuer.id}'s accreditation expired at {iso(issuer.accredited_until)}"
    if trust.valid_until is not None and now >= trust.valid_until:
        return UNTRUSTED, "trust_list_expired", \
            f"the trust list expired at {iso(trust.valid_until)}: update it"
    return None


def verify(
    qr_text: str,
    *,
    trust: TrustStore,
    status: StatusStore | None,
    at: datetime,
    prefixes: Sequence[str] = (DEFAULT_PREFIX,),
    skew_seconds: int = 300,
    algorithms: Collection[int] = ACCEPTED_ALGS,
) -> VerificationResult:
    """Verify QR text offline. See the module docstring for the steps and precedence.

    ``at`` is the verification time (timezone-aware). ``skew_seconds`` tolerates clocks
    that are a little behind the issuer's for ``nbf``/``iat``. ``algorithms`` may narrow
    the accepted set (-19, -8, -7); the token can never widen it.
    """
    now = timestamp(at)
    if isinstance(prefixes, str):  # a bare "ID1:" would otherwise accept "I", "D", ...
        prefixes = (prefixes,)
    # One slot per step, filled as steps run. A reason is text, or (text, timestamp)
    # formatted only if somebody reads it (a bank batch job often reads only .result).
    oks: list[bool | None] = [None] * 9
    reasons: list[Reason] = [_NOT_RUN] * 9
    codes = ["not_run"] * 9
    failures: list[tuple[int, int]] = []  # (rank of the result category, step index)
    warnings: list[str] = []
    status_as_of: int | None = None
    issuer_info: IssuerInfo | None = None
    claims: Attestation | None = None

    def fail(index: int, category: str, code: str, reason: Reason) -> None:
        oks[index] = False
        codes[index] = code
        reasons[index] = reason
        failures.append((_RANK[category], index))

    def finish() -> VerificationResult:
        if failures:
            rank, index = min(failures)
            result, code = RESULTS[rank], codes[index]
        else:
            result, code = VALID, "valid"
        return VerificationResult(
            result, code, oks, reasons, codes, tuple(warnings), status_as_of, issuer_info,
            claims if result in _SHOW_CLAIMS else None,
        )

    # 1. prefix ------------------------------------------------------------------------
    if not isinstance(qr_text, str):
        fail(_I_PREFIX, UNREADABLE, "not_text", "input is not text")
        return finish()
    # CR/LF are not Base45 characters, so trimming them (scanners and files add them)
    # cannot change what a valid text means. Spaces *are* Base45 and are kept.
    text = qr_text.strip("\r\n")
    if len(text) > MAX_TEXT_CHARS:
        fail(_I_PREFIX, UNREADABLE, "too_long", f"longer than {MAX_TEXT_CHARS} characters")
        return finish()
    for prefix in prefixes:  # split_prefix(), inlined: it runs on every verification
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            break
    else:
        try:
            split_prefix(text, prefixes)  # raises, with the reason
        except EnvelopeError as exc:
            fail(_I_PREFIX, UNREADABLE, exc.code, exc.message)
        else:  # never reached today; if it ever is, the result must not read as valid
            fail(_I_PREFIX, UNREADABLE, "prefix_unknown", "no accepted prefix")
        return finish()
    oks[_I_PREFIX], codes[_I_PREFIX], reasons[_I_PREFIX] = True, "ok", "prefix " + prefix

    # 2-3. base45, decompress ------------------------------------------------------------
    try:
        compressed = b45decode(rest)
    except Base45Error as exc:
        fail(_I_BASE45, UNREADABLE, exc.code, exc.message)
        return finish()
    oks[_I_BASE45], codes[_I_BASE45], reasons[_I_BASE45] = True, "ok", "canonical Base45"
    try:
        cose_bytes = decompress(compressed)
    except EnvelopeError as exc:
        fail(_I_DECOMPRESS, UNREADABLE, exc.code, exc.message)
        return finish()
    oks[_I_DECOMPRESS], codes[_I_DECOMPRESS], reasons[_I_DECOMPRESS] = True, "ok", "zlib"

    # 4. cose ----------------------------------------------------------------------------
    try:
        msg = decode_sign1(cose_bytes)
    except CoseError as exc:
        category = UNREADABLE if exc.code == "cose_malformed" else INVALID
        fail(_I_COSE, category, exc.code, exc.message)
        return finish()
    alg = msg.alg
    if not isinstance(alg, int) or alg not in algorithms or alg not in ACCEPTED_ALGS:
        fail(_I_COSE, INVALID, "alg_not_allowed", f"algorithm {alg!r} is not allowed")
        return finish()
    if not msg.protected.keys() <= _PROTECTED_LABELS or not (
        msg.unprotected.keys() <= _UNPROTECTED_LABELS
    ):
        fail(_I_COSE, INVALID, "header_unexpected",
             "headers other than alg and kid are not part of this format")
        return finish()
    oks[_I_COSE], codes[_I_COSE], reasons[_I_COSE] = True, "ok", _COSE_OK[alg]

    # 5. kid (lookup; the trust judgement waits for the signature and iat) ----------------
    kid = msg.kid
    if kid is None:
        fail(_I_KID, INVALID, "kid_missing", "no kid header")
        return finish()
    candidates = trust.candidates(kid)
    if not candidates:
        fail(_I_KID, UNTRUSTED, "kid_unknown", f"kid {_short(kid)} is not a trusted key")
        return finish()

    # 6. signature: every trusted key sharing the kid --------------------------------------
    verified: list[tuple[Issuer, IssuerKey]] = []
    sig_error = "no key with this kid accepts this algorithm"
    sig_code = "alg_key_mismatch"
    for issuer, key in candidates:
        if alg not in key.token_algs:
            continue
        try:
            # alg is allowed (cose step) and fits the listed key (token_algs), and the
            # listing checked the key type against its alg: no need to redo those here.
            verify_listed(msg, key.public_key, key.alg)
        except CoseError as exc:
            sig_error, sig_code = exc.message, exc.code
            continue
        verified.append((issuer, key))
    if not verified:
        oks[_I_KID], codes[_I_KID], reasons[_I_KID] = True, "ok", "kid is listed"
        fail(_I_SIG, INVALID, sig_code, sig_error)
        return finish()
    oks[_I_SIG], codes[_I_SIG], reasons[_I_SIG] = True, "ok", _SIG_OK[alg]

    # 9. claims (decoded only now: the payload is issuer-signed) ---------------------------
    try:
        att = decode_claims(msg.payload)
    except ClaimsError as exc:
        issuer, key = verified[0]
        issuer_info = _issuer_info(issuer, now)
        verdict = _judge_key(issuer, key, trust, None, now)
        if verdict:
            fail(_I_KID, *verdict)
        else:
            oks[_I_KID], codes[_I_KID], reasons[_I_KID] = True, "ok", "trusted key"
        fail(_I_CLAIMS, INVALID, exc.code, exc.message)
        return finish()
    issuer, key = verified[0]
    if len(verified) > 1:  # the same key listed for several issuers: iss picks one
        for pair in verified:
            if pair[0].id == att.iss:
                issuer, key = pair
                break
    issuer_info = _issuer_info(issuer, now)
    claims = att

    # 5. kid, judged -------------------------------------------------------------------------
    verdict = _judge_key(issuer, key, trust, att.iat, now)
    if verdict:
        fail(_I_KID, *verdict)
    else:
        oks[_I_KID], codes[_I_KID] = True, "ok"
        reasons[_I_KID] = key.description

    # 9. claims, bound to the key's issuer ---------------------------------------------
    if att.iss != issuer.id:
        fail(_I_CLAIMS, INVALID, "iss_mismatch",
             f"iss {att.iss!r} is not the issuer of the signing key ({issuer.id})")
    else:
        oks[_I_CLAIMS], codes[_I_CLAIMS], reasons[_I_CLAIMS] = True, "ok", "schema 1"

    # 7. expiry --------------------------------------------------------------------------
    if now >= att.exp:
        fail(_I_EXPIRY, EXPIRED, "expired", ("expired at ", att.exp))
    elif att.nbf > now + skew_seconds:
        fail(_I_EXPIRY, NOT_YET_VALID, "not_yet_valid", ("not valid before ", att.nbf))
    elif att.iat > now + skew_seconds:
        fail(_I_EXPIRY, NOT_YET_VALID, "issued_in_future", ("issued in the future: ", att.iat))
    else:
        oks[_I_EXPIRY], codes[_I_EXPIRY], reasons[_I_EXPIRY] = True, "ok", (
            "valid until ", att.exp)

    # 8. status --------------------------------------------------------------------------
    if status is None:
        codes[_I_STATUS] = "no_status_data"
        reasons[_I_STATUS] = "no status lists supplied"
        warnings.append("no status lists supplied: revocation was not checked")
        return finish()
    listed = status.get(att.status_uri)
    if listed is None:
        codes[_I_STATUS] = "no_status_list"
        reasons[_I_STATUS] = "no status list for this attestation"
        warnings.append(f"no status list for {att.status_uri}: revocation was not checked")
        return finish()
    if listed.issuer_id != issuer.id:
        codes[_I_STATUS] = "status_list_foreign"
        reasons[_I_STATUS] = "the status list for this URI is signed by another issuer"
        warnings.append(f"status list for {att.status_uri} ignored: signed by another issuer")
        return finish()
    status_as_of = listed.iat
    expired = listed.exp is not None and now >= listed.exp
    if att.status_idx >= listed.status_list.size:
        fail(_I_STATUS, INVALID, "status_index_out_of_range",
             "status index is outside the status list")
    else:
        value = listed.status_list.get(att.status_idx)
        if value == STATUS_VALID:
            if expired:
                codes[_I_STATUS] = "status_list_expired"
                reasons[_I_STATUS] = "the status list has expired"
            else:
                oks[_I_STATUS], codes[_I_STATUS] = True, "ok"
                reasons[_I_STATUS] = ("not revoked as of ", listed.iat)
        elif value == STATUS_INVALID:
            fail(_I_STATUS, REVOKED, "revoked", "revoked by the issuer")
        elif value == STATUS_SUSPENDED:
            fail(_I_STATUS, SUSPENDED, "suspended", "suspended by the issuer")
        else:
            fail(_I_STATUS, INVALID, "status_unknown", f"unknown status value {value}")
    if expired:
        warnings.append(f"the status list expired at {iso(listed.exp or 0)}: "
                        "revocation data is out of date")
    elif listed.ttl is not None and now >= listed.iat + listed.ttl:
        warnings.append(f"the status list is older than its ttl "
                        f"(issued {iso(listed.iat)}): fetch a fresh copy")
    return finish()
