"""Planned rotation of the governance key (the key that signs the trust list).

Banks pin the governance public key. Rotating it must not leave them refusing every trust
list until each one re-pins by hand, so the rotation is announced the way FORMATS.md §5 fixes:
the outgoing key signs an announcement carrying the incoming key and the incoming key's proof
of possession. Announcements are public (``/trust-list/rollovers``, fetched by ``onboarding
trust fetch``); a verifier that pinned any earlier key follows the chain to the key in force
(:func:`onboarding.attestation.trustlist.follow_rollovers`) and should then pin that key.

The rotation touches a database row and key files. It runs in this order so that a crash at
any point leaves a state the next run can finish: (1) the new key is written wrapped beside the
current one (``*.next``); (2) the announcement is committed; (3) the files are swapped (the old
key and anchor kept under their kid for the record); (4) a trust list signed by the new key is
published. ``onboarding trust rollover`` resumes at (3) when it finds a ``*.next`` key whose
announcement is already committed.

A *compromised* governance key is not rotated this way: its holder could announce a successor
of their own. After a compromise every bank re-pins out of band (docs/operations.md §11).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onboarding import audit, trust
from onboarding.attestation import keys as akeys
from onboarding.attestation import trustlist as atl
from onboarding.audit import Actor
from onboarding.crypto import Keyring
from onboarding.models import GovernanceRollover


class RolloverError(Exception):
    """The rotation cannot start (or resume) from the files and rows found."""


@dataclass(frozen=True)
class Rollover:
    """What one rotation did."""

    seq: int
    old_kid: str
    new_kid: str


def announcements(db: Session) -> list[GovernanceRollover]:
    """Every announcement, oldest first."""
    return list(db.execute(select(GovernanceRollover).order_by(GovernanceRollover.seq))
                .scalars())


def key_in_force(db: Session, pinned: akeys.PublicKey) -> akeys.PublicKey:
    """The governance key a verifier that pinned ``pinned`` accepts now."""
    return atl.follow_rollovers(pinned, [r.token for r in announcements(db)])


def _next_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".next")


def _kid(key: akeys.PrivateKey | akeys.PublicKey) -> str:
    return akeys.kid_for(key).hex()


def start(db: Session, actor: Actor, instance: Path, keyring: Keyring,
          at: datetime) -> Rollover:
    """Steps (1) and (2): write the new key beside the current one and record the signed
    announcement in ``db`` (the caller commits, then calls :func:`finish`)."""
    key_path = trust.governance_key_path(instance)
    current = trust.load_governance_key(key_path, keyring)
    pinned = trust.load_anchor(instance)
    if akeys.spki_der(pinned) != akeys.spki_der(current.public_key()):
        raise RolloverError("the pinned anchor is not the governance key's public key: "
                            "fix the instance files before rotating")
    if _next_path(key_path).exists():
        raise RolloverError(f"{_next_path(key_path)} exists: an earlier rotation did not "
                            "finish; run `onboarding trust rollover` again to finish it")
    new = akeys.generate_private_key(akeys.ALG_ED25519)
    token = atl.sign_rollover(current, new, iat=int(at.timestamp()))
    atl.verify_rollover(token, current.public_key())  # what every bank will check
    fd = os.open(_next_path(key_path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(akeys.wrap_private_key(new, keyring.primary, context=b"governance-key"))
    seq = (db.execute(select(func.max(GovernanceRollover.seq))).scalar() or 0) + 1
    row = GovernanceRollover(seq=seq, old_kid=_kid(current), new_kid=_kid(new), token=token,
                             created_at=at)
    db.add(row)
    db.flush()
    audit.record(db, actor, "trust.governance_rollover", object_type="governance_key",
                 object_id=row.new_kid, old_kid=row.old_kid, seq=seq)
    return Rollover(seq, row.old_kid, row.new_kid)


def pending(db: Session, instance: Path, keyring: Keyring) -> Rollover | None:
    """A rotation whose announcement is committed but whose files were not swapped yet."""
    next_path = _next_path(trust.governance_key_path(instance))
    if not next_path.exists():
        return None
    new = trust.load_governance_key(next_path, keyring)
    row = db.execute(select(GovernanceRollover).where(
        GovernanceRollover.new_kid == _kid(new))).scalar_one_or_none()
    if row is None:
        raise RolloverError(f"{next_path} holds a key that was never announced (the rotation "
                            "stopped before its announcement was committed): remove that "
                            "file and start again")
    return Rollover(row.seq, row.old_kid, row.new_kid)


def finish(instance: Path, keyring: Keyring, done: Rollover) -> Path:
    """Step (3): the new key and anchor take the usual names. Returns the new anchor file
    (what banks pin from now on).

    Every step is an atomic rename and the order is chosen so that a crash between any two
    leaves a state this function finishes on the next run: the old public key is copied
    aside for the record, the new anchor replaces the old one, and the new key replaces the
    old private key, which is not kept -- a retired governance key has no use left, and
    whoever could unwrap it later could announce a rival successor to banks that still pin
    it."""
    key_path = trust.governance_key_path(instance)
    anchor = trust.anchor_path(instance)
    new = trust.load_governance_key(_next_path(key_path), keyring)
    if _kid(new) != done.new_kid:
        raise RolloverError("the waiting key is not the announced one")
    if anchor.exists():
        pinned = akeys.load_public_key(anchor.read_bytes())
        if _kid(pinned) == done.old_kid:
            kept = anchor.with_name(f"governance_public.{done.old_kid}.pem")
            _write_atomic(kept, anchor.read_bytes())
    _write_atomic(anchor, akeys.dump_public_key_pem(new.public_key()))
    os.replace(_next_path(key_path), key_path)
    return anchor


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def needs_publish(db: Session, instance: Path) -> bool:
    """Step (4) still to do: the newest trust list is not signed by the key in force (a
    rotation stopped after its files were swapped)."""
    row = trust.latest(db)
    if row is None:
        return False
    in_force = key_in_force(db, trust.load_anchor(instance))
    return not trust.signed_by(row.token, in_force, at=row.issued_at)
