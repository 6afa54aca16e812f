"""The verifying side: trust-list versions, verifications, API keys and account cases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from onboarding.clock import now
from onboarding.db import Base, UTCDateTime


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


def _tz() -> UTCDateTime:
    return UTCDateTime()


class TrustListVersion(Base):
    """A published, signed trust list (monotonic version)."""

    __tablename__ = "trust_list_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    expires_at: Mapped[datetime] = mapped_column(_tz())
    content_hash: Mapped[str] = mapped_column(String(64))


class Verification(Base):
    """What a bank keeps of a verification: a keyed hash of the attestation id, the
    result, when and by whom. No claims here (those go into a case, encrypted)."""

    __tablename__ = "verification"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"), nullable=True)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    at: Mapped[datetime] = mapped_column(_tz(), default=now)
    result: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(16))  # camera | upload | paste | api
    attestation_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    #: Encrypted verified claims (held only until a case is opened or 1 hour passes).
    pending_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class ApiKey(Base):
    """A bank's API key: only a hash is stored; the secret is shown once."""

    __tablename__ = "api_key"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)


class BankCase(Base):
    """An account-opening case at a bank, started from a verified attestation."""

    __tablename__ = "bank_case"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    verification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("verification.id"))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    status: Mapped[str] = mapped_column(String(24), default="open", index=True)
    product: Mapped[str] = mapped_column(String(32))
    #: Counter checks as codes (third-party control signs, conflicts) — no free text.
    counter_checks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Verified claims and issuer facts, encrypted under the case's own key (key store).
    claims_enc: Mapped[bytes] = mapped_column(LargeBinary)
    #: Issuer of the attestation (for the safeguarding channel; not personal data).
    issuer_org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    recommendation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: Bumped on every change: a four-eyes approval is bound to the version proposed.
    version: Mapped[int] = mapped_column(Integer, default=1)
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    due_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    policy_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    applicant_key: Mapped[str] = mapped_column(String(64), default="")
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: Minimised snapshot of the engine input (no names; date of birth cut to the year) so
    #: policy backtests and re-tiering need no decryption.
    engine_input: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
