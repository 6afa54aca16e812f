"""Configuration from ``ONBOARDING_*`` environment variables and the instance folder.

Secrets never have defaults outside the demo: ``onboarding demo`` generates development
keys into ``instance/``; a production deployment sets them through the environment or
files in the instance folder, and ``onboarding check-config`` refuses weak settings.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_PREFIX = "ONBOARDING_"

#: Settings read from the environment (``ONBOARDING_<NAME>``) with their parser.
_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False,
         "no": False, "off": False, "": False}


def _parse_bool(value: str) -> bool:
    try:
        return _BOOL[value.strip().lower()]
    except KeyError as exc:
        raise ValueError(f"not a boolean: {value!r}") from exc


_ENV_SETTINGS: dict[str, Any] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "REDIS_URL": str,
    "KEK": str,  # base64 of 32 bytes; primary key-encryption key
    "KEK_OLD": str,  # comma-separated base64 keys kept for decryption during rotation
    "BLIND_INDEX_KEY": str,  # base64 of 32 bytes; keys the name search index
    "KEYSTORE_URL": str,  # the per-person key store: a database apart from DATABASE_URL
    "UPLOAD_FOLDER": str,
    "ATTESTATION_VALIDITY_DAYS": int,
    "RETENTION_AFTER_EXPIRY_DAYS": int,  # a record is kept this long past its card's expiry
    "DRAFT_RETENTION_DAYS": int,  # an intake left unfinished is shredded after this long
    "SCREENING_JOB_SECONDS": int,  # wall time the re-screening job may use per run
    "ATTESTATION_PREFIX": str,
    "ATTESTATION_ALG": str,  # "Ed25519" (default) or "ES256"
    "DEBUG": _parse_bool,
    "DEMO": _parse_bool,
    "SESSION_COOKIE_SECURE": _parse_bool,
    "COOKIE_HOST_PREFIX": _parse_bool,
    "SESSION_IDLE_MINUTES": int,
    "SESSION_ABSOLUTE_HOURS": int,
    "STEP_UP_MINUTES": int,
    "LOGIN_RATE_LIMIT": str,
    "BABEL_DEFAULT_LOCALE": str,
    "PUBLIC_BASE_URL": str,
    "PROXY_FIX": _parse_bool,
    "API_RATE_LIMIT": str,
    "API_IP_RATE_LIMIT": str,
    "WEBHOOK_ALLOW_HTTP": _parse_bool,
    "WEBHOOK_ALLOW_PRIVATE": _parse_bool,
}

DEFAULTS: dict[str, Any] = {
    "DEBUG": False,
    "DEMO": False,
    "TESTING": False,
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # __Host- requires Secure and no Domain; browsers reject it on plain http, so the
    # demo on http://127.0.0.1 turns it off while keeping the Secure flag (Chromium
    # treats loopback as a secure context).
    "COOKIE_HOST_PREFIX": True,
    "SESSION_IDLE_MINUTES": 15,
    "SESSION_ABSOLUTE_HOURS": 8,
    "STEP_UP_MINUTES": 5,
    "LOGIN_RATE_LIMIT": "10 per minute",
    "LOGIN_ACCOUNT_RATE_LIMIT": "20 per hour",
    "BABEL_DEFAULT_LOCALE": "en",
    "LANGUAGES": ("en", "es"),
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,  # bound to the server-side session, which has its own expiry
    # Flask-WTF's strict mode demands a same-origin Referer on https, but we send
    # Referrer-Policy: no-referrer, so browsers send none. security.same_origin() checks
    # Origin / Sec-Fetch-Site instead, on top of the per-session token.
    "WTF_CSRF_SSL_STRICT": False,
    "PASSWORD_MIN_LENGTH": 8,
    "PASSWORD_MAX_LENGTH": 1024,
    # argon2id parameters (RFC 9106 second recommended option); tests lower them.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 64 * 1024,
    "ARGON2_PARALLELISM": 2,
    "REDIS_URL": None,
    "PROXY_FIX": False,
    "PUBLIC_BASE_URL": None,
    "ATTESTATION_VALIDITY_DAYS": 365,
    "RETENTION_AFTER_EXPIRY_DAYS": 365,
    "DRAFT_RETENTION_DAYS": 90,
    "SCREENING_JOB_SECONDS": 420,
    "ATTESTATION_PREFIX": "ID1:",
    "ATTESTATION_ALG": "Ed25519",
    "STATUS_LIST_SIZE": 131072,
    "STATUS_LIST_TTL_SECONDS": 6 * 3600,
    "STATUS_LIST_VALIDITY_SECONDS": 48 * 3600,
    "HANDOVER_MINUTES": 10,
    "API_RATE_LIMIT": "120 per minute",
    "API_IP_RATE_LIMIT": "600 per minute",
    # Webhook targets: https only, and no loopback/private addresses, unless the operator
    # says so (a core banking system often lives on a private network: set the second).
    "WEBHOOK_ALLOW_HTTP": False,
    "WEBHOOK_ALLOW_PRIVATE": False,
}


def env_overrides(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Settings given as ``ONBOARDING_*`` environment variables, parsed."""
    environ = dict(os.environ if environ is None else environ)
    out: dict[str, Any] = {}
    for name, parser in _ENV_SETTINGS.items():
        raw = environ.get(ENV_PREFIX + name)
        if raw is not None:
            out[name] = parser(raw)
    return out


