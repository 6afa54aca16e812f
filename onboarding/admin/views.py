"""Organisation admins manage their own staff; the platform admin manages tenants.

Every lookup is scoped to the admin's organisation: another organisation's user id gives
404 (existence is never confirmed, SECURITY.md 10).
"""

from __future__ import annotations

import uuid
from typing import cast

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectChoice

from onboarding import staff
from onboarding.admin.forms import OrganisationForm, StaffForm, revealing_word
from onboarding.auth.forms import EmptyForm
from onboarding.auth.views import actor
from onboarding.models import AuditEntry, Organisation, User
from onboarding.models.core import ROLES_BY_KIND, OrgKind, Role
from onboarding.security import current_user, db, owned_or_404, require_step_up

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = {
    Role.CASEWORKER: _l("Caseworker (trusted referee)"),
    Role.NGO_ADMIN: _l("NGO administrator"),
    Role.VERIFIER: _l("Teller / verifier"),
    Role.COMPLIANCE_OFFICER: _l("Compliance officer"),
    Role.REPORTING_OFFICER: _l("Reporting officer (SARs)"),
    Role.BANK_ADMIN: _l("Bank administrator"),
    Role.PLATFORM_ADMIN: _l("Platform administrator"),
}


def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def _own_user(user_id: uuid.UUID) -> User:
    return owned_or_404(User, user_id)


@bp.route("/staff", endpoint="staff")
def staff_list() -> str:
    """Staff of the admin's organisation."""
    me = _me()
    users = db().execute(select(User).where(User.org_id == me.org_id)
                         .order_by(User.display_name)).scalars().all()
    return render_template("admin/staff.html", users=users, labels=ROLE_LABELS)



@bp.route("/staff/new", methods=["GET", "POST"])
def new_staff() -> str | Response:
    """Create a staff account; the one-time password is shown once, on this page."""
    me = _me()
    form = StaffForm()
    form.role.choices = [SelectChoice(r.value, str(ROLE_LABELS[r]))
                         for r in ROLES_BY_KIND[me.organisation.kind]]
    if form.validate_on_submit():
        try:
            user, initial = staff.create_user(
                db(), actor(), org=me.organisation, email=form.email.data or "",
                display_name=form.display_name.data or "", role=Role(form.role.data))
        except staff.StaffError as exc:
            db().rollback()
            form.email.errors = [str(exc)]
        else:
            db().commit()
            return render_template("admin/created.html", user=user, initial=initial)
    return render_template("admin/new_staff.html", form=form)


@bp.route("/staff/<uuid:user_id>")
def staff_detail(user_id: uuid.UUID) -> str:
    """One staff member, with the actions an admin can take."""
    return render_template("admin/staff_detail.html", user=_own_user(user_id),
                           form=EmptyForm(), labels=ROLE_LABELS)


@bp.route("/staff/<uuid:user_id>/disable", methods=["POST"])
def disable_staff(user_id: uuid.UUID) -> Response:
    """Disable an account; its sessions end at once."""
    return _set_active(user_id, False)


@bp.route("/staff/<uuid:user_id>/enable", methods=["POST"])
def enable_staff(user_id: uuid.UUID) -> Response:
    """Re-enable an account."""
    return _set_active(user_id, True)


def _set_active(user_id: uuid.UUID, active: bool) -> Response:
    target = _own_user(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        staff.set_active(db(), actor(), target, active)
    except staff.StaffError:
        db().rollback()
        abort(409)
    db().commit()
    return cast(Response, redirect(url_for("admin.staff_detail", user_id=target.id), 303))


@bp.route("/staff/<uuid:user_id>/reset-authenticator", methods=["GET", "POST"])
@require_step_up
def reset_totp(user_id: uuid.UUID) -> str | Response:
    """Reset a lost authenticator: new one-time password, TOTP re-enrolment (audited)."""
    target = _own_user(user_id)
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if target.id == _me().id:
            abort(409)
        initial = staff.reset_totp(db(), actor(), target)
        db().commit()
        return render_template("admin/created.html", user=target, initial=initial, reset=True)
    return render_template("admin/reset_totp.html", user=target, form=form)


@bp.route("/organisations")
def organisations() -> str:
    """All tenants (platform admin)."""
    orgs = db().execute(select(Organisation).order_by(Organisation.kind,
                                                       Organisation.name)).scalars().all()
    return render_template("admin/organisations.html", orgs=orgs)


@bp.route("/organisations/new", methods=["GET", "POST"])
def new_organisation() -> str | Response:
    """Create an NGO or a bank with its first admin."""
    form = OrganisationForm()
    if form.validate_on_submit():
        word = revealing_word(form.display_name.data or "")
        if word:
            form.display_name.errors = [_("Choose a neutral name: it must not contain "
                                          "“%(word)s”.", word=word)]
        else:
            try:
                org = staff.create_organisation(
                    db(), actor(), kind=OrgKind(form.kind.data), name=form.name.data or "",
                    display_name=form.display_name.data or "",
                    jurisdiction=form.jurisdiction.data or "GB")
                user, initial = staff.create_first_admin(
                    db(), actor(), org, form.admin_email.data or "", form.admin_name.data or "")
            except staff.StaffError as exc:
                db().rollback()
                form.admin_email.errors = [str(exc)]
            else:
                db().commit()
                return render_template("admin/created.html", user=user, initial=initial,
                                       org=org)
    return render_template("admin/new_organisation.html", form=form)


@bp.route("/audit")
def audit() -> str:
    """The organisation's audit trail (ids and actions only)."""
    me = _me()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = db().execute(
        select(AuditEntry).where(AuditEntry.org_id == me.org_id)
        .order_by(AuditEntry.seq.desc()).limit(100).offset((page - 1) * 100)).scalars().all()
    names = {u.id: u.display_name for u in db().execute(
        select(User).where(User.org_id == me.org_id)).scalars()}
    return render_template("admin/audit.html", rows=rows, names=names, page=page,
                           g=g)
