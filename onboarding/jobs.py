"""Periodic jobs. ``onboarding jobs run`` runs the ones that are due, once; cron or a
systemd timer calls it every few minutes. Later features register their own jobs
(republishing status lists, retention) with :func:`job`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, make_url, select
from sqlalchemy.orm import Session, sessionmaker

from onboarding import audit
from onboarding.audit import Actor
from onboarding.clock import now
from onboarding.models import JobRun

JobFunc = Callable[[Session, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    """A registered periodic job."""

    name: str
    every: timedelta
    func: JobFunc
    description: str
    #: False for jobs that talk to the outside world (webhooks): they get a session with no
    #: transaction open and keep their own transactions short, so no lock is held while
    #: waiting on a remote server.
    transactional: bool = True


REGISTRY: dict[str, Job] = {}


def job(name: str, every: timedelta, description: str,
        transactional: bool = True) -> Callable[[JobFunc], JobFunc]:
    """Register ``func`` as a job that should run every ``every``."""

    def register(func: JobFunc) -> JobFunc:
        REGISTRY[name] = Job(name, every, func, description, transactional)
        return func

    return register


def due(session: Session) -> list[Job]:
    """Jobs whose interval has passed since their last successful start."""
    out = []
    for j in REGISTRY.values():
        row = session.get(JobRun, j.name)
        last = row.last_started_at if row else None
        if last is None or now() - last >= j.every:
            out.append(j)
    return out


@contextlib.contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Hold the job ``name`` against every other ``jobs run``; yields False when another
    process holds it.

    Two runs of one job at once would publish a list twice, post a webhook twice or screen an
    account twice: cron starts a new run while a slow one is still going, and an operator may
    schedule the jobs on two hosts. PostgreSQL gives a session advisory lock (released by the
    server if the process dies, so a crash never wedges a job); an SQLite database lives on one
    host, where an OS file lock beside the database does the same."""
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"onboarding.job:{name}".encode()).digest()[:8],
                             "big", signed=True)
        with engine.connect() as conn:
            got = bool(conn.execute(select(func.pg_try_advisory_lock(key))).scalar())
            conn.commit()  # the lock is the session's, not the transaction's
            try:
                yield got
            finally:
                if got:
                    conn.execute(select(func.pg_advisory_unlock(key)))
                    conn.commit()
        return
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        yield True  # a private in-memory database: nobody else can run its jobs
        return
    fd = os.open(f"{database}.job-{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def run_due(factory: sessionmaker[Session], config: dict[str, Any],
            only: str | None = None, force: bool = False,
            report: Callable[[str], None] = print) -> int:
    """Run due jobs (or ``only`` one); each in its own transaction, each under its lock
    (:func:`exclusive`). Returns failures."""
    failures = 0
    with factory() as session:
        todo = list(REGISTRY.values()) if force else due(session)
    engine = factory.kw["bind"]
    for j in todo:
        if only and j.name != only:
            continue
        with exclusive(engine, j.name) as mine:
            if not mine:
                report(f"  {j.name}: skipped (already running elsewhere)")
                continue
            if not force:
                with factory() as session:  # a run that just finished elsewhere
                    if j not in due(session):
                        continue
            failures += _run_one(factory, config, j, report)
    return failures


def _run_one(factory: sessionmaker[Session], config: dict[str, Any], j: Job,
             report: Callable[[str], None]) -> int:
    """Run one job; 1 if it failed."""
    failures = 0
    report(f"running {j.name} ...")
    try:
        if not j.transactional:
            with factory() as session, session.begin():
                row = session.get(JobRun, j.name) or JobRun(name=j.name)
                row.last_started_at = now()
                session.add(row)
            with factory() as session:
                result = j.func(session, config)
        with factory() as session, session.begin():
            row = session.get(JobRun, j.name) or JobRun(name=j.name)
            if j.transactional:
                row.last_started_at = now()
                session.add(row)
                result = j.func(session, config)
            row.last_finished_at = now()
            row.last_status = "ok"
            counts: dict[str, Any] = {k: v for k, v in result.items()
                                      if isinstance(v, int | bool)}
            audit.record(session, Actor(), "job.run", object_type="job", object_id=j.name,
                         **counts)
        report(f"  {j.name}: ok {result}")
    except Exception as exc:
        failures += 1
        report(f"  {j.name}: FAILED ({type(exc).__name__})")
        with factory() as session, session.begin():
            row = session.get(JobRun, j.name) or JobRun(name=j.name)
            row.last_status = "failed"
            session.add(row)
    return failures


