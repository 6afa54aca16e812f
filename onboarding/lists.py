"""Public, non-personal documents: the signed trust list (COSE, JSON, JWKS) and status lists.

Verifiers fetch whole lists; nobody asks the issuer about one attestation, so the issuer
never learns which attestation was checked or where (FORMATS.md, DCC practice).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, make_response

from onboarding.models import StatusList
from onboarding.security import db

bp = Blueprint("lists", __name__)


@bp.route("/s/<slug>")
def status_list(slug: str) -> Response:
    """The last published Status List Token (``application/statuslist+cwt``)."""
    from sqlalchemy import select

    if len(slug) > 16:
        abort(404)
    row = db().execute(select(StatusList).where(StatusList.slug == slug)).scalar_one_or_none()
    if row is None or row.token is None:
        abort(404)
    resp = make_response(row.token)
    resp.mimetype = "application/statuslist+cwt"
    # Public and the same for everyone: cacheable by proxies for a short while, and
    # readable cross-origin by browser-based verifiers.
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _latest_or_404() -> Any:
    from onboarding.trust import latest

    row = latest(db())
    if row is None:
        abort(404)
    return row


@bp.route("/trust-list")
def trust_list() -> Response:
    """The signed trust list (COSE_Sign1 over CBOR); banks pin the governance key."""
    row = _latest_or_404()
    resp = make_response(row.token)
    resp.mimetype = "application/cose"
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.route("/trust-list.json")
def trust_list_json() -> Response:
    """The same content as JSON, for people (unsigned: verify the COSE form)."""
    import cbor2

    from onboarding.attestation.cose import decode_sign1
    from onboarding.attestation.trustlist import TrustList

    row = _latest_or_404()
    tl = TrustList.from_cbor_map(cbor2.loads(decode_sign1(row.token).payload))
    resp = jsonify(tl.to_json())
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.route("/trust-list/jwks.json")
def jwks() -> Response:
    """JWKS of trusted issuer keys, for verifiers that pin keys directly."""
    import cbor2

    from onboarding.attestation.cose import decode_sign1
    from onboarding.attestation.trustlist import TrustList

    row = _latest_or_404()
    tl = TrustList.from_cbor_map(cbor2.loads(decode_sign1(row.token).payload))
    resp = jsonify(tl.to_jwks())
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.route("/status/index.json")
def status_index() -> Response:
    """Every published status list URL, so offline verifiers can fetch them all (whole
    lists only: fetching what you need would tell the issuer what you saw)."""
    from sqlalchemy import select

    rows = db().execute(select(StatusList.uri).where(StatusList.token.is_not(None))
                        .order_by(StatusList.created_at)).scalars().all()
    resp = jsonify({"status_lists": list(rows)})
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp
