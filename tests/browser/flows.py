"""Shared set-up for browser tests: staff with an enrolled authenticator, written straight
into the live app's database (the sign-in itself always goes through the browser)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import pyotp


def new_org(app: Any, kind: str, name: str, display_name: str) -> uuid.UUID:
    """A tenant of ``kind`` (ngo, bank, authority)."""
    from onboarding import staff
    from onboarding.audit import Actor
    from onboarding.models.core import OrgKind

    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        return staff.create_organisation(db, Actor(), kind=OrgKind(kind), name=name,
                                         display_name=display_name).id


def staff_user(app: Any, org_id: uuid.UUID, role: str,
               name: str) -> tuple[str, str, pyotp.TOTP]:
    """A staff member with TOTP enrolled; returns (email, password, totp)."""
    from onboarding import mfa, staff
    from onboarding.audit import Actor
    from onboarding.models import Organisation
    from onboarding.models.core import Role

    password = f"quiet meadow {secrets.token_hex(4)}"
    secret = mfa.new_secret()
    email = f"{role}.{secrets.token_hex(3)}@example.org"
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        user, _ = staff.create_user(db, Actor(), org=db.get(Organisation, org_id), email=email,
                                    display_name=name, role=Role(role), password=password,
                                    must_change_password=False)
        user.totp_secret_enc = mfa.seal_secret(app.extensions["onboarding.keyring"], user.id,
                                               secret)
        user.totp_enrolled = True
    return email, password, pyotp.TOTP(secret)


def submit(page: Any, target: Any) -> None:
    """Click a control that submits a form and wait until the answer page has loaded.

    Playwright's click returns once a navigation has started, not finished: a check made
    right after it can read the page being left (or a new one not parsed yet). Pages that
    answer a POST on the same URL (a form shown again with its errors) cannot be waited for
    with ``wait_for_url``, so wait for the navigation itself."""
    with page.expect_navigation(wait_until="load"):
        if isinstance(target, str):
            page.click(target)
        else:
            target.click()
