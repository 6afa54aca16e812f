"""Compliance officers' workspace: queues, the case view, decisions under four-eyes,
screening hits, screening lists, and the safeguarding channel to the issuing NGO.

Every lookup is scoped to the officer's bank: another bank's case, hit or proposal is a 404.
"""

from __future__ import annotations

import csv
import uuid
from datetime import timedelta
from typing import Any, cast

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from onboarding import audit
from onboarding.auth.forms import EmptyForm
from onboarding.auth.views import actor
from onboarding.bank.operations import case_claims
from onboarding.bank.tiering import recommend
from onboarding.clock import now
from onboarding.compliance import foureyes
from onboarding.compliance.operations import record_decision
from onboarding.models import (
    AuditEntry,
    BankCase,
    Organisation,
    Proposal,
    SafeguardingMessage,
    ScreeningHit,
    ScreeningList,
    User,
    WhitelistEntry,
)
from onboarding.privacy import FieldCipher
from onboarding.security import current_user, db, owned_or_404

bp = Blueprint("compliance", __name__, url_prefix="/compliance")
ngo_bp = Blueprint("ngo_safeguarding", __name__, url_prefix="/safeguarding")

QUEUES = {"referred": ("referred",), "held": ("held",), "recommended": ("recommended",),
          "decided": ("approved", "declined"), "all": ()}
OVERRIDE_REASONS = {
    "screening_cleared": _l("Screening hit reviewed and cleared"),
    "additional_evidence": _l("Additional evidence seen by the bank"),
    "counter_check_resolved": _l("Counter check resolved with the applicant"),
    "risk_higher": _l("Higher risk than the engine saw"),
    "confirmed_sanctions": _l("Confirmed sanctions match"),
    "confirmed_fraud": _l("Confirmed fraud or duplicate"),
    "confirmed_third_party_control": _l("Confirmed third-party control"),
    "other": _l("Other (explain)"),
}
WIDER_VIEW_REASONS = {"screening_review": _l("Reviewing a screening hit"),
                      "safeguarding": _l("Safeguarding concern"),
                      "customer_request": _l("Applicant's own request")}
TIERS = ("T0", "T1", "T2", "T3")


class ProposeForm(FlaskForm):
    """An override, upgrade or decline proposal (four-eyes)."""

    outcome = SelectField(_l("Decision"), choices=[SelectChoice("approve", _l("Approve")),
                                                   SelectChoice("decline", _l("Decline"))])
    tier = SelectField(_l("Tier"), choices=[SelectChoice(t, t) for t in TIERS], default="T1")
    reason_code = SelectField(_l("Reason"), choices=[SelectChoice(k, str(v))
                                                     for k, v in OVERRIDE_REASONS.items()])
    reason_text = TextAreaField(_l("Justification"), validators=[DataRequired(),
                                                                 Length(max=2000)],
                                render_kw={"rows": 3})
    submit = SubmitField(_l("Propose (a second officer approves)"))


class MessageForm(FlaskForm):
    """A message on the safeguarding channel."""

    kind = SelectField(_l("Request"), choices=[
        SelectChoice("information", _l("Request information")),
        SelectChoice("welfare_check", _l("Request a welfare check"))])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=2000)],
                         render_kw={"rows": 3})
    submit = SubmitField(_l("Send to the issuing organisation"))


class ReplyForm(FlaskForm):
    """The NGO's reply."""

    body = TextAreaField(_l("Reply"), validators=[DataRequired(), Length(max=2000)],
                         render_kw={"rows": 3})
    submit = SubmitField(_l("Send reply"))


class ListForm(FlaskForm):
    """Upload a screening list version."""

    name = StringField(_l("List name"), validators=[DataRequired(), Length(max=60)],
                       default="internal")
    fmt = SelectField(_l("Format"), choices=[
        SelectChoice("simple", _l("CSV: name, aliases, date_of_birth, nationality")),
        SelectChoice("ofac", _l("OFAC SDN.CSV"))])
    file = FileField(_l("File"))
    alt = FileField(_l("OFAC ALT.CSV (aliases, optional)"))
    submit = SubmitField(_l("Upload and re-screen open cases"))


