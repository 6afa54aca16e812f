"""Issuer signing keys and status lists, on the issuing (NGO) side.

Private keys are only ever stored wrapped under the KEK (AES-GCM, AAD = key id), and used
in memory just long enough to sign. Rotation keeps the old key *retired*: it signs nothing
new but what it signed stays valid (the trust list says until when it was active).
Compromise revokes the key: the trust list marks it revoked and verifiers reject
everything it signed (see the runbook in docs/caseworker-guide.md).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onboarding import audit
from onboarding.attestation import keys as akeys
from onboarding.attestation import statuslist as asl
from onboarding.attestation.errors import KeyMaterialError
from onboarding.audit import Actor
from onboarding.clock import now
from onboarding.crypto import Keyring
from onboarding.models import IssuerKey, KeyState, Organisation, StatusList

ALGS = {"Ed25519": akeys.ALG_ED25519, "ES256": akeys.ALG_ES256}


class IssuerError(Exception):
    """The organisation cannot issue (no key, not an NGO ...)."""


def _aad(key_id: uuid.UUID) -> bytes:
    return b"issuer-key|" + key_id.bytes


def ensure_issuer_id(org: Organisation) -> str:
    """Give an NGO its short public issuer id (used as ``iss`` and in the trust list)."""
    if not org.issuer_id:
        org.issuer_id = "ngo-" + secrets.token_hex(5)
    return org.issuer_id


def generate_key(db: Session, actor: Actor, keyring: Keyring, org: Organisation,
                 alg_name: str = "Ed25519") -> IssuerKey:
    """A new active signing key; any previous active key is retired (overlap: what it
    signed stays valid)."""
    if alg_name not in ALGS:
        raise IssuerError(f"unknown algorithm {alg_name}")
    ensure_issuer_id(org)
    private = akeys.generate_private_key(ALGS[alg_name])
    row_id = uuid.uuid4()
    row = IssuerKey(id=row_id, org_id=org.id, kid=akeys.kid_for(private), alg=ALGS[alg_name],
                    public_key_der=akeys.spki_der(private),
                    private_key_enc=akeys.wrap_private_key(private, keyring.primary,
                                                           context=_aad(row_id)),
                    state=KeyState.ACTIVE, created_at=now())
    for old in active_keys(db, org.id):
        old.state = KeyState.RETIRED
        old.retired_at = now()
        audit.record(db, actor, "issuer_key.retire", object_type="issuer_key",
                     object_id=old.id, org_id=org.id)
    db.add(row)
    db.flush()
    audit.record(db, actor, "issuer_key.create", object_type="issuer_key", object_id=row.id,
                 org_id=org.id, alg=alg_name, kid=row.kid.hex())
    return row


def active_keys(db: Session, org_id: uuid.UUID) -> list[IssuerKey]:
    """The organisation's active key(s) (normally one)."""
    return list(db.execute(select(IssuerKey).where(
        IssuerKey.org_id == org_id, IssuerKey.state == KeyState.ACTIVE)
        .order_by(IssuerKey.created_at.desc())).scalars())


def signing_key(keyring: Keyring, row: IssuerKey) -> akeys.PrivateKey:
    """Unwrap a private key for one signing operation."""
    for kek in (keyring.primary, *keyring.old):
        try:
            return akeys.unwrap_private_key(row.private_key_enc, kek, context=_aad(row.id))
        except KeyMaterialError:
            continue
    raise IssuerError("the signing key cannot be unwrapped with the configured KEKs")


def revoke_key(db: Session, actor: Actor, row: IssuerKey) -> None:
    """Compromise: revoke the key; everything it signed must fail verification."""
    row.state = KeyState.REVOKED
    row.revoked_at = now()
    audit.record(db, actor, "issuer_key.revoke", object_type="issuer_key", object_id=row.id,
                 org_id=row.org_id)


# ------------------------------------------------------------------ status lists
def current_list(db: Session, org_id: uuid.UUID, size: int, base_url: str) -> StatusList:
    """The list new attestations get an index in (a new one when the current is 90 % full)."""
    row = db.execute(select(StatusList).where(StatusList.org_id == org_id)
                     .order_by(StatusList.created_at.desc()).limit(1)
                     .with_for_update()).scalar_one_or_none()
    if row is None or row.used >= int(row.size * 0.9):
        row = StatusList(id=uuid.uuid4(), org_id=org_id, size=size, slug=secrets.token_hex(5),
                         bits=bytes(size // 4), allocated=bytes(size // 8), used=0, dirty=True,
                         created_at=now())
        row.uri = status_uri(base_url, row)
        db.add(row)
        db.flush()
    return row


def allocate(db: Session, org_id: uuid.UUID, size: int,
             base_url: str) -> tuple[StatusList, int]:
    """A random unused index (herd privacy: indexes say nothing about issue order)."""
    row = current_list(db, org_id, size, base_url)
    allocated = bytearray(row.allocated)
    # Rejection sampling on the allocation bitmap: the list is at most 90 % full, so the
    # expected number of draws stays below ten, and `secrets` makes indexes unguessable.
    while True:
        idx = secrets.randbelow(row.size)
        if not allocated[idx >> 3] >> (idx & 7) & 1:
            break
    allocated[idx >> 3] |= 1 << (idx & 7)
    row.allocated = bytes(allocated)
    row.used += 1
    return row, idx


def set_status(row: StatusList, idx: int, value: int) -> None:
    """Set one entry (0 valid, 1 invalid, 2 suspended) and mark the list for publishing."""
    lst = asl.StatusList(bits=2, data=row.bits)
    lst.set(idx, value)
    row.bits = lst.to_bytes()
    row.dirty = True


def status_uri(base_url: str, row: StatusList) -> str:
    """Stable, short public URL of a status list."""
    return f"{base_url.rstrip('/')}/s/{row.slug}"


def publish(db: Session, actor: Actor, keyring: Keyring, row: StatusList, org: Organisation,
            ttl: int, validity: int) -> bytes:
    """Sign the list with the issuer's active key and keep the token for the public URL."""
    keys = active_keys(db, org.id)
    if not keys:
        raise IssuerError("no active signing key")
    key = keys[0]
    t = now()
    token = asl.sign_status_list(
        asl.StatusList(bits=2, data=row.bits), uri=row.uri,
        issuer_id=ensure_issuer_id(org), signing_key=signing_key(keyring, key), kid=key.kid,
        alg=key.alg, iat=int(t.timestamp()), exp=int((t + timedelta(seconds=validity)).timestamp()),
        ttl=ttl)
    row.token = token
    row.published_at = t
    row.dirty = False
    audit.record(db, actor, "status_list.publish", object_type="status_list", object_id=row.id,
                 org_id=org.id)
    return token
