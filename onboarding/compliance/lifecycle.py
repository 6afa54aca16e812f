"""The account after the decision: tier in force, validity countdown, renewal, step-up and
monitoring (DOMAIN.md §4-6).

A case carries one account. Its *review* says what the officers are looking at now:

* ``onboarding``: the first decision (approve at a tier, or decline);
* ``step_up``: the applicant brings new evidence (a newly issued attestation, or the bank's
  own standard CDD) and asks for a higher tier. The engine always refers a step-up, and an
  upgrade is applied only under four-eyes;
* ``renewal``: a T1/T2 account near the end of its time box. The engine says whether the
  policy allows a renewal (T1: once, with a confirmed ID application);
* ``alert``: a monitoring alert an officer escalated.

Every decision is appended to the case's history, moves the decision API's change cursor
(the audit sequence number, which is commit-ordered because appenders serialise on the audit
head) and queues a signed webhook event, all in the caller's transaction.
"""

from __future__ import annotations

import logging
import time
import unicodedata
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import risk
from onboarding import audit, webhooks
from onboarding.audit import Actor
from onboarding.clock import now
from onboarding.models import BankCase, MonitoringAlert, Organisation, TransactionSummary
from onboarding.privacy import FieldCipher, KeyStore
from risk.engine import add_months
from risk.model import TIERS
from risk.monitoring import alerts as run_monitoring

REVIEW_REQUEST = {"onboarding": "onboarding", "step_up": "step_up", "renewal": "renewal",
                  "alert": "periodic_review", "screening": "periodic_review"}
#: Monitoring alerts are review tasks with a due date (working practice: five days).
ALERT_DUE = timedelta(days=5)
ALERT_DISPOSITIONS = ("explained", "escalated")
#: Alerts that still count: open ones, and escalated ones whose account review is not over.
LIVE_ALERTS = ("open", "escalated")
#: Why a review ends with no change (codes only: audit details never hold free text).
KEEP_REASONS = ("evidence_insufficient", "not_same_person", "activity_explained",
                "holder_withdrew", "renewal_not_needed", "match_cleared", "other")
#: A transaction summary covers at most a calendar month (longer periods would dilute the
#: monthly caps the monitoring rules compare with).
MAX_PERIOD_DAYS = 31
#: Statuses in which a case waits for an officer (a review is open).
OPEN_REVIEW = ("open", "referred", "held", "recommended", "declined_pending")

log = logging.getLogger(__name__)


class LifecycleError(Exception):
    """An action that does not fit the account's state (shown to the officer as is)."""


def jurisdiction_of(db: Session, case: BankCase) -> str | None:
    org = db.get(Organisation, case.org_id)
    return org.jurisdiction if org else None


def tier_terms(policy: risk.Policy, tier: str, jurisdiction: str | None) -> dict[str, Any]:
    """What a tier gives under ``policy``: features, limits (with currency), validity."""
    if tier not in policy.tiers:
        return {"features": [], "limits": None, "validity_months": None}
    spec = policy.tiers[tier]
    j = policy.jurisdiction(jurisdiction)
    limits = j.limits.get(tier)
    return {"features": list(spec.features),
            "limits": None if not limits else {"currency": j.currency, **limits},
            "validity_months": spec.validity_months, "max_renewals": spec.max_renewals}


def account_input(case: BankCase) -> dict[str, Any] | None:
    """The engine's ``account`` object for an open account, else None."""
    if not case.account_tier or case.account_tier == "T0" or case.account_opened_on is None:
        return None
    out: dict[str, Any] = {"tier": case.account_tier,
                           "opened_on": case.account_opened_on.isoformat(),
                           "renewals_used": case.renewals_used}
    if case.valid_until is not None:
        out["valid_until"] = case.valid_until.isoformat()
    return out


def days_left(case: BankCase, today: date | None = None) -> int | None:
    """Days of validity left on the account (negative once it has ended)."""
    if case.valid_until is None or not case.account_tier:
        return None
    return (case.valid_until - (today or now().date())).days


