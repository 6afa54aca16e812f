"""Compliance review at a bank: four-eyes proposals, screening lists and hits, bank
policies, safeguarding messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from onboarding.clock import now
from onboarding.db import Base, UTCDateTime


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


def _tz() -> UTCDateTime:
    return UTCDateTime()


class Proposal(Base):
    """A maker's proposed decision, waiting for a second officer (four-eyes).

    The approval is bound to the action, the object and the object's version at proposal
    time: any edit afterwards voids it, and the maker can never approve their own.
    """

    __tablename__ = "proposal"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    object_type: Mapped[str] = mapped_column(String(32))  # bank_case | bank_policy | whitelist
    object_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    object_version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))  # override | decline | approve_upgrade ...
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason_code: Mapped[str] = mapped_column(String(32))
    #: Free-text justification: may mention the person, so encrypted with the case key.
    reason_text_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    proposed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    proposed_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"),
                                                         nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)


class ScreeningList(Base):
    """A sanctions / PEP list version uploaded by a bank admin (CSV), stored as parsed."""

    __tablename__ = "screening_list"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    fmt: Mapped[str] = mapped_column(String(16))  # simple | ofac
    content: Mapped[bytes] = mapped_column(LargeBinary)
    #: OFAC's ALT.CSV (aliases) uploaded with SDN.CSV: aliases are screened too.
    alt_content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    entries: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ScreeningHit(Base):
    """A possible match between a case's applicant and a list entity."""

    __tablename__ = "screening_hit"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bank_case.id", ondelete="CASCADE"),
                                               index=True)
    list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("screening_list.id"))
    entity_id: Mapped[str] = mapped_column(String(64))
    entity_name: Mapped[str] = mapped_column(String(300))  # public list data, not the applicant
    score: Mapped[int] = mapped_column(Integer)
    matched: Mapped[dict[str, Any]] = mapped_column(JSON)  # which fields matched, how
    disposition: Mapped[str] = mapped_column(String(16), default="open")  # open|no_hit|confirmed
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)


class WhitelistEntry(Base):
    """A cleared (applicant, entity) pair that stays cleared on re-screening."""

    __tablename__ = "whitelist_entry"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    applicant_key: Mapped[str] = mapped_column(String(64), index=True)
    entity_id: Mapped[str] = mapped_column(String(64))
    note_code: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    approved_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)


class BankPolicy(Base):
    """A bank's tiering policy (YAML) through draft → published → archived."""

    __tablename__ = "bank_policy"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumps on every edit
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    published_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
    backtest: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class SafeguardingMessage(Base):
    """The one channel between organisations: a bank and the NGO that issued the
    attestation of one case. Text encrypted under the case key."""

    __tablename__ = "safeguarding_message"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=_uuid)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bank_case.id", ondelete="CASCADE"),
                                               index=True)
    bank_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    ngo_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # to_ngo | to_bank
    kind: Mapped[str] = mapped_column(String(24))  # information | welfare_check | reply
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    sent_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    sent_at: Mapped[datetime] = mapped_column(_tz(), default=now)
    read_at: Mapped[datetime | None] = mapped_column(_tz(), nullable=True)
