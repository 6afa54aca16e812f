"""Authentication views: parse, call :mod:`onboarding.staff`, render."""

from __future__ import annotations

import hashlib
import logging
from typing import cast

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from onboarding import mfa, staff
from onboarding.audit import Actor
from onboarding.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    EmptyForm,
    EnrolForm,
    LoginForm,
    ReauthForm,
)
from onboarding.clock import now
from onboarding.crypto import Keyring
from onboarding.extensions import limiter
from onboarding.models import User
from onboarding.passwords import hash_password, needs_rehash, verify_password
from onboarding.security import current_user, db, require_step_up, safe_next
from onboarding.sessions import ServerSession

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

GENERIC_LOGIN_ERROR = _l("Email or password is incorrect.")


def actor() -> Actor:
    """The audit actor for this request."""
    user = current_user()
    return Actor(user.id if user else None, user.org_id if user else None, g.get("request_id"))


def keyring() -> Keyring:
    """The KEK ring (from the environment / instance folder)."""
    return cast(Keyring, current_app.extensions["onboarding.keyring"])


def _account_key() -> str:
    # Per-account throttle key: a hash, so the limiter storage (Redis) holds no emails.
    email = staff.normalise_email(request.form.get("email", ""))
    return "acct:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _user_key() -> str:
    return "user:" + str(session.get("_user_id", request.remote_addr))


def _login_limit() -> str:
    return cast(str, current_app.config["LOGIN_RATE_LIMIT"])


def _account_limit() -> str:
    return cast(str, current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"])


#: Guesses of a signed-in user's password (step-up, change of password) share one budget per
#: account: with a limit per route, a borrowed session would get a full budget on each.
_PASSWORD_GUESSES = limiter.shared_limit(_account_limit, scope="password-guesses",
                                         key_func=_user_key, methods=["POST"])


def _srv_session() -> ServerSession:
    return cast(ServerSession, session._get_current_object())  # type: ignore[attr-defined]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"])
def login() -> str | Response:
    """Step 1: email and password. Unknown user and wrong password look identical."""
    user = current_user()
    if user is not None and g.auth_level == "full":
        return cast(Response, redirect(url_for("main.home"), 303))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        email = staff.normalise_email(form.email.data or "")
        found = db().execute(select(User).where(User.email == email)).scalar_one_or_none()
        ok = verify_password(found.password_hash if found else None, form.password.data or "")
        if ok and found is not None and found.is_active and found.organisation.is_active:
            if needs_rehash(found.password_hash):
                found.password_hash = hash_password(form.password.data or "")
                db().commit()
            sess = _srv_session()
            locale = session.get("locale")
            sess.clear()
            sess.regenerate()
            if locale:
                session["locale"] = locale
            session["_user_id"] = str(found.id)
            session["_auth_level"] = "password"
            session["_next"] = safe_next(form.next.data)
            target = "auth.totp" if found.totp_enrolled else "auth.enrol_totp"
            return cast(Response, redirect(url_for(target), 303))
        log.info("sign-in refused")
        form.password.errors = [str(GENERIC_LOGIN_ERROR)]
    return render_template("auth/login.html", form=form)


def _finish_login(user: User) -> Response:
    sess = _srv_session()
    target = safe_next(session.get("_next")) or url_for("main.home")
    locale = session.get("locale")
    sess.clear()
    sess.regenerate()
    session["_user_id"] = str(user.id)
    session["_auth_level"] = "full"
    session["_login_at"] = now().isoformat()
    if locale:
        session["locale"] = locale
    return cast(Response, redirect(target, 303))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_account_limit, key_func=_user_key, methods=["POST"])
def totp() -> str | Response:
    """Step 2: the TOTP code (or a recovery code)."""
    user = current_user()
    assert user is not None
    if g.auth_level == "full":
        return cast(Response, redirect(url_for("main.home"), 303))
    if not user.totp_enrolled:
        return cast(Response, redirect(url_for("auth.enrol_totp"), 303))
    form = CodeForm()
    if form.validate_on_submit():
        used = staff.check_second_factor(db(), actor(), keyring(), user, form.code.data or "")
        if used:
            from onboarding import audit

            audit.record(db(), actor(), "auth.login", object_type="staff_user",
                         object_id=user.id, method=used)
            db().commit()
            return _finish_login(user)
        db().rollback()
        form.code.errors = [_("That code did not work. Codes work once; wait for the next one.")]
    return render_template("auth/totp.html", form=form)