@job("sessions.purge", timedelta(minutes=15), "Delete sessions past their idle or absolute timeout")
def _purge_sessions(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    from onboarding.sessions import purge_expired

    return {"deleted": purge_expired(session, config["SESSION_IDLE_MINUTES"],
                                     config["SESSION_ABSOLUTE_HOURS"])}


@job("status_lists.publish", timedelta(minutes=5),
     "Sign and publish status lists that changed or are half-way to expiry")
def _publish_status_lists(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import select

    from onboarding import issuer
    from onboarding.crypto import Keyring
    from onboarding.models import Organisation, StatusList

    keyring: Keyring = config["_keyring"]
    validity = int(config["STATUS_LIST_VALIDITY_SECONDS"])
    published = skipped = 0
    for row in session.execute(select(StatusList)).scalars():
        last = row.published_at
        stale = last is None or now() - last >= timedelta(seconds=validity // 2)
        if not (row.dirty or stale):
            continue
        org = session.get(Organisation, row.org_id)
        assert org is not None
        try:
            with session.begin_nested():  # one NGO without a usable key must not stall others
                issuer.publish(session, Actor(), keyring, row, org,
                               int(config["STATUS_LIST_TTL_SECONDS"]), validity)
        except issuer.IssuerError:
            skipped += 1
            continue
        published += 1
    return {"published": published, "skipped": skipped}


@job("trust_list.publish", timedelta(hours=1),
     "Sign and publish the trust list when it changed or is half-way to expiry")
def _publish_trust_list(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    from pathlib import Path

    from onboarding import trust

    path = trust.governance_key_path(Path(config["_instance_path"]))
    if not path.exists():
        return {"published": 0, "no_governance_key": True}
    key = trust.load_governance_key(path, config["_keyring"])
    row = trust.publish(session, Actor(), key)
    return {"published": 1 if row else 0}


@job("verifications.purge", timedelta(minutes=15),
     "Shred verified claims held for a case that was never opened (after 1 hour)")
def _purge_verifications(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import select

    from onboarding.models import Verification

    cutoff = now() - timedelta(hours=1)
    n = 0
    for row in session.execute(select(Verification).where(
            Verification.pending_enc.is_not(None), Verification.at < cutoff)).scalars():
        row.pending_enc = None
        config["_keystore"].destroy(row.id)
        n += 1
    return {"purged": n}


@job("retention.shred", timedelta(hours=24),
     "Crypto-shred records past their retention date unless on legal hold")
def _retention(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    from pathlib import Path

    from onboarding.intake import operations as ops

    svc = ops.Services(keyring=config["_keyring"], keystore=config["_keystore"],
                       blind=config["_blind_index"], upload_dir=Path(config["UPLOAD_FOLDER"]),
                       config=config)
    due = ops.retention_due(session, now().date(), int(config.get("DRAFT_RETENTION_DAYS", 90)))
    shredded = held = 0
    for person in due:
        try:
            ops.erase(session, Actor(), svc, person)
        except ops.IntakeError:
            held += 1  # a legal hold placed after the list was read: it wins
            continue
        shredded += 1
    return {"shredded": shredded, "held": held}


@job("webhooks.deliver", timedelta(minutes=1),
     "Post queued decision and alert events to each bank's webhook (with retries)",
     transactional=False)
def _deliver_webhooks(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    from onboarding import webhooks

    return webhooks.deliver_due(session, config["_keyring"],
                                allow_http=bool(config.get("WEBHOOK_ALLOW_HTTP")),
                                allow_private=bool(config.get("WEBHOOK_ALLOW_PRIVATE")))


@job("accounts.validity", timedelta(hours=24),
     "Announce accounts whose time-boxed validity has ended (core banking restricts them)")
def _account_validity(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    from onboarding.compliance import lifecycle

    return lifecycle.end_validity(session, Actor(), now().date())


@job("screening.accounts", timedelta(minutes=10),
     "Re-screen open accounts against new list versions (for up to SCREENING_JOB_SECONDS a "
     "run); new matches open reviews", transactional=False)
def _rescreen_accounts(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    from onboarding.compliance import lifecycle

    return lifecycle.rescreen_accounts(
        session, Actor(), config["_keystore"],
        budget_seconds=float(config.get("SCREENING_JOB_SECONDS", 420)))
