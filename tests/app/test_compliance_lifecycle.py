"""Issue 6, lifecycle: the open account's validity countdown and renewal, step-up with new
evidence (four-eyes), monitoring alerts from transaction summaries (API and CSV), the
decision API and signed webhooks — each with tenant isolation."""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.app.intake_helpers import enrol, issue, step_up
from tests.app.test_bank import api_key as _api_key_fixture
from tests.app.test_bank import publish_all
from tests.app.test_bank import world as _world_fixture
from tests.app.test_compliance_cases import open_case
from tests.conftest import CANARY_NAME, csrf_from

world = _world_fixture
api_key = _api_key_fixture

CLEAN_LIST = "name,aliases,date_of_birth,nationality\nUnrelated Person,,1970,FRA\n"
QUIET = {"inflow": 900, "outflow": 700, "cash_in": 100, "cash_out": 50, "max_balance": 800,
         "max_single_transfer": 200, "cash_deposit_locations": 1, "regions": 1,
         "baseline_regions": 1}
FUNNEL = {"inflow": 1400, "outflow": 1380, "cash_in": 1300, "cash_out": 900,
          "max_balance": 600, "cash_deposit_locations": 6, "regions": 1, "baseline_regions": 1}


def period(app: Any, case_id: str, first_day: int = 0, days: int = 1) -> dict[str, str]:
    """A period counted from the day the account opened (a summary may not start before the
    opening month, end in the future, or last more than a month)."""
    opened = case_row(app, case_id).account_opened_on
    start = opened + timedelta(days=first_day)
    return {"period_start": start.isoformat(),
            "period_end": (start + timedelta(days=days - 1)).isoformat()}


def clean_list(signed_in: Any, org: str = "bank") -> Any:
    admin, _ = signed_in("bank_admin", org=org)
    page = admin.get("/compliance/screening-lists").get_data(as_text=True)
    r = admin.post("/compliance/screening-lists", {
        "name": "sanctions", "fmt": "simple",
        "file": (io.BytesIO(CLEAN_LIST.encode()), "l.csv"), "csrf_token": csrf_from(page)},
        content_type="multipart/form-data")
    assert r.status_code == 303
    return admin


def case_row(app: Any, case_id: str) -> Any:
    from onboarding.models import BankCase

    with app.extensions["onboarding.sessionmaker"]() as db:
        row = db.get(BankCase, uuid.UUID(case_id))
        db.expunge(row)
        return row


