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

from onboarding.api.views import SCOPES
from onboarding.auth.forms import EmptyForm
from onboarding.auth.views import actor
from onboarding.bank import operations as ops
from onboarding.clock import now
from onboarding.intake.forms import MultiCheckbox
from onboarding.models import ApiKey, BankCase, Verification
from onboarding.security import allow_camera, current_user, db, owned_or_404, require_step_up
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
    scopes = MultiCheckbox(_l("What it may do"), choices=[
        SelectChoice("verifications:create", _l("Verify attestation QRs")),
        SelectChoice("decisions:read", _l("Read decisions (tier, features, limits, validity)")),
        SelectChoice("accounts:write", _l("Set account references and send monthly "
                                          "transaction summaries"))],
        default=["verifications:create"])
    submit = SubmitField(_l("Create key"))


class WebhookForm(FlaskForm):
    """Where decisions and alerts are pushed (a new signing secret each time it is set)."""

    url = StringField(_l("Endpoint URL (https)"), validators=[DataRequired(), Length(max=500)],
                      render_kw={"autocomplete": "off", "spellcheck": "false",
                                 "inputmode": "url"})
    submit = SubmitField(_l("Save and create a new signing secret"))


def _me() -> Any:
    user = current_user()
    assert user is not None
    return user


def prefixes() -> tuple[str, ...]:
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
                    anchor=anchor, prefixes=prefixes(),
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
    from onboarding.security import step_up_fresh

    form = ApiKeyForm()
    created = None
    fresh = step_up_fresh()
    if request.method == "POST" and not fresh:
        # A new key can read decisions or feed accounts: a sensitive action (SECURITY.md 8).
        return cast(str, redirect(url_for("auth.reauth", next=url_for("bank.api_keys")), 303))
    if form.validate_on_submit():
        scopes = [x for x in form.scopes.data or [] if x in SCOPES]
        if not scopes:
            form.scopes.errors = [_("Choose at least one.")]
        else:
            _row, created = ops.create_api_key(db(), actor(), _me().organisation,
                                               form.name.data or "", scopes, _me().id)
            db().commit()
    keys = db().execute(select(ApiKey).where(ApiKey.org_id == _me().org_id)
                        .order_by(ApiKey.created_at.desc())).scalars().all()
    return render_template("bank/api_keys.html", form=form, keys=keys, created=created,
                           revoke_form=EmptyForm(), fresh=fresh)


@bp.route("/api-keys/<uuid:key_id>/revoke", methods=["POST"])
def revoke_api_key(key_id: uuid.UUID) -> Response:
    """Revoke a key at once."""
    row = owned_or_404(ApiKey, key_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ops.revoke_api_key(db(), actor(), row)
    db().commit()
    return cast(Response, redirect(url_for("bank.api_keys"), 303))


# -------------------------------------------------------------------- webhook
def _webhook_page(form: WebhookForm | None = None, secret: str | None = None,
                  status: int = 200) -> tuple[str, int]:
    from onboarding.models import WebhookDelivery
    from onboarding.security import step_up_fresh

    endpoint = _endpoint()
    deliveries = db().execute(select(WebhookDelivery).where(
        WebhookDelivery.org_id == _me().org_id)
        .order_by(WebhookDelivery.created_at.desc()).limit(50)).scalars().all()
    return render_template("bank/webhook.html", endpoint=endpoint, deliveries=deliveries,
                           form=form or WebhookForm(), secret=secret, small_form=EmptyForm(),
                           fresh=step_up_fresh()), status


@bp.route("/webhook")
def webhook() -> tuple[str, int]:
    """The bank admin's webhook settings and delivery log."""
    return _webhook_page()


@bp.route("/webhook", methods=["POST"])
@require_step_up
def webhook_set() -> tuple[str, int]:
    """Set the endpoint URL; a new signing secret is created and shown once."""
    from onboarding import audit, webhooks
    from onboarding.auth.views import keyring
    from onboarding.models import WebhookEndpoint

    form = WebhookForm()
    if not form.validate_on_submit():
        return _webhook_page(form, status=422)
    url = (form.url.data or "").strip()
    try:
        webhooks.check_url(url, allow_http=current_app.config["WEBHOOK_ALLOW_HTTP"],
                           allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    except webhooks.WebhookUrlError as exc:
        form.url.errors = [str(exc)]
        return _webhook_page(form, status=422)
    secret = webhooks.new_secret()
    endpoint = _endpoint()
    if endpoint is None:
        endpoint = WebhookEndpoint(id=uuid.uuid4(), org_id=_me().org_id, url=url,
                                   secret_wrapped=b"", created_by=_me().id)
        db().add(endpoint)
    endpoint.url = url
    endpoint.secret_wrapped = webhooks.wrap_secret(keyring(), _me().org_id, secret)
    endpoint.created_by = _me().id
    endpoint.created_at = now()
    endpoint.disabled_at = None
    db().flush()
    audit.record(db(), actor(), "webhook.set", object_type="webhook_endpoint",
                 object_id=endpoint.id, org_id=_me().org_id)
    db().commit()
    return _webhook_page(secret=secret)


@bp.route("/webhook/test", methods=["POST"])
def webhook_test() -> Response:
    """Queue a test event and attempt it at once (after committing: no transaction, and so
    no lock, is held while the remote server answers)."""
    from onboarding import audit, webhooks
    from onboarding.auth.views import keyring

    if not EmptyForm().validate_on_submit():
        abort(400)
    row = webhooks.enqueue(db(), _me().org_id, "webhook.test", {"hello": "world"})
    if row is None:
        abort(409)
    db().flush()
    audit.record(db(), actor(), "webhook.test", object_type="webhook_delivery",
                 object_id=row.id, org_id=_me().org_id)
    db().commit()
    with current_app.extensions["onboarding.sessionmaker"]() as session:
        webhooks.deliver_due(session, keyring(), ids=[row.id], limit=1,
                             allow_http=current_app.config["WEBHOOK_ALLOW_HTTP"],
                             allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    return cast(Response, redirect(url_for("bank.webhook"), 303))


@bp.route("/webhook/disable", methods=["POST"])
@require_step_up
def webhook_disable() -> Response:
    """Stop sending (queued events stay and go out if it is set again)."""
    from onboarding import audit

    if not EmptyForm().validate_on_submit():
        abort(400)
    endpoint = _endpoint()
    if endpoint is None:
        abort(404)
    endpoint.disabled_at = now()
    audit.record(db(), actor(), "webhook.disable", object_type="webhook_endpoint",
                 object_id=endpoint.id, org_id=_me().org_id)
    db().commit()
    return cast(Response, redirect(url_for("bank.webhook"), 303))


@bp.route("/webhook/deliveries/<uuid:delivery_id>/retry", methods=["POST"])
def webhook_retry(delivery_id: uuid.UUID) -> Response:
    """Send a failed event again (the job picks it up on its next run)."""
    from onboarding import audit
    from onboarding.models import WebhookDelivery

    row = owned_or_404(WebhookDelivery, delivery_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if row.state != "failed":
        abort(409)
    row.state = "pending"
    row.attempts = 0
    row.next_attempt_at = now()
    audit.record(db(), actor(), "webhook.retry", object_type="webhook_delivery",
                 object_id=row.id, org_id=row.org_id)
    db().commit()
    return cast(Response, redirect(url_for("bank.webhook"), 303))


def _endpoint() -> Any:
    """The bank's webhook endpoint, if it has one."""
    from onboarding.models import WebhookEndpoint

    return db().execute(select(WebhookEndpoint).where(
        WebhookEndpoint.org_id == _me().org_id)).scalar_one_or_none()