def apply_decision(db: Session, actor: Actor, case: BankCase, policy: risk.Policy, *,
                   outcome: str, tier: str, how: str,
                   proposal_id: uuid.UUID | None = None) -> str:
    """Make the bank's decision effective on the account (called by ``record_decision``);
    returns the webhook event it amounts to."""
    today = now().date()
    kind = case.review_kind or "onboarding"
    terms = tier_terms(policy, tier, jurisdiction_of(db, case))
    months = terms["validity_months"]
    if outcome == "approve":
        if tier not in TIERS[1:]:
            raise LifecycleError("An approval opens a tier from T1 up; to refuse, decline.")
        # The terms are kept with the decision (in the history): a later policy change must
        # not silently change what the core banking system was told this account may do.
        if kind == "renewal":
            if case.valid_until is None or months is None:
                raise LifecycleError("This account has no time box to renew.")
            if tier != case.account_tier or not renewable(case, policy):
                raise LifecycleError("The policy does not allow renewing this account.")
            # A renewal extends from the end of the current box (renewing early must not give
            # more than one extra period), or from today once the box has ended.
            case.valid_until = add_months(max(case.valid_until, today), months)
            case.renewals_used += 1
        else:
            if case.account_opened_on is None:
                case.account_opened_on = today
            if case.account_tier != tier or case.valid_until is None:
                case.valid_until = None if months is None else add_months(today, months)
            if kind == "step_up" and case.account_tier != tier:
                case.renewals_used = 0
        case.account_tier = tier
        if case.pending_claims_enc is not None:
            # The step-up's new attestation becomes the case's evidence.
            case.claims_enc = case.pending_claims_enc
            case.pending_claims_enc = None
    elif outcome == "decline":
        if kind in ("onboarding", "alert", "renewal", "screening"):
            # Onboarding: no account. Otherwise the bank closes the account, and
            # with it every alert still open on it.
            case.account_tier = None
            case.valid_until = None
            for a in db.execute(select(MonitoringAlert).where(
                    MonitoringAlert.case_id == case.id,
                    MonitoringAlert.status.in_(LIVE_ALERTS))).scalars():
                a.status, a.disposition = "closed", a.disposition or "account_closed"
        case.pending_claims_enc = None
    if kind == "alert":
        _end_escalations(db, case)
    entry = {"kind": kind, "outcome": outcome, "tier": tier, "how": how,
             "by": str(actor.user_id) if actor.user_id else None,
             "proposal": str(proposal_id) if proposal_id else None,
             "at": now().isoformat(timespec="seconds"),
             "policy": (case.recommendation or {}).get("policy"),
             "valid_until": case.valid_until.isoformat() if case.valid_until else None}
    if outcome == "approve":
        entry["terms"] = {"features": terms["features"], "limits": terms["limits"]}
        if kind == "renewal":
            # A renewal extends the time box; what the account may do stays as decided.
            entry["terms"] = decided_terms(case, tier) or entry["terms"]
    case.history = [*(case.history or []), entry]
    if outcome == "decline" and kind in ("alert", "renewal", "screening"):
        return "account.closed"
    if kind == "step_up":
        return "account.upgraded" if outcome == "approve" else "account.step_up_refused"
    if kind == "renewal":
        return "account.renewed"
    return "case.approved" if outcome == "approve" else "case.declined"


def touch(db: Session, actor: Actor, case: BankCase, event: str,
          policy: risk.Policy | None = None, **extra: Any) -> None:
    """Record that what the decision API reports changed: audit entry (its sequence number
    becomes the case's change cursor) and a webhook event in the same transaction.
    ``policy`` is the bank's policy in force when the caller already has it."""
    if policy is None:
        from onboarding.compliance.operations import active_policy

        policy = active_policy(db, case.org_id)[0]
    entry = audit.record(db, actor, "account.change", object_type="bank_case",
                         object_id=case.id, org_id=case.org_id, event=event,
                         tier=case.account_tier or "none")
    case.changed_seq = entry.seq
    webhooks.enqueue(db, case.org_id, event,
                     {**decision_document(db, case, policy), **extra})


