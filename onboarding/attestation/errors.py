"""One small error hierarchy for the attestation core.

Every failure carries a stable machine ``code`` (snake_case, part of the public contract:
the bank API, the CLI and the tests key on it) and a human message. Following the pyca
``cryptography`` style, checks raise; nothing returns a boolean a caller could forget to
test. ``verify()`` is the one exception: it never raises for a bad input and instead
returns a :class:`~onboarding.attestation.verify.VerificationResult`, because the
verification result object is itself the contract (FORMATS.md).
"""

from __future__ import annotations


class AttestationError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``str(exc)`` is for people."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class Base45Error(AttestationError, ValueError):
    """Text is not valid RFC 9285 Base45."""

    code = "base45_invalid"


class EnvelopeError(AttestationError, ValueError):
    """Prefix or zlib layer of the QR text is wrong."""

    code = "envelope_invalid"


class CborError(AttestationError, ValueError):
    """Bytes are not CBOR of the restricted, well-formed shape we accept."""

    code = "cbor_malformed"


class CoseError(AttestationError):
    """COSE_Sign1 structure, header or signature problem (see ``code``)."""

    code = "cose_invalid"


class ClaimsError(AttestationError, ValueError):
    """A claim set or attested-attributes map does not match the FORMATS.md CDDL."""

    code = "claims_invalid"


class KeyMaterialError(AttestationError, ValueError):
    """A key cannot be loaded, unwrapped or used with the requested algorithm."""

    code = "key_invalid"


class TrustListError(AttestationError):
    """A trust list (or governance rollover) token was rejected."""

    code = "trust_list_invalid"


class StatusListError(AttestationError):
    """A status list token was rejected, or a status list operation is impossible."""

    code = "status_list_invalid"


class StatusListFullError(StatusListError):
    """No free index left within the allowed fill ratio: start a new list."""

    code = "status_list_full"


class QrError(AttestationError):
    """QR rendering or decoding failed."""

    code = "qr_error"


class QrTooLargeError(QrError):
    """The text needs a QR version above the limit (25 at error correction Q)."""

    code = "qr_too_large"

    def __init__(self, message: str, *, version: int | None, limit: int) -> None:
        super().__init__(message)
        self.version = version
        self.limit = limit


class QrDecodeError(QrError):
    """No QR code could be read from the image."""

    code = "qr_unreadable"
