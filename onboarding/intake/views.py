"""Caseworker intake wizard, attestation pages, NGO admin tools, and the survivor's
one-time hand-over page.

Views parse, call :mod:`onboarding.intake.operations`, commit, render. Every object is
looked up within the caller's organisation: another NGO's record is a 404.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import TYPE_CHECKING, Any, cast

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectChoice

from onboarding import assurance as assurance_mod
from onboarding.auth.forms import EmptyForm
from onboarding.auth.views import actor
from onboarding.intake import operations as ops
from onboarding.intake.forms import (
    CertificationForm,
    ConsentForm,
    ConsentTextForm,
    EvidenceForm,
    IdentityForm,
    LegalHoldForm,
    PhotoForm,
    RefereeForm,
    RevokeForm,
    SearchForm,
    split_names,
)
from onboarding.models import (
    Attestation,
    AttestationStatus,
    CaseworkerCertification,
    Consent,
    ConsentText,
    Evidence,
    Organisation,
    Person,
    PersonStatus,
    RefereeSession,
    User,
)
from onboarding.models.core import Role
from onboarding.privacy import Erased
from onboarding.security import allow_camera, current_user, db, owned_or_404, require_step_up

if TYPE_CHECKING:
    from onboarding.photos import PhotoError

bp = Blueprint("intake", __name__, url_prefix="/intake")
handover_bp = Blueprint("handover", __name__)


def svc() -> ops.Services:
    """Intake services from the app."""
    from pathlib import Path

    app = current_app
    return ops.Services(keyring=app.extensions["onboarding.keyring"],
                        keystore=app.extensions["onboarding.keystore"],
                        blind=app.extensions["onboarding.blind_index"],
                        upload_dir=Path(app.config["UPLOAD_FOLDER"]), config=dict(app.config))


def me() -> User:
    user = current_user()
    assert user is not None
    return user


def base_url() -> str:
    return str(current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def own_person(person_id: uuid.UUID) -> Person:
    return owned_or_404(Person, person_id)


def own_attestation(att_id: uuid.UUID) -> tuple[Attestation, Person]:
    row = owned_or_404(Attestation, att_id)
    person = db().get(Person, row.person_id)
    assert person is not None
    return row, person


def summary(person: Person) -> dict[str, Any]:
    """Decrypted claims for display (empty if erased)."""
    if person.status == PersonStatus.ERASED:
        return {}
    try:
        c = svc().cipher(person)
    except Erased:
        return {}
    dob = c.open("dob", person.dob_enc) or {}
    return {"names": c.open("names", person.names_enc) or [],
            "other_names": c.open("other_names", person.other_names_enc) or [],
            "dob": dob.get("value"), "dob_approximate": dob.get("approximate"),
            "birth_place": c.open("birth_place", person.birth_place_enc),
            "nationality": c.open("nationality", person.nationality_enc),
            "languages": c.open("languages", person.languages_enc) or []}


def _done(person: Person, step: str) -> Response:
    db().commit()
    return cast(Response, redirect(url_for(f"intake.{step}", person_id=person.id), 303))


# ------------------------------------------------------------------ caseload
@bp.route("/", methods=["GET", "POST"])
def caseload() -> str:
    """The caseworker's enrolments; search by name through the blind index."""
    form = SearchForm()
    query = select(Person).where(Person.org_id == me().org_id)
    people: list[Person]
    if form.validate_on_submit() and form.q.data:
        people = ops.search(db(), svc(), me().org_id, form.q.data)
    else:
        people = list(db().execute(query.order_by(Person.updated_at.desc()).limit(100)).scalars())
    if form.status.data:
        people = [p for p in people if p.status.value == form.status.data]
    rows = [(p, summary(p)) for p in people]
    return render_template("intake/caseload.html", form=form, rows=rows)


