"""Four-eyes control, enforced on the server (DOMAIN.md §7, SECURITY.md 13).

A maker proposes an action on an object; a *different* officer of the same bank approves
it. The approval is bound to (action, object, object version): if the object changed after
the proposal, the proposal is void; a second decision on the same proposal is refused;
the maker can never approve their own. Every step is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onboarding import audit
from onboarding.audit import Actor
from onboarding.clock import now
from onboarding.models import Proposal


class FourEyesError(Exception):
    """Refused: self-approval, out of order, stale, or not pending."""


def propose(db: Session, actor: Actor, *, org_id: uuid.UUID, object_type: str,
            object_id: uuid.UUID, object_version: int, action: str, payload: dict[str, Any],
            reason_code: str, reason_text_enc: bytes | None = None) -> Proposal:
    """Record a proposal (any earlier pending one on the same object is superseded)."""
    assert actor.user_id is not None
    for old in pending_for(db, org_id, object_type, object_id):
        old.status = "superseded"
        audit.record(db, actor, "foureyes.supersede", object_type="proposal",
                     object_id=old.id, org_id=org_id)
    row = Proposal(id=uuid.uuid4(), org_id=org_id, object_type=object_type,
                   object_id=object_id, object_version=object_version, action=action,
                   payload=payload, reason_code=reason_code, reason_text_enc=reason_text_enc,
                   proposed_by=actor.user_id, proposed_at=now(), status="pending")
    db.add(row)
    db.flush()
    audit.record(db, actor, "foureyes.propose", object_type=object_type, object_id=object_id,
                 org_id=org_id, proposal=str(row.id), proposed_action=action,
                 reason=reason_code)
    return row


def pending_for(db: Session, org_id: uuid.UUID, object_type: str,
                object_id: uuid.UUID) -> list[Proposal]:
    """Pending proposals on an object."""
    return list(db.execute(select(Proposal).where(
        Proposal.org_id == org_id, Proposal.object_type == object_type,
        Proposal.object_id == object_id, Proposal.status == "pending")).scalars())


def decide(db: Session, actor: Actor, proposal: Proposal, *, approve: bool,
           current_version: int, apply: Callable[[Proposal], None]) -> None:
    """The checker's decision. ``apply`` performs the action (same transaction)."""
    if proposal.status != "pending":
        raise FourEyesError("This proposal is no longer pending.")
    if actor.user_id is None or actor.user_id == proposal.proposed_by:
        raise FourEyesError("You cannot approve your own proposal: a second officer must.")
    if actor.org_id != proposal.org_id:
        raise FourEyesError("Not your organisation's proposal.")
    if current_version != proposal.object_version:
        proposal.status = "void"
        audit.record(db, actor, "foureyes.void", object_type=proposal.object_type,
                     object_id=proposal.object_id, org_id=proposal.org_id,
                     proposal=str(proposal.id))
        raise FourEyesError("The record changed after this proposal; it is void. Propose "
                            "again.")
    proposal.status = "approved" if approve else "rejected"
    proposal.decided_by = actor.user_id
    proposal.decided_at = now()
    audit.record(db, actor, "foureyes.approve" if approve else "foureyes.reject",
                 object_type=proposal.object_type, object_id=proposal.object_id,
                 org_id=proposal.org_id, proposal=str(proposal.id), proposed_action=proposal.action)
    if approve:
        apply(proposal)
