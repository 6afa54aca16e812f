"""IETF Token Status List (draft-ietf-oauth-status-list), CWT form, for revocation.

Followed: the working-group draft as of early 2026 (draft-ietf-oauth-status-list-17/18,
"Token Status List (TSL)"; oauth-wg/draft-ietf-oauth-status-list, sections "Status List",
"Status List in CBOR Format", "Status List Token in CWT Format", "Referenced Token in
COSE"). What it fixes and we implement:

* Status List: a byte array, each status ``bits`` wide (1, 2, 4 or 8); index ``i`` lives in
  byte ``i * bits // 8`` and bits are counted from the *least significant* bit of a byte
  (index 0 is the low bits of byte 0). The array is compressed with DEFLATE in the ZLIB
  format, highest compression level recommended.
* CBOR Status List: ``{"bits": uint, "lst": bstr}`` (optional ``"aggregation_uri"``).
* Status List Token in CWT form: protected header ``16`` (typ, RFC 9596) =
  ``"application/statuslist+cwt"``; claims ``2`` sub = the list's URI (REQUIRED, equal to
  the ``uri`` in the referenced token), ``6`` iat (REQUIRED), ``4`` exp (OPTIONAL),
  ``65534`` ttl (OPTIONAL, positive, seconds a cached copy may be used), ``65533``
  status_list (REQUIRED). The draft allows other claims; we also put ``1`` iss = issuer
  id. Relying parties reject MACed or badly signed tokens.
* Referenced token: claim ``65535`` status = ``{"status_list": {"idx": uint, "uri": tstr}}``.
* Status types: 0x00 VALID, 0x01 INVALID (revoked), 0x02 SUSPENDED; 0x03 is
  application-specific and unused here (treated as not valid).

Herd privacy: lists hold at least 131,072 entries and indexes are drawn at random, so a
list download tells nobody which attestation is being checked, and neighbouring indexes
say nothing about issue order.
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

import cbor2

from onboarding.attestation._util import MAX_TIME, iso, timestamp, typ_of
from onboarding.attestation.cose import ACCEPTED_ALGS, decode_sign1, sign1, verify_sign1
from onboarding.attestation.errors import (
    CoseError,
    StatusListError,
    StatusListFullError,
)
from onboarding.attestation.keys import PrivateKey, kid_to_text
from onboarding.attestation.trustlist import KeyState, TrustStore

__all__ = [
    "DEFAULT_SIZE",
    "STATUS_INVALID",
    "STATUS_LIST_TYP",
    "STATUS_SUSPENDED",
    "STATUS_VALID",
    "StatusList",
    "StatusStore",
    "VerifiedStatusList",
    "allocate_index",
    "sign_status_list",
    "verify_status_list",
]

STATUS_VALID = 0x00
STATUS_INVALID = 0x01
STATUS_SUSPENDED = 0x02
STATUS_LIST_TYP = "application/statuslist+cwt"
CLAIM_STATUS_LIST = 65533
CLAIM_TTL = 65534
DEFAULT_SIZE = 131_072
MIN_SIZE = 131_072
MAX_LIST_BYTES = 16 * 1024 * 1024  # decompression cap: 64 M entries at 2 bits
_BITS = (1, 2, 4, 8)


def _bad(message: str, code: str = "status_list_invalid") -> StatusListError:
    return StatusListError(message, code=code)


class StatusList:
    """A mutable status array of ``size`` entries, ``bits`` bits each (default 2)."""

    __slots__ = ("_data", "bits", "size")

    def __init__(self, size: int = DEFAULT_SIZE, bits: int = 2, *,
                 data: bytes | bytearray | None = None) -> None:
        if bits not in _BITS:
            raise _bad("bits must be 1, 2, 4 or 8")
        per_byte = 8 // bits
        if data is None:
            if size <= 0 or size % per_byte:
                raise _bad(f"size must be a positive multiple of {per_byte}")
            data = bytearray(size // per_byte)
        self._data = bytearray(data)
        self.bits = bits
        self.size = len(self._data) * per_byte

    def _locate(self, index: int) -> tuple[int, int]:
        if type(index) is not int or not 0 <= index < self.size:
            raise _bad(f"index {index!r} outside the list (size {self.size})", "status_index")
        bit = index * self.bits
        return bit >> 3, bit & 7

    def get(self, index: int) -> int:
        byte, shift = self._locate(index)
        return (self._data[byte] >> shift) & ((1 << self.bits) - 1)

    def set(self, index: int, value: int) -> None:
        mask = (1 << self.bits) - 1
        if type(value) is not int or not 0 <= value <= mask:
            raise _bad(f"status value must be 0..{mask}")
        byte, shift = self._locate(index)
        self._data[byte] = (self._data[byte] & ~(mask << shift) & 0xFF) | (value << shift)

    def to_bytes(self) -> bytes:
        """The uncompressed byte array."""
        return bytes(self._data)

    def compressed(self) -> bytes:
        """``lst``: zlib (RFC 1950) at the highest level, as the draft recommends."""
        return zlib.compress(self._data, 9)

    def to_cbor_map(self) -> dict[str, object]:
        return {"bits": self.bits, "lst": self.compressed()}

    @classmethod
    def from_compressed(cls, lst: bytes, bits: int, *, max_bytes: int = MAX_LIST_BYTES
                        ) -> StatusList:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(lst, max_bytes)
        except zlib.error as exc:
            raise _bad(f"lst is not zlib data ({exc})") from None
        if inflater.unconsumed_tail:
            raise _bad(f"lst decompresses to more than {max_bytes} bytes")
        if not inflater.eof or inflater.unused_data:
            raise _bad("lst is truncated or has trailing bytes")
        if not data:
            raise _bad("lst is empty")
        return cls(bits=bits, data=data)


def allocate_index(size: int, used: Collection[int], *, max_fill: float = 0.9) -> int:
    """A uniformly random free index (``secrets``), never one in ``used``.

    Rejection sampling while the list is sparse; past half full, a draw from the explicit
    free set, so the cost stays bounded. Refuses beyond ``max_fill`` (start a new list:
    a nearly full list shrinks the crowd an index hides in).
    """
    if size <= 0:
        raise _bad("size must be positive")
    if len(used) >= size * max_fill:
        raise StatusListFullError(f"status list is {max_fill:.0%} full: start a new list")
    if len(used) * 2 < size:
        while True:
            candidate = secrets.randbelow(size)
            if candidate not in used:
                return candidate
    free = [i for i in range(size) if i not in used]
    return free[secrets.randbelow(len(free))]


def sign_status_list(
    status_list: StatusList,
    *,
    uri: str,
    issuer_id: str,
    signing_key: PrivateKey,
    kid: bytes,
    alg: int,
    iat: int,
    exp: int,
    ttl: int,
) -> bytes:
    """The Status List Token (CWT) for ``uri``, signed by the issuer's key."""
    if status_list.size < MIN_SIZE:
        raise _bad(f"a published list must have at least {MIN_SIZE} entries (herd privacy)")
    if not ttl > 0 or exp <= iat:
        raise _bad("ttl must be positive and exp after iat")
    claims = {
        1: issuer_id,
        2: uri,
        4: exp,
        6: iat,
        CLAIM_STATUS_LIST: status_list.to_cbor_map(),
        CLAIM_TTL: ttl,
    }
    payload = cbor2.dumps(claims, canonical=True)
    return sign1(payload, signing_key, alg=alg, kid=kid, protected_extra={16: STATUS_LIST_TYP})


