"""The tiering engine: policy + input -> decision with a full rule trace.

How a decision is made (DOMAIN.md §5):

1. Every rule is evaluated (none short-circuits, so the trace is complete). A rule yields
   pass, not applicable, not evaluated (a prerequisite failed; its own rule says why), or a
   reason code from :mod:`risk.reasons`.
2. Any ``decline`` reason -> outcome ``decline``, tier T0. Only confirmed facts decline.
3. The tier is the highest of T1-T3 whose requirements all pass: the baseline every tier
   needs (valid attestation from a trusted issuer, consent, screening clear, no duplicate, no
   open coercion flag), the tier's own requirements, and those of the tier it builds on.
4. Any ``refer`` reason -> ``refer``; else tier T0 -> ``hold``; else ``approve``.
   ``provisional_tier`` is the tier the case gets if a reviewer clears every refer item.

Why this shape is fast enough for a million re-tierings: the policy is compiled once into a
tuple of closures that capture their parameters; an assessment is one pass over that tuple
producing small ints, and nothing else. Explanations, rule inputs and dates are only built
when :meth:`Decision.to_dict` (or a property) asks, from the frozen input the decision keeps.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from risk.model import (
    TIERS,
    AccreditationState,
    AssessmentInput,
    CddStatus,
    CheckStatus,
    Consent,
    Disposition,
    HitKind,
    InputError,
    RefereeCertification,
    RefereeSession,
    RequestType,
    ScreeningStatus,
    VerificationResult,
)
from risk.monitoring import MonitoringRule, monitoring_rules
from risk.policy import JurisdictionParams, Policy, Strength
from risk.reasons import REASONS, SURVIVOR_MESSAGES, Kind, Reason, Remedy

PASS: Final = 0
NA: Final = 1
NOT_EVALUATED: Final = 2
FAIL: Final = 3  # FAIL + k: the rule's k-th reason

Check = Callable[[AssessmentInput, date, JurisdictionParams], int]
Describe = Callable[[AssessmentInput, date, JurisdictionParams, int],
                    tuple[dict[str, Any], str]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One named check. ``tiers`` are the tiers it is a requirement of (empty: a trigger)."""

    id: str
    title: str
    reasons: tuple[Reason, ...]
    check: Check
    describe: Describe
    tiers: frozenset[str] = frozenset()


_SESSION_NAMES: Final = {RefereeSession.NONE: "none", RefereeSession.ONSITE: "onsite",
                         RefereeSession.REMOTE_ATTENDED: "remote_attended"}
_AT_COUNTER: Final = frozenset({RequestType.ONBOARDING, RequestType.STEP_UP})
_ATTESTATION_REASON: Final = {
    VerificationResult.UNREADABLE: 0, VerificationResult.INVALID: 1,
    VerificationResult.UNTRUSTED_ISSUER: 2, VerificationResult.REVOKED: 3,
    VerificationResult.SUSPENDED: 4, VerificationResult.EXPIRED: 5,
    VerificationResult.NOT_YET_VALID: 6,
}


def _usable_claims(x: AssessmentInput, d: date) -> bool:
    """Whether the attestation's claims may be relied on for further checks. Claims of an
    invalid, expired or not-yet-valid attestation are not evidence of anything, so the rules
    reading them report "not evaluated" and the hold stands alone (no spurious refer)."""
    at = x.attestation
    if at is None or at.claims is None or at.result is not VerificationResult.VALID:
        return False
    if x.request.type in _AT_COUNTER:
        return at.claims.iat.date() <= d <= at.claims.exp.date()
    return True


def _reasons(*codes: str) -> tuple[Reason, ...]:
    return tuple(REASONS[c] for c in codes)


