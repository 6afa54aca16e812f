"""Password hashing (argon2id) and the password policy (SECURITY.md 1)."""

from __future__ import annotations

import gzip
import unicodedata
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

_hasher: PasswordHasher = PasswordHasher(type=Type.ID)
# A hash of a random string: verifying against it for unknown users makes "no such user"
# cost the same as "wrong password", so timing does not reveal which accounts exist.
_DUMMY_HASH: str | None = None


def configure(time_cost: int, memory_cost: int, parallelism: int) -> None:
    """Set the argon2id parameters (tests use cheap ones; production RFC 9106 ones)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                             parallelism=parallelism, type=Type.ID)
    _DUMMY_HASH = None


def _normalise(password: str) -> str:
    # NFC so the same passphrase typed on different keyboards (precomposed vs combining
    # accents) is the same secret; nothing else is changed: spaces and case matter.
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    """Salted argon2id hash (two equal passwords give different hashes)."""
    return _hasher.hash(_normalise(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; always does the work of one verification."""
    global _DUMMY_HASH
    if stored_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hasher.hash("not-a-real-password-0f3c")
        stored_hash = _DUMMY_HASH
        password = password + "\x00never"
    try:
        return _hasher.verify(stored_hash, _normalise(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with other parameters than the current ones."""
    return _hasher.check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    data = resources.files("onboarding").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def password_problems(password: str, *, min_length: int = 8, max_length: int = 1024,
                      context: tuple[str, ...] = ()) -> list[str]:
    """Why ``password`` is unacceptable (empty list when it is fine). NIST SP 800-63B:
    length and a blocklist, no composition rules; any Unicode is allowed."""
    problems = []
    pw = _normalise(password)
    if len(pw) < min_length:
        problems.append(_("Use at least %(n)d characters.", n=min_length))
    if len(pw) > max_length:
        problems.append(_("Use at most %(n)d characters.", n=max_length))
    lowered = pw.lower()
    if lowered in _common_passwords() or lowered.strip() in _common_passwords():
        problems.append(_("This password is too common; choose another."))
    for item in context:
        if item and len(item) >= 4 and item.lower() in lowered:
            problems.append(_("Do not use your name or email address in the password."))
            break
    return problems
