"""Compliance officers' workspace: queues, the case view, decisions under four-eyes,
screening hits, screening lists, and the safeguarding channel to the issuing NGO.

Every lookup is scoped to the officer's bank: another bank's case, hit or proposal is a 404.
"""

from __future__ import annotations

import csv
import uuid
from datetime import timedelta
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
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from onboarding import audit
from onboarding.auth.forms import EmptyForm
from onboarding.auth.views import actor
from onboarding.bank.operations import case_claims
from onboarding.bank.tiering import recommend
from onboarding.clock import now
from onboarding.compliance import foureyes, lifecycle
from onboarding.compliance.operations import active_policy, record_decision
from onboarding.models import (
    AuditEntry,
    BankCase,
    MonitoringAlert,
    Organisation,
    Proposal,
    SafeguardingMessage,
    ScreeningHit,
    ScreeningList,
    TransactionSummary,
    User,
    WhitelistEntry,
)
from onboarding.privacy import FieldCipher
from onboarding.security import current_user, db, owned_or_404

bp = Blueprint("compliance", __name__, url_prefix="/compliance")
ngo_bp = Blueprint("ngo_safeguarding", __name__, url_prefix="/safeguarding")

QUEUES: dict[str, tuple[str, ...]] = {
    "referred": ("referred",), "held": ("held",), "recommended": ("recommended",),
    "expiring": (), "alerts": (), "decided": ("approved", "declined", "lapsed"), "all": ()}
KEEP_REASONS = {"evidence_insufficient": _l("The new evidence does not support a higher tier"),
                "not_same_person": _l("The new evidence is not the account holder's"),
                "activity_explained": _l("The activity is explained"),
                "holder_withdrew": _l("The account holder withdrew the request"),
                "renewal_not_needed": _l("No renewal: the account will end with its time box"),
                "match_cleared": _l("The possible match was cleared (no hit)"),
                "other": _l("Other (see the safeguarding thread or case notes)")}
COUNT_CAP = 1000
PAGE_SIZE = 50
REVIEW_KINDS = {"onboarding": _l("Onboarding"), "step_up": _l("Step-up"),
                "renewal": _l("Renewal"), "alert": _l("Monitoring alert"),
                "screening": _l("Re-screening")}
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


class StepUpForm(FlaskForm):
    """New evidence for a higher tier: a newly issued attestation and/or the bank's own CDD."""

    qr = TextAreaField(_l("New attestation (scan into this box, or paste its text)"),
                       validators=[Optional(), Length(max=4096)],
                       render_kw={"rows": 3, "spellcheck": "false", "autocomplete": "off"})
    image = FileField(_l("Or a photo of the new card"))
    standard_cdd = SelectField(_l("The bank's own standard CDD"), choices=[
        SelectChoice("not_done", _l("Not done")),
        SelectChoice("passed", _l("Done and passed (foundational ID verified)")),
        SelectChoice("failed", _l("Done and failed"))])
    id_application_confirmed = BooleanField(_l("An application for an ID document is "
                                               "confirmed"))
    submit = SubmitField(_l("Assess the step-up"))


class RenewalForm(FlaskForm):
    """Open a renewal review of a time-boxed account."""

    id_application_confirmed = BooleanField(_l("An application for an ID document is "
                                               "confirmed"))
    submit = SubmitField(_l("Start the renewal review"))


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
    """The officer's bank's case; on a POST its row is locked for the transaction, so two
    officers acting at once are applied one after the other (each sees the other's)."""
    return owned_or_404(BankCase, case_id, lock=request.method == "POST")


# --------------------------------------------------------------------- queue
def _open_alerts(org_id: uuid.UUID) -> Any:
    """Cases with an open alert and their earliest due date (a subquery to join)."""
    return (select(MonitoringAlert.case_id.label("case_id"),
                   func.min(MonitoringAlert.due_at).label("due"))
            .where(MonitoringAlert.org_id == org_id, MonitoringAlert.status == "open")
            .group_by(MonitoringAlert.case_id).subquery())


def _queue_filter(name: str, org_id: uuid.UUID, window: int) -> list[Any]:
    """WHERE clauses of a status or lifecycle queue (the alerts queue is a join)."""
    where: list[Any] = [BankCase.org_id == org_id]
    if name == "expiring":
        where += [BankCase.account_tier.in_(("T1", "T2")),
                  BankCase.status.in_(("approved", "lapsed")),
                  BankCase.valid_until <= now().date() + timedelta(days=window)]
    elif QUEUES[name]:
        where.append(BankCase.status.in_(QUEUES[name]))
    return where


