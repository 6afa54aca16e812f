"""Compliance reports: the dashboard, the CSV export of cases and the SAR narrative draft.

DOMAIN.md §7 metrics (volume by tier and outcome, time to decision, override rate per
reviewer, screening false-positive rate, step-up conversion) come from the bank's own cases
only. Reports carry codes, dates and counts, never the applicant's identity: the case's
claims stay encrypted and are not opened here. Charts are SVG drawn by matplotlib (Agg,
imported only when a chart is drawn) and inlined as data URIs (CSP ``img-src 'self' data:``).

The SAR narrative draft (FinCEN key term "HUMAN TRAFFICKING FIN-2020-A008" for SAR field 2
and the narrative, with field 38(h) "human trafficking" to be checked, as the advisory asks)
is for reporting officers only (route policy), after a step-up, and is audited: telling a
teller or the issuing NGO that a SAR exists would be tipping-off.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import math
import statistics
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from onboarding import audit
from onboarding.auth.views import actor
from onboarding.bank.operations import CONFLICTS, PRODUCTS, THIRD_PARTY_SIGNS
from onboarding.clock import now
from onboarding.models import AuditEntry, BankCase, Proposal, ScreeningHit, User
from onboarding.security import current_user, db, require_step_up
from risk.backtest import OUTCOMES
from risk.model import TIERS
from risk.reasons import REASONS

bp = Blueprint("reports", __name__, url_prefix="/compliance/reports")

WINDOWS = (4, 12, 26, 52)
DEFAULT_WEEKS = 12
SAR_KEY_TERM = "HUMAN TRAFFICKING FIN-2020-A008"
CSV_COLUMNS = ("case_id", "created_at", "status", "recommended_outcome", "recommended_tier",
               "decided_outcome", "decided_tier", "decided_how", "decided_at", "policy_id",
               "policy_version")


# ----------------------------------------------------------------------------- case rows
@dataclass(frozen=True, slots=True)
class CaseRow:
    """What reports read of a case: codes and dates only (never the trace or the claims)."""

    id: uuid.UUID
    created_at: datetime
    status: str
    outcome: str | None
    tier: str | None
    policy_id: str | None
    policy_version: int | None
    decision: dict[str, Any]
    decided_at: datetime | None

    @property
    def decided_tier(self) -> str | None:
        return cast(str | None, self.decision.get("tier"))


def utc(at: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything stored is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def case_rows(session: Session, org_id: uuid.UUID, since: datetime | None = None
              ) -> list[CaseRow]:
    """The bank's cases opened or decided since ``since`` (all when None), oldest first.

    Recommendation fields are read with JSON paths in SQL, so the (large) rule trace never
    leaves the database."""
    rec = BankCase.recommendation
    q = select(BankCase.id, BankCase.created_at, BankCase.status,
               rec["outcome"].as_string(), rec["tier"].as_string(),
               rec[("policy", "id")].as_string(), rec[("policy", "version")].as_integer(),
               BankCase.decision, BankCase.decided_at).where(BankCase.org_id == org_id)
    if since is not None:
        q = q.where(or_(BankCase.created_at >= since, BankCase.decided_at >= since))
    return [CaseRow(cid, utc(created), status, outcome, tier, pid, pver,
                    decision if isinstance(decision, dict) else {},
                    utc(decided) if decided else None)
            for cid, created, status, outcome, tier, pid, pver, decision, decided
            in session.execute(q.order_by(BankCase.created_at))]


# ------------------------------------------------------------------------------- metrics
def week_of(at: datetime) -> date:
    """Monday of the (UTC) week."""
    d = utc(at).date()
    return d - timedelta(days=d.weekday())


def p90(values: list[float]) -> float:
    """90th percentile, nearest rank: the smallest value at or under which 90 % lie."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def first_recommended_tiers(session: Session, org_id: uuid.UUID,
                            case_ids: list[uuid.UUID]) -> dict[str, str]:
    """Tier of each case's first recommendation, from the audit trail (``case.recommend``
    entries carry the tier; the case row keeps only the latest)."""
    out: dict[str, str] = {}
    ids = [str(i) for i in case_ids]
    for start in range(0, len(ids), 500):
        rows = session.execute(select(AuditEntry.object_id, AuditEntry.details).where(
            AuditEntry.action == "case.recommend", AuditEntry.org_id == org_id,
            AuditEntry.object_type == "bank_case",
            AuditEntry.object_id.in_(ids[start:start + 500])).order_by(AuditEntry.seq))
        for oid, details in rows:
            tier = (details or {}).get("tier")
            if oid and oid not in out and tier in TIERS:
                out[oid] = tier
    return out