def add_months(d: date, months: int) -> date:
    """``d`` plus calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def latest_birth_date(dob: str) -> date:
    """The latest date a "YYYY" / "YYYY-MM" / "YYYY-MM-DD" date of birth can stand for."""
    if len(dob) == 4:
        return date(int(dob), 12, 31)
    if len(dob) == 7:
        y, m = int(dob[:4]), int(dob[5:])
        return date(y, m, calendar.monthrange(y, m)[1])
    return date.fromisoformat(dob)


def _years_after(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a non-leap year: the birthday is on 1 March
        return date(d.year + years, 3, 1)


# --------------------------------------------------------------------------- rules

def _build_rules(p: Policy) -> tuple[tuple[Rule, ...], Rule]:
    """The policy's rules in trace order, plus the step-up rule, which runs after the tier."""
    a = p.assessment
    threshold = p.screening.possible_match_threshold
    exempt = p.caseworker_exempt_indicators
    rules: list[Rule] = []
    baseline = frozenset(TIERS[1:])

    def rule(id: str, title: str, codes: Sequence[str], tiers: frozenset[str] = frozenset()
             ) -> Callable[[Check], Callable[[Describe], Describe]]:
        """Decorator pair: ``@rule(...)`` on the check, then ``@check_fn.explain``-like use."""
        def with_check(check: Check) -> Callable[[Describe], Describe]:
            def with_describe(describe: Describe) -> Describe:
                rules.append(Rule(id, title, _reasons(*codes), check, describe, tiers))
                return describe
            return with_describe
        return with_check

    # ---- decline: confirmed facts only ------------------------------------------------
    def c_sanctions(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        for h in x.bank_checks.screening.hits:
            if h.kind is HitKind.SANCTIONS and h.disposition is Disposition.CONFIRMED:
                return FAIL
        return PASS

    @rule("decline.confirmed_sanctions_match", "No confirmed sanctions match",
          ["CONFIRMED_SANCTIONS_MATCH"])(c_sanctions)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        confirmed = [h.entity_id for h in x.bank_checks.screening.hits
                     if h.kind is HitKind.SANCTIONS and h.disposition is Disposition.CONFIRMED]
        if confirmed:
            return ({"confirmed_entities": confirmed},
                    f"A reviewer confirmed the sanctions hit(s) {', '.join(confirmed)}: decline.")
        return {"confirmed_entities": []}, "No sanctions hit has been confirmed by a reviewer."

    def c_fraud(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        return FAIL if x.bank_checks.fraud_confirmed else PASS

    @rule("decline.confirmed_fraud", "No confirmed fraud", ["CONFIRMED_FRAUD"])(c_fraud)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        return ({"fraud_confirmed": x.bank_checks.fraud_confirmed},
                "A reviewer confirmed fraud: decline." if r >= FAIL
                else "No fraud has been confirmed.")

    def c_dup(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        return FAIL if x.bank_checks.duplicate is CheckStatus.CONFIRMED else PASS

    @rule("decline.confirmed_duplicate", "No confirmed duplicate", ["CONFIRMED_DUPLICATE"])(c_dup)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        return ({"duplicate": x.bank_checks.duplicate.value},
                "A reviewer confirmed a duplicate: decline." if r >= FAIL
                else "No duplicate has been confirmed.")

    def c_tpc(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        return FAIL if x.bank_checks.third_party_control_confirmed else PASS

    @rule("decline.confirmed_third_party_control", "No confirmed third-party control",
          ["CONFIRMED_THIRD_PARTY_CONTROL"])(c_tpc)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        return ({"third_party_control_confirmed": x.bank_checks.third_party_control_confirmed},
                "A reviewer confirmed third-party control: decline, start safeguarding and "
                "consider a SAR." if r >= FAIL else "No third-party control has been confirmed.")

    def c_consent_refused(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        c = x.bank_checks.consent
        return FAIL if c is Consent.REFUSED or c is Consent.WITHDRAWN else PASS

    @rule("decline.consent_refused", "Consent not refused", ["CONSENT_REFUSED"])(
        c_consent_refused)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        c = x.bank_checks.consent.value
        return ({"consent": c}, f"The applicant's consent is {c.replace('_', ' ')}: decline."
                if r >= FAIL else f"Consent is {c.replace('_', ' ')}, not refused.")

    # ---- baseline: every tier from T1 up ---------------------------------------------
    def c_present(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        return PASS if x.attestation is not None else FAIL

    @rule("attestation.present", "An attestation was presented", ["ATTESTATION_MISSING"],
          baseline)(c_present)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        return ({"attestation": x.attestation is not None},
                "An attestation was presented." if r == PASS else
                "No attestation was presented: T0 hold; the applicant's support organisation "
                "can issue one.")

    def c_verified(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        if at is None:
            return NOT_EVALUATED
        if at.result is VerificationResult.VALID:
            return PASS
        return FAIL + _ATTESTATION_REASON[at.result]

    @rule("attestation.verified", "The attestation verified as valid",
          ["ATTESTATION_UNREADABLE", "ATTESTATION_INVALID", "ATTESTATION_UNTRUSTED_ISSUER",
           "ATTESTATION_REVOKED", "ATTESTATION_SUSPENDED", "ATTESTATION_EXPIRED",
           "ATTESTATION_NOT_YET_VALID"], baseline)(c_verified)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        if at is None:
            return {}, "Not evaluated: no attestation."
        res = at.result.value
        if r == PASS:
            return {"result": res}, "Verification result is 'valid'."
        return ({"result": res},
                f"Verification result is '{res}': T0 hold. This is a judgement on the document, "
                "not the person; it is never a reason to decline.")

    def c_in_date(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        if at is None or at.claims is None or at.result is not VerificationResult.VALID:
            return NOT_EVALUATED
        if x.request.type not in _AT_COUNTER:
            return NA
        if at.claims.exp.date() < d:
            return FAIL
        if at.claims.iat.date() > d:
            return FAIL + 1
        return PASS

    @rule("attestation.in_date", "The attestation is within its validity on the assessment date",
          ["ATTESTATION_EXPIRED", "ATTESTATION_NOT_YET_VALID"], baseline)(c_in_date)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        if r == NOT_EVALUATED or at is None or at.claims is None:
            return {}, "Not evaluated: no valid attestation."
        inputs = {"iat": at.claims.iat.isoformat(), "exp": at.claims.exp.isoformat(),
                  "as_of": d.isoformat(), "request": x.request.type.value}
        if r == NA:
            return inputs, ("Not applicable: an open account is reviewed on its own validity, "
                            "not on the attestation it was opened with.")
        if r == PASS:
            return inputs, f"The attestation is valid on {d.isoformat()}."
        if r == FAIL:
            return inputs, (f"The attestation expired on {at.claims.exp.date().isoformat()}, "
                            f"before {d.isoformat()}: T0 hold.")
        return inputs, f"The attestation was issued after {d.isoformat()}: T0 hold."

    def c_issuer(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        if at is None:
            return NOT_EVALUATED
        if at.issuer is None:
            return FAIL
        s = at.issuer.accreditation_state
        if s is AccreditationState.SUSPENDED or s is AccreditationState.REVOKED:
            return FAIL + 1
        return PASS

    @rule("issuer.trusted", "The issuer is trusted on the trust list",
          ["ISSUER_UNKNOWN", "ISSUER_NOT_TRUSTED"], baseline)(c_issuer)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        if at is None:
            return {}, "Not evaluated: no attestation."
        if at.issuer is None:
            return ({"issuer": None},
                    "The issuer's trust-list entry is not available: T0 hold until it is.")
        s = at.issuer.accreditation_state.value
        inputs = {"issuer": at.issuer.id, "accreditation_state": s}
        if r == PASS:
            return inputs, f"Issuer {at.issuer.id} is on the trust list ({s})."
        return inputs, f"Issuer {at.issuer.id} is {s} on the trust list: untrusted, T0 hold."

    def c_accredited(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        if at is None or at.issuer is None or not _usable_claims(x, d):
            return NOT_EVALUATED
        iss = at.issuer
        if iss.accreditation_state is AccreditationState.LAPSED:
            return FAIL
        if iss.accreditation_state is not AccreditationState.ACTIVE:
            return NOT_EVALUATED
        exp = iss.accreditation_expires
        return FAIL if exp is not None and exp < d else PASS

    @rule("issuer.accreditation_current", "The issuer's accreditation is current",
          ["ISSUER_ACCREDITATION_LAPSED"], baseline)(c_accredited)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        if at is None or at.issuer is None:
            return {}, "Not evaluated: no issuer entry."
        if not _usable_claims(x, d):
            return {}, "Not evaluated: the attestation cannot be relied on (see above)."
        iss = at.issuer
        exp = iss.accreditation_expires
        inputs = {"accreditation_state": iss.accreditation_state.value,
                  "accreditation_expires": None if exp is None else exp.isoformat(),
                  "as_of": d.isoformat()}
        if r == NOT_EVALUATED:
            return inputs, "Not evaluated: the issuer is not trusted (see issuer.trusted)."
        if r == PASS:
            return inputs, "The issuer's accreditation is current."
        return inputs, ("The issuer's accreditation has lapsed: refer to a human, who decides "
                        "whether to rely on the attestation.")

    def c_referee(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        if at is None or at.claims is None or not _usable_claims(x, d):
            return NOT_EVALUATED
        ref = at.referee
        if ref is None or (ref.certification_state is None and ref.certification_expires is None):
            return NA
        if ref.certification_state is RefereeCertification.REVOKED:
            return FAIL
        if ref.certification_expires is not None:
            return FAIL if ref.certification_expires < at.claims.iat.date() else PASS
        return FAIL if ref.certification_state is RefereeCertification.EXPIRED else PASS

    @rule("referee.certified", "The trusted referee was certified at the session",
          ["REFEREE_NOT_CERTIFIED"], baseline)(c_referee)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        if at is None or at.claims is None or r == NOT_EVALUATED:
            return {}, "Not evaluated: no claims that can be relied on."
        ref = at.referee
        if r == NA or ref is None:
            return ({"referee": None}, "Not applicable: the referee's certification is not "
                    "known to the bank; the issuer's accreditation covers its referees.")
        ce = ref.certification_expires
        inputs = {"certification_state": None if ref.certification_state is None
                  else ref.certification_state.value,
                  "certification_expires": None if ce is None else ce.isoformat(),
                  "session_date": at.claims.iat.date().isoformat()}
        if r == PASS:
            return inputs, "The referee was certified on the day of the session."
        return inputs, ("The referee was not certified on the day of the session (NIST SP "
                        "800-63A-4 requires annual recertification): refer.")

    def c_consent(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        c = x.bank_checks.consent
        if c is Consent.GIVEN:
            return PASS
        return FAIL if c is Consent.NOT_RECORDED else NOT_EVALUATED

    @rule("consent.given", "The applicant's consent is recorded", ["CONSENT_NOT_RECORDED"],
          baseline)(c_consent)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        c = x.bank_checks.consent.value
        if r == PASS:
            return {"consent": c}, "Consent is recorded."
        if r == NOT_EVALUATED:
            return {"consent": c}, "Consent was refused or withdrawn (see decline.consent_refused)."
        return {"consent": c}, "Consent has not been recorded yet: the bank records it first."

    def c_screened(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        return PASS if x.bank_checks.screening.status is ScreeningStatus.COMPLETED else FAIL

    @rule("screening.completed", "Sanctions and PEP screening was run", ["SCREENING_NOT_RUN"],
          baseline)(c_screened)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        s = x.bank_checks.screening.status.value
        return ({"status": s}, "Screening was run." if r == PASS else
                "Screening has not been run; it is required at every tier.")

    def c_open_hits(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        s = x.bank_checks.screening
        if s.status is not ScreeningStatus.COMPLETED:
            return NOT_EVALUATED
        pep = False
        for h in s.hits:
            if h.disposition is Disposition.OPEN and h.score >= threshold:
                if h.kind is HitKind.SANCTIONS:
                    return FAIL
                pep = True
        return FAIL + 1 if pep else PASS

    @rule("screening.no_possible_match",
          "No open sanctions or PEP hit at or above the policy threshold",
          ["POSSIBLE_SANCTIONS_MATCH", "POSSIBLE_PEP_MATCH"], baseline)(c_open_hits)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        s = x.bank_checks.screening
        if r == NOT_EVALUATED:
            return {}, "Not evaluated: screening has not been run."
        hits = [{"entity_id": h.entity_id, "list": h.list_name, "kind": h.kind.value,
                 "score": h.score, "disposition": h.disposition.value} for h in s.hits]
        inputs = {"threshold": threshold, "hits": hits}
        if r == PASS:
            below = sum(1 for h in s.hits if h.disposition is Disposition.OPEN)
            cleared = sum(1 for h in s.hits if h.disposition is Disposition.CLEARED)
            return inputs, (f"No open hit scores {threshold:g} or more ({below} open below the "
                            f"threshold, {cleared} cleared by a reviewer).")
        what = "sanctions" if r == FAIL else "PEP"
        return inputs, (f"An open {what} hit scores {threshold:g} or more: possible match, "
                        "refer. A fuzzy score alone never declines.")

    def c_pep(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        for h in x.bank_checks.screening.hits:
            if h.kind is HitKind.PEP and h.disposition is Disposition.CONFIRMED:
                return FAIL
        return PASS

    @rule("screening.no_confirmed_pep", "Not a confirmed politically exposed person",
          ["CONFIRMED_PEP"], baseline)(c_pep)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        return ({}, "No PEP hit is confirmed." if r == PASS else
                "A reviewer confirmed a PEP match: simplified (tiered) measures do not apply to "
                "PEPs (FATF R.12); enhanced due diligence decides. Refer.")

    def c_dup_run(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        return FAIL if x.bank_checks.duplicate is CheckStatus.NOT_RUN else PASS

    @rule("duplicate.completed", "The duplicate check was run", ["DUPLICATE_CHECK_NOT_RUN"],
          baseline)(c_dup_run)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        return ({"duplicate": x.bank_checks.duplicate.value},
                "The duplicate check was run." if r == PASS
                else "The duplicate check has not been run.")

    def c_dup_possible(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        s = x.bank_checks.duplicate
        if s is CheckStatus.CLEAR:
            return PASS
        if s is CheckStatus.POSSIBLE:
            return FAIL
        return NOT_EVALUATED

    @rule("duplicate.none", "No possible duplicate", ["POSSIBLE_DUPLICATE"], baseline)(
        c_dup_possible)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        s = x.bank_checks.duplicate.value
        if r == PASS:
            return {"duplicate": s}, "No duplicate found."
        if r == FAIL:
            return {"duplicate": s}, ("Possible duplicate: refer. Never refused on a match alone "
                                      "(NIST SP 800-63A-4).")
        return {"duplicate": s}, f"Not evaluated: duplicate check is {s.replace('_', ' ')}."

    def c_coercion(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        b = x.bank_checks
        if b.third_party_control_confirmed:
            return NOT_EVALUATED
        for ind in b.coercion_indicators:
            if not (ind.by_registered_caseworker and ind.code.value in exempt):
                return FAIL
        return PASS

    @rule("coercion.no_open_flag", "No open coercion or third-party-control indicator",
          ["COERCION_INDICATORS"], baseline)(c_coercion)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        inds = x.bank_checks.coercion_indicators
        seen = [i.code.value + (" (registered caseworker)" if i.by_registered_caseworker else "")
                for i in inds]
        inputs = {"indicators": seen, "caseworker_exempt": sorted(exempt)}
        if r == NOT_EVALUATED:
            return inputs, "Third-party control is confirmed (see the decline rule)."
        if r == PASS:
            return inputs, ("No indicator seen." if not inds else
                            "Only expected behaviour by the registered caseworker was noted.")
        return inputs, ("Indicators of control were seen at the counter: refer for review and "
                        "safeguarding. Indicators alone never decline.")

    # ---- tier requirements from the policy -------------------------------------------
    for t in ("T1", "T2", "T3"):
        covered = _tier_closure(p, t)
        spec = p.tiers[t]
        req = spec.requirements
        if req.referee_sessions is not None:
            _session_rule(rules, t, covered, req.referee_sessions)
        if req.signed_photo:
            _photo_rule(rules, t, covered)
        if req.min_authenticator_aal is not None:
            _aal_rule(rules, t, covered, req.min_authenticator_aal)
        if req.min_identity_assurance is not None:
            _assurance_rule(rules, t, covered, req.min_identity_assurance)
        if req.min_evidence_strength is not None:
            _evidence_rule(rules, t, covered, p, req.min_evidence_strength,
                           max(1, req.min_evidence_items))
        if req.standard_cdd_passed:
            _cdd_rule(rules, t, covered)

    # ---- refer triggers ---------------------------------------------------------------
    margin = a.approximate_dob_margin_years

    def c_minor(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        if x.bank_checks.minor:
            return FAIL
        at = x.attestation
        dob = None if at is None or at.claims is None or not _usable_claims(x, d) \
            else at.claims.date_of_birth
        if dob is None:
            return PASS if x.bank_checks.minor is False else NA
        latest = latest_birth_date(dob)
        if at is not None and at.claims is not None and at.claims.date_of_birth_approximate:
            latest = _years_after(latest, margin)
        return FAIL + 1 if d < _years_after(latest, j.age_of_majority) else PASS

    @rule("review.minor", "Not a minor", ["MINOR", "POSSIBLE_MINOR"])(c_minor)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        claims = None if at is None else at.claims
        inputs = {"bank_finding_minor": x.bank_checks.minor,
                  "date_of_birth_precision": None if claims is None or claims.date_of_birth
                  is None else len(claims.date_of_birth),
                  "approximate": None if claims is None else claims.date_of_birth_approximate,
                  "age_of_majority": j.age_of_majority, "as_of": d.isoformat()}
        if r == NA:
            return inputs, "Not applicable: no date of birth or age finding is available."
        if r == FAIL:
            return inputs, "The bank found the applicant to be a minor: refer."
        if r == FAIL + 1:
            return inputs, (f"The date of birth (taking its precision"
                            f"{f' and a {margin}-year margin for approximation' if margin else ''}"
                            f" into account) allows an age under {j.age_of_majority}: refer.")
        return inputs, f"The applicant is {j.age_of_majority} or older on {d.isoformat()}."

    def c_conflicts(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        return FAIL if x.bank_checks.attribute_conflicts else PASS

    @rule("review.attribute_conflicts", "No conflicting attributes", ["ATTRIBUTE_CONFLICT"])(
        c_conflicts)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        c = list(x.bank_checks.attribute_conflicts)
        return ({"conflicts": c}, "No conflicting attributes." if r == PASS else
                f"Conflicting attributes ({', '.join(c)}): refer.")

    fresh = a.attestation_freshness_days

    def c_fresh(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        if at is None or at.claims is None or not _usable_claims(x, d):
            return NOT_EVALUATED
        if x.request.type not in _AT_COUNTER:
            return NA
        return FAIL if (d - at.claims.iat.date()).days > fresh else PASS

    @rule("review.attestation_fresh", "The attestation is within the freshness window",
          ["ATTESTATION_NOT_FRESH"])(c_fresh)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        if at is None or at.claims is None or r == NOT_EVALUATED:
            return {}, "Not evaluated: no claims that can be relied on."
        age = (d - at.claims.iat.date()).days
        inputs = {"age_days": age, "freshness_days": fresh, "request": x.request.type.value}
        if r == NA:
            return inputs, "Not applicable: only checked when the attestation is presented."
        return inputs, (f"Issued {age} days ago, within {fresh} days." if r == PASS else
                        f"Issued {age} days ago, more than {fresh}: refer.")

    max_age = a.status_list_max_age_hours

    def c_status(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        if max_age is None:
            return NA
        at = x.attestation
        if at is None or at.result is not VerificationResult.VALID:
            return NOT_EVALUATED
        if x.request.type not in _AT_COUNTER:
            return NA
        if at.status_as_of is None:
            return FAIL
        # The assessment date has no time: measure from its end, so "stale" errs towards review.
        end = datetime.combine(d, time(0), UTC) + timedelta(days=1)
        return FAIL if (end - at.status_as_of).total_seconds() > max_age * 3600 else PASS

    @rule("review.status_list_fresh", "Revocation status is recent enough",
          ["STATUS_LIST_STALE"])(c_status)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        sa = None if at is None or at.status_as_of is None else at.status_as_of.isoformat()
        inputs = {"status_as_of": sa, "max_age_hours": max_age}
        if max_age is None:
            return inputs, ("Not applicable: this policy accepts missing or old status data "
                            "(FORMATS.md: no status data is not a failure).")
        if r == NA:
            return inputs, "Not applicable: only checked when the attestation is presented."
        if r == NOT_EVALUATED:
            return inputs, "Not evaluated: no valid attestation."
        return inputs, ("Status data is recent enough." if r == PASS else
                        f"Status data is missing or older than {max_age} hours: refer.")

    vouch_max = a.referee_vouching_max

    def c_vouch(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        ref = None if at is None else at.referee
        if ref is None or ref.attestations_in_window is None:
            return NA
        if not _usable_claims(x, d):
            return NOT_EVALUATED
        return FAIL if ref.attestations_in_window > vouch_max else PASS

    @rule("review.referee_vouching_volume", "Usual vouching volume for the trusted referee",
          ["REFEREE_VOUCHING_VOLUME"])(c_vouch)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        ref = None if at is None else at.referee
        n = None if ref is None else ref.attestations_in_window
        inputs = {"attestations_in_window": n, "max": vouch_max}
        if r == NOT_EVALUATED:
            return inputs, "Not evaluated: the attestation cannot be relied on."
        if r == NA:
            return inputs, "Not applicable: the referee's volume is not reported."
        return inputs, (f"{n} attestations in the window, at most {vouch_max}." if r == PASS
                        else f"{n} attestations in the window, more than {vouch_max}: refer.")

    review_days = a.t1_validity_review_days
    max_renewals = p.tiers["T1"].max_renewals

    def c_t1_validity(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        acc = x.account
        if acc is None or acc.tier != "T1" or acc.valid_until is None:
            return NA
        return FAIL if (acc.valid_until - d).days <= review_days else PASS

    @rule("review.t1_validity", "The T1 account is not near the end of its validity",
          ["T1_VALIDITY_ENDING"])(c_t1_validity)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        acc = x.account
        if r == NA or acc is None or acc.valid_until is None:
            return {}, "Not applicable: no open T1 account with a validity date."
        left = (acc.valid_until - d).days
        renewable = (max_renewals is None or acc.renewals_used < max_renewals) and \
            x.bank_checks.id_application_confirmed
        inputs = {"valid_until": acc.valid_until.isoformat(), "days_left": left,
                  "renewals_used": acc.renewals_used, "max_renewals": max_renewals,
                  "id_application_confirmed": x.bank_checks.id_application_confirmed}
        if r == PASS:
            return inputs, f"{left} days of validity left, more than {review_days}."
        when = (f"{left} days of validity left" if left >= 0
                else f"Validity ended {-left} days ago")
        return inputs, (f"{when}: refer for renewal review. Renewal "
                        + ("is available (an ID application is confirmed)." if renewable else
                           "is not available under the policy (renewals used up or no "
                           "confirmed ID application): step-up or closure."))

    def c_override(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        return FAIL if x.request.override_requested else PASS

    @rule("review.override", "No override requested", ["OVERRIDE_REVIEW"])(c_override)
    def _(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
          ) -> tuple[dict[str, Any], str]:
        return ({"override_requested": x.request.override_requested},
                "No override requested." if r == PASS
                else "An override was requested: four-eyes review.")

    for m in monitoring_rules(p):
        _monitoring_rule(rules, m)

    # ---- step-up: evaluated after the tier is known ------------------------------------
    def c_step(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        raise AssertionError("evaluated by the engine with the tier")  # pragma: no cover

    def d_step(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
               ) -> tuple[dict[str, Any], str]:
        inputs = {"request": x.request.type.value,
                  "account_tier": None if x.account is None else x.account.tier}
        if r == PASS:
            return inputs, "No step-up: the tier does not rise above the open account's."
        return inputs, "A step-up to a higher tier: a human confirms it (DOMAIN.md §5)."

    step = Rule("review.step_up", "A step-up is confirmed by a human",
                _reasons("STEP_UP_REVIEW"), c_step, d_step)
    return tuple(rules), step


def _tier_closure(p: Policy, t: str) -> frozenset[str]:
    """The tiers a requirement of ``t`` applies to: ``t`` and every tier building on it."""
    out = {t}
    changed = True
    while changed:
        changed = False
        for spec in p.tiers.values():
            if spec.builds_on in out and spec.tier not in out:
                out.add(spec.tier)
                changed = True
    return frozenset(out)


def _session_rule(rules: list[Rule], t: str, tiers: frozenset[str],
                  allowed: frozenset[RefereeSession]) -> None:
    names = sorted(_SESSION_NAMES[s] for s in allowed)

    def check(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        if at is None or at.claims is None:
            return NOT_EVALUATED
        return PASS if at.claims.trusted_referee_session in allowed else FAIL

    def describe(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
                 ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        if at is None or at.claims is None:
            return {}, "Not evaluated: no verified claims."
        s = _SESSION_NAMES[at.claims.trusted_referee_session]
        inputs = {"session": s, "accepted": names}
        return inputs, (f"Trusted-referee session '{s}' is accepted for {t}." if r == PASS else
                        f"Trusted-referee session '{s}' is not accepted for {t} "
                        f"(accepted: {', '.join(names)}).")

    rules.append(Rule(f"{t}.referee_session", "Enrolment by a trusted referee in a session the "
                      "tier accepts", _reasons("REFEREE_SESSION_NOT_ACCEPTED"), check, describe,
                      tiers))


def _photo_rule(rules: list[Rule], t: str, tiers: frozenset[str]) -> None:
    def check(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        if at is None or at.claims is None:
            return NOT_EVALUATED
        return PASS if at.claims.photo else FAIL

    def describe(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
                 ) -> tuple[dict[str, Any], str]:
        if r == NOT_EVALUATED:
            return {}, "Not evaluated: no verified claims."
        return ({"photo": r == PASS}, "The attestation carries a signed photo." if r == PASS
                else f"The attestation carries no signed photo, which {t} needs.")

    rules.append(Rule(f"{t}.signed_photo", "A signed photo in the attestation",
                      _reasons("SIGNED_PHOTO_MISSING"), check, describe, tiers))


def _aal_rule(rules: list[Rule], t: str, tiers: frozenset[str], minimum: int) -> None:
    def check(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        aal = x.bank_checks.authenticator_aal
        return PASS if aal is not None and aal >= minimum else FAIL

    def describe(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
                 ) -> tuple[dict[str, Any], str]:
        aal = x.bank_checks.authenticator_aal
        inputs = {"authenticator_aal": aal, "minimum": minimum}
        if r == PASS:
            return inputs, f"Account authenticator at AAL{aal}, {t} needs AAL{minimum}."
        have = "none set up" if aal is None else f"AAL{aal}"
        return inputs, f"Account authenticator: {have}; {t} needs AAL{minimum}."

    rules.append(Rule(f"{t}.authenticator_aal", "Account authentication at the tier's AAL",
                      _reasons("AUTHENTICATOR_BELOW_POLICY"), check, describe, tiers))


def _assurance_rule(rules: list[Rule], t: str, tiers: frozenset[str], minimum: int) -> None:
    def check(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        if at is None or at.claims is None:
            return NOT_EVALUATED
        return PASS if at.claims.identity_assurance >= minimum else FAIL

    def describe(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
                 ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        if at is None or at.claims is None:
            return {}, "Not evaluated: no verified claims."
        ia = at.claims.identity_assurance
        label = {0: "a trusted-referee exception (below IAL1)", 1: "IAL1", 2: "IAL2"}
        inputs = {"identity_assurance": ia, "minimum": minimum}
        return inputs, (f"Attested assurance is {label[ia]}; {t} needs {label[minimum]}"
                         + ("." if r == PASS else ": not met."))

    rules.append(Rule(f"{t}.identity_assurance", "Attested identity assurance (NIST SP "
                      "800-63-4 IAL) at the tier's minimum", _reasons("ASSURANCE_BELOW_POLICY"),
                      check, describe, tiers))


def _evidence_rule(rules: list[Rule], t: str, tiers: frozenset[str], p: Policy,
                   minimum: Strength, items: int) -> None:
    strong_enough = frozenset(c.code for c in p.evidence_categories.values()
                              if c.strength >= minimum)
    cats = p.evidence_categories
    label = minimum.name.lower()

    def check(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        at = x.attestation
        if at is None or at.claims is None:
            return NOT_EVALUATED
        n = len(strong_enough.intersection(at.claims.evidence_categories))
        return PASS if n >= items else FAIL

    def describe(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
                 ) -> tuple[dict[str, Any], str]:
        at = x.attestation
        if at is None or at.claims is None:
            return {}, "Not evaluated: no verified claims."
        ev = at.claims.evidence_categories
        listed = [{"code": c, "name": cats[c].name if c in cats else None,
                   "strength": cats[c].strength.name.lower() if c in cats else "unknown"}
                  for c in ev]
        ok = sorted(strong_enough.intersection(ev))
        inputs = {"evidence": listed, "min_strength": label, "min_items": items,
                  "applicant_references": at.claims.applicant_references}
        msg = (f"{len(ok)} distinct evidence categor{'y' if len(ok) == 1 else 'ies'} of {label} "
               f"strength or better; {t} needs {items}")
        if r == PASS:
            return inputs, msg + "."
        vouch = (" Applicant references (vouches) support an exception but are not evidence."
                 if at.claims.applicant_references else "")
        return inputs, msg + ": not met." + vouch

    rules.append(Rule(f"{t}.evidence", "Validated evidence of the tier's strength",
                      _reasons("EVIDENCE_BELOW_POLICY"), check, describe, tiers))


def _cdd_rule(rules: list[Rule], t: str, tiers: frozenset[str]) -> None:
    def check(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        return PASS if x.bank_checks.standard_cdd is CddStatus.PASSED else FAIL

    def describe(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
                 ) -> tuple[dict[str, Any], str]:
        s = x.bank_checks.standard_cdd.value
        return ({"standard_cdd": s}, "The bank's normal CDD verified a foundational ID."
                if r == PASS else f"The bank's normal CDD is {s.replace('_', ' ')}; {t} needs "
                "it passed.")

    rules.append(Rule(f"{t}.standard_cdd", "Foundational ID verified by the bank's normal CDD",
                      _reasons("STANDARD_CDD_NOT_PASSED"), check, describe, tiers))


def _monitoring_rule(rules: list[Rule], m: MonitoringRule) -> None:
    def check(x: AssessmentInput, d: date, j: JurisdictionParams) -> int:
        acc = x.account
        tx = x.transactions
        if tx is None or acc is None or acc.tier not in ("T1", "T2"):
            return NA
        return FAIL if m.fires(tx, acc.tier, j) else PASS

    def describe(x: AssessmentInput, d: date, j: JurisdictionParams, r: int
                 ) -> tuple[dict[str, Any], str]:
        acc = x.account
        tx = x.transactions
        if r == NA or tx is None or acc is None:
            return {}, ("Not applicable: monitoring runs on open T1/T2 accounts with a "
                        "transaction summary.")
        return m.describe(tx, acc.tier, j, r >= FAIL)

    rules.append(Rule(m.id, m.title, _reasons(m.reason), check, describe))


# --------------------------------------------------------------------------- engine

class Engine:
    """A policy compiled for fast repeated assessment. Thread-safe (immutable)."""

    __slots__ = ("_checks", "_kinds", "_masks", "_step", "_tier_idx", "policy", "rules")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        rules, self._step = _build_rules(policy)
        self.rules: tuple[Rule, ...] = (*rules, self._step)
        self._checks = tuple(r.check for r in rules)
        # For each rule: (FAIL + k) -> kind of reason k, flattened for a fast lookup.
        self._kinds: tuple[tuple[Kind, ...], ...] = tuple(
            tuple(rs.kind for rs in r.reasons) for r in rules)
        self._tier_idx: tuple[tuple[int, ...], ...] = tuple(
            tuple(i for i, r in enumerate(rules) if t in r.tiers) for t in TIERS[1:])
        # Per rule, the tiers a failure blocks as a bit mask (T1 = 1, T2 = 2, T3 = 4), so the
        # tier falls out of one OR over the failing rules instead of a scan per tier.
        self._masks: tuple[int, ...] = tuple(
            sum(1 << (TIERS.index(t) - 1) for t in r.tiers) for r in rules)

    def jurisdiction(self, x: AssessmentInput) -> JurisdictionParams:
        try:
            return self.policy.jurisdiction(x.jurisdiction)
        except KeyError:
            raise InputError("$.jurisdiction",
                             f"{x.jurisdiction!r} has no parameter set in policy "
                             f"{self.policy.ref} (has: {', '.join(self.policy.jurisdictions)})"
                             ) from None

    def assess(self, x: AssessmentInput, as_of: date | None = None) -> Decision:
        d = x.assessed_at if as_of is None else as_of
        j = self.jurisdiction(x)
        for f in x.request.features:
            if f not in self.policy.features:
                raise InputError("$.request.features", f"unknown feature {f!r} in policy "
                                 f"{self.policy.ref}")
        res = [c(x, d, j) for c in self._checks]
        decline = refer = False
        kinds = self._kinds
        masks = self._masks
        blocked = prov_blocked = 0  # tiers blocked; and blocked even if refer items clear
        i = 0
        for r in res:
            if r >= NOT_EVALUATED:
                if r >= FAIL:
                    k = kinds[i][r - FAIL]
                    if k is Kind.DECLINE:
                        decline = True
                    elif k is Kind.REFER:
                        refer = True
                        blocked |= masks[i]
                        i += 1
                        continue
                blocked |= masks[i]
                prov_blocked |= masks[i]
            i += 1
        if decline:
            tier = prov = 0
        else:
            tier = _HIGHEST_OPEN[blocked]
            prov = _HIGHEST_OPEN[prov_blocked]
        acc = x.account
        step = PASS
        if x.request.type is RequestType.STEP_UP or (
                acc is not None and max(tier, prov) > TIERS.index(acc.tier)):
            step = FAIL
            refer = True
        res.append(step)
        if decline:
            outcome = "decline"
        elif refer:
            outcome = "refer"
        elif tier == 0:
            outcome = "hold"
        else:
            outcome = "approve"
        return Decision(self, x, d, j, tuple(res), outcome, TIERS[tier], TIERS[prov])


#: Blocked-tier mask -> highest tier left open (0 = T0).
_HIGHEST_OPEN: Final = tuple(next((t for t in (3, 2, 1) if not m & (1 << (t - 1))), 0)
                             for m in range(8))

_ENGINES: dict[str, Engine] = {}


def engine_for(policy: Policy) -> Engine:
    """The compiled engine for ``policy``, cached by content hash (same content, same rules)."""
    e = _ENGINES.get(policy.content_hash)
    if e is None or (e.policy is not policy and e.policy.document != policy.document):
        if len(_ENGINES) > 32:
            _ENGINES.clear()
        e = _ENGINES[policy.content_hash] = Engine(policy)
    return e


def assess(x: AssessmentInput | Mapping[str, Any], policy: Policy,
           as_of: date | None = None) -> Decision:
    """Assess one applicant. ``x`` may be parsed input or decoded JSON (parsed here).

    ``as_of`` defaults to the input's ``assessed_at``: the engine never reads the clock, so the
    same input and policy always give the same decision.
    """
    if not isinstance(x, AssessmentInput):
        from risk.model import parse_input

        x = parse_input(x)
    return engine_for(policy).assess(x, as_of)


# --------------------------------------------------------------------------- decision

_RESULT_NAMES: Final = {PASS: "pass", NA: "not_applicable", NOT_EVALUATED: "not_evaluated"}


class Decision:
    """The engine's recommendation. Cheap to create; details are computed when asked for."""

    __slots__ = ("_engine", "_jur", "as_of", "input", "outcome", "provisional_tier", "results",
                 "tier")

    def __init__(self, engine: Engine, x: AssessmentInput, as_of: date, jur: JurisdictionParams,
                 results: tuple[int, ...], outcome: str, tier: str, provisional_tier: str
                 ) -> None:
        self._engine = engine
        self._jur = jur
        self.input = x
        self.as_of = as_of
        self.results = results
        self.outcome = outcome
        self.tier = tier
        self.provisional_tier = provisional_tier

    def __repr__(self) -> str:
        return (f"Decision({self.input.case_id!r}, {self.outcome}, {self.tier}, "
                f"reasons={self.reason_codes})")

    @property
    def policy(self) -> Policy:
        return self._engine.policy

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """The findings that explain the outcome, in rule order: every decline and refer
        reason, and for a hold the T1 requirements not met. (Requirements of tiers above the
        one reached are in :meth:`why_not_next_tier` instead.)"""
        out: list[Reason] = []
        hold = self.outcome == "hold"
        for rule, r in zip(self._engine.rules, self.results, strict=True):
            if r >= FAIL:
                reason = rule.reasons[r - FAIL]
                relevant = reason.kind is not Kind.REQUIREMENT or (hold and "T1" in rule.tiers)
                if relevant and reason not in out:
                    out.append(reason)
        return tuple(out)

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    @property
    def features(self) -> tuple[str, ...]:
        return () if self.tier == "T0" else self.policy.tiers[self.tier].features

    @property
    def limits(self) -> dict[str, float] | None:
        """The tier's limits in the jurisdiction's currency; None at T0 and T3 (bank's own)."""
        lim = self._jur.limits.get(self.tier)
        if lim is None:
            return None
        # Whole amounts print as integers ("2000", not "2000.0") in JSON and the UI.
        return {k: int(v) if float(v).is_integer() else v for k, v in lim.items()}

    @property
    def currency(self) -> str:
        return self._jur.currency

    @property
    def valid_until(self) -> date | None:
        if self.outcome != "approve" or self.tier == "T0":
            return None
        months = self.policy.tiers[self.tier].validity_months
        if months is None:
            return None
        acc = self.input.account
        if acc is not None and acc.tier == self.tier and acc.valid_until is not None:
            return acc.valid_until  # a re-tiering does not extend validity; renewal is reviewed
        return add_months(self.as_of, months)

    @property
    def next_review(self) -> date | None:
        vu = self.valid_until
        if vu is None:
            return None
        return max(self.as_of, vu - timedelta(days=self.policy.assessment
                                              .review_before_expiry_days))

    @property
    def requires_human(self) -> bool:
        """Refer needs a reviewer; a decline is always confirmed by one (DOMAIN.md §5)."""
        return self.outcome in ("refer", "decline")

    def rule_result(self, rule_id: str) -> str:
        """``pass`` / ``not_applicable`` / ``not_evaluated`` or the reason code of a failure."""
        for rule, r in zip(self._engine.rules, self.results, strict=True):
            if rule.id == rule_id:
                return _RESULT_NAMES[r] if r < FAIL else rule.reasons[r - FAIL].code
        raise KeyError(rule_id)

    def trace(self) -> list[dict[str, Any]]:
        """Every rule with its inputs, result and a plain-English explanation, then the
        tier and outcome steps that combine them."""
        x, d, j = self.input, self.as_of, self._jur
        out: list[dict[str, Any]] = []
        for rule, r in zip(self._engine.rules, self.results, strict=True):
            inputs, text = rule.describe(x, d, j, r)
            reason = rule.reasons[r - FAIL] if r >= FAIL else None
            out.append({
                "rule": rule.id,
                "check": rule.title,
                "requirement_of": sorted(rule.tiers),
                "inputs": inputs,
                "result": "fail" if reason else _RESULT_NAMES[r],
                "reason_code": None if reason is None else reason.code,
                "effect": _effect(reason, rule),
                "explanation": text,
            })
        out.append({"rule": "tier", "check": "Highest tier whose requirements all pass",
                    "requirement_of": [], "inputs": {"provisional_tier": self.provisional_tier},
                    "result": self.tier, "reason_code": None, "effect": "tier",
                    "explanation": self._tier_explanation()})
        out.append({"rule": "outcome", "check": "Decline > refer > hold > approve",
                    "requirement_of": [], "inputs": {"tier": self.tier},
                    "result": self.outcome, "reason_code": None, "effect": "outcome",
                    "explanation": self._outcome_explanation()})
        return out

    def _failing(self, tier: str | None = None, kinds: tuple[Kind, ...] = tuple(Kind)
                 ) -> list[tuple[Rule, int]]:
        out = []
        for rule, r in zip(self._engine.rules, self.results, strict=True):
            if tier is not None and tier not in rule.tiers:
                continue
            if (r == NOT_EVALUATED and tier is not None) or (
                    r >= FAIL and rule.reasons[r - FAIL].kind in kinds):
                out.append((rule, r))
        return out

    def _tier_explanation(self) -> str:
        if self.outcome == "decline":
            return "A decline reason applies, so the tier is T0 whatever else passed."
        if self.tier == "T0":
            failed = ", ".join(r.id for r, _ in self._failing("T1"))
            text = f"T1 requirements not met ({failed}), so T0."
        else:
            text = f"Every {self.tier} requirement passed."
        if self.provisional_tier != self.tier:
            text += (f" If a reviewer clears the refer items the case reaches "
                     f"{self.provisional_tier}.")
        return text

    def _outcome_explanation(self) -> str:
        if self.outcome == "decline":
            codes = [r.reasons[k - FAIL].code for r, k in self._failing(kinds=(Kind.DECLINE,))]
            return (f"Decline on confirmed facts ({', '.join(codes)}); a human confirms every "
                    "decline.")
        if self.outcome == "refer":
            codes = [r.reasons[k - FAIL].code for r, k in self._failing(kinds=(Kind.REFER,))]
            return f"Refer to a human for: {', '.join(codes)}. Nothing here declines by itself."
        if self.outcome == "hold":
            return ("T0 hold: the account cannot be opened until the T1 requirements listed "
                    "in the tier step are met. A hold is never a decline.")
        return f"Approve at {self.tier}: no decline or refer reason, and {self.tier} is met."

    def why_not_next_tier(self) -> dict[str, Any] | None:
        """The next tier up and every rule that keeps the case from it; None at T3."""
        i = TIERS.index(self.tier)
        if i == len(TIERS) - 1:
            return None
        nxt = TIERS[i + 1]
        x, d, j = self.input, self.as_of, self._jur
        blockers = []
        if self.outcome == "decline":
            blockers = self._failing(kinds=(Kind.DECLINE,))
        blockers += self._failing(nxt)
        missing = []
        for rule, r in blockers:
            _, text = rule.describe(x, d, j, r)
            missing.append({"rule": rule.id,
                            "reason_code": rule.reasons[r - FAIL].code if r >= FAIL else None,
                            "explanation": text})
        return {"tier": nxt, "missing": missing}

    def requested_features_not_allowed(self) -> list[dict[str, Any]]:
        allowed = set(self.features)
        out = []
        for f in self.input.request.features:
            if f not in allowed:
                first = next((t for t in TIERS[1:] if f in self.policy.tiers[t].features), None)
                out.append({"feature": f, "available_from": first})
        return out

    def survivor_message(self) -> str:
        """What the applicant is told: never a reason code, never a safeguarding hint."""
        if self.outcome != "hold":
            return SURVIVOR_MESSAGES[self.outcome]
        issuer = any(r.remedy is Remedy.RETURN_TO_ISSUER
                     for rule, k in self._failing("T1")
                     for r in ([rule.reasons[k - FAIL]] if k >= FAIL else []))
        return SURVIVOR_MESSAGES["hold_issuer" if issuer else "hold_bank"]

    def summary(self) -> dict[str, Any]:
        """The compact record ``batch`` writes: enough to act on and to re-derive the rest."""
        vu = self.valid_until
        nr = self.next_review
        return {
            "case_id": self.input.case_id,
            "outcome": self.outcome,
            "tier": self.tier,
            "provisional_tier": self.provisional_tier,
            "reason_codes": list(self.reason_codes),
            "valid_until": None if vu is None else vu.isoformat(),
            "next_review": None if nr is None else nr.isoformat(),
            "policy": {"id": self.policy.id, "version": self.policy.version,
                       "hash": self.policy.content_hash},
        }

    def to_dict(self) -> dict[str, Any]:
        """The full decision as JSON-ready data (what ``assess`` prints and the UI renders)."""
        p = self.policy
        vu = self.valid_until
        nr = self.next_review
        lim = self.limits
        return {
            "case_id": self.input.case_id,
            "as_of": self.as_of.isoformat(),
            "jurisdiction": self._jur.code,
            "outcome": self.outcome,
            "tier": self.tier,
            "tier_name": "hold" if self.tier == "T0" else p.tiers[self.tier].name,
            "provisional_tier": self.provisional_tier,
            "requires_human": self.requires_human,
            "features": list(self.features),
            "limits": None if lim is None else {"currency": self.currency, **lim},
            "inbound_cross_border_from": list(self._jur.inbound_cross_border_from)
            if "inbound_cross_border" in self.features else [],
            "valid_from": None if vu is None else self.as_of.isoformat(),
            "valid_until": None if vu is None else vu.isoformat(),
            "next_review": None if nr is None else nr.isoformat(),
            "reason_codes": list(self.reason_codes),
            "reasons": [r.to_dict() for r in self.reasons],
            "why_not_next_tier": self.why_not_next_tier(),
            "requested_features_not_allowed": self.requested_features_not_allowed(),
            "survivor_message": self.survivor_message(),
            "trace": self.trace(),
            "policy": {"id": p.id, "version": p.version, "hash": p.content_hash,
                       "status": p.status},
        }


def _effect(reason: Reason | None, rule: Rule) -> str:
    caps = f"blocks {', '.join(sorted(rule.tiers))}" if rule.tiers else ""
    if reason is None:
        return "none"
    if reason.kind is Kind.DECLINE:
        return "decline"
    if reason.kind is Kind.REFER:
        return "refer" + (f"; {caps} until cleared" if caps else "")
    return caps or "none"
