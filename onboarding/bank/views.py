"""Teller verification page, account cases and bank admin's API keys.

The verify page may use the camera (Permissions-Policy allows it only here and on the
intake photo step). QR images uploaded here are decoded server-side with zxing-cpp; the
camera path decodes in the browser with the vendored jsQR and posts the text, like the
paste box.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, cast

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
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from onboarding.auth.forms import EmptyForm
from onboarding.auth.views import actor
from onboarding.bank import operations as ops
from onboarding.intake.forms import MultiCheckbox
from onboarding.models import ApiKey, BankCase, Verification
from onboarding.security import allow_camera, current_user, db, owned_or_404
from onboarding.trust import TrustError, load_anchor

bp = Blueprint("bank", __name__, url_prefix="/bank")

VERDICT = {
    "valid": (_l("Valid"), "ok",
              _l("The card is genuine, from an accredited issuer, and in force.")),
    "revoked": (_l("Revoked"), "bad", _l("The issuer has cancelled this card. Refer the person "
                                         "back to the organisation that issued it.")),
    "suspended": (_l("Suspended"), "bad", _l("The card is on hold. Refer the person back to the "
                                             "organisation that issued it.")),
    "expired": (_l("Expired"), "bad", _l("The card has expired. The issuing organisation can "
                                         "renew it.")),
    "not_yet_valid": (_l("Not yet valid"), "bad", _l("The card is not valid yet. Check the "
                                                     "device clock.")),
    "untrusted_issuer": (_l("Issuer not trusted"), "bad", _l("The issuer is not accredited "
                                                             "(or no longer).")),
    "invalid": (_l("Not genuine"), "bad", _l("The signature or content does not check out.")),
    "unreadable": (_l("Unreadable"), "bad", _l("This is not a readable card code. Try again.")),
}


class VerifyForm(FlaskForm):
    """Paste the QR text, upload a photo of it, or let the camera fill ``qr``."""

    qr = TextAreaField(_l("QR text"), validators=[Optional(), Length(max=4096)],
                       render_kw={"rows": 3, "spellcheck": "false", "autocomplete": "off"})
    image = FileField(_l("Or a photo of the card or phone screen"))
    channel = HiddenField(default="paste")
    submit = SubmitField(_l("Check"))


class CaseForm(FlaskForm):
    """Counter checks before opening an account case."""

    product = SelectField(_l("Product requested"),
                          choices=[SelectChoice(k, v) for k, v in ops.PRODUCTS.items()])
    third_party = MultiCheckbox(_l("Signs of third-party control you noticed"),
                                choices=[SelectChoice(k, v)
                                         for k, v in ops.THIRD_PARTY_SIGNS.items()])
    caseworker_present = BooleanField(_l("The registered caseworker came with the applicant "
                                         "(expected: not a warning sign)"))
    conflicts = MultiCheckbox(_l("Details that conflict with the bank's data"),
                              choices=[SelectChoice(k, v) for k, v in ops.CONFLICTS.items()])
    submit = SubmitField(_l("Open the account case"))


class ApiKeyForm(FlaskForm):
    """A new API key for the bank's systems."""

    name = StringField(_l("Name (which system uses it)"),
                       validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Create key"))


def _me() -> Any:
    user = current_user()
    assert user is not None
    return user


def _prefixes() -> tuple[str, ...]:
    return tuple(current_app.config.get("ACCEPTED_PREFIXES") or
                 (current_app.config["ATTESTATION_PREFIX"],))


def decode_upload(data: bytes) -> str | None:
    """Server-side QR decoding of an uploaded image (zxing-cpp)."""
    from onboarding.attestation.qr import decode_image

    try:
        return decode_image(data)
    except Exception:
        return None


@bp.route("/verify", methods=["GET", "POST"])
def verify_page() -> str:
    """Scan (camera), upload or paste; see the verdict, photo and claims."""
    allow_camera()
    form = VerifyForm()
    result = None
    record = None
    if form.validate_on_submit():
        text = (form.qr.data or "").strip()
        channel = form.channel.data if form.channel.data in ("camera", "paste") else "paste"
        upload = request.files.get("image")
        if upload and upload.filename:
            decoded = decode_upload(upload.read(current_app.config["MAX_CONTENT_LENGTH"]))
            channel = "upload"
            if decoded is None:
                form.image.errors = [_("No QR code could be read in that picture. Try a "
                                       "sharper photo, or paste the text.")]
                return render_template("bank/verify.html", form=form, result=None)
            text = decoded
        if not text:
            form.qr.errors = [_("Scan, upload or paste a card code.")]
        else:
            try:
                anchor = load_anchor(Path(current_app.instance_path))
                record, verified = ops.run_verification(
                    db(), actor(), org_id=_me().org_id, qr_text=text, channel=channel,
                    anchor=anchor, prefixes=_prefixes(),
                    keystore=current_app.extensions["onboarding.keystore"], user_id=_me().id)
            except TrustError:
                db().rollback()
                return render_template("bank/verify.html", form=form, result=None,
                                       no_trust=True)
            db().commit()
            result = verified.to_json()
            form.qr.data = ""
    return render_template("bank/verify.html", form=form, result=result, record=record,
                           verdict=VERDICT, case_form=CaseForm())


@bp.route("/verifications/<uuid:vid>/case", methods=["POST"])
def open_case(vid: uuid.UUID) -> Response:
    """Counter checks, then a case at the bank with the verified claims, encrypted."""
    row = owned_or_404(Verification, vid)
    form = CaseForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        case = ops.open_case(db(), actor(), current_app.extensions["onboarding.keystore"], row,
                             user_id=_me().id, product=form.product.data or "",
                             third_party=form.third_party.data or [],
                             caseworker_present=bool(form.caseworker_present.data),
                             conflicts=form.conflicts.data or [])
    except (ValueError, KeyError):
        db().rollback()
        abort(409)
    from onboarding.bank.tiering import recommend

    recommend(db(), actor(), current_app.extensions["onboarding.keystore"], case)
    db().commit()
    return cast(Response, redirect(url_for("bank.case", case_id=case.id), 303))


@bp.route("/cases/<uuid:case_id>")
def case(case_id: uuid.UUID) -> str:
    """The teller's view of a case: what to tell the applicant, nothing sensitive."""
    row = owned_or_404(BankCase, case_id)
    claims = ops.case_claims(current_app.extensions["onboarding.keystore"], row)
    return render_template("bank/case.html", case=row, claims=claims.get("claims") or {},
                           issuer=claims.get("issuer") or {})


@bp.route("/api-keys", methods=["GET", "POST"])
def api_keys() -> str:
    """Bank admin creates and revokes API keys (shown once, stored hashed)."""
    form = ApiKeyForm()
    created = None
    if form.validate_on_submit():
        _row, created = ops.create_api_key(db(), actor(), _me().organisation,
                                           form.name.data or "", ["verifications:create"],
                                           _me().id)
        db().commit()
    keys = db().execute(select(ApiKey).where(ApiKey.org_id == _me().org_id)
                        .order_by(ApiKey.created_at.desc())).scalars().all()
    return render_template("bank/api_keys.html", form=form, keys=keys, created=created,
                           revoke_form=EmptyForm())


@bp.route("/api-keys/<uuid:key_id>/revoke", methods=["POST"])
def revoke_api_key(key_id: uuid.UUID) -> Response:
    """Revoke a key at once."""
    row = owned_or_404(ApiKey, key_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ops.revoke_api_key(db(), actor(), row)
    db().commit()
    return cast(Response, redirect(url_for("bank.api_keys"), 303))
