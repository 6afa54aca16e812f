"""From the counter to the risk engine: build the engine's input from a case and store the
recommendation (issue 6 adds bank policies, screening lists and review)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

import risk
from onboarding import audit
from onboarding.audit import Actor
from onboarding.bank.operations import case_claims
from onboarding.clock import now
from onboarding.compliance.lifecycle import REVIEW_REQUEST, account_input
from onboarding.models import BankCase, Organisation
from onboarding.privacy import FieldCipher, KeyStore

COUNTER_TO_ENGINE = {
    "someone_speaks": "speaks_for_applicant",
    "someone_holds_documents": "holds_applicant_documents",
    "someone_insists_present": "insists_on_being_present",
    "scripted": "applicant_distressed_or_scripted",
}
PRODUCT_FEATURES = {
    "basic_account": ["domestic_account", "domestic_debit_card", "wages_and_benefits_in",
                      "bill_payments", "transfers_to_named_payees", "cash_within_cap"],
    "savings": ["domestic_account"],
}
#: What a teller may tell the applicant, per outcome: never screening, safeguarding or SAR
#: reasons (tipping-off), always kind and practical.
APPLICANT_MESSAGE = {
    "approve": "We can open a basic account for you today.",
    "refer": "A colleague needs to look at your application. We will contact you within "
             "two working days; you do not need to do anything.",
    "hold": "We cannot use this card today. Please ask the organisation that gave it to you "
            "to check it; then come back to us.",
    "decline": "We cannot open an account today. A colleague will explain your options.",
}


@lru_cache(maxsize=1)
def default_policy() -> risk.Policy:
    """The shipped default policy (DOMAIN.md §5)."""
    return risk.load_policy(risk.default_policy_path())


def engine_input(db: Session, case: BankCase, claims: dict[str, Any]) -> dict[str, Any]:
    """The engine's input document for ``case`` (see docs/risk.md for the schema)."""
    c = claims.get("claims") or {}
    issuer = claims.get("issuer") or {}
    org = db.get(Organisation, case.org_id)
    checks = case.counter_checks or {}
    accredited = issuer.get("accredited_until")
    return {
        "case_id": str(case.id),
        "assessed_at": now().date().isoformat(),
        "jurisdiction": org.jurisdiction if org else "GB",
        "applicant_key": str(case.id),
        "request": {"type": REVIEW_REQUEST.get(case.review_kind or "onboarding",
                                                "onboarding"),
                    "features": PRODUCT_FEATURES[case.product]},
        "attestation": {
            "verification": {"result": "valid", "warnings": [],
                             "status_as_of": claims.get("status_as_of")},
            "claims": {
                "identity_assurance": c.get("assurance", 0),
                "evidence_categories": c.get("evidence", []),
                "trusted_referee_session": c.get("referee_session", 0),
                "applicant_references": c.get("references", 0),
                "iat": _epoch(c.get("issued_at")),
                "exp": _epoch(c.get("expires_at")),
                "photo": bool(c.get("photo")),
                "date_of_birth": c.get("date_of_birth"),
                **({"nationality": c["nationality"]} if c.get("nationality") else {}),
            },
            "issuer": {"id": issuer.get("id", "unknown"),
                       "accreditation_state": "active"
                       if issuer.get("accreditation", "active") == "active" else "suspended",
                       **({"accreditation_expires": accredited[:10]} if accredited else {})},
        },
        "bank_checks": {
            "consent": "given",
            "screening": {"status": "not_run", "hits": []},
            "duplicate": "clear",
            "coercion": {"indicators": [{"code": COUNTER_TO_ENGINE[x]}
                                        for x in checks.get("third_party", [])
                                        if x in COUNTER_TO_ENGINE],
                         "third_party_control_confirmed": False},
            "fraud_confirmed": False,
            "attribute_conflicts": list(checks.get("conflicts", [])),
            "minor": None,
            "authenticator_aal": 2,
            "standard_cdd": checks.get("standard_cdd", "not_done"),
            "id_application_confirmed": bool(checks.get("id_application_confirmed")),
        },
        **({"account": account} if (account := account_input(case)) else {}),
    }


def minimise(doc: dict[str, Any]) -> dict[str, Any]:
    """The snapshot kept in clear for backtests: no names, year of birth only."""
    import copy

    out = copy.deepcopy(doc)
    claims = (out.get("attestation") or {}).get("claims") or {}
    if claims.get("date_of_birth"):
        claims["date_of_birth"] = str(claims["date_of_birth"])[:4]
    return out


def _epoch(iso: str | None) -> int:
    if not iso:
        return 0
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).timestamp())


def recommend(db: Session, actor: Actor, keystore: KeyStore, case: BankCase, *,
              reopen: bool = False) -> dict[str, Any]:
    """Run the engine with the bank's policy and keep the recommendation on the case.

    Only a case under review is re-assessed: a decided case is reopened only by starting a
    review (``reopen``), never as a side effect (a screening change must not undo a
    four-eyes decision)."""
    from onboarding.compliance.lifecycle import OPEN_REVIEW, LifecycleError
    from onboarding.compliance.operations import active_policy, screened_as_of, screening_check

    if case.status not in OPEN_REVIEW and not reopen:
        raise LifecycleError("This case is decided: start a review to assess it again.")

    claims = case_claims(keystore, case)
    if case.pending_claims_enc is not None:
        # A step-up is assessed on the newly verified attestation.
        claims = FieldCipher(case.id, keystore.get(case.id)).open("case_claims",
                                                                  case.pending_claims_enc)
    policy, policy_row = active_policy(db, case.org_id)
    doc = engine_input(db, case, claims)
    doc["bank_checks"]["screening"] = screening_check(db, case, claims, policy)
    if doc["bank_checks"]["screening"]["status"] == "completed":
        case.screened_at = screened_as_of(db, case.org_id) or now()
    decision = risk.assess(risk.parse_input(doc), policy)
    body = decision.to_dict()
    case.recommendation = body
    case.policy_id = policy_row.id if policy_row else None
    case.engine_input = minimise(doc)
    case.version += 1
    case.status = {"approve": "recommended", "refer": "referred", "hold": "held",
                   "decline": "declined_pending"}.get(body["outcome"], "open")
    audit.record(db, actor, "case.recommend", object_type="bank_case", object_id=case.id,
                 org_id=case.org_id, outcome=body["outcome"], tier=body["tier"])
    return body
