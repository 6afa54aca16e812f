"""SECURITY.md A (1-4) and B (5-8): passwords, TOTP, throttling, sessions, step-up."""

from __future__ import annotations

import re

from sqlalchemy import select

from onboarding import mfa
from onboarding.models import RecoveryCode, User
from onboarding.passwords import hash_password, password_problems, verify_password
from tests.conftest import count, csrf_from, db_rows


# ----------------------------------------------------------------- 1 passwords
def test_password_policy_length_blocklist_and_unicode():
    assert password_problems("short7")  # < 8
    assert password_problems("password123")  # common
    assert password_problems("Password123")  # common, case-insensitively
    assert password_problems("x" * 1025)
    assert password_problems("a long passphrase of many words") == []
    assert password_problems("пароль очень длинный и странный") == []
    assert password_problems("كلمة مرور طويلة جدا") == []
    assert password_problems("jane.doe-secret", context=("jane.doe",))


def test_argon2id_salted_and_exact_unicode():
    pw = "Ünïcödé pässphrase 🦉 with spaces  "
    h1, h2 = hash_password(pw), hash_password(pw)
    assert h1.startswith("$argon2id$")
    assert h1 != h2  # salted
    assert verify_password(h1, pw)
    assert not verify_password(h1, pw.strip())  # spaces are part of the secret
    assert not verify_password(h1, pw.upper())
    # NFC: the same text typed with combining accents is the same password
    assert verify_password(hash_password("caf\u00e9 au lait!"), "cafe\u0301 au lait!")


def test_plaintext_password_nowhere_in_db(make_staff, app):
    who = make_staff("caseworker", password="canary-plaintext-Pw-77 zebra")
    dump = repr(db_rows(app))
    assert "canary-plaintext-Pw-77" not in dump
    assert who.email in dump


# --------------------------------------------------------------------- 2 TOTP
def test_password_alone_reaches_no_protected_route(client_for, make_staff):
    c = client_for()
    who = make_staff("ngo_admin")
    resp = c.login_password(who)
    assert resp.headers["Location"] == "/login/code"
    for url in ("/home", "/admin/staff", "/admin/audit", "/account/recovery-codes"):
        r = c.get(url)
        assert r.status_code in (302, 303)
        assert r.headers["Location"] == "/login/code"


def test_unenrolled_user_is_sent_to_enrolment(client_for, make_staff):
    c = client_for()
    who = make_staff("caseworker", enrolled=False)
    assert c.login_password(who).headers["Location"] == "/account/authenticator"
    assert c.get("/home").headers["Location"] == "/account/authenticator"


def test_totp_enrolment_shows_qr_and_secret_then_recovery_codes(client_for, make_staff, app,
                                                                 clock):
    c = client_for()
    who = make_staff("caseworker", enrolled=False)
    c.login_password(who)
    page = c.get("/account/authenticator").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in page
    secret = re.search(r'id="totp-secret" class="secret">([A-Z2-7]+)<', page).group(1)
    assert len(secret) * 5 >= 160  # base32: 5 bits per character
    bad = c.post("/account/authenticator", {"code": "000000", "csrf_token": csrf_from(page)})
    assert "did not match" in bad.get_data(as_text=True)
    ok = c.post("/account/authenticator", {"code": mfa.code_at(secret),
                                           "csrf_token": csrf_from(page)})
    codes = re.findall(r"<li><code>([a-z0-9-]{19})</code></li>", ok.get_data(as_text=True))
    assert len(codes) == 10
    assert c.get("/home").status_code == 200
    with app.extensions["onboarding.sessionmaker"]() as db:
        user = db.get(User, who.id)
        assert user.totp_enrolled
        assert secret.encode() not in user.totp_secret_enc  # stored encrypted
        stored = db.execute(select(RecoveryCode.code_hash)).scalars().all()
        assert not set(codes) & set(stored)  # stored hashed


