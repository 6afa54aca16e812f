"""Issue 6, done-when 1, in Chromium: a teller verifies and opens a case the policy refers
(a possible sanctions match); officer A marks no-hit and proposes T1; A cannot approve
their own proposal; officer B approves; the decision, both officers and the policy version
appear in the audit trail and on the dashboard."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from pathlib import Path

from tests.browser.flows import new_org, staff_user
from tests.browser.test_bank_browser import accredit_and_publish, sign_in


class RealClock:
    """The live server runs on the real clock; TOTP codes are single-use per step."""

    def advance(self, **_kw: float) -> None:
        time.sleep(max(0.0, 30 - time.time() % 30) + 0.3)


def issued_qr(app) -> str:
    """An attestation for the canary person, issued through the app (test client)."""
    from tests.app.intake_helpers import certify, enrol, ensure_key, step_up
    from tests.app.test_intake import qr_of
    from tests.conftest import Staff, StaffClient

    org_id = new_org(app, "ngo", "Harbour", "Harbour Community Trust")
    email, password, totp = staff_user(app, org_id, "caseworker", "Casey Worker")
    from sqlalchemy import select

    from onboarding.models import User

    with app.extensions["onboarding.sessionmaker"]() as db:
        uid = db.execute(select(User.id).where(User.email == email)).scalar_one()
    who = Staff(uid, org_id, email, password, "caseworker", totp.secret)
    certify(app, who)
    ensure_key(app, org_id)
    c = StaffClient(app, RealClock())
    c.login(who)
    pid = enrol(c)
    step_up(c, who)
    r = c.post(f"/intake/{pid}/issue", {"csrf_token": c.token("/home")})
    import uuid

    return qr_of(app, uuid.UUID(r.headers["Location"].rsplit("/", 1)[1]))


def test_four_eyes_review_in_the_browser(browser, live_app, tmp_path):

    base = live_app.config["LIVE_URL"]
    qr = issued_qr(live_app)
    accredit_and_publish(live_app)
    bank_id = new_org(live_app, "bank", "Northbridge", "Northbridge Bank")
    people = {role: staff_user(live_app, bank_id, role, name) for role, name in (
        ("bank_admin", "Bo Admin"), ("verifier", "Terry Teller"),
        ("compliance_officer", "Ada Officer"))}
    officer_b = staff_user(live_app, bank_id, "compliance_officer", "Ben Officer")

    def page_for(who) -> object:
        ctx = browser.new_context(locale="en-GB")
        pg = ctx.new_page()
        pg.set_default_timeout(20000)
        sign_in(pg, base, *who, set())
        return pg

    # the bank admin loads a sanctions list with a near-namesake
    admin = page_for(people["bank_admin"])
    admin.goto(base + "/compliance/screening-lists")
    listing = tmp_path / "list.csv"
    listing.write_text("name,aliases,date_of_birth,nationality\n"
                       "Zyxwvu Kanaryname,,1911,GBR\n")
    admin.get_by_label("List name").fill("sanctions")
    admin.set_input_files("#file", str(listing))
    admin.get_by_role("button", name="Upload and re-screen open cases").click()
    assert "sanctions" in admin.inner_text("#lists")

    # the teller verifies and opens the case: referred
    teller = page_for(people["verifier"])
    teller.goto(base + "/bank/verify")
    teller.get_by_label("QR text").fill(qr)
    teller.click("#check")
    assert "Valid" in teller.inner_text("#verdict-word")
    teller.click("#open-case")
    assert "Referred to compliance" in teller.inner_text("#case-outcome")
    case_url = teller.url.replace("/bank/cases/", "/compliance/cases/")

    # officer A: no-hit, then proposes T1
    a = page_for(people["compliance_officer"])
    a.goto(base + "/compliance/?q=referred")
    a.locator("#queue a").first.click()
    assert "Zyxwvu Kanaryname" in a.inner_text("#hits")
    a.click("#no-hit-1")
    if not a.locator("#propose").is_visible():
        a.get_by_text("Propose an override, upgrade or decline").click()
    a.get_by_label("Decision").select_option("approve")
    a.get_by_label("Tier").select_option("T1")
    a.get_by_label("Reason").select_option("screening_cleared")
    a.get_by_label("Justification").fill("Different person: the designee is decades older.")
    a.click("#propose")
    a.click("#approve-proposal")
    assert "cannot approve your own" in a.inner_text("#refusal")

    # officer B approves
    b = page_for(officer_b)
    b.goto(case_url)
    b.click("#approve-proposal")
    assert "approve T1" in b.inner_text("#decision")
    trail = b.inner_text("#case-audit")
    assert "Ada Officer" in trail and "Ben Officer" in trail
    assert "foureyes.propose" in trail and "foureyes.approve" in trail
    assert "case.decide" in trail
    assert "default" in b.inner_text("#recommendation")  # the policy that made it
    # and on the dashboard
    b.goto(base + "/compliance/reports/")
    dashboard = b.inner_text("main")
    assert "Ben Officer" in dashboard or "Ada Officer" in dashboard
    assert "T1" in dashboard
    _ = (io, Path, timedelta)
