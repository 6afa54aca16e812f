"""Monitoring rules for open T1/T2 accounts (FinCEN FIN-2020-A008, DOMAIN.md §6).

At onboarding the FinCEN red flags are counter observations (coercion indicators). Once an
account is open, the transactional ones become rules over a period's transaction summary:

* **funnel account**: cash paid in at several places, most of it cash, and nearly all of it
  taken out again within the period (FIN-2020-A008 funnel-account typology);
* **prepaid cards**: repeated or large purchases of prepaid cards (alternative payments);
* **geographic spread**: activity suddenly appearing in several new regions (a person being
  moved, or an account used by others);
* **limit breach**: activity above the tier's limits, which for a low-assurance account is
  "block and review" in every tiered regime (DOMAIN.md §4).

Each alert is a refer reason, never a decline: an alert is a case for a human, who may find
the person still under control (safeguarding first) or a benign explanation. The same rules
run inside :func:`risk.assess` when the input has an ``account`` and ``transactions``; the
function :func:`alerts` runs them alone for a monitoring job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from risk.model import TransactionSummary
from risk.policy import JurisdictionParams, Policy

Describe = Callable[[TransactionSummary, str, JurisdictionParams, bool],
                    tuple[dict[str, Any], str]]


@dataclass(frozen=True, slots=True)
class MonitoringRule:
    id: str
    title: str
    reason: str
    fires: Callable[[TransactionSummary, str, JurisdictionParams], bool]
    describe: Describe


@dataclass(frozen=True, slots=True)
class Alert:
    rule: str
    reason_code: str
    inputs: dict[str, Any]
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "reason_code": self.reason_code, "inputs": self.inputs,
                "explanation": self.explanation}


#: How each limit key is read from a transaction summary.
_LIMIT_FIELDS = {
    "balance_max": "max_balance",
    "inflow_monthly": "inflow",
    "outflow_monthly": "outflow",
    "cash_monthly": None,  # cash in + cash out
    "single_transfer": "max_single_transfer",
    "inbound_cross_border_monthly": "inbound_cross_border",
}


def _used(tx: TransactionSummary, key: str) -> float:
    attr = _LIMIT_FIELDS[key]
    if attr is None:
        return tx.cash_in + tx.cash_out
    value: float = getattr(tx, attr)
    return value


def _months(tx: TransactionSummary) -> float:
    """Monthly limits scale with the period, so a 2-month summary is held to 2 months' caps."""
    return max(1.0, ((tx.period_end - tx.period_start).days + 1) / 30.4375)


def breaches(tx: TransactionSummary, tier: str, j: JurisdictionParams,
             cross_border_allowed: bool) -> list[dict[str, Any]]:
    """Every limit of ``tier`` that the period exceeds, with the amounts."""
    out = []
    scale = _months(tx)
    for key, cap in j.limits.get(tier, {}).items():
        used = _used(tx, key)
        allowed = cap * scale if key.endswith("_monthly") else cap
        if used > allowed:
            out.append({"limit": key, "cap": round(allowed, 2), "used": used})
    # Inbound cross-border money on a tier without that feature breaches by any amount.
    if tx.inbound_cross_border > 0 and not cross_border_allowed:
        out.append({"limit": "inbound_cross_border_monthly", "cap": 0.0,
                    "used": tx.inbound_cross_border})
    return out


