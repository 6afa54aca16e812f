"""Attestation core: issue and verify signed attestations, trust lists and status lists.

Pure library — no Flask, no database, no secrets of its own — so the NGO web app, the
bank page and API, and a bank's offline verifier all run the same code (FORMATS.md is
the contract; docs/formats.md the specification for other implementers).

Issuing::

    text = issue(attested, issuer_id="ngo-a", signing_key=key, status_idx=idx,
                 status_uri=uri, iat=now, exp=now + timedelta(days=365))
    svg = make_qr(text, medium="print").svg(width="40mm")

Verifying::

    trust = TrustStore.from_trust_list(verify_trust_list(token, governance_key, at=now))
    status = StatusStore.from_tokens(status_tokens, trust)
    result = verify(text, trust=trust, status=status, at=now)
    result.result == "valid"; result.to_json()

``qr`` (qrcode, Pillow, zxing-cpp) and ``cli`` (click) are imported lazily by their users,
so importing this package pulls in only cbor2 and cryptography.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onboarding.attestation.base45 import b45decode, b45encode
from onboarding.attestation.claims import (
    Assurance,
    Attestation,
    Attested,
    EvidenceCategory,
    RefereeSession,
    decode_claims,
)
from onboarding.attestation.cose import ACCEPTED_ALGS, Sign1, decode_sign1, sign1, verify_sign1
from onboarding.attestation.envelope import DEFAULT_PREFIX, decode_envelope, encode_envelope
from onboarding.attestation.errors import (
    AttestationError,
    Base45Error,
    CborError,
    ClaimsError,
    CoseError,
    EnvelopeError,
    KeyMaterialError,
    QrDecodeError,
    QrError,
    QrTooLargeError,
    StatusListError,
    StatusListFullError,
    TrustListError,
)
from onboarding.attestation.issue import IssuedAttestation, issue, issue_attestation
from onboarding.attestation.keys import (
    ALG_ED25519,
    ALG_EDDSA,
    ALG_ES256,
    PrivateKey,
    PublicKey,
    dump_private_key_pem,
    dump_public_key_pem,
    generate_private_key,
    kid_for,
    kid_to_text,
    load_private_key_pem,
    load_public_key,
    public_key_from_jwk,
    public_key_to_jwk,
    unwrap_private_key,
    wrap_private_key,
)
from onboarding.attestation.statuslist import (
    DEFAULT_SIZE,
    STATUS_INVALID,
    STATUS_SUSPENDED,
    STATUS_VALID,
    StatusList,
    StatusStore,
    VerifiedStatusList,
    allocate_index,
    sign_status_list,
    verify_status_list,
)
from onboarding.attestation.trustlist import (
    Issuer,
    IssuerKey,
    IssuerState,
    KeyState,
    TrustList,
    TrustStore,
    follow_rollovers,
    sign_rollover,
    sign_trust_list,
    verify_rollover,
    verify_trust_list,
)
from onboarding.attestation.verify import (
    RESULTS,
    STEP_NAMES,
    IssuerInfo,
    Step,
    VerificationResult,
    verify,
)

if TYPE_CHECKING:
    from onboarding.attestation.qr import QrCode, decode_image, make_qr

__all__ = [
    "ACCEPTED_ALGS",
    "ALG_ED25519",
    "ALG_EDDSA",
    "ALG_ES256",
    "DEFAULT_PREFIX",
    "DEFAULT_SIZE",
    "RESULTS",
    "STATUS_INVALID",
    "STATUS_SUSPENDED",
    "STATUS_VALID",
    "STEP_NAMES",
    "Assurance",
    "Attestation",
    "AttestationError",
    "Attested",
    "Base45Error",
    "CborError",
    "ClaimsError",
    "CoseError",
    "EnvelopeError",
    "EvidenceCategory",
    "IssuedAttestation",
    "Issuer",
    "IssuerInfo",
    "IssuerKey",
    "IssuerState",
    "KeyMaterialError",
    "KeyState",
    "PrivateKey",
    "PublicKey",
    "QrCode",
    "QrDecodeError",
    "QrError",
    "QrTooLargeError",
    "RefereeSession",
    "Sign1",
    "StatusList",
    "StatusListError",
    "StatusListFullError",
    "StatusStore",
    "Step",
    "TrustList",
    "TrustListError",
    "TrustStore",
    "VerificationResult",
    "VerifiedStatusList",
    "allocate_index",
    "b45decode",
    "b45encode",
    "decode_claims",
    "decode_envelope",
    "decode_image",
    "decode_sign1",
    "dump_private_key_pem",
    "dump_public_key_pem",
    "encode_envelope",
    "follow_rollovers",
    "generate_private_key",
    "issue",
    "issue_attestation",
    "kid_for",
    "kid_to_text",
    "load_private_key_pem",
    "load_public_key",
    "make_qr",
    "public_key_from_jwk",
    "public_key_to_jwk",
    "sign1",
    "sign_rollover",
    "sign_status_list",
    "sign_trust_list",
    "unwrap_private_key",
    "verify",
    "verify_rollover",
    "verify_sign1",
    "verify_status_list",
    "verify_trust_list",
    "wrap_private_key",
]

_LAZY = {"QrCode": "qr", "decode_image": "qr", "make_qr": "qr"}


def __getattr__(name: str) -> Any:
    # QR helpers live behind a lazy import: the qr module itself imports qrcode / Pillow /
    # zxing-cpp only when called, but keeping it out of the package import keeps a bank's
    # embedded verifier's import graph to cbor2 + cryptography.
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f"onboarding.attestation.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
