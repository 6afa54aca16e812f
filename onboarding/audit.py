"""Hash-chained audit log (SECURITY.md 33).

Each entry hashes the previous entry's hash together with its own canonical content, so an
edit, a deletion or a swap breaks the chain at a findable place. Truncation of the tail
cannot be seen from the chain alone, so ``export_head`` writes a signed checkpoint that
``verify_chain`` compares against. Entries carry ids, enum-like action names and small
non-personal details; :func:`record` rejects free text so PII cannot slip in.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onboarding.clock import now
from onboarding.models import AuditEntry, AuditHead

GENESIS = "0" * 64
_ACTION = re.compile(r"^[a-z][a-z0-9_.]{1,63}$")
# Detail values may be ids, codes, numbers or booleans; never sentences or names.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:\-]{0,80}$")


class AuditError(ValueError):
    """An audit entry would carry something it must not (free text, PII-shaped data)."""


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, a system job, or an anonymous request."""

    user_id: uuid.UUID | None = None
    org_id: uuid.UUID | None = None
    request_id: str | None = None


def _check_details(details: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in details.items():
        if not _ACTION.match(key):
            raise AuditError(f"bad detail key {key!r}")
        if isinstance(value, bool | int | float) or value is None:
            clean[key] = value
        elif isinstance(value, uuid.UUID):
            clean[key] = str(value)
        elif isinstance(value, str) and _SAFE_VALUE.match(value):
            clean[key] = value
        elif isinstance(value, list | tuple) and all(
            isinstance(v, str) and _SAFE_VALUE.match(v) for v in value
        ):
            clean[key] = list(value)
        else:
            raise AuditError(f"detail {key!r} is not an id, code or number")
    return clean


def _canonical(entry: AuditEntry) -> bytes:
    body = {
        "seq": entry.seq,
        "id": str(entry.id),
        "at": _iso(entry.at),
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "org_id": str(entry.org_id) if entry.org_id else None,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "request_id": entry.request_id,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _iso(at: datetime) -> str:
    # SQLite returns naive datetimes; everything we store is UTC, so normalise.
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    return at.replace(tzinfo=None).isoformat(timespec="microseconds")


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 over the previous hash and the entry's canonical content."""
    return hashlib.sha256(_canonical(entry)).hexdigest()


# The statements of an append, built once: building them costs more than running them.
_ENTRIES, _HEADS = cast(Table, AuditEntry.__table__), cast(Table, AuditHead.__table__)
_BUMP = (update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1)
         .returning(AuditHead.seq, AuditHead.hash))
_APPEND = insert(_ENTRIES).values(
    {c.key: bindparam(f"e_{c.key}", type_=c.type) for c in _ENTRIES.columns})
_MOVE = update(_HEADS).where(_HEADS.c.id == 1).values(hash=bindparam("new_head_hash"))
_APPEND_AND_MOVE = _APPEND.add_cte(_MOVE.cte("audit_head_moved"))


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: uuid.UUID | str | None = None,
    org_id: uuid.UUID | None = None,
    **details: Any,
) -> AuditEntry:
    """Append an entry in the caller's transaction (it commits or rolls back with it)."""
    if not _ACTION.match(action):
        raise AuditError(f"bad action name {action!r}")
    obj = str(object_id) if object_id is not None else None
    if obj is not None and not _SAFE_VALUE.match(obj):
        raise AuditError("object id must be an id")
    # One statement takes the head row's write lock (serialising appenders on PostgreSQL
    # and SQLite alike), bumps the sequence and returns the previous hash.
    row = session.execute(_BUMP, execution_options={"synchronize_session": False}).first()
    if row is None:
        # First entry ever: create the head row. Two first writers may race; the loser's
        # insert fails inside its savepoint and it simply takes the lock on the winner's row.
        try:
            with session.begin_nested():
                session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        except IntegrityError:
            pass
        row = session.execute(_BUMP, execution_options={"synchronize_session": False}).first()
        assert row is not None
    seq, prev_hash = row
    entry = AuditEntry(
        seq=seq,
        id=uuid.uuid4(),
        at=now(),
        actor_id=actor.user_id,
        org_id=org_id if org_id is not None else actor.org_id,
        action=action,
        object_type=object_type,
        object_id=obj,
        request_id=actor.request_id,
        details=_check_details(details),
        prev_hash=prev_hash,
    )
    entry.hash = entry_hash(entry)
    # From the bump above to the commit, every other appender waits on the head row: the
    # entry and the new head hash go in as plain Core statements (no unit-of-work flush
    # while holding the lock) and, on PostgreSQL, in one statement and so one round trip
    # (the head update rides in a data-modifying CTE; both succeed or fail together).
    # The entry object is returned as before, but not added to the session: it was
    # written here, and adding it too would insert it twice.
    params = {f"e_{c.key}": getattr(entry, c.key) for c in _ENTRIES.columns}
    params["new_head_hash"] = entry.hash
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_APPEND_AND_MOVE, params)
    else:  # SQLite has no data-modifying CTEs; its round trips are in process anyway
        session.execute(_APPEND, params)
        session.execute(_MOVE, {"new_head_hash": entry.hash})
    return entry


@dataclass(frozen=True)
class ChainReport:
    """Outcome of :func:`verify_chain`."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain(session: Session, head: dict[str, Any] | None = None) -> ChainReport:
    """Walk the chain in order; report the first broken entry.

    ``head`` is a verified checkpoint from :func:`export_head`; when given, the chain must
    still contain that entry with that hash (catches truncation and rewrites of history).
    """
    prev = GENESIS
    expected_seq = 1
    count = 0
    seen_head = head is None
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    for entry in rows:
        count += 1
        if entry.seq != expected_seq:
            return ChainReport(False, count, expected_seq,
                               f"entry {expected_seq} is missing (next is {entry.seq})")
        if entry.prev_hash != prev:
            return ChainReport(False, count, entry.seq,
                               "previous-hash link broken (entry removed or reordered)")
        if entry_hash(entry) != entry.hash:
            return ChainReport(False, count, entry.seq, "content does not match its hash")
        if head is not None and entry.seq == head["seq"]:
            if entry.hash != head["hash"]:
                return ChainReport(False, count, entry.seq,
                                   "entry differs from the signed checkpoint")
            seen_head = True
        prev = entry.hash
        expected_seq += 1
        session.expunge(entry)
    if not seen_head and head is not None:
        return ChainReport(False, count, count + 1,
                           f"log truncated: checkpoint entry {head['seq']} is gone")
    return ChainReport(True, count)


def export_head(session: Session, key: Ed25519PrivateKey) -> dict[str, Any]:
    """Signed checkpoint of the chain head, to keep outside the database."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    body = {"seq": head.seq if head else 0, "hash": head.hash if head else GENESIS,
            "exported_at": now().isoformat()}
    msg = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return {**body, "signature": key.sign(msg).hex()}


def verify_head(checkpoint: dict[str, Any], public_key: Ed25519PublicKey) -> dict[str, Any]:
    """Check a checkpoint's signature; returns it, raises ``InvalidSignature`` if forged."""
    body = {k: checkpoint[k] for k in ("seq", "hash", "exported_at")}
    msg = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    try:
        public_key.verify(bytes.fromhex(checkpoint["signature"]), msg)
    except (ValueError, InvalidSignature) as exc:
        raise InvalidSignature("audit checkpoint signature is not valid") from exc
    return body
