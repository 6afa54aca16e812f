"""SECURITY.md 9-10: the route × role matrix and object-level tenancy."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from onboarding.policy import PARTIAL, POLICY, PUBLIC, STAFF, access_for

ROLES = ["caseworker", "ngo_admin", "verifier", "compliance_officer", "reporting_officer",
         "bank_admin", "platform_admin"]
SKIP_METHODS = {"HEAD", "OPTIONS"}


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every route, with placeholder arguments filled."""
    out = []
    for rule in app.url_map.iter_rules():
        args: dict[str, Any] = {}
        for name, conv in rule._converters.items():
            args[name] = uuid.uuid4() if "UUID" in type(conv).__name__ else "x.css"
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        for method in sorted((rule.methods or set()) - SKIP_METHODS):
            out.append((rule.endpoint, method, url))
    return out


def missing_policy(app: Flask) -> list[str]:
    """Endpoints/methods that have no entry in the policy table."""
    return [f"{m} {e}" for e, m, _ in routes(app) if access_for(e, m) is None]


def test_every_route_has_a_policy_entry(app):
    assert missing_policy(app) == []


def test_policy_table_has_no_stale_entries(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert set(POLICY) - endpoints == set()


def test_a_new_route_without_policy_is_caught_and_denied(app_factory, signed_in):
    app = app_factory()

    @app.route("/brand-new-feature", methods=["GET", "POST"])
    def brand_new_feature() -> str:
        return "should never be reachable"

    assert missing_policy(app) == ["GET brand_new_feature", "POST brand_new_feature"]
    # And at run time it fails closed for everyone, even the platform admin.
    client = app.test_client()
    assert client.get("/brand-new-feature", base_url="https://localhost").status_code == 403


def expected(endpoint: str, method: str, role: str | None) -> bool:
    access = access_for(endpoint, method)
    assert access is not None
    if access == PUBLIC:
        return True
    if role is None:
        return False
    if access in (PARTIAL, STAFF):
        return True
    return role in {r.value for r in access}  # type: ignore[union-attr]


def outcome(resp: Any) -> str:
    """'denied' (policy refused), 'login' (sent to sign in) or 'allowed'."""
    if resp.status_code == 403:
        return "denied"
    if resp.status_code == 401:
        return "login"
    if resp.status_code in (301, 302, 303, 307) and \
            urlsplit(resp.headers["Location"]).path == "/login":
        return "login"
    return "allowed"


@pytest.mark.parametrize("role", [None, *ROLES])
def test_route_role_matrix(role, app, client_for, make_staff):
    c = client_for()
    if role is not None:
        c.login(make_staff(role))
    token = c.token("/home") if role else c.token("/login")
    failures = []
    for endpoint, method, url in routes(app):
        if endpoint == "auth.logout":
            continue  # would end the session mid-matrix; covered in test_auth
        resp = c.get(url) if method == "GET" else c.post(url, {"csrf_token": token})
        got = outcome(resp)
        want_allowed = expected(endpoint, method, role)
        if access_for(endpoint, method) == PUBLIC and got == "login":
            got = "allowed"  # public pages may send visitors on to sign-in themselves
        if want_allowed and got != "allowed":
            failures.append(f"{method} {endpoint}: expected allowed, got {resp.status_code}")
        if not want_allowed and got == "allowed":
            failures.append(f"{method} {endpoint}: expected denied, got {resp.status_code}")
    assert failures == []


def test_ids_are_random_uuid4(make_staff, orgs):
    ids = [make_staff("caseworker").id for _ in range(3)] + list(orgs.values())
    assert all(i.version == 4 for i in ids)
    assert len({i.int >> 64 for i in ids}) == len(ids)  # no shared prefix / sequence


def test_other_organisations_staff_is_404(signed_in, make_staff):
    admin, _ = signed_in("ngo_admin")
    other = make_staff("caseworker", org="ngo2")
    own = make_staff("caseworker", org="ngo")
    assert admin.get(f"/admin/staff/{own.id}").status_code == 200
    assert admin.get(f"/admin/staff/{other.id}").status_code == 404
    token = admin.token("/home")
    for action in ("disable", "enable"):
        assert admin.post(f"/admin/staff/{other.id}/{action}",
                          {"csrf_token": token}).status_code == 404
    # Unknown and foreign ids look the same: existence is never confirmed.
    unknown_id = uuid.uuid4()
    unknown = admin.get(f"/admin/staff/{unknown_id}")
    foreign = admin.get(f"/admin/staff/{other.id}")
    assert unknown.status_code == foreign.status_code == 404
    def normalised(resp: Any) -> str:
        body = resp.get_data(as_text=True).replace(resp.headers["X-Request-ID"], "RID")
        body = body.replace(str(unknown_id), "ID").replace(str(other.id), "ID")
        return re.sub(r'name="csrf_token" value="[^"]+"', "TOKEN", body)

    assert normalised(unknown) == normalised(foreign)


def test_bank_admin_cannot_touch_ngo_staff(signed_in, make_staff):
    bank_admin, _ = signed_in("bank_admin")
    ngo_user = make_staff("caseworker")
    assert bank_admin.get(f"/admin/staff/{ngo_user.id}").status_code == 404


def test_staff_list_shows_only_own_organisation(signed_in, make_staff):
    admin, _ = signed_in("ngo_admin")
    mine = make_staff("caseworker", org="ngo")
    theirs = make_staff("caseworker", org="ngo2")
    page = admin.get("/admin/staff").get_data(as_text=True)
    assert mine.email in page
    assert theirs.email not in page


def test_audit_page_shows_only_own_organisation(signed_in, make_staff, app):
    admin, me = signed_in("bank_admin")
    other = make_staff("bank_admin", org="bank2")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert str(other.id)[:8] not in page
    assert str(me.id)[:8] in page
