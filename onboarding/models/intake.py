"""Enrolment data held by an NGO: people, consent, evidence, trusted-referee sessions,
attestations, issuer keys and status lists.

Personal values are stored only as ciphertext (``*_enc`` columns) under the person's data
key (see :mod:`onboarding.privacy`); the columns in clear are ids, codes, dates of
bookkeeping and states.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from onboarding.clock import now
from onboarding.db import Base, UTCDateTime


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


def _tz() -> UTCDateTime:
    return UTCDateTime()


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=24,
                values_callable=lambda e: [m.value for m in e])


class PersonStatus(enum.StrEnum):
    """Where a person's record is in its life."""

    DRAFT = "draft"  # intake in progress
    ACTIVE = "active"
    RESTRICTED = "restricted"  # consent withdrawn: kept only as the law requires
    ERASED = "erased"  # data key destroyed


#: Why a record is on legal hold: codes, never free text (a note could name the person).
LEGAL_HOLD_REASONS = ("court_order", "law_enforcement_request", "litigation",
                      "regulator_request", "safeguarding_investigation")


class Person(Base):
    """Someone enrolled by an NGO. Every personal field is encrypted."""

    __tablename__ = "person"
    #: The caseload: an NGO's people, most recently updated first.
    __table_args__ = (Index("ix_person_org_updated", "org_id", "updated_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    updated_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    status: Mapped[PersonStatus] = mapped_column(_enum(PersonStatus, "person_status"),
                                                 default=PersonStatus.DRAFT, index=True)
    #: Wizard position and the token that makes submitting a step idempotent.
    step: Mapped[str] = mapped_column(String(24), default="consent")
    intake_token: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    names_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    other_names_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    dob_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    birth_place_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    nationality_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    languages_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    notes_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: Random file name of the encrypted photo in the upload folder.
    photo_file: Mapped[str | None] = mapped_column(String(64), nullable=True)
    thumbnail_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    retain_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    possible_duplicate_of: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)


class NameToken(Base):
    """Blind-index entries for searching a person by name."""

    __tablename__ = "name_token"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                                 primary_key=True)
    token: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class ConsentText(Base):
    """A versioned consent text in one language (data, not code)."""

    __tablename__ = "consent_text"
    __table_args__ = (UniqueConstraint("org_id", "version", "language"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    version: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)


class Consent(Base):
    """What the person agreed to, when, how, in which language and text version."""

    __tablename__ = "consent"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                                 index=True)
    text_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_text.id"))
    language: Mapped[str] = mapped_column(String(8))
    purposes: Mapped[list[str]] = mapped_column(JSON)
    method: Mapped[str] = mapped_column(String(16))  # read_aloud | signed
    given_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)


class Evidence(Base):
    """One piece of evidence (or an applicant reference) behind the identity claims."""

    __tablename__ = "evidence"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                                 index=True)
    kind: Mapped[str] = mapped_column(String(32))  # catalogue code name
    validation: Mapped[str] = mapped_column(String(32))  # how it was checked
    result: Mapped[str] = mapped_column(String(16))  # validated | unverified | failed
    #: Free-text details (document numbers, reference's statement): encrypted.
    details_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    reference_ial: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reference_relationship: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reference_liability_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(_tz(), default=now)


class RefereeSession(Base):
    """The trusted-referee record NIST SP 800-63A-4 asks for."""

    __tablename__ = "referee_session"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                                 unique=True)
    caseworker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    mode: Mapped[int] = mapped_column(Integer)  # 1 onsite, 2 remote attended
    reason: Mapped[str] = mapped_column(String(32))  # why a referee was needed (code)
    reason_detail_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    indicators_checked: Mapped[list[str]] = mapped_column(JSON)
    indicators_seen: Mapped[list[str]] = mapped_column(JSON)
    held_at: Mapped[datetime] = mapped_column(_tz(), default=now)


class CaseworkerCertification(Base):
    """A caseworker's trusted-referee certification (annual recertification)."""

    __tablename__ = "caseworker_certification"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"),
                                               index=True)
    certified_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(_tz(), default=now)


class KeyState(enum.StrEnum):
    """Issuer signing key life cycle (FORMATS.md trust list)."""

    ACTIVE = "active"
    RETIRED = "retired"  # verifies what it signed before retirement, signs nothing new
    REVOKED = "revoked"  # compromised: everything it signed is invalid


class IssuerKey(Base):
    """An NGO's signing key; the private half only ever stored encrypted under the KEK."""

    __tablename__ = "issuer_key"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    kid: Mapped[bytes] = mapped_column(LargeBinary(8))
    alg: Mapped[int] = mapped_column(Integer)
    public_key_der: Mapped[bytes] = mapped_column(LargeBinary)
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[KeyState] = mapped_column(_enum(KeyState, "key_state"),
                                            default=KeyState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    retired_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)


class AttestationStatus(enum.StrEnum):
    """Life cycle of an issued attestation."""

    HELD = "held"  # coercion seen: waiting for the NGO admin, never silently issued
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # reissued; also revoked in the status list


class Attestation(Base):
    """An attestation record. The QR text itself is encrypted under the person's key."""

    __tablename__ = "attestation"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                                 index=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("issuer_key.id"),
                                                     nullable=True)
    cti: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)
    status_list_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("status_list.id"),
                                                             nullable=True)
    status_idx: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[AttestationStatus] = mapped_column(
        _enum(AttestationStatus, "attestation_status"), default=AttestationStatus.HELD,
        index=True)
    assurance: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    issued_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    qr_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    qr_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    superseded_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)


class StatusList(Base):
    """An issuer's Token Status List (2 bits per entry) and its last signed token."""

    __tablename__ = "status_list"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    size: Mapped[int] = mapped_column(Integer)
    #: Short public name and URL, fixed when the list is created. The URL is inside every
    #: attestation's QR, so it is kept short (the QR must stay at version 25 or below).
    slug: Mapped[str] = mapped_column(String(16), unique=True)
    uri: Mapped[str] = mapped_column(String(300), default="")
    bits: Mapped[bytes] = mapped_column(LargeBinary)  # packed 2-bit statuses
    allocated: Mapped[bytes] = mapped_column(LargeBinary)  # 1 bit per index in use
    used: Mapped[int] = mapped_column(Integer, default=0)
    token: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)


class HandoverLink(Base):
    """A one-time link (10 minutes, one use) for the person to save their QR and card."""

    __tablename__ = "handover_link"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    attestation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("attestation.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    expires_at: Mapped[datetime] = mapped_column(_tz())
    used_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
