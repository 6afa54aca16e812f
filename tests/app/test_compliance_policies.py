"""Issue 6, policy management: drafts with validation, backtests on the bank's past cases,
publishing under four-eyes with step-up, archiving, and tenant isolation (SECURITY.md 8,
10, 13, 14; DOMAIN.md §7)."""

from __future__ import annotations

import io
import itertools
import json
import re
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

import risk
from risk.backtest import OUTCOMES
from risk.model import TIERS
from risk.synth import portfolio
from tests.app.intake_helpers import step_up

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEXT = risk.default_policy_path().read_text(encoding="utf-8")
STRICT_TEXT = (ROOT / "risk" / "policies" / "strict-example-v1.yaml").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ helpers
def sessionmaker(app: Any) -> Any:
    return app.extensions["onboarding.sessionmaker"]


def seed_cases(app: Any, org_id: uuid.UUID, created_by: uuid.UUID,
               docs: list[dict[str, Any]], **fields: Any) -> list[uuid.UUID]:
    """Past cases as the counter leaves them: a verification and a case holding the
    minimised engine input (claims are an opaque placeholder: backtests never open them)."""
    from onboarding.bank.tiering import minimise
    from onboarding.clock import now
    from onboarding.models import BankCase, Verification

    ids = []
    start = now() - timedelta(days=len(docs) // 50 + 1)
    with sessionmaker(app)() as db, db.begin():
        verifications = [Verification(id=uuid.uuid4(), org_id=org_id, user_id=created_by,
                                      at=start + timedelta(minutes=i), result="valid",
                                      channel="paste") for i in range(len(docs))]
        db.add_all(verifications)
        db.flush()
        for i, (doc, v) in enumerate(zip(docs, verifications, strict=True)):
            case = BankCase(id=uuid.uuid4(), org_id=org_id, verification_id=v.id,
                            created_by=created_by, created_at=start + timedelta(minutes=i),
                            status=fields.get("status", "referred"), product="basic_account",
                            counter_checks={}, claims_enc=b"\x00", applicant_key="",
                            engine_input=minimise(doc), version=1)
            db.add(case)
            ids.append(case.id)
    return ids


def synth_docs(n: int, seed: int) -> list[dict[str, Any]]:
    """Synthetic past cases (risk/synth.py), through JSON as the database keeps them."""
    return [json.loads(json.dumps(x)) for x in portfolio(n, seed)]


def create(c: Any, text: str, name: str = "") -> uuid.UUID:
    r = c.post("/compliance/policies/new", {"name": name, "source": text})
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    m = re.search(r"/compliance/policies/([0-9a-f-]{36})", r.headers["Location"])
    assert m, r.headers["Location"]
    return uuid.UUID(m.group(1))


def policy_row(app: Any, pid: uuid.UUID) -> Any:
    from onboarding.models import BankPolicy

    with sessionmaker(app)() as db:
        row = db.get(BankPolicy, pid)
        db.expunge(row)
        return row


def proposals(app: Any, pid: uuid.UUID) -> list[Any]:
    from onboarding.models import Proposal

    with sessionmaker(app)() as db:
        rows = list(db.execute(select(Proposal).where(Proposal.object_id == pid)
                               .order_by(Proposal.proposed_at)).scalars())
        for r in rows:
            db.expunge(r)
        return rows


def audit_rows(app: Any, object_id: uuid.UUID) -> list[tuple[str, uuid.UUID | None, dict]]:
    from onboarding.models import AuditEntry

    with sessionmaker(app)() as db:
        return [(a, who, d) for a, who, d in db.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.details)
            .where(AuditEntry.object_id == str(object_id)).order_by(AuditEntry.seq))]


def backtest(c: Any, pid: uuid.UUID) -> Any:
    r = c.post(f"/compliance/policies/{pid}/backtest")
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    return r


def propose(c: Any, pid: uuid.UUID) -> Any:
    return c.post(f"/compliance/policies/{pid}/propose-publish")


