"""``POST /api/v1/verifications`` and the OpenAPI document.

Authenticated by a bank API key (``Authorization: Bearer onb_...``), not by a session, so
it is the one place exempt from CSRF. Responses come from explicit schemas (the FORMATS.md
verification result plus an id); errors are RFC 9457 problem documents.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from onboarding import audit
from onboarding.audit import Actor
from onboarding.bank import operations as ops
from onboarding.compliance import lifecycle
from onboarding.errors import problem
from onboarding.extensions import csrf, limiter
from onboarding.models import BankCase
from onboarding.security import db
from onboarding.trust import TrustError, load_anchor
from risk.model import TRANSACTION_AMOUNTS, TRANSACTION_COUNTS

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
MAX_JSON = 16 * 1024
#: Cursors are audit sequence numbers (a 64-bit column): a bigger number is no cursor.
MAX_CURSOR = 2**63 - 1
ACCOUNT_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}\Z")


def _key_id() -> str:
    """Rate-limit bucket: the key's public prefix (``onb_<prefix>_...``); anything that is
    not key-shaped shares the caller's IP bucket, so made-up keys cannot mint buckets."""
    auth = request.headers.get("Authorization", "")
    parts = auth[7:].split("_") if auth.startswith("Bearer onb_") else []
    if len(parts) >= 3 and len(parts[1]) == 8:
        return "apikey:" + hashlib.sha256(parts[1].encode()).hexdigest()[:16]
    return "ip:" + (request.remote_addr or "-")


def _key_limit() -> str:
    return str(current_app.config.get("API_RATE_LIMIT", "120 per minute"))


def _ip_limit() -> str:
    return str(current_app.config.get("API_IP_RATE_LIMIT", "600 per minute"))


SCOPES = {"verifications:create": "Verify attestation QRs",
          "decisions:read": "Read decisions (tier, features, limits, validity)",
          "accounts:write": "Set account references and send transaction summaries"}


def _authenticate(scope: str = "verifications:create") -> Any:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return None
    key = ops.authenticate_api_key(db(), auth[7:].strip())
    if key is None or scope not in key.scopes:
        return None
    return key


