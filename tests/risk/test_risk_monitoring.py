"""Monitoring rules (FIN-2020-A008) on open T1/T2 accounts: alone and inside assess."""

from __future__ import annotations

from datetime import date

import pytest
from risk_testdata import make

import risk
from risk.model import TransactionSummary
from risk.monitoring import alerts

POLICY = risk.load_policy(risk.default_policy_path())
QUIET = TransactionSummary(date(2025, 6, 1), date(2025, 6, 30), inflow=900, outflow=700,
                           cash_in=100, cash_out=100, max_balance=800, max_single_transfer=200,
                           cash_deposit_locations=1, regions=1, baseline_regions=1)


def tx(**changes: float) -> TransactionSummary:
    from dataclasses import replace

    return replace(QUIET, **changes)  # type: ignore[arg-type]


def codes(t: TransactionSummary, tier: str = "T1", jurisdiction: str | None = None
          ) -> list[str]:
    return [a.reason_code for a in alerts(t, tier, POLICY, jurisdiction)]


def test_quiet_account_has_no_alert() -> None:
    assert codes(QUIET) == [] and codes(QUIET, "T2") == []


def test_funnel_account() -> None:
    # Within every T1 limit, so only the pattern itself can fire.
    funnel = tx(inflow=800, cash_in=450, cash_out=0, outflow=760, cash_deposit_locations=4)
    assert codes(funnel) == ["MONITORING_FUNNEL_ACCOUNT"]
    # Same money from one branch is not a funnel.
    assert codes(tx(inflow=800, cash_in=450, cash_out=0, outflow=760,
                    cash_deposit_locations=1)) == []
    # Nor is cash that stays in the account.
    assert codes(tx(inflow=800, cash_in=450, cash_out=0, outflow=300,
                    cash_deposit_locations=4)) == []


def test_prepaid_cards_and_geographic_spread() -> None:
    assert codes(tx(prepaid_card_purchases=3)) == ["MONITORING_PREPAID_CARDS"]
    assert codes(tx(prepaid_card_amount=250)) == ["MONITORING_PREPAID_CARDS"]
    assert codes(tx(regions=3)) == ["MONITORING_GEOGRAPHIC_SPREAD"]
    assert codes(tx(regions=2)) == []


@pytest.mark.parametrize(("changes", "tier", "breached"), [
    ({"max_balance": 2000.01}, "T1", "balance_max"),
    ({"inflow": 1501}, "T1", "inflow_monthly"),
    ({"cash_in": 300, "cash_out": 201}, "T1", "cash_monthly"),
    ({"max_single_transfer": 501}, "T1", "single_transfer"),
    ({"inbound_cross_border": 1}, "T1", "inbound_cross_border_monthly"),  # no such feature
    ({"inbound_cross_border": 501}, "T2", "inbound_cross_border_monthly"),
])
def test_limit_breaches(changes: dict[str, float], tier: str, breached: str) -> None:
    [a] = alerts(tx(**changes), tier, POLICY)
    assert a.reason_code == "MONITORING_LIMIT_BREACH"
    assert [b["limit"] for b in a.inputs["breaches"]] == [breached]


def test_limits_are_the_jurisdictions_and_scale_with_the_period() -> None:
    assert codes(tx(max_balance=1700)) == []
    assert codes(tx(max_balance=1700), jurisdiction="GB") == ["MONITORING_LIMIT_BREACH"]
    two_months = tx(period_end=date(2025, 7, 31), inflow=2900)  # type: ignore[arg-type]
    assert codes(two_months, "T2") == []
    assert codes(tx(inflow=2900), "T1") == ["MONITORING_LIMIT_BREACH"]


def test_t3_is_the_banks_own_monitoring() -> None:
    with pytest.raises(ValueError, match="T1 and T2"):
        alerts(QUIET, "T3", POLICY)


def test_alerts_inside_assess_refer_never_decline() -> None:
    x = make(request={"type": "periodic_review"},
             account={"tier": "T1", "opened_on": "2025-01-01", "valid_until": "2026-01-01"},
             transactions={"period_start": "2025-06-01", "period_end": "2025-06-30",
                           "inflow": 800, "cash_in": 450, "outflow": 760,
                           "cash_deposit_locations": 4, "prepaid_card_purchases": 5})
    d = risk.assess(x, POLICY)
    assert d.outcome == "refer" and d.tier == "T1"
    assert set(d.reason_codes) == {"MONITORING_FUNNEL_ACCOUNT", "MONITORING_PREPAID_CARDS"}
    assert d.survivor_message() == risk.reasons.SURVIVOR_MESSAGES["refer"]
    # Without an open account monitoring does not apply.
    del x["account"]
    assert risk.assess(x, POLICY).rule_result("monitoring.funnel_account") == "not_applicable"