@bp.route("/account/authenticator", methods=["GET", "POST"])
def enrol_totp() -> str | Response:
    """Set up the authenticator app: shown at first sign-in and after an admin reset."""
    user = current_user()
    assert user is not None
    if user.totp_enrolled and g.auth_level != "full":
        return cast(Response, redirect(url_for("auth.totp"), 303))
    if user.totp_enrolled:
        return cast(Response, redirect(url_for("auth.recovery_codes"), 303))
    # The seed waits in the server-side session until confirmed; sealed under the KEK so
    # the session table never holds a usable seed.
    sealed = session.get("_pending_totp")
    if sealed:
        secret = mfa.open_secret(keyring(), user.id, bytes.fromhex(sealed))
    else:
        secret = mfa.new_secret()
        session["_pending_totp"] = mfa.seal_secret(keyring(), user.id, secret).hex()
    form = EnrolForm()
    if form.validate_on_submit():
        codes = staff.confirm_totp(db(), actor(), keyring(), user, secret, form.code.data or "")
        if codes is not None:
            db().commit()
            session.pop("_pending_totp", None)
            session["_auth_level"] = "full"
            _srv_session().regenerate()
            return render_template("auth/recovery_codes.html", codes=codes, first=True)
        form.code.errors = [_("That code did not match. Check the phone's clock and try the "
                              "newest code.")]
    uri = mfa.provisioning_uri(secret, user.email)
    return render_template("auth/enrol.html", form=form, secret=secret,
                           qr=mfa.qr_svg_data_uri(uri))


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@require_step_up
def recovery_codes() -> str | Response:
    """Replace recovery codes (a change to MFA: needs step-up)."""
    user = current_user()
    assert user is not None
    form = EmptyForm()
    if form.validate_on_submit():
        codes = staff.regenerate_recovery_codes(db(), actor(), user)
        db().commit()
        return render_template("auth/recovery_codes.html", codes=codes, first=False)
    return render_template("auth/recovery_confirm.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Server-side sign-out: the session row is deleted, a copied cookie stops working."""
    form = EmptyForm()
    if not form.validate_on_submit():
        return cast(Response, redirect(url_for("main.home"), 303))
    user = current_user()
    if user is not None:
        from onboarding import audit

        audit.record(db(), actor(), "auth.logout", object_type="staff_user", object_id=user.id)
        db().commit()
    _srv_session().destroy()
    resp = cast(Response, redirect(url_for("auth.login", signed_out=1), 303))
    resp.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return resp


@bp.route("/account/password", methods=["GET", "POST"])
@_PASSWORD_GUESSES
def change_password() -> str | Response:
    """Change password; other sessions of this user end. Throttled per account like sign-in:
    whoever holds an unattended session must not get unlimited guesses of the password."""
    user = current_user()
    assert user is not None
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current.data or ""):
            from onboarding import audit

            audit.record(db(), actor(), "auth.password_change_refused",
                         object_type="staff_user", object_id=user.id)
            db().commit()
            form.current.errors = [_("The current password is not right.")]
        else:
            try:
                staff.change_password(db(), actor(), user, form.new.data or "",
                                      keep_sid=_srv_session().sid)
            except staff.StaffError as exc:
                db().rollback()
                form.new.errors = [str(exc)]
            else:
                db().commit()
                _srv_session().regenerate()
                return cast(Response, redirect(url_for("main.home", changed=1), 303))
    return render_template("auth/change_password.html", form=form,
                           forced=user.must_change_password)


@bp.route("/account/confirm", methods=["GET", "POST"])
@_PASSWORD_GUESSES
def reauth() -> str | Response:
    """Step-up re-authentication: password and TOTP again (SECURITY.md 8)."""
    user = current_user()
    assert user is not None
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        if verify_password(user.password_hash, form.password.data or "") and \
                staff.check_second_factor(db(), actor(), keyring(), user,
                                          form.code.data or "") == "totp":
            from onboarding import audit

            audit.record(db(), actor(), "auth.step_up", object_type="staff_user",
                         object_id=user.id)
            db().commit()
            session["_step_up_at"] = now().isoformat()
            return cast(Response, redirect(safe_next(form.next.data) or url_for("main.home"), 303))
        db().rollback()
        form.code.errors = [_("Password or code did not work.")]
    return render_template("auth/reauth.html", form=form)