def read_instance_secret(instance: Path, name: str) -> str | None:
    """Read a secret file from the instance folder, if present (stripped)."""
    path = instance / name
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    return None


def generate_demo_secrets(instance: Path) -> None:
    """Create development secrets in ``instance/`` (mode 0600) if they are missing."""
    instance.mkdir(parents=True, exist_ok=True)
    makers: dict[str, Callable[[], str]] = {
        "secret_key": lambda: secrets.token_urlsafe(48),
        "kek": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
        "blind_index_key": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    for name, make in makers.items():
        path = instance / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(make() + "\n")


def decode_kek(value: str) -> bytes:
    """Decode a base64 KEK and insist on 256 bits."""
    raw = base64.b64decode(value, validate=True)
    if len(raw) != 32:
        raise ValueError("a KEK must be 32 bytes (base64 of 256 random bits)")
    return raw


def check_production(config: dict[str, Any]) -> list[str]:
    """Return the problems that make ``config`` unfit for production (empty if fine)."""
    problems: list[str] = []
    if config.get("DEBUG"):
        problems.append("DEBUG is on")
    if config.get("TESTING"):
        problems.append("TESTING is on")
    if config.get("DEMO"):
        problems.append("DEMO mode is on (generated development keys)")
    if config.get("WEBHOOK_ALLOW_HTTP"):
        problems.append("WEBHOOK_ALLOW_HTTP is on (decisions would leave unencrypted)")
    key = config.get("SECRET_KEY") or ""
    if len(key) < 32 or len(set(key)) < 10:
        problems.append("SECRET_KEY is missing or weak (need >= 32 random characters)")
    kek = config.get("KEK")
    try:
        if not kek:
            raise ValueError
        decode_kek(kek)
    except ValueError:
        problems.append("KEK is missing or not base64 of 32 bytes")
    try:
        decode_kek(config.get("BLIND_INDEX_KEY") or "")
    except ValueError:
        problems.append("BLIND_INDEX_KEY is missing or not base64 of 32 bytes")
    if not config.get("KEYSTORE_URL") or config.get("KEYSTORE_URL") == config.get("DATABASE_URL"):
        problems.append("KEYSTORE_URL must name a database apart from DATABASE_URL "
                        "(erasure relies on keys never being in the data backups)")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is off")
    if not config.get("SESSION_COOKIE_HTTPONLY"):
        problems.append("SESSION_COOKIE_HTTPONLY is off")
    if config.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
        problems.append("SESSION_COOKIE_SAMESITE must be Lax or Strict")
    if not config.get("COOKIE_HOST_PREFIX"):
        problems.append("COOKIE_HOST_PREFIX is off (use the __Host- cookie prefix)")
    url = str(config.get("DATABASE_URL") or "")
    if url.startswith("sqlite"):
        problems.append("DATABASE_URL is SQLite; production runs on PostgreSQL")
    if not config.get("REDIS_URL"):
        problems.append("REDIS_URL is unset: rate limits would be per process")
    if not config.get("SECURITY_HEADERS", True):
        problems.append("security headers are disabled")
    return problems
