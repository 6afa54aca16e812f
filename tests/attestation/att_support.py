"""Shared builders for the attestation-core tests: keys, a trust list, status lists and
attestations, all at a fixed time. Canary PII as in tests/conftest.py (DOB 1911-11-11 and a
unique name) so that leaks can be grepped for."""

from __future__ import annotations

import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from onboarding.attestation import (
    ALG_ED25519,
    ALG_ES256,
    Attested,
    Issuer,
    IssuerKey,
    IssuerState,
    KeyState,
    StatusList,
    StatusStore,
    TrustList,
    TrustStore,
    generate_private_key,
    issue,
    kid_for,
    sign_status_list,
    sign_trust_list,
    verify_status_list,
)
from onboarding.attestation.keys import PrivateKey

VECTORS = Path("/work/shared/vectors")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
DAY = 86400
CANARY_NAME = "Zyxwvu Canaryname"
CANARY_DOB = "1911-11-11"
STATUS_URI = "https://st.example.org/a/1"
FORBIDDEN_WORDS = ("survivor", "victim", "trafficking", "trafficked", "case note", "address",
                   "caseworker")


def jpeg_thumbnail(size: int = 400) -> bytes:
    """A real JPEG from Pillow, padded with a COM segment to exactly ``size`` bytes."""
    from PIL import Image

    image = Image.new("L", (24, 32), 128)
    for x in range(24):
        for y in range(32):
            image.putpixel((x, y), (x * 7 + y * 5) % 256)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=20)
    data = out.getvalue()
    assert len(data) + 4 <= size, len(data)
    pad = size - len(data) - 4  # FFFE + 2-byte length + payload, inserted after SOI
    comment = b"\xff\xfe" + (pad + 2).to_bytes(2, "big") + secrets.token_bytes(pad)
    return data[:2] + comment + data[2:]


def canary_attested(**overrides: Any) -> Attested:
    fields: dict[str, Any] = {
        "names": (CANARY_NAME,),
        "dob": CANARY_DOB,
        "assurance": 1,
        "evidence": (1, 2),
        "referee_session": 1,
        "references": 0,
        "nationality": "XXA",
        "languages": ("es",),
    }
    fields.update(overrides)
    return Attested(**fields)


@dataclass
class World:
    """A governance key, two issuers (Ed25519 and ES256 keys), their trust list."""

    governance: PrivateKey
    keys: dict[str, PrivateKey]
    issuers: dict[str, Issuer]
    trust_list: TrustList
    trust_token: bytes
    status_lists: dict[str, StatusList] = field(default_factory=dict)

    @property
    def trust(self) -> TrustStore:
        return TrustStore.from_trust_list(self.trust_list)

    def issue(self, key_name: str = "a", *, issuer_id: str | None = None,
              attested: Attested | None = None, iat: int = TS - DAY,
              exp: int = TS + 365 * DAY, idx: int = 4242, uri: str = STATUS_URI,
              **kw: Any) -> str:
        key = self.keys[key_name]
        return issue(
            attested or canary_attested(),
            issuer_id=issuer_id or self.owner(key_name),
            signing_key=key,
            status_idx=idx,
            status_uri=uri,
            iat=iat,
            exp=exp,
            **kw,
        )

    def owner(self, key_name: str) -> str:
        return {"a": "ngo-a", "a_old": "ngo-a", "b": "ngo-b", "es": "ngo-b"}[key_name]

    def status_token(self, key_name: str = "a", *, uri: str = STATUS_URI,
                     changes: dict[int, int] | None = None, iat: int = TS - 60,
                     exp: int = TS + DAY, ttl: int = 3600) -> bytes:
        lst = StatusList()
        for idx, value in (changes or {}).items():
            lst.set(idx, value)
        key = self.keys[key_name]
        alg = ALG_ES256 if key_name == "es" else ALG_ED25519
        return sign_status_list(lst, uri=uri, issuer_id=self.owner(key_name), signing_key=key,
                                kid=kid_for(key), alg=alg, iat=iat, exp=exp, ttl=ttl)

    def status_store(self, **kw: Any) -> StatusStore:
        return StatusStore([verify_status_list(self.status_token(**kw), self.trust)])


def make_world(
    *,
    issuer_a_state: IssuerState = IssuerState.ACTIVE,
    accredited_until: int = TS + 400 * DAY,
    key_a_state: KeyState = KeyState.ACTIVE,
    old_key_retired_at: int = TS - 10 * DAY,
    trust_exp: int = TS + 30 * DAY,
) -> World:
    keys: dict[str, PrivateKey] = {
        "a": generate_private_key(ALG_ED25519),
        "a_old": generate_private_key(ALG_ED25519),
        "b": generate_private_key(ALG_ED25519),
        "es": generate_private_key(ALG_ES256),
    }
    governance = generate_private_key(ALG_ED25519)
    key_a = IssuerKey.from_public_key(
        keys["a"].public_key(), state=key_a_state,
        retired_at=TS - DAY if key_a_state == KeyState.RETIRED else None,
        revoked_at=TS - DAY if key_a_state == KeyState.REVOKED else None,
    )
    issuers = {
        "ngo-a": Issuer(
            id="ngo-a", display_name="Community Services A", jurisdiction="ES",
            accredited_until=accredited_until, state=issuer_a_state,
            keys=(key_a, IssuerKey.from_public_key(keys["a_old"].public_key(),
                                                   state=KeyState.RETIRED,
                                                   retired_at=old_key_retired_at)),
        ),
        "ngo-b": Issuer(
            id="ngo-b", display_name="Community Services B", jurisdiction="PT",
            accredited_until=TS + 400 * DAY,
            keys=(IssuerKey.from_public_key(keys["b"].public_key()),
                  IssuerKey.from_public_key(keys["es"].public_key())),
        ),
    }
    trust_list = TrustList(version=7, iat=TS - DAY, exp=trust_exp,
                           issuers=tuple(issuers.values()))
    return World(governance, keys, issuers, trust_list, sign_trust_list(trust_list, governance))


def vector(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / path).read_text())
    return data


def ts(dt: datetime) -> int:
    return int(dt.timestamp())


def days(n: float) -> timedelta:
    return timedelta(days=n)