def test_totp_code_is_single_use_and_window_is_one_step(client_for, make_staff, clock):
    who = make_staff("caseworker")
    c1 = client_for()
    c1.login_password(who)
    code = mfa.code_at(who.totp_secret)
    tok = c1.token("/login/code")
    assert c1.post("/login/code", {"code": code, "csrf_token": tok}).status_code == 303
    # Same code again, same 30 s step, another client: refused (replay).
    c2 = client_for()
    c2.login_password(who)
    r = c2.post("/login/code", {"code": code, "csrf_token": c2.token("/login/code")})
    assert r.status_code == 200 and "did not work" in r.get_data(as_text=True)
    # A code two steps old is outside the ±1 window.
    clock.advance(seconds=90)
    old = mfa.code_at(who.totp_secret, -2)
    r = c2.post("/login/code", {"code": old, "csrf_token": c2.token("/login/code")})
    assert "did not work" in r.get_data(as_text=True)
    # The previous step is inside the window (clock drift), if not used before.
    prev = mfa.code_at(who.totp_secret, -1)
    r = c2.post("/login/code", {"code": prev, "csrf_token": c2.token("/login/code")})
    assert r.status_code == 303


def test_recovery_code_works_once(client_for, make_staff, app):
    who = make_staff("caseworker")
    from onboarding import staff
    from onboarding.audit import Actor

    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        codes = staff.regenerate_recovery_codes(db, Actor(), db.get(User, who.id))
    c = client_for()
    c.login_password(who)
    r = c.post("/login/code", {"code": codes[0].upper(), "csrf_token": c.token("/login/code")})
    assert r.status_code == 303
    c2 = client_for()
    c2.login_password(who)
    r = c2.post("/login/code", {"code": codes[0], "csrf_token": c2.token("/login/code")})
    assert "did not work" in r.get_data(as_text=True)


# ----------------------------------------------------------- 3 throttling
def test_unknown_user_and_wrong_password_answer_identically(client_for, make_staff):
    who = make_staff("caseworker")
    c = client_for()

    def attempt(email: str) -> tuple[int, str]:
        r = c.post("/login", {"email": email, "password": "wrong password here",
                              "csrf_token": c.token("/login")})
        body = r.get_data(as_text=True)
        body = re.sub(r'value="[^"]*"', 'value=""', body)  # typed email and tokens
        return r.status_code, body.replace(r.headers["X-Request-ID"], "")

    known = attempt(who.email)
    unknown = attempt("nobody-" + who.email)
    assert known == unknown
    assert "Email or password is incorrect." in known[1]


def test_login_throttled_per_ip_and_per_account(app_factory, make_staff, clock):
    from tests.conftest import StaffClient

    app = app_factory(LOGIN_RATE_LIMIT="5 per minute", LOGIN_ACCOUNT_RATE_LIMIT="3 per hour")
    c = StaffClient(app, clock)
    tok = c.token("/login")
    statuses = [c.post("/login", {"email": "victim@example.org", "password": "nope nope",
                                  "csrf_token": tok}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # per account
    other = [c.post("/login", {"email": f"u{i}@example.org", "password": "nope nope",
                               "csrf_token": tok}).status_code for i in range(3)]
    assert other[-1] == 429  # per IP (5/min across accounts)
    r = c.post("/login", {"email": "z@example.org", "password": "x", "csrf_token": tok})
    assert "Too many attempts" in r.get_data(as_text=True)


# -------------------------------------------------------- 4 no default creds
def test_no_default_credentials_and_create_admin_one_time_secret(app, instance):
    assert count(app, "SELECT count(*) FROM staff_user") == 0
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--email", "Root@Example.org",
                                 "--name", "Root Admin"])
    assert result.exit_code == 0, result.output
    secret = re.search(r"One-time password.*: (\S+)", result.output).group(1)
    with app.extensions["onboarding.sessionmaker"]() as db:
        user = db.execute(select(User)).scalar_one()
        assert user.email == "root@example.org"
        assert user.must_change_password
        assert verify_password(user.password_hash, secret)
    again = runner.invoke(args=["create-admin", "--email", "root@example.org", "--name", "X"])
    assert again.exit_code != 0