def _by(decision: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(decision.get("by")))
    except ValueError:
        return None


@dataclass(slots=True)
class Dashboard:
    weeks: list[date]
    since: datetime
    opened: int
    by_outcome: dict[date, Counter[str]]
    by_tier: dict[date, Counter[str]]
    decided: int
    ttd_median: float | None
    ttd_p90: float | None
    ttd_weekly: dict[date, tuple[int, float, float]]
    reviewers: list[tuple[str, int, int]]
    hits: dict[str, int]
    fp_rate: float | None
    stepup_decided: int
    stepup_up: int
    stepup_requested: int
    stepup_upgraded: int
    recent: list[RecentDecision]


@dataclass(frozen=True, slots=True)
class RecentDecision:
    """One decision as the dashboard lists it: who proposed, who approved, which policy."""

    case_id: uuid.UUID
    decided_at: datetime
    outcome: str
    tier: str
    how: str
    maker: str | None
    checker: str | None
    policy: str


RECENT_DECISIONS = 20


def recent_decisions(session: Session, org_id: uuid.UUID, decided: list[CaseRow],
                     names: Callable[[set[uuid.UUID]], dict[uuid.UUID, str]]
                     ) -> list[RecentDecision]:
    """The latest decisions: the maker is the proposal's author (four-eyes), the checker
    the officer who recorded the decision; only this bank's staff are named."""
    latest = sorted(decided, key=lambda r: cast(datetime, r.decided_at),
                    reverse=True)[:RECENT_DECISIONS]
    proposal_ids = set()
    for r in latest:
        with contextlib.suppress(ValueError):
            proposal_ids.add(uuid.UUID(str(r.decision.get("proposal"))))
    makers: dict[uuid.UUID, uuid.UUID] = {}
    if proposal_ids:
        makers = {pid: who for pid, who in session.execute(
            select(Proposal.id, Proposal.proposed_by).where(
                Proposal.org_id == org_id, Proposal.id.in_(proposal_ids)))}
    checkers = {r.id: _by(r.decision) for r in latest}
    known = names({w for w in (*makers.values(), *checkers.values()) if w is not None})
    out = []
    for r in latest:
        d = r.decision
        maker = None
        with contextlib.suppress(ValueError):
            maker = makers.get(uuid.UUID(str(d.get("proposal"))))
        policy = d.get("policy") if isinstance(d.get("policy"), dict) else {}
        pid, pver = (policy.get("id"), policy.get("version")) if policy else \
            (r.policy_id, r.policy_version)
        checker = checkers[r.id]
        out.append(RecentDecision(
            r.id, cast(datetime, r.decided_at), str(d.get("outcome", "")),
            str(d.get("tier", "")), str(d.get("how", "")),
            known.get(maker) if maker else None,
            known.get(checker) if checker else None,
            f"{pid}@{pver}" if pid else ""))
    return out


