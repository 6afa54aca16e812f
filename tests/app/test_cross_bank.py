"""Issue 6 done-when: a cross-bank access attempt on every bank-side route that names an
object returns 404 — generated from the URL map, so a new route is covered the day it is
added. Each object is real (it exists, and its own bank can open it); the rival
organisation's staff member holds a role the route allows, so the 404 can only come from
the tenant check, never from a role refusal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from onboarding.policy import access_for
from tests.app.intake_helpers import step_up
from tests.app.test_bank import api_key as _api_key_fixture
from tests.app.test_compliance_lifecycle import FUNNEL, period
from tests.app.test_compliance_lifecycle import t1_world as _t1_world_fixture
from tests.app.test_compliance_lifecycle import world as _world_fixture

world = _world_fixture
t1_world = _t1_world_fixture
api_key = _api_key_fixture

#: Blueprints on the bank side of the house, and the safeguarding inbox the NGO answers from.
SCOPE = ("bank.", "compliance.", "policies.", "reports.", "ngo_safeguarding.")
RIVAL = {"verifier": "bank2", "compliance_officer": "bank2", "reporting_officer": "bank2",
         "bank_admin": "bank2", "ngo_admin": "ngo2", "caseworker": "ngo2"}


@pytest.fixture
def objects(app: Any, t1_world: Any, api_key: Any, signed_in: Any) -> dict[str, uuid.UUID]:
    """One of each object a bank-side URL can name, all belonging to the first bank (and
    the safeguarding message to the issuing NGO)."""
    from onboarding import audit, webhooks
    from onboarding.audit import Actor
    from onboarding.compliance import foureyes
    from onboarding.models import (
        ApiKey,
        BankCase,
        BankPolicy,
        MonitoringAlert,
        SafeguardingMessage,
        ScreeningHit,
        ScreeningList,
        Verification,
        WebhookEndpoint,
    )
    from onboarding.privacy import FieldCipher
    from risk import default_policy_path

    client = app.test_client()
    r = client.post(f"/api/v1/cases/{t1_world['case']}/transaction-summaries",
                    json={**FUNNEL, **period(app, t1_world["case"])},
                    headers={"Authorization": f"Bearer {api_key[1]}"},
                    base_url="https://localhost")
    assert r.status_code == 201
    case_id = uuid.UUID(t1_world["case"])
    keystore = app.extensions["onboarding.keystore"]
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        case = db.get(BankCase, case_id)
        bank, who = case.org_id, case.created_by
        actor = Actor(who, bank)
        lst = db.execute(select(ScreeningList).where(ScreeningList.org_id == bank)
                         ).scalars().first()
        hit = ScreeningHit(id=uuid.uuid4(), org_id=bank, case_id=case_id, list_id=lst.id,
                           entity_id="sanctions-1", entity_name="Listed Entity", score=90,
                           matched={}, disposition="open")
        db.add(hit)
        proposal = foureyes.propose(db, actor, org_id=bank, object_type="bank_case",
                                    object_id=case_id, object_version=case.version,
                                    action="override", payload={"outcome": "approve",
                                                                "tier": "T2"},
                                    reason_code="other")
        policy = BankPolicy(id=uuid.uuid4(), org_id=bank, name="ours",
                            source=default_policy_path().read_text(), content_hash="x",
                            state="draft", created_by=who)
        db.add(policy)
        message = SafeguardingMessage(
            id=uuid.uuid4(), case_id=case_id, bank_org_id=bank, ngo_org_id=case.issuer_org_id,
            direction="to_ngo", kind="information", sent_by=who,
            body_enc=FieldCipher(case_id, keystore.get(case_id)).seal("safeguarding", "?"))
        db.add(message)
        db.add(WebhookEndpoint(id=uuid.uuid4(), org_id=bank, url="https://core.example/h",
                               secret_wrapped=b"x", created_by=who))
        db.flush()
        delivery = webhooks.enqueue(db, bank, "webhook.test", {})
        assert delivery is not None
        delivery.state = "failed"
        audit.record(db, actor, "test.setup", org_id=bank)
        alert = db.execute(select(MonitoringAlert.id).where(
            MonitoringAlert.case_id == case_id)).scalars().first()
        vid = db.execute(select(Verification.id).where(Verification.org_id == bank)
                         ).scalars().first()
        key = db.execute(select(ApiKey.id).where(ApiKey.org_id == bank)).scalars().first()
    return {"case_id": case_id, "proposal_id": proposal.id, "hit_id": hit.id,
            "alert_id": alert, "policy_id": policy.id, "message_id": message.id,
            "delivery_id": delivery.id, "vid": vid, "key_id": key}


def bank_side_routes(app: Any) -> list[tuple[str, str, str, str]]:
    """(endpoint, method, url, role) for every in-scope route with object ids."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(SCOPE) or not rule.arguments:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            access = access_for(rule.endpoint, method)
            roles = sorted(r.value for r in access) if isinstance(access, frozenset) else []
            roles = [r for r in roles if r in RIVAL]
            assert roles, f"{rule.endpoint} {method}: no staff role may call it?"
            out.append((rule.endpoint, method, rule.rule, roles[0]))
    return out


def call(c: Any, method: str, url: str) -> Any:
    if method == "GET":
        return c.get(url)
    return c.post(url, {"csrf_token": c.token("/home"), "action": "no_hit",
                        "decision": "approve", "reason": "safeguarding"})


def test_every_bank_side_object_route_is_404_for_another_organisation(
        app: Any, objects: dict[str, uuid.UUID], signed_in: Any) -> None:
    routes = bank_side_routes(app)
    # the generated list really covers the lifecycle, review and admin routes
    covered = {e for e, _m, _u, _r in routes}
    assert {"compliance.case", "compliance.step_up", "compliance.renewal", "compliance.renew",
            "compliance.keep_tier", "compliance.alert", "compliance.hit",
            "compliance.decide_proposal", "policies.detail", "bank.webhook_retry",
            "bank.open_case", "ngo_safeguarding.reply"} <= covered
    clients: dict[str, Any] = {}
    for endpoint, method, rule, role in routes:
        url = rule
        for name, value in objects.items():
            url = url.replace(f"<uuid:{name}>", str(value))
        assert "<" not in url, f"no test object for {rule}"
        if role not in clients:
            clients[role] = signed_in(role, org=RIVAL[role])
        c, who = clients[role]

        r = call(c, method, url)
        if r.status_code == 303 and "/account/confirm" in r.headers["Location"]:
            step_up(c, who)  # sensitive routes ask for a step-up first; then the tenant check
            r = call(c, method, url)
        assert r.status_code == 404, f"{method} {url} ({endpoint}) as {role}: {r.status_code}"


def test_the_same_objects_open_for_their_own_bank(app: Any, objects: dict[str, uuid.UUID],
                                                  t1_world: Any, signed_in: Any) -> None:
    """The control: the ids above are real, so the rival's 404 is the tenant check."""
    a = t1_world["a"]
    assert a.get(f"/compliance/cases/{objects['case_id']}").status_code == 200
    assert a.get(f"/compliance/policies/{objects['policy_id']}").status_code == 200
    page = a.get(f"/compliance/cases/{objects['case_id']}").get_data(as_text=True)
    assert str(objects["hit_id"]) in page and str(objects["alert_id"]) in page
    assert str(objects["proposal_id"]) in page
    admin, _ = signed_in("bank_admin")
    assert admin.post(f"/bank/webhook/deliveries/{objects['delivery_id']}/retry",
                      {"csrf_token": admin.token("/home")}).status_code == 303
