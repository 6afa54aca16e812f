"""Database engine and sessions (plain SQLAlchemy 2, one session per request).

We use SQLAlchemy directly rather than Flask-SQLAlchemy so the models, migrations and
operations also run in CLI jobs and benchmarks without an app, and so the SQLite
pragmas (WAL, synchronous=FULL) are set exactly where the connection is made.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database.

    PostgreSQL's ``timestamptz`` round-trips the zone, but SQLite stores text and returns
    naive values; without this, every comparison with ``clock.now()`` would need its own
    "assume UTC" patch. Values are stored as UTC and always come back aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use onboarding.clock.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None,
                             dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so Alembic diffs are stable."""

    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write; synchronous=FULL makes an acknowledged
    # commit survive power loss (SECURITY.md J). foreign_keys is off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the pragmas and pool settings we rely on."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        _owner_only_file(make_url(url).database)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _owner_only_file(path: str | None) -> None:
    """Create the SQLite file owner-only (0600) before SQLite does.

    SQLite creates a missing database with the process umask (usually 0644: readable by
    every local account) and gives its -wal and -shm files the database file's mode. The
    file holds ciphertexts, blind indexes and who-saw-whom metadata: nobody else on the
    host needs to read it. An older file with wider rights is narrowed."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # An older database (and its -wal/-shm/-journal, which SQLite keeps using with
        # whatever mode they have) made with wider rights is narrowed.
        for existing in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
            try:
                info = os.stat(existing)
            except FileNotFoundError:
                continue
            if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.getuid():
                os.chmod(existing, 0o600)
    except FileNotFoundError:
        return  # no such folder: let SQLite report it as usual
    else:
        os.close(fd)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (templates read them)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error (CLI and jobs)."""
    with factory() as session, session.begin():
        yield session
