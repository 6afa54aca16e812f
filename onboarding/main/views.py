"""Views shared by every audience."""

from __future__ import annotations

from typing import cast

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import text

from onboarding import audit
from onboarding.audit import Actor
from onboarding.security import current_user, db, safe_next

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> Response:
    """Send signed-in staff home, everyone else to sign-in."""
    if current_user() is not None and g.auth_level == "full":
        return cast(Response, redirect(url_for("main.home"), 303))
    return cast(Response, redirect(url_for("auth.login"), 303))


@bp.route("/home")
def home() -> str:
    """What this person can do, by role."""
    return render_template("main/home.html")


@bp.route("/healthz")
def health() -> Response:
    """Liveness and database reachability for the load balancer (no details leaked)."""
    try:
        db().execute(text("SELECT 1"))
    except Exception:
        return cast(Response, (jsonify(status="unavailable"), 503))
    return jsonify(status="ok")


@bp.route("/language", methods=["POST"])
def set_language() -> Response:
    """Switch the interface language (remembered on the account for staff)."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["locale"] = lang
        user = current_user()
        if user is not None and g.auth_level == "full" and user.locale != lang:
            user.locale = lang
            audit.record(db(), Actor(user.id, user.org_id, g.request_id), "staff.locale_change",
                         object_type="staff_user", object_id=user.id, locale=lang)
            db().commit()
    target = safe_next(request.form.get("next")) or url_for("main.index")
    return cast(Response, redirect(target, 303))
