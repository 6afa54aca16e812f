"""SECURITY.md D (14-15) and E (19-21): escaping, injection, CSRF, safe GETs, headers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.app.test_access import ROLES, routes
from tests.conftest import csrf_from, db_rows

ROOT = Path(__file__).resolve().parents[2]
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&'
SQLI = ["' OR '1'='1", "1; DROP TABLE staff_user; --", "\" OR 1=1 --", "%' UNION SELECT 1 --"]


# ------------------------------------------------------------------- 14 XSS
def test_xss_in_every_staff_text_field_comes_back_escaped(signed_in, app):
    admin, _ = signed_in("ngo_admin")
    page = admin.get("/admin/staff/new")
    r = admin.post("/admin/staff/new", {"email": "xss@example.org", "display_name": XSS,
                                        "role": "caseworker",
                                        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 200
    for url in ("/admin/staff", "/admin/audit"):
        body = admin.get(url).get_data(as_text=True)
        assert "<script>alert" not in body
    body = admin.get("/admin/staff").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body


def test_xss_in_organisation_fields_and_form_redisplay(signed_in):
    pa, _ = signed_in("platform_admin")
    page = pa.get("/admin/organisations/new")
    r = pa.post("/admin/organisations/new", {
        "kind": "ngo", "name": XSS, "display_name": XSS, "jurisdiction": "<b>",
        "admin_email": "not-an-email" + XSS, "admin_name": XSS,
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    body = r.get_data(as_text=True)
    assert r.status_code == 200  # errors shown, nothing crashed
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;" in body  # what was typed is kept, escaped


def test_templates_and_code_never_mark_user_data_safe():
    offenders = []
    paths = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "onboarding").rglob("*.py")]
    for path in paths:
        text = path.read_text()
        if path.suffix == ".html" and "|safe" in text.replace(" ", ""):
            offenders.append(str(path))
        if path.suffix == ".py" and ("Markup(" in text or "render_template_string" in text):
            offenders.append(str(path))
    assert offenders == []


# ------------------------------------------------------------------- 15 SQLi
def test_injection_strings_in_login_and_paging(signed_in, client_for, make_staff, app):
    admin, _ = signed_in("ngo_admin")
    make_staff("caseworker")
    before = db_rows(app)["staff_user"]
    c = client_for()
    for s in SQLI:
        r = c.post("/login", {"email": s, "password": s, "csrf_token": c.token("/login")})
        assert r.status_code == 200
        r = admin.get("/admin/audit", query_string={"page": s})
        assert r.status_code == 200
        r = admin.get(f"/admin/staff/{s}")
        assert r.status_code == 404
    assert db_rows(app)["staff_user"] == before


def test_bandit_finds_nothing_high():
    out = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", "onboarding", "risk",
                          "-lll", "-iii", "-f", "txt"], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stdout + out.stderr


# ------------------------------------------------------------------ 19 CSRF
def test_every_state_changing_route_requires_csrf(app, signed_in, make_staff):
    admin, _ = signed_in("platform_admin")
    for endpoint, method, url in routes(app):
        if method in ("GET",):
            continue
        r = admin.client.open(url, method=method, data={}, base_url="https://localhost")
        if endpoint.startswith("api."):
            # The only CSRF-exempt routes: token-authenticated, and a session is no key.
            assert r.status_code == 401, endpoint
            continue
        assert r.status_code == 400, f"{method} {endpoint} accepted a POST without CSRF token"
        assert "expired or was sent from elsewhere" in r.get_data(as_text=True)


def test_csrf_token_from_another_session_is_refused(client_for, make_staff):
    who = make_staff("caseworker")
    attacker = client_for()
    foreign_token = attacker.token("/login")
    c = client_for()
    c.get("/login")
    r = c.post("/login", {"email": who.email, "password": who.password,
                          "csrf_token": foreign_token})
    assert r.status_code == 400


def test_no_get_changes_state(app, client_for, make_staff):
    """Crawl every GET route as every role; the data must not change (sessions and the
    audit of sign-ins aside, which the crawl itself causes)."""
    ignore = {"staff_session", "audit_entry", "audit_head", "staff_user"}
    for role in ROLES:
        c = client_for()
        who = make_staff(role)
        c.login(who)
        before = {k: v for k, v in db_rows(app).items() if k not in ignore}
        users_before = db_rows(app)["staff_user"]
        audit_before = db_rows(app)["audit_entry"]
        for _endpoint, method, url in routes(app):
            if method == "GET":
                c.get(url)
        after = {k: v for k, v in db_rows(app).items() if k not in ignore}
        assert after == before, role
        assert db_rows(app)["staff_user"] == users_before
        assert db_rows(app)["audit_entry"] == audit_before


# --------------------------------------------------------------- 20 headers
def _check_headers(resp, authenticated_page: bool = True) -> None:
    h = resp.headers
    csp = h["Content-Security-Policy"]
    for part in ("default-src 'self'", "object-src 'none'", "base-uri 'none'",
                 "frame-ancestors 'none'"):
        assert part in csp
    assert "unsafe-inline" not in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["Strict-Transport-Security"].startswith("max-age=")
    assert "camera=()" in h["Permissions-Policy"]
    if authenticated_page:
        assert h["Cache-Control"] == "no-store"


def test_headers_on_pages_errors_static_and_api(signed_in, app):
    c, _ = signed_in("ngo_admin")
    for url in ("/home", "/admin/staff", "/does-not-exist", "/admin/organisations",
                "/api/v1/nothing"):
        _check_headers(c.get(url))
    with c.get("/static/app.css") as static:
        _check_headers(static, authenticated_page=False)
    _check_headers(c.post("/admin/staff/new", {}, csrf=False))  # 400 CSRF error page
    anon = app.test_client()
    _check_headers(anon.get("/login", base_url="https://localhost"))


def test_500_page_has_headers_and_correlation_id_but_no_traceback(app_factory):
    app = app_factory()

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail CANARY-NOTE-7f3a9c")

    from onboarding.policy import POLICY

    POLICY["boom"] = "public"
    try:
        r = app.test_client().get("/boom", base_url="https://localhost")
    finally:
        del POLICY["boom"]
    body = r.get_data(as_text=True)
    assert r.status_code == 500
    _check_headers(r)
    assert r.headers["X-Request-ID"] in body
    assert "Traceback" not in body and "CANARY" not in body and "RuntimeError" not in body
    api = app.test_client().get("/api/v1/x", base_url="https://localhost")
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["status"] == 404 and api.get_json()["title"]


def test_script_tags_only_with_nonce(signed_in):
    c, _ = signed_in("ngo_admin")
    for url in ("/home", "/login", "/admin/staff"):
        body = c.get(url).get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", body):
            assert "nonce=" in tag and "src=" in tag
        assert " on" + "click=" not in body and "javascript:" not in body


# ------------------------------------------------------------------ 21 CORS
def test_no_cors_echo(signed_in):
    c, _ = signed_in("ngo_admin")
    for url in ("/home", "/healthz", "/api/v1/x"):
        r = c.get(url, headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in r.headers
    r = c.client.options("/login", base_url="https://localhost",
                         headers={"Origin": "https://evil.example",
                                  "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_https_post_without_referer_works_and_foreign_origin_is_refused(client_for, make_staff):
    """Browsers send no Referer (we ask for no-referrer); the token and Origin decide."""
    who = make_staff("caseworker")
    c = client_for()
    token = c.token("/login")
    ok = c.client.post("/login", data={"email": who.email, "password": who.password,
                                       "csrf_token": token}, base_url="https://localhost",
                       headers={"Origin": "https://localhost", "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 303
    c2 = client_for()
    token = c2.token("/login")
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        r = c2.client.post("/login", data={"email": who.email, "password": who.password,
                                           "csrf_token": token}, base_url="https://localhost",
                           headers=headers)
        assert r.status_code == 400
