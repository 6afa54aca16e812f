"""COSE_Sign1 (RFC 9052 §4.2) with cbor2 + cryptography, in the pyca style.

* :func:`sign1` emits tag 18 with the protected header ``{1: alg, 4: kid}`` (plus any
  extra protected labels a caller needs, e.g. ``16`` typ for status lists).
* :func:`decode_sign1` parses untrusted bytes with the strict reader of :mod:`.cbor`
  and enforces the structural rules: tag 18 or untagged only (COSE_Mac0 17, COSE_Sign
  98 or any other tag is refused), ``alg`` present in the *protected* bucket, no label
  in both buckets except ``kid`` (RFC 9052 §3 lets a recipient reject duplicates and
  FORMATS.md says the protected kid wins), no ``crit`` (we implement no extensions), no
  detached payload.
* :func:`verify_sign1` checks the signature against one key with an algorithm set the
  **caller** fixes; the token's ``alg`` only selects within that set, and must fit the key
  type (-19/-8 need an Ed25519 key, -7 a P-256 key). It raises :class:`CoseError` with a
  reason ``code``; it never returns a boolean.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from onboarding.attestation.cbor import bstr_head, decode_item, decode_strict, read_head
from onboarding.attestation.errors import CborError, CoseError
from onboarding.attestation.keys import (
    ALG_ED25519,
    ALG_EDDSA,
    ALG_ES256,
    PrivateKey,
    PublicKey,
)

__all__ = [
    "ACCEPTED_ALGS",
    "HEADER_ALG",
    "HEADER_KID",
    "HEADER_TYP",
    "TAG_SIGN1",
    "Sign1",
    "decode_sign1",
    "sig_structure",
    "sign1",
    "verify_listed",
    "verify_sign1",
]

TAG_SIGN1 = 18
TAG_MAC0 = 17
TAG_SIGN = 98
HEADER_ALG = 1
HEADER_CRIT = 2
HEADER_KID = 4
HEADER_TYP = 16

#: Everything a verifier of this project accepts; callers may narrow it further.
ACCEPTED_ALGS = frozenset({ALG_ED25519, ALG_EDDSA, ALG_ES256})

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_SIG1_CONTEXT = b"\x84\x6aSignature1"  # array(4), tstr(10) "Signature1"
_P256_ORDER_BYTES = 32


class Sign1(NamedTuple):
    """A structurally valid COSE_Sign1, not yet verified."""

    protected_bytes: bytes
    protected: Mapping[int | str, Any]
    unprotected: Mapping[int | str, Any]
    payload: bytes
    signature: bytes
    tagged: bool
    alg: int | str
    kid: bytes | None


def sig_structure(protected_bytes: bytes, external_aad: bytes, payload: bytes) -> bytes:
    """``Sig_structure = ["Signature1", protected, external_aad, payload]`` (RFC 9052 §4.4)."""
    return b"".join(
        (
            _SIG1_CONTEXT,
            bstr_head(len(protected_bytes)),
            protected_bytes,
            bstr_head(len(external_aad)),
            external_aad,
            bstr_head(len(payload)),
            payload,
        )
    )


#: Sig_structure up to the payload for each protected header seen (with an empty
#: external_aad). A signer's protected header is the same for everything it signs
#: ({1: alg, 4: kid}), so this is one entry per key in practice; it holds only bytes
#: derived from public input, and is cleared if it ever grows past a few hundred keys.
_TBS_PREFIXES: dict[bytes, bytes] = {}
_TBS_PREFIXES_MAX = 512


def _tbs_prefix(protected: bytes) -> bytes:
    prefix = _TBS_PREFIXES.get(protected)
    if prefix is None:
        if len(_TBS_PREFIXES) >= _TBS_PREFIXES_MAX:
            _TBS_PREFIXES.clear()
        prefix = _SIG1_CONTEXT + bstr_head(len(protected)) + protected + b"\x40"
        _TBS_PREFIXES[protected] = prefix
    return prefix


def _bstr_head(length: int) -> bytes:
    """:func:`bstr_head` with the payload sizes of attestations inlined."""
    if 0x18 <= length < 0x100:
        return bytes((0x58, length))
    if 0x100 <= length < 0x10000:
        return bytes((0x59, length >> 8, length & 0xFF))
    return bstr_head(length)


def _key_fits(alg: int | str, key: PublicKey) -> bool:
    if alg in (ALG_ED25519, ALG_EDDSA):
        return isinstance(key, Ed25519PublicKey)
    if alg == ALG_ES256:
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    return False


def _bstr(data: bytes, pos: int, what: str) -> tuple[bytes, int]:
    major, length, pos = read_head(data, pos)
    if major != 2:
        raise CborError(f"{what} must be a byte string")
    end = pos + length
    if end > len(data):
        raise CborError(f"truncated {what}")
    return data[pos:end], end


def _parse_sign1(data: bytes) -> tuple[bool, bytes, dict[Any, Any], bytes, bytes]:
    """Structure of ``[protected: bstr, unprotected: map, payload: bstr, signature: bstr]``,
    optionally under one tag, read head by head (the strict rules of :mod:`.cbor`)."""
    major, arg, pos = read_head(data, 0)
    tagged = major == 6
    if tagged:
        if arg == TAG_MAC0:
            raise CoseError("COSE_Mac0 is not accepted, only COSE_Sign1", code="cose_wrong_type")
        if arg == TAG_SIGN:
            raise CoseError("COSE_Sign is not accepted, only COSE_Sign1", code="cose_wrong_type")
        if arg != TAG_SIGN1:
            raise CoseError(f"unexpected CBOR tag {arg}, expected 18", code="cose_wrong_tag")
        major, arg, pos = read_head(data, pos)
    if major != 4 or arg != 4:
        raise CborError("a COSE_Sign1 is an array of 4 items")
    protected_bytes, pos = _bstr(data, pos, "protected header")
    if pos < len(data) and data[pos] == 0xA0:  # the usual empty unprotected map
        unprotected: Any = {}
        pos += 1
    else:
        unprotected, pos = decode_item(data, pos)
        if type(unprotected) is not dict:
            raise CborError("unprotected header must be a map")
    if pos < len(data) and data[pos] == 0xF6:
        raise CoseError("detached payloads are not accepted", code="cose_malformed")
    payload, pos = _bstr(data, pos, "payload")
    signature, pos = _bstr(data, pos, "signature")
    if pos != len(data):
        raise CborError("trailing bytes after the COSE_Sign1")
    return tagged, protected_bytes, unprotected, payload, signature


def sign1(
    payload: bytes,
    key: PrivateKey,
    *,
    alg: int,
    kid: bytes | None,
    protected_extra: Mapping[int, Any] | None = None,
    unprotected: Mapping[int, Any] | None = None,
    external_aad: bytes = b"",
    tagged: bool = True,
) -> bytes:
    """Sign ``payload`` into a COSE_Sign1 (tag 18 by default)."""
    if not _key_fits(alg, key.public_key()):
        raise CoseError(f"algorithm {alg} does not fit this key type", code="alg_key_mismatch")
    headers: dict[int, Any] = {HEADER_ALG: alg}
    if kid is not None:
        headers[HEADER_KID] = bytes(kid)
    for label, value in (protected_extra or {}).items():
        if label in headers:
            raise CoseError(f"protected header {label} given twice", code="header_duplicate")
        headers[label] = value
    protected_bytes = cbor2.dumps(headers)
    tbs = sig_structure(protected_bytes, external_aad, payload)
    if isinstance(key, Ed25519PrivateKey):
        signature = key.sign(tbs)
    else:
        r, s = decode_dss_signature(key.sign(tbs, _ECDSA_SHA256))
        signature = r.to_bytes(_P256_ORDER_BYTES, "big") + s.to_bytes(_P256_ORDER_BYTES, "big")
    body = [protected_bytes, dict(unprotected or {}), payload, signature]
    return cbor2.dumps(cbor2.CBORTag(TAG_SIGN1, body) if tagged else body)


_tuple_new = tuple.__new__


def _decode_common(data: bytes) -> Sign1 | None:
    """The layout :func:`sign1` emits for an attestation, or None.

    Why: every verification parses one of these before anything else, and the general
    reader below walks it head by head (about 4 us). This accepts exactly one shape,
    byte for byte: tag 18, array(4), a protected bstr (< 24 bytes) holding
    ``{1: alg, 4: kid}`` with a one-byte negative alg and a kid under 24 bytes, an empty
    unprotected map, a payload bstr with a shortest 1- or 2-byte length head and a
    64-byte signature, nothing after. The general path decodes those bytes to the same
    Sign1 (all heads here are shortest-form, keys distinct, no crit), so this changes
    speed only; anything else returns None and takes the general path.
    """
    n = len(data)
    if n < 90 or data[0] != 0xD2 or data[1] != 0x84:
        return None
    end = data[2] - 0x40 + 3  # protected bstr: head 0x40 + length
    if not 8 <= end < 27 or data[3] != 0xA2 or data[4] != 0x01 or data[6] != 0x04:
        return None
    alg = data[5] - 0x20  # negative int -1 - (head & 0x1F)
    kid_head = data[7] - 0x40
    if not 0 <= alg < 0x18 or kid_head != end - 8 or data[end] != 0xA0:
        return None
    head = data[end + 1]
    if head == 0x58:
        length = data[end + 2]
        start = end + 3
        if length < 0x18:
            return None
    elif head == 0x59:
        length = data[end + 2] << 8 | data[end + 3]
        start = end + 4
        if length < 0x100:
            return None
    else:
        return None
    stop = start + length
    if stop + 66 != n or data[stop] != 0x58 or data[stop + 1] != 0x40:
        return None
    kid = data[8:end]
    alg = -1 - alg
    return _tuple_new(Sign1, (data[3:end], {HEADER_ALG: alg, HEADER_KID: kid}, {},
                              data[start:stop], data[stop + 2 :], True, alg, kid))


def decode_sign1(data: bytes, *, allow_unprotected_alg: bool = False) -> Sign1:
    """Parse a COSE_Sign1 from untrusted bytes (no signature check yet).

    ``allow_unprotected_alg`` exists only to run RFC 9052 conformance vectors (an
    unprotected ``alg`` is legal COSE); attestations, trust lists and status lists are
    always decoded with the default, which rejects it.
    """
    common = _decode_common(data)
    if common is not None:
        return common
    try:
        tagged, protected_bytes, unprotected, payload, signature = _parse_sign1(data)
    except CborError as exc:
        raise CoseError(f"not a well-formed COSE_Sign1: {exc.message}",
                        code="cose_malformed") from None
    if protected_bytes:
        try:
            protected = decode_strict(protected_bytes)
        except CborError as exc:
            raise CoseError(
                f"protected header is not well-formed CBOR: {exc.message}", code="cose_malformed"
            ) from None
        if not isinstance(protected, dict):
            raise CoseError("protected header must encode a map", code="cose_malformed")
    else:
        protected = {}
    if HEADER_CRIT in protected or HEADER_CRIT in unprotected:
        raise CoseError("critical header extensions are not supported", code="crit_unsupported")
    for label in unprotected:
        if label in protected and label != HEADER_KID:
            raise CoseError(
                f"header label {label!r} appears in both buckets", code="header_duplicate"
            )
    if HEADER_ALG in protected:
        alg = protected[HEADER_ALG]
    elif HEADER_ALG in unprotected:
        if not allow_unprotected_alg:
            raise CoseError(
                "alg is only in the unprotected header; it must be protected",
                code="alg_unprotected",
            )
        alg = unprotected[HEADER_ALG]
    else:
        raise CoseError("no alg header", code="alg_missing")
    if type(alg) is not int and type(alg) is not str:
        raise CoseError("alg must be an integer or text", code="cose_malformed")
    kid = protected.get(HEADER_KID, unprotected.get(HEADER_KID))
    if kid is not None and not isinstance(kid, bytes):
        raise CoseError("kid must be a byte string", code="cose_malformed")
    return Sign1(protected_bytes, protected, unprotected, payload, signature, tagged, alg, kid)


def verify_sign1(
    msg: Sign1,
    key: PublicKey,
    *,
    algorithms: Collection[int],
    external_aad: bytes = b"",
) -> None:
    """Verify ``msg`` with ``key``; raise :class:`CoseError` (``code``) on any failure.

    ``algorithms`` is the caller's allowlist; the token's alg must be in it *and* fit the
    key type. ES256 signatures are the raw 64-byte ``r || s`` of RFC 9053 §2.1.
    """
    alg = msg.alg
    if alg not in algorithms or alg not in ACCEPTED_ALGS:
        raise CoseError(f"algorithm {alg!r} is not allowed", code="alg_not_allowed")
    if not _key_fits(alg, key):
        raise CoseError(f"algorithm {alg!r} does not fit the key type", code="alg_key_mismatch")
    _check_signature(msg, key, isinstance(key, Ed25519PublicKey), external_aad)


def verify_listed(msg: Sign1, key: PublicKey, listed_alg: int) -> None:
    """:func:`verify_sign1` for a trust-list key whose ``listed_alg`` was checked against
    its key type when it was listed (:class:`~.trustlist.IssuerKey` does), and a token
    ``alg`` the caller has already checked against its allowlist and ``listed_alg``.

    Why: the key-type checks of :func:`verify_sign1` are ABC ``isinstance`` calls, a
    measurable part of a verification; the listing already decided them once per key.
    """
    _check_signature(msg, key, listed_alg == ALG_ED25519, b"")


def _check_signature(msg: Sign1, key: PublicKey, ed25519: bool, external_aad: bytes) -> None:
    # RFC 9052 §4.4: with no protected header parameters the Sig_structure carries a
    # zero-length bstr, even if the message sent an encoded empty map (h'A0').
    protected = msg.protected_bytes if msg.protected else b""
    payload = msg.payload
    if external_aad:
        tbs = sig_structure(protected, external_aad, payload)
    else:
        tbs = _tbs_prefix(protected) + _bstr_head(len(payload)) + payload
    signature = msg.signature
    try:
        if ed25519:
            if len(signature) != 64:
                raise InvalidSignature
            key.verify(signature, tbs)  # type: ignore[call-arg]
        else:
            if len(signature) != 2 * _P256_ORDER_BYTES:
                raise InvalidSignature
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), tbs, _ECDSA_SHA256)  # type: ignore[call-arg]
    except InvalidSignature:
        raise CoseError("signature does not verify", code="signature_invalid") from None
