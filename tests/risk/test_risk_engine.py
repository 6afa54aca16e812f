"""Engine behaviour on hand-built cases: each DOMAIN.md §5 trigger, tier and output field."""

from __future__ import annotations

import json
from datetime import date

import pytest
from risk_testdata import epoch, make

import risk
from risk.engine import add_months, latest_birth_date

POLICY = risk.load_policy(risk.default_policy_path())


def run(**changes: object) -> risk.Decision:
    return risk.assess(make(**changes), POLICY)


def test_clean_case_is_t1_approve_with_limits_validity_and_trace() -> None:
    d = run()
    assert (d.outcome, d.tier, d.provisional_tier) == ("approve", "T1", "T1")
    out = d.to_dict()
    assert out["limits"] == {"currency": "RU", "balance_max": 2000, "inflow_monthly": 1500,
                             "outflow_monthly": 1000, "cash_monthly": 500,
                             "single_transfer": 500}
    assert "inbound_cross_border" not in out["features"]
    assert "domestic_debit_card" in out["features"]
    assert out["valid_from"] == "2025-07-01"
    assert out["valid_until"] == "2026-07-01"  # 12 months
    assert out["next_review"] == "2026-06-01"  # 30 days before
    assert out["reason_codes"] == []
    assert out["why_not_next_tier"]["tier"] == "T2"
    assert {m["reason_code"] for m in out["why_not_next_tier"]["missing"]} == {
        "ASSURANCE_BELOW_POLICY", "EVIDENCE_BELOW_POLICY"}
    assert out["policy"]["hash"] == POLICY.content_hash
    assert out["policy"]["hash"].startswith("sha256:")
    json.dumps(out)  # JSON-ready all the way down
    rules = [t["rule"] for t in out["trace"]]
    assert rules[-2:] == ["tier", "outcome"]
    assert len(rules) == len(set(rules))
    assert all(t["explanation"] for t in out["trace"])


def test_ial1_with_fair_evidence_is_t2_with_cross_border() -> None:
    d = run(**{"attestation.claims.identity_assurance": 1,
               "attestation.claims.evidence_categories": [3]})
    assert (d.outcome, d.tier) == ("approve", "T2")
    out = d.to_dict()
    assert out["limits"]["inbound_cross_border_monthly"] == 500
    assert "GBR" in out["inbound_cross_border_from"]
    assert out["valid_until"] == "2027-07-01"


def test_vouches_are_not_evidence() -> None:
    # IAL1 claimed but only weak evidence, many references: still T1 (NIST: a vouch is not
    # evidence), and the explanation says why.
    d = run(**{"attestation.claims.identity_assurance": 1,
               "attestation.claims.evidence_categories": [7, 1],
               "attestation.claims.applicant_references": 3})
    assert d.tier == "T1"
    missing = d.why_not_next_tier()
    assert missing is not None
    [ev] = [m for m in missing["missing"] if m["rule"] == "T2.evidence"]
    assert "not evidence" in ev["explanation"]


def test_standard_cdd_gives_t3_with_bank_limits() -> None:
    d = run(**{"bank_checks.standard_cdd": "passed"})
    assert (d.outcome, d.tier) == ("approve", "T3")
    assert d.limits is None and d.valid_until is None
    assert d.why_not_next_tier() is None
    assert "credit_and_overdraft" in d.features


@pytest.mark.parametrize("result", ["invalid", "revoked", "suspended", "expired",
                                    "untrusted_issuer", "unreadable", "not_yet_valid"])
def test_bad_attestation_is_t0_hold_never_decline(result: str) -> None:
    d = run(**{"attestation.verification.result": result,
               "bank_checks.standard_cdd": "passed"})
    assert (d.outcome, d.tier, d.provisional_tier) == ("hold", "T0", "T0")
    assert d.reason_codes == (f"ATTESTATION_{result.upper()}",)
    assert "not about you" in d.survivor_message()
    assert d.features == () and d.limits is None


