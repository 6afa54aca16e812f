"""Shared fixtures: a real database per run (SQLite or PostgreSQL), the app, staff
accounts and a client that signs in the way a person does (password, then TOTP).

Choose the database with ``ONBOARDING_TEST_DB=sqlite`` (default) or ``postgresql``.
PostgreSQL runs get a database of their own (``onb_test_<random>``) that is dropped at the
end, so parallel runs never collide. Pure-library tests (risk engine, attestation core)
do not depend on the database and run once, in the SQLite pass.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

TEST_DB = os.environ.get("ONBOARDING_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("ONBOARDING_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PURE_DIRS = ("tests/risk", "tests/attestation")

#: Canary PII: unique strings whose presence anywhere they should not be is a leak.
CANARY_NAME = "Zyxwvu Canaryname"
CANARY_DOB = "1911-11-11"
CANARY_NOTE = "CANARY-NOTE-7f3a9c"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Split the work between the two passes (deselected, never skipped):

    * PostgreSQL pass: app and browser tests; not the database-free library suites, which
      already ran in the SQLite pass, nor the SQLite-only demo smoke.
    * SQLite pass: everything except browser tests, of which only the smoke runs here.
    """
    keep, drop = [], []
    for item in items:
        path = str(item.path)
        browser = "/tests/browser/" in path
        smoke = item.get_closest_marker("sqlite_smoke") is not None
        if TEST_DB == "postgresql":
            dropped = any(f"/{d}/" in path for d in PURE_DIRS) or smoke
        else:
            dropped = browser and not smoke
        (drop if dropped else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# ------------------------------------------------------------------ database
def _create_pg_database() -> tuple[str, str]:
    import psycopg

    name = f"onb_test_{secrets.token_hex(6)}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.exit(f"PostgreSQL unreachable at {admin}: {exc}", returncode=3)
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg_database(name: str) -> None:
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this test run."""
    if TEST_DB == "postgresql":
        name, url = _create_pg_database()
        try:
            yield url
        finally:
            _drop_pg_database(name)
    elif TEST_DB == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        raise pytest.UsageError(f"ONBOARDING_TEST_DB={TEST_DB!r}: use sqlite or postgresql")


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """The test database with every Alembic migration applied (as in production)."""
    from onboarding import migrate
    from onboarding.db import make_engine

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _wipe(engine: Engine) -> None:
    from onboarding.db import Base

    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


# ------------------------------------------------------------------------ app
@pytest.fixture
def clock() -> Iterator[Any]:
    """A frozen clock that tests move explicitly."""
    from onboarding import clock as clock_mod

    class Clock:
        def __init__(self) -> None:
            self.at = datetime.now(UTC).replace(microsecond=0)
            clock_mod.freeze(self.at)

        def advance(self, **delta: float) -> datetime:
            self.at += timedelta(**delta)
            clock_mod.freeze(self.at)
            return self.at

    c = Clock()
    yield c
    clock_mod.freeze(None)


def make_test_config(database_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    """Configuration for a test app (cheap argon2, fixed throwaway keys)."""
    cfg: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
        "BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8 * 1024,
        "ARGON2_PARALLELISM": 1,
        "COOKIE_HOST_PREFIX": False,
        "SESSION_COOKIE_SECURE": True,
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "1000 per hour",
    }
    cfg.update(extra)
    return cfg


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private instance folder."""
    path = tmp_path / "instance"
    path.mkdir()
    monkeypatch.setenv("ONBOARDING_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def app_factory(migrated_engine: Engine, database_url: str, instance: Path,
                clock: Any) -> Iterator[Callable[..., Any]]:
    """Build apps with extra config; the database is wiped after the test."""
    from onboarding import create_app

    made = []

    def make(**extra: Any) -> Any:
        app = create_app(make_test_config(database_url, instance, **extra))
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["onboarding.engine"].dispose()
    _wipe(migrated_engine)


@pytest.fixture
def app(app_factory: Callable[..., Any]) -> Any:
    """The app under test."""
    return app_factory()


# ---------------------------------------------------------------- staff & orgs
@dataclass
class Staff:
    """A staff account a test can sign in with."""

    id: uuid.UUID
    org_id: uuid.UUID
    email: str
    password: str
    role: str
    totp_secret: str | None


@pytest.fixture
def orgs(app: Any) -> dict[str, Any]:
    """Two NGOs, two banks and the authority."""
    from onboarding import staff
    from onboarding.audit import Actor
    from onboarding.models.core import OrgKind

    out = {}
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        for key, kind in (("ngo", OrgKind.NGO), ("ngo2", OrgKind.NGO), ("bank", OrgKind.BANK),
                          ("bank2", OrgKind.BANK), ("authority", OrgKind.AUTHORITY)):
            org = staff.create_organisation(db, Actor(), kind=kind, name=f"{key} legal",
                                            display_name=f"{key} display")
            out[key] = org.id
    return out


ROLE_ORG = {"caseworker": "ngo", "ngo_admin": "ngo", "verifier": "bank",
            "compliance_officer": "bank", "reporting_officer": "bank", "bank_admin": "bank",
            "platform_admin": "authority"}


@pytest.fixture
def make_staff(app: Any, orgs: dict[str, Any]) -> Callable[..., Staff]:
    """Create a staff member (TOTP enrolled unless ``enrolled=False``)."""
    from onboarding import mfa, staff
    from onboarding.audit import Actor
    from onboarding.models import Organisation
    from onboarding.models.core import Role

    def make(role: str, org: str | None = None, enrolled: bool = True,
             password: str | None = None, must_change: bool = False) -> Staff:
        password = password or f"correct horse {secrets.token_hex(4)} battery"
        with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
            organisation = db.get(Organisation, orgs[org or ROLE_ORG[role]])
            user, _ = staff.create_user(
                db, Actor(), org=organisation, email=f"{role}.{secrets.token_hex(3)}@example.org",
                display_name=f"{role.title()} Person", role=Role(role), password=password,
                must_change_password=must_change)
            secret = None
            if enrolled:
                secret = mfa.new_secret()
                user.totp_secret_enc = mfa.seal_secret(
                    app.extensions["onboarding.keyring"], user.id, secret)
                user.totp_enrolled = True
            return Staff(user.id, user.org_id, user.email, password, role, secret)

    return make


# ------------------------------------------------------------------- clients
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                    r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token in a rendered page."""
    m = _TOKEN.search(html)
    assert m, "no CSRF token in page"
    return m.group(1) or m.group(2)


class StaffClient:
    """Flask test client that behaves like a browser on https://localhost."""

    def __init__(self, app: Any, clock: Any) -> None:
        self.app = app
        self.clock = clock
        self.client = app.test_client()
        self.client.environ_base["wsgi.url_scheme"] = "https"
        self.client.environ_base["HTTP_HOST"] = "localhost"
        self._token: str | None = None

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, base_url="https://localhost", **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, csrf: bool = True,
             **kw: Any) -> Any:
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.token()
        return self.client.post(url, data=data, base_url="https://localhost", **kw)

    def token(self, page: str = "/login") -> str:
        resp = self.get(page)
        if resp.status_code in (302, 303):
            resp = self.get("/home")
        return csrf_from(resp.get_data(as_text=True))

    def login_password(self, who: Staff, password: str | None = None) -> Any:
        return self.post("/login", {"email": who.email,
                                    "password": password or who.password},
                         csrf_token=None) if False else self.client.post(
            "/login", data={"email": who.email, "password": password or who.password,
                            "csrf_token": csrf_from(self.get("/login").get_data(as_text=True))},
            base_url="https://localhost", headers={"Referer": "https://localhost/"})

    def login(self, who: Staff) -> Any:
        """Password, then a fresh TOTP code (the clock moves one step so codes differ)."""
        from onboarding import mfa

        resp = self.login_password(who)
        assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:500]
        assert who.totp_secret
        self.clock.advance(seconds=30)
        page = self.get("/login/code")
        resp = self.post("/login/code", {"code": mfa.code_at(who.totp_secret),
                                         "csrf_token": csrf_from(page.get_data(as_text=True))})
        assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:500]
        return resp

    def cookie(self) -> str | None:
        c = self.client.get_cookie("onb_session", domain="localhost")
        return c.value if c else None


