"""The authority's signed trust list, built from the issuer registry, and the verifier
context (trust store + status lists) that the bank page and API verify against.

The bank side verifies against the *published, signed* documents exactly as an offline
bank would: the trust list checked against the pinned governance key, the status lists
against the issuers' keys. It never reads the issuer's private records.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onboarding import audit
from onboarding.attestation import keys as akeys
from onboarding.attestation import statuslist as asl
from onboarding.attestation import trustlist as atl
from onboarding.attestation.errors import AttestationError, KeyMaterialError
from onboarding.audit import Actor
from onboarding.clock import now
from onboarding.crypto import Keyring
from onboarding.models import IssuerKey, KeyState, Organisation, StatusList, TrustListVersion
from onboarding.models.core import OrgKind

TRUST_LIST_VALIDITY = timedelta(days=7)
_KEY_STATES = {KeyState.ACTIVE: atl.KeyState.ACTIVE, KeyState.RETIRED: atl.KeyState.RETIRED,
               KeyState.REVOKED: atl.KeyState.REVOKED}


class TrustError(Exception):
    """No governance key, or nothing published yet."""


# ------------------------------------------------------------- governance key
def governance_key_path(instance: Path) -> Path:
    """Where the wrapped governance key lives (``ONBOARDING_GOVERNANCE_KEY_FILE``)."""
    env = os.environ.get("ONBOARDING_GOVERNANCE_KEY_FILE")
    return Path(env) if env else instance / "governance_key.bin"


def generate_governance_key(path: Path, keyring: Keyring) -> akeys.PublicKey:
    """Create the governance key (stored wrapped under the KEK) unless it exists."""
    if not path.exists():
        key = akeys.generate_private_key(akeys.ALG_ED25519)
        blob = akeys.wrap_private_key(key, keyring.primary, context=b"governance-key")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
    public = load_governance_key(path, keyring).public_key()
    anchor = path.with_name("governance_public.pem")
    if not anchor.exists():
        anchor.write_bytes(akeys.dump_public_key_pem(public))
    return public


def anchor_path(instance: Path) -> Path:
    """The pinned governance public key (``ONBOARDING_TRUST_ANCHOR_FILE``): what banks
    pin, and what this platform's own verifier checks the trust list against."""
    env = os.environ.get("ONBOARDING_TRUST_ANCHOR_FILE")
    if env:
        return Path(env)
    # keygen writes the anchor beside the governance key: look where it wrote it
    return governance_key_path(instance).with_name("governance_public.pem")


def load_anchor(instance: Path) -> akeys.PublicKey:
    """Read the pinned anchor."""
    path = anchor_path(instance)
    if not path.exists():
        raise TrustError(f"no trust anchor at {path}: run `onboarding trust keygen`")
    return akeys.load_public_key(path.read_bytes())


def load_governance_key(path: Path, keyring: Keyring) -> akeys.PrivateKey:
    """Unwrap the governance key."""
    if not path.exists():
        raise TrustError(f"no governance key at {path}: run `onboarding trust keygen`")
    blob = path.read_bytes()
    for kek in (keyring.primary, *keyring.old):
        try:
            return akeys.unwrap_private_key(blob, kek, context=b"governance-key")
        except KeyMaterialError:
            continue
    raise TrustError("the governance key cannot be unwrapped with the configured KEKs")


# ----------------------------------------------------------------- trust list
def _ts(at: datetime | None) -> int | None:
    if at is None:
        return None
    return int(at.timestamp())


def build(db: Session, at: datetime, version: int) -> atl.TrustList:
    """The trust list content from the registry (accredited NGOs and their keys)."""
    issuers = []
    orgs = db.execute(select(Organisation).where(
        Organisation.kind == OrgKind.NGO, Organisation.issuer_id.is_not(None),
        Organisation.accredited_until.is_not(None)).order_by(Organisation.issuer_id)).scalars()
    for org in orgs:
        keys = []
        for row in db.execute(select(IssuerKey).where(IssuerKey.org_id == org.id)
                              .order_by(IssuerKey.created_at)).scalars():
            from cryptography.hazmat.primitives.serialization import load_der_public_key

            pub = load_der_public_key(row.public_key_der)
            state = _KEY_STATES[row.state]
            keys.append(atl.IssuerKey(
                kid=row.kid, alg=row.alg, public_key=pub,  # type: ignore[arg-type]
                state=state,
                retired_at=_ts(row.retired_at) if state == atl.KeyState.RETIRED else None,
                revoked_at=_ts(row.revoked_at) if state == atl.KeyState.REVOKED else None))
        assert org.accredited_until is not None and org.issuer_id is not None
        until = datetime.combine(org.accredited_until, time(23, 59, 59), UTC)
        issuers.append(atl.Issuer(id=org.issuer_id, display_name=org.display_name,
                                  jurisdiction=org.jurisdiction, accredited_until=_ts(until),
                                  state=atl.IssuerState(org.issuer_state), keys=tuple(keys)))
    iat = int(at.timestamp())
    return atl.TrustList(version=version, iat=iat,
                         exp=iat + int(TRUST_LIST_VALIDITY.total_seconds()),
                         issuers=tuple(issuers))


def content_hash(tl: atl.TrustList) -> str:
    """Hash of what the list says (not when): republish only on change or near expiry."""
    import json

    body = tl.to_json()
    body.pop("issued_at"), body.pop("expires_at"), body.pop("version")
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def latest(db: Session) -> TrustListVersion | None:
    """The newest published version."""
    return db.execute(select(TrustListVersion).order_by(TrustListVersion.version.desc())
                      .limit(1)).scalar_one_or_none()


