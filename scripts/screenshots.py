"""Take the screenshots used in docs/ by driving Debian's Chromium through the demo.

Run with ``make docs``. It starts a throwaway demo instance (its own temporary folder
and port), signs in as the printed demo accounts and writes PNGs to ``docs/img/``.
Tests never call this: a test run must not rewrite tracked files.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pyotp
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def start_demo(tmp: Path) -> tuple[subprocess.Popen[str], str, dict[str, tuple[str, str]]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARDING_")}
    env["ONBOARDING_INSTANCE_PATH"] = str(tmp / "instance")
    proc = subprocess.Popen([sys.executable, "-m", "onboarding.cli", "demo", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = ""
    while "Open http" not in out:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("demo did not start:\n" + out)
        out += line
    accounts = {m.group(2) + ("" if m.group(2) != "compliance_officer" or "officer.a" in m.group(3)
                              else "_b"): (m.group(3), m.group(4))
                for m in re.finditer(r"^(.+?)\s{2,}(\w+)\s+(\S+@\S+)\s+(\S+)$", out, re.M)}
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 - loopback
            break
        except OSError:
            time.sleep(0.1)
    return proc, base, accounts


def shot(page: Page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"  docs/img/{name}.png")


def sign_in(page: Page, base: str, email: str, password: str, prefix: str | None) -> str:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    if prefix:
        shot(page, f"{prefix}-login")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile("/account/authenticator"))
    if prefix:
        shot(page, f"{prefix}-enrol-authenticator")
    secret = page.inner_text("#totp-secret").strip()
    page.get_by_label("6-digit code shown by the app").fill(fresh_code(secret))
    page.get_by_role("button", name="Confirm and turn on").click()
    if prefix:
        shot(page, f"{prefix}-recovery-codes")
    page.get_by_role("link", name=re.compile("saved them")).click()
    return secret


USED: set[str] = set()


def fresh_code(secret: str) -> str:
    """TOTP codes work once: wait for the next 30-second step when needed."""
    totp = pyotp.TOTP(secret)
    while True:
        code = totp.now()
        if code not in USED:
            USED.add(code)
            return code
        time.sleep(30 - time.time() % 30 + 0.3)


def step_up(page: Page, password: str, secret: str) -> None:
    page.wait_for_url(re.compile("/account/confirm"))
    page.get_by_label("Password").fill(password)
    page.get_by_label(re.compile("Code from your authenticator app")).fill(fresh_code(secret))
    page.get_by_role("button", name="Confirm it is you").click()


def core_banking_receiver() -> str:
    """A local stand-in for the bank's core banking system: accepts webhook posts."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/hooks/onboarding"