def _count(name: str, org_id: uuid.UUID, window: int) -> int:
    """A tab's count, stopping at COUNT_CAP + 1 ("1000+"): exact counts of a bank's whole
    history would scan it on every page view, and nobody triages by the thousands digit."""
    if name == "alerts":
        inner = select(MonitoringAlert.case_id).where(
            MonitoringAlert.org_id == org_id, MonitoringAlert.status == "open").distinct()
    else:
        inner = select(BankCase.id).where(*_queue_filter(name, org_id, window))
    return int(db().execute(select(func.count()).select_from(
        inner.limit(COUNT_CAP + 1).subquery())).scalar_one())


#: Columns the queue shows (not the encrypted claims, the engine snapshot or the history).
_QUEUE_COLUMNS = (BankCase.id, BankCase.status, BankCase.review_kind, BankCase.recommendation,
                  BankCase.created_at, BankCase.due_at, BankCase.assigned_to,
                  BankCase.account_tier, BankCase.valid_until)


@bp.route("/")
def queue() -> str:
    """Cases by queue (referred, held, expiring, alerts ...), with filters, assignment, age,
    a due date and pages of PAGE_SIZE."""
    from sqlalchemy.orm import load_only

    name = request.args.get("q", "referred")
    if name not in QUEUES:
        name = "referred"
    try:
        page = max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    org_id = _me().org_id
    policy, _row = active_policy(db(), org_id)
    window = lifecycle.expiring_window(policy)
    filters = _queue_filter(name, org_id, window)
    kind = request.args.get("kind", "")
    if kind in REVIEW_KINDS:
        filters.append(BankCase.review_kind == kind)
    tier = request.args.get("tier", "")
    if tier in TIERS:
        filters.append(BankCase.account_tier == tier)
    if request.args.get("mine"):
        filters.append(BankCase.assigned_to == _me().id)
    window_start = (page - 1) * PAGE_SIZE
    if name == "alerts":
        # Open alerts are few next to a bank's cases: order their cases by the earliest due
        # date here, then fetch the page by primary key (a join would scan every case).
        due = _open_alerts(org_id)
        ordered = [cid for cid, _d in db().execute(select(due.c.case_id, due.c.due)
                                                   .order_by(due.c.due, due.c.case_id))]
        rank = {cid: i for i, cid in enumerate(ordered)}
        if len(filters) > 1 and ordered:
            # A review kind, tier or "mine" filter: keep the cases that pass it, joined from
            # the (small) set of cases with open alerts rather than a list of every id.
            keep = set(db().execute(select(BankCase.id).join(
                due, due.c.case_id == BankCase.id).where(*filters)).scalars())
            ordered = [cid for cid in ordered if cid in keep]
        # (Without one, every case with an open alert of this bank is in the queue: alerts
        # carry the bank's org_id, so no further query is needed.)
        page_ids = ordered[window_start:window_start + PAGE_SIZE + 1]
        rows = sorted(db().execute(select(BankCase).options(load_only(*_QUEUE_COLUMNS))
                                   .where(BankCase.id.in_(page_ids))).scalars(),
                      key=lambda c: rank[c.id]) if page_ids else []
    else:
        rows = list(db().execute(
            select(BankCase).options(load_only(*_QUEUE_COLUMNS)).where(*filters)
            .order_by({"expiring": BankCase.valid_until}.get(name, BankCase.created_at),
                      BankCase.id)
            .offset(window_start).limit(PAGE_SIZE + 1)).scalars())
    cases, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    ids = [c.id for c in cases]
    staff = {u.id: u.display_name for u in db().execute(
        select(User).where(User.org_id == org_id)).scalars()}
    pending = set(db().execute(select(Proposal.object_id).where(
        Proposal.org_id == org_id, Proposal.status == "pending",
        Proposal.object_type == "bank_case", Proposal.object_id.in_(ids))).scalars())
    counts = {q: _count(q, org_id, window) for q in QUEUES}
    alerts: dict[uuid.UUID, list[str]] = {}
    alert_due: dict[uuid.UUID, Any] = {}
    for case_id, code, due_at in db().execute(select(
            MonitoringAlert.case_id, MonitoringAlert.reason_code, MonitoringAlert.due_at).where(
            MonitoringAlert.org_id == org_id, MonitoringAlert.status == "open",
            MonitoringAlert.case_id.in_(ids))):
        alerts.setdefault(case_id, []).append(code)
        alert_due[case_id] = min(due_at, alert_due.get(case_id, due_at))
    return render_template("compliance/queue.html", cases=cases, queue=name, staff=staff,
                           pending=pending, counts=counts, now=now(), today=now().date(),
                           alerts=alerts, alert_due=alert_due, kinds=REVIEW_KINDS, kind=kind,
                           tier=tier, tiers=TIERS, mine=bool(request.args.get("mine")),
                           cap=COUNT_CAP,
                           page=page, more=more)


