"""Bank policy management: drafts, validation, backtests on the bank's past cases, publishing
under four-eyes, archiving (DOMAIN.md §7; SECURITY.md 8, 10, 13).

Lifecycle: ``draft`` → ``published`` → ``archived``. Only drafts change. Each edit bumps
``BankPolicy.version``, forgets the draft's backtest and voids pending publish proposals, so
an approval is always for the text the checker saw. Publishing is proposed by one compliance
officer after a backtest of the current text against the bank's active policy, and approved
by a second one after a step-up; it archives the bank's previously published policy. Cases
keep the policy (id, version, hash) of their recommendation, so nothing here rewrites history.

The writes are the named functions below (each audited); the views parse, call and render.
"""

from __future__ import annotations

import functools
import json
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import yaml
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from wtforms import HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

import risk
from onboarding import audit
from onboarding.audit import Actor
from onboarding.auth.forms import EmptyForm
from onboarding.auth.views import actor
from onboarding.clock import now
from onboarding.compliance import foureyes
from onboarding.compliance.operations import active_policy
from onboarding.compliance.reports import chart_settings, svg_data_uri
from onboarding.models import BankCase, BankPolicy, Proposal, User
from onboarding.security import current_user, db, require_step_up
from risk.backtest import OUTCOMES, Backtest
from risk.model import TIERS

bp = Blueprint("policies", __name__, url_prefix="/compliance/policies")

#: Shipped policies are about 7,500 characters; this leaves room and bounds parsing time.
MAX_SOURCE_CHARS = 100_000
#: A backtest replays at most this many of the bank's most recent cases: about 5 s at the
#: rate measured for the page (bench/results/backtest.md: about 1 s per 10,000 cases).
BACKTEST_MAX_CASES = 50_000
OBJECT_TYPE = "bank_policy"
PUBLISH = "publish"


class PolicyProblem(Exception):
    """A policy action refused because of the policy's state (shown to the officer, 409)."""


# ------------------------------------------------------------------------------ parsing
def check_no_aliases(text: str) -> None:
    """Refuse YAML anchors and aliases before the policy loader sees them.

    Aliases expand on load, so a few hundred bytes of nested aliases ("billion laughs") cost
    minutes of CPU and gigabytes of memory. Shipped policies use none; a policy must spell out
    each value. Raises :class:`risk.PolicyError` pointing at the first alias or anchor.
    """
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                mark = token.start_mark
                raise risk.PolicyError("YAML anchors and aliases (& and *) are not accepted "
                                       "in a policy: write each value out", "policy",
                                       mark.line + 1, mark.column + 1)
    except yaml.YAMLError:
        return  # the loader reports syntax errors with their line and column


def parse_source(text: str) -> risk.Policy:
    """Validate policy text; :class:`risk.PolicyError` (line, column) when it is not valid."""
    if len(text) > MAX_SOURCE_CHARS:
        raise risk.PolicyError(f"the policy is longer than {MAX_SOURCE_CHARS:,} characters",
                               "policy")
    check_no_aliases(text)
    # risk.load_policy reads a one-line string naming an existing file as that file: typed
    # text must never reach the file system, so it always carries a line break.
    if "\n" not in text:
        text += "\n"
    return risk.load_policy(text, name="policy")


@functools.lru_cache(maxsize=32)
def _parsed(source: str) -> risk.Policy:
    """Stored sources were validated on save; parsing them again is cached."""
    return parse_source(source)


def hash_hex(policy: risk.Policy) -> str:
    """The 64-hex SHA-256 of the policy content (``BankPolicy.content_hash``)."""
    return policy.content_hash.removeprefix("sha256:")


def policy_error_text(exc: risk.PolicyError) -> str:
    """The loader's message with its place in words, for the field's error."""
    where = ""
    if exc.line is not None:
        where = _("Line %(line)s, column %(column)s: ", line=exc.line, column=exc.column)
    return where + (f"{exc.path}: " if exc.path else "") + exc.message


