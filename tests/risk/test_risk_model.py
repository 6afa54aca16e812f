"""Input parsing (clear errors with JSON paths), the JSON Schema, docs, and import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from risk_testdata import make

import risk
from risk import model
from risk.schema import INPUT_SCHEMA

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("changes", "path", "message"), [
    ({"case_id": ...}, "$.case_id", "is required"),
    ({"surprise": 1}, "$.surprise", "unknown key"),
    ({"bank_checks.consent_given": True}, "$.bank_checks.consent_given", "unknown key"),
    ({"assessed_at": "2025-02-30"}, "$.assessed_at", "not a valid date"),
    ({"assessed_at": "2025-07-01T10:00:00"}, "$.assessed_at", "timezone"),
    ({"attestation.claims.identity_assurance": 3}, "$.attestation.claims.identity_assurance",
     "between 0 and 2"),
    ({"attestation.claims.identity_assurance": True},
     "$.attestation.claims.identity_assurance", "must be an integer"),
    ({"attestation.claims.evidence_categories": [1, "x"]},
     "$.attestation.claims.evidence_categories[1]", "must be an integer"),
    ({"attestation.claims.date_of_birth": "1990-13"}, "$.attestation.claims.date_of_birth",
     "YYYY, YYYY-MM or YYYY-MM-DD"),
    ({"attestation.claims.nationality": "UK"}, "$.attestation.claims.nationality", "alpha-3"),
    ({"attestation.claims.exp": 1}, "$.attestation.claims.exp", "after iat"),
    ({"attestation.claims": None}, "$.attestation.claims", "required when"),
    ({"attestation.verification.result": "ok"}, "$.attestation.verification.result",
     "must be one of"),
    ({"bank_checks.screening.hits": [{"entity_id": "e", "list": "l", "kind": "pep",
                                      "score": 101}]},
     "$.bank_checks.screening.hits[0].score", "between 0 and 100"),
    ({"bank_checks.screening": {"status": "not_run", "hits": [
        {"entity_id": "e", "list": "l", "kind": "pep", "score": 1}]}},
     "$.bank_checks.screening.hits", "must be empty"),
    ({"bank_checks.coercion": {"indicators": [{"code": "nervous"}]}},
     "$.bank_checks.coercion.indicators[0].code", "must be one of"),
    ({"account": {"tier": "T9", "opened_on": "2025-01-01"}}, "$.account.tier", "one of"),
    ({"transactions": {"period_start": "2025-06-30", "period_end": "2025-06-01"}},
     "$.transactions.period_end", "before period_start"),
    ({"bank_checks.screening.hits": [{"entity_id": "e", "list": "l", "kind": ["pep"],
                                      "score": 1}]},
     "$.bank_checks.screening.hits[0].kind", "must be one of"),
])
def test_errors_name_the_path(changes: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(model.InputError) as e:
        model.parse_input(make(**changes))
    assert e.value.path == path
    assert message in e.value.message


def test_not_an_object_and_bad_json() -> None:
    with pytest.raises(model.InputError, match=r"^\$: must be an object, got an array"):
        model.parse_input([])
    with pytest.raises(model.InputError, match="not valid JSON"):
        model.parse_json("{")
    assert model.parse_json(json.dumps(make())).case_id == "case-1"


def _walk(schema: dict[str, Any]) -> dict[str, Any]:
    if "oneOf" in schema:
        return next(s for s in schema["oneOf"] if s.get("type") != "null")
    return schema


def test_schema_matches_the_parser() -> None:
    """The documented schema and the parser agree on keys, required keys and enums."""
    pairs = [
        (INPUT_SCHEMA, model._K_TOP, ("case_id", "assessed_at", "bank_checks")),
        (INPUT_SCHEMA["properties"]["bank_checks"], model._K_BANK,
         ("consent", "screening", "duplicate")),
        (_walk(INPUT_SCHEMA["properties"]["attestation"])["properties"]["claims"],
         model._K_CLAIMS, ("identity_assurance", "evidence_categories",
                           "trusted_referee_session", "applicant_references", "iat", "exp")),
        (_walk(INPUT_SCHEMA["properties"]["transactions"]), model._K_TX,
         ("period_start", "period_end")),
        (_walk(INPUT_SCHEMA["properties"]["account"]), model._K_ACC, ("tier", "opened_on")),
        (INPUT_SCHEMA["properties"]["request"], model._K_REQ, ()),
    ]
    for schema, keys, required in pairs:
        s = _walk(schema)
        assert set(s["properties"]) == set(keys)
        assert tuple(s["required"]) == required
        assert s["additionalProperties"] is False
    bank = INPUT_SCHEMA["properties"]["bank_checks"]["properties"]
    assert bank["consent"]["enum"] == [c.value for c in model.Consent]


def test_docs_embed_the_schema() -> None:
    doc = (ROOT / "docs" / "risk.md").read_text(encoding="utf-8")
    assert json.dumps(INPUT_SCHEMA, indent=2) in doc


def test_docs_report_the_tested_screening_quality() -> None:
    from test_risk_screening import MIN_PRECISION, MIN_RECALL

    doc = (ROOT / "docs" / "risk.md").read_text(encoding="utf-8")
    assert f"at least {MIN_PRECISION:.2f} precision and {MIN_RECALL:.2f} recall" in doc


def test_risk_imports_no_web_or_database_code() -> None:
    """A bank embeds risk/ on its own: importing it (and running it) pulls in no Flask,
    SQLAlchemy or onboarding module, and not matplotlib either (backtest charts only)."""
    code = (
        "import sys, json, risk, risk.cli, risk.screening, risk.monitoring, risk.backtest, "
        "risk.synth\n"
        "p = risk.load_policy(risk.default_policy_path())\n"
        "from risk.synth import portfolio\n"
        "[risk.assess(x, p).to_dict() for x in portfolio(50, 1)]\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60)
    mods = json.loads(out.stdout)
    for banned in ("flask", "sqlalchemy", "onboarding", "werkzeug", "matplotlib"):
        assert not [m for m in mods if m == banned or m.startswith(banned + ".")], banned
    assert "risk.engine" in mods


def test_public_api() -> None:
    assert {"assess", "load_policy", "Decision", "parse_input"} <= set(risk.__all__)
    assert (ROOT / "risk" / "py.typed").exists()
