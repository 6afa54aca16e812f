"""SECURITY.md 34-35: no personal data or secrets in logs; generic errors; production
configuration check."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from onboarding import mfa
from onboarding.config import check_production
from tests.conftest import CANARY_DOB, CANARY_NAME, CANARY_NOTE, csrf_from

ROOT = Path(__file__).resolve().parents[2]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(record.getMessage() + " " + repr(record.__dict__))


@pytest.fixture
def captured(app):
    cap = Capture()
    loggers = [logging.getLogger()] + [logging.getLogger(n) for n in
                                       list(logging.Logger.manager.loggerDict)]
    loggers.append(logging.getLogger("onboarding"))
    old_levels = {}
    for lg in loggers:
        lg.addHandler(cap)
        old_levels[lg] = lg.level
    logging.getLogger().setLevel(logging.DEBUG)
    yield cap
    for lg in loggers:
        lg.removeHandler(cap)
        lg.setLevel(old_levels[lg])


def test_no_pii_or_secrets_in_logs(captured, signed_in, client_for, make_staff, app):
    canary_pw = "CanaryPass-" + CANARY_NOTE
    admin, _admin_who = signed_in("ngo_admin")
    page = admin.get("/admin/staff/new")
    r = admin.post("/admin/staff/new", {"email": "canary.person@example.org",
                                        "display_name": CANARY_NAME + " " + CANARY_DOB,
                                        "role": "caseworker",
                                        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 200
    c = client_for()
    c.post("/login", {"email": "canary.person@example.org", "password": canary_pw,
                      "csrf_token": c.token("/login")})
    who = make_staff("caseworker", password=canary_pw)
    c.login(who)
    code = mfa.code_at(who.totp_secret)
    c.get("/admin/audit?q=" + CANARY_NAME.replace(" ", "+"))
    c.get("/this/does/not/exist?name=" + CANARY_NAME.replace(" ", "+"))
    cookie = c.cookie()
    # the survivor-facing flows: enrolment with canaries, issuance, card, search, export
    from tests.app.intake_helpers import certify, enrol, ensure_key, issue

    certify(app, who)
    ensure_key(app, who.org_id)
    pid = enrol(c)
    r = issue(c, who, pid)
    att = r.headers["Location"].rsplit("/", 1)[1]
    c.get(f"/intake/attestations/{att}/card.pdf")
    c.post("/intake/", {"q": CANARY_NAME, "csrf_token": c.token("/home")})
    c.get(f"/intake/{pid}/export.pdf")
    c.get(f"/intake/{pid}/identity")
    assert captured.records  # we did capture the app's logs
    blob = "\n".join(captured.lines)
    for secret in (CANARY_NAME, CANARY_DOB, CANARY_NOTE, canary_pw, who.totp_secret, code,
                   cookie, "canary.person@example.org", app.config["SECRET_KEY"],
                   app.config["KEK"]):
        assert secret not in blob, secret


def test_log_lines_are_json_with_time_actor_request_id(app):
    import io

    from onboarding.logs import ContextFilter, JsonFormatter

    handler = app.logger.handlers[0]
    out = io.StringIO()
    handler.setStream(out)
    assert isinstance(handler.formatter, JsonFormatter)
    assert any(isinstance(f, ContextFilter) for f in handler.filters)
    with app.test_request_context("/x"):
        from flask import g

        g.request_id = "abc123"
        g.user = None
        app.logger.warning("hello")
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["request_id"] == "abc123" and line["actor"] == "-"
    assert line["time"].endswith("+00:00")


def test_access_log_filter_strips_query_strings():
    from onboarding.logs import StripQuery

    rec = logging.LogRecord("werkzeug", logging.INFO, "", 0,
                            '%s - - "%s" %s', ("127.0.0.1", "GET /cases?q=Jane+Doe HTTP/1.1",
                                               "200"), None)
    StripQuery().filter(rec)
    assert "Jane" not in rec.getMessage() and "/cases?[redacted]" in rec.getMessage()


def test_production_check_lists_every_problem():
    bad = {"DEBUG": True, "SECRET_KEY": "dev", "KEK": "", "SESSION_COOKIE_SECURE": False,
           "SESSION_COOKIE_HTTPONLY": False, "SESSION_COOKIE_SAMESITE": None,
           "COOKIE_HOST_PREFIX": False, "DATABASE_URL": "sqlite:///x.db",
           "WEBHOOK_ALLOW_HTTP": True}
    problems = " | ".join(check_production(bad))
    for word in ("DEBUG", "SECRET_KEY", "KEK", "BLIND_INDEX_KEY", "KEYSTORE_URL", "SECURE",
                 "HTTPONLY", "SAMESITE", "__Host-",
                 "SQLite", "REDIS_URL", "WEBHOOK_ALLOW_HTTP"):
        assert word in problems, word
    import base64
    import secrets

    good = {"SECRET_KEY": secrets.token_urlsafe(48),
            "KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
            "BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "KEYSTORE_URL": "postgresql://keys/keystore",
            "SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax", "COOKIE_HOST_PREFIX": True,
            "DATABASE_URL": "postgresql://db/onboarding", "REDIS_URL": "redis://127.0.0.1"}
    assert check_production(good) == []


def _run_cli(args, env_extra, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARDING_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "onboarding.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_check_config_command_fails_on_demo_and_passes_production(tmp_path, database_url):
    import base64
    import secrets

    inst = tmp_path / "inst"
    demo = _run_cli(["check-config"], {"ONBOARDING_INSTANCE_PATH": str(inst),
                                       "ONBOARDING_DEMO": "1", "ONBOARDING_DEBUG": "1",
                                       "ONBOARDING_SECRET_KEY": "short",
                                       "ONBOARDING_KEK": base64.b64encode(b"k" * 32).decode(),
                                       "ONBOARDING_BLIND_INDEX_KEY":
                                           base64.b64encode(b"b" * 32).decode()},
                    tmp_path)
    assert demo.returncode == 1
    assert "DEBUG is on" in demo.stderr and "SECRET_KEY" in demo.stderr
    prod = _run_cli(["check-config"], {
        "ONBOARDING_INSTANCE_PATH": str(inst),
        "ONBOARDING_SECRET_KEY": secrets.token_urlsafe(48),
        "ONBOARDING_KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ONBOARDING_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ONBOARDING_KEYSTORE_URL": f"sqlite:///{inst}/keystore.db",
        "ONBOARDING_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "ONBOARDING_REDIS_URL": "redis://127.0.0.1:6379/0"}, tmp_path)
    assert prod.returncode == 0, prod.stderr
    missing = _run_cli(["check-config"], {"ONBOARDING_INSTANCE_PATH": str(inst)}, tmp_path)
    assert missing.returncode != 0
    assert "missing ONBOARDING_SECRET_KEY" in missing.stderr


def test_sqlite_files_are_owner_only(tmp_path):
    """The embedded database (and its WAL) is not readable by other local accounts, even
    with the usual 0022 umask; an older file with wider rights is narrowed."""
    import os
    import stat

    from sqlalchemy import text

    from onboarding.db import make_engine

    old = os.umask(0o022)
    try:
        path = tmp_path / "data.db"
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
        engine.dispose()
        assert modes["data.db"] == 0o600
        assert all(mode == 0o600 for mode in modes.values()), modes  # -wal, -shm too
        wide = tmp_path / "old.db"
        for name in ("old.db", "old.db-wal", "old.db-shm"):
            (tmp_path / name).touch()
            os.chmod(tmp_path / name, 0o644)
        make_engine(f"sqlite:///{wide}").dispose()
        for name in ("old.db", "old.db-wal", "old.db-shm"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    finally:
        os.umask(old)
