"""Server-side sessions stored in the database (SECURITY.md 5-7).

Flask's default session is a signed cookie: logout cannot revoke a copied cookie. Here the
cookie holds only a random id; the row (keyed by the id's SHA-256) holds the data. Logout
deletes the row, so a replayed cookie finds nothing. Disabling a user or changing their
password deletes all their rows. We write this small interface ourselves because
Flask-Session's SQL backend requires Flask-SQLAlchemy and offers no per-user revocation or
idle/absolute timeouts, which are the points of the exercise.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response, g
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select
from werkzeug.datastructures import CallbackDict

from onboarding.clock import now
from onboarding.models import StaffSession


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """Session data plus the bookkeeping needed to save or destroy it."""

    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None,
                 new: bool = True) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.new = new
        self.modified = False
        self.destroyed = False
        self.rotate_requested = False
        self.user_id: uuid.UUID | None = None

    def regenerate(self) -> None:
        """Issue a new id at the next save (login, privilege change: fixation defence)."""
        self.rotate_requested = True
        self.modified = True

    def destroy(self) -> None:
        """Delete the server-side row and clear the cookie (logout)."""
        self.clear()
        self.destroyed = True


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def cookie_name(app: Flask) -> str:
    """``__Host-`` prefixed in production: bound to this host, Secure, path /."""
    return "__Host-session" if app.config["COOKIE_HOST_PREFIX"] else "onb_session"


class DatabaseSessionInterface(SessionInterface):
    """Stores sessions in ``staff_session`` through the request's database session."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(cookie_name(app))
        if not sid or len(sid) > 128:
            return ServerSession()
        db = app.extensions["onboarding.db"]()
        row = db.get(StaffSession, _hash(sid))
        if row is None:
            return ServerSession()
        t = now()
        idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
        absolute = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
        if t - row.last_seen_at >= idle or t - row.created_at >= absolute:
            db.delete(row)
            db.commit()
            g.session_expired = row.user_id is not None
            return ServerSession()
        sess = ServerSession(dict(row.data or {}), sid=sid, new=False)
        sess.user_id = row.user_id
        return sess

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = cookie_name(app)
        db = app.extensions["onboarding.db"]()
        # Whatever the view did not commit is not wanted (a failed form, an error):
        # discard it before this commit, so nothing half-written is stored by accident.
        db.rollback()
        cookie_kwargs: dict[str, Any] = {
            "httponly": True,
            "secure": app.config["SESSION_COOKIE_SECURE"],
            "samesite": app.config["SESSION_COOKIE_SAMESITE"],
            "path": "/",
        }
        if session.destroyed or (not session and not session.new and session.sid):
            if session.sid:
                db.execute(delete(StaffSession).where(StaffSession.id_hash == _hash(session.sid)))
                db.commit()
            response.delete_cookie(name, **cookie_kwargs)
            return
        if not session:
            return  # nothing worth storing: anonymous visitor who has no form yet
        t = now()
        if session.sid and session.rotate_requested:
            db.execute(delete(StaffSession).where(StaffSession.id_hash == _hash(session.sid)))
            session.sid = None
        user_id = session.get("_user_id")
        uid = uuid.UUID(user_id) if user_id else None
        data = dict(session)
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
            db.add(StaffSession(id_hash=_hash(session.sid), user_id=uid, created_at=t,
                                last_seen_at=t, data=data))
        else:
            row = db.get(StaffSession, _hash(session.sid))
            if row is None:  # deleted meanwhile (logout elsewhere, user disabled)
                response.delete_cookie(name, **cookie_kwargs)
                return
            row.last_seen_at = t
            row.user_id = uid
            if session.modified:
                row.data = data
        db.commit()
        response.set_cookie(name, session.sid, **cookie_kwargs)

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:  # pragma: no cover
        return True


def end_user_sessions(db: Any, user_id: uuid.UUID, keep_sid: str | None = None) -> int:
    """Delete every session of ``user_id`` (except ``keep_sid``); returns how many."""
    stmt = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep_sid:
        stmt = stmt.where(StaffSession.id_hash != _hash(keep_sid))
    result = db.execute(stmt)
    return int(result.rowcount)


def purge_expired(db: Any, idle_minutes: int, absolute_hours: int) -> int:
    """Delete sessions past either timeout (a periodic job)."""
    t = now()
    rows = db.execute(select(StaffSession.id_hash, StaffSession.last_seen_at,
                             StaffSession.created_at)).all()
    dead = [h for h, seen, made in rows
            if t - seen >= timedelta(minutes=idle_minutes)
            or t - made >= timedelta(hours=absolute_hours)]
    for h in dead:
        db.execute(delete(StaffSession).where(StaffSession.id_hash == h))
    return len(dead)