# ---------------------------------------------------------------------- case
@bp.route("/cases/<uuid:case_id>")
def case(case_id: uuid.UUID, step_up_form: StepUpForm | None = None) -> str:
    """The decision trace in plain words, the facts (minimised), hits, proposals, and the
    account: tier in force, validity countdown, step-up, renewal, monitoring alerts."""
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
    policy, _row = active_policy(db(), row.org_id)
    alerts = db().execute(select(MonitoringAlert).where(MonitoringAlert.case_id == row.id)
                          .order_by(MonitoringAlert.created_at.desc())).scalars().all()
    alert_details = {a.id: lifecycle.alert_detail(_keystore(), a) for a in alerts}
    periods = db().execute(select(TransactionSummary).where(
        TransactionSummary.case_id == row.id).order_by(TransactionSummary.period_start.desc())
    ).scalars().all()
    terms = (lifecycle.tier_terms(policy, row.account_tier, lifecycle.jurisdiction_of(db(), row))
             if row.account_tier else None)
    propose_form = ProposeForm()
    if not propose_form.is_submitted():
        propose_form.tier.data = rec_tier(row)
    return render_template("compliance/case.html", case=row, rec=row.recommendation or {},
                           facts=facts, wider=wider, hits=hits, lists=lists,
                           proposals=proposals, staff=staff, messages=messages, texts=texts,
                           reasons=reasons, propose_form=propose_form, form=EmptyForm(),
                           message_form=MessageForm(), wider_form=WiderForm(), trail=trail,
                           override_reasons=OVERRIDE_REASONS, me=_me(), terms=terms,
                           days_left=lifecycle.days_left(row), alerts=alerts,
                           alert_details=alert_details, periods=periods,
                           open_review=row.status in lifecycle.OPEN_REVIEW,
                           renewable=lifecycle.renewable(row, policy),
                           step_up_form=step_up_form or StepUpForm(),
                           renewal_form=RenewalForm(), kinds=REVIEW_KINDS,
                           keep_reasons=KEEP_REASONS,
                           window=lifecycle.expiring_window(policy))


def rec_tier(row: BankCase) -> str:
    """The tier to pre-fill in a proposal: what the engine would give once the referral is
    cleared (the provisional tier), else the recommended one."""
    rec = row.recommendation or {}
    return str(rec.get("provisional_tier") or rec.get("tier") or "T1")


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
    # Only a first decision: a renewal goes through "renew" (the policy's renewal rules), and
    # a step-up or an alert review changes the tier only under four-eyes.
    if (not EmptyForm().validate_on_submit() or rec.get("outcome") != "approve"
            or row.status not in lifecycle.OPEN_REVIEW or row.review_kind != "onboarding"):
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
    if row.status not in lifecycle.OPEN_REVIEW:
        abort(409)
    outcome, tier = form.outcome.data or "approve", form.tier.data or "T1"
    if outcome == "decline":
        tier = "T0"
    elif tier == "T0":
        form.tier.errors = [_("An approval opens a tier from T1 up; to refuse, decline.")]
        return case(case_id)
    upgrade = bool(row.account_tier) and TIERS.index(tier) > TIERS.index(
        row.account_tier or "T0")
    cipher = FieldCipher(row.id, _keystore().get(row.id))
    foureyes.propose(db(), actor(), org_id=row.org_id, object_type="bank_case",
                     object_id=row.id, object_version=row.version,
                     action="decline" if outcome == "decline" else
                     "upgrade" if upgrade else "override",
                     payload={"outcome": outcome, "tier": tier},
                     reason_code=form.reason_code.data or "other",
                     reason_text_enc=cipher.seal("proposal_reason", form.reason_text.data))
    db().commit()
    return _back(row)


