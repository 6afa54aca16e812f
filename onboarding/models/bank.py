"""The verifying side: trust-list versions, verifications, API keys and account cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
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


class TrustListVersion(Base):
    """A published, signed trust list (monotonic version)."""

    __tablename__ = "trust_list_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    expires_at: Mapped[datetime] = mapped_column(_tz())
    content_hash: Mapped[str] = mapped_column(String(64))


class GovernanceRollover(Base):
    """A governance key rollover: the announcement signed by the outgoing key, carrying the
    incoming key and its proof of possession (FORMATS.md §5). Public, like the trust list:
    a verifier pinning any earlier key follows the chain to the key in force."""

    __tablename__ = "governance_rollover"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    old_kid: Mapped[str] = mapped_column(String(16))  # hex of the 8-byte kid
    new_kid: Mapped[str] = mapped_column(String(16), unique=True)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)


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
    #: A core banking reference names one account at one bank (CSV uploads look it up).
    __table_args__ = (
        UniqueConstraint("org_id", "account_ref"),
        # The compliance queues: per bank, by status, oldest first; all cases newest; the
        # expiring accounts by end of validity (bench/scale_bench.py measures them).
        Index("ix_bank_case_queue", "org_id", "status", "created_at"),
        Index("ix_bank_case_org_created", "org_id", "created_at"),
        Index("ix_bank_case_org_valid_until", "org_id", "valid_until"),
    )

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

    # --- the open account (after an approval) ------------------------------------------
    #: Tier in force; None until the bank approves (or after a decline).
    account_tier: Mapped[str | None] = mapped_column(String(4), nullable=True, index=True)
    account_opened_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: End of the tier's time box (T1 12 months, T2 24 by default); None for T3.
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    renewals_used: Mapped[int] = mapped_column(Integer, default=0)
    #: The core banking system's own account reference (set through the decision API).
    account_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: What the current review is about: onboarding | step_up | renewal | alert.
    review_kind: Mapped[str] = mapped_column(String(16), default="onboarding")
    #: A step-up's newly verified claims, encrypted under the case key, until approved.
    pending_claims_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: Earlier decisions on this account (onboarding, step-ups, renewals), oldest first.
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: The end of validity last announced to core banking (announced once per time box,
    #: whatever review is open when it passes).
    validity_ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: When the open account was last screened against the bank's lists (a new list version
    #: re-screens every account screened before it: sanctions screening never stops).
    screened_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    #: Bumped when anything the decision API reports changes (a cursor for pollers).
    changed_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                             default=0, index=True)


class TransactionSummary(Base):
    """One period of an open account's activity, sent by the core banking system.

    The figures are about one person's money: they are sealed under the case key (erasing
    the case shreds them); only the period and who sent it are kept in clear.
    """

    __tablename__ = "transaction_summary"
    __table_args__ = (UniqueConstraint("case_id", "period_start", "period_end"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bank_case.id", ondelete="CASCADE"),
                                               index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    figures_enc: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(8))  # api | csv
    received_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    alerts: Mapped[int] = mapped_column(Integer, default=0)


class MonitoringAlert(Base):
    """A monitoring rule that fired on a period: a review task for a compliance officer.

    Rule and reason code stay in clear for queues and reports; the inputs and the
    explanation quote amounts, so they are sealed under the case key.
    """

    __tablename__ = "monitoring_alert"
    __table_args__ = (Index("ix_monitoring_alert_org_status", "org_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bank_case.id", ondelete="CASCADE"),
                                               index=True)
    summary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("transaction_summary.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(48))
    reason_code: Mapped[str] = mapped_column(String(48))
    detail_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    due_at: Mapped[datetime] = mapped_column(_tz())
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open|closed
    disposition: Mapped[str | None] = mapped_column(String(24), nullable=True)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)


class WebhookEndpoint(Base):
    """Where the bank's core banking system wants decisions pushed (one per bank).

    The signing secret is wrapped under the KEK; it is shown to the bank admin once.
    """

    __tablename__ = "webhook_endpoint"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    disabled_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)


class WebhookDelivery(Base):
    """Outbox: an event written in the same transaction as the decision, delivered (with
    retries) by the ``webhooks.deliver`` job. Payloads carry ids, tiers and limits only."""

    __tablename__ = "webhook_delivery"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(48))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(_tz(), default=now, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    #: pending | delivered | failed (gave up after the last retry)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
