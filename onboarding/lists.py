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
    return _public(resp)


def _latest_or_404() -> Any:
    from onboarding.trust import latest

    row = latest(db())
    if row is None:
        abort(404)
    return row


def _public(resp: Response) -> Response:
    """Public, identical for everyone: cacheable briefly and readable cross-origin (a fixed
    "*", never a reflected Origin, and no credentials)."""
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _latest_content() -> Any:
    """The newest published trust list's content (decoded; it was verified when signed)."""
    import cbor2

    from onboarding.attestation.cose import decode_sign1
    from onboarding.attestation.trustlist import TrustList

    return TrustList.from_cbor_map(cbor2.loads(decode_sign1(_latest_or_404().token).payload))


@bp.route("/trust-list")
def trust_list() -> Response:
    """The signed trust list (COSE_Sign1 over CBOR); banks pin the governance key."""
    resp = make_response(_latest_or_404().token)
    resp.mimetype = "application/cose"
    return _public(resp)


@bp.route("/trust-list.json")
def trust_list_json() -> Response:
    """The same content as JSON, for people (unsigned: verify the COSE form)."""
    return _public(jsonify(_latest_content().to_json()))


@bp.route("/trust-list/jwks.json")
def jwks() -> Response:
    """JWKS of trusted issuer keys, for verifiers that pin keys directly."""
    return _public(jsonify(_latest_content().to_jwks()))


@bp.route("/trust-list/rollovers")
def rollovers() -> Response:
    """Governance key rollover announcements, oldest first (FORMATS.md §5): a verifier that
    pinned an earlier governance key follows them to the key in force."""
    import base64

    from onboarding.governance import announcements

    return _public(jsonify({"rollovers": [{
        "seq": r.seq, "old_kid": r.old_kid, "new_kid": r.new_kid,
        "created_at": r.created_at.isoformat(),
        "token": base64.urlsafe_b64encode(r.token).decode().rstrip("=")}
        for r in announcements(db())]}))


@bp.route("/status/index.json")
def status_index() -> Response:
    """Every published status list URL, so offline verifiers can fetch them all (whole
    lists only: fetching what you need would tell the issuer what you saw)."""
    from sqlalchemy import select

    rows = db().execute(select(StatusList.uri).where(StatusList.token.is_not(None))
                        .order_by(StatusList.created_at)).scalars().all()
    return _public(jsonify({"status_lists": list(rows)}))