@dataclass(frozen=True, slots=True)
class VerifiedStatusList:
    """A status list whose signature checked out against the trust store."""

    uri: str
    issuer_id: str
    kid: bytes
    iat: int
    exp: int | None
    ttl: int | None
    status_list: StatusList

    def status(self, index: int) -> int:
        return self.status_list.get(index)

    def to_json(self) -> dict[str, object]:
        return {
            "uri": self.uri,
            "issuer": self.issuer_id,
            "kid": kid_to_text(self.kid),
            "issued_at": iso(self.iat),
            "expires_at": None if self.exp is None else iso(self.exp),
            "ttl": self.ttl,
            "bits": self.status_list.bits,
            "size": self.status_list.size,
        }


def verify_status_list(
    token: bytes,
    trust: TrustStore,
    *,
    expected_uri: str | None = None,
) -> VerifiedStatusList:
    """Verify a Status List Token signed by a listed issuer key.

    Freshness (exp, ttl) is judged later by ``verify()`` against its own ``at``, so that
    a long-lived :class:`StatusStore` can hold lists and warn when they go stale.
    """
    try:
        msg = decode_sign1(token)
    except CoseError as exc:
        raise _bad(f"not a COSE_Sign1: {exc.message}", "status_list_malformed") from None
    if typ_of(msg) != STATUS_LIST_TYP:
        raise _bad(f"protected typ must be {STATUS_LIST_TYP!r}", "status_list_wrong_type")
    if msg.kid is None:
        raise _bad("status list token has no kid", "status_list_malformed")
    verified = None
    for issuer, key in trust.candidates(msg.kid):
        if msg.alg not in key.token_algs:
            continue
        try:
            verify_sign1(msg, key.public_key, algorithms=ACCEPTED_ALGS)
        except CoseError:
            continue
        verified = (issuer, key)
        break
    if verified is None:
        raise _bad("no trusted issuer key verifies this status list", "status_list_signature")
    issuer, key = verified
    try:
        claims = cbor2.loads(msg.payload)
    except Exception:
        raise _bad("status list payload is not CBOR", "status_list_malformed") from None
    if type(claims) is not dict:
        raise _bad("status list payload must be a map", "status_list_malformed")
    uri, iat = claims.get(2), claims.get(6)
    exp, ttl = claims.get(4), claims.get(CLAIM_TTL)
    body = claims.get(CLAIM_STATUS_LIST)
    if type(uri) is not str or not uri:
        raise _bad("sub (the list URI) is required", "status_list_malformed")
    if type(iat) is not int or not 0 <= iat <= MAX_TIME:
        raise _bad("iat is required", "status_list_malformed")
    if exp is not None and (type(exp) is not int or not iat < exp <= MAX_TIME):
        raise _bad("exp must be an integer after iat", "status_list_malformed")
    if ttl is not None and (type(ttl) is not int or not 0 < ttl <= MAX_TIME):
        raise _bad("ttl must be a positive integer", "status_list_malformed")
    if 1 in claims and claims[1] != issuer.id:
        raise _bad("iss is not the issuer of the signing key", "status_list_issuer")
    if type(body) is not dict or not {"bits", "lst"} <= body.keys() <= {
        "bits", "lst", "aggregation_uri"
    }:
        raise _bad("status_list claim must be {bits, lst}", "status_list_malformed")
    bits, lst = body["bits"], body["lst"]
    if type(bits) is not int or bits not in _BITS or type(lst) is not bytes:
        raise _bad("bits must be 1, 2, 4 or 8 and lst a byte string", "status_list_malformed")
    if expected_uri is not None and uri != expected_uri:
        raise _bad(f"list is for {uri!r}, expected {expected_uri!r}", "status_list_uri")
    if key.state == KeyState.REVOKED:
        raise _bad("signed by a key revoked for compromise", "status_list_key_revoked")
    if key.state == KeyState.RETIRED and key.retired_at is not None and iat >= key.retired_at:
        raise _bad("signed by a key after its retirement", "status_list_key_retired")
    return VerifiedStatusList(
        uri=uri,
        issuer_id=issuer.id,
        kid=key.kid,
        iat=iat,
        exp=exp,
        ttl=ttl,
        status_list=StatusList.from_compressed(lst, bits),
    )


