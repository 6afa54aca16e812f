"""Trust list: which issuers and keys a bank trusts, signed by a pinned governance key.

Wire form: a COSE_Sign1 (tag 18, protected ``{1: alg, 4: kid, 16: TRUST_LIST_TYP}``)
whose payload is a CWT claim set::

    trust_list_token_payload = {
      1 => tstr,                       ; iss: governance authority id
      6 => uint, 4 => uint,            ; iat, exp
      -65538 => {
        "version": uint,               ; monotonic; verifiers refuse rollbacks
        "issuers": [* issuer],
      },
    }
    issuer = {"id": tstr, "name": tstr, "jurisdiction": tstr,
              "accredited_until": uint, "state": "active" / "suspended" / "revoked",
              "keys": [* key]}
    key = {"kid": bstr, "alg": -19 / -7, "spki": bstr,     ; DER SubjectPublicKeyInfo
           "state": "active" / "retired" / "revoked",
           ? "retired_at": uint,                          ; required when retired
           ? "revoked_at": uint}                          ; informational

A *retired* key stays trusted for attestations whose ``iat`` is before ``retired_at``
(rotation with overlap). A *revoked* key (compromise) makes everything it ever signed
fail, whatever the ``iat`` says — a thief can backdate ``iat``.

The same content is offered as JSON for people (:meth:`TrustList.to_json`) and as a JWKS
(:meth:`TrustList.to_jwks`) for verifiers that pin keys; :class:`TrustStore` is what
``verify()`` consults and can be built from either.

Governance key rollover: the current key signs an announcement carrying the new key and
a proof of possession by the new key (:func:`sign_rollover` / :func:`verify_rollover`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import cbor2

from onboarding.attestation._util import MAX_TIME, iso, timestamp, typ_of
from onboarding.attestation.claims import _ISSUER_RE
from onboarding.attestation.cose import ACCEPTED_ALGS, decode_sign1, sign1, verify_sign1
from onboarding.attestation.errors import CoseError, KeyMaterialError, TrustListError
from onboarding.attestation.keys import (
    ALG_ED25519,
    ALG_EDDSA,
    ALG_ES256,
    PrivateKey,
    PublicKey,
    alg_name,
    b64url_decode,
    default_alg,
    kid_for,
    kid_to_text,
    load_public_key,
    public_key_from_jwk,
    public_key_to_jwk,
    spki_der,
)

__all__ = [
    "ROLLOVER_TYP",
    "TRUST_LIST_TYP",
    "Issuer",
    "IssuerKey",
    "IssuerState",
    "KeyState",
    "TrustList",
    "TrustStore",
    "follow_rollovers",
    "sign_rollover",
    "sign_trust_list",
    "verify_rollover",
    "verify_trust_list",
]

TRUST_LIST_TYP = "application/vnd.onboarding.trust-list+cwt"
ROLLOVER_TYP = "application/vnd.onboarding.key-rollover+cwt"
CLAIM_TRUST_LIST = -65538
CLAIM_ROLLOVER = -65539
DEFAULT_GOVERNANCE_ID = "onboarding-governance"
_ROLLOVER_POP_CONTEXT = b"onboarding governance key rollover v1"
_TOKEN_CLAIMS = frozenset({1, 4, 6, CLAIM_TRUST_LIST})


class IssuerState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class KeyState(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


def _bad(message: str, code: str = "trust_list_invalid") -> TrustListError:
    return TrustListError(message, code=code)


def _key_algs(alg: int) -> frozenset[int]:
    """Token algorithms a listed key accepts: -8 (EdDSA) is accepted for Ed25519 keys."""
    return frozenset({ALG_ED25519, ALG_EDDSA}) if alg == ALG_ED25519 else frozenset({alg})


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """One public key of an issuer, with its lifecycle state."""

    kid: bytes
    alg: int
    public_key: PublicKey
    state: KeyState = KeyState.ACTIVE
    retired_at: int | None = None
    revoked_at: int | None = None
    token_algs: frozenset[int] = field(init=False, repr=False, compare=False)
    description: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if type(self.kid) is not bytes or not 1 <= len(self.kid) <= 32:
            raise _bad("kid must be 1-32 bytes")
        if self.alg not in (ALG_ED25519, ALG_ES256):
            raise _bad(f"listed key algorithm must be -19 or -7, not {self.alg!r}")
        if default_alg(self.public_key) != self.alg:
            raise _bad("listed algorithm does not fit the key type")
        for when in (self.retired_at, self.revoked_at):
            if when is not None and (type(when) is not int or not 0 <= when <= MAX_TIME):
                raise _bad("retired_at / revoked_at must be times up to year 9999")
        if self.state == KeyState.RETIRED and self.retired_at is None:
            raise _bad("a retired key needs retired_at")
        if self.state != KeyState.RETIRED and self.retired_at is not None:
            raise _bad("retired_at is only for retired keys")
        object.__setattr__(self, "token_algs", _key_algs(self.alg))
        # Precomputed: verify() reports it for every attestation this key signed.
        state = "active" if self.state == KeyState.ACTIVE else (
            f"{self.state}" if self.retired_at is None
            else f"retired {iso(self.retired_at)}, valid for earlier issues")
        object.__setattr__(self, "description", f"key {kid_to_text(self.kid)} ({state})")

    @classmethod
    def from_public_key(
        cls,
        public_key: PublicKey,
        *,
        state: KeyState = KeyState.ACTIVE,
        retired_at: int | None = None,
        revoked_at: int | None = None,
        kid: bytes | None = None,
    ) -> IssuerKey:
        """Convenience: kid and alg derived from the key (FORMATS.md kid rule)."""
        return cls(
            kid=kid_for(public_key) if kid is None else kid,
            alg=default_alg(public_key),
            public_key=public_key,
            state=KeyState(state),
            retired_at=retired_at,
            revoked_at=revoked_at,
        )

    def to_cbor_map(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kid": self.kid,
            "alg": self.alg,
            "spki": spki_der(self.public_key),
            "state": str(self.state),
        }
        if self.retired_at is not None:
            out["retired_at"] = self.retired_at
        if self.revoked_at is not None:
            out["revoked_at"] = self.revoked_at
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "kid": kid_to_text(self.kid),
            "alg": alg_name(self.alg),
            "state": str(self.state),
            "retired_at": None if self.retired_at is None else iso(self.retired_at),
            "revoked_at": None if self.revoked_at is None else iso(self.revoked_at),
            "jwk": public_key_to_jwk(self.public_key, kid=self.kid),
        }


@dataclass(frozen=True, slots=True)
class Issuer:
    """An accredited issuer (NGO) as listed in the trust list."""

    id: str
    display_name: str
    jurisdiction: str
    accredited_until: int | None
    state: IssuerState = IssuerState.ACTIVE
    keys: tuple[IssuerKey, ...] = ()

    def __post_init__(self) -> None:
        if type(self.id) is not str or not 1 <= len(self.id) <= 64 or not _ISSUER_RE.fullmatch(
            self.id
        ):
            raise _bad("issuer id must be 1-64 letters, digits, '.', '_', ':' or '-'")
        for what, value in (("display name", self.display_name),
                            ("jurisdiction", self.jurisdiction)):
            if type(value) is not str or not 1 <= len(value) <= 100:
                raise _bad(f"issuer {what} must be 1-100 characters")
        object.__setattr__(self, "state", IssuerState(self.state))
        until = self.accredited_until
        if until is not None and (type(until) is not int or not 0 <= until <= MAX_TIME):
            raise _bad("accredited_until must be a time up to year 9999")
        if len({(k.kid, spki_der(k.public_key)) for k in self.keys}) != len(self.keys):
            raise _bad("the same key is listed twice for one issuer")

    def to_cbor_map(self) -> dict[str, Any]:
        if self.accredited_until is None:
            raise _bad("a signed trust list needs an accreditation expiry for every issuer")
        return {
            "id": self.id,
            "name": self.display_name,
            "jurisdiction": self.jurisdiction,
            "accredited_until": self.accredited_until,
            "state": str(self.state),
            "keys": [k.to_cbor_map() for k in self.keys],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "display_name": self.display_name,
            "jurisdiction": self.jurisdiction,
            "accredited_until": None if self.accredited_until is None
            else iso(self.accredited_until),
            "state": str(self.state),
            "keys": [k.to_json() for k in self.keys],
        }


@dataclass(frozen=True, slots=True)
class TrustList:
    """The signed content: version, validity window and issuers."""

    version: int
    iat: int
    exp: int
    issuers: tuple[Issuer, ...]
    governance_id: str = DEFAULT_GOVERNANCE_ID

    def __post_init__(self) -> None:
        for what, value in (("version", self.version), ("iat", self.iat), ("exp", self.exp)):
            if type(value) is not int or not 0 <= value <= MAX_TIME:
                raise _bad(f"trust list {what} must be an unsigned integer")
        if self.exp <= self.iat:
            raise _bad("trust list exp must be after iat")
        ids = [i.id for i in self.issuers]
        if len(set(ids)) != len(ids):
            raise _bad("issuer ids must be unique")

    def to_cbor_map(self) -> dict[int, Any]:
        return {
            1: self.governance_id,
            4: self.exp,
            6: self.iat,
            CLAIM_TRUST_LIST: {
                "version": self.version,
                "issuers": [i.to_cbor_map() for i in self.issuers],
            },
        }

    def to_json(self) -> dict[str, Any]:
        """For people (the public trust-list page / download)."""
        return {
            "governance": self.governance_id,
            "version": self.version,
            "issued_at": iso(self.iat),
            "expires_at": iso(self.exp),
            "issuers": [i.to_json() for i in self.issuers],
        }

    def to_jwks(self, *, at: datetime | None = None) -> dict[str, Any]:
        """JWKS (RFC 7517) of the keys a pinning verifier may use.

        Only keys of active issuers (accredited at ``at``, if given) that are active or
        retired; revoked keys are left out. Private members: ``iss`` (issuer id),
        ``iss_name`` (display name) and, for retired keys, ``retired_at`` (NumericDate).
        A pinning verifier cannot tell a revoked key from an unknown one: prefer the
        signed trust list, which can.
        """
        now = None if at is None else timestamp(at)
        keys: list[dict[str, Any]] = []
        for issuer in self.issuers:
            if issuer.state != IssuerState.ACTIVE:
                continue
            if now is not None and issuer.accredited_until is not None and (
                now >= issuer.accredited_until
            ):
                continue
            for key in issuer.keys:
                if key.state == KeyState.REVOKED:
                    continue
                jwk: dict[str, Any] = dict(public_key_to_jwk(key.public_key, kid=key.kid))
                jwk.update({"alg": alg_name(key.alg), "use": "sig", "iss": issuer.id,
                            "iss_name": issuer.display_name})
                if key.retired_at is not None:
                    jwk["retired_at"] = key.retired_at
                keys.append(jwk)
        return {"keys": keys}

    @classmethod
    def from_cbor_map(cls, value: object) -> TrustList:
        if type(value) is not dict or value.keys() != _TOKEN_CLAIMS:
            raise _bad("trust list claims must be exactly 1, 4, 6 and -65538")
        body = value[CLAIM_TRUST_LIST]
        if type(body) is not dict or body.keys() != {"version", "issuers"}:
            raise _bad("trust list body must have exactly version and issuers")
        if type(body["issuers"]) is not list or type(value[1]) is not str:
            raise _bad("malformed trust list")
        return cls(
            version=body["version"],
            iat=value[6],
            exp=value[4],
            issuers=tuple(_issuer_from_cbor(i) for i in body["issuers"]),
            governance_id=value[1],
        )


def _opt_uint(value: Mapping[str, Any], name: str) -> int | None:
    if name not in value:
        return None
    item = value[name]
    if type(item) is not int or not 0 <= item <= MAX_TIME:
        raise _bad(f"{name} must be a time (unsigned integer up to year 9999)")
    return item


def _issuer_from_cbor(value: object) -> Issuer:
    required = {"id", "name", "jurisdiction", "accredited_until", "state", "keys"}
    if type(value) is not dict or value.keys() != required:
        raise _bad("an issuer entry must have exactly " + ", ".join(sorted(required)))
    if type(value["keys"]) is not list:
        raise _bad("issuer keys must be an array")
    try:
        state = IssuerState(value["state"])
    except ValueError:
        raise _bad("unknown issuer state") from None
    return Issuer(
        id=value["id"],
        display_name=value["name"],
        jurisdiction=value["jurisdiction"],
        accredited_until=_opt_uint(value, "accredited_until"),
        state=state,
        keys=tuple(_key_from_cbor(k) for k in value["keys"]),
    )


def _key_from_cbor(value: object) -> IssuerKey:
    if type(value) is not dict or not (
        {"kid", "alg", "spki", "state"} <= value.keys()
        <= {"kid", "alg", "spki", "state", "retired_at", "revoked_at"}
    ):
        raise _bad("a key entry must have kid, alg, spki, state (and retired_at/revoked_at)")
    if type(value["kid"]) is not bytes or type(value["spki"]) is not bytes:
        raise _bad("kid and spki must be byte strings")
    try:
        state = KeyState(value["state"])
        public_key = load_public_key(value["spki"])
    except (ValueError, KeyMaterialError):
        raise _bad("unknown key state or unreadable public key") from None
    return IssuerKey(
        kid=value["kid"],
        alg=value["alg"],
        public_key=public_key,
        state=state,
        retired_at=_opt_uint(value, "retired_at"),
        revoked_at=_opt_uint(value, "revoked_at"),
    )


def sign_trust_list(trust_list: TrustList, governance_key: PrivateKey, *, alg: int | None = None,
                    kid: bytes | None = None) -> bytes:
    """Sign the trust list with the governance key (COSE_Sign1, typ TRUST_LIST_TYP)."""
    payload = cbor2.dumps(trust_list.to_cbor_map(), canonical=True)
    return sign1(
        payload,
        governance_key,
        alg=default_alg(governance_key) if alg is None else alg,
        kid=kid_for(governance_key) if kid is None else kid,
        protected_extra={16: TRUST_LIST_TYP},
    )


def _verify_with_anchors(token: bytes, anchors: Sequence[PublicKey], typ: str) -> bytes:
    try:
        msg = decode_sign1(token)
    except CoseError as exc:
        raise _bad(f"not a COSE_Sign1: {exc.message}", "trust_list_malformed") from None
    if typ_of(msg) != typ:
        raise _bad(f"protected typ must be {typ!r}", "trust_list_wrong_type")
    last: CoseError | None = None
    # Anchors whose kid matches first, then the rest (a kid is a hint, never a filter for
    # correctness: the signature decides).
    ordered = sorted(anchors, key=lambda a: kid_for(a) != msg.kid)
    for anchor in ordered:
        try:
            verify_sign1(msg, anchor, algorithms=ACCEPTED_ALGS)
        except CoseError as exc:
            last = exc
            continue
        return msg.payload
    reason = last.message if last else "no governance key given"
    raise _bad(f"governance signature does not verify: {reason}", "trust_list_signature")


def _anchors(anchor: PublicKey | Sequence[PublicKey]) -> list[PublicKey]:
    return list(anchor) if isinstance(anchor, Sequence) else [anchor]


def verify_trust_list(
    token: bytes,
    anchor: PublicKey | Sequence[PublicKey],
    *,
    at: datetime,
    previous_version: int | None = None,
    skew_seconds: int = 300,
) -> TrustList:
    """Verify a signed trust list against the pinned governance key(s).

    Raises :class:`TrustListError` (codes ``trust_list_signature``, ``trust_list_expired``,
    ``trust_list_not_yet_valid``, ``trust_list_rollback``, ``trust_list_malformed``...).
    """
    payload = _verify_with_anchors(token, _anchors(anchor), TRUST_LIST_TYP)
    try:
        value = cbor2.loads(payload)
    except Exception:  # signed by governance, but still never trusted to be well-formed
        raise _bad("trust list payload is not CBOR", "trust_list_malformed") from None
    trust_list = TrustList.from_cbor_map(value)
    now = timestamp(at)
    if now >= trust_list.exp:
        raise _bad(f"trust list expired at {iso(trust_list.exp)}", "trust_list_expired")
    if trust_list.iat > now + skew_seconds:
        raise _bad("trust list is issued in the future", "trust_list_not_yet_valid")
    if previous_version is not None and trust_list.version < previous_version:
        raise _bad(
            f"trust list version {trust_list.version} is older than {previous_version}",
            "trust_list_rollback",
        )
    return trust_list


# ------------------------------------------------------------------ trust store
class TrustStore:
    """kid -> candidate (issuer, key) pairs, with the trust list's expiry if any.

    Build it with :meth:`from_trust_list` (preferred: carries issuer states, accreditation
    expiry and revoked keys) or :meth:`from_jwks` (keys pinned directly).
    """

    __slots__ = ("_by_kid", "issuers", "source", "valid_until", "version")

    def __init__(
        self,
        issuers: Iterable[Issuer],
        *,
        valid_until: int | None = None,
        version: int | None = None,
        source: str = "issuers",
    ) -> None:
        self.issuers: tuple[Issuer, ...] = tuple(issuers)
        self.valid_until = valid_until
        self.version = version
        self.source = source
        by_kid: dict[bytes, list[tuple[Issuer, IssuerKey]]] = {}
        for issuer in self.issuers:
            for key in issuer.keys:
                by_kid.setdefault(key.kid, []).append((issuer, key))
        self._by_kid = {kid: tuple(pairs) for kid, pairs in by_kid.items()}

    def candidates(self, kid: bytes) -> tuple[tuple[Issuer, IssuerKey], ...]:
        """Every listed key with this kid (several keys may share one)."""
        return self._by_kid.get(kid, ())

    def issuer(self, issuer_id: str) -> Issuer | None:
        for issuer in self.issuers:
            if issuer.id == issuer_id:
                return issuer
        return None

    @classmethod
    def from_trust_list(cls, trust_list: TrustList) -> TrustStore:
        return cls(trust_list.issuers, valid_until=trust_list.exp, version=trust_list.version,
                   source="trust_list")

    @classmethod
    def from_jwks(
        cls,
        jwks: Mapping[str, Any] | str | bytes,
        *,
        issuer_id: str | None = None,
        display_name: str | None = None,
        jurisdiction: str = "unknown",
    ) -> TrustStore:
        """Pinned keys. Each JWK names its issuer in ``iss`` (as :meth:`TrustList.to_jwks`
        writes), or ``issuer_id`` applies to keys without one. Keys are active unless the
        JWK carries ``retired_at``; there is no accreditation expiry in this mode."""
        if isinstance(jwks, str | bytes):
            try:
                jwks = json.loads(jwks)
            except ValueError:
                raise KeyMaterialError("JWKS is not JSON") from None
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise KeyMaterialError('a JWKS is an object with a "keys" array')
        grouped: dict[str, list[IssuerKey]] = {}
        names: dict[str, str] = {}
        for jwk in jwks["keys"]:
            if not isinstance(jwk, Mapping):
                raise KeyMaterialError("JWKS keys must be objects")
            owner = jwk.get("iss", issuer_id)
            if not isinstance(owner, str):
                raise KeyMaterialError("JWK without 'iss' and no issuer_id given")
            public_key = public_key_from_jwk(jwk)
            kid_text = jwk.get("kid")
            if not isinstance(kid_text, str) or not kid_text:
                raise KeyMaterialError("every pinned JWK needs a kid")
            kid = b64url_decode(kid_text, "kid")
            jwk_alg = jwk.get("alg")
            expected = {ALG_ED25519: ("Ed25519", "EdDSA", None), ALG_ES256: ("ES256", None)}
            alg = default_alg(public_key)
            if jwk_alg not in expected[alg]:
                raise KeyMaterialError(f"JWK alg {jwk_alg!r} does not fit its key type")
            retired_at = jwk.get("retired_at")
            if retired_at is not None and (type(retired_at) is not int or retired_at < 0):
                raise KeyMaterialError("retired_at must be a NumericDate")
            grouped.setdefault(owner, []).append(
                IssuerKey(
                    kid=kid,
                    alg=alg,
                    public_key=public_key,
                    state=KeyState.RETIRED if retired_at is not None else KeyState.ACTIVE,
                    retired_at=retired_at,
                )
            )
            name = jwk.get("iss_name")
            if isinstance(name, str) and name:
                names.setdefault(owner, name)
        issuers = [
            Issuer(
                id=owner,
                display_name=names.get(owner) or display_name or owner,
                jurisdiction=jurisdiction,
                accredited_until=None,
                keys=tuple(keys),
            )
            for owner, keys in grouped.items()
        ]
        return cls(issuers, source="jwks")


# ------------------------------------------------------------------ governance rollover
def sign_rollover(
    current_key: PrivateKey,
    new_key: PrivateKey,
    *,
    iat: int,
    governance_id: str = DEFAULT_GOVERNANCE_ID,
) -> bytes:
    """Announcement of a new governance key, signed by the current (pinned) one.

    The payload carries the new key's SPKI and a proof of possession: the new key's
    signature over a fixed context, the current kid, the new SPKI and ``iat``. Banks that
    pin the current key verify this once with :func:`verify_rollover` and then pin the
    new key.
    """
    new_spki = spki_der(new_key)
    current_kid = kid_for(current_key)
    pop_message = _ROLLOVER_POP_CONTEXT + current_kid + new_spki + iat.to_bytes(8, "big")
    pop = sign1(pop_message, new_key, alg=default_alg(new_key), kid=kid_for(new_key))
    payload = cbor2.dumps(
        {1: governance_id, 6: iat, CLAIM_ROLLOVER: {"new_spki": new_spki, "pop": pop}},
        canonical=True,
    )
    return sign1(payload, current_key, alg=default_alg(current_key), kid=current_kid,
                 protected_extra={16: ROLLOVER_TYP})


def verify_rollover(token: bytes, current: PublicKey) -> PublicKey:
    """Check an announcement against the pinned key; return the new governance key."""
    payload = _verify_with_anchors(token, [current], ROLLOVER_TYP)
    try:
        value = cbor2.loads(payload)
        body = value[CLAIM_ROLLOVER]
        new_spki, pop, iat = body["new_spki"], body["pop"], value[6]
        if type(new_spki) is not bytes or type(pop) is not bytes or type(iat) is not int:
            raise TypeError
        new_key = load_public_key(new_spki)
    except Exception:
        raise _bad("malformed rollover announcement", "rollover_malformed") from None
    expected = (_ROLLOVER_POP_CONTEXT + kid_for(current) + new_spki + iat.to_bytes(8, "big"))
    try:
        pop_msg = decode_sign1(pop)
        if pop_msg.payload != expected:
            raise CoseError("proof of possession covers other data", code="signature_invalid")
        verify_sign1(pop_msg, new_key, algorithms=ACCEPTED_ALGS)
    except CoseError as exc:
        raise _bad(f"new key's proof of possession fails: {exc.message}",
                   "rollover_pop_invalid") from None
    return new_key


def follow_rollovers(pinned: PublicKey, announcements: Iterable[bytes]) -> PublicKey:
    """The governance key in force for a verifier that pinned ``pinned``.

    Starting from the pinned key, each announcement signed by the key in force (and carrying
    the new key's proof of possession) moves it on; announcements that do not verify against
    the key in force are ignored, so a forged or foreign one changes nothing. Only the key at
    the end of the chain is returned: once a key has been rolled over, a trust list signed
    by it is no longer accepted (a retired governance key must not keep that power). This is
    for planned rotation; a *compromised* governance key could announce a successor of its
    own, so after a compromise banks re-pin out of band. Two different successors announced
    by one key (a fork: someone else holds that key too) raise ``rollover_fork``: the
    verifier cannot tell which is genuine and must not pick by the order of a file."""
    key = pinned
    pending = list(announcements)
    while pending:
        successors = []
        for token in pending:
            try:
                successors.append((token, verify_rollover(token, key)))
            except TrustListError:
                continue
        if not successors:
            break  # nothing left that the key in force signed
        if len({spki_der(new) for _, new in successors}) > 1:
            raise _bad("two different successors were announced for one governance key",
                       "rollover_fork")
        key = successors[0][1]
        used = {token for token, _ in successors}
        pending = [token for token in pending if token not in used]
    return key
