"""Sign-in, TOTP enrolment and sign-out in a real browser (SECURITY.md 2, 5, 21)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.flows import submit


def enrol_and_sign_in(page, base: str, email: str, password: str) -> str:
    page.goto(base + "/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/account/authenticator$"))
    qr_loaded = page.eval_on_selector("#totp-qr", "img => img.complete && img.naturalWidth > 0")
    assert qr_loaded
    secret = page.inner_text("#totp-secret").strip()
    page.get_by_label("6-digit code shown by the app").fill(pyotp.TOTP(secret).now())
    submit(page, page.get_by_role("button", name="Confirm and turn on"))
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name=re.compile("saved them")).click()
    page.wait_for_url(re.compile(r"/home$"))
    return secret


def test_login_totp_enrolment_and_logout(page, live_app, live_staff):
    base = live_app.config["LIVE_URL"]
    email, password = live_staff("ngo_admin")
    # wrong password first: a clear, generic error, and the email is kept
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password")
    submit(page, page.get_by_role("button", name="Sign in"))
    expect(page.get_by_text("Email or password is incorrect.").first).to_be_visible()
    assert page.get_by_label("Email").input_value() == email
    enrol_and_sign_in(page, base, email, password)
    expect(page.get_by_role("heading", name="Hello, Browser User")).to_be_visible()
    cookies = page.context.cookies()
    session = [c for c in cookies if c["name"] == "onb_session"]
    assert session and session[0]["httpOnly"] and session[0]["secure"]
    assert session[0]["sameSite"] == "Lax"
    storage = page.evaluate("() => [localStorage.length, sessionStorage.length]")
    assert storage == [0, 0]  # nothing personal (or anything) in browser storage
    stolen = session[0]["value"]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login\?signed_out=1$"))
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto(base + "/home")
    assert "/login" in page.url
    # the copied cookie no longer works: the session ended on the server
    page.context.add_cookies([{"name": "onb_session", "value": stolen, "url": base}])
    page.goto(base + "/home")
    assert "/login" in page.url


def test_second_sign_in_asks_for_code_and_skip_link_is_first(page, live_app, live_staff):
    base = live_app.config["LIVE_URL"]
    email, password = live_staff("caseworker")
    secret = enrol_and_sign_in(page, base, email, password)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/login/code$"))
    totp = pyotp.TOTP(secret)
    # the enrolment code was used in this step; wait for a fresh one (single use)
    time.sleep(max(0.0, 30 - time.time() % 30) + 0.5)
    page.get_by_label(re.compile("Code from your authenticator app")).fill(totp.now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/home$"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    # phone-sized viewport: no horizontal scrolling on the home page
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.sqlite_smoke
def test_demo_command_serves_a_working_demo(browser, tmp_path):
    """The README's demo: start it as a newcomer would, sign in as a printed account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARDING_")}
    env["ONBOARDING_INSTANCE_PATH"] = str(tmp_path / "instance")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "onboarding.cli", "demo", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        lines = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Open http"):
                break
        out = "".join(lines)
        assert "DEMO ONLY" in out
        m = re.search(r"^Harbour Community Trust\s+caseworker\s+(\S+)\s+(\S+)$", out, re.M)
        assert m, out
        base = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                import urllib.request

                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        context = browser.new_context()
        page = context.new_page()
        enrol_and_sign_in(page, base, m.group(1), m.group(2))
        expect(page.get_by_text("Harbour Community Trust").first).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r"/login"))
        context.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.stdout.close()