class StatusStore:
    """Status lists by URI (the newest kept), for ``verify()``.

    ``at`` decides freshness at verification time: past ``iat + ttl`` gives a warning,
    past ``exp`` the list no longer proves an attestation *valid* (but a revocation in
    it still counts: fail closed).
    """

    __slots__ = ("_lists",)

    def __init__(self, lists: Iterable[VerifiedStatusList] = ()) -> None:
        self._lists: dict[str, VerifiedStatusList] = {}
        for item in lists:
            self.add(item)

    def add(self, item: VerifiedStatusList) -> None:
        current = self._lists.get(item.uri)
        if current is None or item.iat >= current.iat:
            self._lists[item.uri] = item

    def get(self, uri: str) -> VerifiedStatusList | None:
        return self._lists.get(uri)

    def __len__(self) -> int:
        return len(self._lists)

    @classmethod
    def from_tokens(cls, tokens: Iterable[bytes], trust: TrustStore) -> StatusStore:
        """Verify every token (raises on the first bad one)."""
        return cls(verify_status_list(t, trust) for t in tokens)


def freshness(item: VerifiedStatusList, at: datetime) -> tuple[bool, bool]:
    """``(expired, stale)`` of a list at ``at``."""
    now = timestamp(at)
    expired = item.exp is not None and now >= item.exp
    stale = item.ttl is not None and now >= item.iat + item.ttl
    return expired, stale
