"""Migrations, periodic jobs, the demo command, language switching, tenants."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from onboarding.db import Base
from tests.conftest import count, csrf_from


def test_migrations_produce_exactly_the_models_schema(migrated_engine):
    with migrated_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_sqlite_runs_wal_with_full_sync(app):
    engine = app.extensions["onboarding.engine"]
    if engine.dialect.name != "sqlite":
        assert engine.dialect.name == "postgresql"
        with engine.connect() as conn:
            assert conn.execute(text("SHOW fsync")).scalar() == "on"
            assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
        return
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_jobs_run_only_when_due(app, clock, signed_in):
    runner = app.test_cli_runner()
    signed_in("caseworker")
    first = runner.invoke(args=["jobs", "run"])
    assert first.exit_code == 0 and "sessions.purge: ok" in first.output
    again = runner.invoke(args=["jobs", "run"])
    assert "sessions.purge" not in again.output  # not due yet
    clock.advance(minutes=16)
    assert count(app, "SELECT count(*) FROM staff_session") >= 1
    later = runner.invoke(args=["jobs", "run"])
    assert "sessions.purge: ok {'deleted': " in later.output
    assert count(app, "SELECT count(*) FROM staff_session") == 0
    assert count(app, "SELECT count(*) FROM audit_entry WHERE action = 'job.run' "
                      "AND object_id = 'sessions.purge'") == 2
    listing = runner.invoke(args=["jobs", "list"])
    assert "sessions.purge" in listing.output and "(ok)" in listing.output


def test_a_job_never_runs_twice_at_once(app):
    """cron overlapping a slow run, or the jobs scheduled on two hosts: the second run of a
    job skips it (advisory lock on PostgreSQL, a file lock beside an SQLite database)."""
    from onboarding import jobs

    engine = app.extensions["onboarding.engine"]
    factory = app.extensions["onboarding.sessionmaker"]
    out: list[str] = []
    with jobs.exclusive(engine, "sessions.purge") as mine:
        assert mine
        with jobs.exclusive(engine, "sessions.purge") as again:
            assert not again  # another connection / open file: another process
        with jobs.exclusive(engine, "status_lists.publish") as other:
            assert other  # one lock per job
        assert jobs.run_due(factory, app.config, only="sessions.purge", report=out.append) == 0
        assert out == ["  sessions.purge: skipped (already running elsewhere)"]
        assert count(app, "SELECT count(*) FROM job_run WHERE name = 'sessions.purge'") == 0
    out.clear()  # released when the holder ends (or dies)
    assert jobs.run_due(factory, app.config, only="sessions.purge", report=out.append) == 0
    assert out[-1].startswith("  sessions.purge: ok")
    out.clear()
    jobs.run_due(factory, app.config, only="sessions.purge", report=out.append)
    assert out == []  # ran a moment ago: not due


def test_language_switch_for_staff(signed_in, app):
    c, who = signed_in("caseworker")
    assert "Sign out" in c.get("/home").get_data(as_text=True)
    r = c.post("/language", {"lang": "es", "next": "/home", "csrf_token": c.token("/home")})
    assert r.headers["Location"] == "/home"
    body = c.get("/home").get_data(as_text=True)
    assert 'lang="es"' in body and "Cerrar sesión" in body
    with app.extensions["onboarding.engine"].connect() as conn:
        loc = conn.execute(text("SELECT locale FROM staff_user WHERE email = :e"),
                           {"e": who.email}).scalar()
    assert loc == "es"
    # ignores languages we do not ship and foreign redirect targets
    r = c.post("/language", {"lang": "xx", "next": "https://evil.example/",
                             "csrf_token": c.token("/home")})
    assert r.headers["Location"] == "/"


def test_browser_language_is_honoured_for_visitors(client_for):
    c = client_for()
    body = c.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9"}).get_data(as_text=True)
    assert "Iniciar sesión" in body


def test_platform_admin_creates_bank_with_first_admin(signed_in, client_for, app, clock):
    pa, _ = signed_in("platform_admin")
    page = pa.get("/admin/organisations/new")
    data = {"kind": "bank", "name": "Example Bank plc", "display_name": "Example Bank",
            "jurisdiction": "gb", "admin_email": "boss@bank.example", "admin_name": "Boss",
            "csrf_token": csrf_from(page.get_data(as_text=True))}
    revealing = dict(data, display_name="Trafficking Survivors Fund")
    r = pa.post("/admin/organisations/new", revealing)
    assert "Choose a neutral name" in r.get_data(as_text=True)
    assert 'value="Example Bank plc"' in r.get_data(as_text=True)  # kept what was typed
    r = pa.post("/admin/organisations/new", data)
    initial = re.search(r'id="one-time-password">([^<]+)<', r.get_data(as_text=True)).group(1)
    assert count(app, "SELECT count(*) FROM organisation WHERE jurisdiction = 'GB' "
                      "AND name = 'Example Bank plc'") == 1
    assert count(app, "SELECT count(*) FROM staff_user WHERE role = 'bank_admin'") == 1
    # the new admin signs in with the one-time password and must enrol TOTP first
    from tests.conftest import Staff

    boss = client_for()
    r = boss.login_password(Staff(None, None, "boss@bank.example", initial, "bank_admin", None))
    assert r.headers["Location"] == "/account/authenticator"


def test_admin_creates_staff_only_with_roles_of_their_kind(signed_in, app):
    admin, _ = signed_in("bank_admin")
    page = admin.get("/admin/staff/new").get_data(as_text=True)
    assert 'value="verifier"' in page and 'value="caseworker"' not in page
    r = admin.post("/admin/staff/new", {"email": "x@bank.example", "display_name": "X",
                                        "role": "caseworker", "org_id": "whatever",
                                        "csrf_token": csrf_from(page)})
    assert r.status_code == 200 and "Not a valid choice" in r.get_data(as_text=True)
    assert count(app, "SELECT count(*) FROM staff_user WHERE email = 'x@bank.example'") == 0
    r = admin.post("/admin/staff/new", {"email": "y@bank.example", "display_name": "Y",
                                        "role": "verifier", "csrf_token": csrf_from(page)})
    assert r.status_code == 200
    dupe = admin.post("/admin/staff/new", {"email": "Y@bank.example", "display_name": "Y2",
                                           "role": "verifier", "csrf_token": csrf_from(page)})
    assert "already exists" in dupe.get_data(as_text=True)
    assert 'value="Y2"' in dupe.get_data(as_text=True)


def test_demo_command_sets_up_and_prints_accounts_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARDING_")}
    env["ONBOARDING_INSTANCE_PATH"] = str(tmp_path / "instance")
    cmd = [sys.executable, "-m", "onboarding.cli", "demo", "--no-serve"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120,
                           check=True)
    assert "DEMO ONLY" in first.stdout
    roles = re.findall(r"^\S.*?\s(caseworker|ngo_admin|verifier|compliance_officer|"
                       r"reporting_officer|bank_admin|platform_admin)\s", first.stdout, re.M)
    assert set(roles) == {"caseworker", "ngo_admin", "verifier", "compliance_officer",
                          "reporting_officer", "bank_admin", "platform_admin"}
    for name in ("secret_key", "kek", "audit_signing_key.pem", "onboarding.db"):
        path = tmp_path / "instance" / name
        assert path.exists()
        if name != "onboarding.db":
            assert oct(path.stat().st_mode)[-3:] == "600"
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120,
                            check=True)
    assert "already exist" in second.stdout
    passwords = re.findall(r"@\S+\s+(\S+)$", first.stdout, re.M)
    assert passwords and not any(p in second.stdout for p in passwords)


def test_revision_0002_turns_approved_cases_into_open_accounts(tmp_path):
    """A database at 0001 with an approved case: after upgrading, the case is an open T1
    account (opened on the decision date, 12-month box, the decision as its history); the
    downgrade runs back cleanly."""
    import uuid
    from datetime import UTC, date, datetime
    from typing import Any

    from sqlalchemy import MetaData, insert, select

    from onboarding import migrate
    from onboarding.db import make_engine
    from tests.conftest import TEST_DB, _create_pg_database, _drop_pg_database

    name, url = (_create_pg_database() if TEST_DB == "postgresql"
                 else (None, f"sqlite:///{tmp_path / 'm.db'}"))
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, "0001_initial")
        md = MetaData()
        md.reflect(engine)
        t = md.tables
        at = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)

        def new_id() -> Any:  # reflected SQLite keys are CHAR(32) hex
            return uuid.uuid4() if TEST_DB == "postgresql" else uuid.uuid4().hex

        org, user, ver = new_id(), new_id(), new_id()
        approved, referred = new_id(), new_id()
        with engine.begin() as conn:
            conn.execute(insert(t["organisation"]).values(
                id=org, kind="bank", name="b", display_name="b", jurisdiction="GB",
                issuer_state="none", is_active=True, created_at=at))
            conn.execute(insert(t["staff_user"]).values(
                id=user, org_id=org, email="x@example.org", display_name="x",
                role="compliance_officer", password_hash="x", must_change_password=False,
                totp_enrolled=True, totp_last_step=0, locale="en", is_active=True,
                created_at=at, password_changed_at=at))
            conn.execute(insert(t["verification"]).values(id=ver, org_id=org, at=at,
                                                          result="valid", channel="paste"))
            for cid, status, decision in (
                    (approved, "approved", {"outcome": "approve", "tier": "T1",
                                            "how": "approve", "by": str(user)}),
                    (referred, "referred", None)):
                conn.execute(insert(t["bank_case"]).values(
                    id=cid, org_id=org, verification_id=ver, created_by=user, created_at=at,
                    status=status, product="basic_account", counter_checks={},
                    claims_enc=b"x", version=1, applicant_key="", decision=decision,
                    decided_at=at if decision else None))
        migrate.upgrade(engine, "head")
        md = MetaData()
        md.reflect(engine)
        case = md.tables["bank_case"]
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(case))}
        a, r = rows[approved], rows[referred]
        assert (a.account_tier, a.account_opened_on, a.valid_until) == (
            "T1", date(2026, 1, 31), date(2027, 1, 31))
        assert a.history[0]["backfilled"] and a.history[0]["tier"] == "T1"
        assert a.review_kind == "onboarding" and a.renewals_used == 0 and a.changed_seq == 0
        assert r.account_tier is None and r.history == []
        migrate.downgrade(engine, "0001_initial")
        md = MetaData()
        md.reflect(engine)
        assert "monitoring_alert" not in md.tables
        assert "account_tier" not in md.tables["bank_case"].columns
    finally:
        engine.dispose()
        if name:
            _drop_pg_database(name)