def compute_dashboard(session: Session, org_id: uuid.UUID, weeks: int, names: Callable[
        [set[uuid.UUID]], dict[uuid.UUID, str]]) -> Dashboard:
    """Every dashboard figure for the last ``weeks`` weeks (this week included)."""
    first_week = week_of(now()) - timedelta(weeks=weeks - 1)
    since = datetime(first_week.year, first_week.month, first_week.day, tzinfo=UTC)
    week_list = [first_week + timedelta(weeks=i) for i in range(weeks)]
    rows = case_rows(session, org_id, since)

    # Volume: cases opened per week, by recommended outcome and by tier (the decided tier
    # when there is a decision, else the recommended one).
    by_outcome: dict[date, Counter[str]] = {w: Counter() for w in week_list}
    by_tier: dict[date, Counter[str]] = {w: Counter() for w in week_list}
    opened = [r for r in rows if r.created_at >= since]
    for r in opened:
        w = week_of(r.created_at)
        if w in by_outcome:
            by_outcome[w][r.outcome or "none"] += 1
            by_tier[w][r.decided_tier or r.tier or "none"] += 1

    # Time to decision (hours from opening to the bank's decision), by week of decision.
    decided = [r for r in rows if r.decided_at and r.decided_at >= since and r.decision]
    hours = {r.id: max(0.0, (cast(datetime, r.decided_at) - r.created_at).total_seconds()
                       / 3600) for r in decided}
    weekly: dict[date, list[float]] = defaultdict(list)
    for r in decided:
        weekly[week_of(cast(datetime, r.decided_at))].append(hours[r.id])
    ttd_weekly = {w: (len(v), statistics.median(v), p90(v)) for w, v in sorted(weekly.items())}
    all_hours = list(hours.values())

    # Override rate per reviewer (who recorded the decision); our own staff's names only.
    per: dict[uuid.UUID | None, list[int]] = defaultdict(lambda: [0, 0])
    for r in decided:
        who = _by(r.decision)
        per[who][0] += 1
        per[who][1] += r.decision.get("how") == "override"
    known = names({w for w in per if w is not None})
    reviewer_rows = [(known[w], n, o) for w, (n, o) in per.items() if w in known]
    others = [(n, o) for w, (n, o) in per.items() if w not in known]
    if others:  # not (or no longer) on this bank's staff: counted, never named
        reviewer_rows.append((str(_("Other or former reviewers")), sum(n for n, _o in others),
                              sum(o for _n, o in others)))
    reviewer_rows.sort(key=lambda t: (-t[1], t[0]))

    # Screening: dispositions of the hits on cases opened in the period.
    hits = dict.fromkeys(("open", "no_hit", "confirmed"), 0)
    for disposition, n in session.execute(
            select(ScreeningHit.disposition, func.count()).join(
                BankCase, BankCase.id == ScreeningHit.case_id).where(
                ScreeningHit.org_id == org_id, BankCase.org_id == org_id,
                BankCase.created_at >= since).group_by(ScreeningHit.disposition)):
        hits[disposition] = hits.get(disposition, 0) + int(n)
    closed = hits["no_hit"] + hits["confirmed"]

    # Step-up conversion: decided cases whose decided tier is above the first recommended.
    firsts = first_recommended_tiers(session, org_id, [r.id for r in decided])
    comparable = [(firsts.get(str(r.id), r.tier), r.decided_tier) for r in decided]
    comparable = [(a, b) for a, b in comparable if a in TIERS and b in TIERS]
    up = sum(1 for a, b in comparable if TIERS.index(cast(str, b)) > TIERS.index(cast(str, a)))

    # Step-up conversion proper: step-up reviews opened in the period (new evidence brought
    # to an open account), and how many ended in an upgrade.
    requested = session.execute(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.org_id == org_id, AuditEntry.action == "case.step_up.start",
        AuditEntry.at >= since)).scalar_one()
    upgraded = 0
    for (history,) in session.execute(select(BankCase.history).where(
            BankCase.org_id == org_id, BankCase.account_opened_on.is_not(None))):
        upgraded += sum(1 for h in history or [] if h.get("kind") == "step_up"
                        and h.get("outcome") == "approve"
                        and str(h.get("at", "")) >= since.isoformat()[:19])

    return Dashboard(
        weeks=week_list, since=since, opened=len(opened), by_outcome=by_outcome,
        by_tier=by_tier, decided=len(decided),
        ttd_median=statistics.median(all_hours) if all_hours else None,
        ttd_p90=p90(all_hours) if all_hours else None, ttd_weekly=ttd_weekly,
        reviewers=reviewer_rows, hits=hits,
        fp_rate=hits["no_hit"] / closed if closed else None,
        stepup_decided=len(comparable), stepup_up=up, stepup_requested=int(requested),
        stepup_upgraded=upgraded,
        recent=recent_decisions(session, org_id, decided, names))


# -------------------------------------------------------------------------------- charts
#: matplotlib's settings (rcParams) and pyplot are process-wide: one chart at a time.
CHART_LOCK = threading.Lock()


