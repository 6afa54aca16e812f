"""Issue 4, done-when 1: issue as a caseworker, verify as a teller by uploading a photo
of the card (and by filming it with a fake camera), see the photo and verdict; revoke as
the NGO; after the status list is republished the teller sees "revoked"."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pyotp
from PIL import Image, ImageFilter
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.flows import submit
from tests.browser.test_intake_browser import fresh_code, wizard_to_card


def accredit_and_publish(app) -> None:
    from sqlalchemy import select

    from onboarding import trust
    from onboarding.models import Organisation
    from onboarding.models.core import OrgKind

    trust.generate_governance_key(trust.governance_key_path(Path(app.instance_path)),
                                  app.extensions["onboarding.keyring"])
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        for org in db.execute(select(Organisation).where(Organisation.kind == OrgKind.NGO)
                              ).scalars():
            org.accredited_until = (org.created_at + timedelta(days=365)).date()
    publish(app)


def publish(app) -> None:
    r = app.test_cli_runner().invoke(args=["jobs", "run", "--force"])
    assert r.exit_code == 0, r.output


def make_teller(app) -> tuple[str, str, pyotp.TOTP]:
    from tests.browser.flows import new_org, staff_user

    return staff_user(app, new_org(app, "bank", "Northbridge", "Northbridge Bank"),
                      "verifier", "Terry Teller")


def sign_in(page, base, email, password, totp, used) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    submit(page, page.get_by_role("button", name="Sign in"))
    page.get_by_label(re.compile("Code from your authenticator app")).fill(fresh_code(totp, used))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/home$"))


def card_photo(pdf_path: Path, out: Path) -> Path:
    """A 'phone photo' of the printed card: rendered, slightly rotated and blurred."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(pdf_path))
    img = pdf[0].render(scale=300 / 72).to_pil().convert("RGB")
    pdf.close()
    img = img.rotate(4, expand=True, fillcolor=(235, 235, 230)).filter(
        ImageFilter.GaussianBlur(0.8))
    img.save(out, "JPEG", quality=88)
    return out


def teller_upload(page, base, photo: Path) -> str:
    page.goto(base + "/bank/verify")
    page.set_input_files("#image", str(photo))
    submit(page, "#check")
    return page.inner_text("#verdict-word")


def test_issue_verify_by_photo_revoke_and_see_revoked(page, browser, live_app, tmp_path):
    base = live_app.config["LIVE_URL"]
    pdf_path, _e, _p, _t, _used, att_url = wizard_to_card(page, live_app, tmp_path)
    accredit_and_publish(live_app)
    photo = card_photo(pdf_path, tmp_path / "photo.jpg")

    teller_ctx = browser.new_context(locale="en-GB")
    teller = teller_ctx.new_page()
    teller.set_default_timeout(15000)
    email, password, totp = make_teller(live_app)
    sign_in(teller, base, email, password, totp, set())
    assert "Valid" in teller_upload(teller, base, photo)
    expect(teller.locator("#signed-photo")).to_be_visible()
    assert teller.eval_on_selector("#signed-photo", "i => i.complete && i.naturalWidth > 0")
    assert "Harbour Community Trust" in teller.inner_text("#result-issuer")
    assert "Amina Yusuf" in teller.inner_text("#result-names")

    # The NGO revokes (the caseworker's step-up is still fresh from issuing).
    page.goto(att_url)
    page.select_option("select[name=reason]", "lost")
    submit(page, "#revoke")
    expect(page.locator("#attestation-status")).to_have_text("revoked")
    # Before the list is republished the teller still sees the old status (and its age) ...
    assert "Valid" in teller_upload(teller, base, photo)
    publish(live_app)
    # ... and after it, "revoked".
    verdict = teller_upload(teller, base, photo)
    assert "Revoked" in verdict
    assert "Refer the person back" in teller.inner_text("#verdict")
    teller_ctx.close()


def write_y4m(image: Image.Image, path: Path, frames: int = 30) -> None:
    """A YUV4MPEG2 (4:2:0) video of a still image, for Chromium's fake camera."""
    w, h = image.size
    img = image.convert("RGB")
    y, cb, cr = img.convert("YCbCr").split()
    cb = cb.resize((w // 2, h // 2))
    cr = cr.resize((w // 2, h // 2))
    frame = y.tobytes() + cb.tobytes() + cr.tobytes()
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + frame)


def test_camera_scan_with_a_filmed_card(playwright_instance, live_app, tmp_path, page):
    """The camera path: Chromium's fake camera plays a film of the card; jsQR decodes it."""
    from onboarding.attestation.qr import render_png

    base = live_app.config["LIVE_URL"]
    pdf_path, *_ = wizard_to_card(page, live_app, tmp_path)
    accredit_and_publish(live_app)
    from sqlalchemy import select

    from onboarding.models import Attestation
    from tests.app.test_intake import qr_of

    with live_app.extensions["onboarding.sessionmaker"]() as db:
        att = db.execute(select(Attestation)).scalar_one()
    png, _v = render_png(qr_of(live_app, att.id), medium="screen")
    qr_img = Image.open(__import__("io").BytesIO(png))
    canvas = Image.new("RGB", (1280, 720), (250, 250, 250))
    qr_img = qr_img.convert("RGB").resize((680, 680), Image.NEAREST)
    canvas.paste(qr_img, (300, 20))
    video = tmp_path / "card.y4m"
    write_y4m(canvas, video)
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
    try:
        ctx = browser.new_context(locale="en-GB")
        ctx.grant_permissions(["camera"], origin=base)
        teller = ctx.new_page()
        teller.set_default_timeout(20000)
        email, password, totp = make_teller(live_app)
        sign_in(teller, base, email, password, totp, set())
        teller.goto(base + "/bank/verify")
        teller.click("#scan-start")
        try:
            teller.wait_for_selector("#verdict-word")
        except Exception:
            teller.screenshot(path=str(tmp_path / "scan-fail.png"))
            print("scan status:", teller.inner_text("#scan-status"))
            raise
        assert "Valid" in teller.inner_text("#verdict-word")
        expect(teller.locator("#signed-photo")).to_be_visible()
        ctx.close()
    finally:
        browser.close()
    assert pdf_path.exists()