class WiderForm(FlaskForm):
    """Reason for seeing more than the minimised view."""

    reason = SelectField(_l("Why do you need the full details?"),
                         choices=[SelectChoice(k, str(v)) for k, v in WIDER_VIEW_REASONS.items()])
    submit = SubmitField(_l("Show full details (logged)"))


def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def _keystore() -> Any:
    return current_app.extensions["onboarding.keystore"]


def own_case(case_id: uuid.UUID) -> BankCase:
    return owned_or_404(BankCase, case_id)


# --------------------------------------------------------------------- queue
@bp.route("/")
def queue() -> str:
    """Cases by queue, with assignment, age and due date."""
    name = request.args.get("q", "referred")
    if name not in QUEUES:
        name = "referred"
    stmt = select(BankCase).where(BankCase.org_id == _me().org_id)
    if QUEUES[name]:
        stmt = stmt.where(BankCase.status.in_(QUEUES[name]))
    if request.args.get("mine"):
        stmt = stmt.where(BankCase.assigned_to == _me().id)
    cases = db().execute(stmt.order_by(BankCase.created_at).limit(200)).scalars().all()
    staff = {u.id: u.display_name for u in db().execute(
        select(User).where(User.org_id == _me().org_id)).scalars()}
    pending = {p.object_id for p in db().execute(select(Proposal).where(
        Proposal.org_id == _me().org_id, Proposal.status == "pending",
        Proposal.object_type == "bank_case")).scalars()}
    counts = {q: len(db().execute(select(BankCase.id).where(
        BankCase.org_id == _me().org_id, *([BankCase.status.in_(v)] if v else []))).all())
        for q, v in QUEUES.items()}
    return render_template("compliance/queue.html", cases=cases, queue=name, staff=staff,
                           pending=pending, counts=counts, now=now())


# ---------------------------------------------------------------------- case
@bp.route("/cases/<uuid:case_id>")
def case(case_id: uuid.UUID) -> str:
    """The decision trace in plain words, the facts (minimised), hits, proposals."""
    row = own_case(case_id)
    claims = case_claims(_keystore(), row)
    c = claims.get("claims") or {}
    wider = session.get("wider_view") == str(row.id)
    facts = {"names": c.get("names") or [],
             "year_of_birth": (c.get("date_of_birth") or "")[:4],
             "assurance": c.get("assurance"), "evidence": c.get("evidence") or [],
             "referee_session": c.get("referee_session"), "references": c.get("references"),
             "issued_at": (c.get("issued_at") or "")[:10],
             "expires_at": (c.get("expires_at") or "")[:10],
             "issuer": (claims.get("issuer") or {}).get("display_name")}
    if wider:
        facts.update({"date_of_birth": c.get("date_of_birth"),
                      "nationality": c.get("nationality"), "photo": c.get("photo")})
    hits = db().execute(select(ScreeningHit).where(ScreeningHit.case_id == row.id)
                        .order_by(ScreeningHit.score.desc())).scalars().all()
    lists = {r.id: r for r in db().execute(select(ScreeningList).where(
        ScreeningList.org_id == row.org_id)).scalars()}
    proposals = db().execute(select(Proposal).where(
        Proposal.org_id == row.org_id, Proposal.object_id == row.id)
        .order_by(Proposal.proposed_at.desc())).scalars().all()
    staff = {u.id: u.display_name for u in db().execute(
        select(User).where(User.org_id == row.org_id)).scalars()}
    messages = db().execute(select(SafeguardingMessage).where(
        SafeguardingMessage.case_id == row.id).order_by(SafeguardingMessage.sent_at)
    ).scalars().all()
    cipher = FieldCipher(row.id, _keystore().get(row.id))
    texts = {m.id: cipher.open("safeguarding", m.body_enc) for m in messages}
    reasons = {p.id: cipher.open("proposal_reason", p.reason_text_enc)
               for p in proposals if p.reason_text_enc}
    trail = db().execute(select(AuditEntry).where(
        AuditEntry.object_id == str(row.id), AuditEntry.org_id == row.org_id)
        .order_by(AuditEntry.seq)).scalars().all()
    return render_template("compliance/case.html", case=row, rec=row.recommendation or {},
                           facts=facts, wider=wider, hits=hits, lists=lists,
                           proposals=proposals, staff=staff, messages=messages, texts=texts,
                           reasons=reasons, propose_form=ProposeForm(), form=EmptyForm(),
                           message_form=MessageForm(), wider_form=WiderForm(), trail=trail,
                           override_reasons=OVERRIDE_REASONS, me=_me())


