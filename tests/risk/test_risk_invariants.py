"""Invariants of the engine under Hypothesis (issue 5), 2,000 examples each, on both shipped
policies. Inputs are drawn as JSON, so the parser is exercised with the engine."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from risk_testdata import epoch

import risk
from risk.model import TIERS
from risk.reasons import REASONS, Kind

DEFAULT = risk.load_policy(risk.default_policy_path())
STRICT = risk.load_policy(risk.default_policy_path().with_name("strict-example-v1.yaml"))
POLICIES = st.sampled_from([DEFAULT, STRICT])
AS_OF = date(2025, 7, 1)
MANY = settings(max_examples=2000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BAD_RESULTS = ("invalid", "revoked", "suspended", "expired", "untrusted_issuer", "unreadable",
               "not_yet_valid")
INDICATORS = ("speaks_for_applicant", "holds_applicant_documents", "controls_applicant_money",
              "insists_on_being_present", "applicant_distressed_or_scripted",
              "shared_contact_details", "other")
FEATURES = sorted(DEFAULT.features)


@st.composite
def hits(draw: st.DrawFn) -> dict[str, Any]:
    return {"entity_id": f"E{draw(st.integers(0, 9))}",
            "list": draw(st.sampled_from(["ofac-sdn", "pep"])),
            "kind": draw(st.sampled_from(["sanctions", "pep"])),
            "score": draw(st.floats(0, 100, allow_nan=False)),
            "disposition": draw(st.sampled_from(["open", "cleared", "confirmed"]))}


@st.composite
def inputs(draw: st.DrawFn) -> dict[str, Any]:
    """Any well-formed input: every field the engine reads varies."""
    iat = AS_OF - timedelta(days=draw(st.integers(-5, 400)))
    claims = {
        "identity_assurance": draw(st.integers(0, 2)),
        "evidence_categories": draw(st.lists(st.integers(0, 12), max_size=4)),
        "trusted_referee_session": draw(st.integers(0, 2)),
        "applicant_references": draw(st.integers(0, 4)),
        "iat": epoch(iat),
        "exp": epoch(iat + timedelta(days=draw(st.integers(1, 800)))),
        "date_of_birth": draw(st.sampled_from(["1960", "1990-05", "1999-12-31", "2007",
                                               "2008-08-08", "2012"])),
        "date_of_birth_approximate": draw(st.booleans()),
        "photo": draw(st.booleans()),
    }
    result = draw(st.sampled_from(("valid",) * 4 + BAD_RESULTS))
    att: dict[str, Any] | None = {
        "verification": {"result": result,
                         "status_as_of": draw(st.sampled_from(
                             [None, "2025-06-30T12:00:00Z", "2025-06-01T00:00:00Z"]))},
        "claims": claims if result == "valid" or draw(st.booleans()) else None,
        "issuer": draw(st.one_of(st.none(), st.fixed_dictionaries({
            "id": st.just("ngo"),
            "accreditation_state": st.sampled_from(["active", "suspended", "revoked",
                                                    "lapsed"]),
            "accreditation_expires": st.sampled_from([None, "2025-06-01", "2027-01-01"])}))),
        "referee": draw(st.one_of(st.none(), st.fixed_dictionaries({
            "certification_state": st.sampled_from([None, "certified", "expired", "revoked"]),
            "certification_expires": st.sampled_from([None, "2024-01-01", "2026-01-01"]),
            "attestations_in_window": st.one_of(st.none(), st.integers(0, 80))}))),
    }
    if draw(st.integers(0, 19)) == 0:
        att = None
    screened = draw(st.booleans()) or draw(st.booleans())
    x: dict[str, Any] = {
        "case_id": "h",
        "assessed_at": AS_OF.isoformat(),
        "jurisdiction": draw(st.sampled_from(["REF", "GB", "US", "CA"])),
        "attestation": att,
        "bank_checks": {
            "consent": draw(st.sampled_from(["given"] * 5 + ["refused", "withdrawn",
                                                             "not_recorded"])),
            "screening": {"status": "completed" if screened else "not_run",
                          "hits": draw(st.lists(hits(), max_size=3)) if screened else []},
            "duplicate": draw(st.sampled_from(["clear"] * 4 + ["possible", "confirmed",
                                                               "not_run"])),
            "coercion": {"indicators": draw(st.lists(st.fixed_dictionaries({
                "code": st.sampled_from(INDICATORS),
                "by_registered_caseworker": st.booleans()}), max_size=2)),
                "third_party_control_confirmed": draw(st.integers(0, 9)) == 0},
            "fraud_confirmed": draw(st.integers(0, 9)) == 0,
            "attribute_conflicts": draw(st.sampled_from([[], [], ["name"]])),
            "minor": draw(st.sampled_from([None, None, False, True])),
            "authenticator_aal": draw(st.sampled_from([None, 1, 2, 2, 3])),
            "standard_cdd": draw(st.sampled_from(["not_done", "passed", "failed"])),
            "id_application_confirmed": draw(st.booleans()),
        },
        "request": {"type": draw(st.sampled_from(["onboarding", "periodic_review", "step_up",
                                                  "renewal"])),
                    "features": draw(st.lists(st.sampled_from(FEATURES), max_size=3,
                                              unique=True)),
                    "override_requested": draw(st.integers(0, 9)) == 0},
    }
    if draw(st.booleans()):
        tier = draw(st.sampled_from(["T1", "T2"]))
        x["account"] = {"tier": tier, "opened_on": "2024-09-01",
                        "valid_until": draw(st.sampled_from(["2025-07-15", "2026-09-01"])),
                        "renewals_used": draw(st.integers(0, 1))}
        if draw(st.booleans()):
            x["transactions"] = {
                "period_start": "2025-06-01", "period_end": "2025-06-30",
                "inflow": draw(st.floats(0, 4000)), "outflow": draw(st.floats(0, 4000)),
                "cash_in": draw(st.floats(0, 1500)), "cash_out": draw(st.floats(0, 800)),
                "max_balance": draw(st.floats(0, 6000)),
                "cash_deposit_locations": draw(st.integers(0, 6)),
                "prepaid_card_purchases": draw(st.integers(0, 4)),
                "regions": draw(st.integers(1, 5)), "baseline_regions": 1}
    return x


def decline_facts(x: dict[str, Any]) -> bool:
    b = x["bank_checks"]
    return (b["consent"] in ("refused", "withdrawn") or b["duplicate"] == "confirmed"
            or b["fraud_confirmed"] or b["coercion"]["third_party_control_confirmed"]
            or any(h["kind"] == "sanctions" and h["disposition"] == "confirmed"
                   for h in b["screening"]["hits"]))


def without_decline_facts(x: dict[str, Any]) -> dict[str, Any]:
    x = copy.deepcopy(x)
    b = x["bank_checks"]
    if b["consent"] in ("refused", "withdrawn"):
        b["consent"] = "given"
    if b["duplicate"] == "confirmed":
        b["duplicate"] = "clear"
    b["fraud_confirmed"] = False
    b["coercion"]["third_party_control_confirmed"] = False
    for h in b["screening"]["hits"]:
        if h["disposition"] == "confirmed" and h["kind"] == "sanctions":
            h["disposition"] = "cleared"
    return x


def tier_no(d: risk.Decision) -> int:
    return TIERS.index(d.tier)


@MANY
@given(inputs(), POLICIES)
def test_more_assurance_never_gives_a_lower_tier(x: dict[str, Any], p: risk.Policy) -> None:
    """Raising attested assurance, adding evidence, or passing the bank's CDD, all else
    equal, never lowers the tier (nor the provisional tier)."""
    att = x["attestation"]
    steps: list[dict[str, Any]] = []
    if att is not None and att["claims"] is not None:
        c = att["claims"]
        for ia in range(c["identity_assurance"], 3):
            y = copy.deepcopy(x)
            y["attestation"]["claims"]["identity_assurance"] = ia
            steps.append(y)
        y = copy.deepcopy(steps[-1])
        y["attestation"]["claims"]["evidence_categories"] = sorted(
            set(c["evidence_categories"]) | {2, 3, 4})
        steps.append(y)
    else:
        steps.append(x)
    y = copy.deepcopy(steps[-1])
    y["bank_checks"]["standard_cdd"] = "passed"
    steps.append(y)
    decisions = [risk.assess(s, p) for s in steps]
    tiers = [tier_no(d) for d in decisions]
    provisional = [TIERS.index(d.provisional_tier) for d in decisions]
    assert tiers == sorted(tiers), tiers
    assert provisional == sorted(provisional), provisional


@MANY
@given(inputs(), POLICIES, st.floats(0, 15), st.sampled_from(["sanctions", "pep"]))
def test_a_possible_match_never_approves(x: dict[str, Any], p: risk.Policy, above: float,
                                         kind: str) -> None:
    x["bank_checks"]["screening"] = {"status": "completed", "hits": [
        *x["bank_checks"]["screening"]["hits"],
        {"entity_id": "X", "list": "l", "kind": kind,
         "score": min(100.0, p.screening.possible_match_threshold + above)}]}
    d = risk.assess(x, p)
    assert d.outcome != "approve"
    assert d.outcome in ("refer", "decline")
    assert d.tier == "T0"  # sanctions clear is a requirement of every tier


@MANY
@given(inputs(), POLICIES, st.sampled_from(INDICATORS))
def test_coercion_indicators_refer_never_decline(x: dict[str, Any], p: risk.Policy,
                                                 code: str) -> None:
    x = without_decline_facts(x)
    x["bank_checks"]["coercion"]["indicators"].append({"code": code})
    d = risk.assess(x, p)
    assert d.outcome == "refer"
    assert "COERCION_INDICATORS" in d.reason_codes


@MANY
@given(inputs(), POLICIES, st.sampled_from((*BAD_RESULTS, "missing", "issuer_suspended",
                                                          "issuer_revoked")))
def test_bad_attestation_never_above_t0_and_never_declines_by_itself(
        x: dict[str, Any], p: risk.Policy, bad: str) -> None:
    if bad == "missing" or x["attestation"] is None:
        x["attestation"] = None
    elif bad.startswith("issuer_"):
        x["attestation"]["issuer"] = {"id": "ngo", "accreditation_state": bad[7:]}
    else:
        x["attestation"]["verification"]["result"] = bad
    x["bank_checks"]["standard_cdd"] = "passed"
    d = risk.assess(x, p)
    assert d.tier == "T0" and d.provisional_tier == "T0"
    assert d.features == () and d.limits is None
    assert (d.outcome == "decline") == decline_facts(x)
    if not decline_facts(x) and not any(r.kind is Kind.REFER for r in d.reasons):
        assert d.outcome == "hold"


@MANY
@given(inputs(), POLICIES)
def test_limits_and_features_never_exceed_the_policy(x: dict[str, Any], p: risk.Policy
                                                     ) -> None:
    d = risk.assess(x, p)
    j = p.jurisdiction(x["jurisdiction"])
    assert set(d.features) <= set(p.tiers[d.tier].features if d.tier != "T0" else ())
    lim = d.limits
    if d.tier in ("T0", "T3"):
        assert lim is None
    else:
        assert lim is not None
        assert set(lim) == set(j.limits[d.tier])
        for k, v in lim.items():
            assert v <= j.limits[d.tier][k]
            # and never more than any parameter set of the policy allows for the tier
            assert v <= max(js.limits[d.tier].get(k, 0) for js in p.jurisdictions.values())
    if d.valid_until is not None:
        months = p.tiers[d.tier].validity_months
        assert months is not None
        assert d.valid_until <= risk.engine.add_months(d.as_of, months)


@MANY
@given(inputs(), POLICIES)
def test_the_trace_always_explains_the_outcome(x: dict[str, Any], p: risk.Policy) -> None:
    d = risk.assess(x, p)
    out = d.to_dict()
    trace = out["trace"]
    failed = {t["reason_code"] for t in trace if t["result"] == "fail"}
    kinds = {REASONS[c].kind for c in failed}
    # Every reason given is a failed rule in the trace, and every trace entry explains itself.
    assert set(out["reason_codes"]) <= failed
    assert all(t["explanation"] and isinstance(t["inputs"], dict) for t in trace)
    assert trace[-1] == {**trace[-1], "rule": "outcome", "result": d.outcome}
    assert trace[-2]["rule"] == "tier" and trace[-2]["result"] == d.tier
    # The outcome follows from the failed rules exactly.
    if Kind.DECLINE in kinds:
        assert d.outcome == "decline" and d.tier == "T0"
    elif Kind.REFER in kinds:
        assert d.outcome == "refer"
    elif d.tier == "T0":
        assert d.outcome == "hold"
        blocking = [t for t in trace if "T1" in t["requirement_of"]
                    and t["result"] in ("fail", "not_evaluated")]
        assert any(t["result"] == "fail" for t in blocking)
        assert out["reason_codes"]
    else:
        assert d.outcome == "approve"
    # The tier is the highest whose requirements all passed in the trace.
    if d.outcome != "decline":
        for t in TIERS[1:]:
            reqs = [e for e in trace if t in e["requirement_of"]]
            ok = all(e["result"] in ("pass", "not_applicable") for e in reqs)
            if TIERS.index(t) > tier_no(d):
                assert not ok, t
            elif t == d.tier:
                assert ok
    # Why not the next tier names at least one blocking rule.
    wn = out["why_not_next_tier"]
    if d.tier == "T3":
        assert wn is None
    else:
        assert wn["tier"] == TIERS[tier_no(d) + 1] and wn["missing"]