@contextlib.contextmanager
def chart_settings() -> Iterator[None]:
    """One chart at a time, with SVG text kept as text and stable element ids."""
    import matplotlib

    with CHART_LOCK, matplotlib.rc_context({"svg.fonttype": "none",
                                            "svg.hashsalt": "onboarding"}):
        yield


def svg_data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _svg(draw: Callable[[Any], None], size: tuple[float, float]) -> str:
    """Draw into an SVG data URI with matplotlib's object API (no pyplot, no display; the
    import is paid only when a chart is drawn). Text stays text: smaller, and readable."""
    from matplotlib.figure import Figure

    with chart_settings():
        fig = Figure(figsize=size, layout="constrained")
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg")
    return svg_data_uri(buf.getvalue())


def _stacked(ax: Any, weeks: list[date], data: dict[date, Counter[str]],
             labels: Iterable[str], title: str) -> None:
    x = list(range(len(weeks)))
    bottom = [0] * len(weeks)
    for label in labels:
        values = [data[w][label] for w in weeks]
        if any(values):
            ax.bar(x, values, bottom=bottom, label=label)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    _week_axis(ax, weeks)
    ax.set_title(title)
    ax.set_ylabel(str(_("cases opened")))
    if any(bottom):
        ax.legend(fontsize="small")


def _week_axis(ax: Any, weeks: list[date]) -> None:
    """Weeks as positions 0..n-1, at most about five labels; whole numbers on the y axis."""
    from matplotlib.ticker import MaxNLocator

    x = list(range(len(weeks)))
    step = max(1, math.ceil(len(weeks) / 5))
    ax.set_xticks(x[::step], [w.strftime("%d %b") for w in weeks[::step]])
    ax.set_xlim(-0.6, len(weeks) - 0.4)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def charts(d: Dashboard) -> dict[str, str]:
    """The dashboard's charts as data URIs (only those with something to show)."""
    out: dict[str, str] = {}
    if d.opened:
        def volume(fig: Any) -> None:
            a, b = fig.subplots(1, 2)
            _stacked(a, d.weeks, d.by_outcome, (*OUTCOMES, "none"),
                     str(_("By recommended outcome, per week")))
            _stacked(b, d.weeks, d.by_tier, (*TIERS, "none"), str(_("By tier, per week")))

        out["volume"] = _svg(volume, (10, 3.6))
    if d.ttd_weekly:
        def ttd(fig: Any) -> None:
            ax = fig.subplots()
            nan = float("nan")  # weeks without decisions leave a gap
            x = list(range(len(d.weeks)))
            ax.plot(x, [d.ttd_weekly[w][1] if w in d.ttd_weekly else nan for w in d.weeks],
                    marker="o", label=str(_("median")))
            ax.plot(x, [d.ttd_weekly[w][2] if w in d.ttd_weekly else nan for w in d.weeks],
                    marker="s", label=str(_("90th percentile")))
            _week_axis(ax, d.weeks)
            ax.set_ylim(0, 1.15 * max(v[2] for v in d.ttd_weekly.values()) + 0.5)
            ax.set_ylabel(str(_("hours to decision")))
            ax.set_title(str(_("Time to decision, by week of decision")))
            ax.legend(fontsize="small")

        out["ttd"] = _svg(ttd, (8, 3.4))
    if d.reviewers:
        def overrides(fig: Any) -> None:
            ax = fig.subplots()
            names = [r[0] for r in d.reviewers][::-1]
            rates = [100 * r[2] / r[1] for r in d.reviewers][::-1]
            ax.barh(names, rates)
            ax.set_xlim(0, 100)
            ax.set_xlabel(str(_("Share of their decisions that were overrides (%)")))
            ax.set_title(str(_("Override rate per reviewer")))

        out["overrides"] = _svg(overrides, (7, 0.6 + 0.45 * len(d.reviewers)))
    return out