def test_missing_attestation_and_untrusted_issuer_hold() -> None:
    assert run(attestation=None).reason_codes == ("ATTESTATION_MISSING",)
    for state in ("suspended", "revoked"):
        d = run(**{"attestation.issuer.accreditation_state": state})
        assert (d.outcome, d.tier, d.reason_codes) == ("hold", "T0", ("ISSUER_NOT_TRUSTED",))


def test_expired_at_the_counter_but_not_on_periodic_review() -> None:
    late = {"assessed_at": "2026-08-01"}
    d = run(**late)
    assert (d.outcome, d.reason_codes) == ("hold", ("ATTESTATION_EXPIRED",))
    d = run(**late, **{"request": {"type": "periodic_review"},
                       "account": {"tier": "T1", "opened_on": "2025-07-01",
                                   "valid_until": "2026-12-01"}})
    assert (d.outcome, d.tier) == ("approve", "T1")
    assert d.rule_result("attestation.in_date") == "not_applicable"
    assert d.valid_until == date(2026, 12, 1)  # re-tiering does not extend validity


@pytest.mark.parametrize(("changes", "code"), [
    ({"bank_checks.screening.hits": [{"entity_id": "E1", "list": "sdn", "kind": "sanctions",
                                      "score": 97, "disposition": "confirmed"}]},
     "CONFIRMED_SANCTIONS_MATCH"),
    ({"bank_checks.fraud_confirmed": True}, "CONFIRMED_FRAUD"),
    ({"bank_checks.duplicate": "confirmed"}, "CONFIRMED_DUPLICATE"),
    ({"bank_checks.coercion": {"third_party_control_confirmed": True}},
     "CONFIRMED_THIRD_PARTY_CONTROL"),
    ({"bank_checks.consent": "refused"}, "CONSENT_REFUSED"),
    ({"bank_checks.consent": "withdrawn"}, "CONSENT_REFUSED"),
])
def test_decline_only_on_confirmed_facts(changes: dict[str, object], code: str) -> None:
    d = run(**changes)
    assert (d.outcome, d.tier, d.provisional_tier) == ("decline", "T0", "T0")
    assert code in d.reason_codes
    assert d.requires_human
    # The applicant is never told why (tipping-off).
    assert code not in d.survivor_message() and "sanction" not in d.survivor_message().lower()


@pytest.mark.parametrize(("changes", "code", "tier"), [
    ({"bank_checks.coercion": {"indicators": [{"code": "holds_applicant_documents"}]}},
     "COERCION_INDICATORS", "T0"),
    ({"bank_checks.screening.hits": [{"entity_id": "E1", "list": "sdn", "kind": "sanctions",
                                      "score": 85}]}, "POSSIBLE_SANCTIONS_MATCH", "T0"),
    ({"bank_checks.screening.hits": [{"entity_id": "P1", "list": "pep", "kind": "pep",
                                      "score": 90}]}, "POSSIBLE_PEP_MATCH", "T0"),
    ({"bank_checks.screening.hits": [{"entity_id": "P1", "list": "pep", "kind": "pep",
                                      "score": 90, "disposition": "confirmed"}]},
     "CONFIRMED_PEP", "T0"),
    ({"bank_checks.duplicate": "possible"}, "POSSIBLE_DUPLICATE", "T0"),
    ({"attestation.referee": {"certification_state": "expired",
                              "certification_expires": "2025-05-01"}},
     "REFEREE_NOT_CERTIFIED", "T0"),
    ({"attestation.issuer.accreditation_state": "lapsed"}, "ISSUER_ACCREDITATION_LAPSED",
     "T0"),
    ({"attestation.issuer.accreditation_expires": "2025-06-30"},
     "ISSUER_ACCREDITATION_LAPSED", "T0"),
    ({"attestation.referee": {"attestations_in_window": 41}}, "REFEREE_VOUCHING_VOLUME", "T1"),
    ({"bank_checks.attribute_conflicts": ["date_of_birth"]}, "ATTRIBUTE_CONFLICT", "T1"),
    ({"bank_checks.minor": True}, "MINOR", "T1"),
    ({"attestation.claims.date_of_birth": "2007"}, "POSSIBLE_MINOR", "T1"),
    ({"attestation.claims.iat": epoch(date(2024, 12, 1))}, "ATTESTATION_NOT_FRESH", "T1"),
    ({"request": {"override_requested": True}}, "OVERRIDE_REVIEW", "T1"),
    ({"request": {"type": "step_up"}}, "STEP_UP_REVIEW", "T1"),
])
def test_refer_triggers(changes: dict[str, object], code: str, tier: str) -> None:
    d = run(**changes)
    assert d.outcome == "refer"
    assert code in d.reason_codes
    assert d.tier == tier
    # Clearing the review item would give T1: the reviewer sees what is at stake.
    assert d.provisional_tier == "T1"
    assert d.survivor_message().startswith("A colleague needs to look")


