"""Key-encryption-key (KEK) ring and AES-GCM helpers.

The KEK comes from the environment or the instance folder, never the database, so a
database dump alone decrypts nothing. Ciphertexts carry the id of the KEK that made them,
so rotation works as: new primary, old ones decrypt-only, re-wrap, retire (SECURITY.md 28).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"


class DecryptionError(Exception):
    """Ciphertext could not be authenticated (wrong key, wrong AAD, or tampered)."""


def key_id(key: bytes) -> bytes:
    """Four-byte identifier of a key (not secret: a hash prefix of a 256-bit key)."""
    return hashlib.sha256(b"onboarding-kek-id" + key).digest()[:4]


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM encrypt with a random 96-bit nonce: version | kid | nonce | ct."""
    nonce = secrets.token_bytes(12)
    return _VERSION + key_id(key) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Inverse of :func:`seal`; raises :class:`DecryptionError` on any mismatch."""
    if len(blob) < 1 + 4 + 12 + 16 or blob[:1] != _VERSION:
        raise DecryptionError("malformed ciphertext")
    try:
        return AESGCM(key).decrypt(blob[5:17], blob[17:], aad)
    except InvalidTag as exc:
        raise DecryptionError("authentication failed") from exc


@dataclass(frozen=True)
class Keyring:
    """The primary KEK (encrypts) and retired ones (decrypt only, during rotation)."""

    primary: bytes
    old: tuple[bytes, ...] = field(default=())

    def __post_init__(self) -> None:
        for k in (self.primary, *self.old):
            if len(k) != 32:
                raise ValueError("KEKs are 32 bytes")

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt under the primary key."""
        return seal(self.primary, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        """Decrypt with whichever known key made ``blob``."""
        kid = blob[1:5]
        for key in (self.primary, *self.old):
            if key_id(key) == kid:
                return open_sealed(key, blob, aad)
        raise DecryptionError("ciphertext made by an unknown key")

    def needs_rewrap(self, blob: bytes) -> bool:
        """True when ``blob`` was made by a key other than the primary."""
        return blob[1:5] != key_id(self.primary)
