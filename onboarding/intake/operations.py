"""Writes for intake, issuance and the attestation life cycle. Every function appends
an audit entry (ids and codes only) in the caller's transaction."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, event, func, or_, select
from sqlalchemy.orm import Session

from onboarding import assurance, audit, issuer
from onboarding.attestation.claims import Attested
from onboarding.attestation.issue import issue_attestation
from onboarding.audit import Actor
from onboarding.clock import now
from onboarding.crypto import Keyring
from onboarding.models import (
    Attestation,
    AttestationStatus,
    CaseworkerCertification,
    Consent,
    ConsentText,
    Evidence,
    HandoverLink,
    NameToken,
    Organisation,
    Person,
    PersonStatus,
    RefereeSession,
    StatusList,
    User,
)
from onboarding.models.intake import LEGAL_HOLD_REASONS
from onboarding.privacy import BlindIndex, Erased, FieldCipher, KeyStore, normalise_name


class IntakeError(Exception):
    """A refused intake or issuance step; the message is safe to show the caseworker."""


@dataclass
class Services:
    """What intake operations need besides the database session."""

    keyring: Keyring
    keystore: KeyStore
    blind: BlindIndex
    upload_dir: Path
    config: dict[str, Any] = field(default_factory=dict)

    def cipher(self, person: Person) -> FieldCipher:
        """The person's field cipher (raises :class:`Erased` after crypto-shredding)."""
        return FieldCipher(person.id, self.keystore.get(person.id))


# ------------------------------------------------------------------- consent
def consent_text(db: Session, org_id: uuid.UUID, language: str) -> ConsentText | None:
    """The active consent text for ``language`` (newest version)."""
    return db.execute(select(ConsentText).where(
        ConsentText.org_id == org_id, ConsentText.language == language,
        ConsentText.active.is_(True)).order_by(ConsentText.created_at.desc())
        .limit(1)).scalar_one_or_none()


def start_intake(db: Session, actor: Actor, svc: Services, *, org: Organisation,
                 caseworker: User, text: ConsentText, purposes: list[str], method: str,
                 token: str) -> Person:
    """Record consent and open a draft. Idempotent on ``token`` (a double submit returns
    the same draft); no consent, no record (SECURITY.md 36)."""
    existing = db.execute(select(Person).where(Person.intake_token == token)
                          ).scalar_one_or_none()
    if existing is not None:
        if existing.org_id != org.id:
            raise IntakeError(_("This form was already used."))
        return existing
    required = set(text.purposes)
    if not required <= set(purposes):
        raise IntakeError(_("Every listed purpose must be agreed to; without consent we cannot "
                            "enrol."))
    if method not in ("read_aloud", "signed"):
        raise IntakeError(_("Choose how consent was given."))
    person = Person(id=uuid.uuid4(), org_id=org.id, created_by=caseworker.id,
                    status=PersonStatus.DRAFT, step="identity", language=text.language,
                    intake_token=token, created_at=now(), updated_at=now())
    db.add(person)
    db.flush()
    svc.keystore.create(person.id)
    db.add(Consent(id=uuid.uuid4(), person_id=person.id, text_id=text.id,
                   language=text.language, purposes=sorted(purposes), method=method,
                   given_at=now(), recorded_by=caseworker.id))
    audit.record(db, actor, "intake.start", object_type="person", object_id=person.id)
    audit.record(db, actor, "consent.record", object_type="person", object_id=person.id,
                 version=text.version, language=text.language, method=method)
    return person


# ------------------------------------------------------------------ identity
@dataclass(frozen=True)
class Identity:
    """Identity claims as typed by the caseworker (validated by the form)."""

    names: list[str]
    other_names: list[str]
    dob: str  # YYYY, YYYY-MM or YYYY-MM-DD
    dob_approximate: bool
    birth_place: str
    nationality: str  # alpha-3, or ""
    languages: list[str]