@pytest.fixture
def client_for(app: Any, clock: Any) -> Callable[[], StaffClient]:
    """New browser-like clients (each with its own cookies)."""
    return lambda: StaffClient(app, clock)


@pytest.fixture
def signed_in(client_for: Callable[[], StaffClient],
              make_staff: Callable[..., Staff]) -> Callable[[str], tuple[StaffClient, Staff]]:
    """A client signed in as a new staff member of ``role``."""

    def make(role: str, org: str | None = None) -> tuple[StaffClient, Staff]:
        who = make_staff(role, org)
        c = client_for()
        c.login(who)
        return c, who

    return make


def db_rows(engine_or_app: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Snapshot of every table (for 'nothing changed' assertions)."""
    from onboarding.db import Base

    engine = engine_or_app.extensions["onboarding.engine"] if hasattr(
        engine_or_app, "extensions") else engine_or_app
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out[table.name] = sorted(map(tuple, conn.execute(table.select()).all()), key=repr)
    return out


def count(app: Any, sql: str) -> int:
    """Scalar helper for assertions."""
    with app.extensions["onboarding.engine"].connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


# ------------------------------------------------------------- live server
@pytest.fixture
def live_app(migrated_engine: Engine, database_url: str, instance: Path) -> Iterator[Any]:
    """The app on a real server at http://127.0.0.1:<port>, on the real clock."""
    from werkzeug.serving import make_server

    from onboarding import create_app

    app = create_app(make_test_config(database_url, instance))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = app.config["LIVE_URL"]
    yield app
    server.shutdown()
    thread.join(5)
    app.extensions["onboarding.engine"].dispose()
    _wipe(migrated_engine)


@pytest.fixture
def live_staff(live_app: Any) -> Any:
    """Create staff accounts in the live app's database."""
    import secrets

    from onboarding import staff
    from onboarding.audit import Actor
    from onboarding.models.core import OrgKind, Role

    def make(role: str, kind: str = "ngo") -> tuple[str, str]:
        password = f"browser pass {secrets.token_hex(4)}"
        email = f"{role}.{secrets.token_hex(3)}@example.org"
        with live_app.extensions["onboarding.sessionmaker"]() as db, db.begin():
            org = staff.create_organisation(db, Actor(), kind=OrgKind(kind), name="Org",
                                            display_name="Org")
            staff.create_user(db, Actor(), org=org, email=email, display_name="Browser User",
                              role=Role(role), password=password, must_change_password=False)
        return email, password

    return make