# -------------------------------------------------------------------------------- forms
class PolicyForm(FlaskForm):
    """A draft policy: pasted or uploaded YAML, and a name for people."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)],
                       description=_l("For your colleagues. Left empty: the policy's title."))
    upload = FileField(_l("Upload a policy file (YAML)"),
                       description=_l("Optional. An uploaded file replaces the text below."))
    source = TextAreaField(_l("Policy (YAML)"), validators=[Length(max=MAX_SOURCE_CHARS)],
                           render_kw={"rows": 28, "spellcheck": "false", "autocomplete": "off",
                                      "autocapitalize": "off", "wrap": "off"},
                           description=_l("The format is described in docs/risk.md, "
                                          "\"Policy reference\". Errors point at line and "
                                          "column."))
    submit = SubmitField(_l("Save draft"))


class DecideForm(FlaskForm):
    """The second officer's decision on a publish proposal (needs a step-up)."""

    proposal_id = HiddenField(validators=[DataRequired()])
    decision = HiddenField(validators=[AnyOf(("approve", "reject"))])


def read_form_source(form: PolicyForm) -> str | None:
    """The YAML from the upload (preferred) or the text box; None after a form error.

    The upload's text is put into the text box so that, on an error, the officer sees and
    keeps what was sent."""
    upload = form.upload.data
    if isinstance(upload, FileStorage) and upload.filename:
        raw = upload.read(MAX_SOURCE_CHARS * 4 + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            form.upload.errors = [_("The file is not UTF-8 text. Save it as UTF-8 YAML.")]
            return None
        form.source.data = text
    text = (form.source.data or "").replace("\r\n", "\n")
    form.source.data = text
    if not text.strip():
        form.source.errors = [_("Paste the policy or upload its file.")]
        return None
    # Kept with a final line break: risk.load_policy reads a one-line string that names a
    # file as that file, and stored sources are loaded again elsewhere (active_policy).
    return text if text.endswith("\n") else text + "\n"


def validate_into(form: PolicyForm) -> tuple[str, risk.Policy] | None:
    """Read and validate; on a problem, the error sits next to the text box."""
    text = read_form_source(form)
    if text is None:
        return None
    try:
        return text, parse_source(text)
    except risk.PolicyError as exc:
        form.source.errors = [policy_error_text(exc)]
        return None


# ------------------------------------------------------------------------------- writes
def _void_pending(session: Session, act: Actor, row: BankPolicy) -> int:
    pending = foureyes.pending_for(session, row.org_id, OBJECT_TYPE, row.id)
    for p in pending:
        p.status = "void"
        audit.record(session, act, "foureyes.void", object_type=OBJECT_TYPE, object_id=row.id,
                     org_id=row.org_id, proposal=str(p.id))
    return len(pending)


def create_draft(session: Session, act: Actor, *, org_id: uuid.UUID, created_by: uuid.UUID,
                 name: str, source: str, policy: risk.Policy) -> BankPolicy:
    """A new draft from validated text."""
    row = BankPolicy(id=uuid.uuid4(), org_id=org_id, name=name[:100], source=source,
                     content_hash=hash_hex(policy), state="draft", version=1,
                     created_by=created_by, created_at=now())
    session.add(row)
    session.flush()
    audit.record(session, act, "policy.create", object_type=OBJECT_TYPE, object_id=row.id,
                 org_id=org_id, version=row.version)
    return row


def edit_draft(session: Session, act: Actor, row: BankPolicy, *, name: str, source: str,
               policy: risk.Policy) -> bool:
    """Change a draft: new version, backtest forgotten, pending approvals void."""
    if row.state != "draft":
        raise PolicyProblem(_("Only a draft can be changed. Create a new draft instead."))
    if source == row.source and name[:100] == row.name:
        return False
    row.source = source
    row.name = name[:100]
    row.content_hash = hash_hex(policy)
    row.version += 1
    row.backtest = None
    voided = _void_pending(session, act, row)
    audit.record(session, act, "policy.edit", object_type=OBJECT_TYPE, object_id=row.id,
                 org_id=row.org_id, version=row.version, voided=voided)
    return True


def _case_inputs(session: Session, org_id: uuid.UUID
                 ) -> Iterator[tuple[dict[str, Any], datetime]]:
    """The bank's most recent cases' engine inputs, streamed (a snapshot is a few KB)."""
    rows = session.execute(
        select(BankCase.engine_input, BankCase.created_at)
        .where(BankCase.org_id == org_id)
        .order_by(BankCase.created_at.desc())
        .limit(BACKTEST_MAX_CASES)
        .execution_options(yield_per=1000))
    for doc, at in rows:
        if isinstance(doc, dict) and doc:
            yield doc, at


def _utc(at: datetime) -> datetime:
    # SQLite gives naive datetimes back; everything stored is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def run_backtest(session: Session, act: Actor, row: BankPolicy) -> dict[str, Any]:
    """Replay the bank's past cases (their minimised engine inputs) under the bank's active
    policy and under this draft; keep the transition matrices on the draft."""
    if row.state != "draft":
        raise PolicyProblem(_("Only a draft is backtested: it is compared with the policy "
                              "in force."))
    draft = _parsed(row.source)
    baseline, baseline_row = active_policy(session, row.org_id)
    bt = Backtest(baseline, draft)
    first: datetime | None = None
    last: datetime | None = None
    for doc, at in _case_inputs(session, row.org_id):
        try:
            bt.add(risk.parse_input(doc))
        except ValueError:  # InputError: a snapshot this policy cannot read
            bt.errors += 1
            continue
        at = _utc(at)
        first = at if first is None or at < first else first
        last = at if last is None or at > last else last
    result = bt.to_dict()
    result.update({
        "policy_version": row.version,
        "baseline_policy": str(baseline_row.id) if baseline_row else None,
        "ran_at": now().isoformat(timespec="seconds"),
        "from": first.date().isoformat() if first else None,
        "to": last.date().isoformat() if last else None,
        "limit": BACKTEST_MAX_CASES,
    })
    row.backtest = result
    audit.record(session, act, "policy.backtest", object_type=OBJECT_TYPE, object_id=row.id,
                 org_id=row.org_id, version=row.version, cases=bt.cases, errors=bt.errors,
                 changed_outcome=result["changed"]["outcome"],
                 changed_tier=result["changed"]["tier"])
    return result


def backtest_current(session: Session, row: BankPolicy) -> bool:
    """Is there a backtest of this text against the policy in force now?"""
    bt = row.backtest
    if not bt or bt.get("policy_version") != row.version:
        return False
    baseline, _row = active_policy(session, row.org_id)
    return bool(bt.get("baseline", {}).get("hash") == baseline.content_hash)


def _ref_clash(session: Session, row: BankPolicy, policy: risk.Policy) -> str | None:
    """The name of a policy that decisions may already cite with the same id@version but
    other content (the shipped default, or one of the bank's published or archived ones):
    decisions name policies by id@version, so that would make them ambiguous."""
    from onboarding.bank.tiering import default_policy

    shipped = default_policy()
    if (shipped.id, shipped.version) == (policy.id, policy.version) and \
            shipped.content_hash != policy.content_hash:
        return str(_("the shipped default policy"))
    others = session.execute(select(BankPolicy).where(
        BankPolicy.org_id == row.org_id, BankPolicy.id != row.id,
        BankPolicy.state.in_(("published", "archived")))).scalars()
    for other in others:
        p = _parsed(other.source)
        if p.id == policy.id and p.version == policy.version and \
                other.content_hash != row.content_hash:
            return f"“{other.name}”"
    return None


def propose_publish(session: Session, act: Actor, row: BankPolicy) -> Proposal:
    """The maker's step: a publish proposal bound to this version of the draft."""
    if row.state != "draft":
        raise PolicyProblem(_("Only a draft can be proposed for publishing."))
    if not backtest_current(session, row):
        raise PolicyProblem(_("Run the backtest of this version against the policy in force "
                              "before proposing to publish it."))
    policy = _parsed(row.source)
    clash = _ref_clash(session, row, policy)
    if clash is not None:
        raise PolicyProblem(_("Policy %(ref)s was already used by %(name)s with other "
                              "content. Raise “version” in the policy text.",
                              ref=policy.ref, name=clash))
    proposal = foureyes.propose(session, act, org_id=row.org_id, object_type=OBJECT_TYPE,
                                object_id=row.id, object_version=row.version, action=PUBLISH,
                                payload={"content_hash": row.content_hash},
                                reason_code="policy_publish")
    audit.record(session, act, "policy.propose_publish", object_type=OBJECT_TYPE,
                 object_id=row.id, org_id=row.org_id, version=row.version,
                 proposal=str(proposal.id))
    return proposal


def publish(session: Session, act: Actor, row: BankPolicy, proposal: Proposal) -> None:
    """Apply an approved publish proposal: this draft is in force, the previous one archived."""
    if row.state != "draft" or proposal.payload.get("content_hash") != row.content_hash:
        raise foureyes.FourEyesError("Only the draft that was proposed can be published.")
    if not backtest_current(session, row):
        # Another policy was published since the backtest the maker showed: the checker
        # must see this draft compared with what is in force now.
        raise foureyes.FourEyesError("The policy in force changed after this draft's "
                                     "backtest: run the backtest again, then approve.")
    previous = session.execute(select(BankPolicy).where(
        BankPolicy.org_id == row.org_id, BankPolicy.state == "published",
        BankPolicy.id != row.id)).scalars().all()
    for old in previous:
        old.state = "archived"
        audit.record(session, act, "policy.archive", object_type=OBJECT_TYPE, object_id=old.id,
                     org_id=old.org_id, reason="superseded", by_policy=str(row.id))
    row.state = "published"
    row.published_at = now()
    audit.record(session, act, "policy.publish", object_type=OBJECT_TYPE, object_id=row.id,
                 org_id=row.org_id, version=row.version, proposal=str(proposal.id),
                 proposed_by=str(proposal.proposed_by), archived=len(previous))


def decide_publish(session: Session, act: Actor, row: BankPolicy, proposal: Proposal, *,
                   approve: bool) -> None:
    """The checker's step (four-eyes: never the maker; only the version proposed)."""
    foureyes.decide(session, act, proposal, approve=approve, current_version=row.version,
                    apply=lambda p: publish(session, act, row, p))
    if not approve:
        audit.record(session, act, "policy.publish_rejected", object_type=OBJECT_TYPE,
                     object_id=row.id, org_id=row.org_id, proposal=str(proposal.id))


def archive(session: Session, act: Actor, row: BankPolicy) -> None:
    """Set a draft aside. The policy in force is replaced by publishing another (four-eyes),
    never archived by one officer alone: that would put the shipped default in force."""
    if row.state == "published":
        raise PolicyProblem(_("This policy is in force. Publish a replacement instead: "
                              "publishing archives it, under four-eyes."))
    if row.state != "draft":
        raise PolicyProblem(_("This policy is already archived."))
    row.state = "archived"
    voided = _void_pending(session, act, row)
    audit.record(session, act, "policy.archive", object_type=OBJECT_TYPE, object_id=row.id,
                 org_id=row.org_id, reason="withdrawn", voided=voided)


# ------------------------------------------------------------------------------- charts
@functools.lru_cache(maxsize=16)
def _chart_uri(draft_source: str, baseline_source: str | None, matrices: str) -> str | None:
    """The backtest chart (risk.backtest's heatmaps) as an SVG data URI, or None."""
    from onboarding.bank.tiering import default_policy

    data = json.loads(matrices)
    baseline = default_policy() if baseline_source is None else _parsed(baseline_source)
    if baseline.content_hash != data["baseline"]["hash"]:
        return None  # the baseline row no longer says what was measured
    bt = Backtest(baseline, _parsed(draft_source))
    bt.outcomes, bt.tiers, bt.cases = data["outcomes"], data["tiers"], data["cases"]
    # risk's chart() draws with pyplot into a file: a private temporary one, one at a time.
    with tempfile.TemporaryDirectory() as tmp, chart_settings():
        path = Path(tmp) / "backtest.svg"
        bt.chart(path)
        return svg_data_uri(path.read_bytes())


def chart_for(session: Session, row: BankPolicy) -> str | None:
    """Chart of the stored backtest (drawn from the stored matrices, cached)."""
    bt = row.backtest
    if not bt:
        return None
    baseline_source = None
    if bt.get("baseline_policy"):
        base = session.get(BankPolicy, uuid.UUID(bt["baseline_policy"]))
        if base is None or base.org_id != row.org_id:
            return None
        baseline_source = base.source
    matrices = json.dumps({k: bt[k] for k in ("baseline", "outcomes", "tiers", "cases")},
                          sort_keys=True)
    return _chart_uri(row.source, baseline_source, matrices)


# -------------------------------------------------------------------------------- views
def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def own_policy(policy_id: uuid.UUID) -> BankPolicy:
    """The caller's bank's policy, or 404 (another bank's id looks like no id at all)."""
    from onboarding.security import owned_or_404

    return owned_or_404(BankPolicy, policy_id)


def _staff_names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of the caller's own bank's staff only."""
    if not ids:
        return {}
    rows = db().execute(select(User.id, User.display_name).where(
        User.org_id == _me().org_id, User.id.in_(ids))).all()
    return {i: n for i, n in rows}


def _detail_page(row: BankPolicy, *, form: PolicyForm | None = None, error: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    session = db()
    proposals = list(session.execute(select(Proposal).where(
        Proposal.org_id == row.org_id, Proposal.object_type == OBJECT_TYPE,
        Proposal.object_id == row.id).order_by(Proposal.proposed_at.desc())).scalars())
    names = _staff_names({p.proposed_by for p in proposals} |
                         {p.decided_by for p in proposals if p.decided_by} | {row.created_by})
    pending = next((p for p in proposals if p.status == "pending"), None)
    baseline, baseline_row = active_policy(session, row.org_id)
    if form is None and row.state == "draft":
        form = PolicyForm(formdata=None, name=row.name, source=row.source)
    return render_template(
        "compliance/policies/detail.html", row=row, policy=_parsed(row.source), form=form,
        error=error, proposals=proposals, pending=pending, names=names, me=_me(),
        baseline=baseline, baseline_row=baseline_row, bt=row.backtest,
        bt_current=backtest_current(session, row), chart=chart_for(session, row),
        outcomes=OUTCOMES, tiers=TIERS, action_form=EmptyForm(),
        decide_form=DecideForm(formdata=None)), status


def _back(row: BankPolicy, anchor: str = "") -> Response:
    url = url_for("policies.detail", policy_id=row.id) + (f"#{anchor}" if anchor else "")
    return cast(Response, redirect(url, 303))


@bp.route("/")
def index() -> str:
    """The bank's policies, newest first, and which one is in force."""
    session = db()
    rows = list(session.execute(select(BankPolicy).where(BankPolicy.org_id == _me().org_id)
                                .order_by(BankPolicy.created_at.desc())).scalars())
    baseline, baseline_row = active_policy(session, _me().org_id)
    refs = {r.id: _parsed(r.source).ref for r in rows}
    return render_template("compliance/policies/index.html", rows=rows, refs=refs,
                           baseline=baseline, baseline_row=baseline_row)


@bp.route("/new", methods=["GET", "POST"])
def new() -> str | Response | tuple[str, int]:
    """A new draft, pasted or uploaded, validated before it is kept."""
    form = PolicyForm()
    if form.validate_on_submit():
        parsed = validate_into(form)
        if parsed is not None:
            text, policy = parsed
            row = create_draft(db(), actor(), org_id=_me().org_id, created_by=_me().id,
                               name=(form.name.data or "").strip() or policy.title or policy.ref,
                               source=text, policy=policy)
            db().commit()
            return _back(row)
    if request.method == "POST":
        return render_template("compliance/policies/new.html", form=form), 422
    return render_template("compliance/policies/new.html", form=form)


@bp.route("/<uuid:policy_id>", methods=["GET", "POST"])
def detail(policy_id: uuid.UUID) -> Response | tuple[str, int]:
    """View a policy; edit a draft (new version; pending approvals void)."""
    row = own_policy(policy_id)
    if request.method == "GET":
        return _detail_page(row)
    if row.state != "draft":
        return _detail_page(row, error=_("Only a draft can be changed. Create a new draft "
                                         "instead."), status=409)
    form = PolicyForm()
    if form.validate_on_submit():
        parsed = validate_into(form)
        if parsed is not None:
            text, policy = parsed
            edit_draft(db(), actor(), row, name=(form.name.data or "").strip() or row.name,
                       source=text, policy=policy)
            db().commit()
            return _back(row)
    return _detail_page(row, form=form, status=422)


@bp.route("/<uuid:policy_id>/backtest", methods=["POST"])
def backtest(policy_id: uuid.UUID) -> Response | tuple[str, int]:
    """Backtest the draft against the policy in force on the bank's past cases."""
    row = own_policy(policy_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        run_backtest(db(), actor(), row)
    except PolicyProblem as exc:
        db().rollback()
        return _detail_page(row, error=str(exc), status=409)
    db().commit()
    return _back(row, "backtest")


@bp.route("/<uuid:policy_id>/propose-publish", methods=["POST"], endpoint="propose_publish")
def propose_publish_view(policy_id: uuid.UUID) -> Response | tuple[str, int]:
    """Maker: ask a second officer to publish this version."""
    row = own_policy(policy_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        propose_publish(db(), actor(), row)
    except PolicyProblem as exc:
        db().rollback()
        return _detail_page(row, error=str(exc), status=409)
    db().commit()
    return _back(row, "publishing")


@bp.route("/<uuid:policy_id>/decide", methods=["POST"])
@require_step_up
def decide(policy_id: uuid.UUID) -> Response | tuple[str, int]:
    """Checker: approve (publish) or reject a publish proposal. Never one's own."""
    row = own_policy(policy_id)
    form = DecideForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        proposal_id = uuid.UUID(form.proposal_id.data or "")
    except ValueError:
        abort(404)
    proposal = db().get(Proposal, proposal_id)
    if proposal is None or proposal.org_id != row.org_id or \
            proposal.object_type != OBJECT_TYPE or proposal.object_id != row.id:
        abort(404)
    try:
        decide_publish(db(), actor(), row, proposal, approve=form.decision.data == "approve")
    except foureyes.FourEyesError as exc:
        if proposal.status == "void":
            db().commit()  # a stale proposal stays void (and that is audited)
        else:
            db().rollback()
        return _detail_page(row, error=str(exc), status=409)
    db().commit()
    return _back(row, "publishing")


@bp.route("/<uuid:policy_id>/archive", methods=["POST"], endpoint="archive")
def archive_view(policy_id: uuid.UUID) -> Response | tuple[str, int]:
    """Set a draft aside (pending approvals void)."""
    row = own_policy(policy_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        archive(db(), actor(), row)
    except PolicyProblem as exc:
        db().rollback()
        return _detail_page(row, error=str(exc), status=409)
    db().commit()
    return _back(row)
