"""Operations on organisations and staff accounts. Every write appends an audit entry
in the same transaction, so the log and the data cannot disagree."""

from __future__ import annotations

import secrets
import uuid

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onboarding import audit, mfa
from onboarding.audit import Actor
from onboarding.clock import now
from onboarding.crypto import Keyring
from onboarding.models import Organisation, RecoveryCode, User
from onboarding.models.core import ADMIN_ROLE, ROLES_BY_KIND, OrgKind, Role
from onboarding.passwords import hash_password, password_problems
from onboarding.sessions import end_user_sessions


class StaffError(ValueError):
    """A staff operation was refused; the message is safe to show to the admin."""


def one_time_password() -> str:
    """A random initial password the user must change at first sign-in."""
    return secrets.token_urlsafe(15)


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def create_organisation(db: Session, actor: Actor, *, kind: OrgKind, name: str,
                        display_name: str, jurisdiction: str = "GB") -> Organisation:
    """Add a tenant."""
    org = Organisation(id=uuid.uuid4(), kind=kind, name=name.strip(),
                       display_name=display_name.strip(), jurisdiction=jurisdiction.upper())
    db.add(org)
    db.flush()
    audit.record(db, actor, "org.create", object_type="organisation", object_id=org.id,
                 org_id=org.id, kind=kind.value)
    if kind == OrgKind.NGO:
        seed_consent_texts(db, actor, org)
    return org


def seed_consent_texts(db: Session, actor: Actor, org: Organisation) -> None:
    """Give a new NGO the shipped consent texts (version 1, English and Spanish); its
    admin publishes new versions from the NGO workspace."""
    import json
    from importlib import resources

    from onboarding.models import ConsentText

    data = json.loads(resources.files("onboarding").joinpath("data/consent-v1.json")
                      .read_text(encoding="utf-8"))
    for lang, text in data["texts"].items():
        row = ConsentText(id=uuid.uuid4(), org_id=org.id, version=data["version"],
                          language=lang, title=text["title"], body=text["body"],
                          purposes=data["purposes"], active=True)
        db.add(row)
        db.flush()
        audit.record(db, actor, "consent_text.publish", object_type="consent_text",
                     object_id=row.id, org_id=org.id, version=row.version, language=lang)


def create_user(db: Session, actor: Actor, *, org: Organisation, email: str,
                display_name: str, role: Role, password: str | None = None,
                must_change_password: bool = True) -> tuple[User, str]:
    """Add a staff member; returns the user and the initial password (shown once)."""
    if role not in ROLES_BY_KIND[org.kind]:
        raise StaffError(_("The role %(r)s does not exist in this kind of organisation.",
                           r=role.value))
    email = normalise_email(email)
    exists = db.execute(select(func.count()).select_from(User).where(User.email == email))
    if exists.scalar_one():
        raise StaffError(_("A staff account with this email already exists."))
    initial = password or one_time_password()
    if password is not None:
        problems = password_problems(password, context=(email.split("@")[0], display_name))
        if problems:
            raise StaffError(" ".join(problems))
    user = User(id=uuid.uuid4(), org_id=org.id, email=email, display_name=display_name.strip(),
                role=role, password_hash=hash_password(initial),
                must_change_password=must_change_password, organisation=org)
    db.add(user)
    db.flush()
    audit.record(db, actor, "staff.create", object_type="staff_user", object_id=user.id,
                 org_id=org.id, role=role.value)
    return user, initial


def create_first_admin(db: Session, actor: Actor, org: Organisation, email: str,
                       display_name: str) -> tuple[User, str]:
    """The organisation's first admin, with a one-time password to change."""
    return create_user(db, actor, org=org, email=email, display_name=display_name,
                       role=ADMIN_ROLE[org.kind])


def change_password(db: Session, actor: Actor, user: User, new_password: str,
                    keep_sid: str | None = None) -> None:
    """Set a new password and end the user's other sessions (SECURITY.md 5)."""
    problems = password_problems(new_password,
                                 context=(user.email.split("@")[0], user.display_name))
    if problems:
        raise StaffError(" ".join(problems))
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = now()
    ended = end_user_sessions(db, user.id, keep_sid=keep_sid)
    audit.record(db, actor, "staff.password_change", object_type="staff_user",
                 object_id=user.id, org_id=user.org_id, sessions_ended=ended)


def start_totp_enrolment(keyring: Keyring, user: User) -> str:
    """A fresh seed for the enrolment page (stored only once confirmed)."""
    return mfa.new_secret()


def confirm_totp(db: Session, actor: Actor, keyring: Keyring, user: User, secret: str,
                 code: str) -> list[str] | None:
    """Store the seed if ``code`` proves the app has it; returns new recovery codes."""
    step = mfa.match_step(secret, code, 0)
    if step is None:
        return None
    user.totp_secret_enc = mfa.seal_secret(keyring, user.id, secret)
    user.totp_enrolled = True
    user.totp_last_step = step
    codes = _replace_recovery_codes(db, user)
    audit.record(db, actor, "staff.totp_enrol", object_type="staff_user", object_id=user.id,
                 org_id=user.org_id)
    return codes


def _replace_recovery_codes(db: Session, user: User) -> list[str]:
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = mfa.new_recovery_codes()
    for code in codes:
        db.add(RecoveryCode(id=uuid.uuid4(), user_id=user.id,
                            code_hash=mfa.hash_recovery_code(code)))
    return codes


def regenerate_recovery_codes(db: Session, actor: Actor, user: User) -> list[str]:
    """New set of recovery codes; the old ones stop working."""
    codes = _replace_recovery_codes(db, user)
    audit.record(db, actor, "staff.recovery_codes_regenerate", object_type="staff_user",
                 object_id=user.id, org_id=user.org_id)
    return codes


def check_second_factor(db: Session, actor: Actor, keyring: Keyring, user: User,
                        code: str) -> str | None:
    """Accept a TOTP code (once) or an unused recovery code; returns which, or None."""
    if user.totp_secret_enc is None:
        return None
    secret = mfa.open_secret(keyring, user.id, user.totp_secret_enc)
    step = mfa.match_step(secret, code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return "totp"
    if len(code.strip()) >= 16:
        digest = mfa.hash_recovery_code(code)
        row = db.execute(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None))).scalar_one_or_none()
        if row is not None:
            row.used_at = now()
            audit.record(db, actor, "staff.recovery_code_use", object_type="staff_user",
                         object_id=user.id, org_id=user.org_id)
            return "recovery"
    return None


def set_active(db: Session, actor: Actor, user: User, active: bool) -> None:
    """Disable (ending every session at once) or re-enable a staff account."""
    if actor.user_id == user.id and not active:
        raise StaffError(_("You cannot disable your own account."))
    user.is_active = active
    ended = 0 if active else end_user_sessions(db, user.id)
    audit.record(db, actor, "staff.enable" if active else "staff.disable",
                 object_type="staff_user", object_id=user.id, org_id=user.org_id,
                 sessions_ended=ended)


def reset_totp(db: Session, actor: Actor, user: User) -> str:
    """Admin reset of a lost authenticator: the user re-enrols with a new password."""
    user.totp_secret_enc = None
    user.totp_enrolled = False
    user.totp_last_step = 0
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    initial = one_time_password()
    user.password_hash = hash_password(initial)
    user.must_change_password = True
    ended = end_user_sessions(db, user.id)
    audit.record(db, actor, "staff.totp_reset", object_type="staff_user", object_id=user.id,
                 org_id=user.org_id, sessions_ended=ended)
    return initial