def portrait(path: Path) -> Path:
    """A synthetic portrait (never a real person) for the demo enrolment."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (600, 800), (214, 224, 232))
    d = ImageDraw.Draw(img)
    d.ellipse((190, 170, 410, 430), fill=(176, 132, 104))
    d.rectangle((150, 470, 450, 800), fill=(60, 90, 130))
    d.ellipse((250, 270, 275, 295), fill=(40, 30, 30))
    d.ellipse((325, 270, 350, 295), fill=(40, 30, 30))
    d.arc((255, 330, 345, 380), 20, 160, fill=(90, 40, 40), width=5)
    img.save(path, "JPEG", quality=90)
    return path


def caseworker_flow(page: Page, base: str, email: str, password: str, tmp: Path) -> str:
    """Enrol a fictional person through the wizard and issue; returns the card PDF path."""
    secret = sign_in(page, base, email, password, prefix=None)
    page.goto(base + "/intake/")
    shot(page, "caseworker-caseload-empty")
    page.click("#start-intake")
    shot(page, "caseworker-1-consent")
    for box in page.locator("input[name=purposes]").all():
        box.check()
    page.get_by_label("Read aloud and agreed verbally").check()
    page.get_by_label(re.compile("understood and agreed freely")).check()
    page.get_by_role("button", name="Record consent and continue").click()
    page.get_by_label("Names as the person uses them").fill("Amina Yusuf\nآمنة يوسف")
    page.get_by_label("Day").fill("30")
    page.get_by_label("Month (1-12)").fill("2")
    page.get_by_label("Year of birth").fill("1994")
    page.get_by_label("The date is approximate").check()
    page.get_by_role("button", name="Save and continue").click()
    shot(page, "caseworker-2-identity-error")
    page.get_by_label("Day").fill("28")
    page.get_by_label(re.compile("Nationality")).fill("NGA")
    page.get_by_label(re.compile("Languages")).fill("en, ha")
    page.get_by_role("button", name="Save and continue").click()
    shot(page, "caseworker-3-photo")
    page.set_input_files("#photo", str(portrait(tmp / "portrait.jpg")))
    page.get_by_role("button", name="Use this photo and continue").click()
    page.get_by_label("Evidence", exact=True).select_option("referee_interview")
    page.get_by_label("How it was checked").select_option("visual_only")
    page.get_by_role("button", name="Add this evidence").click()
    page.get_by_label("Evidence", exact=True).select_option("gov_status_letter")
    page.get_by_label("How it was checked").select_option("authoritative_source")
    page.get_by_role("button", name="Add this evidence").click()
    shot(page, "caseworker-4-evidence")
    page.click("#evidence-continue")
    page.get_by_label("Why a trusted referee was needed").select_option("no_documents")
    shot(page, "caseworker-5-referee")
    page.get_by_role("button", name="Save and review").click()
    shot(page, "caseworker-6-review")
    page.click("#issue")
    shot(page, "caseworker-step-up")
    step_up(page, password, secret)
    page.wait_for_url(re.compile("/review$"))
    page.click("#issue")
    page.wait_for_url(re.compile("/intake/attestations/"))
    shot(page, "caseworker-7-attestation")
    with page.expect_download() as dl:
        page.click("#card-pdf")
    pdf = tmp / "card.pdf"
    dl.value.save_as(pdf)
    card_png(pdf, OUT / "card-front.png")
    print("  docs/img/card-front.png")
    page.click("#handover")
    shot(page, "caseworker-8-handover")
    link = page.inner_text("#handover-link")
    phone = page.context.browser.new_context(viewport={"width": 390, "height": 780},  # type: ignore[union-attr]
                                             is_mobile=True)
    p2 = phone.new_page()
    p2.goto(link)
    shot(p2, "person-phone-collect")
    phone.close()
    page.goto(base + "/intake/")
    shot(page, "caseworker-caseload")
    return str(pdf)


def card_png(pdf: Path, out: Path) -> None:
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    doc[0].render(scale=200 / 72).to_pil().save(out)
    doc.close()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        proc, base, accounts = start_demo(Path(tmp))
        try:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            ctx = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-GB")
            page = ctx.new_page()
            print("staff sign-in")
            sign_in(page, base, *accounts["ngo_admin"], prefix="staff")
            shot(page, "staff-home-ngo-admin")
            page.goto(base + "/admin/staff")
            shot(page, "admin-staff-list")
            page.goto(base + "/admin/staff/new")
            page.get_by_label("Work email").fill("new.caseworker@harbour.example")
            page.get_by_label("Name").fill("")
            page.get_by_role("button", name="Create account").click()
            shot(page, "admin-new-staff-errors")
            page.get_by_label("Name").fill("Sam Caseworker")
            page.get_by_role("button", name="Create account").click()
            shot(page, "admin-staff-created")
            page.goto(base + "/admin/audit")
            shot(page, "admin-audit-trail")
            page.get_by_role("button", name="Español").click()
            shot(page, "staff-audit-trail-es")
            page.get_by_role("button", name="English").click()
            page.goto(base + "/intake/admin/certifications")
            shot(page, "ngo-admin-certifications")
            page.goto(base + "/intake/admin/consent-texts")
            shot(page, "ngo-admin-consent-texts")
            ngo_admin = page  # kept signed in: it looks at the record once it is issued

            print("caseworker")
            ctx = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-GB")
            pdf = caseworker_flow(ctx.new_page(), base, *accounts["caseworker"], Path(tmp))
            ctx.close()

            print("ngo admin: retention and legal hold")
            ngo_admin.goto(base + "/intake/")
            ngo_admin.locator("#caseload a[href*='/intake/']").first.click()
            ngo_admin.wait_for_selector("#retention")
            ngo_admin.get_by_text("Place a legal hold").first.click()
            shot(ngo_admin, "ngo-admin-record-retention")
            ngo_admin.context.close()
            # the periodic job publishes the new status list
            subprocess.run([sys.executable, "-m", "onboarding.cli", "jobs", "run", "--force"],
                           env={**os.environ, "ONBOARDING_INSTANCE_PATH": str(Path(tmp) /
                                                                              "instance")},
                           check=True, capture_output=True)

            print("teller")
            ctx = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-GB")
            page = ctx.new_page()
            sign_in(page, base, *accounts["verifier"], prefix=None)
            page.goto(base + "/bank/verify")
            shot(page, "teller-verify-empty")
            photo = Path(tmp) / "card-photo.png"
            card_png(Path(pdf), photo)
            page.set_input_files("#image", str(photo))
            page.click("#check")
            page.wait_for_selector("#verdict-word")
            shot(page, "teller-verify-valid")
            page.get_by_label("The registered caseworker came with the applicant", exact=False
                              ).check()
            page.click("#open-case")
            shot(page, "teller-case")
            page.goto(base + "/bank/verify")
            page.get_by_label("QR text").fill("ID1:THIS-IS-NOT-A-CARD")
            page.click("#check")
            shot(page, "teller-verify-unreadable")
            ctx.close()

            print("bank admin")
            ctx = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-GB")
            page = ctx.new_page()
            admin_secret = sign_in(page, base, *accounts["bank_admin"], prefix=None)
            page.goto(base + "/bank/api-keys")
            page.click("#api-key-confirm")  # a new key is a sensitive action: step-up
            step_up(page, accounts["bank_admin"][1], admin_secret)
            page.get_by_label("Name (which system uses it)").fill("Core banking")
            page.get_by_label("Read decisions (tier, features, limits, validity)").check()
            page.get_by_role("button", name="Create key").click()
            shot(page, "bank-admin-api-keys")
            # the core banking system's webhook: a local receiver stands in for it
            hook_url = core_banking_receiver()
            page.goto(base + "/bank/webhook")  # the step-up above still counts
            page.get_by_label("Endpoint URL (https)").fill(hook_url)
            page.click("#webhook-save")
            page.click("#webhook-test")
            shot(page, "bank-admin-webhook")
            # a sanctions list with a (fictional) near-namesake: the open case is re-screened
            listing = Path(tmp) / "list.csv"
            listing.write_text("name,aliases,date_of_birth,nationality\n"
                               "Amina Yusufu,,1994,NGA\nUnrelated Example,,1960,FRA\n")
            page.goto(base + "/compliance/screening-lists")
            page.get_by_label("List name").fill("sanctions")
            page.set_input_files("#file", str(listing))
            page.get_by_role("button", name="Upload and re-screen open cases").click()
            shot(page, "compliance-screening-lists")
            ctx.close()

            print("compliance")
            officer_a = browser.new_context(viewport={"width": 1100, "height": 900},
                                            locale="en-GB").new_page()
            sign_in(officer_a, base, *accounts["compliance_officer"], prefix=None)
            officer_a.goto(base + "/compliance/?q=referred")
            shot(officer_a, "compliance-queue")
            officer_a.locator("#queue a").first.click()
            case_url = officer_a.url
            shot(officer_a, "compliance-case")
            officer_a.click("#no-hit-1")
            if not officer_a.locator("#propose").is_visible():
                officer_a.get_by_text("Propose an override, upgrade or decline").click()
            officer_a.get_by_label("Decision").select_option("approve")
            officer_a.get_by_label("Tier").select_option("T1")
            officer_a.get_by_label("Reason").select_option("screening_cleared")
            officer_a.get_by_label("Justification").fill(
                "Different person: the listed entity's details do not match.")
            officer_a.click("#propose")
            officer_b = browser.new_context(viewport={"width": 1100, "height": 900},
                                            locale="en-GB").new_page()
            sign_in(officer_b, base, *accounts["compliance_officer_b"], prefix=None)
            officer_b.goto(case_url)
            officer_b.click("#approve-proposal")
            shot(officer_b, "compliance-case-decided")

            print("account lifecycle")
            case_id = case_url.rsplit("/", 1)[1]
            figures = Path(tmp) / "october.csv"
            today = time.strftime("%Y-%m-%d", time.gmtime())  # opened today: first period
            figures.write_text("account,period_start,period_end,inflow,outflow,cash_in,"
                               "cash_out,cash_deposit_locations,prepaid_card_purchases\n"
                               f"{case_id},{today},{today},1400,1380,1300,900,6,0\n")
            officer_a.goto(base + "/compliance/transactions")
            officer_a.set_input_files("#file", str(figures))
            officer_a.click("#upload-transactions")
            shot(officer_a, "compliance-transactions")
            officer_a.goto(base + "/compliance/?q=alerts")
            shot(officer_a, "compliance-alerts-queue")
            officer_a.goto(case_url)
            shot(officer_a, "compliance-case-alert")
            officer_a.click("#alert-escalate-1")
            officer_a.click("#keep-tier")
            officer_a.get_by_text("Step up to a higher tier (new evidence)").click()
            officer_a.get_by_label("The bank's own standard CDD").select_option("passed")
            officer_a.click("#step-up")
            shot(officer_a, "compliance-step-up-review")
            if not officer_a.locator("#propose").is_visible():
                officer_a.get_by_text("Propose an override, upgrade or decline").click()
            officer_a.get_by_label("Tier").select_option("T3")
            officer_a.get_by_label("Reason").select_option("additional_evidence")
            officer_a.get_by_label("Justification").fill("Passport verified by our own CDD.")
            officer_a.click("#propose")
            officer_b.goto(case_url)
            officer_b.click("#approve-proposal")
            officer_b.locator("#account").scroll_into_view_if_needed()
            shot(officer_b, "compliance-case-account")
            officer_a.goto(base + "/compliance/policies/new")
            officer_a.get_by_label("Policy (YAML)").fill(
                (ROOT / "risk" / "policies" / "strict-example-v1.yaml").read_text())
            officer_a.get_by_role("button", name="Save draft").click()
            officer_a.click("#run-backtest")
            shot(officer_a, "compliance-policy-backtest")
            officer_b.goto(base + "/compliance/reports/")
            shot(officer_b, "compliance-dashboard")

            print("platform admin")
            ctx = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-GB")
            page = ctx.new_page()
            sign_in(page, base, *accounts["platform_admin"], prefix=None)
            page.goto(base + "/registry/issuers")
            shot(page, "platform-registry")
            ctx.close()

            phone = browser.new_context(viewport={"width": 390, "height": 780},
                                        is_mobile=True, locale="en-GB")
            page = phone.new_page()
            page.goto(base + "/login")
            shot(page, "login-phone")
            phone.close()
            browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
