"""Signing keys: generation, ``kid``, encryption at rest, public-key import/export, JWK.

Issuer private keys never exist unencrypted outside memory (SECURITY.md check 30). Two
at-rest forms are offered:

* PKCS#8 PEM with ``BestAvailableEncryption`` under a passphrase (for files an operator
  handles, e.g. the governance key kept offline);
* an AES-256-GCM wrap of the PKCS#8 DER under a 32-byte key-encryption key (KEK), which
  the web app stores in its database while the KEK lives in the environment / a KMS. The
  associated data binds the blob to a caller-given context (e.g. issuer and kid), so a
  wrapped key copied to another row does not unwrap.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from onboarding.attestation.errors import KeyMaterialError

__all__ = [
    "ALG_ED25519",
    "ALG_EDDSA",
    "ALG_ES256",
    "EMITTED_ALGS",
    "PrivateKey",
    "PublicKey",
    "alg_name",
    "b64url_decode",
    "default_alg",
    "dump_private_key_pem",
    "dump_public_key_pem",
    "generate_private_key",
    "kid_for",
    "kid_to_text",
    "load_private_key_pem",
    "load_public_key",
    "public_key_from_jwk",
    "public_key_to_jwk",
    "spki_der",
    "unwrap_private_key",
    "wrap_private_key",
]

PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey

#: COSE algorithm identifiers (IANA "COSE Algorithms"). -19 is the fully-specified
#: Ed25519 of RFC 9864; -8 is the older polymorphic EdDSA it deprecates.
ALG_ED25519 = -19
ALG_EDDSA = -8
ALG_ES256 = -7
EMITTED_ALGS = frozenset({ALG_ED25519, ALG_ES256})

_ALG_NAMES = {ALG_ED25519: "Ed25519", ALG_EDDSA: "EdDSA", ALG_ES256: "ES256"}

_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+")
_WRAP_MAGIC = b"OBK1"  # format tag + version of wrap_private_key blobs


def alg_name(alg: int) -> str:
    """JOSE/COSE name of an algorithm we know (``"Ed25519"``, ``"EdDSA"``, ``"ES256"``)."""
    try:
        return _ALG_NAMES[alg]
    except KeyError:
        raise KeyMaterialError(f"unsupported algorithm {alg}", code="alg_not_allowed") from None


def generate_private_key(alg: int = ALG_ED25519) -> PrivateKey:
    """A new signing key for ``alg`` (-19 Ed25519, the default, or -7 ES256 / P-256)."""
    if alg == ALG_ED25519:
        return Ed25519PrivateKey.generate()
    if alg == ALG_ES256:
        return ec.generate_private_key(ec.SECP256R1())
    raise KeyMaterialError(f"cannot generate keys for algorithm {alg}", code="alg_not_allowed")


def _check_public(key: object) -> PublicKey:
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyMaterialError("only the P-256 curve is supported", code="key_unsupported")
        return key
    raise KeyMaterialError("only Ed25519 and P-256 keys are supported", code="key_unsupported")


def _check_private(key: object) -> PrivateKey:
    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyMaterialError("only the P-256 curve is supported", code="key_unsupported")
        return key
    raise KeyMaterialError("only Ed25519 and P-256 keys are supported", code="key_unsupported")


def _public(key: PrivateKey | PublicKey) -> PublicKey:
    if isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        return _check_public(key.public_key())
    return _check_public(key)


def default_alg(key: PrivateKey | PublicKey) -> int:
    """The algorithm we emit for this key type (-19 for Ed25519, -7 for P-256)."""
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return ALG_ED25519
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return ALG_ES256
    raise KeyMaterialError("only Ed25519 and P-256 keys are supported", code="key_unsupported")


def spki_der(key: PrivateKey | PublicKey) -> bytes:
    """DER SubjectPublicKeyInfo of the (public half of the) key."""
    return _public(key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def kid_for(key: PrivateKey | PublicKey) -> bytes:
    """``kid`` = first 8 bytes of SHA-256 over the DER SubjectPublicKeyInfo (FORMATS.md).

    Eight bytes keep the QR small; collisions are harmless because a verifier tries every
    trusted key that shares a kid, and the trust list is curated.
    """
    return hashlib.sha256(spki_der(key)).digest()[:8]


def kid_to_text(kid: bytes) -> str:
    """JWK form of a kid: base64url without padding."""
    return base64.urlsafe_b64encode(kid).rstrip(b"=").decode("ascii")


def b64url_decode(text: object, what: str = "value") -> bytes:
    """Unpadded base64url (RFC 7515 §2) to bytes, strictly: alphabet ``A-Za-z0-9-_`` only
    and the canonical encoding of its bytes; :class:`KeyMaterialError` otherwise."""
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise KeyMaterialError(f"JWK {what} must be unpadded base64url text")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if kid_to_text(data) != text:
        raise KeyMaterialError(f"JWK {what} is not canonical base64url")
    return data


# ------------------------------------------------------------------ private keys at rest
def dump_private_key_pem(key: PrivateKey, passphrase: bytes) -> bytes:
    """PKCS#8 PEM encrypted under ``passphrase`` (never written unencrypted)."""
    if not passphrase:
        raise KeyMaterialError("a non-empty passphrase is required", code="passphrase_missing")
    return _check_private(key).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )


