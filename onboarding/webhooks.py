"""Signed webhooks to a bank's core banking system (Standard Webhooks).

Events are written to an outbox (:class:`WebhookDelivery`) in the same transaction as the
decision that caused them, so an event exists exactly when its decision committed; the
``webhooks.deliver`` job posts them with retries. Signing follows the Standard Webhooks
specification (``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<HMAC-SHA256>``)
through its reference library, so a bank verifies with any Standard Webhooks or Svix
library instead of code of ours.

Payloads carry ids, tiers, limits and rule codes: never a name, a date of birth or an amount.

Receiving URLs are chosen by a bank admin, so delivery guards against server-side request
forgery: HTTPS only (plain HTTP only when the operator allows it, for development), no
redirects followed, only global addresses unless the operator allows private networks (a core
banking system usually sits in one), never link-local or metadata addresses, and the
connection goes to the address that was checked (urllib3 with the TLS name pinned; requests
would resolve the name a second time, which DNS rebinding exploits).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from onboarding.clock import now
from onboarding.crypto import Keyring
from onboarding.models import WebhookDelivery, WebhookEndpoint

#: Retry schedule (Standard Webhooks' recommendation, shortened): then the event is "failed"
#: and shows in the bank admin's page, where it can be sent again.
BACKOFF = (timedelta(seconds=0), timedelta(minutes=1), timedelta(minutes=5),
           timedelta(minutes=30), timedelta(hours=2), timedelta(hours=8), timedelta(hours=24))
TIMEOUT = 10.0
#: A claimed delivery is not picked up by another runner for this long.
LEASE = timedelta(minutes=5)
#: Deliveries claimed at a time (each post takes at most TIMEOUT_TOTAL).
BATCH = 10
TIMEOUT_TOTAL = 15.0
#: Delivered events are deleted after this (their payload names accounts and alerts).
KEEP_DELIVERED = timedelta(days=30)
EVENTS = ("case.approved", "case.declined", "account.upgraded", "account.step_up_refused",
          "account.renewed", "account.closed", "account.validity_ended",
          "account.review_opened", "account.review_updated", "account.review_closed",
          "account.ref_set",
          "alert.opened", "alert.escalated", "alert.closed", "webhook.test")


class WebhookUrlError(ValueError):
    """The URL cannot be used as a webhook target."""


def _aad(org_id: uuid.UUID) -> bytes:
    return b"webhook-secret|" + org_id.bytes


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def wrap_secret(keyring: Keyring, org_id: uuid.UUID, secret: str) -> bytes:
    return keyring.encrypt(secret.encode(), _aad(org_id))


def unwrap_secret(keyring: Keyring, endpoint: WebhookEndpoint) -> str:
    return keyring.decrypt(endpoint.secret_wrapped, _aad(endpoint.org_id)).decode()


@dataclass(frozen=True)
class Target:
    """A vetted webhook destination: the address is resolved and checked once, and the
    connection goes to that address (a second DNS answer cannot redirect it: no rebinding)."""

    scheme: str
    host: str
    port: int
    path: str
    ip: str


#: Cloud metadata endpoints reachable on private-looking addresses.
_METADATA = {ipaddress.ip_address("fd00:ec2::254")}


def _allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> bool:
    if ip in _METADATA or ip.is_link_local or ip.is_multicast or ip.is_unspecified \
            or ip.is_reserved:
        return False
    if ip.is_global:
        return True
    return allow_private and (ip.is_private or ip.is_loopback)


def resolve_target(url: str, *, allow_http: bool, allow_private: bool) -> Target:
    """Refuse URLs that would make the server call somewhere it should not; else the
    target with its checked address."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookUrlError("Use an https:// URL.")
    if parts.scheme == "http" and not allow_http:
        raise WebhookUrlError("Use https:// (plain http is refused).")
    if parts.username or parts.password:
        raise WebhookUrlError("Do not put credentials in the URL.")
    if len(url) > 500:
        raise WebhookUrlError("The URL is too long.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookUrlError("The port is not a number from 1 to 65535.") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookUrlError("The host name does not resolve.") from None
    ips = [ipaddress.ip_address(info[4][0]) for info in infos]
    bad = [ip for ip in ips if not _allowed(ip, allow_private)]
    if bad or not ips:
        raise WebhookUrlError("Private, loopback and link-local addresses are not allowed."
                              if not allow_private else "That address is not allowed.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, str(ips[0]))


def check_url(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """Raise :class:`WebhookUrlError` unless ``url`` may be used (see :func:`resolve_target`)."""
    resolve_target(url, allow_http=allow_http, allow_private=allow_private)


def post(target: Target, body: bytes, headers: dict[str, str]) -> int:
    """POST to the vetted address, TLS checked against the host name; no redirects, no
    retries, the answer's body never read. Returns the HTTP status."""
    import certifi
    import urllib3

    timeout = urllib3.Timeout(connect=TIMEOUT / 2, read=TIMEOUT, total=TIMEOUT_TOTAL)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.ip, target.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=target.host, assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())
    else:
        pool = urllib3.HTTPConnectionPool(target.ip, target.port, timeout=timeout,
                                          retries=False, maxsize=1)
    host = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    result: list[int | BaseException] = []

    def send() -> None:
        try:
            resp = pool.urlopen("POST", target.path, body=body,
                                headers={**headers, "host": host}, redirect=False,
                                preload_content=False, assert_same_host=False)
            result.append(int(resp.status))
            resp.close()
        except BaseException as exc:  # handed to the caller's thread
            result.append(exc)

    # urllib3's timeouts bound each socket read, not the whole exchange: a server dripping
    # its answer a byte at a time would hold the job. A hard wall-clock deadline does.
    worker = threading.Thread(target=send, daemon=True)
    worker.start()
    worker.join(TIMEOUT_TOTAL)
    pool.close()  # also unblocks a worker still reading
    if not result:
        raise TimeoutError(f"no answer within {TIMEOUT_TOTAL:g} s")
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def enqueue(db: Session, org_id: uuid.UUID, event_type: str,
            data: dict[str, Any]) -> WebhookDelivery | None:
    """Queue an event for the bank's endpoint (none configured: nothing to do)."""
    # Queued even while the endpoint is disabled: the events go out, in order, as soon as
    # the bank admin turns it back on (core banking must not miss a closure).
    endpoint = db.execute(select(WebhookEndpoint).where(WebhookEndpoint.org_id == org_id)
                          ).scalar_one_or_none()
    if endpoint is None:
        return None
    row = WebhookDelivery(id=uuid.uuid4(), org_id=org_id, event_type=event_type,
                          payload={"type": event_type,
                                   "timestamp": now().isoformat(timespec="seconds"),
                                   "data": data},
                          created_at=now(), attempts=0, next_attempt_at=now(), state="pending")
    db.add(row)
    return row


def signed_request(secret: str, delivery_id: uuid.UUID,
                   payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery attempt."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    msg_id = f"msg_{delivery_id.hex}"
    at = now()
    headers = {"content-type": "application/json", "webhook-id": msg_id,
               "webhook-timestamp": str(int(at.timestamp())),
               "webhook-signature": Webhook(secret).sign(msg_id, at, body),
               "user-agent": "survivor-onboarding-webhooks/1"}
    return body.encode(), headers


@dataclass
class _Claim:
    id: uuid.UUID
    payload: dict[str, Any]
    url: str | None
    secret: str | None
    attempts: int
    lease: datetime


def _claim(session: Session, keyring: Keyring, ids: list[uuid.UUID] | None,
           limit: int) -> list[_Claim]:
    """Take due deliveries for a short lease (another runner skips them meanwhile)."""
    live = select(WebhookEndpoint.org_id).where(WebhookEndpoint.disabled_at.is_(None))
    # Events of a disabled endpoint are simply not due: no retry is spent, and no other
    # bank's events wait behind them.
    q = select(WebhookDelivery).where(WebhookDelivery.state == "pending",
                                      WebhookDelivery.org_id.in_(live))
    q = q.where(WebhookDelivery.id.in_(ids)) if ids is not None else q.where(
        WebhookDelivery.next_attempt_at <= now())
    q = q.order_by(WebhookDelivery.created_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    out = []
    with session.begin():
        lease = now() + LEASE
        for row in session.execute(q).scalars():
            endpoint = session.execute(select(WebhookEndpoint).where(
                WebhookEndpoint.org_id == row.org_id)).scalar_one_or_none()
            usable = endpoint is not None and endpoint.disabled_at is None
            row.next_attempt_at = lease
            out.append(_Claim(row.id, dict(row.payload), endpoint.url if usable and endpoint
                              else None, unwrap_secret(keyring, endpoint)
                              if usable and endpoint else None, row.attempts, lease))
    return out


def _attempt(claim: _Claim, *, allow_http: bool, allow_private: bool
             ) -> tuple[int | None, str | None]:
    """One POST; (status, error). Never raises: one bad endpoint must not stop the others."""
    if claim.url is None or claim.secret is None:
        return None, "no endpoint"
    try:
        target = resolve_target(claim.url, allow_http=allow_http, allow_private=allow_private)
        body, headers = signed_request(claim.secret, claim.id, claim.payload)
        status = post(target, body, headers)
    except WebhookUrlError as exc:
        return None, str(exc)
    except Exception as exc:  # network errors of every kind, TLS failures
        return None, type(exc).__name__
    return status, None if 200 <= status < 300 else f"HTTP {status}"


def _record(session: Session, claim: _Claim, status: int | None, error: str | None) -> bool:
    with session.begin():
        row = session.get(WebhookDelivery, claim.id, with_for_update=True)
        # Someone else's lease (ours ran out and another runner took it): theirs to record.
        if row is None or row.state != "pending" or row.next_attempt_at != claim.lease:
            return False
        row.attempts = claim.attempts + 1
        row.last_status = status
        row.last_error = error[:200] if error else None
        if error is None:
            row.state = "delivered"
            row.delivered_at = now()
            return True
        if row.attempts >= len(BACKOFF):
            row.state = "failed"
        else:
            row.next_attempt_at = now() + BACKOFF[row.attempts]
        return False


def deliver_due(session: Session, keyring: Keyring, *, allow_http: bool, allow_private: bool,
                limit: int = 200, ids: list[uuid.UUID] | None = None) -> dict[str, int]:
    """Attempt pending deliveries (due ones, or exactly ``ids``), oldest first.

    ``session`` must have no transaction open: the claim and each result are short
    transactions of their own, and no lock is held while a remote server answers (a slow
    endpoint must not hold up the audit log or other banks' deliveries).
    """
    ok = attempted = 0
    while attempted < limit:
        # Small batches: the lease (5 minutes) outlasts a batch even if every post times out.
        claims = _claim(session, keyring, ids, min(BATCH, limit - attempted))
        if not claims:
            break
        for claim in claims:
            status, error = _attempt(claim, allow_http=allow_http,
                                     allow_private=allow_private)
            ok += _record(session, claim, status, error)
        attempted += len(claims)
        if ids is not None:
            break
    with session.begin():
        old = session.execute(select(WebhookDelivery.id).where(
            WebhookDelivery.state == "delivered",
            WebhookDelivery.delivered_at < now() - KEEP_DELIVERED)).scalars().all()
        if old:
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(old)))
        purged = len(old)
    return {"attempted": attempted, "delivered": ok, "failed": attempted - ok,
            "purged": purged}