def test_caseworker_presence_is_expected_but_a_strangers_is_not() -> None:
    own = {"bank_checks.coercion": {"indicators": [
        {"code": "insists_on_being_present", "by_registered_caseworker": True}]}}
    assert run(**own).outcome == "approve"
    other = {"bank_checks.coercion": {"indicators": [{"code": "insists_on_being_present"}]}}
    assert run(**other).outcome == "refer"
    # The exemption covers presence only: a caseworker holding documents is still referred.
    held = {"bank_checks.coercion": {"indicators": [
        {"code": "holds_applicant_documents", "by_registered_caseworker": True}]}}
    assert run(**held).outcome == "refer"


def test_referee_certified_at_session_time_even_if_expired_since() -> None:
    d = run(**{"attestation.referee": {"certification_state": "expired",
                                       "certification_expires": "2025-06-15"}})
    assert d.outcome == "approve"


def test_screening_hits_below_threshold_or_cleared_do_not_refer() -> None:
    hits = [{"entity_id": "E1", "list": "sdn", "kind": "sanctions", "score": 84.9},
            {"entity_id": "E2", "list": "sdn", "kind": "sanctions", "score": 99,
             "disposition": "cleared"}]
    d = run(**{"bank_checks.screening.hits": hits})
    assert d.outcome == "approve"
    [entry] = [t for t in d.trace() if t["rule"] == "screening.no_possible_match"]
    assert entry["inputs"]["threshold"] == 85
    assert "1 cleared" in entry["explanation"]


@pytest.mark.parametrize(("changes", "code", "message"), [
    ({"bank_checks.screening": {"status": "not_run"}}, "SCREENING_NOT_RUN", "hold_bank"),
    ({"bank_checks.duplicate": "not_run"}, "DUPLICATE_CHECK_NOT_RUN", "hold_bank"),
    ({"bank_checks.consent": "not_recorded"}, "CONSENT_NOT_RECORDED", "hold_bank"),
    ({"bank_checks.authenticator_aal": 1}, "AUTHENTICATOR_BELOW_POLICY", "hold_bank"),
    ({"attestation.claims.photo": False}, "SIGNED_PHOTO_MISSING", "hold_issuer"),
    ({"attestation.claims.trusted_referee_session": 2}, "REFEREE_SESSION_NOT_ACCEPTED",
     "hold_issuer"),
])
def test_unmet_t1_requirements_hold_with_the_right_message(
        changes: dict[str, object], code: str, message: str) -> None:
    d = run(**changes)
    assert (d.outcome, d.tier, d.reason_codes) == ("hold", "T0", (code,))
    assert d.survivor_message() == risk.reasons.SURVIVOR_MESSAGES[message]


def test_jurisdiction_parameter_sets() -> None:
    gb = run(jurisdiction="GB").to_dict()
    assert gb["limits"]["currency"] == "GBP" and gb["limits"]["balance_max"] == 1600
    us = run(jurisdiction="US").to_dict()  # inherits REF amounts, own currency
    assert us["limits"] == {**run().to_dict()["limits"], "currency": "USD"}
    # Canada's age of majority is 19 in this policy: an 18-year-old is a possible minor.
    ca = run(jurisdiction="CA", **{"attestation.claims.date_of_birth": "2007-06-01"})
    assert "POSSIBLE_MINOR" in ca.reason_codes
    assert "POSSIBLE_MINOR" not in run(**{"attestation.claims.date_of_birth": "2007-06-01"}
                                       ).reason_codes
    with pytest.raises(risk.InputError, match="no parameter set"):
        run(jurisdiction="ZZ")