def save_identity(db: Session, actor: Actor, svc: Services, person: Person,
                  ident: Identity) -> uuid.UUID | None:
    """Encrypt and store the claims, refresh the blind index, flag a possible duplicate
    (never blocks: NIST forbids declining on a match without manual review)."""
    c = svc.cipher(person)
    names = [normalise_name(n) for n in ident.names if n.strip()]
    person.names_enc = c.seal("names", names)
    person.other_names_enc = c.seal("other_names",
                                    [normalise_name(n) for n in ident.other_names if n.strip()])
    person.dob_enc = c.seal("dob", {"value": ident.dob, "approximate": ident.dob_approximate})
    person.birth_place_enc = c.seal("birth_place", normalise_name(ident.birth_place))
    person.nationality_enc = c.seal("nationality", ident.nationality)
    person.languages_enc = c.seal("languages", ident.languages)
    db.execute(delete(NameToken).where(NameToken.person_id == person.id))
    tokens = svc.blind.tokens(person.org_id, names + list(ident.other_names))
    for t in tokens:
        db.add(NameToken(person_id=person.id, token=t))
    person.possible_duplicate_of = _possible_duplicate(db, person, tokens)
    person.step = "photo" if person.step == "identity" else person.step
    person.updated_at = now()
    audit.record(db, actor, "intake.identity", object_type="person", object_id=person.id,
                 possible_duplicate=person.possible_duplicate_of is not None)
    return person.possible_duplicate_of


def _possible_duplicate(db: Session, person: Person, tokens: set[str]) -> uuid.UUID | None:
    if len(tokens) < 2:
        return None
    row = db.execute(
        select(NameToken.person_id, func.count()).join(Person, Person.id == NameToken.person_id)
        .where(NameToken.token.in_(tokens), NameToken.person_id != person.id,
               Person.org_id == person.org_id, Person.status != PersonStatus.ERASED)
        .group_by(NameToken.person_id).order_by(func.count().desc()).limit(1)).first()
    if row is not None and row[1] >= min(2, len(tokens)):
        return uuid.UUID(str(row[0]))
    return None


def search(db: Session, svc: Services, org_id: uuid.UUID, query: str) -> list[Person]:
    """People of ``org_id`` whose names contain every token of ``query`` (blind index)."""
    from onboarding.privacy import name_tokens

    toks = name_tokens(query)
    if not toks:
        return []
    hashed = [svc.blind.token(org_id, t) for t in toks]
    ids = select(NameToken.person_id).where(NameToken.token.in_(hashed)).group_by(
        NameToken.person_id).having(func.count(func.distinct(NameToken.token)) == len(hashed))
    return list(db.execute(select(Person).where(Person.org_id == org_id, Person.id.in_(ids))
                           .order_by(Person.updated_at.desc()).limit(100)).scalars())


# --------------------------------------------------------------------- photo
def save_photo(db: Session, actor: Actor, svc: Services, person: Person, image: bytes,
               thumbnail: bytes) -> None:
    """Store the (already re-encoded, metadata-free) photo encrypted under a random name
    outside any static folder; the ≤ 400-byte thumbnail goes into the attestation."""
    c = svc.cipher(person)
    svc.upload_dir.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ".bin"
    tmp = svc.upload_dir / (name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(c.seal_bytes("photo", image))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, svc.upload_dir / name)
    old = person.photo_file
    person.photo_file = name
    person.thumbnail_enc = c.seal_bytes("thumbnail", thumbnail)
    person.step = "evidence" if person.step == "photo" else person.step
    person.updated_at = now()
    audit.record(db, actor, "intake.photo", object_type="person", object_id=person.id)
    if old:
        _remove_file(svc.upload_dir / old)


def read_photo(svc: Services, person: Person) -> bytes | None:
    """Decrypt the stored photo (None when there is none)."""
    if not person.photo_file:
        return None
    data = (svc.upload_dir / person.photo_file).read_bytes()
    return svc.cipher(person).open_bytes("photo", data)


