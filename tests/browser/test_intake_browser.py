"""Issue 3, done-when 1: a caseworker walks the whole wizard in Chromium (an uploaded
photo stands in for the camera) and issues; the PDF card, rendered to an image, yields a
QR that verifies with the issuer's public key, matches the claims contract, and that
python-cwt (an independent implementation) decodes too."""

from __future__ import annotations

import re
import time
import zlib
from datetime import UTC, datetime

import pyotp
from playwright.sync_api import expect

from tests.app.intake_helpers import jpeg_with_gps, trust_store
from tests.browser.flows import submit


def make_caseworker(app):
    """A certified caseworker of a new NGO with a signing key."""
    from datetime import timedelta

    from sqlalchemy import select

    from onboarding import issuer
    from onboarding.audit import Actor
    from onboarding.clock import now
    from onboarding.intake import operations as ops
    from onboarding.models import Organisation, User
    from tests.browser.flows import new_org, staff_user

    org_id = new_org(app, "ngo", "Harbour", "Harbour Community Trust")
    email, password, totp = staff_user(app, org_id, "caseworker", "Casey Worker")
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        ops.certify(db, Actor(), user, now().date() - timedelta(days=1),
                    now().date() + timedelta(days=300))
        issuer.generate_key(db, Actor(), app.extensions["onboarding.keyring"],
                            db.get(Organisation, org_id))
    return email, password, totp


def fresh_code(totp: pyotp.TOTP, used: set[str]) -> str:
    """TOTP codes work once: wait for the next step if this one was used."""
    while True:
        code = totp.now()
        if code not in used:
            used.add(code)
            return code
        time.sleep(max(0.2, 30 - time.time() % 30 + 0.3))


def wizard_to_card(page, live_app, tmp_path, totp_state=None):
    """Sign in as a new certified caseworker, walk the wizard, issue, download the card.
    Returns (pdf_path, email, password, totp, used_codes, attestation_url)."""
    base = live_app.config["LIVE_URL"]
    email, password, totp = make_caseworker(live_app)
    used: set[str] = set() if totp_state is None else totp_state
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label(re.compile("Code from your authenticator app")).fill(fresh_code(totp, used))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/home$"))
    page.click("#go-caseload")
    page.click("#start-intake")
    # 1 consent
    assert "Your identity card" in page.inner_text("#consent-text")
    for box in page.locator("input[name=purposes]").all():
        box.check()
    page.get_by_label("Read aloud and agreed verbally").check()
    page.get_by_label(re.compile("understood and agreed freely")).check()
    page.get_by_role("button", name="Record consent and continue").click()
    # 2 identity, with a mistake first: the error is shown and the typed names are kept
    page.wait_for_url(re.compile("/identity$"))
    page.get_by_label("Names as the person uses them").fill("Amina Yusuf\nآمنة يوسف")
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month (1-12)").fill("2")
    page.get_by_label("Year of birth").fill("1994")
    submit(page, page.get_by_role("button", name="Save and continue"))
    expect(page.get_by_text("That date does not exist").first).to_be_visible()
    assert "آمنة يوسف" in page.get_by_label("Names as the person uses them").input_value()
    page.get_by_label("Day").fill("28")
    page.get_by_label(re.compile("Nationality")).fill("NGA")
    page.get_by_role("button", name="Save and continue").click()
    # 3 photo (upload instead of the camera)
    page.wait_for_url(re.compile("/photo$"))
    photo = tmp_path / "me.jpg"
    photo.write_bytes(jpeg_with_gps())
    page.set_input_files("#photo", str(photo))
    page.get_by_role("button", name="Use this photo and continue").click()
    # 4 evidence
    page.wait_for_url(re.compile("/evidence$"))
    page.get_by_label("Evidence", exact=True).select_option("gov_status_letter")
    page.get_by_label("How it was checked").select_option("authoritative_source")
    page.get_by_role("button", name="Add this evidence").click()
    assert "IAL1" in page.inner_text("#assurance")
    page.click("#evidence-continue")
    # 5 referee session
    page.wait_for_url(re.compile("/referee$"))
    page.get_by_label("Why a trusted referee was needed").select_option("no_documents")
    page.get_by_role("button", name="Save and review").click()
    # 6 review and issue, with step-up
    page.wait_for_url(re.compile("/review$"))
    assert "Amina Yusuf" in page.inner_text("#review-names")
    page.click("#issue")
    page.wait_for_url(re.compile("/account/confirm"))
    page.get_by_label("Password").fill(password)
    page.get_by_label(re.compile("Code from your authenticator app")).fill(fresh_code(totp, used))
    page.get_by_role("button", name="Confirm it is you").click()
    page.wait_for_url(re.compile("/review$"))
    page.click("#issue")
    page.wait_for_url(re.compile("/intake/attestations/"))
    expect(page.locator("#attestation-qr")).to_be_visible()
    expect(page.locator("#attestation-status")).to_have_text("active")
    with page.expect_download() as dl:
        page.click("#card-pdf")
    pdf_path = tmp_path / "card.pdf"
    dl.value.save_as(pdf_path)

    return pdf_path, email, password, totp, used, page.url


def test_wizard_issue_card_qr_verifies(page, live_app, tmp_path):
    import pypdfium2
    import zxingcpp
    from cryptography.hazmat.primitives.serialization import load_der_public_key
    from cwt import COSE, COSEKey
    from sqlalchemy import select

    from onboarding.attestation import b45decode, decode_claims, dump_public_key_pem
    from onboarding.attestation.verify import verify
    from onboarding.models import IssuerKey

    pdf_path, *_ = wizard_to_card(page, live_app, tmp_path)
    # The printed card → image → QR text
    texts = []
    pdf = pypdfium2.PdfDocument(str(pdf_path))
    for i in range(len(pdf)):
        bitmap = pdf[i].render(scale=300 / 72)
        texts += [b.text for b in zxingcpp.read_barcodes(bitmap.to_pil())]
    pdf.close()
    qr = next(t for t in texts if t.startswith("ID1:"))
    result = verify(qr, trust=trust_store(live_app), status=None, at=datetime.now(UTC))
    assert result.result == "valid", result.to_json()
    cose = zlib.decompress(b45decode(qr[4:]))
    from onboarding.attestation import decode_sign1

    claims = decode_claims(decode_sign1(cose).payload)
    assert claims.attested.names == ("Amina Yusuf", "آمنة يوسف")
    assert claims.attested.dob == "1994-02-28" and claims.attested.nationality == "NGA"
    assert claims.attested.assurance == 1 and 8 in claims.attested.evidence
    assert 4 not in claims.attested.evidence  # the revealing category never goes in a QR
    assert claims.attested.thumbnail and len(claims.attested.thumbnail) <= 360
    assert len(claims.cti) == 16
    # python-cwt, independently
    with live_app.extensions["onboarding.sessionmaker"]() as db:
        key_row = db.execute(select(IssuerKey)).scalar_one()
    pem = dump_public_key_pem(load_der_public_key(key_row.public_key_der))
    key = COSEKey.from_pem(pem, alg="Ed25519", kid=key_row.kid)
    import cbor2

    payload = cbor2.loads(COSE.new().decode(cose, key))
    assert payload[-65537][1] == ["Amina Yusuf", "آمنة يوسف"]
    assert set(payload) == {1, 4, 5, 6, 7, 65535, -65537}
