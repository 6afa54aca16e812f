"""Walk the intake wizard with the test client, as a caseworker would."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta
from typing import Any

from PIL import Image

from onboarding import mfa
from tests.conftest import CANARY_DOB, CANARY_NAME, CANARY_NOTE, csrf_from


def jpeg_with_gps() -> bytes:
    """A portrait test photo carrying GPS EXIF, which must not survive."""
    img = Image.new("RGB", (600, 800), (200, 170, 150))
    for y in range(200, 500):
        for x in range(200, 400, 4):
            img.putpixel((x, y), (90, 60, 50))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    exif[0x010E] = "CANARY-EXIF-DESCRIPTION"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif, quality=90)
    return buf.getvalue()


def certify(app: Any, who: Any) -> None:
    from sqlalchemy import select

    from onboarding.audit import Actor
    from onboarding.clock import now
    from onboarding.intake import operations as ops
    from onboarding.models import User

    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        user = db.execute(select(User).where(User.id == who.id)).scalar_one()
        ops.certify(db, Actor(), user, now().date() - timedelta(days=30),
                    now().date() + timedelta(days=335))


def ensure_key(app: Any, org_id: Any) -> None:
    from onboarding import issuer
    from onboarding.audit import Actor
    from onboarding.models import Organisation

    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        org = db.get(Organisation, org_id)
        if not issuer.active_keys(db, org.id):
            issuer.generate_key(db, Actor(), app.extensions["onboarding.keyring"], org)


def person_id_from(location: str) -> uuid.UUID:
    m = re.search(r"/intake/([0-9a-f-]{36})/", location)
    assert m, location
    return uuid.UUID(m.group(1))


def enrol(c: Any, *, names: str = CANARY_NAME, dob: tuple[int, int, int] = (1911, 11, 11),
          evidence: list[tuple[str, str, str]] | None = None, seen: list[str] | None = None,
          lang: str = "en", photo: bytes | None = None) -> uuid.UUID:
    """Consent → identity → photo → evidence → referee. Returns the person id."""
    page = c.get(f"/intake/new?lang={lang}").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    r = c.post("/intake/new", {"token": token, "language": lang,
                               "purposes": ["identity_attestation", "bank_sharing",
                                            "safeguarding_contact"],
                               "method": "read_aloud", "agreed": "y",
                               "csrf_token": csrf_from(page)})
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    pid = person_id_from(r.headers["Location"])
    y, m, d = dob
    r = c.post(f"/intake/{pid}/identity", {
        "names": names, "other_names": "", "dob_precision": "full", "dob_year": str(y),
        "dob_month": str(m), "dob_day": str(d), "dob_approximate": "y",
        "birth_place": "Canarytown", "nationality": "GBR", "languages": "en, es",
        "csrf_token": csrf_from(page)})
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    r = c.post(f"/intake/{pid}/photo", {"photo": (io.BytesIO(photo or jpeg_with_gps()),
                                                  "me.jpg"), "csrf_token": csrf_from(page)},
               content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    for kind, validation, result in evidence or [
            ("referee_interview", "visual_only", "validated"),
            ("gov_status_letter", "authoritative_source", "validated")]:
        r = c.post(f"/intake/{pid}/evidence", {
            "kind": kind, "validation": validation, "result": result,
            "details": CANARY_NOTE, "liability_ack": "y", "reference_ial": "1",
            "relationship": "support_worker", "csrf_token": csrf_from(page)})
        assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    r = c.post(f"/intake/{pid}/referee", {
        "mode": "1", "reason": "no_documents", "detail": CANARY_NOTE,
        "checked": ["third_party_speaks", "documents_held"], "seen": seen or [],
        "csrf_token": csrf_from(page)})
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    return pid


def step_up(c: Any, who: Any) -> None:
    c.clock.advance(seconds=30)
    page = c.get("/account/confirm")
    r = c.post("/account/confirm", {"password": who.password,
                                    "code": mfa.code_at(who.totp_secret),
                                    "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 303


def issue(c: Any, who: Any, pid: str) -> Any:
    step_up(c, who)
    return c.post(f"/intake/{pid}/issue", {"csrf_token": c.token("/home")})


def trust_store(app: Any) -> Any:
    """What a bank would have: the issuers' public keys (built from the registry)."""
    from sqlalchemy import select

    from onboarding.attestation.keys import load_public_key
    from onboarding.attestation.trustlist import Issuer, IssuerKey, KeyState, TrustStore
    from onboarding.models import IssuerKey as KeyRow
    from onboarding.models import Organisation

    issuers = []
    with app.extensions["onboarding.sessionmaker"]() as db:
        for org in db.execute(select(Organisation).where(Organisation.issuer_id.is_not(None))
                              ).scalars():
            keys = []
            for row in db.execute(select(KeyRow).where(KeyRow.org_id == org.id)).scalars():
                from cryptography.hazmat.primitives.serialization import load_der_public_key

                pub = load_der_public_key(row.public_key_der)
                state = {"active": KeyState.ACTIVE, "retired": KeyState.RETIRED,
                         "revoked": KeyState.REVOKED}[row.state.value]
                keys.append(IssuerKey(kid=row.kid, alg=row.alg, public_key=pub, state=state,
                                      retired_at=int(row.retired_at.timestamp())
                                      if row.retired_at and state == KeyState.RETIRED
                                      else None))
            issuers.append(Issuer(id=org.issuer_id, display_name=org.display_name,
                                  jurisdiction=org.jurisdiction, accredited_until=None,
                                  keys=tuple(keys)))
    _ = load_public_key
    return TrustStore(issuers)


__all__ = ["CANARY_DOB", "CANARY_NAME", "CANARY_NOTE"]