def test_one_time_password_must_be_changed(client_for, make_staff):
    who = make_staff("ngo_admin", must_change=True)
    c = client_for()
    c.login(who)
    r = c.get("/admin/staff")
    assert r.headers["Location"] == "/account/password"
    page = c.get("/account/password")
    r = c.post("/account/password", {"current": who.password, "new": "password",
                                     "confirm": "password",
                                     "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert "too common" in r.get_data(as_text=True)
    r = c.post("/account/password", {"current": who.password, "new": "a fresh passphrase 2026",
                                     "confirm": "a fresh passphrase 2026",
                                     "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 303
    assert c.get("/admin/staff").status_code == 200


def test_current_password_guesses_are_throttled(app, client_for, make_staff):
    """A borrowed, signed-in session must not become an oracle for the account's password."""
    who = make_staff("caseworker")
    c = client_for()
    c.login(who)
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per hour"  # read per request
    answers = [c.post("/account/password", {"current": f"guess number {i}",
                                            "new": "a fresh passphrase 2026",
                                            "confirm": "a fresh passphrase 2026"})
               for i in range(2)]
    # the step-up page draws on the same budget: no fresh allowance per route
    answers.append(c.post("/account/confirm", {"password": "guess number 2", "code": "000000"}))
    answers.append(c.post("/account/password", {"current": "guess number 3",
                                                "new": "a fresh passphrase 2026",
                                                "confirm": "a fresh passphrase 2026"}))
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert "The current password is not right." in answers[0].get_data(as_text=True)
    assert c.post("/account/confirm", {"password": who.password, "code": "000000"}
                  ).status_code == 429
    assert count(app, "SELECT count(*) FROM audit_entry "
                      "WHERE action = 'auth.password_change_refused'") == 2
    # even the right password waits: the throttle does not tell which guess was right
    assert c.post("/account/password", {"current": who.password, "new": "a fresh passphrase 2026",
                                        "confirm": "a fresh passphrase 2026"}).status_code == 429


# ---------------------------------------------------------------- 5 sessions
def test_session_id_changes_at_login(client_for, make_staff):
    who = make_staff("caseworker")
    c = client_for()
    c.get("/login")
    before = c.cookie()
    assert before
    c.login_password(who)
    mid = c.cookie()
    c.clock.advance(seconds=30)
    c.post("/login/code", {"code": mfa.code_at(who.totp_secret),
                           "csrf_token": c.token("/login/code")})
    after = c.cookie()
    assert len({before, mid, after}) == 3


def test_logout_is_server_side_copied_cookie_fails(signed_in, client_for, app):
    c, _who = signed_in("caseworker")
    stolen = c.cookie()
    assert count(app, "SELECT count(*) FROM staff_session WHERE user_id IS NOT NULL") == 1
    r = c.post("/logout", {"csrf_token": c.token("/home")})
    assert r.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert count(app, "SELECT count(*) FROM staff_session WHERE user_id IS NOT NULL") == 0
    thief = client_for()
    thief.client.set_cookie("onb_session", stolen, domain="localhost", secure=True)
    r = thief.get("/home")
    assert r.status_code in (302, 303) and r.headers["Location"].startswith("/login")


def test_disabling_a_user_ends_their_sessions(signed_in, app):
    victim_client, victim = signed_in("caseworker")
    admin, _ = signed_in("ngo_admin")
    assert victim_client.get("/home").status_code == 200
    r = admin.post(f"/admin/staff/{victim.id}/disable", {"csrf_token": admin.token("/home")})
    assert r.status_code == 303
    assert victim_client.get("/home").headers["Location"].startswith("/login")
    # and they cannot sign in again
    r = victim_client.login_password(victim)
    assert "Email or password is incorrect." in r.get_data(as_text=True)


def test_admin_cannot_disable_self(signed_in):
    admin, me = signed_in("ngo_admin")
    r = admin.post(f"/admin/staff/{me.id}/disable", {"csrf_token": admin.token("/home")})
    assert r.status_code == 409


def test_password_change_ends_other_sessions(signed_in, client_for, make_staff):
    who = make_staff("caseworker")
    laptop, phone = client_for(), client_for()
    laptop.login(who)
    phone.login(who)
    page = laptop.get("/account/password")
    r = laptop.post("/account/password", {"current": who.password,
                                          "new": "another good passphrase",
                                          "confirm": "another good passphrase",
                                          "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 303
    assert laptop.get("/home").status_code == 200
    assert phone.get("/home").headers["Location"].startswith("/login")


# ---------------------------------------------------------------- 6 timeouts
def test_idle_timeout_at_the_boundary(signed_in, clock):
    c, _ = signed_in("caseworker")
    clock.advance(minutes=14, seconds=59)
    assert c.get("/home").status_code == 200  # activity resets the idle timer
    clock.advance(minutes=14, seconds=59)
    assert c.get("/home").status_code == 200
    clock.advance(minutes=15)
    r = c.get("/home")
    assert r.status_code in (302, 303) and r.headers["Location"].startswith("/login")


def test_absolute_timeout_at_the_boundary(signed_in, clock):
    c, _ = signed_in("caseworker")
    for _ in range(34):  # stay active (never idle 15 min): 34 × 14 min = 7 h 56 min
        clock.advance(minutes=14)
        assert c.get("/home").status_code == 200
    clock.advance(minutes=3, seconds=59)  # 7 h 59 min 59 s after sign-in
    assert c.get("/home").status_code == 200
    clock.advance(seconds=1)
    r = c.get("/home")
    assert r.status_code in (302, 303) and r.headers["Location"].startswith("/login")


# ------------------------------------------------------------------ 7 cookies
def test_cookie_flags(client_for):
    c = client_for()
    r = c.get("/login")
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie  # no remember-me
    assert "remember" not in c.get("/login").get_data(as_text=True).lower()


def test_host_prefix_cookie_in_production_config(app_factory):
    app = app_factory(COOKIE_HOST_PREFIX=True)
    r = app.test_client().get("/login", base_url="https://localhost")
    assert r.headers["Set-Cookie"].startswith("__Host-session=")
    assert "Domain" not in r.headers["Set-Cookie"]


# ------------------------------------------------------------------- 8 step-up
def test_step_up_required_for_mfa_reset(signed_in, make_staff, clock, app):
    admin, me = signed_in("ngo_admin")
    target = make_staff("caseworker")
    url = f"/admin/staff/{target.id}/reset-authenticator"
    r = admin.get(url)
    assert r.headers["Location"].startswith("/account/confirm")
    tok = admin.token("/home")
    r = admin.post(url, {"csrf_token": tok})
    assert r.headers["Location"].startswith("/account/confirm")  # no action without step-up
    with app.extensions["onboarding.sessionmaker"]() as db:
        assert db.get(User, target.id).totp_enrolled
    clock.advance(seconds=30)
    page = admin.get("/account/confirm?next=" + url)
    r = admin.post("/account/confirm", {"password": me.password,
                                        "code": mfa.code_at(me.totp_secret), "next": url,
                                        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.headers["Location"] == url
    r = admin.post(url, {"csrf_token": admin.token("/home")})
    assert r.status_code == 200
    assert re.search(r'id="one-time-password">[^<]{10,}<', r.get_data(as_text=True))
    with app.extensions["onboarding.sessionmaker"]() as db:
        user = db.get(User, target.id)
        assert not user.totp_enrolled and user.must_change_password
    # Step-up expires after 5 minutes.
    clock.advance(minutes=5, seconds=1)
    assert admin.get(url).headers["Location"].startswith("/account/confirm")


def test_step_up_refuses_wrong_password(signed_in, clock):
    admin, me = signed_in("ngo_admin")
    clock.advance(seconds=30)
    page = admin.get("/account/confirm")
    r = admin.post("/account/confirm", {"password": "not it at all",
                                        "code": mfa.code_at(me.totp_secret),
                                        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert "did not work" in r.get_data(as_text=True)
