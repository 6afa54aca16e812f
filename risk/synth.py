"""Synthetic portfolios for tests, backtests and benchmarks. Never real people.

The mix is shaped like an NGO-referral portfolio rather than uniform noise, so a backtest on it
moves the way a real one would: most attestations valid and recent, a minority of trusted-referee
exceptions stepping up later, few screening hits (most of them cleared), rare confirmed facts.
Every draw comes from one ``random.Random(seed)``: the same seed gives the same portfolio on
every platform, which the backtest test relies on.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from risk.model import CoercionIndicator

_BASE = date(2025, 7, 1)
_RESULTS_BAD = ("invalid", "revoked", "suspended", "expired", "untrusted_issuer", "unreadable",
                "not_yet_valid")
# Codes of onboarding/attestation/claims.py EvidenceCategory, split by the default policy's
# strength: FAIR (expired passport or national ID, protection document, status letter,
# consular document) and WEAK (interview, vouch, records).
_FAIR_PLUS = (2, 3, 4, 10, 11)
_WEAK = (1, 5, 6, 7, 8, 9, 12, 13, 14)
_FEATURES = ("domestic_account", "domestic_debit_card", "wages_and_benefits_in",
             "bill_payments", "transfers_to_any_domestic_payee", "direct_debits",
             "inbound_cross_border", "outbound_cross_border", "credit_and_overdraft")
_INDICATORS = tuple(c.value for c in CoercionIndicator)
_JURISDICTIONS = ("REF", "GB", "US", "CA")


def _epoch(d: date, seconds: int) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) + seconds


def case(rng: random.Random, i: int) -> dict[str, Any]:
    """One synthetic input (a JSON-ready dict) drawn from ``rng``."""
    r = rng.random
    as_of = _BASE + timedelta(days=rng.randrange(0, 180))
    req_type = rng.choices(("onboarding", "periodic_review", "step_up", "renewal"),
                           (70, 20, 5, 5))[0]
    x: dict[str, Any] = {
        "case_id": f"syn-{i:07d}",
        "assessed_at": as_of.isoformat(),
        "jurisdiction": rng.choice(_JURISDICTIONS),
        "applicant_key": f"app-{i:07d}",
        "request": {"type": req_type,
                    "features": rng.sample(_FEATURES, rng.randrange(1, 5))},
    }
    # ---- attestation
    u = r()
    if u < 0.03:
        x["attestation"] = None
    else:
        result = "valid" if u >= 0.08 else rng.choice(_RESULTS_BAD)
        assurance = rng.choices((0, 1, 2), (55, 35, 10))[0]
        if assurance:
            ev = rng.sample(_FAIR_PLUS, rng.choices((1, 2), (70, 30))[0])
            if r() < 0.3:
                ev.append(rng.choice(_WEAK))
        else:
            ev = rng.sample(_WEAK, rng.randrange(0, 2))
        age = int(rng.triangular(0, 260, 30))
        iat_day = as_of - timedelta(days=age)
        claims: dict[str, Any] = {
            "identity_assurance": assurance,
            "evidence_categories": ev,
            "trusted_referee_session": rng.choices((1, 2, 0), (85, 12, 3))[0],
            "applicant_references": rng.choices((0, 1, 2), (30, 55, 15))[0],
            "iat": _epoch(iat_day, rng.randrange(0, 86400)),
            "exp": _epoch(iat_day + timedelta(days=365), 0),
            "photo": r() < 0.95,
        }
        year = rng.randrange(1955, 2010)
        if r() < 0.4:
            claims["date_of_birth"] = str(year)
            claims["date_of_birth_approximate"] = r() < 0.5
        else:
            month, day = rng.randrange(1, 13), rng.randrange(1, 29)
            claims["date_of_birth"] = f"{year}-{month:02d}-{day:02d}"
        if r() < 0.8:
            claims["nationality"] = rng.choice(("UKR", "NGA", "VNM", "ALB", "ROU", "ERI", "SYR",
                                                "PHL", "XXA", "GBR"))
        state = rng.choices(("active", "lapsed", "suspended", "revoked"), (94, 3, 2, 1))[0]
        att: dict[str, Any] = {
            "verification": {"result": result, "warnings": []},
            "claims": claims if result == "valid" or r() < 0.5 else None,
            "issuer": {"id": f"ngo-{rng.randrange(1, 40):02d}", "accreditation_state": state,
                       "accreditation_expires": (as_of + timedelta(
                           days=rng.randrange(-10, 700))).isoformat()},
        }
        if result == "valid":
            u2 = r()
            if u2 < 0.8:
                att["verification"]["status_as_of"] = (datetime.combine(
                    as_of, datetime.min.time(), UTC) - timedelta(hours=rng.randrange(0, 20))
                ).isoformat()
            elif u2 < 0.9:
                att["verification"]["status_as_of"] = (datetime.combine(
                    as_of, datetime.min.time(), UTC) - timedelta(days=rng.randrange(2, 10))
                ).isoformat()
            else:
                att["verification"]["warnings"] = ["no status list available"]
        if r() < 0.7:
            cert = iat_day + timedelta(days=rng.randrange(-20, 365))
            att["referee"] = {
                "certification_state": "certified" if cert >= as_of else "expired",
                "certification_expires": cert.isoformat(),
                "attestations_in_window": int(rng.triangular(1, 50, 10)),
            }
        x["attestation"] = att
    # ---- bank checks
    hits = []
    if r() < 0.08:
        for _ in range(rng.randrange(1, 3)):
            hits.append({
                "entity_id": f"SYN-{rng.randrange(1, 5000)}",
                "list": rng.choice(("ofac-sdn", "pep-synthetic")),
                "kind": rng.choices(("sanctions", "pep"), (70, 30))[0],
                "score": round(rng.uniform(70, 100), 1),
                "disposition": rng.choices(("open", "cleared", "confirmed"), (70, 25, 5))[0],
            })
    screened = r() < 0.97
    indicators = []
    if r() < 0.05:
        for _ in range(rng.randrange(1, 3)):
            if r() < 0.3:
                indicators.append({"code": "insists_on_being_present",
                                   "by_registered_caseworker": True})
            else:
                indicators.append({"code": rng.choice(_INDICATORS)})
    x["bank_checks"] = {
        "consent": rng.choices(("given", "not_recorded", "refused", "withdrawn"),
                               (95, 3, 1, 1))[0],
        "screening": {"status": "completed" if screened else "not_run",
                      "hits": hits if screened else []},
        "duplicate": rng.choices(("clear", "possible", "confirmed", "not_run"),
                                 (950, 30, 5, 15))[0],
        "coercion": {"indicators": indicators,
                     "third_party_control_confirmed": r() < 0.003},
        "fraud_confirmed": r() < 0.003,
        "attribute_conflicts": ["date_of_birth"] if r() < 0.03 else [],
        "minor": True if r() < 0.005 else None,
        "authenticator_aal": rng.choices((2, 3, 1, None), (85, 7, 5, 3))[0],
        "standard_cdd": rng.choices(("not_done", "passed", "failed"), (85, 10, 5))[0],
        "id_application_confirmed": r() < 0.3,
    }
    # ---- open account
    if req_type != "onboarding":
        # Accounts mostly sit at the tier their evidence supports; the rest are step-up cases.
        assured = x["attestation"] is not None and x["attestation"]["claims"] is not None and \
            x["attestation"]["claims"]["identity_assurance"] > 0
        tier = rng.choices(("T1", "T2"), (20, 80) if assured else (90, 10))[0]
        opened = as_of - timedelta(days=rng.randrange(30, 700))
        x["account"] = {"tier": tier, "opened_on": opened.isoformat(),
                        "valid_until": (opened + timedelta(
                            days=365 if tier == "T1" else 730)).isoformat(),
                        "renewals_used": rng.choices((0, 1), (80, 20))[0]}
        if r() < 0.6:
            inflow = round(rng.uniform(100, 1900), 2)
            cash_in = round(inflow * rng.uniform(0, 1), 2)
            start = date(as_of.year, as_of.month, 1) - timedelta(days=1)
            start = start.replace(day=1)
            end = date(as_of.year, as_of.month, 1) - timedelta(days=1)
            x["transactions"] = {
                "period_start": start.isoformat(), "period_end": end.isoformat(),
                "inflow": inflow, "outflow": round(inflow * rng.uniform(0.3, 1.0), 2),
                "cash_in": round(cash_in * 0.3, 2), "cash_out": round(rng.uniform(0, 300), 2),
                "max_balance": round(rng.uniform(50, 2300), 2),
                "max_single_transfer": round(rng.uniform(10, 520), 2),
                "inbound_cross_border": 0 if r() < 0.9 else round(rng.uniform(10, 600), 2),
                "cash_deposit_locations": rng.choices((0, 1, 2, 3, 5), (30, 40, 15, 10, 5))[0],
                "prepaid_card_purchases": rng.choices((0, 1, 3), (90, 7, 3))[0],
                "prepaid_card_amount": 0,
                "regions": rng.choices((1, 2, 4), (80, 15, 5))[0],
                "baseline_regions": 1,
            }
    return x


def portfolio(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """``n`` synthetic cases, deterministic for a given seed."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    for i in range(n):
        yield case(rng, i)
