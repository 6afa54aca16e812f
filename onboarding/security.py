"""Request guards and response hardening (SECURITY.md B, C, E).

* ``load_user`` / ``enforce``: every request is checked against :mod:`onboarding.policy`.
* ``harden``: security headers on every response, errors and static files included.
* ``require_step_up``: recent password + TOTP re-entry for sensitive actions.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from onboarding.clock import now
from onboarding.models import User
from onboarding.models.core import Role
from onboarding.policy import PARTIAL, PUBLIC, access_for, allows

F = TypeVar("F", bound=Callable[..., Any])

#: CSP as a dict (warehouse style) so a view can extend one directive without string surgery.
BASE_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "media-src": ["'self'", "blob:"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

#: Powerful features are off everywhere; ``allow_camera()`` turns the camera on for the
#: pages that scan QR codes or take photos.
PERMISSIONS = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
               "interest-cohort=()")


def db() -> Session:
    """The request's database session."""
    return cast(Session, current_app.extensions["onboarding.db"]())


def csp_nonce() -> str:
    """Per-request nonce for the few ``<script>`` tags we ship (all external files)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return cast(str, g.csp_nonce)


def allow_camera() -> None:
    """Let this response use the camera (QR scanning and photo capture pages only)."""
    g.allow_camera = True


T = TypeVar("T")


def owned_or_404(model: type[T], object_id: Any, attr: str = "org_id",
                 lock: bool = False) -> T:
    """Load ``model`` by id, but only if it belongs to the caller's organisation.

    Another organisation's object and a missing one give the same 404, so existence is
    never confirmed (SECURITY.md 10). Every per-object view goes through this one check.
    ``lock`` takes the row's write lock (``SELECT ... FOR UPDATE`` on PostgreSQL) so two
    officers acting on one object at once are serialised, not both applied.
    """
    user = current_user()
    # populate_existing: a copy already in the session (read before the lock) is refreshed
    # with what the locked read returns, not kept stale.
    row = db().get(model, object_id, with_for_update=lock or None,
                   populate_existing=lock)
    if row is None or user is None or getattr(row, attr) != user.org_id:
        abort(404)
    return row


def current_user() -> User | None:
    """The fully or partially signed-in staff member, if any."""
    return cast(User | None, g.get("user"))


def auth_level() -> str | None:
    """``"password"`` (TOTP pending), ``"full"`` or ``None``."""
    return cast(str | None, g.get("auth_level"))


def load_user() -> None:
    """Attach the session's user to ``g`` (inactive users are signed out at once)."""
    g.request_id = secrets.token_hex(8)
    g.user = None
    g.auth_level = None
    raw = session.get("_user_id")
    if not raw:
        return
    user = db().get(User, uuid.UUID(raw))
    if user is None or not user.is_active or not user.organisation.is_active:
        session.clear()
        return
    g.user = user
    g.auth_level = session.get("_auth_level")


def _is_api() -> bool:
    return request.path.startswith("/api/")


#: Endpoints serving public, signed, non-personal documents (status and trust lists).
PUBLIC_DOCUMENTS = frozenset({"lists.status_list", "lists.trust_list", "lists.trust_list_json",
                              "lists.jwks", "lists.status_index"})

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def same_origin() -> None:
    """Refuse cross-site state-changing requests to pages (defence in depth beside the
    CSRF token): a browser's ``Origin`` must be ours, ``Sec-Fetch-Site`` same-origin."""
    if request.method not in UNSAFE_METHODS or request.path.startswith("/api/"):
        return
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        abort(400, _("Cross-site request refused."))
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        ours = f"{request.scheme}://{request.host}"
        if origin != ours:
            abort(400, _("Cross-site request refused."))


def enforce() -> Response | None:
    """Deny any request the policy table does not allow (fail closed)."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # 404 / 405 handled by Flask
    access = access_for(endpoint, request.method)
    if access is None:
        current_app.logger.error("route without policy entry: %s %s", request.method, endpoint)
        abort(403)
    if access == PUBLIC:
        return None
    user = current_user()
    level = auth_level()
    if user is None:
        if _is_api():
            abort(401)
        login = url_for("auth.login", next=_safe_next(request.full_path))
        return cast(Response, redirect(login, 303))
    if access != PARTIAL:
        if level == "password":
            # Password alone reaches nothing but the second factor (SECURITY.md 2).
            target = "auth.totp" if user.totp_enrolled else "auth.enrol_totp"
            return cast(Response, redirect(url_for(target), 303))
        if user.must_change_password and endpoint != "auth.change_password":
            return cast(Response, redirect(url_for("auth.change_password"), 303))
    if not allows(access, user.role, level):
        abort(403)
    return None


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target.rstrip("?") or None


safe_next = _safe_next


def _csp_header(csp: dict[str, list[str]]) -> str:
    return "; ".join(f"{k} {' '.join(v)}" for k, v in csp.items())


#: BASE_CSP as a header value. BASE_CSP is never changed at run time (views add to a copy).
_BASE_CSP_HEADER = _csp_header(BASE_CSP)


def harden(response: Response) -> Response:
    """Security headers for every response (errors and static files included)."""
    if "csp_nonce" in g:
        csp = {k: list(v) for k, v in BASE_CSP.items()}
        csp["script-src"].append(f"'nonce-{g.csp_nonce}'")
        response.headers["Content-Security-Policy"] = _csp_header(csp)
    else:  # most responses (every API one): the same string each time, so joined once
        response.headers["Content-Security-Policy"] = _BASE_CSP_HEADER
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    perms = PERMISSIONS
    if g.get("allow_camera"):
        perms = perms.replace("camera=()", "camera=(self)")
    response.headers["Permissions-Policy"] = perms
    public_doc = request.endpoint in PUBLIC_DOCUMENTS
    if request.endpoint != "static" and not public_doc:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Vary"] = "Cookie"
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    # Never echo an Origin back: no CORS anywhere except the public lists, which allow
    # any origin with a fixed "*" (no credentials), never a reflected Origin.
    if not public_doc:
        response.headers.pop("Access-Control-Allow-Origin", None)
    return response


def step_up_fresh(max_age: timedelta | None = None) -> bool:
    """True when the user re-entered password and TOTP within ``max_age``."""
    stamp = session.get("_step_up_at")
    if not stamp:
        return False
    if max_age is None:
        max_age = timedelta(minutes=current_app.config["STEP_UP_MINUTES"])
    at = datetime.fromisoformat(stamp)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return now() - at < max_age


def require_step_up(view: F) -> F:
    """Decorator: sensitive actions need a fresh re-authentication (SECURITY.md 8).

    A POST without a fresh step-up is refused (409-style redirect to the re-auth page);
    the action is never performed on the strength of an old login alone.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not step_up_fresh():
            # No Referer reaches us (Referrer-Policy: no-referrer), so forms that need a
            # step-up carry the page to return to in a hidden "back" field.
            back = request.full_path if request.method == "GET" else request.form.get("back")
            return redirect(url_for("auth.reauth", next=_safe_next(_path_only(back))), 303)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _path_only(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def has_role(*roles: Role) -> bool:
    """Template helper: does the current user hold one of ``roles``?"""
    user = current_user()
    return user is not None and auth_level() == "full" and user.role in roles


def init_app(app: Flask) -> None:
    """Register the guards and header hardening on ``app``."""
    app.before_request(load_user)
    app.before_request(same_origin)
    app.before_request(enforce)
    app.after_request(harden)
    app.jinja_env.globals.update(csp_nonce=csp_nonce, current_user=current_user,
                                 has_role=has_role, Role=Role)