@bp.route("/proposals/<uuid:proposal_id>", methods=["POST"])
def decide_proposal(proposal_id: uuid.UUID) -> str | Response:
    """The checker approves or rejects; the server refuses self-approval and stale ones."""
    proposal = owned_or_404(Proposal, proposal_id, lock=True)
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
    row = own_case(owned_or_404(ScreeningHit, hit_id).case_id)  # case row first (lock order)
    h = owned_or_404(ScreeningHit, hit_id, lock=True)
    if not EmptyForm().validate_on_submit():
        abort(400)
    action = request.form.get("action")
    # Dispositions change only while the case is under review, and only once: undoing a
    # confirmed hit after the decision would reopen a four-eyes decline single-handed.
    if row.status not in lifecycle.OPEN_REVIEW:
        abort(409)
    if action in ("no_hit", "confirmed") and h.disposition != "open":
        abort(409)
    if action == "whitelist" and h.disposition != "no_hit":
        abort(409)
    if action in ("no_hit", "confirmed"):
        h.disposition = action
        h.decided_by = _me().id
        h.decided_at = now()
        audit.record(db(), actor(), f"screening.{action}", object_type="bank_case",
                     object_id=row.id, org_id=row.org_id, entity=h.entity_id[:60])
        recommend(db(), actor(), _keystore(), row)  # the engine sees the disposition
        if row.account_tier:  # an open account's review moved: tell core banking
            lifecycle.touch(db(), actor(), row, "account.review_updated")
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


@bp.route("/cases/<uuid:case_id>/step-up", methods=["POST"])
def step_up(case_id: uuid.UUID) -> str | Response:
    """New evidence for a higher tier: verify the new attestation (same pipeline as the
    teller's), check it is the same person, and let the engine assess the step-up."""
    from onboarding.bank import operations as bank_ops
    from onboarding.bank.views import decode_upload, prefixes
    from onboarding.trust import TrustError, load_anchor

    row = own_case(case_id)
    form = StepUpForm()
    if not form.validate_on_submit():
        return case(case_id, step_up_form=form)
    text = (form.qr.data or "").strip()
    upload = request.files.get("image")
    if not text and upload is not None and upload.filename:
        text = decode_upload(upload.read(current_app.config["MAX_CONTENT_LENGTH"])) or ""
        if not text:
            form.image.errors = [_("No card code found in this picture.")]
            return case(case_id, step_up_form=form)
    new_claims = None
    if text:
        try:
            record, verified = bank_ops.run_verification(
                db(), actor(), org_id=row.org_id, qr_text=text, channel="paste",
                anchor=load_anchor(Path(current_app.instance_path)), prefixes=prefixes(),
                keystore=_keystore(), user_id=_me().id)
        except TrustError:
            db().rollback()
            form.qr.errors = [_("No trust list is available: the card cannot be checked.")]
            return case(case_id, step_up_form=form)
        if verified.result != "valid" or record.pending_enc is None:
            db().commit()  # the failed verification stays on record
            form.qr.errors = [_("This card does not verify (%(r)s): it cannot support a "
                                "step-up.", r=verified.result)]
            return case(case_id, step_up_form=form)
        new_claims = bank_ops.take_verified(_keystore(), record)
    elif form.standard_cdd.data != "passed":
        form.qr.errors = [_("Give new evidence: a newly issued attestation, or the bank's own "
                            "standard CDD, passed.")]
        return case(case_id, step_up_form=form)
    try:
        lifecycle.start_review(db(), actor(), _keystore(), row, "step_up",
                               standard_cdd=form.standard_cdd.data,
                               id_application_confirmed=bool(form.id_application_confirmed.data),
                               new_claims=new_claims)
    except lifecycle.LifecycleError as exc:
        db().rollback()
        form.qr.errors = [str(exc)]
        return case(case_id, step_up_form=form)
    db().commit()
    return _back(row)


@bp.route("/cases/<uuid:case_id>/renewal", methods=["POST"])
def renewal(case_id: uuid.UUID) -> Response:
    """Open a renewal review: the engine says whether the policy allows it."""
    row = own_case(case_id)
    form = RenewalForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        lifecycle.start_review(db(), actor(), _keystore(), row, "renewal",
                               id_application_confirmed=bool(form.id_application_confirmed.data))
    except lifecycle.LifecycleError:
        db().rollback()
        abort(409)
    db().commit()
    return _back(row)


