"""Identity assurance from evidence: the documented table (NIST SP 800-63A-4).

Each evidence type has a strength (FAIR, STRONG, SUPERIOR, or none) *when validated* against
an authoritative or credible source; unvalidated evidence counts for nothing. Then:

* IAL2: one SUPERIOR, or one STRONG plus one FAIR (two distinct pieces);
* IAL1: one FAIR or better;
* otherwise 0, the trusted-referee exception (below IAL1).

A trusted-referee interview or an applicant reference (vouch) is never evidence of identity
by itself (NIST: it supports an exception, it does not reach IAL1) — their strength is
``NONE`` by construction, and a test keeps it so. eIDAS levels follow the usual approximate
crosswalk (DOMAIN.md §2): IAL1 ≈ low, IAL2 ≈ substantial, below IAL1 ≈ none.

Pure module: no Flask, no database, so the table can be read and tested on its own.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from onboarding.attestation.claims import EvidenceCategory


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog. This module stays free of Flask: the
    screens translate labels and explanations when they show them (``_(entry.label)``)."""
    return message


class Strength(enum.IntEnum):
    """Evidence strength per NIST SP 800-63A-4."""

    NONE = 0
    FAIR = 1
    STRONG = 2
    SUPERIOR = 3


@dataclass(frozen=True)
class EvidenceType:
    """A catalogue entry: what the caseworker can record, and what it is worth."""

    code: str
    category: EvidenceCategory
    label: str
    strength: Strength
    is_reference: bool = False
    note: str = ""


#: The catalogue. Labels are for staff screens only; the QR carries the numeric category.
CATALOGUE: dict[str, EvidenceType] = {e.code: e for e in (
    EvidenceType("referee_interview", EvidenceCategory.REFEREE_INTERVIEW,
                 N_("Trusted-referee interview"), Strength.NONE,
                 note="Supports an exception; never identity evidence by itself."),
    EvidenceType("reference_vouch", EvidenceCategory.REFERENCE_VOUCH,
                 N_("Applicant reference (vouch)"), Strength.NONE, is_reference=True,
                 note="A vouch is not evidence (NIST SP 800-63A-4)."),
    EvidenceType("expired_passport", EvidenceCategory.EXPIRED_PASSPORT,
                 N_("Passport (expired is fine)"), Strength.STRONG,
                 note="Expired documents remain valid evidence of identity."),
    EvidenceType("expired_national_id", EvidenceCategory.EXPIRED_NATIONAL_ID,
                 N_("National identity card (expired is fine)"), Strength.STRONG),
    EvidenceType("protection_document", EvidenceCategory.PROTECTION_DOCUMENT,
                 N_("Refugee or asylum document"), Strength.STRONG),
    # Deliberately written into the QR as the generic "other government document": the
    # specific category would tell anyone who reads the spec what this person went through.
    EvidenceType("gov_status_letter", EvidenceCategory.OTHER_GOV_DOCUMENT,
                 N_("Government status letter (e.g. NRM conclusive grounds)"), Strength.FAIR,
                 note="Shown in the QR as 'other government document' (privacy)."),
    EvidenceType("other_gov_document", EvidenceCategory.OTHER_GOV_DOCUMENT,
                 N_("Other government-issued document"), Strength.FAIR),
    EvidenceType("consular_document", EvidenceCategory.CONSULAR_DOCUMENT,
                 N_("Consular identity document"), Strength.STRONG),
    EvidenceType("birth_certificate", EvidenceCategory.BIRTH_CERTIFICATE,
                 N_("Birth certificate"), Strength.FAIR),
    EvidenceType("police_report", EvidenceCategory.POLICE_REPORT,
                 N_("Police report naming the person"), Strength.FAIR),
    EvidenceType("employer_record", EvidenceCategory.EMPLOYER_RECORD,
                 N_("Employer record"), Strength.FAIR),
    EvidenceType("service_provider_record", EvidenceCategory.SERVICE_PROVIDER_RECORD,
                 N_("Record from a regulated service provider"), Strength.FAIR),
    EvidenceType("medical_record", EvidenceCategory.MEDICAL_RECORD,
                 N_("Medical record"), Strength.FAIR),
    EvidenceType("education_record", EvidenceCategory.EDUCATION_RECORD,
                 N_("Education record"), Strength.FAIR),
)}

#: How a piece of evidence was checked; only the first three count as validation.
VALIDATION_METHODS: dict[str, str] = {
    "authoritative_source": N_("Confirmed with the issuing authority"),
    "credible_source": N_("Confirmed with a credible source (e.g. the police force, employer)"),
    "document_inspection": N_("Inspected the physical document's security features"),
    "visual_only": N_("Seen, not checked"),
    "not_checked": N_("Not checked"),
}
VALIDATING = frozenset({"authoritative_source", "credible_source", "document_inspection"})


@dataclass(frozen=True)
class EvidenceFact:
    """What the assurance rule needs to know about one recorded piece of evidence."""

    code: str
    validation: str
    result: str  # "validated" | "unverified" | "failed"


@dataclass(frozen=True)
class AssuranceResult:
    """Computed assurance, with the reasoning shown to the caseworker."""

    ial: int  # 0 (referee exception), 1, 2
    eidas: str  # "none" | "low" | "substantial"
    counted: tuple[str, ...]  # codes that counted, strongest first
    explanation: str


def effective_strength(fact: EvidenceFact) -> Strength:
    """Strength the item contributes: its catalogue strength if validated, else none."""
    entry = CATALOGUE.get(fact.code)
    if entry is None or fact.result != "validated" or fact.validation not in VALIDATING:
        return Strength.NONE
    return entry.strength


def compute(facts: Iterable[EvidenceFact]) -> AssuranceResult:
    """Apply the table."""
    scored = sorted(((effective_strength(f), f.code) for f in facts), reverse=True)
    counted = [(s, c) for s, c in scored if s > Strength.NONE]
    strengths = [s for s, _ in counted]
    if strengths and strengths[0] == Strength.SUPERIOR:
        ial, why = 2, N_("one SUPERIOR piece of evidence, validated")
    elif len(strengths) >= 2 and strengths[0] >= Strength.STRONG and strengths[1] >= Strength.FAIR:
        ial, why = 2, N_("one STRONG and one further FAIR-or-better piece, both validated")
    elif strengths:
        ial, why = 1, N_("at least one FAIR-or-better piece of evidence, validated")
    else:
        ial, why = 0, N_("no validated identity evidence: trusted-referee exception "
                          "(an interview or a vouch never reaches IAL1)")
    eidas = {0: "none", 1: "low", 2: "substantial"}[ial]
    return AssuranceResult(ial, eidas, tuple(c for _, c in counted), why)