def page_of(c: Any, case_id: str) -> str:
    r = c.get(f"/compliance/cases/{case_id}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def approve_recommended(officer: Any, case_id: str) -> None:
    page = page_of(officer, case_id)
    assert 'id="approve"' in page, re.search(r'id="recommendation">(.*?)</section>', page,
                                             re.S).group(1)
    r = officer.post(f"/compliance/cases/{case_id}/approve", {"csrf_token": csrf_from(page)})
    assert r.status_code == 303


def propose_and_approve(a: Any, b: Any, case_id: str, *, outcome: str = "approve",
                        tier: str = "T1", reason: str = "additional_evidence") -> None:
    page = page_of(a, case_id)
    r = a.post(f"/compliance/cases/{case_id}/propose", {
        "outcome": outcome, "tier": tier, "reason_code": reason,
        "reason_text": "Reviewed the new evidence.", "csrf_token": csrf_from(page)})
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    page = page_of(a, case_id)
    decide = re.search(r'action="(/compliance/proposals/[^"]+)"', page).group(1)
    assert a.post(decide, {"decision": "approve", "csrf_token": csrf_from(page)}
                  ).status_code == 409  # never the maker
    r = b.post(decide, {"decision": "approve", "csrf_token": b.token("/home")})
    assert r.status_code == 303


@pytest.fixture
def t1_world(app: Any, signed_in: Any, world: Any) -> dict[str, Any]:
    """A second person enrolled with a referee interview only (below IAL1): a T1 case."""
    from tests.app.test_intake import qr_of

    cw, who = world["cw"], world["cw_who"]
    pid = enrol(cw, evidence=[("referee_interview", "visual_only", "validated")])
    r = issue(cw, who, pid)
    att = uuid.UUID(re.search(r"attestations/([0-9a-f-]{36})", r.headers["Location"]).group(1))
    publish_all(app)
    clean_list(signed_in)
    teller, _ = signed_in("verifier")
    case_id = open_case(teller, qr_of(app, att))
    a, who_a = signed_in("compliance_officer")
    b, who_b = signed_in("compliance_officer")
    approve_recommended(a, case_id)
    row = case_row(app, case_id)
    assert row.account_tier == "T1" and row.status == "approved"
    return {**world, "case": case_id, "pid": pid, "att": att, "a": a, "b": b,
            "who_a": who_a, "who_b": who_b, "teller": teller}


def later(clock: Any, w: dict[str, Any], **delta: float) -> None:
    """Move the clock (months pass); the officers sign in again (sessions expire)."""
    clock.advance(**delta)
    w["a"].login(w["who_a"])
    w["b"].login(w["who_b"])


# ---------------------------------------------------------------- the account
def test_approval_opens_a_time_boxed_account_with_countdown(t1_world: Any, app: Any) -> None:
    row = case_row(app, t1_world["case"])
    assert row.account_opened_on is not None
    days = (row.valid_until - row.account_opened_on).days
    assert 360 <= days <= 366  # T1: 12 months (default policy)
    page = page_of(t1_world["a"], t1_world["case"])
    assert 'id="countdown"' in page and "days of validity left" in page
    account = re.search(r'<section class="card" id="account">(.*?)</section>', page, re.S)
    terms = account.group(1)
    assert "domestic_account" in terms and re.search(r"balance_max \d+", terms), terms
    assert row.history[-1]["kind"] == "onboarding" and row.history[-1]["tier"] == "T1"


def test_expiring_queue_and_renewal_once_with_id_application(t1_world: Any, app: Any,
                                                             clock: Any) -> None:
    a, case_id = t1_world["a"], t1_world["case"]
    before = case_row(app, case_id).valid_until
    assert case_id[:8] not in a.get("/compliance/?q=expiring").get_data(as_text=True)
    # A renewal review opens only near the end of the time box.
    page = page_of(a, case_id)
    assert a.post(f"/compliance/cases/{case_id}/renewal", {"id_application_confirmed": "y",
                                                           "csrf_token": csrf_from(page)}
                  ).status_code == 409
    later(clock, t1_world, days=340)  # 20-odd days left: inside the 30-day review window
    queue = a.get("/compliance/?q=expiring").get_data(as_text=True)
    assert case_id[:8] in queue and "days left" in queue
    page = page_of(a, case_id)
    # Without a confirmed ID application, the policy does not allow renewing a T1 account.
    a.post(f"/compliance/cases/{case_id}/renewal", {"csrf_token": csrf_from(page)})
    page = page_of(a, case_id)
    decide = re.search(r'<h2>Decide</h2>(.*?)<h2>', page, re.S).group(1)
    assert 'id="not-renewable"' in page and 'id="renew"' not in page, decide
    assert "T1_VALIDITY_ENDING" in str(case_row(app, case_id).recommendation["reason_codes"])
    assert a.post(f"/compliance/cases/{case_id}/renew", {"csrf_token": csrf_from(page)}
                  ).status_code == 409
    # Close the review, then start again with the ID application confirmed: now one officer
    # may renew, once.
    r = a.post(f"/compliance/cases/{case_id}/keep", {"reason": "renewal_not_needed",
                                                      "csrf_token": csrf_from(page)})
    assert r.status_code == 303 and case_row(app, case_id).status == "approved"
    a.post(f"/compliance/cases/{case_id}/renewal", {"id_application_confirmed": "y",
                                                    "csrf_token": csrf_from(page)})
    page = page_of(a, case_id)
    assert 'id="renew"' in page
    assert a.post(f"/compliance/cases/{case_id}/renew", {"csrf_token": csrf_from(page)}
                  ).status_code == 303
    row = case_row(app, case_id)
    assert row.renewals_used == 1 and row.status == "approved"
    assert 360 <= (row.valid_until - before).days <= 366  # extended from the end of the box
    assert row.history[-1]["kind"] == "renewal"
    # A second renewal is not allowed by the default policy (max_renewals: 1).
    later(clock, t1_world, days=365)
    page = page_of(a, case_id)
    r = a.post(f"/compliance/cases/{case_id}/renewal", {"id_application_confirmed": "y",
                                                        "csrf_token": csrf_from(page)})
    assert r.status_code == 303
    page = page_of(a, case_id)
    assert 'id="not-renewable"' in page


def test_validity_end_is_announced_once(t1_world: Any, app: Any, clock: Any) -> None:
    from onboarding.audit import Actor
    from onboarding.compliance import lifecycle

    later(clock, t1_world, days=400)
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        first = lifecycle.end_validity(db, Actor(), clock.at.date())
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        second = lifecycle.end_validity(db, Actor(), clock.at.date())
    assert first == {"lapsed": 1} and second == {"lapsed": 0}
    assert case_row(app, t1_world["case"]).status == "lapsed"
    page = page_of(t1_world["a"], t1_world["case"])
    assert "Validity ended" in page


# -------------------------------------------------------------------- step-up
def add_evidence_and_reissue(app: Any, w: dict[str, Any]) -> str:
    """The NGO adds a validated FAIR document and reissues: the survivor's new card."""
    from tests.app.test_intake import qr_of

    cw, who = w["cw"], w["cw_who"]
    r = cw.post(f"/intake/{w['pid']}/evidence", {
        "kind": "gov_status_letter", "validation": "authoritative_source",
        "result": "validated", "details": "letter", "csrf_token": cw.token("/home")})
    assert r.status_code == 303, r.get_data(as_text=True)[:1500]
    step_up(cw, who)
    r = cw.post(f"/intake/attestations/{w['att']}/reissue",
                {"reason": "new_evidence", "csrf_token": cw.token("/home")})
    assert r.status_code == 303, r.get_data(as_text=True)[:1500]
    new = uuid.UUID(re.search(r"attestations/([0-9a-f-]{36})", r.headers["Location"]).group(1))
    publish_all(app)
    return qr_of(app, new)


def test_step_up_t1_to_t2_with_new_attestation_under_four_eyes(t1_world: Any,
                                                              app: Any) -> None:
    a, b, case_id = t1_world["a"], t1_world["b"], t1_world["case"]
    new_qr = add_evidence_and_reissue(app, t1_world)
    page = page_of(a, case_id)
    r = a.post(f"/compliance/cases/{case_id}/step-up", {
        "qr": new_qr, "standard_cdd": "not_done", "csrf_token": csrf_from(page)})
    assert r.status_code == 303, r.get_data(as_text=True)[:1500]
    row = case_row(app, case_id)
    assert row.review_kind == "step_up" and row.status == "referred"
    assert row.pending_claims_enc is not None and row.account_tier == "T1"
    rec = row.recommendation
    assert "STEP_UP_REVIEW" in rec["reason_codes"], rec["reason_codes"]
    assert rec["provisional_tier"] == "T2", (row.engine_input["attestation"]["claims"],
                                             rec["why_not_next_tier"]["missing"][0])
    page = page_of(a, case_id)
    assert 'id="review-kind"' in page and "Step-up" in page
    assert case_id[:8] in a.get("/compliance/?q=referred&kind=step_up").get_data(as_text=True)
    propose_and_approve(a, b, case_id, tier="T2")
    row = case_row(app, case_id)
    assert row.account_tier == "T2" and row.status == "approved"
    assert row.pending_claims_enc is None
    assert 720 <= (row.valid_until - row.account_opened_on).days <= 732  # T2: 24 months
    assert row.history[-1]["kind"] == "step_up" and row.history[-1]["tier"] == "T2"
    with app.extensions["onboarding.engine"].connect() as conn:
        actions = [r[0] for r in conn.execute(text(
            "SELECT action FROM audit_entry WHERE object_id = :c ORDER BY seq"),
            {"c": case_id})]
    assert "case.step_up.start" in actions and "foureyes.approve" in actions


def test_step_up_refuses_a_card_that_does_not_verify_and_keeps_input(t1_world: Any,
                                                                     app: Any) -> None:
    a, case_id = t1_world["a"], t1_world["case"]
    page = page_of(a, case_id)
    r = a.post(f"/compliance/cases/{case_id}/step-up", {
        "qr": "ID1:NOTACARD", "standard_cdd": "passed", "csrf_token": csrf_from(page)})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "does not verify" in body and "ID1:NOTACARD" in body
    row = case_row(app, case_id)
    assert row.review_kind == "onboarding" and row.status == "approved"
    # no evidence at all
    r = a.post(f"/compliance/cases/{case_id}/step-up", {
        "qr": "", "standard_cdd": "not_done", "csrf_token": csrf_from(page)})
    assert "Give new evidence" in r.get_data(as_text=True)


def test_step_up_from_another_person_is_a_conflict(t1_world: Any, app: Any) -> None:
    """A card for someone else cannot silently replace the account holder's evidence."""
    from tests.app.test_intake import qr_of

    cw, who = t1_world["cw"], t1_world["cw_who"]
    other = enrol(cw, names="Completely Different", dob=(1980, 1, 2))
    r = issue(cw, who, other)
    att = uuid.UUID(re.search(r"attestations/([0-9a-f-]{36})", r.headers["Location"]).group(1))
    publish_all(app)
    a, case_id = t1_world["a"], t1_world["case"]
    page = page_of(a, case_id)
    a.post(f"/compliance/cases/{case_id}/step-up", {
        "qr": qr_of(app, att), "standard_cdd": "not_done", "csrf_token": csrf_from(page)})
    row = case_row(app, case_id)
    assert {"name_mismatch", "dob_mismatch"} <= set(row.counter_checks["conflicts"])
    assert "ATTRIBUTE_CONFLICT" in " ".join(row.recommendation["reason_codes"])
    # The officers close the review keeping the account as it is.
    page = page_of(a, case_id)
    assert a.post(f"/compliance/cases/{case_id}/keep", {"csrf_token": csrf_from(page)}
                  ).status_code == 409  # a reason code is required
    assert a.post(f"/compliance/cases/{case_id}/keep", {"reason": "not_same_person",
                                                        "csrf_token": csrf_from(page)}
                  ).status_code == 303
    row = case_row(app, case_id)
    assert row.status == "approved" and row.account_tier == "T1"
    assert row.pending_claims_enc is None


def test_step_up_to_t3_on_the_banks_own_cdd(t1_world: Any, app: Any) -> None:
    a, b, case_id = t1_world["a"], t1_world["b"], t1_world["case"]
    page = page_of(a, case_id)
    a.post(f"/compliance/cases/{case_id}/step-up", {"standard_cdd": "passed",
                                                     "csrf_token": csrf_from(page)})
    row = case_row(app, case_id)
    assert row.recommendation["provisional_tier"] == "T3"
    propose_and_approve(a, b, case_id, tier="T3")
    row = case_row(app, case_id)
    assert row.account_tier == "T3" and row.valid_until is None


# ----------------------------------------------------------------- monitoring
def test_monitoring_via_api_raises_alert_and_review(t1_world: Any, api_key: Any,
                                                    app: Any, clock: Any) -> None:
    _admin, key = api_key
    later(clock, t1_world, days=65)
    client = app.test_client()
    h = {"Authorization": f"Bearer {key}"}
    case_id = t1_world["case"]
    url = f"/api/v1/cases/{case_id}/transaction-summaries"
    first, second = period(app, case_id, 0, 30), period(app, case_id, 30, 30)
    quiet = client.post(url, json={**QUIET, **first}, headers=h, base_url="https://localhost")
    assert quiet.status_code == 201 and quiet.json["alerts"] == []
    again = client.post(url, json={**QUIET, **first}, headers=h, base_url="https://localhost")
    assert again.status_code == 409
    assert again.headers["Content-Type"].startswith("application/problem+json")
    for bad_period, why in ((period(app, case_id, -80, 10), "before the account"),
                            (period(app, case_id, 60, 20), "not ended"),
                            (period(app, case_id, 0, 60), "at most 31 days"),
                            (period(app, case_id, 20, 15), "already covers")):
        r = client.post(url, json={**QUIET, **bad_period}, headers=h,
                        base_url="https://localhost")
        assert r.status_code == 409 and why in r.json["detail"], (bad_period, r.json)
    bad = client.post(url, json={**FUNNEL, **second, "inflow": -3}, headers=h,
                      base_url="https://localhost")
    assert bad.status_code == 422 and bad.json["pointer"] == "$.inflow"
    twice = client.post(url, data=b'{"period_start": "2026-01-01", "period_start": "x"}',
                        headers={**h, "Content-Type": "application/json"},
                        base_url="https://localhost")
    assert twice.status_code == 422 and "twice" in twice.json["detail"]
    funnel = client.post(url, json={**FUNNEL, **second}, headers=h,
                         base_url="https://localhost")
    assert funnel.status_code == 201 and funnel.json["alerts"]
    # Core banking learns that alerts exist and which block; never the typology.
    assert "funnel" not in funnel.get_data(as_text=True).lower()
    a = t1_world["a"]
    queue = a.get("/compliance/?q=alerts").get_data(as_text=True)
    assert case_id[:8] in queue and "MONITORING_FUNNEL_ACCOUNT" in queue
    # the queue's filters apply to the cases with alerts too
    assert case_id[:8] in a.get("/compliance/?q=alerts&tier=T1").get_data(as_text=True)
    assert case_id[:8] not in a.get("/compliance/?q=alerts&tier=T2").get_data(as_text=True)
    assert case_id[:8] not in a.get("/compliance/?q=alerts&mine=1").get_data(as_text=True)
    page = page_of(a, case_id)
    assert "funnel-account pattern" in page
    # Amounts are sealed under the case key: not in the database in clear.
    with app.extensions["onboarding.engine"].connect() as conn:
        dump = repr(conn.execute(text("SELECT * FROM transaction_summary")).all()) + repr(
            conn.execute(text("SELECT * FROM monitoring_alert")).all())
    assert "1380" not in dump and "funnel-account" not in dump
    # Escalate: the account goes under review; a limit breach keeps blocking meanwhile.
    doc = client.get(f"/api/v1/cases/{case_id}", headers=h, base_url="https://localhost").json
    blocking = doc["account"]["blocked"]
    alert = re.search(r'action="(/compliance/alerts/[^"]+)"', page).group(1)
    r = a.post(alert, {"action": "escalated", "csrf_token": csrf_from(page)})
    assert r.status_code == 303
    row = case_row(app, case_id)
    assert row.review_kind == "alert" and row.status == "referred"
    doc = client.get(f"/api/v1/cases/{case_id}", headers=h, base_url="https://localhost").json
    assert doc["account"]["blocked"] == blocking and doc["open_alerts"]
    # One officer cannot re-tier in an alert review: approve is refused, changes are proposals.
    page = page_of(a, case_id)
    assert 'id="approve"' not in page
    assert a.post(f"/compliance/cases/{case_id}/approve", {"csrf_token": csrf_from(page)}
                  ).status_code == 409
    propose_and_approve(a, t1_world["b"], case_id, outcome="decline",
                        reason="confirmed_third_party_control")
    row = case_row(app, case_id)
    assert row.account_tier is None and row.status == "declined"
    doc = client.get(f"/api/v1/cases/{case_id}", headers=h, base_url="https://localhost").json
    assert doc["account"] is None and doc["decision"]["outcome"] == "decline"
    assert doc["open_alerts"] == []  # the escalated alert ended with the account review


def test_limit_breach_blocks_until_explained(t1_world: Any, api_key: Any, app: Any,
                                             clock: Any) -> None:
    later(clock, t1_world, days=3)
    client = app.test_client()
    h = {"Authorization": f"Bearer {api_key[1]}"}
    case_id = t1_world["case"]
    r = client.post(f"/api/v1/cases/{case_id}/transaction-summaries",
                    json={**period(app, case_id, 0, 2), "inflow": 50_000, "max_balance": 40_000},
                    headers=h, base_url="https://localhost")
    assert r.status_code == 201 and any(x["blocks"] for x in r.json["alerts"])
    doc = client.get(f"/api/v1/cases/{case_id}", headers=h, base_url="https://localhost").json
    assert doc["account"]["blocked"] is True
    page = page_of(t1_world["a"], case_id)
    for action in re.findall(r'action="(/compliance/alerts/[^"]+)"', page):
        r = t1_world["a"].post(action, {"action": "explained", "csrf_token": csrf_from(page)})
        assert r.status_code == 303
    doc = client.get(f"/api/v1/cases/{case_id}", headers=h, base_url="https://localhost").json
    assert doc["account"]["blocked"] is False and doc["open_alerts"] == []


def test_monitoring_csv_is_all_or_nothing(t1_world: Any, signed_in: Any, app: Any) -> None:
    admin, _ = signed_in("bank_admin")
    case_id = t1_world["case"]
    p = period(app, case_id)
    header = "account,period_start,period_end,inflow,outflow,cash_in,cash_out," \
             "cash_deposit_locations\n"
    good = f"{case_id},{p['period_start']},{p['period_end']},1400,1380,1300,900,6\n"
    bad = (f"{case_id},2026-08-01,2026-07-30,10,0,0,0,0\n"
           "nobody,2026-08-01,2026-08-31,1,1,0,0,0\n"
           f"{case_id},{p['period_start']},{p['period_end']},1,1,0,0,0,99\n")
    page = admin.get("/compliance/transactions").get_data(as_text=True)
    r = admin.post("/compliance/transactions", {
        "file": (io.BytesIO((header + good + bad).encode()), "t.csv"),
        "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Nothing was stored" in body
    assert "Line 3: period_end" in body and "Line 4: no account nobody" in body
    assert "Line 5: more or fewer fields" in body
    with app.extensions["onboarding.engine"].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM transaction_summary")).scalar() == 0
    twice = "account,period_start,period_end,inflow,inflow\n"
    r = admin.post("/compliance/transactions", {
        "file": (io.BytesIO(twice.encode()), "t.csv"), "csrf_token": csrf_from(page)},
        content_type="multipart/form-data")
    assert "named twice" in r.get_data(as_text=True)
    r = admin.post("/compliance/transactions", {
        "file": (io.BytesIO((header + good).encode()), "t.csv"),
        "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    body = r.get_data(as_text=True)
    assert 'id="upload-result"' in body and "1 periods received" in body
    assert "1 alerts" in body or "2 alerts" in body
    with app.extensions["onboarding.engine"].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM monitoring_alert")).scalar() >= 1
    page = page_of(t1_world["a"], case_id)
    explained = re.search(r'action="(/compliance/alerts/[^"]+)"', page).group(1)
    r = t1_world["a"].post(explained, {"action": "explained", "csrf_token": csrf_from(page)})
    assert r.status_code == 303
    assert case_row(app, case_id).status == "approved"  # explained: no review opened


# ------------------------------------------------------- decision API + webhook
class Receiver:
    """A real HTTP endpoint on loopback that records what it receives."""

    def __init__(self, status: int = 204) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/onboarding"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.close()


def set_webhook(app: Any, signed_in: Any, url: str, org: str = "bank"
                ) -> tuple[Any, str, Any]:
    admin, who = signed_in("bank_admin", org=org)
    page = admin.get("/bank/webhook").get_data(as_text=True)
    assert 'id="webhook-confirm"' in page  # a sensitive change: step-up first
    step_up(admin, who)
    page = admin.get("/bank/webhook").get_data(as_text=True)
    r = admin.post("/bank/webhook", {"url": url, "back": "/bank/webhook",
                                     "csrf_token": csrf_from(page)})
    body = r.get_data(as_text=True)
    assert r.status_code == 200, body[:2000]
    return admin, re.search(r'id="webhook-secret">([^<]+)<', body).group(1), who


def test_webhook_url_must_be_safe(app: Any, signed_in: Any) -> None:
    admin, who = signed_in("bank_admin")
    step_up(admin, who)
    page = admin.get("/bank/webhook").get_data(as_text=True)
    for url, msg in (("ftp://example.org/x", "Use an https"),
                     ("http://127.0.0.1:9/x", "plain http is refused"),
                     ("https://169.254.169.254/latest", "not allowed"),
                     ("https://user:pw@example.org/", "credentials"),
                     ("https://example.org:99999/", "port")):
        r = admin.post("/bank/webhook", {"url": url, "back": "/bank/webhook",
                                         "csrf_token": csrf_from(page)})
        body = r.get_data(as_text=True)
        assert r.status_code == 422 and msg in body, (url, body[:300])
        assert url.replace("&", "&amp;") in body  # what was typed is kept
    from onboarding import webhooks

    with pytest.raises(webhooks.WebhookUrlError, match="Private, loopback"):
        webhooks.check_url("https://127.0.0.1/x", allow_http=False, allow_private=False)


def test_decisions_reach_core_banking_signed_and_by_polling(
        world: Any, signed_in: Any, app: Any, api_key: Any, receiver: Receiver) -> None:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    app.config.update(WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOW_PRIVATE=True)
    _admin, secret, _who = set_webhook(app, signed_in, receiver.url)
    clean_list(signed_in)
    teller, _ = signed_in("verifier")
    case_id = open_case(teller, world["qr"])
    a, _a = signed_in("compliance_officer")
    approve_recommended(a, case_id)
    r = app.test_cli_runner().invoke(args=["jobs", "run", "--only", "webhooks.deliver",
                                           "--force"])
    assert r.exit_code == 0, r.output
    assert receiver.got, r.output
    headers, body = receiver.got[-1]
    event = Webhook(secret).verify(body, headers)
    assert event["type"] == "case.approved"
    data = event["data"]
    assert data["case_id"] == case_id and data["account"]["tier"] in ("T1", "T2")
    assert data["account"]["limits"]["currency"] and data["account"]["valid_until"]
    assert data["decision"]["policy"]["version"]
    assert CANARY_NAME not in body.decode() and "1911" not in body.decode()
    forged = {**headers, "webhook-signature": "v1,AAAA" + headers["webhook-signature"][7:]}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, forged)
    # Polling gives the same document, with a cursor.
    client = app.test_client()
    h = {"Authorization": f"Bearer {api_key[1]}"}
    listed = client.get("/api/v1/decisions?after=0", headers=h, base_url="https://localhost")
    assert listed.status_code == 200
    item = next(i for i in listed.json["items"] if i["case_id"] == case_id)
    assert item["account"] == data["account"]
    nothing = client.get(f"/api/v1/decisions?after={listed.json['next']}", headers=h,
                         base_url="https://localhost")
    assert nothing.json["items"] == []
    # The core banking system tells us its account reference.
    r = client.put(f"/api/v1/cases/{case_id}/account-ref", json={"account_ref": "ACC-0001"},
                   headers=h, base_url="https://localhost")
    assert r.status_code == 200 and r.json["account_ref"] == "ACC-0001"
    assert client.put(f"/api/v1/cases/{case_id}/account-ref", json={"account_ref": "bad ref"},
                      headers=h, base_url="https://localhost").status_code == 422
    # The delivery log shows it delivered.
    admin, _ = signed_in("bank_admin")
    log = admin.get("/bank/webhook").get_data(as_text=True)
    assert "case.approved" in log and "delivered" in log


def test_failed_deliveries_retry_with_backoff(app: Any, signed_in: Any, clock: Any) -> None:
    from onboarding import webhooks
    from onboarding.models import WebhookDelivery

    down = Receiver(status=503)
    try:
        app.config.update(WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOW_PRIVATE=True)
        admin, _secret, who = set_webhook(app, signed_in, down.url)
        page = admin.get("/bank/webhook").get_data(as_text=True)
        admin.post("/bank/webhook/test", {"csrf_token": csrf_from(page)})
        assert len(down.got) == 1
        with app.extensions["onboarding.sessionmaker"]() as db:
            row = db.execute(select(WebhookDelivery)).scalar_one()
            assert row.state == "pending" and row.attempts == 1 and row.last_status == 503
        keyring = app.extensions["onboarding.keyring"]
        for _ in range(len(webhooks.BACKOFF) + 2):
            clock.advance(days=2)
            with app.extensions["onboarding.sessionmaker"]() as db:
                webhooks.deliver_due(db, keyring, allow_http=True, allow_private=True)
        with app.extensions["onboarding.sessionmaker"]() as db:
            row = db.execute(select(WebhookDelivery)).scalar_one()
            assert row.state == "failed" and row.attempts == len(webhooks.BACKOFF)
        assert len(down.got) == len(webhooks.BACKOFF)
        admin.login(who)
        page = admin.get("/bank/webhook").get_data(as_text=True)
        retry = re.search(r'action="(/bank/webhook/deliveries/[^"]+/retry)"', page).group(1)
        assert admin.post(retry, {"csrf_token": csrf_from(page)}).status_code == 303
        rival, _r = signed_in("bank_admin", org="bank2")
        assert rival.post(retry, {"csrf_token": rival.token("/home")}).status_code == 404
    finally:
        down.close()


# ----------------------------------------------------------- tenant isolation
def test_other_bank_gets_404_on_every_lifecycle_action(t1_world: Any, signed_in: Any,
                                                       app: Any, api_key: Any) -> None:
    case_id = t1_world["case"]
    client = app.test_client()
    h = {"Authorization": f"Bearer {api_key[1]}"}
    r = client.post(f"/api/v1/cases/{case_id}/transaction-summaries",
                    json={**FUNNEL, **period(app, case_id)}, headers=h,
                    base_url="https://localhost")
    assert r.status_code == 201
    page = page_of(t1_world["a"], case_id)
    alert = re.search(r'action="(/compliance/alerts/[^"]+)"', page).group(1)
    rival, _r = signed_in("compliance_officer", org="bank2")
    tok = rival.token("/home")
    for url, data in ((f"/compliance/cases/{case_id}/step-up", {"standard_cdd": "passed"}),
                      (f"/compliance/cases/{case_id}/renewal", {}),
                      (f"/compliance/cases/{case_id}/renew", {}),
                      (f"/compliance/cases/{case_id}/keep", {}),
                      (alert, {"action": "explained"})):
        assert rival.post(url, {**data, "csrf_token": tok}).status_code == 404, url
    assert case_id[:8] not in rival.get("/compliance/?q=alerts").get_data(as_text=True)
    assert case_id[:8] not in rival.get("/compliance/?q=expiring").get_data(as_text=True)
    # The rival bank's CSV cannot reach this bank's account either.
    rival_admin, rival_who = signed_in("bank_admin", org="bank2")
    page = rival_admin.get("/compliance/transactions").get_data(as_text=True)
    r = rival_admin.post("/compliance/transactions", {
        "file": (io.BytesIO(f"account,period_start,period_end\n{case_id},2026-01-01,"
                            "2026-01-31\n".encode()), "t.csv"),
        "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    assert "no account" in r.get_data(as_text=True)
    # ... nor its API key.
    from onboarding.audit import Actor
    from onboarding.bank import operations as ops
    from onboarding.models import Organisation

    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        org = db.get(Organisation, rival_who.org_id)
        _row, rival_key = ops.create_api_key(db, Actor(rival_who.id, org.id), org, "x",
                                             ["decisions:read", "accounts:write"],
                                             rival_who.id)
    rh = {"Authorization": f"Bearer {rival_key}"}
    for method, url, body in (
            ("GET", f"/api/v1/cases/{case_id}", None),
            ("PUT", f"/api/v1/cases/{case_id}/account-ref", {"account_ref": "X1"}),
            ("POST", f"/api/v1/cases/{case_id}/transaction-summaries",
             {**QUIET, **period(app, case_id)})):
        r = client.open(f"{url}", method=method, json=body, headers=rh,
                        base_url="https://localhost")
        assert r.status_code == 404, url
    listed = client.get("/api/v1/decisions", headers=rh, base_url="https://localhost")
    assert all(i["case_id"] != case_id for i in listed.json["items"])
    # a key without the scope is refused
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        from onboarding.models import ApiKey

        own = db.execute(select(ApiKey)).scalars().first()
        org = db.get(Organisation, own.org_id)
        _row, narrow = ops.create_api_key(db, Actor(own.created_by, org.id), org, "narrow",
                                          ["verifications:create"], own.created_by)
    r = client.get(f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {narrow}"},
                   base_url="https://localhost")
    assert r.status_code == 401


def test_erasing_a_case_key_shreds_its_transactions(t1_world: Any, api_key: Any,
                                                    app: Any) -> None:
    """Figures and alerts are sealed under the case key: destroying it leaves nothing
    readable (the same crypto-shredding the erasure path uses)."""
    from onboarding.compliance import lifecycle
    from onboarding.models import MonitoringAlert
    from onboarding.privacy import Erased

    client = app.test_client()
    h = {"Authorization": f"Bearer {api_key[1]}"}
    client.post(f"/api/v1/cases/{t1_world['case']}/transaction-summaries",
                json={**FUNNEL, **period(app, t1_world["case"])}, headers=h,
                base_url="https://localhost")
    keystore = app.extensions["onboarding.keystore"]
    with app.extensions["onboarding.sessionmaker"]() as db:
        alert = db.execute(select(MonitoringAlert)).scalars().first()
        assert lifecycle.alert_detail(keystore, alert)["explanation"]
        keystore.destroy(uuid.UUID(t1_world["case"]))
        with pytest.raises(Erased):
            lifecycle.alert_detail(keystore, alert)


def test_payload_json_is_stable(app: Any) -> None:
    """Signing covers the exact bytes sent: key order and spacing are fixed."""
    from onboarding import webhooks
    from onboarding.models import WebhookDelivery

    d = WebhookDelivery(id=uuid.uuid4(), payload={"b": 1, "a": {"y": 2, "x": [1, 2]}})
    with app.app_context():
        body, headers = webhooks.signed_request(webhooks.new_secret(), d.id, d.payload)
    assert body == json.dumps(d.payload, separators=(",", ":"), sort_keys=True).encode()
    assert headers["webhook-id"] == f"msg_{d.id.hex}"
    assert headers["webhook-signature"].startswith("v1,")


def test_a_decided_case_is_not_reopened_by_a_screening_change(world: Any, signed_in: Any,
                                                              app: Any) -> None:
    """Four-eyes decline on a confirmed hit; one officer then flipping the hit must not
    reopen the case (and approve it) single-handed."""
    from tests.app.test_compliance_cases import LIST

    admin, _ = signed_in("bank_admin")
    page = admin.get("/compliance/screening-lists").get_data(as_text=True)
    admin.post("/compliance/screening-lists", {
        "name": "sanctions", "fmt": "simple", "file": (io.BytesIO(LIST.encode()), "l.csv"),
        "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    teller, _ = signed_in("verifier")
    case_id = open_case(teller, world["qr"])
    a, _a = signed_in("compliance_officer")
    b, _b = signed_in("compliance_officer")
    page = page_of(a, case_id)
    hit = re.search(r'action="(/compliance/hits/[^"]+)"', page).group(1)
    assert a.post(hit, {"action": "confirmed", "csrf_token": csrf_from(page)}
                  ).status_code == 303
    assert a.post(hit, {"action": "no_hit", "csrf_token": csrf_from(page)}
                  ).status_code == 409  # a disposition is made once
    propose_and_approve(a, b, case_id, outcome="decline", reason="confirmed_sanctions")
    assert case_row(app, case_id).status == "declined"
    for action in ("no_hit", "whitelist"):
        assert a.post(hit, {"action": action, "csrf_token": csrf_from(page)}
                      ).status_code == 409
    assert a.post(f"/compliance/cases/{case_id}/approve", {"csrf_token": csrf_from(page)}
                  ).status_code == 409
    row = case_row(app, case_id)
    assert row.status == "declined" and row.account_tier is None
    # and a step-up or renewal needs an open account
    assert a.post(f"/compliance/cases/{case_id}/step-up", {
        "standard_cdd": "passed", "csrf_token": csrf_from(page)}).status_code == 200
    assert case_row(app, case_id).status == "declined"


def test_the_end_of_validity_is_announced_even_during_a_review(t1_world: Any, app: Any,
                                                                clock: Any) -> None:
    """A review left open does not stop the clock: the end is announced once, the review
    carries on, and the account rests lapsed when the review ends without a renewal."""
    from onboarding.audit import Actor
    from onboarding.compliance import lifecycle

    a, case_id = t1_world["a"], t1_world["case"]
    later(clock, t1_world, days=350)
    page = page_of(a, case_id)
    a.post(f"/compliance/cases/{case_id}/renewal", {"csrf_token": csrf_from(page)})
    assert case_row(app, case_id).status == "referred"
    later(clock, t1_world, days=30)
    for expected in ({"lapsed": 1}, {"lapsed": 0}):
        with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
            assert lifecycle.end_validity(db, Actor(), clock.at.date()) == expected
    row = case_row(app, case_id)
    assert row.status == "referred" and row.validity_ended_on == row.valid_until
    page = page_of(a, case_id)
    assert a.post(f"/compliance/cases/{case_id}/keep", {"reason": "renewal_not_needed",
                                                        "csrf_token": csrf_from(page)}
                  ).status_code == 303
    assert case_row(app, case_id).status == "lapsed"


def test_a_new_list_version_rescreens_open_accounts(t1_world: Any, signed_in: Any,
                                                    app: Any) -> None:
    """Sanctions screening never stops: an open account matching a newly listed name is
    referred for a screening review; cleared, it stays cleared on the next version."""
    from tests.app.test_compliance_cases import LIST

    def upload(text_: str) -> None:
        admin, _ = signed_in("bank_admin")
        page = admin.get("/compliance/screening-lists").get_data(as_text=True)
        r = admin.post("/compliance/screening-lists", {
            "name": "sanctions", "fmt": "simple", "file": (io.BytesIO(text_.encode()), "l.csv"),
            "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
        assert r.status_code == 303

    def job() -> str:
        r = app.test_cli_runner().invoke(args=["jobs", "run", "--only", "screening.accounts",
                                               "--force"])
        assert r.exit_code == 0, r.output
        return r.output

    a, case_id = t1_world["a"], t1_world["case"]
    assert "'reviews_opened': 0" in job()  # screened at onboarding against this version
    upload(LIST)  # a new version naming someone like the account holder
    out = job()
    assert "'screened': 1" in out and "'reviews_opened': 1" in out
    row = case_row(app, case_id)
    assert row.review_kind == "screening" and row.status == "referred"
    assert row.account_tier == "T1"  # the account stays open while it is looked at
    page = page_of(a, case_id)
    assert "Zyxwvu Kanaryname" in page and "Re-screening" in page
    assert a.post(f"/compliance/cases/{case_id}/keep", {"reason": "other",
                                                        "csrf_token": csrf_from(page)}
                  ).status_code == 409  # not while a possible match is undecided
    hit = re.search(r'action="(/compliance/hits/[^"]+)"', page).group(1)
    assert a.post(hit, {"action": "no_hit", "csrf_token": csrf_from(page)}).status_code == 303
    page = page_of(a, case_id)
    assert a.post(f"/compliance/cases/{case_id}/keep", {"reason": "match_cleared",
                                                        "csrf_token": csrf_from(page)}
                  ).status_code == 303
    assert case_row(app, case_id).status == "approved"
    upload(LIST + "Another Person,,1950,FRA\n")
    assert "'reviews_opened': 0" in job()  # the cleared match is not raised again
    assert case_row(app, case_id).status == "approved"


def test_rescreening_runs_batch_after_batch_within_its_time_budget(t1_world: Any,
                                                                   signed_in: Any,
                                                                   app: Any) -> None:
    """A new list reaches every open account in one run while time allows (batches of
    ``limit``), and a zero budget does one batch: big books are not screened 500 a run."""
    from onboarding.audit import Actor
    from onboarding.compliance import lifecycle
    from tests.app.test_intake import qr_of

    second = open_case(t1_world["teller"], qr_of(app, t1_world["att"]))
    approve_recommended(t1_world["a"], second)
    assert case_row(app, second).status == "approved"
    keystore = app.extensions["onboarding.keystore"]
    factory = app.extensions["onboarding.sessionmaker"]
    clean_list(signed_in)  # a new version: both accounts are due
    with factory() as db:
        assert lifecycle.rescreen_accounts(db, Actor(), keystore, limit=1) == {
            "screened": 1, "reviews_opened": 0, "failed": 0}
    clean_list(signed_in)
    with factory() as db:
        assert lifecycle.rescreen_accounts(db, Actor(), keystore, limit=1,
                                           budget_seconds=60) == {
            "screened": 2, "reviews_opened": 0, "failed": 0}
        assert lifecycle.rescreen_accounts(db, Actor(), keystore, limit=1,
                                           budget_seconds=60) == {
            "screened": 0, "reviews_opened": 0, "failed": 0}  # nothing left to do
        # stamped with the newest list it saw, not the clock: a version committed later
        # with an earlier upload time is still due
        from onboarding.models import ScreeningList

        newest = max(r.uploaded_at for r in db.query(ScreeningList).all())
        assert case_row(app, second).screened_at == newest

    # one account that cannot be screened (its key is gone) does not stop the others, and
    # stays first in line for the next run
    clean_list(signed_in)
    keystore.destroy(uuid.UUID(second))
    from onboarding.models import BankCase

    with factory() as db, db.begin():  # the broken account comes first in line
        db.get(BankCase, uuid.UUID(second)).screened_at = None
    with factory() as db:
        assert lifecycle.rescreen_accounts(db, Actor(), keystore, limit=1,
                                           budget_seconds=60) == {
            "screened": 1, "reviews_opened": 0, "failed": 1}
        assert lifecycle.rescreen_accounts(db, Actor(), keystore, limit=1) == {
            "screened": 0, "reviews_opened": 0, "failed": 1}  # tried first again, next run
    assert case_row(app, second).screened_at is None


def test_a_confirmed_match_on_an_open_account_needs_four_eyes(t1_world: Any, signed_in: Any,
                                                              app: Any) -> None:
    from tests.app.test_compliance_cases import LIST

    admin, _ = signed_in("bank_admin")
    page = admin.get("/compliance/screening-lists").get_data(as_text=True)
    admin.post("/compliance/screening-lists", {
        "name": "sanctions", "fmt": "simple", "file": (io.BytesIO(LIST.encode()), "l.csv"),
        "csrf_token": csrf_from(page)}, content_type="multipart/form-data")
    app.test_cli_runner().invoke(args=["jobs", "run", "--only", "screening.accounts",
                                       "--force"])
    a, b, case_id = t1_world["a"], t1_world["b"], t1_world["case"]
    page = page_of(a, case_id)
    hit = re.search(r'action="(/compliance/hits/[^"]+)"', page).group(1)
    assert a.post(hit, {"action": "confirmed", "csrf_token": csrf_from(page)}
                  ).status_code == 303
    page = page_of(a, case_id)
    for reason in ("match_cleared", "other"):  # one officer cannot keep the account open
        assert a.post(f"/compliance/cases/{case_id}/keep", {"reason": reason,
                                                            "csrf_token": csrf_from(page)}
                      ).status_code == 409
    assert case_row(app, case_id).account_tier == "T1"
    propose_and_approve(a, b, case_id, outcome="decline", reason="confirmed_sanctions")
    row = case_row(app, case_id)
    assert row.account_tier is None and row.status == "declined"
    assert row.history[-1]["kind"] == "screening"


def test_a_cleared_entry_does_not_cover_a_new_entry_in_its_row(t1_world: Any,
                                                                signed_in: Any,
                                                                app: Any) -> None:
    """List entries are identified by their content: a new, different entry placed in the
    row of a cleared one is screened afresh."""
    from onboarding.compliance.operations import _watchlist
    from onboarding.models import ScreeningList

    first = "name,aliases,date_of_birth,nationality\nZyxwvu Kanaryname,,1950,FRA\n"
    second = "name,aliases,date_of_birth,nationality\nZyxwvu Kanaryname,,1911,GBR\n"
    ids = []
    for text_ in (first, second):
        row = ScreeningList(id=uuid.uuid4(), name="s", fmt="simple", content=text_.encode())
        ids.append(_watchlist(row).entries[0].entity_id)
    assert ids[0] != ids[1]
    row = ScreeningList(id=uuid.uuid4(), name="s", fmt="simple",
                        content=(second + "Other Person,,1960,FRA\n").encode())
    assert _watchlist(row).entries[0].entity_id == ids[1]  # stable when rows are added


def test_events_wait_while_the_webhook_is_disabled(app: Any, signed_in: Any, clock: Any,
                                                   receiver: Receiver) -> None:
    from onboarding import webhooks
    from onboarding.models import Organisation, WebhookDelivery, WebhookEndpoint

    app.config.update(WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOW_PRIVATE=True)
    _admin, _secret, who = set_webhook(app, signed_in, receiver.url)
    factory = app.extensions["onboarding.sessionmaker"]
    with factory() as db, db.begin():
        org = db.execute(select(Organisation).where(Organisation.id == who.org_id)).scalar_one()
        row = webhooks.enqueue(db, org.id, "webhook.test", {})
        assert row is not None
        db.execute(select(WebhookEndpoint)).scalar_one().disabled_at = clock.at
    keyring = app.extensions["onboarding.keyring"]
    with factory() as db:
        assert webhooks.deliver_due(db, keyring, allow_http=True, allow_private=True
                                    )["attempted"] == 0
    with factory() as db:
        pending = db.execute(select(WebhookDelivery)).scalar_one()
        assert pending.state == "pending" and pending.attempts == 0 and not receiver.got
    with factory() as db, db.begin():
        db.execute(select(WebhookEndpoint)).scalar_one().disabled_at = None
    clock.advance(hours=2)
    with factory() as db:
        assert webhooks.deliver_due(db, keyring, allow_http=True, allow_private=True
                                    )["delivered"] == 1
    assert len(receiver.got) == 1


def test_sar_draft_carries_the_accounts_monitoring_alerts(t1_world: Any, api_key: Any,
                                                          signed_in: Any, app: Any) -> None:
    from tests.conftest import CANARY_NAME

    client = app.test_client()
    case_id = t1_world["case"]
    r = client.post(f"/api/v1/cases/{case_id}/transaction-summaries",
                    json={**FUNNEL, **period(app, case_id)},
                    headers={"Authorization": f"Bearer {api_key[1]}"},
                    base_url="https://localhost")
    assert r.status_code == 201
    c, who = signed_in("reporting_officer")
    step_up(c, who)
    r = c.post("/compliance/reports/sar", {"case_id": case_id,
                                           "back": "/compliance/reports/sar"})
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "HUMAN TRAFFICKING FIN-2020-A008" in text
    assert "Monitoring alerts on the account" in text
    assert "MONITORING_FUNNEL_ACCOUNT" in text and "funnel-account pattern" in text
    assert "FIN-2020-A008 indicators among the reasons: MONITORING_FUNNEL_ACCOUNT" in text
    assert "Account: opened" in text and "tier in force T1" in text
    assert CANARY_NAME not in text and "1911" not in text


def test_a_match_raised_during_a_step_up_must_be_decided_first(t1_world: Any, signed_in: Any,
                                                                app: Any) -> None:
    from tests.app.test_compliance_cases import LIST

    a, case_id = t1_world["a"], t1_world["case"]
    page = page_of(a, case_id)
    a.post(f"/compliance/cases/{case_id}/step-up", {"standard_cdd": "passed",
                                                     "csrf_token": csrf_from(page)})
    admin, _ = signed_in("bank_admin")
    upload = admin.get("/compliance/screening-lists").get_data(as_text=True)
    admin.post("/compliance/screening-lists", {
        "name": "sanctions", "fmt": "simple", "file": (io.BytesIO(LIST.encode()), "l.csv"),
        "csrf_token": csrf_from(upload)}, content_type="multipart/form-data")
    page = page_of(a, case_id)
    assert a.post(f"/compliance/cases/{case_id}/keep", {"reason": "evidence_insufficient",
                                                        "csrf_token": csrf_from(page)}
                  ).status_code == 409
    hit = re.search(r'action="(/compliance/hits/[^"]+)"', page).group(1)
    a.post(hit, {"action": "no_hit", "csrf_token": csrf_from(page)})
    assert a.post(f"/compliance/cases/{case_id}/keep", {"reason": "evidence_insufficient",
                                                        "csrf_token": csrf_from(page)}
                  ).status_code == 303