def test_requested_features_not_allowed_name_the_tier_that_allows_them() -> None:
    d = run(request={"features": ["domestic_account", "direct_debits", "cheques"]})
    assert d.requested_features_not_allowed() == [
        {"feature": "direct_debits", "available_from": "T2"},
        {"feature": "cheques", "available_from": "T3"}]
    with pytest.raises(risk.InputError, match="unknown feature"):
        run(request={"features": ["teleport"]})


def test_t1_validity_ending_and_renewal_explanation() -> None:
    acc = {"tier": "T1", "opened_on": "2024-07-20", "valid_until": "2025-07-20"}
    d = run(request={"type": "renewal"}, account=acc,
            **{"bank_checks.id_application_confirmed": True})
    assert d.outcome == "refer" and "T1_VALIDITY_ENDING" in d.reason_codes
    [e] = [t for t in d.trace() if t["rule"] == "review.t1_validity"]
    assert e["inputs"]["days_left"] == 19
    assert "Renewal is available" in e["explanation"]
    d = run(request={"type": "renewal"}, account={**acc, "renewals_used": 1})
    [e] = [t for t in d.trace() if t["rule"] == "review.t1_validity"]
    assert "not available" in e["explanation"]


def test_tier_rise_over_open_account_is_a_step_up_for_review() -> None:
    d = run(request={"type": "periodic_review"},
            account={"tier": "T1", "opened_on": "2025-01-01", "valid_until": "2026-01-01"},
            **{"attestation.claims.identity_assurance": 1,
               "attestation.claims.evidence_categories": [4]})
    assert (d.outcome, d.tier, d.reason_codes) == ("refer", "T2", ("STEP_UP_REVIEW",))


def test_as_of_overrides_assessed_at_and_engine_is_deterministic() -> None:
    x = make()
    a = risk.assess(x, POLICY).to_dict()
    b = risk.assess(x, POLICY).to_dict()
    assert a == b
    later = risk.assess(x, POLICY, as_of=date(2026, 1, 1))
    assert later.as_of == date(2026, 1, 1)
    assert "ATTESTATION_NOT_FRESH" in later.reason_codes  # 214 days after iat


def test_status_list_freshness_only_in_policies_that_ask() -> None:
    strict = risk.load_policy(risk.default_policy_path().with_name("strict-example-v1.yaml"))
    x = make(**{"attestation.verification.status_as_of": "2025-06-20T00:00:00Z"})
    assert risk.assess(x, POLICY).outcome == "approve"
    d = risk.assess(x, strict)
    assert "STATUS_LIST_STALE" in d.reason_codes
    x = make(**{"attestation.verification.status_as_of": None})
    assert "STATUS_LIST_STALE" in risk.assess(x, strict).reason_codes


def test_helpers() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 12, 15), 14) == date(2026, 2, 15)
    assert latest_birth_date("1990") == date(1990, 12, 31)
    assert latest_birth_date("2000-02") == date(2000, 2, 29)
    assert latest_birth_date("1990-04-02") == date(1990, 4, 2)


def test_summary_matches_full_decision() -> None:
    d = run(**{"bank_checks.duplicate": "possible"})
    s = d.summary()
    full = d.to_dict()
    for k in ("case_id", "outcome", "tier", "provisional_tier", "reason_codes", "valid_until",
              "next_review"):
        assert s[k] == full[k]
    assert s["policy"]["hash"] == full["policy"]["hash"]


def test_sensitive_reasons_are_marked() -> None:
    d = run(**{"bank_checks.coercion": {"indicators": [{"code": "speaks_for_applicant"}]}})
    [reason] = d.to_dict()["reasons"]
    assert reason["sensitive"] and reason["safeguarding"]