def _unauthorized() -> Response:
    resp = problem(401, "Unauthorized", "A valid API key with the right scope is required.",
                   "unauthorized")
    resp.headers["WWW-Authenticate"] = 'Bearer realm="onboarding"'
    return resp


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _json_object(max_bytes: int = MAX_JSON) -> dict[str, Any] | Response:
    """The request's JSON object, read within ``max_bytes`` even without a Content-Length
    (chunked), with duplicate keys refused (which one would count is parser folklore)."""
    import json

    if request.mimetype != "application/json":
        return problem(415, "Unsupported type", "Use application/json.", "unsupported-type")
    if (request.content_length or 0) > max_bytes:
        return problem(413, "Too large", "JSON bodies are limited to 16 KiB.", "too-large")
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        return problem(413, "Too large", "JSON bodies are limited to 16 KiB.", "too-large")
    try:
        body = json.loads(raw, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        return problem(422, "Unprocessable content", f"Key {str(exc)[:40]!r} appears twice.",
                       "invalid-body")
    except (ValueError, RecursionError):  # RecursionError: absurdly nested brackets
        return problem(422, "Unprocessable content", "The body is not valid JSON.",
                       "invalid-body")
    if not isinstance(body, dict):
        return problem(422, "Unprocessable content", "Send a JSON object.", "invalid-body")
    return body


def _own_case(key: Any, case_id: Any) -> BankCase | None:
    """The key's bank's case, or None (another bank's case is indistinguishable from none)."""
    return db().execute(select(BankCase).where(BankCase.id == case_id,
                                               BankCase.org_id == key.org_id)
                        ).scalar_one_or_none()


def _not_found() -> Response:
    return problem(404, "Not found", "No such case at your bank.", "not-found")


def _case_call(scope: str, case_id: Any, *, body: bool = False
               ) -> tuple[Any, BankCase, dict[str, Any]] | Response:
    """The preamble of every per-case call: a key with ``scope``, the key's bank's case
    (another bank's is a 404 like a missing one) and, with ``body``, the JSON object sent —
    or the problem document to answer instead."""
    key = _authenticate(scope)
    if key is None:
        return _unauthorized()
    case = _own_case(key, case_id)
    if case is None:
        return _not_found()
    sent: dict[str, Any] | Response = _json_object() if body else {}
    if isinstance(sent, Response):
        return sent
    return key, case, sent


def _doc(case: BankCase) -> dict[str, Any]:
    from onboarding.compliance.operations import active_policy

    policy, _row = active_policy(db(), case.org_id)
    return lifecycle.decision_document(db(), case, policy)


@bp.route("/decisions")
@limiter.limit(_ip_limit)
@limiter.limit(_key_limit, key_func=_key_id)
def list_decisions() -> Response:
    """Cases whose decision or account changed after ``after`` (a cursor), oldest first."""
    key = _authenticate("decisions:read")
    if key is None:
        return _unauthorized()
    try:
        after = int(request.args.get("after", "0"))
        limit = int(request.args.get("limit", "100"))
    except ValueError:
        return problem(400, "Bad request", "after and limit are integers.", "bad-query")
    if not 0 <= after <= MAX_CURSOR or not 1 <= limit <= 500:
        return problem(400, "Bad request", f"0 <= after <= {MAX_CURSOR} and 1 <= limit <= 500.",
                       "bad-query")
    rows = db().execute(select(BankCase).where(
        BankCase.org_id == key.org_id, BankCase.changed_seq > after)
        .order_by(BankCase.changed_seq).limit(limit)).scalars().all()
    items = [_doc(r) for r in rows]
    return jsonify({"items": items, "next": rows[-1].changed_seq if rows else after})


@bp.route("/cases/<uuid:case_id>")
@limiter.limit(_ip_limit)
@limiter.limit(_key_limit, key_func=_key_id)
def get_case(case_id: Any) -> Response:
    """The decision the core banking system applies: tier, features, limits, validity."""
    call = _case_call("decisions:read", case_id)
    if isinstance(call, Response):
        return call
    return jsonify(_doc(call[1]))


@bp.route("/cases/<uuid:case_id>/account-ref", methods=["PUT"])
@limiter.limit(_ip_limit)
@limiter.limit(_key_limit, key_func=_key_id)
def put_account_ref(case_id: Any) -> Response:
    """Tell us the core banking system's reference for the account (used in CSV uploads)."""
    call = _case_call("accounts:write", case_id, body=True)
    if isinstance(call, Response):
        return call
    key, case, body = call
    ref = body.get("account_ref")
    if set(body) != {"account_ref"} or not isinstance(ref, str) or not ACCOUNT_REF.match(ref) \
            or _uuid_shaped(ref):
        return problem(422, "Unprocessable content", 'Send {"account_ref": "<1-64 letters, '
                       'digits, - _ . / :>"} (not shaped like a case id).', "invalid-body")
    taken = db().execute(select(BankCase.id).where(
        BankCase.org_id == key.org_id, BankCase.account_ref == ref, BankCase.id != case.id)
    ).first()
    if taken is not None:
        return _ref_taken()
    case.account_ref = ref
    audit.record(db(), _actor(key), "account.ref", object_type="bank_case", object_id=case.id,
                 org_id=case.org_id)
    lifecycle.touch(db(), _actor(key), case, "account.ref_set")
    try:
        db().commit()
    except IntegrityError:  # the same reference set on another case at the same moment
        db().rollback()
        return _ref_taken()
    return jsonify(_doc(case))


def _ref_taken() -> Response:
    return problem(409, "Conflict", "Another case already has this account reference.",
                   "conflict")


def _uuid_shaped(ref: str) -> bool:
    """A reference that parses as a UUID could shadow a case id in CSV uploads."""
    import uuid

    try:
        uuid.UUID(ref)
    except ValueError:
        return False
    return True


@bp.route("/cases/<uuid:case_id>/transaction-summaries", methods=["POST"])
@limiter.limit(_ip_limit)
@limiter.limit(_key_limit, key_func=_key_id)
def post_transactions(case_id: Any) -> Response:
    """One period's summary of an open account; the monitoring rules run on it."""
    import risk

    call = _case_call("accounts:write", case_id, body=True)
    if isinstance(call, Response):
        return call
    key, case, body = call
    try:
        summary, fired = lifecycle.ingest_summary(
            db(), _actor(key), current_app.extensions["onboarding.keystore"], case, body, "api")
    except risk.InputError as exc:
        db().rollback()
        path = exc.path.replace("$.transactions", "$")
        return problem(422, "Unprocessable content", f"{path}: {exc.message}"[:300],
                       "invalid-body", pointer=path)
    except lifecycle.LifecycleError as exc:
        db().rollback()
        return problem(409, "Conflict", str(exc), "conflict")
    try:
        db().commit()
    except IntegrityError:  # the same period stored by a concurrent request
        db().rollback()
        return problem(409, "Conflict", "This period was already received for this account.",
                       "conflict")
    # Which typology fired stays with the compliance officers (tipping-off): the core
    # banking system learns that alerts exist and whether they block the account.
    out = {"summary_id": str(summary.id), "case_id": str(case.id),
           "period_start": summary.period_start.isoformat(),
           "period_end": summary.period_end.isoformat(),
           "alerts": [{"id": str(a.id), "blocks": a.rule == "monitoring.limits"}
                      for a in fired]}
    resp = jsonify(out)
    resp.status_code = 201
    return resp


def _actor(key: Any) -> Actor:
    return Actor(None, key.org_id, g.get("request_id"))


@bp.route("/verifications", methods=["POST"])
@limiter.limit(_ip_limit)
@limiter.limit(_key_limit, key_func=_key_id)
def create_verification() -> Response:
    """Verify a QR (JSON ``{"qr": "..."}`` or a multipart ``image``)."""
    key = _authenticate()
    if key is None:
        return _unauthorized()
    text: str | None = None
    channel = "api"
    if request.mimetype == "application/json":
        if (request.content_length or 0) > MAX_JSON:
            return problem(413, "Too large", "JSON bodies are limited to 16 KiB.", "too-large")
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or set(body) - {"qr"} or not isinstance(body.get("qr"), str):
            return problem(422, "Unprocessable content",
                           'Send a JSON object {"qr": "<text>"} and nothing else.',
                           "invalid-body")
        text = body["qr"]
        if not text or len(text) > ops.MAX_QR_TEXT:
            return problem(422, "Unprocessable content",
                           f"qr must be 1-{ops.MAX_QR_TEXT} characters.", "invalid-body")
    elif request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            return problem(422, "Unprocessable content", "Send the picture as field image.",
                           "invalid-body")
        from onboarding.bank.views import decode_upload

        text = decode_upload(upload.read(current_app.config["MAX_CONTENT_LENGTH"])) or ""
    else:
        return problem(415, "Unsupported type",
                       "Use application/json or multipart/form-data.", "unsupported-type")
    from onboarding.clock import now

    # Written at most once a minute: a write per request would cost more than the check.
    # Set before the verification so that it is flushed with the first query there, before
    # the audit head's lock is taken, rather than while every other writer waits on it.
    last = key.last_used_at
    if last is None or (now() - last).total_seconds() > 60:
        key.last_used_at = now()
    try:
        anchor = load_anchor(Path(current_app.instance_path))
        record, result = ops.run_verification(
            db(), Actor(None, key.org_id, g.get("request_id")), org_id=key.org_id,
            qr_text=text, channel=channel, anchor=anchor,
            prefixes=(current_app.config["ATTESTATION_PREFIX"],),
            keystore=current_app.extensions["onboarding.keystore"], api_key_id=key.id)
    except TrustError:
        db().rollback()
        return problem(503, "Service unavailable", "No trust list is published yet.",
                       "no-trust-list")
    db().commit()
    out = result.to_json()
    out["verification_id"] = str(record.id)
    resp = jsonify(out)
    resp.status_code = 201
    return resp


@bp.route("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document for this API."""
    return jsonify(OPENAPI)


_STEP = {"type": "object", "additionalProperties": False,
         "required": ["name", "ok", "reason"],
         "properties": {"name": {"enum": ["prefix", "base45", "decompress", "cose", "kid",
                                          "signature", "expiry", "status", "claims"]},
                        "ok": {"type": ["boolean", "null"]}, "reason": {"type": "string"}}}
_PROBLEM = {"type": "object", "required": ["type", "title", "status"],
            "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                           "status": {"type": "integer"}, "detail": {"type": "string"},
                           "instance": {"type": "string"}, "request_id": {"type": "string"}}}
def _problems(*codes: int) -> dict[str, Any]:
    titles = {400: "Bad request", 401: "No or bad API key, or missing scope",
              404: "No such case at your bank", 409: "Conflict", 413: "Too large",
              415: "Unsupported media type", 422: "Invalid body", 429: "Rate limited"}
    return {str(c): {"description": titles[c], "content": {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}} for c in codes}


_CASE_ID = {"name": "case_id", "in": "path", "required": True,
            "schema": {"type": "string", "format": "uuid"}}
_DECISION_RESPONSE = {"description": "The case's decision document", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}}
_AMOUNT = {"type": "number", "minimum": 0, "maximum": 1e15}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 100000}
_DECISION = {
    "type": "object",
    "required": ["case_id", "account_ref", "status", "review", "account", "decision",
                 "open_alerts", "cursor"],
    "properties": {
        "case_id": {"type": "string", "format": "uuid"},
        "account_ref": {"type": ["string", "null"]},
        "status": {"type": "string"},
        "review": {"enum": ["onboarding", "step_up", "renewal", "alert", "screening"]},
        "account": {"type": ["object", "null"], "properties": {
            "tier": {"enum": ["T0", "T1", "T2", "T3"]},
            "features": {"type": "array", "items": {"type": "string"}},
            "limits": {"type": ["object", "null"]},
            "opened_on": {"type": ["string", "null"], "format": "date"},
            "valid_until": {"type": ["string", "null"], "format": "date"},
            "renewals_used": {"type": "integer"},
            "blocked": {"type": "boolean"}}},
        "decision": {"type": ["object", "null"]},
        "open_alerts": {"type": "array", "items": {
            "type": "object", "required": ["id", "blocks"]}},
        "cursor": {"type": "integer"}}}