# --------------------------------------------------------------------------------- views
def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def own_staff_names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of the caller's own bank's staff; anyone else stays unnamed."""
    if not ids:
        return {}
    rows = db().execute(select(User.id, User.display_name).where(
        User.org_id == _me().org_id, User.id.in_(ids))).all()
    return {i: n for i, n in rows}


@bp.route("/", endpoint="dashboard")
def dashboard_view() -> str:
    """The dashboard for the last few weeks."""
    try:
        weeks = int(request.args.get("weeks", DEFAULT_WEEKS))
    except ValueError:
        weeks = DEFAULT_WEEKS
    if weeks not in WINDOWS:
        weeks = DEFAULT_WEEKS
    d = compute_dashboard(db(), _me().org_id, weeks, own_staff_names)
    return render_template("compliance/reports/dashboard.html", d=d, charts=charts(d),
                           weeks=weeks, windows=WINDOWS, outcomes=OUTCOMES, tiers=TIERS)


def csv_safe(value: Any) -> str:
    """Cell text that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _iso(at: datetime | None) -> str:
    return utc(at).isoformat(timespec="seconds").replace("+00:00", "Z") if at else ""


@bp.route("/cases.csv", endpoint="export_csv")
def export_csv() -> Response:
    """Every case of the bank as CSV: ids, codes and dates; no personal data."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in case_rows(db(), _me().org_id):
        d = r.decision
        w.writerow([csv_safe(v) for v in (
            r.id, _iso(r.created_at), r.status, r.outcome, r.tier, d.get("outcome"),
            d.get("tier"), d.get("how"), _iso(r.decided_at), r.policy_id, r.policy_version)])
    stamp = now().strftime("%Y%m%d")
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="cases-{stamp}.csv"'})


# ----------------------------------------------------------------------------------- SAR
class SarForm(FlaskForm):
    """Which case the draft narrative is for."""

    case_id = StringField(_l("Case reference"), validators=[DataRequired(), Length(max=64)],
                          description=_l("The case's id (36 characters), as on the case page."),
                          render_kw={"autocomplete": "off", "spellcheck": "false"})
    submit = SubmitField(_l("Download the draft narrative"))


HOW = {"approve": "approved at the recommended tier",
       "override": "overridden under four-eyes (a second officer approved)",
       "decline": "declined under four-eyes (a second officer approved)"}


def sar_narrative(case: BankCase, alerts: Sequence[tuple[Any, str]] = ()) -> str:
    """A draft SAR narrative for ``case``: key term, case id, dates, outcome, reason codes,
    counter checks, and the account's monitoring alerts (period, typology, what the figures
    showed, how the alert was dealt with). Nothing else: no names, dates of birth, documents,
    staff or free text. English, as filed with FinCEN."""
    rec = case.recommendation or {}
    dec = case.decision or {}
    checks = case.counter_checks or {}
    policy = rec.get("policy") or {}
    lines = [
        "DRAFT SAR NARRATIVE - prepared for the reporting officer. Not a filing: review, "
        "complete and file it through the bank's BSA E-Filing process.",
        "",
        f"Key term (SAR field 2, Filing Institution Note to FinCEN, and the narrative's "
        f"first line): {SAR_KEY_TERM}",
        "Suspicious activity category: check SAR field 38(h) (human trafficking).",
        "",
        f"{SAR_KEY_TERM}.",
        "",
        f"Case reference: {case.id}",
        f"Case opened: {_iso(case.created_at)}",
        f"Product requested: {case.product} ({PRODUCTS.get(case.product, 'other')})",
        f"Engine recommendation: outcome {rec.get('outcome', 'none')}, tier "
        f"{rec.get('tier', 'none')} (policy {policy.get('id', '?')}@{policy.get('version', '?')}"
        f", {policy.get('hash', 'no hash')})",
    ]
    if dec:
        lines.append(f"Bank decision: {dec.get('outcome')} at tier {dec.get('tier')}, "
                     f"{HOW.get(str(dec.get('how')), str(dec.get('how')))}, on "
                     f"{_iso(case.decided_at)}")
    else:
        lines.append(f"Bank decision: none yet (case status: {case.status})")
    lines += ["", "Reason codes from the risk assessment:"]
    reasons = rec.get("reasons") or [{"code": c} for c in rec.get("reason_codes") or []]
    flagged = []
    for item in reasons:
        code = str(item.get("code"))
        known = REASONS.get(code)
        summary = known.summary if known else str(item.get("summary", ""))
        lines.append(f"- {code}: {summary}")
        if known and known.consider_sar:
            flagged.append(code)
    if not reasons:
        lines.append("- none")
    if case.account_opened_on is not None:
        lines += ["", f"Account: opened {case.account_opened_on.isoformat()}, tier in force "
                  f"{case.account_tier or 'none (closed)'}"
                  + (f", valid until {case.valid_until.isoformat()}" if case.valid_until
                     else "")]
    if alerts:
        lines += ["", "Monitoring alerts on the account (transaction summaries):"]
        for alert, explanation in alerts:
            known = REASONS.get(alert.reason_code)
            lines.append(f"- {_iso(alert.created_at)[:10]}: {alert.reason_code} "
                         f"({known.summary if known else alert.rule}) {explanation} "
                         f"[{alert.disposition or alert.status}]")
            if known and known.consider_sar and alert.reason_code not in flagged:
                flagged.append(alert.reason_code)
    signs = [s for s in checks.get("third_party") or [] if s in THIRD_PARTY_SIGNS]
    conflicts = [c for c in checks.get("conflicts") or [] if c in CONFLICTS]
    lines += ["", "Counter checks recorded by the teller:"]
    lines += [f"- Sign of third-party control: {s} ({THIRD_PARTY_SIGNS[s]})" for s in signs] \
        or ["- Signs of third-party control: none recorded"]
    lines.append("- Registered caseworker present: "
                 + ("yes (expected; not a warning sign)" if checks.get("caseworker_present")
                    else "no"))
    lines += [f"- Conflicting detail: {c} ({CONFLICTS[c]})" for c in conflicts] \
        or ["- Conflicting details: none recorded"]
    lines += [
        "",
        "FIN-2020-A008 indicators among the reasons: "
        + (", ".join(flagged) if flagged else "none flagged by the engine; see the counter "
           "checks above"),
        "",
        "Narrative (to be completed by the reporting officer): who, what, when, where, why "
        "and how. The subject's identity details are held in the case file and are "
        "deliberately not reproduced in this draft; add only what the filing requires. Do "
        "not tell the applicant, the teller or the issuing organisation that a SAR is being "
        "considered or filed.",
        "",
    ]
    return "\n".join(lines)


def _candidates() -> list[tuple[uuid.UUID, datetime, str, str | None]]:
    rows = db().execute(
        select(BankCase.id, BankCase.created_at, BankCase.status,
               BankCase.recommendation["outcome"].as_string())
        .where(BankCase.org_id == _me().org_id)
        .order_by(BankCase.created_at.desc()).limit(25)).all()
    return [(i, utc(at), s, o) for i, at, s, o in rows]


@require_step_up
def _sar_download() -> Response | tuple[str, int]:
    form = SarForm()
    case = None
    status = 422
    if form.validate_on_submit():
        try:
            cid = uuid.UUID((form.case_id.data or "").strip())
        except ValueError:
            cid = None
        case = db().get(BankCase, cid) if cid else None
        if case is None or case.org_id != _me().org_id:
            # Another bank's case looks exactly like no case (SECURITY.md 10).
            case, status = None, 404
            form.case_id.errors = [_("There is no case with this reference at your bank.")]
    if case is None:
        return render_template("compliance/reports/sar.html", form=form,
                               candidates=_candidates()), status
    from onboarding.compliance.lifecycle import alert_detail
    from onboarding.models import MonitoringAlert

    keystore = current_app.extensions["onboarding.keystore"]
    rows = db().execute(select(MonitoringAlert).where(MonitoringAlert.case_id == case.id)
                        .order_by(MonitoringAlert.created_at)).scalars().all()
    text = sar_narrative(case, [(a, str(alert_detail(keystore, a).get("explanation", "")))
                                for a in rows])
    audit.record(db(), actor(), "report.sar_export", object_type="bank_case",
                 object_id=case.id, org_id=case.org_id)
    db().commit()
    name = f"sar-draft-{str(case.id)[:8]}.txt"
    return Response(text, mimetype="text/plain",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/sar", methods=["GET", "POST"])
def sar() -> str | Response | tuple[str, int]:
    """Reporting officer: a draft SAR narrative for one case (download; step-up; audited)."""
    if request.method == "POST":
        return _sar_download()
    form = SarForm(formdata=None, case_id=request.args.get("case_id", "")[:64])
    return render_template("compliance/reports/sar.html", form=form, candidates=_candidates())