@bp.route("/cases/<uuid:case_id>/renew", methods=["POST"])
def renew(case_id: uuid.UUID) -> Response:
    """Renew for another period, when the policy allows it (one officer; audited)."""
    row = own_case(case_id)
    policy, _row = active_policy(db(), row.org_id)
    rec = row.recommendation or {}
    # One officer may renew only what the policy allows and nothing else the engine raised
    # (a possible sanctions match on renewal still needs a four-eyes decision).
    only_validity = set(rec.get("reason_codes") or []) <= {"T1_VALIDITY_ENDING"}
    if (not EmptyForm().validate_on_submit() or row.review_kind != "renewal"
            or row.status not in lifecycle.OPEN_REVIEW or not lifecycle.renewable(row, policy)
            or rec.get("outcome") not in ("approve", "refer") or not only_validity):
        abort(409)
    record_decision(db(), actor(), row, outcome="approve", tier=row.account_tier or "T1",
                    how="renew")
    db().commit()
    return _back(row)


@bp.route("/cases/<uuid:case_id>/keep", methods=["POST"])
def keep_tier(case_id: uuid.UUID) -> Response:
    """End a step-up or escalated-alert review leaving the account as it is."""
    row = own_case(case_id)
    if not EmptyForm().validate_on_submit() or row.status not in lifecycle.OPEN_REVIEW:
        abort(409)
    try:
        lifecycle.close_review(db(), actor(), row, keep=request.form.get("reason", ""))
    except lifecycle.LifecycleError:
        db().rollback()
        abort(409)
    db().commit()
    return _back(row)


@bp.route("/alerts/<uuid:alert_id>", methods=["POST"])
def alert(alert_id: uuid.UUID) -> Response:
    """Close a monitoring alert as explained, or escalate it into an account review."""
    # The case's row first, then the alert's: the same order as a decision, so two officers
    # can never wait on each other.
    row = own_case(owned_or_404(MonitoringAlert, alert_id).case_id)
    a = owned_or_404(MonitoringAlert, alert_id, lock=True)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        lifecycle.dispose_alert(db(), actor(), row, a, request.form.get("action", ""))
    except lifecycle.LifecycleError:
        db().rollback()
        abort(409)
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
        alt_data = alt.read() if alt and alt.filename else None
        try:
            from risk.screening import load_ofac_sdn, load_simple_csv

            if form.fmt.data == "ofac":
                parsed = load_ofac_sdn(data, alt_data)
            else:
                parsed = load_simple_csv(data, name=form.name.data or "list")
        except (ValueError, UnicodeDecodeError, csv.Error, KeyError) as exc:
            form.file.errors = [_("The file could not be read: %(e)s", e=str(exc)[:200])]
        else:
            if not parsed.entries:
                form.file.errors = [_("The list is empty.")]
            else:
                _store_list(form, data, len(parsed.entries),
                            alt=alt_data if form.fmt.data == "ofac" else None)
                return cast(Response, redirect(url_for("compliance.screening_lists"), 303))
    lists = db().execute(select(ScreeningList).where(ScreeningList.org_id == _me().org_id)
                         .order_by(ScreeningList.uploaded_at.desc())).scalars().all()
    return render_template("compliance/screening_lists.html", form=form, lists=lists)


