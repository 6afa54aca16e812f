"""First end-to-end pass through sign-in with the test client."""

from __future__ import annotations


def test_login_totp_home_logout(signed_in, clock):
    c, _who = signed_in("caseworker")
    home = c.get("/home")
    assert home.status_code == 200
    assert "caseworker" in home.get_data(as_text=True)
    resp = c.post("/logout", {"csrf_token": c.token("/home")})
    assert resp.status_code in (302, 303)
    assert c.get("/home").headers["Location"].startswith("/login")
