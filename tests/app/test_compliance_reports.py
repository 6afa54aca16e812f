"""Issue 6, reports: the dashboard's figures, the CSV export (no personal data, no formula
injection) and the SAR narrative draft (reporting officers only, step-up, audited), each
scoped to the caller's bank (SECURITY.md 8-11; DOMAIN.md §6-7)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.app.intake_helpers import step_up
from tests.conftest import CANARY_DOB, CANARY_NAME, CANARY_NOTE

SAR_TERM = "HUMAN TRAFFICKING FIN-2020-A008"


def insert_case(app: Any, org_id: uuid.UUID, created_by: uuid.UUID, *, hours_ago: float,
                outcome: str, tier: str, decision: dict[str, Any] | None = None,
                decided_hours_ago: float | None = None, policy_id: str = "default",
                counter_checks: dict[str, Any] | None = None,
                reasons: tuple[str, ...] = ()) -> uuid.UUID:
    """A case with canary claims (encrypted, as the counter stores them) and a minimised
    engine input that still holds the year of birth."""
    from onboarding.clock import now
    from onboarding.models import BankCase, Verification
    from onboarding.privacy import FieldCipher

    keystore = app.extensions["onboarding.keystore"]
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        at = now() - timedelta(hours=hours_ago)
        v = Verification(id=uuid.uuid4(), org_id=org_id, user_id=created_by, at=at,
                         result="valid", channel="paste")
        db.add(v)
        db.flush()
        cid = uuid.uuid4()
        claims = {"claims": {"names": [CANARY_NAME], "date_of_birth": CANARY_DOB,
                             "notes": CANARY_NOTE}, "issuer": {"id": "ngo-1"}}
        case = BankCase(
            id=cid, org_id=org_id, verification_id=v.id, created_by=created_by, created_at=at,
            status="approved" if decision else "referred", product="basic_account",
            counter_checks=counter_checks or {"third_party": [], "caseworker_present": False,
                                              "conflicts": []},
            claims_enc=FieldCipher(cid, keystore.create(cid)).seal("case_claims", claims),
            applicant_key="", version=1,
            recommendation={"outcome": outcome, "tier": tier, "reason_codes": list(reasons),
                            "reasons": [{"code": r} for r in reasons],
                            "policy": {"id": policy_id, "version": 1, "hash": "sha256:ab"},
                            "trace": [{"rule": "x", "inputs": {"names": [CANARY_NAME]}}]},
            engine_input={"case_id": str(cid), "attestation": {"claims": {
                "date_of_birth": CANARY_DOB[:4]}}},
            decision=decision,
            decided_at=now() - timedelta(hours=decided_hours_ago)
            if decided_hours_ago is not None else None)
        db.add(case)
    return cid


def recommend_audit(app: Any, org_id: uuid.UUID, case_id: uuid.UUID, tier: str) -> None:
    from onboarding import audit
    from onboarding.audit import Actor

    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        audit.record(db, Actor(), "case.recommend", object_type="bank_case", object_id=case_id,
                     org_id=org_id, outcome="approve", tier=tier)


def add_hits(app: Any, org_id: uuid.UUID, case_id: uuid.UUID, uploaded_by: uuid.UUID,
             dispositions: list[str]) -> None:
    from onboarding.models import ScreeningHit, ScreeningList

    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        lst = ScreeningList(id=uuid.uuid4(), org_id=org_id, name="internal", version=1,
                            fmt="simple", content=b"", entries=0, uploaded_by=uploaded_by)
        db.add(lst)
        db.flush()
        for i, d in enumerate(dispositions):
            db.add(ScreeningHit(id=uuid.uuid4(), org_id=org_id, case_id=case_id,
                                list_id=lst.id, entity_id=f"E{i}", entity_name="List Entity",
                                score=90, matched={}, disposition=d))


def decision(by: uuid.UUID, how: str, tier: str, outcome: str = "approve",
             proposal: uuid.UUID | None = None) -> dict[str, Any]:
    return {"outcome": outcome, "tier": tier, "how": how, "by": str(by),
            "proposal": str(proposal) if proposal else None,
            "policy": {"id": "default", "version": 1, "hash": "sha256:ab"}}


def add_proposal(app: Any, org_id: uuid.UUID, case_id: uuid.UUID, proposal_id: uuid.UUID,
                 maker: uuid.UUID, checker: uuid.UUID) -> None:
    from onboarding.clock import now
    from onboarding.models import Proposal

    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        db.add(Proposal(id=proposal_id, org_id=org_id, object_type="bank_case",
                        object_id=case_id, object_version=1, action="override",
                        payload={"outcome": "approve", "tier": "T1"},
                        reason_code="screening_cleared", proposed_by=maker, proposed_at=now(),
                        status="approved", decided_by=checker, decided_at=now()))


@pytest.fixture
def portfolio(app, orgs, make_staff):
    """Four cases at the bank, one at bank two (reviewed by someone who must stay unnamed)."""
    from onboarding.models import User

    officer = make_staff("compliance_officer")
    maker = make_staff("compliance_officer")
    foreign = make_staff("compliance_officer", org="bank2")
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        db.get(User, officer.id).display_name = "Olive Officer"
        db.get(User, maker.id).display_name = "Mara Maker"
        db.get(User, foreign.id).display_name = "Foreign Reviewer Canary"
    bank = orgs["bank"]
    proposal = uuid.uuid4()
    c1 = insert_case(app, bank, officer.id, hours_ago=10, outcome="refer", tier="T0",
                     decision=decision(officer.id, "override", "T1", proposal=proposal),
                     decided_hours_ago=0,
                     counter_checks={"third_party": ["someone_speaks"],
                                     "caseworker_present": True, "conflicts": ["dob_mismatch"]},
                     reasons=("COERCION_INDICATORS", "POSSIBLE_SANCTIONS_MATCH"))
    c2 = insert_case(app, bank, officer.id, hours_ago=30, outcome="approve", tier="T1",
                     decision=decision(officer.id, "approve", "T1"), decided_hours_ago=10)
    # decided by someone who is not (or no longer) on this bank's staff
    c3 = insert_case(app, bank, officer.id, hours_ago=5, outcome="approve", tier="T2",
                     decision=decision(foreign.id, "override", "T2"), decided_hours_ago=4,
                     policy_id="=HYPERLINK(\"http://x\")")
    c4 = insert_case(app, bank, officer.id, hours_ago=2, outcome="hold", tier="T0")
    for cid, tier in ((c1, "T0"), (c2, "T1"), (c3, "T1"), (c3, "T2")):
        recommend_audit(app, bank, cid, tier)  # c3: first T1, later T2
    add_proposal(app, bank, c1, proposal, maker=maker.id, checker=officer.id)
    step_ups(app, bank, upgraded=c2, pending=c3)
    add_hits(app, bank, c1, officer.id, ["no_hit", "no_hit", "no_hit", "confirmed", "open"])
    other = insert_case(app, orgs["bank2"], foreign.id, hours_ago=3, outcome="decline",
                        tier="T0", decision=decision(foreign.id, "decline", "T0", "decline"),
                        decided_hours_ago=1)
    return {"cases": [c1, c2, c3, c4], "other": other, "officer": officer}


def step_ups(app: Any, org_id: uuid.UUID, *, upgraded: uuid.UUID, pending: uuid.UUID) -> None:
    """Two step-up reviews: one upgraded to T2 (in the account's history), one still open."""
    from onboarding import audit
    from onboarding.audit import Actor
    from onboarding.clock import now
    from onboarding.models import BankCase

    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        for cid in (upgraded, pending):
            audit.record(db, Actor(), "case.step_up.start", object_type="bank_case",
                         object_id=cid, org_id=org_id)
        row = db.get(BankCase, upgraded)
        row.account_tier, row.account_opened_on = "T2", now().date()
        row.history = [{"kind": "onboarding", "outcome": "approve", "tier": "T1",
                        "at": now().isoformat()},
                       {"kind": "step_up", "outcome": "approve", "tier": "T2",
                        "at": now().isoformat()}]


def text_of(html: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert m, element_id
    return " ".join(m.group(1).split())


# ----------------------------------------------------------------------- dashboard
def test_dashboard_figures(portfolio, signed_in):
    c, _ = signed_in("compliance_officer")
    r = c.get("/compliance/reports/")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert text_of(page, "m-opened") == "4" and text_of(page, "m-decided") == "3"
    # hours to decision 10, 20 and 1: median 10, p90 (nearest rank) 20
    assert text_of(page, "m-ttd") == "median 10.0 h · p90 20.0 h"
    assert text_of(page, "m-fp") == "75 %"  # 3 cleared of 4 reviewed; the open one is not
    assert (text_of(page, "hits-no-hit"), text_of(page, "hits-confirmed"),
            text_of(page, "hits-open")) == ("3", "1", "1")
    # T0→T1 and T1→T2 (the first recommendation counts, not the latest): 2 of 3
    assert text_of(page, "m-above-first") == "67 % (2/3)"
    # two step-up reviews opened, one upgraded
    assert text_of(page, "m-stepup") == "50 % (1/2)"
    reviewers = page.split('id="reviewers"')[1].split("</table>")[0]
    assert re.search(r"Olive Officer</th><td>2</td><td>1</td><td>50 %", reviewers)
    assert re.search(r"Other or former reviewers</th><td>1</td><td>1</td><td>100 %", reviewers)
    assert "Foreign Reviewer Canary" not in page
    # recent decisions: both officers of the four-eyes decision and the policy version
    recent = page.split('id="recent-decisions"')[1].split("</table>")[0]
    c1 = str(portfolio["cases"][0])
    row = next(r for r in recent.split("<tr>") if c1[:8] in r)
    assert "Mara Maker" in row and "Olive Officer" in row and "default@1" in row
    assert f"/compliance/cases/{c1}" in row  # compliance officers may open the case
    assert page.count("data:image/svg+xml;base64,") == 3
    for canary in (CANARY_NAME, CANARY_DOB, CANARY_NOTE):
        assert canary not in page
    assert 'id="sar-link"' not in page  # the SAR draft is for reporting officers only
    assert c.get("/compliance/reports/?weeks=9999").status_code == 200


def test_dashboard_is_per_bank_and_for_bank_roles_only(portfolio, signed_in):
    other, _ = signed_in("reporting_officer", org="bank2")
    page = other.get("/compliance/reports/").get_data(as_text=True)
    assert text_of(page, "m-opened") == "1" and 'id="sar-link"' in page
    assert "Olive Officer" not in page and "Mara Maker" not in page
    assert "/compliance/cases/" not in page  # no links a reporting officer cannot follow
    admin, _ = signed_in("bank_admin")
    assert admin.get("/compliance/reports/").status_code == 200
    for role in ("verifier", "caseworker", "ngo_admin"):
        c, _ = signed_in(role)
        assert c.get("/compliance/reports/").status_code == 403
        assert c.get("/compliance/reports/cases.csv").status_code == 403


# ----------------------------------------------------------------------------- CSV
def test_csv_export_has_codes_and_dates_but_no_personal_data(portfolio, signed_in):
    c, _ = signed_in("reporting_officer")
    r = c.get("/compliance/reports/cases.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="cases-')
    body = r.get_data(as_text=True)
    for canary in (CANARY_NAME, CANARY_DOB, CANARY_NOTE, "Olive Officer", "1911"):
        assert canary not in body
    rows = list(csv.DictReader(io.StringIO(body)))
    assert list(rows[0]) == ["case_id", "created_at", "status", "recommended_outcome",
                             "recommended_tier", "decided_outcome", "decided_tier",
                             "decided_how", "decided_at", "policy_id", "policy_version"]
    assert {row["case_id"] for row in rows} == {str(x) for x in portfolio["cases"]}
    c1 = next(row for row in rows if row["case_id"] == str(portfolio["cases"][0]))
    assert (c1["recommended_outcome"], c1["recommended_tier"], c1["decided_tier"],
            c1["decided_how"], c1["policy_id"], c1["policy_version"]) == (
        "refer", "T0", "T1", "override", "default", "1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", c1["decided_at"])
    # a cell a spreadsheet would run as a formula is defused
    c3 = next(row for row in rows if row["case_id"] == str(portfolio["cases"][2]))
    assert c3["policy_id"].startswith("'=HYPERLINK")
    # the other bank sees only its own case
    other, _ = signed_in("compliance_officer", org="bank2")
    theirs = other.get("/compliance/reports/cases.csv").get_data(as_text=True)
    assert str(portfolio["other"]) in theirs
    assert not any(str(x) in theirs for x in portfolio["cases"])


# ----------------------------------------------------------------------------- SAR
def test_sar_narrative_for_the_reporting_officer(portfolio, signed_in, app):
    from onboarding.models import AuditEntry

    c, who = signed_in("reporting_officer")
    c1 = portfolio["cases"][0]
    page = c.get(f"/compliance/reports/sar?case_id={c1}").get_data(as_text=True)
    assert f'value="{c1}"' in page and 'name="back"' in page
    # exporting needs a fresh step-up
    c.clock.advance(minutes=10)
    r = c.post("/compliance/reports/sar", {"case_id": str(c1), "back": "/compliance/reports/sar"})
    assert r.status_code == 303 and r.headers["Location"].startswith("/account/confirm")
    step_up(c, who)
    r = c.post("/compliance/reports/sar", {"case_id": str(c1), "back": "/compliance/reports/sar"})
    assert r.status_code == 200 and r.mimetype == "text/plain"
    assert r.headers["Content-Disposition"] == \
        f'attachment; filename="sar-draft-{str(c1)[:8]}.txt"'
    text = r.get_data(as_text=True)
    assert f"SAR field 2, Filing Institution Note to FinCEN, and the narrative's first line): " \
        f"{SAR_TERM}" in text
    assert "check SAR field 38(h) (human trafficking)" in text
    assert f"Case reference: {c1}" in text
    assert re.search(r"Case opened: \d{4}-\d\d-\d\dT", text)
    assert "Bank decision: approve at tier T1, overridden under four-eyes" in text
    assert "COERCION_INDICATORS" in text and "POSSIBLE_SANCTIONS_MATCH" in text
    assert "someone_speaks" in text and "dob_mismatch" in text
    assert "Registered caseworker present: yes" in text
    for leak in (CANARY_NAME, CANARY_DOB, CANARY_NOTE, "1911", "Olive Officer", "trace"):
        assert leak not in text
    with app.extensions["onboarding.sessionmaker"]() as db:
        entries = db.execute(select(AuditEntry.actor_id).where(
            AuditEntry.action == "report.sar_export",
            AuditEntry.object_id == str(c1))).scalars().all()
    assert entries == [who.id]
    # another bank's case, an unknown or malformed one: the same 404 (existence unconfirmed)
    for bad in (str(portfolio["other"]), str(uuid.uuid4()), "not-a-case"):
        r = c.post("/compliance/reports/sar", {"case_id": bad, "back": "/compliance/reports/sar"})
        assert r.status_code == 404 and r.mimetype == "text/html"
        assert "There is no case with this reference at your bank" in r.get_data(as_text=True)
        assert "Case reference: " not in r.get_data(as_text=True)


@pytest.mark.parametrize("role", ["verifier", "compliance_officer", "bank_admin", "caseworker",
                                  "ngo_admin"])
def test_sar_is_forbidden_to_everyone_but_reporting_officers(role, portfolio, signed_in):
    c, who = signed_in(role)
    step_up(c, who)
    assert c.get("/compliance/reports/sar").status_code == 403
    r = c.post("/compliance/reports/sar", {"case_id": str(portfolio["cases"][0]),
                                           "back": "/compliance/reports/sar"})
    assert r.status_code == 403 and SAR_TERM not in r.get_data(as_text=True)
