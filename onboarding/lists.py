"""Public, non-personal documents: signed status lists (and, later, the trust list).

Verifiers fetch whole lists; nobody asks the issuer about one attestation, so the issuer
never learns which attestation was checked or where (FORMATS.md, DCC practice).
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, abort, make_response

from onboarding.models import StatusList
from onboarding.security import db

bp = Blueprint("lists", __name__)


@bp.route("/status/<hexid>")
def status_list(hexid: str) -> Response:
    """The last published Status List Token (``application/statuslist+cwt``)."""
    try:
        list_id = uuid.UUID(hex=hexid)
    except ValueError:
        abort(404)
    row = db().get(StatusList, list_id)
    if row is None or row.token is None:
        abort(404)
    resp = make_response(row.token)
    resp.mimetype = "application/statuslist+cwt"
    # Public and the same for everyone: cacheable by proxies for a short while, and
    # readable cross-origin by browser-based verifiers.
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp
