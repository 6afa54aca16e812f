"""JSON Schema (draft 2020-12) of the engine's input.

Kept in code, next to the parser it documents, so the package ships it without data files;
``python -m risk schema`` prints it and docs/risk.md embeds the same text (a test keeps them
equal, and another checks that the schema's keys, required keys and enums match the parser's).
The parser stays the authority: it also checks what JSON Schema says poorly (``exp`` after
``iat``, no hits when screening was not run, real calendar dates).
"""

from __future__ import annotations

from typing import Any, Final

from risk.model import (
    AccreditationState,
    CddStatus,
    CheckStatus,
    CoercionIndicator,
    Consent,
    Disposition,
    HitKind,
    RefereeCertification,
    RequestType,
    ScreeningStatus,
    VerificationResult,
)


def _enum(cls: Any) -> dict[str, Any]:
    return {"enum": [m.value for m in cls]}


_DATE: Final = {"type": "string", "format": "date"}
_DATETIME: Final = {"type": "string", "format": "date-time"}
_MONEY: Final = {"type": "number", "minimum": 0}
_COUNT: Final = {"type": "integer", "minimum": 0}


def _obj(props: dict[str, Any], required: list[str], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "additionalProperties": False,
                           "required": required, "properties": props}
    if description:
        out["description"] = description
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [{"type": "null"}, schema]}


INPUT_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:survivor-onboarding:risk:input:1",
    "title": "Risk tiering input",
    **_obj({
        "schema": {"const": 1},
        "case_id": {"type": "string", "minLength": 1, "maxLength": 200},
        "assessed_at": {"type": "string", "description":
                        "Date (or date-time with zone) the case is assessed on; the default as_of"},
        "jurisdiction": {"type": "string", "description": "Parameter set of the policy; "
                         "absent means the policy's default_jurisdiction"},
        "applicant_key": {"type": "string", "description": "Stable key of the applicant at "
                          "the bank (screening whitelist)"},
        "attestation": _nullable(_obj({
            "verification": _obj({
                "result": _enum(VerificationResult),
                "warnings": {"type": "array", "items": {"type": "string"}},
                "status_as_of": _nullable(_DATETIME),
                "steps": {"type": "array", "description": "FORMATS.md steps; not used"},
            }, ["result"], "The verification result object of FORMATS.md"),
            "claims": _nullable(_obj({
                "identity_assurance": {"enum": [0, 1, 2]},
                "evidence_categories": {"type": "array", "items": {"type": "integer",
                                                                   "minimum": 0}},
                "trusted_referee_session": {"enum": [0, 1, 2]},
                "applicant_references": _COUNT,
                "iat": {**_COUNT, "description": "Seconds since the epoch"},
                "exp": {**_COUNT, "description": "Seconds since the epoch"},
                "date_of_birth": {"type": "string",
                                  "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
                "date_of_birth_approximate": {"type": "boolean"},
                "nationality": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "photo": {"type": "boolean", "description": "The attestation carries a signed "
                          "face thumbnail (claim 5)"},
            }, ["identity_assurance", "evidence_categories", "trusted_referee_session",
                "applicant_references", "iat", "exp"],
                "Verified claims (FORMATS.md); required when the result is valid")),
            "issuer": _nullable(_obj({
                "id": {"type": "string"},
                "accreditation_state": _enum(AccreditationState),
                "accreditation_expires": _nullable(_DATE),
            }, ["id", "accreditation_state"], "The issuer's trust-list entry")),
            "referee": _nullable(_obj({
                "certification_state": _nullable(_enum(RefereeCertification)),
                "certification_expires": _nullable(_DATE),
                "attestations_in_window": _nullable(_COUNT),
            }, [], "What the issuer reports of the trusted referee, if anything")),
        }, ["verification"])),
        "bank_checks": _obj({
            "consent": _enum(Consent),
            "screening": _obj({
                "status": _enum(ScreeningStatus),
                "hits": {"type": "array", "items": _obj({
                    "entity_id": {"type": "string"},
                    "list": {"type": "string"},
                    "kind": _enum(HitKind),
                    "score": {"type": "number", "minimum": 0, "maximum": 100},
                    "disposition": _enum(Disposition),
                    "list_version": {"type": "string"},
                    "matched_name": {"type": "string"},
                }, ["entity_id", "list", "kind", "score"])},
            }, ["status"]),
            "duplicate": _enum(CheckStatus),
            "coercion": _obj({
                "indicators": {"type": "array", "items": _obj({
                    "code": _enum(CoercionIndicator),
                    "by_registered_caseworker": {"type": "boolean"},
                }, ["code"])},
                "third_party_control_confirmed": {"type": "boolean"},
            }, []),
            "fraud_confirmed": {"type": "boolean"},
            "attribute_conflicts": {"type": "array", "items": {"type": "string"}},
            "minor": _nullable({"type": "boolean"}),
            "authenticator_aal": _nullable({"enum": [1, 2, 3]}),
            "standard_cdd": _enum(CddStatus),
            "id_application_confirmed": {"type": "boolean"},
        }, ["consent", "screening", "duplicate"]),
        "request": _obj({
            "type": _enum(RequestType),
            "features": {"type": "array", "items": {"type": "string"}},
            "override_requested": {"type": "boolean"},
        }, []),
        "account": _nullable(_obj({
            "tier": {"enum": ["T0", "T1", "T2", "T3"]},
            "opened_on": _DATE,
            "valid_until": _nullable(_DATE),
            "renewals_used": _COUNT,
        }, ["tier", "opened_on"], "An account already open (review, renewal, step-up)")),
        "transactions": _nullable(_obj({
            "period_start": _DATE,
            "period_end": _DATE,
            **{k: _MONEY for k in ("inflow", "outflow", "cash_in", "cash_out", "max_balance",
                                   "max_single_transfer", "inbound_cross_border",
                                   "prepaid_card_amount")},
            **{k: _COUNT for k in ("cash_deposit_locations", "prepaid_card_purchases",
                                   "regions", "baseline_regions")},
        }, ["period_start", "period_end"], "One period of the open account, for monitoring")),
    }, ["case_id", "assessed_at", "bank_checks"]),
}
