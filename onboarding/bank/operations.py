"""Writes on the bank side (verification records, cases, API keys), each audited."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from onboarding import audit
from onboarding.attestation.verify import VerificationResult, verify
from onboarding.audit import Actor
from onboarding.clock import now
from onboarding.models import ApiKey, BankCase, Organisation, Verification
from onboarding.privacy import FieldCipher, KeyStore
from onboarding.trust import VerifierContext, verifier_context

MAX_QR_TEXT = 4096
PRODUCTS = {"basic_account": "Basic current account with debit card",
            "savings": "Savings account"}
THIRD_PARTY_SIGNS = {
    "someone_speaks": "Someone else speaks for the applicant",
    "someone_holds_documents": "Someone else holds their documents, phone or money",
    "someone_insists_present": "Someone insists on being present (not the registered caseworker)",
    "scripted": "Answers seem scripted, or the applicant looks to someone before answering",
}
CONFLICTS = {
    "name_mismatch": "Name differs from the bank's records",
    "dob_mismatch": "Date of birth differs from the bank's records",
    "existing_customer": "Already a customer under other details",
}


def attestation_hash(org_id: uuid.UUID, attestation_id: str) -> str:
    """Keyed per bank: two banks' records cannot be joined on it."""
    return hmac.new(org_id.bytes, attestation_id.encode(), hashlib.sha256).hexdigest()


def run_verification(db: Session, actor: Actor, *, org_id: uuid.UUID, qr_text: str,
                     channel: str, anchor: Any, prefixes: tuple[str, ...],
                     keystore: KeyStore, user_id: uuid.UUID | None = None,
                     api_key_id: uuid.UUID | None = None,
                     at: datetime | None = None) -> tuple[Verification, VerificationResult]:
    """Verify and record what the bank needs: hash, result, time, who. Verified claims are
    kept encrypted (under the verification's own key) only so a case can be opened."""
    t = at or now()
    ctx: VerifierContext = verifier_context(db, anchor, t)
    # Only line breaks are trimmed: a space is a valid Base45 character.
    result = verify(qr_text[:MAX_QR_TEXT].strip("\r\n"), trust=ctx.trust, status=ctx.status, at=t,
                    prefixes=prefixes)
    row = Verification(id=uuid.uuid4(), org_id=org_id, user_id=user_id, api_key_id=api_key_id,
                       at=t, result=result.result, channel=channel)
    if result.claims is not None:
        row.attestation_hash = attestation_hash(org_id, result.claims.cti.hex())
    if result.result == "valid" and user_id is not None:
        dek = keystore.create(row.id)
        body = {"claims": result.to_json()["claims"], "issuer": result.to_json()["issuer"],
                "status_as_of": result.to_json()["status_as_of"]}
        row.pending_enc = FieldCipher(row.id, dek).seal("verified", body)
    db.add(row)
    db.flush()
    audit.record(db, actor, "verification.record", object_type="verification",
                 object_id=row.id, org_id=org_id, result=result.result, channel=channel)
    return row, result


def open_case(db: Session, actor: Actor, keystore: KeyStore, verification: Verification, *,
              user_id: uuid.UUID, product: str, third_party: list[str], caseworker_present: bool,
              conflicts: list[str]) -> BankCase:
    """Start an account-opening case holding the verified claims, encrypted."""
    if verification.pending_enc is None or verification.result != "valid":
        raise ValueError("only a valid verification can open a case")
    if product not in PRODUCTS:
        raise ValueError("unknown product")
    body = take_verified(keystore, verification)
    issuer_id = (body.get("issuer") or {}).get("id")
    issuer_org = db.execute(select(Organisation.id).where(
        Organisation.issuer_id == issuer_id)).scalar_one_or_none() if issuer_id else None
    case = BankCase(id=uuid.uuid4(), org_id=verification.org_id, verification_id=verification.id,
                    created_by=user_id, created_at=now(), status="open", product=product,
                    counter_checks={"third_party": sorted(set(third_party)
                                                          & set(THIRD_PARTY_SIGNS)),
                                    "caseworker_present": bool(caseworker_present),
                                    "conflicts": sorted(set(conflicts) & set(CONFLICTS))},
                    claims_enc=b"", issuer_org_id=issuer_org)
    case.claims_enc = FieldCipher(case.id, keystore.create(case.id)).seal("case_claims", body)
    db.add(case)
    db.flush()
    audit.record(db, actor, "case.open", object_type="bank_case", object_id=case.id,
                 org_id=case.org_id, product=product,
                 third_party_signs=len(case.counter_checks["third_party"]))
    return case


def take_verified(keystore: KeyStore, verification: Verification) -> dict[str, Any]:
    """The verified claims held for a case, once: the verification's own copy is shredded
    as it is handed over (to a new case, or to a step-up of an existing one)."""
    if verification.pending_enc is None:
        raise ValueError("no verified claims held")
    body: dict[str, Any] = FieldCipher(verification.id, keystore.get(verification.id)).open(
        "verified", verification.pending_enc)
    verification.pending_enc = None
    keystore.destroy(verification.id)
    return body


def case_claims(keystore: KeyStore, case: BankCase) -> dict[str, Any]:
    """Decrypt a case's verified claims."""
    data: dict[str, Any] = FieldCipher(case.id, keystore.get(case.id)).open("case_claims",
                                                                          case.claims_enc)
    return data


# ----------------------------------------------------------------- API keys
KEY_PREFIX = "onb_"


def _hash_key(secret: str) -> str:
    return hashlib.sha256(b"api-key|" + secret.encode()).hexdigest()


def create_api_key(db: Session, actor: Actor, org: Organisation, name: str,
                   scopes: list[str], user_id: uuid.UUID) -> tuple[ApiKey, str]:
    """A new key; the full secret is returned once and only its hash is stored."""
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(id=uuid.uuid4(), org_id=org.id, name=name.strip()[:100], prefix=prefix,
                 key_hash=_hash_key(secret), scopes=sorted(set(scopes)), created_by=user_id,
                 created_at=now())
    db.add(row)
    db.flush()
    audit.record(db, actor, "api_key.create", object_type="api_key", object_id=row.id,
                 org_id=org.id, scopes=row.scopes)
    return row, secret


def revoke_api_key(db: Session, actor: Actor, row: ApiKey) -> None:
    """Stop a key working at once."""
    row.revoked_at = now()
    audit.record(db, actor, "api_key.revoke", object_type="api_key", object_id=row.id,
                 org_id=row.org_id)


#: Built once: every API request runs it, and building it cost about as much as running it.
_KEY_BY_PREFIX = select(ApiKey).where(ApiKey.prefix == bindparam("prefix"))


def authenticate_api_key(db: Session, secret: str) -> ApiKey | None:
    """The live key for ``secret`` (constant-time hash comparison), else None."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 120:
        return None
    parts = secret[len(KEY_PREFIX):].split("_", 1)
    if len(parts) != 2:
        return None
    row = db.execute(_KEY_BY_PREFIX, {"prefix": parts[0]}).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _hash_key(secret)):
        return None
    return row


__all__ = ["PRODUCTS", "json"]