def _back(row: BankCase) -> Response:
    return cast(Response, redirect(url_for("compliance.case", case_id=row.id), 303))


@bp.route("/cases/<uuid:case_id>/assign", methods=["POST"])
def assign(case_id: uuid.UUID) -> Response:
    """Take the case (or give it back)."""
    row = own_case(case_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    row.assigned_to = None if row.assigned_to == _me().id else _me().id
    row.due_at = row.due_at or (now() + timedelta(days=2))
    audit.record(db(), actor(), "case.assign", object_type="bank_case", object_id=row.id,
                 org_id=row.org_id, assigned=row.assigned_to is not None)
    db().commit()
    return _back(row)


@bp.route("/cases/<uuid:case_id>/approve", methods=["POST"])
def approve(case_id: uuid.UUID) -> Response:
    """Approve exactly what the engine recommended (one officer suffices for that)."""
    row = own_case(case_id)
    rec = row.recommendation or {}
    if not EmptyForm().validate_on_submit() or rec.get("outcome") != "approve":
        abort(409)
    record_decision(db(), actor(), row, outcome="approve", tier=rec["tier"], how="approve")
    db().commit()
    return _back(row)


@bp.route("/cases/<uuid:case_id>/propose", methods=["POST"])
def propose(case_id: uuid.UUID) -> str | Response:
    """Override, upgrade or decline: a proposal a second officer must approve."""
    row = own_case(case_id)
    form = ProposeForm()
    if not form.validate_on_submit():
        return case(case_id)
    outcome, tier = form.outcome.data, form.tier.data
    if outcome == "decline":
        tier = "T0"
    cipher = FieldCipher(row.id, _keystore().get(row.id))
    foureyes.propose(db(), actor(), org_id=row.org_id, object_type="bank_case",
                     object_id=row.id, object_version=row.version,
                     action="decline" if outcome == "decline" else "override",
                     payload={"outcome": outcome, "tier": tier},
                     reason_code=form.reason_code.data or "other",
                     reason_text_enc=cipher.seal("proposal_reason", form.reason_text.data))
    db().commit()
    return _back(row)


@bp.route("/proposals/<uuid:proposal_id>", methods=["POST"])
def decide_proposal(proposal_id: uuid.UUID) -> str | Response:
    """The checker approves or rejects; the server refuses self-approval and stale ones."""
    proposal = owned_or_404(Proposal, proposal_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    approve_it = request.form.get("decision") == "approve"
    if proposal.object_type == "bank_case":
        row = own_case(proposal.object_id)

        def apply(p: Proposal) -> None:
            record_decision(db(), actor(), row, outcome=p.payload["outcome"],
                            tier=p.payload["tier"], how=p.action, proposal_id=p.id)

        version = row.version
    elif proposal.object_type == "whitelist":
        row = own_case(proposal.object_id)

        def apply(p: Proposal) -> None:
            db().add(WhitelistEntry(id=uuid.uuid4(), org_id=p.org_id,
                                    applicant_key=p.payload["applicant_key"],
                                    entity_id=p.payload["entity_id"], note_code=p.reason_code,
                                    created_by=p.proposed_by, approved_by=_me().id))
            audit.record(db(), actor(), "whitelist.add", object_type="bank_case",
                         object_id=row.id, org_id=row.org_id, entity=p.payload["entity_id"])

        version = row.version
    else:
        abort(404)
    try:
        foureyes.decide(db(), actor(), proposal, approve=approve_it, current_version=version,
                        apply=apply)
    except foureyes.FourEyesError as exc:
        db().commit()  # a void proposal stays void
        resp = Response(render_template("compliance/refused.html", message=str(exc),
                                        case_id=proposal.object_id), status=409)
        return resp
    db().commit()
    return _back(row)


@bp.route("/hits/<uuid:hit_id>", methods=["POST"])
def hit(hit_id: uuid.UUID) -> Response:
    """Confirm a hit, mark it no-hit, or propose whitelisting the pair (four-eyes)."""
    h = owned_or_404(ScreeningHit, hit_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    row = own_case(h.case_id)
    action = request.form.get("action")
    if action in ("no_hit", "confirmed"):
        h.disposition = action
        h.decided_by = _me().id
        h.decided_at = now()
        audit.record(db(), actor(), f"screening.{action}", object_type="bank_case",
                     object_id=row.id, org_id=row.org_id, entity=h.entity_id[:60])
        recommend(db(), actor(), _keystore(), row)  # the engine sees the disposition
    elif action == "whitelist":
        foureyes.propose(db(), actor(), org_id=row.org_id, object_type="whitelist",
                         object_id=row.id, object_version=row.version, action="whitelist",
                         payload={"applicant_key": row.applicant_key,
                                  "entity_id": h.entity_id}, reason_code="screening_cleared")
    else:
        abort(400)
    db().commit()
    return _back(row)


@bp.route("/cases/<uuid:case_id>/wider", methods=["POST"])
def wider_view(case_id: uuid.UUID) -> Response:
    """Show the full details for this case in this session, with a logged reason."""
    row = own_case(case_id)
    form = WiderForm()
    if not form.validate_on_submit():
        abort(400)
    session["wider_view"] = str(row.id)
    audit.record(db(), actor(), "case.wider_view", object_type="bank_case", object_id=row.id,
                 org_id=row.org_id, reason=form.reason.data)
    db().commit()
    return _back(row)


@bp.route("/cases/<uuid:case_id>/safeguarding", methods=["POST"])
def safeguarding(case_id: uuid.UUID) -> Response:
    """Ask the issuing NGO for information or a welfare check (the only crossing)."""
    row = own_case(case_id)
    form = MessageForm()
    if not form.validate_on_submit() or row.issuer_org_id is None:
        abort(400)
    msg = SafeguardingMessage(id=uuid.uuid4(), case_id=row.id, bank_org_id=row.org_id,
                              ngo_org_id=row.issuer_org_id, direction="to_ngo",
                              kind=form.kind.data or "information",
                              body_enc=FieldCipher(row.id, _keystore().get(row.id)).seal(
                                  "safeguarding", form.body.data),
                              sent_by=_me().id, sent_at=now())
    db().add(msg)
    audit.record(db(), actor(), "safeguarding.send", object_type="bank_case", object_id=row.id,
                 org_id=row.org_id, kind=msg.kind)
    db().commit()
    return _back(row)


# ----------------------------------------------------------- screening lists
@bp.route("/screening-lists", methods=["GET", "POST"])
def screening_lists() -> str | Response:
    """Upload a list version; open cases are re-screened (cleared pairs stay cleared)."""
    form = ListForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        alt = request.files.get("alt")
        try:
            from risk.screening import load_ofac_sdn, load_simple_csv

            if form.fmt.data == "ofac":
                parsed = load_ofac_sdn(data, alt.read() if alt and alt.filename else None)
            else:
                parsed = load_simple_csv(data, name=form.name.data or "list")
        except (ValueError, UnicodeDecodeError, csv.Error, KeyError) as exc:
            form.file.errors = [_("The file could not be read: %(e)s", e=str(exc)[:200])]
        else:
            if not parsed.entries:
                form.file.errors = [_("The list is empty.")]
            else:
                _store_list(form, data if form.fmt.data != "ofac" else
                            _ofac_bundle(data, alt), len(parsed.entries))
                return cast(Response, redirect(url_for("compliance.screening_lists"), 303))
    lists = db().execute(select(ScreeningList).where(ScreeningList.org_id == _me().org_id)
                         .order_by(ScreeningList.uploaded_at.desc())).scalars().all()
    return render_template("compliance/screening_lists.html", form=form, lists=lists)


def _ofac_bundle(sdn: bytes, alt: Any) -> bytes:
    # Stored as SDN only; aliases are folded in when parsed (ALT kept alongside for audit).
    return sdn


def _store_list(form: ListForm, content: bytes, entries: int) -> None:
    name = (form.name.data or "list").strip()[:60]
    previous = db().execute(select(ScreeningList).where(
        ScreeningList.org_id == _me().org_id, ScreeningList.name == name)
        .order_by(ScreeningList.version.desc())).scalars().first()
    for old in db().execute(select(ScreeningList).where(
            ScreeningList.org_id == _me().org_id, ScreeningList.name == name)).scalars():
        old.active = False
    row = ScreeningList(id=uuid.uuid4(), org_id=_me().org_id, name=name,
                        version=(previous.version + 1) if previous else 1,
                        fmt=form.fmt.data or "simple", content=content, entries=entries,
                        uploaded_by=_me().id, uploaded_at=now(), active=True)
    db().add(row)
    db().flush()
    audit.record(db(), actor(), "screening_list.upload", object_type="screening_list",
                 object_id=row.id, org_id=row.org_id, version=row.version, entries=entries)
    rescreened = 0
    for case_row in db().execute(select(BankCase).where(
            BankCase.org_id == _me().org_id,
            BankCase.status.in_(("open", "referred", "held", "recommended")))).scalars():
        recommend(db(), actor(), _keystore(), case_row)
        rescreened += 1
    audit.record(db(), actor(), "screening.rescreen", object_type="screening_list",
                 object_id=row.id, org_id=row.org_id, cases=rescreened)
    db().commit()


# ------------------------------------------------------------------ NGO side
@ngo_bp.route("/")
def inbox() -> str:
    """The NGO admin's inbox: requests from banks about attestations this NGO issued."""
    msgs = db().execute(select(SafeguardingMessage).where(
        SafeguardingMessage.ngo_org_id == _me().org_id)
        .order_by(SafeguardingMessage.sent_at.desc())).scalars().all()
    banks = {o.id: o.display_name for o in db().execute(select(Organisation)).scalars()
             if o.id in {m.bank_org_id for m in msgs}}
    texts = {}
    for m in msgs:
        texts[m.id] = FieldCipher(m.case_id, _keystore().get(m.case_id)).open(
            "safeguarding", m.body_enc)
        if m.direction == "to_ngo" and m.read_at is None:
            m.read_at = now()
    db().commit()
    return render_template("compliance/ngo_inbox.html", msgs=msgs, banks=banks, texts=texts,
                           form=ReplyForm())


@ngo_bp.route("/<uuid:message_id>/reply", methods=["POST"])
def reply(message_id: uuid.UUID) -> Response:
    """Reply on the same case thread."""
    msg = owned_or_404(SafeguardingMessage, message_id, attr="ngo_org_id")
    form = ReplyForm()
    if not form.validate_on_submit():
        abort(400)
    answer = SafeguardingMessage(id=uuid.uuid4(), case_id=msg.case_id,
                                 bank_org_id=msg.bank_org_id, ngo_org_id=msg.ngo_org_id,
                                 direction="to_bank", kind="reply",
                                 body_enc=FieldCipher(msg.case_id, _keystore().get(msg.case_id))
                                 .seal("safeguarding", form.body.data),
                                 sent_by=_me().id, sent_at=now())
    db().add(answer)
    audit.record(db(), actor(), "safeguarding.reply", object_type="safeguarding_message",
                 object_id=answer.id, org_id=msg.ngo_org_id)
    db().commit()
    return cast(Response, redirect(url_for("ngo_safeguarding.inbox"), 303))

