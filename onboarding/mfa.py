"""TOTP (RFC 6238) and recovery codes (SECURITY.md 2).

Seeds are 160 random bits (RFC 4226's recommendation), stored AES-GCM encrypted under the
KEK with the user id as associated data. A code is accepted once: the last accepted time
step is stored and anything at or before it is refused, which also stops replaying a code
within its own 30-second step. Recovery codes carry 80 bits, so a plain SHA-256 suffices
(no slow hash needed for high-entropy secrets).
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import uuid

import pyotp
import qrcode
import qrcode.image.svg

from onboarding.clock import now
from onboarding.crypto import Keyring

STEP = 30
WINDOW = 1  # accept the previous and next step for clock drift
ISSUER = "Survivor Onboarding"


def new_secret() -> str:
    """A fresh base32 TOTP seed of 160 bits."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def _aad(user_id: uuid.UUID) -> bytes:
    return b"totp-seed|" + user_id.bytes


def seal_secret(keyring: Keyring, user_id: uuid.UUID, secret: str) -> bytes:
    """Encrypt a seed for storage."""
    return keyring.encrypt(secret.encode(), _aad(user_id))


def open_secret(keyring: Keyring, user_id: uuid.UUID, blob: bytes) -> str:
    """Decrypt a stored seed."""
    return keyring.decrypt(blob, _aad(user_id)).decode()


def provisioning_uri(secret: str, account: str) -> str:
    """otpauth:// URI for authenticator apps."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg_data_uri(uri: str) -> str:
    """The enrolment QR as an SVG data URI (no external image request, CSP friendly)."""
    img = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def match_step(secret: str, code: str, last_step: int) -> int | None:
    """The time step ``code`` belongs to, if valid and newer than ``last_step``."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now().timestamp()) // STEP
    for step in range(current - WINDOW, current + WINDOW + 1):
        if step <= last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, step_offset: int = 0) -> str:
    """The code for the current step (+offset). Used by tests and the demo docs."""
    return pyotp.TOTP(secret).generate_otp(int(now().timestamp()) // STEP + step_offset)


def new_recovery_codes(count: int = 10) -> list[str]:
    """Human-friendly codes like ``k7qf-2m9x-...`` with 80 bits each."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(alphabet) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    return codes


def hash_recovery_code(code: str) -> str:
    """Normalised SHA-256 of a recovery code."""
    norm = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(b"recovery|" + norm.encode()).hexdigest()
