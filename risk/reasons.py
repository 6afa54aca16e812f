"""Reason codes: what each finding means, what happens next, and who may be told.

A reason's ``kind`` decides its effect (DOMAIN.md §5): ``decline`` findings are confirmed facts
and decline (a human confirms every decline); ``refer`` findings send the case to a human and
never decline by themselves; ``requirement`` findings only mean a tier's requirement is unmet,
which leaves the case at a lower tier, or at T0 ``hold`` when not even T1 is met.

``sensitive`` reasons are never shown to the applicant: telling someone that a safeguarding
concern or a suspicious-activity report exists is tipping-off, and could put them in danger.
The applicant sees only :data:`SURVIVOR_MESSAGES`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Kind(enum.StrEnum):
    DECLINE = "decline"
    REFER = "refer"
    REQUIREMENT = "requirement"


class Remedy(enum.StrEnum):
    """Who acts next, so a teller knows whether to send the person back to the NGO."""

    RETURN_TO_ISSUER = "return_to_issuer"
    BANK_STEP = "bank_step"
    HUMAN_REVIEW = "human_review"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    kind: Kind
    summary: str
    remedy: Remedy
    sensitive: bool = False
    safeguarding: bool = False
    #: A reviewer should consider a SAR (FinCEN key term "HUMAN TRAFFICKING FIN-2020-A008").
    consider_sar: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "kind": self.kind.value, "summary": self.summary,
                "remedy": self.remedy.value, "sensitive": self.sensitive,
                "safeguarding": self.safeguarding, "consider_sar": self.consider_sar}


def _r(code: str, kind: Kind, summary: str, remedy: Remedy, **kw: bool) -> Reason:
    return Reason(code, kind, summary, remedy, **kw)


D, R, Q = Kind.DECLINE, Kind.REFER, Kind.REQUIREMENT
ISS, BANK, HUM, NONE = Remedy.RETURN_TO_ISSUER, Remedy.BANK_STEP, Remedy.HUMAN_REVIEW, Remedy.NONE

REASONS: Final[dict[str, Reason]] = {r.code: r for r in (
    # Decline: confirmed facts only, each confirmed by a human.
    _r("CONFIRMED_SANCTIONS_MATCH", D, "A reviewer confirmed a sanctions-list match.", HUM,
       sensitive=True),
    _r("CONFIRMED_FRAUD", D, "A reviewer confirmed fraud.", HUM, sensitive=True,
       consider_sar=True),
    _r("CONFIRMED_DUPLICATE", D, "A reviewer confirmed a duplicate application or identity.",
       HUM, sensitive=True),
    _r("CONFIRMED_THIRD_PARTY_CONTROL", D,
       "A reviewer confirmed that someone else controls the applicant: decline, start "
       "safeguarding and consider a SAR.", HUM, sensitive=True, safeguarding=True,
       consider_sar=True),
    _r("CONSENT_REFUSED", D, "The applicant refused or withdrew consent.", NONE),
    # Refer: a human must look; never a decline by itself.
    _r("POSSIBLE_SANCTIONS_MATCH", R, "Possible sanctions-list match awaiting review.", HUM,
       sensitive=True),
    _r("POSSIBLE_PEP_MATCH", R, "Possible politically exposed person match awaiting review.",
       HUM, sensitive=True),
    _r("CONFIRMED_PEP", R, "Confirmed politically exposed person: simplified measures do not "
       "apply; enhanced due diligence decides.", HUM, sensitive=True),
    _r("POSSIBLE_DUPLICATE", R, "Possible duplicate: a human reviews it before any refusal "
       "(NIST SP 800-63A-4 forbids deciding on a 1:N match alone).", HUM, sensitive=True),
    _r("COERCION_INDICATORS", R, "Signs that someone else may control the applicant were seen "
       "at the counter: review and safeguarding, not refusal.", HUM, sensitive=True,
       safeguarding=True),
    _r("ISSUER_ACCREDITATION_LAPSED", R, "The issuer's accreditation has lapsed.", HUM),
    _r("REFEREE_NOT_CERTIFIED", R, "The trusted referee was not certified at the time of the "
       "session.", HUM),
    _r("REFEREE_VOUCHING_VOLUME", R, "Unusual number of attestations by one trusted referee.",
       HUM, sensitive=True),
    _r("ATTRIBUTE_CONFLICT", R, "Attributes conflict between the attestation and what the bank "
       "holds or sees.", HUM),
    _r("MINOR", R, "The applicant is under the age of majority.", HUM, safeguarding=True),
    _r("POSSIBLE_MINOR", R, "The date of birth allows that the applicant is under the age of "
       "majority.", HUM, safeguarding=True),
    _r("ATTESTATION_NOT_FRESH", R, "The attestation is older than the freshness window.", HUM),
    _r("STATUS_LIST_STALE", R, "Revocation status is unknown or older than the policy allows.",
       HUM),
    _r("T1_VALIDITY_ENDING", R, "The T1 account's validity is ending: renewal needs review.",
       HUM),
    _r("STEP_UP_REVIEW", R, "A step-up to a higher tier is confirmed by a human.", HUM),
    _r("OVERRIDE_REVIEW", R, "An override was requested: four-eyes review.", HUM),
    _r("MONITORING_FUNNEL_ACCOUNT", R, "Funnel-account pattern (FIN-2020-A008): cash paid in at "
       "several places and taken out quickly.", HUM, sensitive=True, safeguarding=True,
       consider_sar=True),
    _r("MONITORING_PREPAID_CARDS", R, "Prepaid card purchases (FIN-2020-A008 alternative "
       "payments).", HUM, sensitive=True, consider_sar=True),
    _r("MONITORING_GEOGRAPHIC_SPREAD", R, "Sudden activity across new regions "
       "(FIN-2020-A008).", HUM, sensitive=True, safeguarding=True),
    _r("MONITORING_LIMIT_BREACH", R, "Activity above the tier's limits: block and review.",
       HUM),
    # Requirement: a tier is not met. At T0 these make a hold.
    _r("ATTESTATION_MISSING", Q, "No attestation was presented.", ISS),
    _r("ATTESTATION_UNREADABLE", Q, "The attestation could not be read.", ISS),
    _r("ATTESTATION_INVALID", Q, "The attestation failed verification (tampered or malformed).",
       ISS),
    _r("ATTESTATION_UNTRUSTED_ISSUER", Q, "The attestation's issuer is not on the bank's trust "
       "list.", ISS),
    _r("ATTESTATION_REVOKED", Q, "The attestation has been revoked by its issuer.", ISS),
    _r("ATTESTATION_SUSPENDED", Q, "The attestation is suspended by its issuer.", ISS),
    _r("ATTESTATION_EXPIRED", Q, "The attestation has expired.", ISS),
    _r("ATTESTATION_NOT_YET_VALID", Q, "The attestation is not valid yet.", ISS),
    _r("ISSUER_UNKNOWN", Q, "The issuer's trust-list entry is not available.", BANK),
    _r("ISSUER_NOT_TRUSTED", Q, "The issuer is suspended or revoked on the trust list.", ISS),
    _r("CONSENT_NOT_RECORDED", Q, "The applicant's consent has not been recorded yet.", BANK),
    _r("SCREENING_NOT_RUN", Q, "Sanctions and PEP screening has not been run.", BANK),
    _r("DUPLICATE_CHECK_NOT_RUN", Q, "The duplicate check has not been run.", BANK),
    _r("REFEREE_SESSION_NOT_ACCEPTED", Q, "The trusted-referee session type is not one this "
       "tier accepts (T1 needs in-person enrolment).", ISS),
    _r("SIGNED_PHOTO_MISSING", Q, "The attestation carries no signed photo.", ISS),
    _r("AUTHENTICATOR_BELOW_POLICY", Q, "The account authenticator is below the assurance level "
       "the tier needs.", BANK),
    _r("ASSURANCE_BELOW_POLICY", Q, "The attested identity assurance is below the tier's "
       "minimum.", NONE),
    _r("EVIDENCE_BELOW_POLICY", Q, "Not enough validated evidence of the strength the tier "
       "needs (a vouch is never evidence).", NONE),
    _r("STANDARD_CDD_NOT_PASSED", Q, "The bank's normal CDD has not verified a foundational "
       "ID.", NONE),
)}


#: What the applicant is told, by outcome: trauma-informed, never a reason code, never a hint
#: of safeguarding or reporting. ``hold_issuer`` is used when the hold is about the document.
SURVIVOR_MESSAGES: Final[dict[str, str]] = {
    "approve": "Your account can be opened today. We will explain what it can be used for and "
               "how to move to a fuller account later.",
    "refer": "A colleague needs to look at your application before the account can be opened. "
             "This is a normal step. We will contact you about what happens next.",
    "hold_issuer": "We can't open the account with this document today. This is about the "
                   "document, not about you. The organisation that gave it to you can help "
                   "you get it updated.",
    "hold_bank": "We need to finish a few steps on our side before the account can be opened. "
                 "This is not about you.",
    "decline": "We are not able to open an account at this time. You can ask the organisation "
               "supporting you about other options.",
}