def publish(db: Session, actor: Actor, governance: akeys.PrivateKey,
            force: bool = False) -> TrustListVersion | None:
    """Sign and store a new version if the content changed, half the validity passed, or
    the newest version is not signed by ``governance`` (a rotation not yet published).

    Refuses a key that was rotated out (a jobs host still holding the old key file after a
    rotation elsewhere): verifiers follow the rotation and would refuse what it signs."""
    from onboarding.governance import key_in_force

    public = governance.public_key()
    if akeys.spki_der(key_in_force(db, public)) != akeys.spki_der(public):
        raise TrustError("this governance key was rotated out (`onboarding trust rollover`): "
                         "install the current key file on this host")
    t = now()
    current = latest(db)
    version = (db.execute(select(func.max(TrustListVersion.version))).scalar() or 0) + 1
    tl = build(db, t, version)
    digest = content_hash(tl)
    if (current is not None and not force and current.content_hash == digest
            and t - current.issued_at < TRUST_LIST_VALIDITY / 2
            and signed_by(current.token, public)):
        return None  # unchanged, not yet half-way to expiry, signed by the key in force
    token = atl.sign_trust_list(tl, governance)
    row = TrustListVersion(version=version, token=token, issued_at=t,
                           expires_at=datetime.fromtimestamp(tl.exp, UTC), content_hash=digest)
    db.add(row)
    db.flush()
    audit.record(db, actor, "trust_list.publish", object_type="trust_list",
                 object_id=str(version), issuers=len(tl.issuers))
    return row


def signed_by(token: bytes, key: akeys.PublicKey, at: datetime | None = None) -> bool:
    """Whether ``token`` (a published trust list) verifies with ``key`` at ``at`` (now)."""
    try:
        atl.verify_trust_list(token, key, at=at or now())
    except AttestationError:
        return False
    return True


# ------------------------------------------------------------ verifier context
@dataclass(frozen=True)
class VerifierContext:
    """What verification runs against: the verified trust list and status lists."""

    trust: atl.TrustStore
    status: asl.StatusStore
    trust_version: int


#: Per-process cache of verified contexts. Verifying the trust list and every status list
#: (131,072 entries each) costs ~1 ms per request and grows with issuers; the result only
#: changes when something is (re)published, which one cheap query detects (below).
_CONTEXT_CACHE: dict[tuple[Any, ...], VerifierContext] = {}


_NEWEST = select(func.max(TrustListVersion.version).label("version")).subquery()
#: Built once (it has no parameters): building it on every request cost more than running it.
_PUBLISHED = (select(_NEWEST.c.version, StatusList.id, StatusList.published_at)
              .select_from(_NEWEST.outerjoin(StatusList, StatusList.token.is_not(None))))


def published_stamp(db: Session) -> tuple[int | None, tuple[tuple[str, str], ...]]:
    """What is published now: the newest trust list version and every published status
    list's (id, published_at), in one round trip.

    Checked on every verification, never cached: a revocation takes effect in this
    process with the very first verification after the new status list is published (its
    ``published_at`` changes, so the cached context no longer matches). The one-row
    subquery, outer-joined, still gives the version when no status list is published."""
    rows = db.execute(_PUBLISHED).all()
    version = rows[0][0] if rows else None
    stamps = tuple(sorted((str(i), str(p)) for _v, i, p in rows if i is not None))
    return version, stamps


def verifier_context(db: Session, anchor: akeys.PublicKey, at: datetime) -> VerifierContext:
    """Verify the published trust list and every published status list, as a bank would
    (cached until either changes or the trust list expires)."""
    version, stamps = published_stamp(db)
    if version is None:
        raise TrustError("no trust list has been published yet")
    key = (akeys.spki_der(anchor), version, stamps)
    cached = _CONTEXT_CACHE.get(key)
    if cached is not None and (cached.trust.valid_until is None or
                               cached.trust.valid_until > int(at.timestamp())):
        return cached
    ctx = _build_context(db, anchor, at)
    if len(_CONTEXT_CACHE) > 16:
        _CONTEXT_CACHE.clear()
    _CONTEXT_CACHE[key] = ctx
    return ctx


def _build_context(db: Session, anchor: akeys.PublicKey, at: datetime) -> VerifierContext:
    row = latest(db)
    if row is None:
        raise TrustError("no trust list has been published yet")
    # The pinned key may have been rotated since this host's anchor file was written: follow
    # the signed announcements (every rotation publishes a new version, so the cache above
    # never serves a list checked against a retired key).
    from onboarding.governance import key_in_force

    try:
        tl = atl.verify_trust_list(row.token, key_in_force(db, anchor), at=at)
    except AttestationError as exc:
        # A configuration fault (wrong anchor pinned, list expired because the job stopped):
        # the teller and the API get a clear refusal, never a 500.
        raise TrustError(f"the published trust list does not verify against the pinned "
                         f"governance key ({exc.code}): check the trust anchor and the "
                         f"trust_list.publish job") from None
    store = atl.TrustStore.from_trust_list(tl)
    tokens = [t for (t,) in db.execute(select(StatusList.token).where(
        StatusList.token.is_not(None))).all() if t is not None]
    status = asl.StatusStore()
    for token in tokens:
        # One bad or unverifiable list must not hide the others: the attestations that
        # point at it get "no status data" (a warning), never a false "valid" status.
        with contextlib.suppress(AttestationError):
            status.add(asl.verify_status_list(token, store))
    return VerifierContext(store, status, row.version)