# ------------------------------------------------------------------- consent
@bp.route("/new", methods=["GET", "POST"])
def new() -> str | Response:
    """Step 1: consent in the person's language (English and Spanish shipped)."""
    lang = request.values.get("language") or request.args.get("lang") or "en"
    if lang not in current_app.config["LANGUAGES"]:
        lang = "en"
    text = ops.consent_text(db(), me().org_id, lang)
    if text is None:
        return render_template("intake/no_consent_text.html", lang=lang)
    form = ConsentForm()
    form.purposes.choices = [SelectChoice(p, PURPOSE_LABELS.get(p, p)) for p in text.purposes]
    if request.method == "GET":
        form.token.data = secrets.token_urlsafe(24)
        form.language.data = lang
    if form.validate_on_submit():
        try:
            person = ops.start_intake(db(), actor(), svc(), org=me().organisation,
                                      caseworker=me(), text=text,
                                      purposes=form.purposes.data or [],
                                      method=form.method.data or "", token=form.token.data or "")
        except ops.IntakeError as exc:
            db().rollback()
            form.purposes.errors = [str(exc)]
        else:
            return _done(person, "identity")
    return render_template("intake/consent.html", form=form, text=text, lang=lang)


PURPOSE_LABELS = {
    "identity_attestation": _l("Create a signed identity attestation the person can carry"),
    "bank_sharing": _l("Let a bank the person chooses check the attestation"),
    "safeguarding_contact": _l("Let that bank contact us if they are worried about the person"),
}


# ------------------------------------------------------------------ identity
@bp.route("/<uuid:person_id>/identity", methods=["GET", "POST"])
def identity(person_id: uuid.UUID) -> str | Response:
    """Step 2: names, date of birth, place of birth, nationality, languages."""
    person = own_person(person_id)
    form = IdentityForm()
    if request.method == "GET" and person.names_enc:
        s = summary(person)
        form.names.data = "\n".join(s["names"])
        form.other_names.data = "\n".join(s["other_names"])
        parts = (s["dob"] or "").split("-")
        form.dob_precision.data = {1: "year", 2: "month", 3: "full"}.get(len(parts), "full")
        form.dob_year.data = int(parts[0]) if parts[0] else None
        form.dob_month.data = int(parts[1]) if len(parts) > 1 else None
        form.dob_day.data = int(parts[2]) if len(parts) > 2 else None
        form.dob_approximate.data = bool(s["dob_approximate"])
        form.birth_place.data = s["birth_place"]
        form.nationality.data = s["nationality"]
        form.languages.data = ", ".join(s["languages"])
    if form.validate_on_submit():
        ident = ops.Identity(names=split_names(form.names.data or ""),
                             other_names=split_names(form.other_names.data or ""),
                             dob=form.dob_value(), dob_approximate=bool(form.dob_approximate.data),
                             birth_place=form.birth_place.data or "",
                             nationality=(form.nationality.data or "").strip().upper(),
                             languages=form.language_list())
        ops.save_identity(db(), actor(), svc(), person, ident)
        return _done(person, "photo")
    return render_template("intake/identity.html", form=form, person=person, step="identity")


# --------------------------------------------------------------------- photo
#: Face thumbnail budget in the QR: 360 bytes rather than the format's 400 leaves room in
#: a version-25 QR for a longer status-list URL.
THUMBNAIL_BYTES = 360


