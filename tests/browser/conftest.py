"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser),
and the app served by a real HTTP server on 127.0.0.1 in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.conftest import _wipe, make_test_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run scripts/ensure-chromium.sh"
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                            headless=True)
    yield b
    b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


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