_TX = {
    "type": "object", "required": ["period_start", "period_end"],
    "additionalProperties": False,
    "properties": {"period_start": {"type": "string", "format": "date"},
                   "period_end": {"type": "string", "format": "date"},
                   **{k: _AMOUNT for k in TRANSACTION_AMOUNTS},
                   **{k: _COUNT for k in TRANSACTION_COUNTS}}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Inclusive onboarding — bank verification API", "version": "1.0.0",
             "description": "Verify an identity attestation QR. The result is the same object "
                            "the teller page, the offline CLI and the Python API give "
                            "(docs/formats.md)."},
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Problem": _PROBLEM,
            "Decision": _DECISION,
            "TransactionSummary": _TX,
            "VerificationResult": {
                "type": "object", "required": ["result", "steps", "warnings", "status_as_of",
                                               "issuer", "claims", "verification_id"],
                "properties": {
                    "result": {"enum": ["valid", "invalid", "revoked", "suspended", "expired",
                                        "not_yet_valid", "untrusted_issuer", "unreadable"]},
                    "steps": {"type": "array", "items": _STEP, "minItems": 9, "maxItems": 9},
                    "warnings": {"type": "array", "items": {"type": "string"}},
                    "status_as_of": {"type": ["string", "null"]},
                    "issuer": {"type": ["object", "null"]},
                    "claims": {"type": ["object", "null"]},
                    "verification_id": {"type": "string", "format": "uuid"}}},
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/verifications": {"post": {
            "summary": "Verify an attestation QR",
            "operationId": "createVerification",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["qr"], "additionalProperties": False,
                    "properties": {"qr": {"type": "string", "minLength": 1,
                                          "maxLength": 4096}}}},
                "multipart/form-data": {"schema": {
                    "type": "object", "required": ["image"],
                    "properties": {"image": {"type": "string", "format": "binary"}}}}}},
            "responses": {
                "201": {"description": "Verified (any result, valid or not)",
                        "content": {"application/json": {"schema": {
                            "$ref": "#/components/schemas/VerificationResult"}}}},
                **{str(code): {"description": desc, "content": {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}}
                   for code, desc in ((400, "Bad request"), (401, "No or bad API key"),
                                      (413, "Too large"), (415, "Unsupported media type"),
                                      (422, "Invalid body"), (429, "Rate limited"),
                                      (503, "No trust list published"))}}}},
        "/api/v1/decisions": {"get": {
            "summary": "Decisions changed after a cursor (poll; or receive webhooks)",
            "operationId": "listDecisions",
            "parameters": [
                {"name": "after", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
            "responses": {
                "200": {"description": "Changed cases, oldest change first",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["items", "next"],
                            "properties": {
                                "items": {"type": "array", "items": {
                                    "$ref": "#/components/schemas/Decision"}},
                                "next": {"type": "integer"}}}}}},
                **_problems(400, 401, 429)}}},
        "/api/v1/cases/{case_id}": {"get": {
            "summary": "The decision to apply: tier, features, limits, validity, alerts",
            "operationId": "getCase",
            "parameters": [_CASE_ID],
            "responses": {"200": _DECISION_RESPONSE, **_problems(401, 404, 429)}}},
        "/api/v1/cases/{case_id}/account-ref": {"put": {
            "summary": "Record the core banking system's account reference",
            "operationId": "putAccountRef",
            "parameters": [_CASE_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["account_ref"], "additionalProperties": False,
                "properties": {"account_ref": {
                    "type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$"}}}}}},
            "responses": {"200": _DECISION_RESPONSE,
                          **_problems(401, 404, 409, 413, 415, 422, 429)}}},
        "/api/v1/cases/{case_id}/transaction-summaries": {"post": {
            "summary": "One period of an open account; the monitoring rules run on it",
            "operationId": "postTransactionSummary",
            "parameters": [_CASE_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/TransactionSummary"}}}},
            "responses": {
                "201": {"description": "Received; alerts raised (possibly none)",
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["summary_id", "case_id", "period_start",
                                         "period_end", "alerts"],
                            "properties": {
                                "summary_id": {"type": "string", "format": "uuid"},
                                "case_id": {"type": "string", "format": "uuid"},
                                "period_start": {"type": "string", "format": "date"},
                                "period_end": {"type": "string", "format": "date"},
                                "alerts": {"type": "array", "items": {
                                    "type": "object", "required": ["id", "blocks"],
                                    "properties": {"id": {"type": "string"},
                                                   "blocks": {"type": "boolean"}}}}}}}}},
                **_problems(401, 404, 409, 413, 415, 422, 429)}}},
    },
}
