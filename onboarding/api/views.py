"""``POST /api/v1/verifications`` and the OpenAPI document.

Authenticated by a bank API key (``Authorization: Bearer onb_...``), not by a session, so
it is the one place exempt from CSRF. Responses come from explicit schemas (the FORMATS.md
verification result plus an id); errors are RFC 9457 problem documents.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from onboarding.audit import Actor
from onboarding.bank import operations as ops
from onboarding.errors import problem
from onboarding.extensions import csrf, limiter
from onboarding.security import db
from onboarding.trust import TrustError, load_anchor

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
MAX_JSON = 16 * 1024


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


def _authenticate() -> Any:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return None
    key = ops.authenticate_api_key(db(), auth[7:].strip())
    if key is None or "verifications:create" not in key.scopes:
        return None
    return key


@bp.route("/verifications", methods=["POST"])
@limiter.limit(_ip_limit)
@limiter.limit(_key_limit, key_func=_key_id)
def create_verification() -> Response:
    """Verify a QR (JSON ``{"qr": "..."}`` or a multipart ``image``)."""
    key = _authenticate()
    if key is None:
        resp = problem(401, "Unauthorized", "A valid API key is required.", "unauthorized")
        resp.headers["WWW-Authenticate"] = 'Bearer realm="onboarding"'
        return resp
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
    from onboarding.clock import now

    # Written at most once a minute: a write per request would cost more than the check.
    last = key.last_used_at
    if last is None or (now() - last).total_seconds() > 60:
        key.last_used_at = now()
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
    },
}