def load_private_key_pem(data: bytes, passphrase: bytes) -> PrivateKey:
    """Load an encrypted PKCS#8 PEM. Unencrypted PEM is refused on purpose."""
    if not passphrase:
        raise KeyMaterialError("a non-empty passphrase is required", code="passphrase_missing")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        raise KeyMaterialError(
            "private key PEM is not encrypted; keys must be encrypted at rest",
            code="key_not_encrypted",
        ) from None
    except ValueError:
        raise KeyMaterialError("cannot decrypt or parse the private key",
                               code="key_invalid") from None
    return _check_private(key)


def wrap_private_key(key: PrivateKey, kek: bytes, *, context: bytes = b"") -> bytes:
    """AES-256-GCM wrap of the PKCS#8 DER under a 32-byte KEK.

    Layout: ``b"OBK1" || nonce(12) || ciphertext+tag``. The associated data is the magic
    followed by ``context`` (e.g. ``b"issuer:<id>:kid:<hex>"``), which must be given again
    to unwrap.
    """
    if len(kek) != 32:
        raise KeyMaterialError("the KEK must be 32 bytes (AES-256)", code="kek_invalid")
    der = _check_private(key).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    nonce = secrets.token_bytes(12)
    return _WRAP_MAGIC + nonce + AESGCM(kek).encrypt(nonce, der, _WRAP_MAGIC + context)


def unwrap_private_key(blob: bytes, kek: bytes, *, context: bytes = b"") -> PrivateKey:
    """Reverse of :func:`wrap_private_key`; fails on a wrong KEK, context or any change."""
    if len(kek) != 32:
        raise KeyMaterialError("the KEK must be 32 bytes (AES-256)", code="kek_invalid")
    if len(blob) < 4 + 12 + 16 or blob[:4] != _WRAP_MAGIC:
        raise KeyMaterialError("not a wrapped key blob", code="key_invalid")
    try:
        der = AESGCM(kek).decrypt(blob[4:16], blob[16:], _WRAP_MAGIC + context)
    except InvalidTag:
        raise KeyMaterialError(
            "cannot unwrap the key (wrong KEK or context, or the blob was changed)",
            code="key_unwrap_failed",
        ) from None
    try:
        key = serialization.load_der_private_key(der, password=None)
    except ValueError:  # pragma: no cover - authenticated, so only our own bug gets here
        raise KeyMaterialError("wrapped key is not PKCS#8", code="key_invalid") from None
    return _check_private(key)


# ------------------------------------------------------------------ public keys
def dump_public_key_pem(key: PrivateKey | PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of the (public half of the) key."""
    return _public(key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(data: bytes | str | Mapping[str, Any]) -> PublicKey:
    """Load a public key from PEM, DER SubjectPublicKeyInfo, a JWK dict or JWK JSON text."""
    if isinstance(data, Mapping):
        return public_key_from_jwk(data)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    stripped = raw.lstrip()
    if stripped.startswith(b"{"):
        try:
            jwk = json.loads(stripped)
        except ValueError:
            raise KeyMaterialError("public key file is neither PEM nor JWK JSON") from None
        if not isinstance(jwk, dict):
            raise KeyMaterialError("JWK JSON must be an object")
        return public_key_from_jwk(jwk)
    try:
        if stripped.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(stripped)
        else:
            key = serialization.load_der_public_key(raw)
    except (ValueError, TypeError):
        raise KeyMaterialError("cannot parse the public key (PEM or DER SPKI expected)") from None
    return _check_public(key)


def public_key_to_jwk(key: PrivateKey | PublicKey, *, kid: bytes | None = None) -> dict[str, str]:
    """RFC 7517 JWK of the public key; ``kid`` is base64url (unpadded) of the kid bytes."""
    public = _public(key)
    kid = kid_for(public) if kid is None else kid
    if isinstance(public, Ed25519PublicKey):
        x = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": kid_to_text(x), "kid": kid_to_text(kid)}
    numbers = public.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": kid_to_text(numbers.x.to_bytes(32, "big")),
        "y": kid_to_text(numbers.y.to_bytes(32, "big")),
        "kid": kid_to_text(kid),
    }


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """Public key from an OKP/Ed25519 or EC/P-256 JWK. Private members are refused."""
    if "d" in jwk:
        raise KeyMaterialError("JWK contains a private key ('d'); refusing", code="jwk_private")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        x = b64url_decode(jwk.get("x"), "x")
        if len(x) != 32:
            raise KeyMaterialError("Ed25519 JWK 'x' must be 32 bytes")
        return Ed25519PublicKey.from_public_bytes(x)
    if kty == "EC" and crv == "P-256":
        x = b64url_decode(jwk.get("x"), "x")
        y = b64url_decode(jwk.get("y"), "y")
        if len(x) != 32 or len(y) != 32:
            raise KeyMaterialError("P-256 JWK 'x' and 'y' must be 32 bytes each")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
        except ValueError:
            raise KeyMaterialError("P-256 JWK point is not on the curve") from None
    raise KeyMaterialError(
        "unsupported JWK (OKP/Ed25519 or EC/P-256 expected)", code="key_unsupported"
    )
