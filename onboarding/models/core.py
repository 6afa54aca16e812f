"""Organisations, staff, sessions, audit log and job bookkeeping."""

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
    Integer,
    LargeBinary,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onboarding.clock import now
from onboarding.db import Base, UTCDateTime


class OrgKind(enum.StrEnum):
    """The three kinds of tenant."""

    NGO = "ngo"
    BANK = "bank"
    AUTHORITY = "authority"  # accredits issuers and governs the trust list


class Role(enum.StrEnum):
    """Staff roles; each belongs to exactly one organisation kind."""

    CASEWORKER = "caseworker"
    NGO_ADMIN = "ngo_admin"
    VERIFIER = "verifier"
    COMPLIANCE_OFFICER = "compliance_officer"
    REPORTING_OFFICER = "reporting_officer"
    BANK_ADMIN = "bank_admin"
    PLATFORM_ADMIN = "platform_admin"


ROLES_BY_KIND: dict[OrgKind, tuple[Role, ...]] = {
    OrgKind.NGO: (Role.CASEWORKER, Role.NGO_ADMIN),
    OrgKind.BANK: (Role.VERIFIER, Role.COMPLIANCE_OFFICER, Role.REPORTING_OFFICER,
                   Role.BANK_ADMIN),
    OrgKind.AUTHORITY: (Role.PLATFORM_ADMIN,),
}
ADMIN_ROLE: dict[OrgKind, Role] = {
    OrgKind.NGO: Role.NGO_ADMIN,
    OrgKind.BANK: Role.BANK_ADMIN,
    OrgKind.AUTHORITY: Role.PLATFORM_ADMIN,
}


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


def _tz() -> UTCDateTime:
    return UTCDateTime()


class Organisation(Base):
    """A tenant: an NGO (issuer), a bank (verifier) or the authority."""

    __tablename__ = "organisation"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    kind: Mapped[OrgKind] = mapped_column(
        Enum(OrgKind, name="org_kind", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]))
    name: Mapped[str] = mapped_column(String(200))
    #: Neutral name shown to banks and on cards (never "... trafficking shelter").
    display_name: Mapped[str] = mapped_column(String(200))
    jurisdiction: Mapped[str] = mapped_column(String(8), default="GB")
    #: Short public issuer id (the ``iss`` claim and the trust-list entry) for NGOs.
    issuer_id: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    #: Accreditation by the authority (NGOs): until when, and the issuer's state in the
    #: trust list (active / suspended / revoked).
    accredited_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    issuer_state: Mapped[str] = mapped_column(String(16), default="active")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    """A staff member of one organisation. Survivors never have accounts."""

    __tablename__ = "staff_user"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="staff_role", native_enum=False, length=32,
             values_callable=lambda e: [m.value for m in e]))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    #: TOTP seed, AES-GCM encrypted under the KEK (SECURITY.md 2).
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    totp_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Last accepted TOTP time step: a code is accepted once, never again (replay).
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    password_changed_at: Mapped[datetime] = mapped_column(_tz(), default=now)

    organisation: Mapped[Organisation] = relationship(back_populates="users")


class RecoveryCode(Base):
    """A single-use MFA recovery code, stored only as a hash."""

    __tablename__ = "recovery_code"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)


class StaffSession(Base):
    """Server-side session. The cookie carries a random id; only its SHA-256 is stored,
    so a database dump yields no usable session."""

    __tablename__ = "staff_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    last_seen_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditEntry(Base):
    """One link of the hash-chained audit log. Ids and actions only, never PII."""

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=False)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=_uuid)
    at: Mapped[datetime] = mapped_column(_tz())
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """Single row holding the chain head; updating it first serialises appenders."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class JobRun(Base):
    """When each periodic job last ran (``onboarding jobs run`` runs what is due)."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    last_finished_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    last_status: Mapped[str] = mapped_column(String(16), default="never")