def decide(c: Any, pid: uuid.UUID, proposal_id: uuid.UUID, decision: str = "approve") -> Any:
    return c.post(f"/compliance/policies/{pid}/decide",
                  {"proposal_id": str(proposal_id), "decision": decision,
                   "back": f"/compliance/policies/{pid}"})


def matrix_from_page(html: str, table_id: str, labels: tuple[str, ...]) -> dict:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    out = {a: dict.fromkeys(labels, 0) for a in labels}
    for a, b, n in re.findall(r'data-from="(\w+)" data-to="(\w+)">(?:<strong>)?(\d+)', table):
        out[a][b] = int(n)
    return out


@pytest.fixture
def officers(signed_in):
    a, a_who = signed_in("compliance_officer")
    b, b_who = signed_in("compliance_officer")
    return a, a_who, b, b_who


# ---------------------------------------------------------------------- validation
def test_validation_error_points_at_line_and_column_and_keeps_the_text(signed_in, app):
    c, _ = signed_in("compliance_officer")
    bad = DEFAULT_TEXT.replace("\nversion: 2\n", "\nversion: one\n")
    r = c.post("/compliance/policies/new", {"name": "<script>alert(1)</script>",
                                            "source": bad})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    line = DEFAULT_TEXT.splitlines().index("version: 2") + 1
    assert f"Line {line}, column 10: version: must be an integer" in body
    assert "version: one" in body  # what was typed is still in the box
    assert 'aria-invalid="true"' in body and "There is a problem" in body
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body

    # an uploaded file is validated the same way, and its text lands in the box
    r = c.post("/compliance/policies/new",
               {"source": "", "upload": (io.BytesIO(b"id: [unclosed\n"), "p.yaml")},
               content_type="multipart/form-data")
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "Line 2, column 1: YAML syntax error" in body
    assert "id: [unclosed" in body

    # typed text never reaches the file system (load_policy reads a one-line path as a file)
    r = c.post("/compliance/policies/new", {"source": "/etc/passwd"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "must be a mapping" in body and "root:" not in body

    # alias bombs are refused before they expand
    levels = "abcdefghi"
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{k}: &{k} [{', '.join(['*' + p] * 9)}]\n"
        for p, k in itertools.pairwise(levels))
    started = time.perf_counter()
    r = c.post("/compliance/policies/new", {"source": bomb})
    assert time.perf_counter() - started < 5
    assert r.status_code == 422 and "Line 1, column 4: YAML anchors and aliases" in \
        r.get_data(as_text=True)
    assert c.get("/compliance/policies/").get_data(as_text=True).count("/compliance/policies/"
                                                                      "00") == 0
    from tests.conftest import count

    assert count(app, "SELECT COUNT(*) FROM bank_policy") == 0

    # a valid one is kept as a draft, with its name and hash
    pid = create(c, STRICT_TEXT, name="Stricter")
    row = policy_row(app, pid)
    assert (row.state, row.version, row.name) == ("draft", 1, "Stricter")
    assert "sha256:" + row.content_hash == risk.load_policy(STRICT_TEXT).content_hash
    page = c.get(f"/compliance/policies/{pid}").get_data(as_text=True)
    assert "strict-example@1" in page and "Run the backtest" in page

    # a whole policy on one line (YAML flow style) is valid, and is stored with a line break
    one_line = yaml.safe_dump(yaml.safe_load(DEFAULT_TEXT), default_flow_style=True,
                              width=float("inf")).strip()
    assert "\n" not in one_line
    pid = create(c, one_line)
    assert policy_row(app, pid).source == one_line + "\n"
    assert c.get(f"/compliance/policies/{pid}").status_code == 200


def test_edit_bumps_version_forgets_backtest_and_voids_pending_proposal(officers, app):
    a, _a_who, b, b_who = officers
    pid = create(a, STRICT_TEXT)
    backtest(a, pid)
    assert propose(a, pid).status_code == 303
    [p] = proposals(app, pid)
    assert p.status == "pending" and p.object_version == 1
    # an invalid edit changes nothing
    r = a.post(f"/compliance/policies/{pid}", {"name": "x", "source": "id: [\n"})
    assert r.status_code == 422 and policy_row(app, pid).version == 1
    # a real edit: new version, backtest forgotten, the proposal void
    edited = STRICT_TEXT.replace("title: Stricter example for backtests",
                                 "title: Stricter example, edited")
    r = a.post(f"/compliance/policies/{pid}", {"name": "Stricter", "source": edited})
    assert r.status_code == 303
    row = policy_row(app, pid)
    assert (row.version, row.backtest, row.source) == (2, None, edited)
    assert [x.status for x in proposals(app, pid)] == ["void"]
    assert ("foureyes.void", _a_who.id) in [(x, w) for x, w, _d in audit_rows(app, pid)]
    # the old approval cannot be given any more, even after a step-up
    step_up(b, b_who)
    r = decide(b, pid, p.id)
    assert r.status_code == 409 and "no longer pending" in r.get_data(as_text=True)
    assert policy_row(app, pid).state == "draft"
    # proposing again needs a backtest of the new version
    r = propose(a, pid)
    assert r.status_code == 409 and "Run the backtest" in r.get_data(as_text=True)


def test_publish_needs_a_second_officer_after_step_up(officers, app):
    from onboarding.compliance.operations import active_policy

    a, a_who, b, b_who = officers
    first = create(a, DEFAULT_TEXT, name="Our default")
    backtest(a, first)
    propose(a, first)
    step_up(b, b_who)
    [p1] = proposals(app, first)
    assert decide(b, first, p1.id).status_code == 303
    assert policy_row(app, first).state == "published"

    pid = create(a, STRICT_TEXT, name="Stricter")
    assert propose(a, pid).status_code == 409  # no backtest yet
    backtest(a, pid)
    assert propose(a, pid).status_code == 303
    [p] = proposals(app, pid)
    # the maker cannot approve, even after a step-up
    step_up(a, a_who)
    r = decide(a, pid, p.id)
    assert r.status_code == 409
    assert "cannot approve your own proposal" in r.get_data(as_text=True)
    assert policy_row(app, pid).state == "draft"
    # the checker must step up first
    b.clock.advance(minutes=10)
    r = decide(b, pid, p.id)
    assert r.status_code == 303 and r.headers["Location"].startswith("/account/confirm")
    assert policy_row(app, pid).state == "draft"
    step_up(b, b_who)
    page = b.get(f"/compliance/policies/{pid}").get_data(as_text=True)
    assert 'id="approve-publish"' in page
    assert 'id="approve-publish"' not in a.get(f"/compliance/policies/{pid}").get_data(
        as_text=True)
    r = decide(b, pid, p.id)
    assert r.status_code == 303
    row = policy_row(app, pid)
    assert row.state == "published" and row.published_at is not None
    assert policy_row(app, first).state == "archived"
    with sessionmaker(app)() as db:
        policy, active = active_policy(db, a_who.org_id)
        assert active.id == pid and policy.ref == "strict-example@1"
    trail = audit_rows(app, pid)
    assert ("foureyes.propose", a_who.id) in [(x, w) for x, w, _d in trail]
    assert ("foureyes.approve", b_who.id) in [(x, w) for x, w, _d in trail]
    publish = [d for x, w, d in trail if x == "policy.publish" and w == b_who.id]
    assert publish and publish[0]["proposed_by"] == str(a_who.id)
    assert ("policy.archive", b_who.id) in [(x, w) for x, w, _d in audit_rows(app, first)]
    # published policies are read-only and cannot be archived by one officer
    r = a.post(f"/compliance/policies/{pid}", {"name": "x", "source": DEFAULT_TEXT})
    assert r.status_code == 409
    assert a.post(f"/compliance/policies/{pid}/archive").status_code == 409
    assert policy_row(app, pid).state == "published"


def test_approval_needs_a_backtest_against_the_policy_in_force_now(officers, app):
    a, _a_who, b, b_who = officers
    ours = DEFAULT_TEXT.replace("\nid: default\n", "\nid: our-bank\n").replace(
        "attestation_freshness_days: 180", "attestation_freshness_days: 150")
    one, two = create(a, ours), create(a, STRICT_TEXT)
    for pid in (one, two):
        backtest(a, pid)
        assert propose(a, pid).status_code == 303
    step_up(b, b_who)
    assert decide(b, one, proposals(app, one)[0].id).status_code == 303
    # `two` was backtested against the shipped default, which is no longer in force
    r = decide(b, two, proposals(app, two)[0].id)
    assert r.status_code == 409 and "run the backtest again" in r.get_data(as_text=True)
    assert 'id="backtest-stale"' in a.get(f"/compliance/policies/{two}").get_data(as_text=True)
    assert policy_row(app, two).state == "draft"
    assert [p.status for p in proposals(app, two)] == ["pending"]
    backtest(a, two)
    assert policy_row(app, two).backtest["baseline_policy"] == str(one)
    assert 'id="backtest-chart"' in a.get(f"/compliance/policies/{two}").get_data(as_text=True)
    assert decide(b, two, proposals(app, two)[0].id).status_code == 303
    assert (policy_row(app, one).state, policy_row(app, two).state) == ("archived", "published")


def test_reusing_a_published_id_and_version_with_other_content_is_refused(officers, app):
    a, _a_who, b, b_who = officers
    first = create(a, STRICT_TEXT)
    backtest(a, first)
    propose(a, first)
    step_up(b, b_who)
    decide(b, first, proposals(app, first)[0].id)
    same_ref = STRICT_TEXT.replace("attestation_freshness_days: 90",
                                   "attestation_freshness_days: 60")
    pid = create(a, same_ref)
    backtest(a, pid)
    r = propose(a, pid)
    assert r.status_code == 409 and "strict-example@1 was already used" in \
        r.get_data(as_text=True)
    # the shipped default's id@version counts as used too (cases decided before any of ours)
    not_default = DEFAULT_TEXT.replace("attestation_freshness_days: 180",
                                       "attestation_freshness_days: 150")
    other = create(a, not_default)
    backtest(a, other)
    r = propose(a, other)
    assert r.status_code == 409 and "default@2 was already used by the shipped default" in \
        r.get_data(as_text=True)
    bumped = same_ref.replace("\nversion: 1\n", "\nversion: 2\n")
    assert a.post(f"/compliance/policies/{pid}", {"name": "v2", "source": bumped}
                  ).status_code == 303
    backtest(a, pid)
    assert propose(a, pid).status_code == 303


def test_archive_a_draft_voids_its_proposal(officers, app):
    a, _a_who, _b, _ = officers
    pid = create(a, STRICT_TEXT)
    backtest(a, pid)
    propose(a, pid)
    assert a.post(f"/compliance/policies/{pid}/archive").status_code == 303
    assert policy_row(app, pid).state == "archived"
    assert [p.status for p in proposals(app, pid)] == ["void"]
    assert a.post(f"/compliance/policies/{pid}/backtest").status_code == 409
    assert a.post(f"/compliance/policies/{pid}/archive").status_code == 409


# ------------------------------------------------------------------------- backtest
def expected_matrices(docs: list[dict[str, Any]], new: risk.Policy, old: risk.Policy
                      ) -> tuple[dict, dict, int]:
    """Computed here, independently of risk.backtest: assess every input under both."""
    from onboarding.bank.tiering import minimise

    outcomes = {a: dict.fromkeys(OUTCOMES, 0) for a in OUTCOMES}
    tiers = {a: dict.fromkeys(TIERS, 0) for a in TIERS}
    errors = 0
    for doc in docs:
        try:
            was, now_ = risk.assess(minimise(doc), old), risk.assess(minimise(doc), new)
        except risk.InputError:
            errors += 1
            continue
        outcomes[was.outcome][now_.outcome] += 1
        tiers[was.tier][now_.tier] += 1
    return outcomes, tiers, errors


def test_backtest_gives_the_independently_computed_transition_matrix(signed_in, app, orgs,
                                                                     make_staff):
    c, who = signed_in("compliance_officer")
    docs = synth_docs(400, seed=11)
    seed_cases(app, who.org_id, who.id, docs)
    other = make_staff("verifier", org="bank2")
    seed_cases(app, orgs["bank2"], other.id, synth_docs(60, seed=99))  # never counted
    outcomes, tiers, errors = expected_matrices(
        docs, risk.load_policy(STRICT_TEXT), risk.load_policy(DEFAULT_TEXT))
    assert sum(outcomes[a][b] for a in OUTCOMES for b in OUTCOMES if a != b) > 0

    pid = create(c, STRICT_TEXT)
    r = backtest(c, pid)
    assert r.headers["Location"].endswith(f"/compliance/policies/{pid}#backtest")
    stored = policy_row(app, pid).backtest
    assert stored["outcomes"] == outcomes and stored["tiers"] == tiers
    assert stored["cases"] == 400 - errors and stored["errors"] == errors
    assert stored["baseline"]["id"] == "default" and stored["policy"]["id"] == "strict-example"
    assert stored["policy_version"] == 1 and stored["baseline_policy"] is None

    page = c.get(f"/compliance/policies/{pid}").get_data(as_text=True)
    assert matrix_from_page(page, "outcome-matrix", OUTCOMES) == outcomes
    assert matrix_from_page(page, "tier-matrix", TIERS) == tiers
    assert 'id="backtest-chart"' in page
    assert re.search(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]{200,}"', page)
    assert f"{400 - errors} past cases" in page
    trail = [(x, d) for x, _w, d in audit_rows(app, pid) if x == "policy.backtest"]
    assert trail and trail[0][1]["cases"] == 400 - errors


# ----------------------------------------------------------------------- isolation
def test_another_banks_policy_is_404_on_every_route(officers, signed_in, app):
    a, _a_who, _b, _ = officers
    pid = create(a, STRICT_TEXT, name="Bank one's secret draft")
    backtest(a, pid)
    propose(a, pid)
    [p] = proposals(app, pid)
    other, other_who = signed_in("compliance_officer", org="bank2")
    step_up(other, other_who)
    base = f"/compliance/policies/{pid}"
    assert other.get(base).status_code == 404
    for url, data in ((base, {"name": "x", "source": DEFAULT_TEXT}), (f"{base}/backtest", {}),
                      (f"{base}/propose-publish", {}), (f"{base}/archive", {}),
                      (f"{base}/decide", {"proposal_id": str(p.id), "decision": "approve",
                                          "back": base})):
        assert other.post(url, data).status_code == 404, url
    assert "secret draft" not in other.get("/compliance/policies/").get_data(as_text=True)
    # a proposal of bank one, decided through a bank-two policy id, is 404 too
    mine = create(other, DEFAULT_TEXT)
    assert decide(other, mine, p.id).status_code == 404
    row = policy_row(app, pid)
    assert (row.state, row.version) == ("draft", 1)
    assert [x.status for x in proposals(app, pid)] == ["pending"]


@pytest.mark.parametrize("role", ["verifier", "reporting_officer", "bank_admin", "caseworker"])
def test_other_roles_cannot_manage_policies(role, signed_in):
    c, _ = signed_in(role)
    assert c.get("/compliance/policies/").status_code == 403
    assert c.post("/compliance/policies/new", {"source": DEFAULT_TEXT}).status_code == 403
