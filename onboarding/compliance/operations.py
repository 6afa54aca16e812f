"""Compliance operations: the bank's active policy, screening of a case, decisions."""

from __future__ import annotations

import functools
import hashlib
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

import risk
from onboarding import audit
from onboarding.audit import Actor
from onboarding.clock import now
from onboarding.models import BankCase, BankPolicy, ScreeningHit, ScreeningList, WhitelistEntry


@functools.lru_cache(maxsize=64)
def _parse_policy(source: str) -> risk.Policy:
    return risk.load_policy(source)


def active_policy(db: Session, org_id: uuid.UUID) -> tuple[risk.Policy, BankPolicy | None]:
    """The bank's published policy, or the shipped default when it has none."""
    row = db.execute(select(BankPolicy).where(BankPolicy.org_id == org_id,
                                              BankPolicy.state == "published")
                     .order_by(BankPolicy.published_at.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        from onboarding.bank.tiering import default_policy

        return default_policy(), None
    return _parse_policy(row.source), row


def applicant_key(org_id: uuid.UUID, attestation_id: str) -> str:
    """Stable per-bank key for an applicant (whitelists survive re-screening)."""
    return hashlib.sha256(org_id.bytes + attestation_id.encode()).hexdigest()[:32]


def active_lists(db: Session, org_id: uuid.UUID) -> list[ScreeningList]:
    """The bank's active screening lists (newest version of each name)."""
    # The list files (megabytes for OFAC) load only when a version is parsed the first time
    # in this process (see _watchlist), not for every applicant screened.
    rows = db.execute(select(ScreeningList).options(
        defer(ScreeningList.content), defer(ScreeningList.alt_content)).where(
        ScreeningList.org_id == org_id, ScreeningList.active.is_(True))
                      .order_by(ScreeningList.version.desc())).scalars()
    seen: dict[str, ScreeningList] = {}
    for row in rows:
        seen.setdefault(row.name, row)
    return list(seen.values())


def screened_as_of(db: Session, org_id: uuid.UUID) -> datetime | None:
    """The upload time of the newest list a screening that runs now can see.

    A case's ``screened_at`` is set to this, not to the clock: a list version whose upload
    is still being committed (uploads re-assess open reviews in the same transaction) has an
    earlier ``uploaded_at`` than the moment a concurrent screening finishes, so stamping the
    clock would mark the account as screened against a version it never saw."""
    return db.execute(select(func.max(ScreeningList.uploaded_at)).where(
        ScreeningList.org_id == org_id, ScreeningList.active.is_(True))).scalar()


#: Parsed list versions by id (a version never changes once stored): re-screening many
#: accounts must not parse the same list for each of them.
_PARSED: dict[uuid.UUID, Any] = {}
_PARSED_MAX = 16


def _watchlist(row: ScreeningList) -> Any:
    from risk.screening import load_ofac_sdn, load_simple_csv

    cached = _PARSED.get(row.id)
    if cached is not None:
        return cached
    if row.fmt == "ofac":
        parsed = load_ofac_sdn(row.content, row.alt_content)
    else:
        # Entity ids must survive new list versions (whitelists and dispositions refer to
        # them): derived from each entry's content, not its row.
        parsed = load_simple_csv(row.content, name=row.name, id_prefix=row.name,
                                 content_ids=True)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[row.id] = parsed
    return parsed


#: Prepared screeners by (list version ids, thresholds), whitelist left out: preparing the
#: names of an OFAC-sized list takes about a second, once per process instead of per case.
_SCREENERS: dict[tuple[tuple[uuid.UUID, ...], Any], Any] = {}


def _screener(lists: list[ScreeningList], params: Any) -> Any:
    from risk.screening import Screener

    key = (tuple(r.id for r in lists), params)
    cached = _SCREENERS.get(key)
    if cached is None:
        if len(_SCREENERS) >= _PARSED_MAX:
            _SCREENERS.pop(next(iter(_SCREENERS)))
        cached = _SCREENERS[key] = Screener([_watchlist(r) for r in lists], params)
    return cached


def screening_check(db: Session, case: BankCase, claims: dict[str, Any],
                    policy: risk.Policy) -> dict[str, Any]:
    """Screen the applicant against the bank's lists; store hits (keeping dispositions of
    earlier hits and the whitelist); return ``bank_checks.screening`` for the engine."""
    from risk.screening import Applicant

    lists = active_lists(db, case.org_id)
    if not lists:
        return {"status": "not_run", "hits": []}
    c = claims.get("claims") or {}
    if not case.applicant_key:
        case.applicant_key = applicant_key(case.org_id, c.get("attestation_id", str(case.id)))
    whitelist = [(w.applicant_key, w.entity_id) for w in db.execute(
        select(WhitelistEntry).where(WhitelistEntry.org_id == case.org_id)).scalars()]
    screener = _screener(lists, policy.screening).with_whitelist(whitelist)
    result = screener.screen(Applicant(case.applicant_key, tuple(c.get("names") or ()),
                                       c.get("date_of_birth"),
                                       bool(c.get("date_of_birth_approximate")),
                                       c.get("nationality")))
    old = {h.entity_id: h for h in db.execute(select(ScreeningHit).where(
        ScreeningHit.case_id == case.id)).scalars()}
    by_name = {r.name: r for r in lists}
    hits = []
    for h in result.hits:
        row = old.get(h.entity_id)
        if row is None:
            row = ScreeningHit(id=uuid.uuid4(), org_id=case.org_id, case_id=case.id,
                               list_id=by_name[h.list_name].id if h.list_name in by_name
                               else lists[0].id, entity_id=h.entity_id,
                               entity_name=h.matched_name[:300], score=round(h.score),
                               matched={"name": round(h.name_score), "dob": h.dob_signal,
                                        "nationality": h.nationality_signal},
                               disposition="open")
            db.add(row)
        if h.disposition.value == "cleared" and row.disposition == "open":
            row.disposition = "no_hit"
        item = h.to_dict()
        item["disposition"] = {"open": "open", "no_hit": "cleared",
                               "confirmed": "confirmed"}.get(row.disposition, "open")
        hits.append(item)
    db.flush()
    return {"status": "completed", "hits": hits}


def record_decision(db: Session, actor: Actor, case: BankCase, *, outcome: str, tier: str,
                    how: str, proposal_id: uuid.UUID | None = None) -> None:
    """The bank's decision on a case (the engine only recommended), made effective on the
    account, announced to the core banking system (decision API cursor + webhook)."""
    from onboarding.compliance import lifecycle

    policy, _row = active_policy(db, case.org_id)
    case.decision = {"outcome": outcome, "tier": tier, "how": how,
                     "kind": case.review_kind or "onboarding",
                     "by": str(actor.user_id), "proposal": str(proposal_id) if proposal_id
                     else None, "policy": (case.recommendation or {}).get("policy")}
    case.decided_at = now()
    event = lifecycle.apply_decision(db, actor, case, policy, outcome=outcome, tier=tier,
                                     how=how, proposal_id=proposal_id)
    # A refused step-up leaves the account open at its tier (lapsed if its box has ended).
    case.status = lifecycle.resting_status(case) if case.account_tier else "declined"
    case.version += 1
    audit.record(db, actor, "case.decide", object_type="bank_case", object_id=case.id,
                 org_id=case.org_id, outcome=outcome, tier=tier, how=how,
                 review=case.review_kind or "onboarding")
    lifecycle.touch(db, actor, case, event, policy)
