"""One error hierarchy, rendered as HTML pages or RFC 9457 problem documents.

API paths (``/api/``) and clients that ask for JSON get ``application/problem+json``;
everyone else gets a page. A 500 never shows a traceback: it shows a correlation id that
support can find in the logs.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

PROBLEM_BASE = "https://survivor-onboarding.invalid/problems/"


class AppError(Exception):
    """Base of the errors the app raises on purpose; the class carries the status."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra


class NotFound(AppError):
    """Missing, or belonging to another organisation (existence never confirmed)."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(AppError):
    """The request conflicts with the current state (e.g. replayed idempotency key)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class Unprocessable(AppError):
    """Well-formed but semantically invalid input."""

    status = 422
    slug = "unprocessable"
    title = "Unprocessable content"


def wants_json() -> bool:
    """API routes and JSON clients get problem documents."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(
        ["text/html", "application/json", "application/problem+json"])
    return best in ("application/json", "application/problem+json")


def problem(status: int, title: str, detail: str | None = None, slug: str | None = None,
            **extra: Any) -> Response:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or str(status)),
        "title": title,
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    if "request_id" in g:
        body["request_id"] = g.request_id
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    return resp


_TITLES = {
    400: _l("Bad request"), 401: _l("Sign-in required"), 403: _l("Not allowed"),
    404: _l("Not found"), 405: _l("Method not allowed"), 409: _l("Conflict"),
    413: _l("Too large"), 415: _l("Unsupported type"),
    422: _l("Unprocessable content"), 429: _l("Too many requests"), 500: _l("Something went wrong"),
}

#: Shown on pages instead of Werkzeug's generic English descriptions.
_DETAILS = {
    400: _l("The request could not be understood. Go back, reload the page and try again."),
    405: _l("This page cannot be used that way."),
    409: _l("This changed in the meantime. Reload the page and try again."),
    413: _l("What you sent is too large."),
    415: _l("This kind of file or content is not accepted."),
}


def _render(status: int, title: str, detail: str | None, slug: str | None = None,
            headers: dict[str, str] | None = None) -> Response:
    if wants_json():
        resp = problem(status, title, detail, slug)
    else:
        known = status in (403, 404, 429, 500)
        template = f"errors/{status}.html" if known else "errors/generic.html"
        resp = Response(render_template(template, status=status, title=str(title), detail=detail),
                        status=status)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(AppError)
    def handle_app_error(err: AppError) -> Response:
        return _render(err.status, str(_TITLES.get(err.status, err.title)), err.detail, err.slug)

    @app.errorhandler(CSRFError)
    def handle_csrf(err: CSRFError) -> Response:
        return _render(400, str(_TITLES[400]),
                       _("The form expired or was sent from elsewhere. Reload the page and "
                         "try again."), "csrf")

    @app.errorhandler(HTTPException)
    def handle_http(err: HTTPException) -> Response:
        status = err.code or 500
        headers = {}
        if status == 405 and err.get_response().headers.get("Allow"):
            headers["Allow"] = err.get_response().headers["Allow"]
        if status == 429:
            retry = err.get_response().headers.get("Retry-After")
            if retry:
                headers["Retry-After"] = retry
        detail = None if status in (404, 500) else err.description
        if detail is not None and detail == type(err).description and not wants_json():
            generic = _DETAILS.get(status)
            detail = str(generic) if generic is not None else None
        if status == 429:
            detail = _("Too many attempts. Wait a moment and try again.")
        return _render(status, str(_TITLES.get(status, err.name)), detail, headers=headers)

    @app.errorhandler(Exception)
    def handle_unexpected(err: Exception) -> Response:
        # Log type and correlation id only: exception messages can carry user input.
        current_app.logger.error("unhandled %s (request %s)", type(err).__name__,
                                 g.get("request_id"), exc_info=app.debug)
        db_factory = current_app.extensions.get("onboarding.db")
        if db_factory is not None:
            db_factory().rollback()
        return _render(500, str(_TITLES[500]), None)
