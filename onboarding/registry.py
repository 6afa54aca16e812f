"""Issuer registry for the platform admin: accredit NGOs, suspend or revoke issuers,
see their keys, publish the signed trust list."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import cast

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from onboarding import audit, issuer, trust
from onboarding.auth.forms import EmptyForm
from onboarding.auth.views import actor
from onboarding.models import IssuerKey, Organisation
from onboarding.models.core import OrgKind
from onboarding.security import db, require_step_up

bp = Blueprint("registry", __name__, url_prefix="/registry")
STATES = ("active", "suspended", "revoked")


@bp.route("/issuers")
def issuers() -> str:
    """Every NGO with its accreditation, state and keys; the latest trust list."""
    orgs = db().execute(select(Organisation).where(Organisation.kind == OrgKind.NGO)
                        .order_by(Organisation.name)).scalars().all()
    keys = {o.id: db().execute(select(IssuerKey).where(IssuerKey.org_id == o.id)
                               .order_by(IssuerKey.created_at)).scalars().all() for o in orgs}
    return render_template("registry/issuers.html", orgs=orgs, keys=keys,
                           latest=trust.latest(db()), form=EmptyForm(), states=STATES,
                           error=request.args.get("error"))


@bp.route("/issuers/<uuid:org_id>/accreditation", methods=["POST"])
@require_step_up
def accredit(org_id: uuid.UUID) -> Response:
    """Set accreditation expiry and issuer state (both audited)."""
    org = db().get(Organisation, org_id)
    if org is None or org.kind != OrgKind.NGO or not EmptyForm().validate_on_submit():
        abort(404)
    state = request.form.get("state", "active")
    try:
        until = date.fromisoformat(request.form.get("accredited_until", ""))
    except ValueError:
        return cast(Response, redirect(url_for("registry.issuers",
                                               error=_("Enter the date as YYYY-MM-DD.")), 303))
    if state not in STATES:
        abort(400)
    issuer.ensure_issuer_id(org)
    org.accredited_until = until
    org.issuer_state = state
    audit.record(db(), actor(), "issuer.accredit", object_type="organisation",
                 object_id=org.id, org_id=org.id, state=state, until=until.isoformat())
    db().commit()
    return cast(Response, redirect(url_for("registry.issuers"), 303))


@bp.route("/trust-list/publish", methods=["POST"])
@require_step_up
def publish() -> Response:
    """Sign and publish a new trust list version now."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    key = trust.load_governance_key(trust.governance_key_path(Path(current_app.instance_path)),
                                    current_app.extensions["onboarding.keyring"])
    trust.publish(db(), actor(), key, force=True)
    db().commit()
    return cast(Response, redirect(url_for("registry.issuers"), 303))