def _store_list(form: ListForm, content: bytes, entries: int,
                alt: bytes | None = None) -> None:
    name = (form.name.data or "list").strip()[:60]
    previous = db().execute(select(ScreeningList).where(
        ScreeningList.org_id == _me().org_id, ScreeningList.name == name)
        .order_by(ScreeningList.version.desc())).scalars().first()
    for old in db().execute(select(ScreeningList).where(
            ScreeningList.org_id == _me().org_id, ScreeningList.name == name)).scalars():
        old.active = False
    row = ScreeningList(id=uuid.uuid4(), org_id=_me().org_id, name=name,
                        version=(previous.version + 1) if previous else 1,
                        fmt=form.fmt.data or "simple", content=content, alt_content=alt,
                        entries=entries,
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


# ---------------------------------------------------- transaction summaries (CSV)
class TransactionsForm(FlaskForm):
    """Monthly transaction summaries from the core banking system, as CSV."""

    file = FileField(_l("CSV file"))
    submit = SubmitField(_l("Upload and run the monitoring rules"))


MAX_CSV_ROWS = 50_000


def parse_transactions_csv(data: bytes, org_id: uuid.UUID
                           ) -> tuple[list[tuple[BankCase, dict[str, Any]]], list[str]]:
    """Rows of (case, figures), or errors naming the line; nothing is stored here.

    The account column is ``account`` (the core banking reference set through the decision
    API, or the case id); the other columns are :data:`risk.TRANSACTION_FIELDS`. Missing
    amount columns count as zero.
    """
    import io

    import risk

    errors: list[str] = []
    rows: list[tuple[BankCase, dict[str, Any]]] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [_("The file is not UTF-8 text.")]
    reader = csv.DictReader(io.StringIO(text))
    try:
        names = [n.strip() for n in reader.fieldnames or []]
    except csv.Error as exc:
        return [], [_("The file could not be read: %(e)s", e=str(exc)[:200])]
    if len(names) != len(set(names)):
        return [], [_("A column is named twice in the header.")]
    reader.fieldnames = names
    header = set(names)
    if "account" not in header or not {"period_start", "period_end"} <= header:
        return [], [_("The header must name account, period_start and period_end.")]
    unknown = header - {"account", *risk.TRANSACTION_FIELDS}
    if unknown:
        return [], [_("Unknown columns: %(c)s", c=", ".join(sorted(unknown))[:200])]
    seen: set[tuple[str, str, str]] = set()
    try:
        for n, line in enumerate(reader, start=2):
            if n > MAX_CSV_ROWS + 1:
                errors.append(_("More than %(n)s rows: split the file.", n=MAX_CSV_ROWS))
                break
            if None in line or None in line.values():
                errors.append(_("Line %(n)s: more or fewer fields than the header names.",
                                n=n))
                continue
            ref = (line.get("account") or "").strip()
            case_row = _case_by_ref(ref, org_id)
            if case_row is None:
                errors.append(_("Line %(n)s: no account %(r)s at this bank.", n=n, r=ref[:64]))
                continue
            figures: dict[str, Any] = {}
            for k, v in line.items():
                if k == "account" or v is None or v.strip() == "":
                    continue
                v = v.strip()
                if k in ("period_start", "period_end"):
                    figures[k] = v
                else:
                    try:
                        figures[k] = int(v) if v.isdigit() else float(v)
                    except ValueError:
                        figures[k] = v  # the parser names the field and the problem
            try:
                risk.parse_transactions(figures)
            except risk.InputError as exc:
                field = exc.path.replace("$.transactions.", "").replace("$.transactions", "")
                errors.append(_("Line %(n)s: %(f)s %(e)s", n=n, f=field, e=exc.message[:200]))
                continue
            key = (str(case_row.id), figures["period_start"], figures["period_end"])
            if key in seen:
                errors.append(_("Line %(n)s: the same account and period twice.", n=n))
                continue
            seen.add(key)
            rows.append((case_row, figures))
    except csv.Error as exc:
        errors.append(_("The file could not be read: %(e)s", e=str(exc)[:200]))
    return rows, errors


def _case_by_ref(ref: str, org_id: uuid.UUID) -> BankCase | None:
    if not ref:
        return None
    row = db().execute(select(BankCase).where(BankCase.org_id == org_id,
                                              BankCase.account_ref == ref)).scalars().first()
    if row is not None:
        return row
    try:
        case_id = uuid.UUID(ref)
    except ValueError:
        return None
    return db().execute(select(BankCase).where(BankCase.org_id == org_id,
                                               BankCase.id == case_id)).scalar_one_or_none()


@bp.route("/transactions", methods=["GET", "POST"])
def transactions() -> str | Response:
    """Upload monthly summaries (all rows or none); the monitoring rules run on each."""
    form = TransactionsForm()
    errors: list[str] = []
    result = None
    if form.validate_on_submit():
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        rows, errors = parse_transactions_csv(data, _me().org_id)
        if not rows and not errors:
            errors = [_("The file has no rows.")]
        if not errors:
            raised = 0
            try:
                for case_row, figures in rows:
                    _summary, fired = lifecycle.ingest_summary(
                        db(), actor(), _keystore(), case_row, figures, "csv")
                    raised += len(fired)
            except lifecycle.LifecycleError as exc:
                db().rollback()  # all or nothing: nothing half-written stays
                errors = [_("Account %(a)s: %(e)s", a=str(case_row.account_ref or case_row.id),
                            e=str(exc))]
            except IntegrityError:
                db().rollback()  # another upload stored one of these periods meanwhile
                errors = [_("Some of these periods were stored by another upload meanwhile: "
                            "nothing from this file was stored.")]
            else:
                db().commit()
                result = {"periods": len(rows), "alerts": raised}
    recent = db().execute(select(TransactionSummary).where(
        TransactionSummary.org_id == _me().org_id)
        .order_by(TransactionSummary.received_at.desc()).limit(20)).scalars().all()
    import risk

    return render_template("compliance/transactions.html", form=form, errors=errors,
                           result=result, recent=recent, fields=risk.TRANSACTION_FIELDS)


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