def decided_terms(case: BankCase, tier: str) -> dict[str, Any] | None:
    """Features and limits of the latest approval at ``tier`` (kept in the history)."""
    return next((h["terms"] for h in reversed(case.history or [])
                 if h.get("outcome") == "approve" and h.get("tier") == tier
                 and h.get("terms")), None)


def decision_document(db: Session, case: BankCase, policy: risk.Policy) -> dict[str, Any]:
    """What the core banking system needs to apply the decision, and nothing personal:
    the case id, its account reference, the tier in force with the features and limits
    decided, validity, the policy version, and whether alerts block the account."""
    decision = case.decision or {}
    tier = case.account_tier
    # The terms of the approval that set the tier in force (a refused step-up or a renewal
    # leaves them as they were).
    terms = decided_terms(case, tier) if tier else None
    if tier and terms is None:  # decided before terms were kept with decisions
        terms = tier_terms(policy, tier, jurisdiction_of(db, case))
    live = db.execute(select(MonitoringAlert.id, MonitoringAlert.rule).where(
        MonitoringAlert.case_id == case.id, MonitoringAlert.status.in_(LIVE_ALERTS))).all()
    return {
        "case_id": str(case.id),
        "account_ref": case.account_ref,
        "status": case.status,
        "review": case.review_kind,
        "account": None if not tier else {
            "tier": tier,
            "features": terms["features"] if terms else [],
            "limits": terms["limits"] if terms else None,
            "opened_on": case.account_opened_on.isoformat() if case.account_opened_on
            else None,
            "valid_until": case.valid_until.isoformat() if case.valid_until else None,
            "renewals_used": case.renewals_used,
            # Block-and-review (DOMAIN.md §4): a limit-breach alert blocks the account until
            # it is explained or the account review it was escalated to is decided.
            "blocked": any(a.rule == "monitoring.limits" for a in live),
        },
        "decision": None if not decision else {
            "outcome": decision.get("outcome"), "tier": decision.get("tier"),
            "how": decision.get("how"),
            "decided_at": case.decided_at.isoformat(timespec="seconds")
            if case.decided_at else None,
            "policy": decision.get("policy")},
        # Which typology fired stays in the compliance workspace: core banking staff who see
        # these documents must not be able to tip the holder off (only "blocks" matters to
        # them).
        "open_alerts": [{"id": str(a.id), "blocks": a.rule == "monitoring.limits"}
                        for a in live],
        "cursor": case.changed_seq,
    }