def _remove_file(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


# ------------------------------------------------------------------ evidence
def add_evidence(db: Session, actor: Actor, svc: Services, person: Person, *, kind: str,
                 validation: str, result: str, details: str, reference_ial: int | None = None,
                 relationship: str | None = None, liability_ack: bool = False,
                 recorded_by: uuid.UUID) -> Evidence:
    """Record one item from the catalogue (applicant references with their own fields)."""
    entry = assurance.CATALOGUE.get(kind)
    if entry is None:
        raise IntakeError(_("Choose an evidence type from the list."))
    if validation not in assurance.VALIDATION_METHODS:
        raise IntakeError(_("Choose how the evidence was checked."))
    if entry.is_reference and not liability_ack:
        raise IntakeError(_("An applicant reference must acknowledge liability for the vouch."))
    item = Evidence(id=uuid.uuid4(), person_id=person.id, kind=kind, validation=validation,
                    result=result,
                    details_enc=svc.cipher(person).seal("evidence_details", details)
                    if details else None,
                    reference_ial=reference_ial if entry.is_reference else None,
                    reference_relationship=relationship if entry.is_reference else None,
                    reference_liability_ack=liability_ack, recorded_by=recorded_by,
                    recorded_at=now())
    db.add(item)
    db.flush()
    person.updated_at = now()
    audit.record(db, actor, "evidence.add", object_type="evidence", object_id=item.id,
                 person=str(person.id), kind=kind, result=result)
    return item


def remove_evidence(db: Session, actor: Actor, person: Person, item: Evidence) -> None:
    """Remove an item recorded by mistake (before issuance)."""
    db.delete(item)
    audit.record(db, actor, "evidence.remove", object_type="evidence", object_id=item.id,
                 person=str(person.id))


def evidence_of(db: Session, person: Person) -> list[Evidence]:
    """A person's evidence, in the order recorded."""
    return list(db.execute(select(Evidence).where(Evidence.person_id == person.id)
                           .order_by(Evidence.recorded_at)).scalars())


def assurance_of(db: Session, person: Person) -> assurance.AssuranceResult:
    """Computed from the evidence by the documented table."""
    return assurance.compute(assurance.EvidenceFact(e.kind, e.validation, e.result)
                             for e in evidence_of(db, person))


# ------------------------------------------------------------- referee session
REFEREE_REASONS = {
    "no_documents": _l("Has no identity documents and cannot obtain them now"),
    "documents_withheld": _l("Documents are held by someone else"),
    "documents_unsafe": _l("Applying for documents would put the person at risk"),
    "documents_pending": _l("Documents applied for, not yet received"),
}
COERCION_INDICATORS = {
    "third_party_speaks": _l("Someone else speaks for the person"),
    "third_party_present": _l("Someone insists on being present (other than support staff)"),
    "documents_held": _l("Someone else holds their documents or money"),
    "scripted_answers": _l("Answers seem scripted or rehearsed"),
    "fear_distress": _l("Signs of fear, distress or confusion about the process"),
    "no_control_of_phone": _l("Does not control their own phone or contact details"),
}


def save_referee_session(db: Session, actor: Actor, svc: Services, person: Person, *,
                         caseworker: User, mode: int, reason: str, detail: str,
                         checked: list[str], seen: list[str]) -> RefereeSession:
    """The NIST trusted-referee record: why, how, what was checked and what was seen."""
    if reason not in REFEREE_REASONS or mode not in (1, 2):
        raise IntakeError(_("Choose why a trusted referee was needed and how the session ran."))
    unknown = set(checked) | set(seen) - set(COERCION_INDICATORS)
    if unknown - set(COERCION_INDICATORS):
        raise IntakeError(_("Unknown indicator."))
    if not set(seen) <= set(checked):
        raise IntakeError(_("An indicator marked as seen must also be marked as checked."))
    row = db.execute(select(RefereeSession).where(RefereeSession.person_id == person.id)
                     ).scalar_one_or_none()
    if row is None:
        row = RefereeSession(id=uuid.uuid4(), person_id=person.id)
        db.add(row)
    row.caseworker_id = caseworker.id
    row.mode = mode
    row.reason = reason
    row.reason_detail_enc = svc.cipher(person).seal("referee_detail", detail) if detail else None
    row.indicators_checked = sorted(checked)
    row.indicators_seen = sorted(seen)
    row.held_at = now()
    person.step = "review"
    person.updated_at = now()
    db.flush()
    audit.record(db, actor, "referee_session.record", object_type="person",
                 object_id=person.id, indicators_seen=len(seen))
    return row


# ------------------------------------------------------------- certification
def certification_valid(db: Session, user_id: uuid.UUID, on: date) -> bool:
    """Is the caseworker a certified trusted referee on ``on``?"""
    row = db.execute(select(CaseworkerCertification).where(
        CaseworkerCertification.user_id == user_id)
        .order_by(CaseworkerCertification.expires_on.desc()).limit(1)).scalar_one_or_none()
    return row is not None and row.certified_on <= on <= row.expires_on


def certify(db: Session, actor: Actor, user: User, certified_on: date,
            expires_on: date) -> CaseworkerCertification:
    """NGO admin records a (re)certification."""
    if expires_on <= certified_on:
        raise IntakeError(_("The expiry must be after the certification date."))
    row = CaseworkerCertification(id=uuid.uuid4(), user_id=user.id, certified_on=certified_on,
                                  expires_on=expires_on, recorded_by=actor.user_id or user.id)
    db.add(row)
    db.flush()
    audit.record(db, actor, "caseworker.certify", object_type="staff_user", object_id=user.id,
                 org_id=user.org_id, expires=expires_on.isoformat())
    return row


# ------------------------------------------------------------------- issuance
def claims_for(db: Session, svc: Services, person: Person) -> Attested:
    """Build the attested claims (FORMATS.md) from the encrypted record."""
    c = svc.cipher(person)
    names = c.open("names", person.names_enc) or []
    dob = c.open("dob", person.dob_enc) or {}
    nationality = c.open("nationality", person.nationality_enc) or None
    languages = c.open("languages", person.languages_enc) or []
    thumb = c.open_bytes("thumbnail", person.thumbnail_enc) if person.thumbnail_enc else None
    result = assurance_of(db, person)
    categories = sorted({int(assurance.CATALOGUE[e.kind].category)
                         for e in evidence_of(db, person)})
    session = db.execute(select(RefereeSession).where(RefereeSession.person_id == person.id)
                         ).scalar_one_or_none()
    refs = sum(1 for e in evidence_of(db, person) if assurance.CATALOGUE[e.kind].is_reference)
    return Attested(names=tuple(names), dob=dob.get("value", ""),
                    dob_approximate=bool(dob.get("approximate")),
                    nationality=nationality or None, thumbnail=thumb,
                    assurance=result.ial, evidence=tuple(categories),
                    referee_session=session.mode if session else 0, references=refs,
                    languages=tuple(languages) or None)


def issue(db: Session, actor: Actor, svc: Services, person: Person, *, caseworker: User,
          org: Organisation, base_url: str) -> Attestation:
    """Issue (or hold) an attestation for ``person``.

    Refused for an uncertified or lapsed caseworker. If coercion indicators were seen, the
    attestation is created *held*, for the NGO admin to review: never silently issued.
    """
    if person.status in (PersonStatus.RESTRICTED, PersonStatus.ERASED):
        raise IntakeError(_("This record is restricted; nothing can be issued."))
    if not certification_valid(db, caseworker.id, now().date()):
        raise IntakeError(_("Your trusted-referee certification is missing or has lapsed. Ask "
                            "your NGO administrator to record your recertification."))
    session = db.execute(select(RefereeSession).where(RefereeSession.person_id == person.id)
                         ).scalar_one_or_none()
    if session is None or person.names_enc is None:
        raise IntakeError(_("Complete every step before issuing."))
    attested = claims_for(db, svc, person)
    row = Attestation(id=uuid.uuid4(), person_id=person.id, org_id=org.id,
                      cti=secrets.token_bytes(16), assurance=attested.assurance,
                      issued_by=caseworker.id, created_at=now(),
                      status=AttestationStatus.HELD)
    person.status = PersonStatus.ACTIVE
    person.step = "done"
    if session.indicators_seen:
        # Held for the NGO admin: nothing is signed, but the record still needs an end.
        # Kept as long as an issued one would be (a card signed later moves it on); a hold
        # that is never released, or is declined, is shredded then, not kept for ever.
        if person.retain_until is None:
            person.retain_until = now().date() + timedelta(
                days=int(svc.config.get("ATTESTATION_VALIDITY_DAYS", 365))
                + int(svc.config.get("RETENTION_AFTER_EXPIRY_DAYS", 365)))
        db.add(row)
        db.flush()
        audit.record(db, actor, "attestation.hold", object_type="attestation", object_id=row.id,
                     person=str(person.id), reason="coercion_indicators")
        return row
    _sign_into(db, actor, svc, row, attested, org, base_url)
    db.add(row)
    db.flush()
    audit.record(db, actor, "attestation.issue", object_type="attestation", object_id=row.id,
                 person=str(person.id), assurance=row.assurance, qr_version=row.qr_version)
    return row


def _sign_into(db: Session, actor: Actor, svc: Services, row: Attestation, attested: Attested,
               org: Organisation, base_url: str) -> None:
    keys = issuer.active_keys(db, org.id)
    if not keys:
        raise IntakeError(_("Your organisation has no signing key yet. Ask the administrator "
                            "to run `onboarding keys generate`."))
    key = keys[0]
    size = int(svc.config.get("STATUS_LIST_SIZE", 131072))
    lst, idx = issuer.allocate(db, org.id, size, base_url)
    t = now()
    days = int(svc.config.get("ATTESTATION_VALIDITY_DAYS", 365))
    issued = issue_attestation(
        attested, issuer_id=issuer.ensure_issuer_id(org),
        signing_key=issuer.signing_key(svc.keyring, key), kid=key.kid, alg=key.alg,
        status_idx=idx, status_uri=lst.uri, iat=t,
        exp=t + timedelta(days=days), cti=row.cti,
        prefix=str(svc.config.get("ATTESTATION_PREFIX", "ID1:")))
    from onboarding.attestation.qr import qr_version

    row.key_id = key.id
    row.status_list_id = lst.id
    row.status_idx = idx
    row.issued_at = t
    row.expires_at = t + timedelta(days=days)
    row.status = AttestationStatus.ACTIVE
    person = db.get(Person, row.person_id)
    assert person is not None
    row.qr_enc = svc.cipher(person).seal_bytes("qr", issued.text.encode())
    row.qr_version = qr_version(issued.text)
    # Retention: the record is kept a year (by default) past the newest attestation's expiry
    # -- time for a bank to ask about it -- then the retention job shreds it unless it is on
    # legal hold. Set here so every path that signs (issue, reissue, release of a held
    # attestation) moves it, and only ever later: an older card must not shorten it.
    keep = (row.expires_at + timedelta(
        days=int(svc.config.get("RETENTION_AFTER_EXPIRY_DAYS", 365)))).date()
    if person.retain_until is None or person.retain_until < keep:
        person.retain_until = keep


def release_held(db: Session, actor: Actor, svc: Services, row: Attestation,
                 org: Organisation, base_url: str) -> None:
    """NGO admin, after review: issue a held attestation."""
    if row.status != AttestationStatus.HELD:
        raise IntakeError(_("Only held attestations can be released."))
    person = db.get(Person, row.person_id)
    assert person is not None
    _sign_into(db, actor, svc, row, claims_for(db, svc, person), org, base_url)
    audit.record(db, actor, "attestation.release", object_type="attestation", object_id=row.id)


def qr_text(svc: Services, person: Person, row: Attestation) -> str | None:
    """Decrypt the stored QR text."""
    if row.qr_enc is None:
        return None
    return svc.cipher(person).open_bytes("qr", row.qr_enc).decode()


# ------------------------------------------------------------------ lifecycle
STATUS_VALUE = {AttestationStatus.ACTIVE: 0, AttestationStatus.REVOKED: 1,
                AttestationStatus.SUPERSEDED: 1, AttestationStatus.SUSPENDED: 2}
REVOCATION_REASONS = ("lost", "corrected", "renewal", "consent_withdrawn", "erased", "error",
                      "safeguarding", "other")


def _set(db: Session, row: Attestation, status: AttestationStatus) -> None:
    row.status = status
    if row.status_list_id is not None and row.status_idx is not None:
        # Row lock: a concurrent issue or revoke rewrites the same packed bitmap.
        lst = db.get(StatusList, row.status_list_id, with_for_update=True)
        assert lst is not None
        issuer.set_status(lst, row.status_idx, STATUS_VALUE[status])


def suspend(db: Session, actor: Actor, row: Attestation) -> None:
    """Temporarily invalid (e.g. card reported stolen, pending review)."""
    if row.status != AttestationStatus.ACTIVE:
        raise IntakeError(_("Only an active attestation can be suspended."))
    _set(db, row, AttestationStatus.SUSPENDED)
    audit.record(db, actor, "attestation.suspend", object_type="attestation", object_id=row.id)


def unsuspend(db: Session, actor: Actor, row: Attestation) -> None:
    """Back to valid."""
    if row.status != AttestationStatus.SUSPENDED:
        raise IntakeError(_("Only a suspended attestation can be reinstated."))
    _set(db, row, AttestationStatus.ACTIVE)
    audit.record(db, actor, "attestation.unsuspend", object_type="attestation",
                 object_id=row.id)


def revoke(db: Session, actor: Actor, row: Attestation, reason: str) -> None:
    """Permanently invalid, with a reason code."""
    if reason not in REVOCATION_REASONS:
        raise IntakeError(_("Choose a reason."))
    if row.status in (AttestationStatus.REVOKED, AttestationStatus.SUPERSEDED):
        return
    _set(db, row, AttestationStatus.REVOKED)
    row.revocation_reason = reason
    audit.record(db, actor, "attestation.revoke", object_type="attestation", object_id=row.id,
                 reason=reason)


def reissue(db: Session, actor: Actor, svc: Services, row: Attestation, *, caseworker: User,
            org: Organisation, base_url: str, reason: str) -> Attestation:
    """Lost card or corrected data: a new attestation supersedes (and revokes) the old."""
    person = db.get(Person, row.person_id)
    assert person is not None
    new = issue(db, actor, svc, person, caseworker=caseworker, org=org, base_url=base_url)
    if row.status in (AttestationStatus.ACTIVE, AttestationStatus.SUSPENDED,
                      AttestationStatus.HELD):
        _set(db, row, AttestationStatus.SUPERSEDED) if row.status_idx is not None else None
        row.status = AttestationStatus.SUPERSEDED
        row.revocation_reason = reason
        row.superseded_by = new.id
    audit.record(db, actor, "attestation.supersede", object_type="attestation",
                 object_id=row.id, new=str(new.id), reason=reason)
    return new


def withdraw_consent(db: Session, actor: Actor, person: Person) -> int:
    """Consent withdrawn: revoke every attestation and restrict the record."""
    n = 0
    for row in attestations_of(db, person):
        if row.status in (AttestationStatus.ACTIVE, AttestationStatus.SUSPENDED,
                          AttestationStatus.HELD):
            revoke(db, actor, row, "consent_withdrawn")
            n += 1
    for consent in db.execute(select(Consent).where(Consent.person_id == person.id,
                                                    Consent.withdrawn_at.is_(None))).scalars():
        consent.withdrawn_at = now()
    person.status = PersonStatus.RESTRICTED
    # Withdrawn consent: kept 30 days (to answer a dispute), then shredded by the job.
    person.retain_until = now().date() + timedelta(days=30)
    audit.record(db, actor, "consent.withdraw", object_type="person", object_id=person.id,
                 revoked=n)
    return n


def erase(db: Session, actor: Actor, svc: Services, person: Person) -> None:
    """Crypto-shredding: revoke attestations, destroy the data key, drop ciphertexts and
    the photo file. The audit entry keeps only the record id."""
    # Re-read under a row lock: a legal hold committed since ``person`` was loaded (the
    # retention job loads its whole list first) must win over the erasure.
    db.get(Person, person.id, with_for_update=True, populate_existing=True)
    if person.legal_hold:
        raise IntakeError(_("This record is under legal hold and cannot be erased."))
    if person.status == PersonStatus.ERASED:
        return
    for row in attestations_of(db, person):
        if row.status not in (AttestationStatus.REVOKED, AttestationStatus.SUPERSEDED):
            revoke(db, actor, row, "erased")
        row.qr_enc = None
    photo = svc.upload_dir / person.photo_file if person.photo_file else None
    for col in ("names_enc", "other_names_enc", "dob_enc", "birth_place_enc",
                "nationality_enc", "languages_enc", "notes_enc", "thumbnail_enc"):
        setattr(person, col, None)
    person.photo_file = None
    db.execute(delete(NameToken).where(NameToken.person_id == person.id))
    for ev in evidence_of(db, person):
        ev.details_enc = None
    person.status = PersonStatus.ERASED
    person.erased_at = now()
    audit.record(db, actor, "person.erase", object_type="person", object_id=person.id,
                 org_id=person.org_id)
    # The key and the photo file go only once the erasure (and the revocations) are
    # committed: destroying them first would leave a live card for an unreadable record
    # if the transaction failed.
    person_id = person.id

    def shred(_session: Session) -> None:
        svc.keystore.destroy(person_id)
        if photo is not None:
            _remove_file(photo)

    event.listen(db, "after_commit", shred, once=True)


def attestations_of(db: Session, person: Person) -> list[Attestation]:
    """Newest first."""
    return list(db.execute(select(Attestation).where(Attestation.person_id == person.id)
                           .order_by(Attestation.created_at.desc())).scalars())


def retention_due(db: Session, today: date, draft_days: int = 90) -> list[Person]:
    """Records past their retention date, and intakes left unfinished for ``draft_days``
    (consent was given for an enrolment that never happened: nothing justifies keeping what
    was typed), unless under legal hold."""
    stale = _draft_cutoff(today, draft_days)
    return list(db.execute(select(Person).where(
        or_(and_(Person.retain_until.is_not(None), Person.retain_until < today),
            and_(Person.status == PersonStatus.DRAFT, Person.updated_at < stale)),
        Person.legal_hold.is_(False), Person.status != PersonStatus.ERASED)).scalars())


def _draft_cutoff(today: date, draft_days: int) -> datetime:
    """Unfinished intakes last changed before this are shredded on ``today``."""
    return datetime.combine(today - timedelta(days=draft_days), time.min, tzinfo=UTC)


def draft_shredded_on(person: Person, draft_days: int) -> date:
    """The first day the retention job shreds this unfinished intake if nobody continues it
    (the day its last change falls before :func:`_draft_cutoff`)."""
    return person.updated_at.date() + timedelta(days=draft_days + 1)


def set_legal_hold(db: Session, actor: Actor, person: Person, on: bool, reason: str) -> None:
    """Place or lift a legal hold: while on, neither erasure nor the retention job touches
    the record. The reason is a code, never free text (an operator's note could name the
    person or the case)."""
    if reason not in LEGAL_HOLD_REASONS:
        raise IntakeError(_("Unknown legal hold reason."))
    # Locked and re-read: an erasure in progress (the retention job) finishes first, and
    # then this refuses instead of recording a hold on a record that is gone.
    db.get(Person, person.id, with_for_update=True, populate_existing=True)
    if person.status == PersonStatus.ERASED:
        raise IntakeError(_("This record was erased: there is nothing left to hold."))
    if person.legal_hold == on:
        return
    person.legal_hold = on
    audit.record(db, actor, "person.legal_hold" if on else "person.legal_hold_lift",
                 object_type="person", object_id=person.id, org_id=person.org_id,
                 reason=reason)


# ------------------------------------------------------------------ hand-over
def create_handover(db: Session, actor: Actor, row: Attestation, minutes: int) -> str:
    """A one-time link token (shown as a QR); only its hash is stored."""
    token = secrets.token_urlsafe(24)
    db.add(HandoverLink(token_hash=hashlib.sha256(token.encode()).hexdigest(),
                        attestation_id=row.id, created_at=now(),
                        expires_at=now() + timedelta(minutes=minutes)))
    audit.record(db, actor, "handover.create", object_type="attestation", object_id=row.id)
    return token


def redeem_handover(db: Session, token: str) -> Attestation | None:
    """Consume a hand-over link: valid once, within its lifetime."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    link = db.get(HandoverLink, digest, with_for_update=True)
    if link is None or link.used_at is not None or link.expires_at <= now():
        return None
    link.used_at = now()
    row = db.get(Attestation, link.attestation_id)
    if row is None or row.status != AttestationStatus.ACTIVE:
        return None
    audit.record(db, audit.Actor(), "handover.redeem", object_type="attestation",
                 object_id=row.id)
    return row


__all__ = ["Erased", "IntakeError", "Services"]
