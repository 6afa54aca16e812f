"""Issuing: claims -> CWT -> COSE_Sign1 -> zlib -> Base45 -> ``PREFIX...`` QR text."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from onboarding.attestation._util import timestamp
from onboarding.attestation.claims import Attestation, Attested, check_for_issuance
from onboarding.attestation.cose import sign1
from onboarding.attestation.envelope import DEFAULT_PREFIX, encode_envelope
from onboarding.attestation.errors import KeyMaterialError, QrTooLargeError
from onboarding.attestation.keys import EMITTED_ALGS, PrivateKey, default_alg, kid_for

__all__ = ["MAX_QR_TEXT_CHARS", "IssuedAttestation", "issue", "issue_attestation"]

#: Alphanumeric capacity of a version-25 QR at error correction Q (ISO/IEC 18004 table 7;
#: a test checks it against the ``qrcode`` package). FORMATS.md: refuse to issue above.
MAX_QR_TEXT_CHARS = 1041


@dataclass(frozen=True, slots=True)
class IssuedAttestation:
    """What the issuing side stores: the QR text, the COSE bytes and the claims."""

    text: str
    cose: bytes
    claims: Attestation

    @property
    def attestation_id(self) -> str:
        """``cti`` in hex: the id the app records (never the QR text itself)."""
        return self.claims.cti.hex()


def _ts(value: datetime | int) -> int:
    return value if isinstance(value, int) else timestamp(value)


def issue_attestation(
    attested: Attested,
    *,
    issuer_id: str,
    signing_key: PrivateKey,
    status_idx: int,
    status_uri: str,
    iat: datetime | int,
    exp: datetime | int,
    kid: bytes | None = None,
    alg: int | None = None,
    nbf: datetime | int | None = None,
    cti: bytes | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> IssuedAttestation:
    """Sign an attestation. ``kid`` defaults to the FORMATS.md rule, ``alg`` to -19 for
    Ed25519 keys and -7 for P-256; ``cti`` to 16 random bytes; ``nbf`` to ``iat``.

    Raises ``ClaimsError`` for claims a verifier would refuse (validation is shared) and
    :class:`QrTooLargeError` when the text would need a QR above version 25 at Q.
    """
    alg = default_alg(signing_key) if alg is None else alg
    if alg not in EMITTED_ALGS:
        raise KeyMaterialError(f"we emit -19 or -7, not {alg}", code="alg_not_allowed")
    issued_at = _ts(iat)
    claims = Attestation(
        iss=issuer_id,
        iat=issued_at,
        nbf=issued_at if nbf is None else _ts(nbf),
        exp=_ts(exp),
        cti=secrets.token_bytes(16) if cti is None else cti,
        status_idx=status_idx,
        status_uri=status_uri,
        attested=attested,
    )
    check_for_issuance(claims)
    cose = sign1(
        claims.encode(),
        signing_key,
        alg=alg,
        kid=kid_for(signing_key) if kid is None else kid,
    )
    text = encode_envelope(cose, prefix)
    if len(text) > MAX_QR_TEXT_CHARS:
        raise QrTooLargeError(
            f"attestation needs {len(text)} QR characters; version 25 at error correction Q "
            f"holds {MAX_QR_TEXT_CHARS} (shorten names or the photo)",
            version=None,
            limit=25,
        )
    return IssuedAttestation(text=text, cose=cose, claims=claims)


def issue(
    attested: Attested,
    *,
    issuer_id: str,
    signing_key: PrivateKey,
    status_idx: int,
    status_uri: str,
    iat: datetime | int,
    exp: datetime | int,
    kid: bytes | None = None,
    alg: int | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> str:
    """``PREFIX + base45(zlib(COSE_Sign1(CWT)))`` — see :func:`issue_attestation`."""
    return issue_attestation(
        attested,
        issuer_id=issuer_id,
        signing_key=signing_key,
        status_idx=status_idx,
        status_uri=status_uri,
        iat=iat,
        exp=exp,
        kid=kid,
        alg=alg,
        prefix=prefix,
    ).text