def photo_error_text(exc: PhotoError) -> str:
    """The caseworker's message for a refused photo, in the interface language.
    ``photos`` stays free of Flask and says why in English; its stable ``code`` is
    translated here, with the same limits the view applies."""
    from onboarding import photos

    texts = {
        "empty": _("No photo was received."),
        "file_too_large": _("The photo is too large: the file must be at most %(mb)s MB.",
                            mb=format_number(photos.MAX_UPLOAD_BYTES // (1024 * 1024))),
        "unsupported_type": _("The file is not a JPEG, PNG or WebP photo."),
        "too_many_pixels": _("The photo is too large: at most %(mp)s megapixels and %(side)s "
                             "pixels on the longest side.",
                             mp=format_number(photos.MAX_PIXELS // 1_000_000),
                             side=format_number(photos.MAX_SIDE)),
        "too_small": _("The photo is too small: at least %(n)s x %(n)s pixels are needed.",
                       n=format_number(photos.MIN_SIDE)),
        "undecodable": _("The photo could not be read; it may be damaged. Please take or "
                         "upload it again."),
        "thumbnail_too_large": _("A face thumbnail cannot be made within %(n)s bytes.",
                                 n=format_number(THUMBNAIL_BYTES)),
    }
    return texts.get(exc.code, str(exc))


@bp.route("/<uuid:person_id>/photo", methods=["GET", "POST"])
def photo(person_id: uuid.UUID) -> str | Response:
    """Step 3: camera capture or upload; re-encoded, metadata stripped."""
    from onboarding import photos

    allow_camera()
    person = own_person(person_id)
    form = PhotoForm()
    if form.validate_on_submit():
        upload = request.files.get("photo")
        data = upload.read() if upload else b""
        if not data:
            form.photo.errors = [_("Take a photo or choose a file.")]
        else:
            try:
                processed = photos.process_upload(data)
                thumb = photos.face_thumbnail(processed.image, max_bytes=THUMBNAIL_BYTES)
            except photos.PhotoError as exc:
                form.photo.errors = [photo_error_text(exc)]
            else:
                ops.save_photo(db(), actor(), svc(), person, processed.image, thumb)
                return _done(person, "evidence")
    return render_template("intake/photo.html", form=form, person=person, step="photo",
                           has_photo=bool(person.photo_file))


@bp.route("/<uuid:person_id>/photo.jpg")
def photo_image(person_id: uuid.UUID) -> Response:
    """The stored photo, decrypted, for NGO staff only (never a static URL)."""
    person = own_person(person_id)
    try:
        data = ops.read_photo(svc(), person)
    except (Erased, FileNotFoundError):
        data = None
    if data is None:
        abort(404)
    resp = make_response(data)
    resp.mimetype = "image/jpeg"
    return resp


# ------------------------------------------------------------------ evidence
@bp.route("/<uuid:person_id>/evidence", methods=["GET", "POST"])
def evidence(person_id: uuid.UUID) -> str | Response:
    """Step 4: evidence items and applicant references."""
    person = own_person(person_id)
    form = EvidenceForm()
    if form.validate_on_submit():
        try:
            ops.add_evidence(db(), actor(), svc(), person, kind=form.kind.data or "",
                             validation=form.validation.data or "",
                             result=form.result.data or "unverified",
                             details=form.details.data or "",
                             reference_ial=int(form.reference_ial.data)
                             if form.reference_ial.data else None,
                             relationship=form.relationship.data or None,
                             liability_ack=bool(form.liability_ack.data),
                             recorded_by=me().id)
        except ops.IntakeError as exc:
            db().rollback()
            form.kind.errors = [str(exc)]
        else:
            return _done(person, "evidence")
    items = ops.evidence_of(db(), person)
    return render_template("intake/evidence.html", form=form, person=person, items=items,
                           catalogue=assurance_mod.CATALOGUE, step="evidence",
                           validation_methods=assurance_mod.VALIDATION_METHODS,
                           result=ops.assurance_of(db(), person), remove_form=EmptyForm())


@bp.route("/<uuid:person_id>/evidence/<uuid:item_id>/remove", methods=["POST"])
def remove_evidence(person_id: uuid.UUID, item_id: uuid.UUID) -> Response:
    """Remove an item recorded by mistake."""
    person = own_person(person_id)
    item = db().get(Evidence, item_id)
    if item is None or item.person_id != person.id or not EmptyForm().validate_on_submit():
        abort(404)
    ops.remove_evidence(db(), actor(), person, item)
    return _done(person, "evidence")


# ------------------------------------------------------------ referee session
@bp.route("/<uuid:person_id>/referee", methods=["GET", "POST"])
def referee(person_id: uuid.UUID) -> str | Response:
    """Step 5: the trusted-referee session record and coercion indicators."""
    person = own_person(person_id)
    form = RefereeForm()
    form.reason.choices = [SelectChoice(k, v) for k, v in ops.REFEREE_REASONS.items()]
    form.checked.choices = [SelectChoice(k, v) for k, v in ops.COERCION_INDICATORS.items()]
    form.seen.choices = form.checked.choices
    if request.method == "GET":
        row = db().execute(select(RefereeSession).where(RefereeSession.person_id == person.id)
                           ).scalar_one_or_none()
        if row is not None:
            form.mode.data, form.reason.data = str(row.mode), row.reason
            form.checked.data, form.seen.data = row.indicators_checked, row.indicators_seen
        else:
            form.checked.data = list(ops.COERCION_INDICATORS)
    if form.validate_on_submit():
        try:
            ops.save_referee_session(db(), actor(), svc(), person, caseworker=me(),
                                     mode=int(form.mode.data or 1), reason=form.reason.data or "",
                                     detail=form.detail.data or "",
                                     checked=form.checked.data or [], seen=form.seen.data or [])
        except ops.IntakeError as exc:
            db().rollback()
            form.seen.errors = [str(exc)]
        else:
            return _done(person, "review")
    return render_template("intake/referee.html", form=form, person=person, step="referee")


# -------------------------------------------------------------------- review
@bp.route("/<uuid:person_id>/review")
def review(person_id: uuid.UUID) -> str:
    """Step 6: everything on one page, then issue (with step-up)."""
    person = own_person(person_id)
    session_row = db().execute(select(RefereeSession).where(
        RefereeSession.person_id == person.id)).scalar_one_or_none()
    certified = ops.certification_valid(db(), me().id, g.get("today") or _today())
    return render_template("intake/review.html", person=person, s=summary(person),
                           items=ops.evidence_of(db(), person), session=session_row,
                           result=ops.assurance_of(db(), person), form=EmptyForm(),
                           certified=certified, reasons=ops.REFEREE_REASONS,
                           indicators=ops.COERCION_INDICATORS, catalogue=assurance_mod.CATALOGUE,
                           step="review")


def _today() -> Any:
    from onboarding.clock import now

    return now().date()


@bp.route("/<uuid:person_id>/issue", methods=["POST"])
@require_step_up
def issue(person_id: uuid.UUID) -> str | Response:
    """Sign and issue (or hold, if coercion was seen)."""
    person = own_person(person_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        row = ops.issue(db(), actor(), svc(), person, caseworker=me(), org=me().organisation,
                        base_url=base_url())
    except ops.IntakeError as exc:
        db().rollback()
        return render_template("intake/issue_refused.html", person=person, message=str(exc))
    db().commit()
    return cast(Response, redirect(url_for("intake.attestation", att_id=row.id), 303))


# --------------------------------------------------------------- person page
@bp.route("/<uuid:person_id>")
def person(person_id: uuid.UUID) -> str:
    """One record: claims, consent, attestations, life-cycle actions."""
    p = own_person(person_id)
    consents = db().execute(select(Consent).where(Consent.person_id == p.id)).scalars().all()
    draft_until = (ops.draft_shredded_on(p, int(current_app.config["DRAFT_RETENTION_DAYS"]))
                   if p.status == PersonStatus.DRAFT else None)
    return render_template("intake/person.html", person=p, s=summary(p),
                           attestations=ops.attestations_of(db(), p), consents=consents,
                           form=EmptyForm(), hold_form=LegalHoldForm(), draft_until=draft_until)


@bp.route("/<uuid:person_id>/export.pdf", methods=["GET", "POST"])
@require_step_up
def export(person_id: uuid.UUID) -> Response:
    """A copy of the data held about the person (right of access), in their language.
    Exporting personal data needs a fresh step-up and is audited."""
    from onboarding import audit
    from onboarding.intake.export import render

    p = own_person(person_id)
    if p.status == PersonStatus.ERASED:
        abort(404)
    s = summary(p)
    c = svc().cipher(p)
    texts = {t.id: t for t in db().execute(select(ConsentText)).scalars()}
    consents = [{"given_at": x.given_at.strftime("%Y-%m-%d"), "method": x.method,
                 "purposes": x.purposes, "version": texts[x.text_id].version,
                 "withdrawn_at": x.withdrawn_at.strftime("%Y-%m-%d") if x.withdrawn_at else None}
                for x in db().execute(select(Consent).where(Consent.person_id == p.id)).scalars()]
    evidence = [{"label": assurance_mod.CATALOGUE[e.kind].label, "result": e.result,
                 "details": c.open("evidence_details", e.details_enc)}
                for e in ops.evidence_of(db(), p)]
    cards = [{"issued": a.issued_at.strftime("%Y-%m-%d") if a.issued_at else "—",
              "status": a.status.value,
              "expires": a.expires_at.strftime("%Y-%m-%d") if a.expires_at else "—"}
             for a in ops.attestations_of(db(), p)]
    pdf = render(s, consents, evidence, cards, ops.read_photo(svc(), p), p.language)
    audit.record(db(), actor(), "person.export", object_type="person", object_id=p.id)
    db().commit()
    resp = make_response(pdf)
    resp.mimetype = "application/pdf"
    resp.headers["Content-Disposition"] = 'attachment; filename="my-information.pdf"'
    return resp


@bp.route("/<uuid:person_id>/withdraw-consent", methods=["POST"])
@require_step_up
def withdraw_consent(person_id: uuid.UUID) -> Response:
    """Consent withdrawn: attestations revoked, record restricted."""
    p = own_person(person_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ops.withdraw_consent(db(), actor(), p)
    db().commit()
    return cast(Response, redirect(url_for("intake.person", person_id=p.id), 303))


@bp.route("/<uuid:person_id>/erase", methods=["POST"])
@require_step_up
def erase(person_id: uuid.UUID) -> str | Response:
    """Crypto-shred the record."""
    p = own_person(person_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ops.erase(db(), actor(), svc(), p)
    except ops.IntakeError as exc:
        db().rollback()
        return render_template("intake/issue_refused.html", person=p, message=str(exc))
    db().commit()
    return cast(Response, redirect(url_for("intake.person", person_id=p.id), 303))


@bp.route("/<uuid:person_id>/legal-hold", methods=["POST"])
@require_step_up
def legal_hold(person_id: uuid.UUID) -> str | Response:
    """NGO admin: place or lift a legal hold (a lawful request to keep the record). While it
    is on, neither erasure nor the retention job touches the record."""
    p = own_person(person_id)
    form = LegalHoldForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.set_legal_hold(db(), actor(), p, form.hold.data == "on", form.reason.data or "")
    except ops.IntakeError as exc:
        db().rollback()
        return render_template("intake/issue_refused.html", person=p, message=str(exc))
    db().commit()
    return cast(Response, redirect(url_for("intake.person", person_id=p.id), 303))


# --------------------------------------------------------------- attestation
@bp.route("/attestations/<uuid:att_id>")
def attestation(att_id: uuid.UUID) -> str:
    """The QR on screen (error correction M), card downloads, hand-over, life cycle."""
    from onboarding.attestation.qr import render_svg

    row, p = own_attestation(att_id)
    svg = None
    text = ops.qr_text(svc(), p, row) if row.status != AttestationStatus.HELD else None
    if text:
        svg_text, _version = render_svg(text, medium="screen")
        svg = "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode()).decode()
    return render_template("intake/attestation.html", row=row, person=p, s=summary(p), qr=svg,
                           form=EmptyForm(), revoke_form=RevokeForm())


@bp.route("/attestations/<uuid:att_id>/card.pdf")
def card(att_id: uuid.UUID) -> Response:
    """The printable card (credit-card or A6) in the person's language."""
    row, p = own_attestation(att_id)
    return _card_response(row, p, request.args.get("size", "card"))


def _card_response(row: Attestation, p: Person, size: str) -> Response:
    from onboarding import cards

    text = ops.qr_text(svc(), p, row)
    if text is None or size not in ("card", "a6"):
        abort(404)
    s = summary(p)
    org = db().get(Organisation, row.org_id)
    assert org is not None and row.expires_at is not None
    pdf = cards.render_card_pdf(qr_text=text, names=s["names"],
                                photo_jpeg=ops.read_photo(svc(), p),
                                issuer_display_name=org.display_name,
                                expires=row.expires_at.date(), language=p.language,
                                size=cast(Any, size))
    resp = make_response(pdf)
    resp.mimetype = "application/pdf"
    resp.headers["Content-Disposition"] = f'attachment; filename="card-{size}.pdf"'
    return resp


def _lifecycle(att_id: uuid.UUID, action: str) -> Response:
    row, _p = own_attestation(att_id)
    form = RevokeForm() if action in ("revoke", "reissue") else EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    target = row
    try:
        if action == "suspend":
            ops.suspend(db(), actor(), row)
        elif action == "unsuspend":
            ops.unsuspend(db(), actor(), row)
        elif action == "revoke":
            ops.revoke(db(), actor(), row, form.reason.data)
        elif action == "reissue":
            target = ops.reissue(db(), actor(), svc(), row, caseworker=me(),
                                 org=me().organisation, base_url=base_url(),
                                 reason=form.reason.data)
    except ops.IntakeError:
        db().rollback()
        abort(409)
    db().commit()
    return cast(Response, redirect(url_for("intake.attestation", att_id=target.id), 303))


@bp.route("/attestations/<uuid:att_id>/suspend", methods=["POST"])
def suspend(att_id: uuid.UUID) -> Response:
    """Suspend (temporarily invalid)."""
    return _lifecycle(att_id, "suspend")


@bp.route("/attestations/<uuid:att_id>/unsuspend", methods=["POST"])
def unsuspend(att_id: uuid.UUID) -> Response:
    """Reinstate a suspended attestation."""
    return _lifecycle(att_id, "unsuspend")


@bp.route("/attestations/<uuid:att_id>/revoke", methods=["POST"])
@require_step_up
def revoke(att_id: uuid.UUID) -> Response:
    """Revoke with a reason (step-up)."""
    return _lifecycle(att_id, "revoke")


@bp.route("/attestations/<uuid:att_id>/reissue", methods=["POST"])
@require_step_up
def reissue(att_id: uuid.UUID) -> Response:
    """Reissue (lost card, corrected name): the old one is superseded and revoked."""
    return _lifecycle(att_id, "reissue")


@bp.route("/attestations/<uuid:att_id>/handover", methods=["POST"])
def handover(att_id: uuid.UUID) -> str:
    """Show a one-time link (10 minutes, one use) as a QR for the person's phone."""
    row, _p = own_attestation(att_id)
    if not EmptyForm().validate_on_submit() or row.status != AttestationStatus.ACTIVE:
        abort(409)
    token = ops.create_handover(db(), actor(), row, current_app.config["HANDOVER_MINUTES"])
    db().commit()
    link = base_url() + url_for("handover.collect", token=token)
    from onboarding.mfa import qr_svg_data_uri  # byte-mode QR: a URL is not alphanumeric

    return render_template("intake/handover.html", row=row, link=link,
                           qr=qr_svg_data_uri(link),
                           minutes=current_app.config["HANDOVER_MINUTES"])


# --------------------------------------------------------- survivor hand-over
@handover_bp.route("/h/<token>")
def collect(token: str) -> str | Response:
    """The person's own page: save the QR image and the card. Works once, no account.
    Nothing on it names the kind of help; a quick-exit button leaves at once."""
    from onboarding.attestation.qr import render_png

    if len(token) > 64:
        abort(404)
    row = ops.redeem_handover(db(), token)
    if row is None:
        db().rollback()
        return make_response(render_template("intake/handover_gone.html"), 404)
    p = db().get(Person, row.person_id)
    assert p is not None
    text = ops.qr_text(svc(), p, row)
    assert text is not None
    png, _v = render_png(text, medium="screen")
    from onboarding import cards

    s = summary(p)
    org = db().get(Organisation, row.org_id)
    assert org is not None and row.expires_at is not None
    pdf = cards.render_card_pdf(qr_text=text, names=s["names"],
                                photo_jpeg=ops.read_photo(svc(), p),
                                issuer_display_name=org.display_name,
                                expires=row.expires_at.date(), language=p.language, size="a6")
    db().commit()
    g.quick_exit = True
    return render_template("intake/collect.html", lang=p.language,
                           png="data:image/png;base64," + base64.b64encode(png).decode(),
                           pdf="data:application/pdf;base64," + base64.b64encode(pdf).decode(),
                           expires=row.expires_at.date())


# ----------------------------------------------------------------- NGO admin
@bp.route("/admin/held", methods=["GET", "POST"])
def held() -> str | Response:
    """Attestations held because coercion indicators were seen."""
    rows = db().execute(select(Attestation).where(
        Attestation.org_id == me().org_id, Attestation.status == AttestationStatus.HELD)
        .order_by(Attestation.created_at)).scalars().all()
    return render_template("intake/held.html", rows=rows, form=EmptyForm())


@bp.route("/admin/held/<uuid:att_id>/release", methods=["POST"])
@require_step_up
def release(att_id: uuid.UUID) -> Response:
    """Issue a held attestation after review."""
    row, _p = own_attestation(att_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ops.release_held(db(), actor(), svc(), row, me().organisation, base_url())
    except ops.IntakeError:
        db().rollback()
        abort(409)
    db().commit()
    return cast(Response, redirect(url_for("intake.held"), 303))


@bp.route("/admin/certifications", methods=["GET", "POST"])
def certifications() -> str | Response:
    """Caseworkers' trusted-referee certifications."""
    staff = db().execute(select(User).where(User.org_id == me().org_id,
                                            User.role == Role.CASEWORKER)).scalars().all()
    form = CertificationForm()
    form.user_id.choices = [SelectChoice(str(u.id), u.display_name) for u in staff]
    if form.validate_on_submit():
        target = owned_or_404(User, uuid.UUID(form.user_id.data))
        try:
            ops.certify(db(), actor(), target, form.certified_on.data, form.expires_on.data)
        except ops.IntakeError as exc:
            db().rollback()
            form.expires_on.errors = [str(exc)]
        else:
            db().commit()
            return cast(Response, redirect(url_for("intake.certifications"), 303))
    certs = {c.user_id: c for c in db().execute(
        select(CaseworkerCertification).join(User, User.id == CaseworkerCertification.user_id)
        .where(User.org_id == me().org_id).order_by(CaseworkerCertification.expires_on))
        .scalars()}
    return render_template("intake/certifications.html", form=form, staff=staff, certs=certs,
                           today=_today())


@bp.route("/admin/consent-texts", methods=["GET", "POST"])
def consent_texts() -> str | Response:
    """Consent texts are versioned data; a new version replaces the active one."""
    from onboarding import audit

    form = ConsentTextForm()
    if form.validate_on_submit():
        purposes = [p.strip() for p in (form.purposes.data or "").split(",") if p.strip()]
        for old in db().execute(select(ConsentText).where(
                ConsentText.org_id == me().org_id,
                ConsentText.language == form.language.data)).scalars():
            old.active = False
        row = ConsentText(id=uuid.uuid4(), org_id=me().org_id, version=form.version.data,
                          language=form.language.data, title=form.title.data,
                          body=form.body.data, purposes=purposes, active=True)
        db().add(row)
        try:
            db().flush()
        except Exception:
            db().rollback()
            form.version.errors = [_("This version already exists for that language.")]
        else:
            audit.record(db(), actor(), "consent_text.publish", object_type="consent_text",
                         object_id=row.id, version=row.version, language=row.language)
            db().commit()
            return cast(Response, redirect(url_for("intake.consent_texts"), 303))
    texts = db().execute(select(ConsentText).where(ConsentText.org_id == me().org_id)
                         .order_by(ConsentText.created_at.desc())).scalars().all()
    return render_template("intake/consent_texts.html", form=form, texts=texts)
