"""Per-person data keys, field encryption, blind index and crypto-shredding
(SECURITY.md 26-29).

* Every person gets a random 256-bit data key (DEK). Their fields and photo are AES-GCM
  encrypted under it; the associated data binds record id, field name and version, so a
  ciphertext copied to another row or field fails to decrypt.
* DEKs live in a **key store that is not the main database**, wrapped by the KEK. The main
  database's backups therefore never contain a usable key. Erasure deletes the DEK from the
  key store: the person's data becomes unreadable in the live database *and in every backup
  of it*, which is what "erasure really erases" needs. (A wrapped DEK kept in the main
  database would survive in old dumps, and the KEK that unwraps it is still in use.)
* Search over encrypted names uses a blind index: keyed HMAC-SHA256 of normalised name
  tokens, under a key of its own.

We write this layer ourselves: no maintained Python library offers per-record envelope
encryption with an external, deletable key store bound to SQLAlchemy rows; the primitives
(AES-GCM, HMAC, HKDF) all come from ``cryptography``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    Table,
    Uuid,
    delete,
    insert,
    select,
)

from onboarding.clock import now
from onboarding.crypto import DecryptionError, Keyring

_FIELD_VERSION = 1

keystore_metadata = MetaData()
#: The key store's only table. It lives in its own database (``ONBOARDING_KEYSTORE_URL``),
#: created on first use: its schema is fixed and tiny, so it is not under Alembic.
person_key = Table(
    "person_key", keystore_metadata,
    Column("person_id", Uuid, primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class Erased(Exception):
    """The person's data key is gone: their data is unreadable by design."""


class KeyStore:
    """Wrapped per-person data keys in a database separate from the application data."""

    def __init__(self, engine: Engine, keyring: Keyring) -> None:
        self.engine = engine
        self.keyring = keyring
        keystore_metadata.create_all(engine)

    @staticmethod
    def _aad(person_id: uuid.UUID) -> bytes:
        return b"person-dek|" + person_id.bytes

    def create(self, person_id: uuid.UUID) -> bytes:
        """Make and store a new DEK for ``person_id``; returns it."""
        dek = AESGCM.generate_key(bit_length=256)
        with self.engine.begin() as conn:
            conn.execute(insert(person_key).values(
                person_id=person_id, wrapped=self.keyring.encrypt(dek, self._aad(person_id)),
                created_at=now()))
        return dek

    def get(self, person_id: uuid.UUID) -> bytes:
        """The DEK, or :class:`Erased` if it was destroyed (or never existed)."""
        with self.engine.connect() as conn:
            wrapped = conn.execute(select(person_key.c.wrapped).where(
                person_key.c.person_id == person_id)).scalar_one_or_none()
        if wrapped is None:
            raise Erased(str(person_id))
        return self.keyring.decrypt(wrapped, self._aad(person_id))

    def destroy(self, person_id: uuid.UUID) -> bool:
        """Crypto-shred: delete the DEK. Returns whether a key was there."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(person_key).where(person_key.c.person_id == person_id))
        return bool(result.rowcount)

    def rewrap_all(self) -> int:
        """Re-encrypt every DEK under the primary KEK (KEK rotation, SECURITY.md 28)."""
        done = 0
        with self.engine.begin() as conn:
            rows = conn.execute(select(person_key.c.person_id, person_key.c.wrapped)).all()
            for pid, wrapped in rows:
                if self.keyring.needs_rewrap(wrapped):
                    dek = self.keyring.decrypt(wrapped, self._aad(pid))
                    conn.execute(person_key.update().where(person_key.c.person_id == pid)
                                 .values(wrapped=self.keyring.encrypt(dek, self._aad(pid))))
                    done += 1
        return done


@dataclass(frozen=True)
class FieldCipher:
    """Encrypts one person's fields under their DEK."""

    person_id: uuid.UUID
    dek: bytes

    def _aad(self, field: str) -> bytes:
        return f"person|{self.person_id}|{field}|v{_FIELD_VERSION}".encode()

    def seal_bytes(self, field: str, data: bytes) -> bytes:
        """Encrypt raw bytes for ``field``: version | nonce | ciphertext+tag."""
        nonce = secrets.token_bytes(12)
        return bytes([_FIELD_VERSION]) + nonce + AESGCM(self.dek).encrypt(nonce, data,
                                                                          self._aad(field))

    def open_bytes(self, field: str, blob: bytes) -> bytes:
        """Decrypt what :meth:`seal_bytes` made for the same person and field."""
        if len(blob) < 29 or blob[0] != _FIELD_VERSION:
            raise DecryptionError("malformed field ciphertext")
        try:
            return AESGCM(self.dek).decrypt(blob[1:13], blob[13:], self._aad(field))
        except InvalidTag as exc:
            raise DecryptionError(f"field {field} does not belong here") from exc

    def seal(self, field: str, value: Any) -> bytes:
        """Encrypt a JSON-able value."""
        return self.seal_bytes(field, json.dumps(value, ensure_ascii=False).encode())

    def open(self, field: str, blob: bytes | None) -> Any:
        """Decrypt a JSON value (``None`` stays ``None``)."""
        if blob is None:
            return None
        return json.loads(self.open_bytes(field, blob))


def normalise_name(text: str) -> str:
    """NFC for storage: the same name typed two ways is stored one way."""
    return unicodedata.normalize("NFC", text.strip())


def name_tokens(text: str) -> set[str]:
    """Search tokens: casefolded, accents removed, split on anything not a letter/digit.

    "José María Ñúñez" → {"jose", "maria", "nunez"}; scripts other than Latin keep their
    letters (Arabic, Cyrillic, Thai ...) minus combining marks.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    tokens, current = set(), []
    for ch in stripped:
        if ch.isalnum():
            current.append(ch)
        elif current:
            tokens.add("".join(current))
            current = []
    if current:
        tokens.add("".join(current))
    return {t for t in tokens if len(t) >= 2}


@dataclass(frozen=True)
class BlindIndex:
    """Keyed HMAC of name tokens: equality search without storing names in clear."""

    key: bytes

    def token(self, org_id: uuid.UUID, token: str) -> str:
        # Scoped by organisation: the same name at two NGOs gives unrelated index values.
        msg = org_id.bytes + b"|" + token.encode()
        return hmac.new(self.key, msg, hashlib.sha256).hexdigest()[:32]

    def tokens(self, org_id: uuid.UUID, names: list[str]) -> set[str]:
        out: set[str] = set()
        for name in names:
            out |= {self.token(org_id, t) for t in name_tokens(name)}
        return out
