"""Issue 6, done-when 1, in Chromium: a teller verifies and opens a case the policy refers
(a possible sanctions match); officer A marks no-hit and proposes T1; A cannot approve
their own proposal; officer B approves; the decision, both officers and the policy version
appear in the audit trail and on the dashboard."""

from __future__ import annotations

import io
import time
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.flows import new_org, staff_user, submit
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


class BankScene:
    """An issued card, a bank with an admin, a teller and two officers (each signed in
    through the real login page when first used), and a screening list loaded."""

    def __init__(self, browser, live_app, tmp_path, bank: str, names: dict[str, str],
                 listing_csv: str) -> None:
        self.browser, self.base = browser, live_app.config["LIVE_URL"]
        self.qr = issued_qr(live_app)
        accredit_and_publish(live_app)
        bank_id = new_org(live_app, "bank", bank, f"{bank} Bank")
        self.people = {key: staff_user(live_app, bank_id, role, names[key]) for key, role in (
            ("bank_admin", "bank_admin"), ("verifier", "verifier"),
            ("officer_a", "compliance_officer"), ("officer_b", "compliance_officer"))}
        self.admin = self.page_for("bank_admin")
        self.admin.goto(self.base + "/compliance/screening-lists")
        listing = tmp_path / "list.csv"
        listing.write_text("name,aliases,date_of_birth,nationality\n" + listing_csv)
        self.admin.get_by_label("List name").fill("sanctions")
        self.admin.set_input_files("#file", str(listing))
        submit(self.admin, self.admin.get_by_role("button", name="Upload and re-screen open cases"))

    def page_for(self, key: str):
        ctx = self.browser.new_context(locale="en-GB")
        pg = ctx.new_page()
        pg.set_default_timeout(20000)
        sign_in(pg, self.base, *self.people[key], set())
        return pg

    def teller_opens_case(self):
        """The teller checks the card and opens the account case; returns the teller's page
        and the case's compliance URL."""
        teller = self.page_for("verifier")
        teller.goto(self.base + "/bank/verify")
        teller.get_by_label("QR text").fill(self.qr)
        submit(teller, "#check")
        expect(teller.locator("#verdict-word")).to_contain_text("Valid")
        submit(teller, "#open-case")
        return teller, teller.url.replace("/bank/cases/", "/compliance/cases/")


def test_four_eyes_review_in_the_browser(browser, live_app, tmp_path):
    # the bank admin loads a sanctions list with a near-namesake
    scene = BankScene(browser, live_app, tmp_path, "Northbridge", {
        "bank_admin": "Bo Admin", "verifier": "Terry Teller", "officer_a": "Ada Officer",
        "officer_b": "Ben Officer"}, "Zyxwvu Kanaryname,,1911,GBR\n")
    base = scene.base
    expect(scene.admin.locator("#lists")).to_contain_text("sanctions")

    # the teller verifies and opens the case: referred
    teller, case_url = scene.teller_opens_case()
    expect(teller.locator("#case-outcome")).to_contain_text("Referred to compliance")

    # officer A: no-hit, then proposes T1
    a = scene.page_for("officer_a")
    a.goto(base + "/compliance/?q=referred")
    submit(a, a.locator("#queue a").first)
    expect(a.locator("#hits")).to_contain_text("Zyxwvu Kanaryname")
    submit(a, "#no-hit-1")
    if not a.locator("#propose").is_visible():
        a.get_by_text("Propose an override, upgrade or decline").click()
    a.get_by_label("Decision").select_option("approve")
    a.get_by_label("Tier").select_option("T1")
    a.get_by_label("Reason").select_option("screening_cleared")
    a.get_by_label("Justification").fill("Different person: the designee is decades older.")
    submit(a, "#propose")
    submit(a, "#approve-proposal")
    expect(a.locator("#refusal")).to_contain_text("cannot approve your own")

    # officer B approves
    b = scene.page_for("officer_b")
    b.goto(case_url)
    submit(b, "#approve-proposal")
    expect(b.locator("#decision")).to_contain_text("approve T1")
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


def test_account_lifecycle_in_the_browser(browser, live_app, tmp_path):
    """After the decision: monthly figures raise a monitoring alert that an officer escalates
    and closes; the validity countdown shows; a step-up on the bank's own CDD is proposed by
    one officer and approved by another."""
    scene = BankScene(browser, live_app, tmp_path, "Eastgate", {
        "bank_admin": "Bea Admin", "verifier": "Tom Teller", "officer_a": "Cleo Officer",
        "officer_b": "Dev Officer"}, "Unrelated Person,,1970,FRA\n")
    base = scene.base
    _teller, case_url = scene.teller_opens_case()
    case_id = case_url.rsplit("/", 1)[1]

    a = scene.page_for("officer_a")
    a.goto(case_url)
    submit(a, "#approve")
    tier = a.inner_text("#account h2").split(":")[1].strip()
    assert tier in ("T1", "T2")
    assert "days of validity left" in a.inner_text("#countdown")

    # the core banking export arrives as CSV: a funnel-account month
    a.goto(base + "/compliance/transactions")
    csv_file = tmp_path / "october.csv"
    today = date.today().isoformat()  # the account opened today: its first period
    csv_file.write_text("account,period_start,period_end,inflow,outflow,cash_in,cash_out,"
                        f"cash_deposit_locations\n{case_id},{today},{today},1400,1380,"
                        "1300,900,6\n")
    a.set_input_files("#file", str(csv_file))
    submit(a, "#upload-transactions")
    expect(a.locator("#upload-result")).to_contain_text("1 periods received")
    a.goto(base + "/compliance/")
    submit(a, "#queue-alerts")
    expect(a.locator("#queue")).to_contain_text("MONITORING_FUNNEL_ACCOUNT")
    submit(a, a.locator("#queue a").first)
    expect(a.locator("#alerts")).to_contain_text("funnel-account pattern")
    submit(a, "#alert-escalate-1")
    expect(a.locator("#review-kind")).to_contain_text("Monitoring alert")
    submit(a, "#keep-tier")
    expect(a.locator("#review-kind")).to_have_count(0)

    # step-up to T3 on the bank's own CDD: officer A proposes, officer B approves
    a.get_by_text("Step up to a higher tier (new evidence)").click()
    a.get_by_label("The bank's own standard CDD").select_option("passed")
    submit(a, "#step-up")
    expect(a.locator("#review-kind")).to_contain_text("Step-up")
    if not a.locator("#propose").is_visible():
        a.get_by_text("Propose an override, upgrade or decline").click()
    a.get_by_label("Tier").select_option("T3")
    a.get_by_label("Reason").select_option("additional_evidence")
    a.get_by_label("Justification").fill("Passport verified by our standard CDD.")
    submit(a, "#propose")
    b = scene.page_for("officer_b")
    b.goto(case_url)
    submit(b, "#approve-proposal")
    expect(b.locator("#account h2")).to_contain_text("T3")
    history = b.inner_text("#history")
    assert "Step-up" in history and "T3" in history
