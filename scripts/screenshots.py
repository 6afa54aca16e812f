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
    page.get_by_label("6-digit code shown by the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and turn on").click()
    if prefix:
        shot(page, f"{prefix}-recovery-codes")
    page.get_by_role("link", name=re.compile("saved them")).click()
    return secret


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
            ctx.close()
            phone = browser.new_context(viewport={"width": 390, "height": 780},
                                        is_mobile=True, locale="en-GB")
            page = phone.new_page()
            sign_in(page, base, *accounts["platform_admin"], prefix=None)
            shot(page, "platform-home-phone")
            phone.close()
            browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