def monitoring_rules(p: Policy) -> tuple[MonitoringRule, ...]:
    """The monitoring rules with ``p``'s thresholds bound in."""
    m = p.monitoring
    cross_border = {t: "inbound_cross_border" in spec.features for t, spec in p.tiers.items()}

    def funnel(tx: TransactionSummary, tier: str, j: JurisdictionParams) -> bool:
        if tx.inflow <= 0:
            return False
        return (tx.cash_deposit_locations >= m.funnel_min_cash_deposit_locations
                and tx.cash_in / tx.inflow >= m.funnel_min_cash_share
                and tx.outflow / tx.inflow >= m.funnel_min_outflow_share)

    def funnel_d(tx: TransactionSummary, tier: str, j: JurisdictionParams, fired: bool
                 ) -> tuple[dict[str, Any], str]:
        cash_share = tx.cash_in / tx.inflow if tx.inflow else 0.0
        out_share = tx.outflow / tx.inflow if tx.inflow else 0.0
        inputs = {"cash_deposit_locations": tx.cash_deposit_locations,
                  "cash_share_of_inflow": round(cash_share, 3),
                  "outflow_share_of_inflow": round(out_share, 3),
                  "min_locations": m.funnel_min_cash_deposit_locations,
                  "min_cash_share": m.funnel_min_cash_share,
                  "min_outflow_share": m.funnel_min_outflow_share}
        if fired:
            return inputs, (f"Cash paid in at {tx.cash_deposit_locations} locations "
                            f"({cash_share:.0%} of money in) and {out_share:.0%} taken out in "
                            "the period: funnel-account pattern, refer.")
        return inputs, "No funnel-account pattern."

    def prepaid(tx: TransactionSummary, tier: str, j: JurisdictionParams) -> bool:
        return (tx.prepaid_card_purchases > m.prepaid_card_max_purchases
                or tx.prepaid_card_amount > m.prepaid_card_max_amount)

    def prepaid_d(tx: TransactionSummary, tier: str, j: JurisdictionParams, fired: bool
                  ) -> tuple[dict[str, Any], str]:
        inputs = {"purchases": tx.prepaid_card_purchases, "amount": tx.prepaid_card_amount,
                  "max_purchases": m.prepaid_card_max_purchases,
                  "max_amount": m.prepaid_card_max_amount}
        if fired:
            return inputs, (f"{tx.prepaid_card_purchases} prepaid card purchases totalling "
                            f"{tx.prepaid_card_amount:g} {j.currency}: above the policy's "
                            "threshold, refer.")
        return inputs, "Prepaid card purchases within the policy's threshold."

    def spread(tx: TransactionSummary, tier: str, j: JurisdictionParams) -> bool:
        return tx.regions - tx.baseline_regions >= m.geographic_spread_min_new_regions

    def spread_d(tx: TransactionSummary, tier: str, j: JurisdictionParams, fired: bool
                 ) -> tuple[dict[str, Any], str]:
        inputs = {"regions": tx.regions, "baseline_regions": tx.baseline_regions,
                  "min_new_regions": m.geographic_spread_min_new_regions}
        if fired:
            return inputs, (f"Activity in {tx.regions} regions against a usual "
                            f"{tx.baseline_regions}: sudden geographic spread, refer.")
        return inputs, "No sudden geographic spread."

    def limit(tx: TransactionSummary, tier: str, j: JurisdictionParams) -> bool:
        return bool(breaches(tx, tier, j, cross_border[tier]))

    def limit_d(tx: TransactionSummary, tier: str, j: JurisdictionParams, fired: bool
                ) -> tuple[dict[str, Any], str]:
        b = breaches(tx, tier, j, cross_border[tier])
        inputs = {"tier": tier, "currency": j.currency, "breaches": b}
        if fired:
            what = ", ".join(f"{x['limit']} {x['used']:g} > {x['cap']:g}" for x in b)
            return inputs, f"{tier} limits exceeded ({what} {j.currency}): block and review."
        return inputs, f"Activity within the {tier} limits."

    return (
        MonitoringRule("monitoring.funnel_account", "No funnel-account pattern",
                       "MONITORING_FUNNEL_ACCOUNT", funnel, funnel_d),
        MonitoringRule("monitoring.prepaid_cards", "No unusual prepaid card purchases",
                       "MONITORING_PREPAID_CARDS", prepaid, prepaid_d),
        MonitoringRule("monitoring.geographic_spread", "No sudden geographic spread",
                       "MONITORING_GEOGRAPHIC_SPREAD", spread, spread_d),
        MonitoringRule("monitoring.limits", "Activity within the tier's limits",
                       "MONITORING_LIMIT_BREACH", limit, limit_d),
    )


def alerts(tx: TransactionSummary, tier: str, policy: Policy,
           jurisdiction: str | None = None) -> list[Alert]:
    """Run the monitoring rules alone on one period of a ``tier`` account."""
    if tier not in ("T1", "T2"):
        raise ValueError("monitoring rules apply to T1 and T2 accounts (T3 is the bank's own)")
    j = policy.jurisdiction(jurisdiction)
    out = []
    for rule in monitoring_rules(policy):
        if rule.fires(tx, tier, j):
            inputs, text = rule.describe(tx, tier, j, True)
            out.append(Alert(rule.id, rule.reason, inputs, text))
    return out