# ------------------------------------------------------------------------- reviews
def _norm(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def same_person_conflicts(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Attribute conflicts between the case's attestation and a step-up's new one.

    Names may legitimately gain a variant (a new document spells it another way), so one
    name in common is enough; the date of birth must agree as far as both give it.
    """
    out = []
    a = {_norm(n) for n in old.get("names") or []}
    b = {_norm(n) for n in new.get("names") or []}
    if a and b and not a & b:
        out.append("name_mismatch")
    d1, d2 = old.get("date_of_birth") or "", new.get("date_of_birth") or ""
    n = min(len(d1), len(d2))
    if n and d1[:n] != d2[:n]:
        out.append("dob_mismatch")
    return out


def start_review(db: Session, actor: Actor, keystore: KeyStore, case: BankCase, kind: str, *,
                 standard_cdd: str | None = None, id_application_confirmed: bool = False,
                 new_claims: dict[str, Any] | None = None) -> dict[str, Any]:
    """Open a step-up or renewal review on an open account and run the engine on it."""
    from onboarding.bank.operations import case_claims
    from onboarding.bank.tiering import recommend
    from onboarding.compliance.operations import active_policy

    if kind not in ("step_up", "renewal"):
        raise LifecycleError("Unknown review.")
    if not case.account_tier or case.account_tier == "T0" or \
            case.status not in ("approved", "lapsed"):
        raise LifecycleError("Only an open account can be stepped up or renewed, and only "
                             "when no other review is open on it.")
    policy, _row = active_policy(db, case.org_id)
    if kind == "renewal":
        left = days_left(case)
        if left is None:
            raise LifecycleError("This account has no time box to renew.")
        window = expiring_window(policy)
        if left > window:
            raise LifecycleError(f"A renewal review opens {window} days before the end of "
                                 f"validity ({left} days left).")
    if kind == "step_up" and new_claims is None and standard_cdd != "passed":
        raise LifecycleError("Give new evidence: a newly issued attestation, or the bank's "
                             "own standard CDD, passed.")
    checks = dict(case.counter_checks or {})
    checks["standard_cdd"] = standard_cdd or checks.get("standard_cdd", "not_done")
    checks["id_application_confirmed"] = bool(id_application_confirmed)
    cipher = FieldCipher(case.id, keystore.get(case.id))
    conflicts = [c for c in checks.get("conflicts", []) if c not in ("name_mismatch",
                                                                    "dob_mismatch")]
    if new_claims is not None:
        old = case_claims(keystore, case).get("claims") or {}
        new = new_claims.get("claims") or {}
        if new.get("attestation_id") and new.get("attestation_id") == old.get("attestation_id"):
            raise LifecycleError("This is the attestation the account already rests on: a "
                                 "step-up needs a newly issued one.")
        if str(new.get("issued_at") or "") <= str(old.get("issued_at") or ""):
            raise LifecycleError("This attestation is not newer than the one the account "
                                 "rests on: a step-up needs a newly issued one.")
        conflicts += same_person_conflicts(old, new)
        case.pending_claims_enc = cipher.seal("case_claims", new_claims)
    checks["conflicts"] = sorted(set(conflicts))
    case.counter_checks = checks
    case.review_kind = kind
    case.due_at = now() + timedelta(days=5)
    audit.record(db, actor, f"case.{kind}.start", object_type="bank_case", object_id=case.id,
                 org_id=case.org_id, new_attestation=new_claims is not None,
                 standard_cdd=checks["standard_cdd"],
                 id_application_confirmed=bool(id_application_confirmed))
    body = recommend(db, actor, keystore, case, reopen=True)
    touch(db, actor, case, "account.review_opened", policy)
    return body


def close_review(db: Session, actor: Actor, case: BankCase, *, keep: str) -> None:
    """End a step-up, renewal or escalated-alert review leaving the account as it is."""

    if case.review_kind not in ("step_up", "renewal", "alert", "screening") \
            or not case.account_tier \
            or case.status not in OPEN_REVIEW:
        raise LifecycleError("No step-up, renewal, alert or screening review is open here.")
    if keep not in KEEP_REASONS:
        raise LifecycleError("Choose why the account stays as it is.")
    if case.status == "declined_pending":
        raise LifecycleError("The engine found grounds to close the account (a confirmed "
                             "finding): propose a decision for a second officer.")
    from onboarding.models import ScreeningHit

    # A possible match raised during any review (a list upload re-screens cases under
    # review) must be decided first; in a screening review a confirmed one needs a decision.
    blocking = ("open", "confirmed") if case.review_kind == "screening" else ("open",)
    undecided = db.execute(select(ScreeningHit.id).where(
        ScreeningHit.case_id == case.id, ScreeningHit.disposition.in_(blocking))).first()
    if undecided is not None:
        raise LifecycleError("Every possible match must be cleared (no hit) before the "
                             "account can stay as it is.")
    kind = case.review_kind
    case.pending_claims_enc = None
    case.status = resting_status(case)
    case.version += 1
    if kind == "alert":
        _end_escalations(db, case)
    audit.record(db, actor, "case.review.close", object_type="bank_case", object_id=case.id,
                 org_id=case.org_id, review=kind, reason=keep)
    touch(db, actor, case, "account.review_closed")


def resting_status(case: BankCase) -> str:
    """The status of an open account with no review: lapsed once its time box has ended."""
    if case.account_tier in ("T1", "T2") and case.valid_until is not None \
            and case.valid_until < now().date():
        return "lapsed"
    return "approved"


def _end_escalations(db: Session, case: BankCase) -> None:
    """The account review an alert was escalated to is over: the alert is done."""
    for a in db.execute(select(MonitoringAlert).where(
            MonitoringAlert.case_id == case.id, MonitoringAlert.status == "escalated")
    ).scalars():
        a.status = "closed"


# ---------------------------------------------------------------------- monitoring
def ingest_summary(db: Session, actor: Actor, keystore: KeyStore, case: BankCase,
                   figures: dict[str, Any], source: str) -> tuple[TransactionSummary,
                                                                 list[MonitoringAlert]]:
    """Store one period of an open account and run the monitoring rules on it.

    Raises :class:`risk.InputError` for bad figures and :class:`LifecycleError` when the
    account is not open or the period was already received.
    """
    from onboarding.compliance.operations import active_policy

    tx = risk.parse_transactions(figures)
    if not case.account_tier or case.account_tier == "T0" or case.account_opened_on is None:
        raise LifecycleError("The case has no open account.")
    if tx.period_end > now().date():
        raise LifecycleError("The period has not ended yet.")
    if (tx.period_end - tx.period_start).days + 1 > MAX_PERIOD_DAYS:
        raise LifecycleError(f"A summary covers at most {MAX_PERIOD_DAYS} days (one month).")
    if tx.period_end < case.account_opened_on.replace(day=1):
        raise LifecycleError("The period is before the account was opened.")
    overlap = db.execute(select(TransactionSummary.id).where(
        TransactionSummary.case_id == case.id,
        TransactionSummary.period_start <= tx.period_end,
        TransactionSummary.period_end >= tx.period_start)).first()
    if overlap is not None:
        raise LifecycleError("A summary for this account already covers (part of) this "
                             "period.")
    policy, _row = active_policy(db, case.org_id)
    cipher = FieldCipher(case.id, keystore.get(case.id))
    clean = {k: (v.isoformat() if isinstance(v, date) else v)
             for k, v in zip(risk.TRANSACTION_FIELDS,
                             (getattr(tx, f) for f in risk.TRANSACTION_FIELDS), strict=True)}
    summary = TransactionSummary(id=uuid.uuid4(), org_id=case.org_id, case_id=case.id,
                                 period_start=tx.period_start, period_end=tx.period_end,
                                 figures_enc=cipher.seal("transactions", clean), source=source,
                                 received_at=now())
    db.add(summary)
    db.flush()  # alerts refer to it (no ORM relationship orders the inserts)
    fired = []
    # T3 is the bank's normal account: its own monitoring applies, not these rules.
    if case.account_tier in ("T1", "T2"):
        fired = run_monitoring(tx, case.account_tier, policy, jurisdiction_of(db, case))
    rows = []
    for a in fired:
        row = MonitoringAlert(id=uuid.uuid4(), org_id=case.org_id, case_id=case.id,
                              summary_id=summary.id, rule=a.rule, reason_code=a.reason_code,
                              detail_enc=cipher.seal("alert", {"inputs": a.inputs,
                                                               "explanation": a.explanation}),
                              created_at=now(), due_at=now() + ALERT_DUE, status="open")
        rows.append(row)
        db.add(row)
    summary.alerts = len(rows)
    db.flush()
    audit.record(db, actor, "transactions.receive", object_type="bank_case",
                 object_id=case.id, org_id=case.org_id, source=source,
                 period_start=tx.period_start.isoformat(),
                 period_end=tx.period_end.isoformat(),
                 alerts=len(rows), rules=[r.rule for r in rows])
    if rows:
        touch(db, actor, case, "alert.opened", policy,
              alerts=[{"id": str(r.id), "blocks": r.rule == "monitoring.limits"}
                      for r in rows])
    return summary, rows


def alert_detail(keystore: KeyStore, alert: MonitoringAlert) -> dict[str, Any]:
    """The alert's inputs and explanation (sealed under the case key)."""
    data: dict[str, Any] = FieldCipher(alert.case_id, keystore.get(alert.case_id)).open(
        "alert", alert.detail_enc)
    return data


def dispose_alert(db: Session, actor: Actor, case: BankCase, alert: MonitoringAlert,
                  disposition: str) -> None:
    """Close an alert as explained, or escalate it into a review of the account."""

    if alert.status != "open":
        raise LifecycleError("This alert is already dealt with.")
    if disposition not in ALERT_DISPOSITIONS:
        raise LifecycleError("Unknown disposition.")
    if disposition == "escalated" and case.status in OPEN_REVIEW:
        raise LifecycleError("Another review is open on this account: finish it, then "
                             "escalate.")
    # An escalated alert stays live (a limit breach keeps blocking) until the account
    # review is decided or closed.
    alert.status = "escalated" if disposition == "escalated" else "closed"
    alert.disposition = disposition
    alert.decided_by = actor.user_id
    alert.decided_at = now()
    audit.record(db, actor, f"alert.{disposition}", object_type="bank_case", object_id=case.id,
                 org_id=case.org_id, rule=alert.rule)
    if disposition == "escalated":
        # An escalated alert is a review of the account: the officers may re-tier, close
        # (decline, four-eyes), ask the NGO for a welfare check, or file a SAR.
        case.review_kind = "alert"
        case.status = "referred"
        case.due_at = now() + ALERT_DUE
        case.version += 1
    touch(db, actor, case, "alert.closed" if disposition == "explained" else "alert.escalated",
          alert={"id": str(alert.id), "disposition": disposition})


def renewable(case: BankCase, policy: risk.Policy) -> bool:
    """Whether the policy allows renewing this account now (renewals left; for T1 a
    confirmed ID application, DOMAIN.md §5)."""
    tier = case.account_tier
    if tier is None or tier not in policy.tiers or case.valid_until is None:
        return False
    spec = policy.tiers[tier]
    if spec.max_renewals is not None and case.renewals_used >= spec.max_renewals:
        return False
    return tier != "T1" or bool((case.counter_checks or {}).get("id_application_confirmed"))


def expiring_window(policy: risk.Policy) -> int:
    """Days before the end of validity that an account shows in the expiring queue."""
    return max(policy.assessment.t1_validity_review_days,
               policy.assessment.review_before_expiry_days)


def end_validity(db: Session, actor: Actor, today: date) -> dict[str, int]:
    """Announce, once per time box, the T1/T2 accounts whose validity ended without a
    renewal (the core banking system restricts them to paying out the balance). An account
    with no review open is marked lapsed; an open review (a renewal, a step-up, an alert or
    a screening review) carries on and the account rests lapsed when it ends."""

    rows = db.execute(select(BankCase).where(
        BankCase.account_tier.in_(("T1", "T2")), BankCase.valid_until < today,
        BankCase.status != "declined",
        (BankCase.validity_ended_on.is_(None))
        | (BankCase.validity_ended_on < BankCase.valid_until))
        .with_for_update(skip_locked=True)).scalars().all()
    for case in rows:
        case.validity_ended_on = case.valid_until
        if case.status == "approved":
            case.status = "lapsed"
            case.version += 1
        touch(db, actor, case, "account.validity_ended")
    return {"lapsed": len(rows)}


def rescreen_accounts(session: Session, actor: Actor, keystore: KeyStore,
                      limit: int = 500, budget_seconds: float = 0.0) -> dict[str, int]:
    """Screen open accounts against list versions newer than their last screening.

    A possible match that is new (not whitelisted, not seen on this case before) opens a
    *screening* review: the engine re-assesses the account and refers it; the officers
    clear the match (no hit, then close the review) or confirm it (a decline closes the
    account, under four-eyes). ``session`` has no transaction open: each account is its
    own short transaction (its row locked, then the audit log, in the same order as a web
    request), so officers never wait on a whole batch; parsed lists are cached, so a batch
    parses each list once.

    Batches of ``limit`` accounts follow one another until none is due or ``budget_seconds``
    (wall time) are spent; 0 runs one batch. The periodic job gives it most of its interval,
    so a new sanctions list reaches a large book of accounts within hours, not days.
    """
    from onboarding.models import ScreeningList

    def due() -> Any:
        newest = (select(ScreeningList.org_id, func.max(ScreeningList.uploaded_at).label("at"))
                  .where(ScreeningList.active.is_(True)).group_by(ScreeningList.org_id)
                  .subquery())
        return (select(BankCase.id).join(newest, newest.c.org_id == BankCase.org_id).where(
            BankCase.account_tier.is_not(None), BankCase.status.in_(("approved", "lapsed")),
            (BankCase.screened_at.is_(None)) | (BankCase.screened_at < newest.c.at)))

    deadline = time.monotonic() + budget_seconds
    screened = opened = 0
    failed: set[uuid.UUID] = set()
    while True:
        query = due()
        if failed:  # screened accounts are no longer due; failed ones would come back first
            query = query.where(BankCase.id.not_in(failed))
        with session.begin():
            # Never-screened first, then the longest ago: every account is reached in turn
            # even when list versions arrive faster than a full pass.
            ids = list(session.execute(query.order_by(
                BankCase.screened_at.nulls_first(), BankCase.id).limit(limit)).scalars())
        if not ids:
            break
        s, o, f = _rescreen_batch(session, actor, keystore, ids, due)
        screened, opened = screened + s, opened + o
        failed |= f
        if time.monotonic() >= deadline or len(failed) >= _MAX_FAILED:
            break
    return {"screened": screened, "reviews_opened": opened, "failed": len(failed)}


#: A run stops after this many accounts failed (something is broken for all of them; the
#: job's failure count and the log say so) rather than trying every account in vain.
_MAX_FAILED = 1000


def _rescreen_batch(session: Session, actor: Actor, keystore: KeyStore,
                    ids: list[uuid.UUID], due: Any) -> tuple[int, int, set[uuid.UUID]]:
    """Screen ``ids``, one short transaction each; (screened, reviews opened, failed ids).
    A failed account keeps its old ``screened_at``, so the next run tries it first again
    (and the job's ``failed`` count tells the operator)."""
    screened = opened = 0
    failed: set[uuid.UUID] = set()
    for case_id in ids:
        try:
            opened += _rescreen_one(session, actor, keystore, case_id, due)
            screened += 1
        except _NotDue:
            continue
        except Exception:  # one broken account must not stop the screening of the others
            failed.add(case_id)
            log.exception("re-screening failed for case %s", case_id)  # an id, no names
    return screened, opened, failed


class _NotDue(Exception):
    """The account stopped being due between the batch query and its lock."""


def _rescreen_one(session: Session, actor: Actor, keystore: KeyStore, case_id: uuid.UUID,
                  due: Any) -> int:
    """Screen one account in its own transaction; 1 if it opened a review."""
    from onboarding.bank.operations import case_claims
    from onboarding.bank.tiering import recommend
    from onboarding.compliance.operations import active_policy, screened_as_of, screening_check
    from onboarding.models import ScreeningHit

    with session.begin():
        case = session.get(BankCase, case_id, with_for_update=True)
        # Re-checked under the lock: a review may have started meanwhile.
        if case is None or session.execute(due().where(BankCase.id == case_id)
                                           ).first() is None:
            raise _NotDue
        policy, _row = active_policy(session, case.org_id)
        seen = set(session.execute(select(ScreeningHit.entity_id).where(
            ScreeningHit.case_id == case.id)).scalars())
        as_of = screened_as_of(session, case.org_id)  # before screening: what it sees
        result = screening_check(session, case, case_claims(keystore, case), policy)
        case.screened_at = as_of or now()
        new = [h for h in result["hits"]
               if h["disposition"] == "open" and h["entity_id"] not in seen]
        if not new:
            return 0
        case.review_kind = "screening"
        case.due_at = now() + timedelta(days=2)
        audit.record(session, actor, "case.screening.start", object_type="bank_case",
                     object_id=case.id, org_id=case.org_id, new_hits=len(new))
        recommend(session, actor, keystore, case, reopen=True)
        touch(session, actor, case, "account.review_opened", policy)
        return 1
