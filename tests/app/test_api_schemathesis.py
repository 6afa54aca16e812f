"""Schemathesis over the bank API's own OpenAPI document (issue 4, "Done when": no 5xx and no
schema violations).

The schema is loaded from the app (``GET /api/v1/openapi.json``) and every request goes
through WSGI, in process: no network. The world is the one ``tests/app/test_bank.py`` builds
(an issued attestation, published trust and status lists, a bank API key), so generated
requests run the real verification path, not only the refusals.

Bounded and deterministic: Hypothesis is derandomized, has no example database, no
deadline, and a fixed number of examples per generation mode (positive: bodies the schema
allows; negative: bodies it forbids). On top of the generated cases, explicit ones cover
what random data rarely reaches: the valid QR as JSON and as a picture, a tampered QR, no
key, a wrong key, an unsupported media type and an oversized body.

The API is rate limited per key (120 a minute), so requests rotate over a few keys of the
same bank; a 429 would still have to conform to the schema.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from itertools import count
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.app.test_bank import api_key, world  # noqa: F401  (fixtures used below)
from tests.app.test_compliance_lifecycle import t1_world  # noqa: F401

PATH = "/api/v1/verifications"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
MAX_EXAMPLES = 100


@pytest.fixture
def schema(app: Any) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def bearer(app: Any, api_key: Any) -> Callable[[], dict[str, str]]:  # noqa: F811
    """Authorization headers, rotating over the fixture's key and four more of the bank."""
    from sqlalchemy import select

    from onboarding.audit import Actor
    from onboarding.bank import operations as ops
    from onboarding.models import ApiKey, Organisation

    _admin, first = api_key
    keys = [first]
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        row = db.execute(select(ApiKey)).scalars().first()
        org = db.get(Organisation, row.org_id)
        for i in range(4):
            keys.append(ops.create_api_key(db, Actor(row.created_by, org.id), org,
                                              f"schemathesis {i}",
                                              ["verifications:create", "decisions:read",
                                               "accounts:write"],
                                              row.created_by)[1])
    turn = count()

    def headers() -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[next(turn) % len(keys)]}"}

    return headers


def validate(case: Any, headers: dict[str, str] | None) -> Any:
    return case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["positive", "negative"])
def test_generated_requests_conform(schema: Any, world: Any, bearer: Any,  # noqa: F811
                                    mode: GenerationMode) -> None:
    operation = schema[PATH]["POST"]
    statuses: list[int] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        statuses.append(validate(case, bearer()).status_code)

    run()
    assert statuses and all(s < 500 for s in statuses)
    # The verification path itself ran (a 201 with some result), not only the refusals.
    if mode is GenerationMode.POSITIVE:
        assert 201 in statuses, statuses


def test_explicit_cases_conform(schema: Any, world: Any, bearer: Any) -> None:  # noqa: F811
    from onboarding.attestation.qr import render_png

    operation = schema[PATH]["POST"]
    qr = world["qr"]
    tampered = qr[:40] + ("A" if qr[40] != "A" else "B") + qr[41:]
    png, _version = render_png(qr, medium="print")

    def json_case(body: Any, media_type: str = "application/json") -> Any:
        return operation.Case(body=body, media_type=media_type)

    valid = validate(json_case({"qr": qr}), bearer())
    assert valid.status_code == 201 and valid.json()["result"] == "valid"
    assert validate(json_case({"qr": tampered}), bearer()).json()["result"] != "valid"
    picture = validate(operation.Case(body={"image": png},
                                      media_type="multipart/form-data"), bearer())
    assert picture.status_code == 201 and picture.json()["result"] == "valid"
    garbage = validate(operation.Case(body={"image": b"not an image"},
                                      media_type="multipart/form-data"), bearer())
    assert garbage.status_code == 201 and garbage.json()["result"] == "unreadable"
    assert validate(json_case({"qr": qr}), None).status_code == 401
    assert validate(json_case({"qr": qr}), {"Authorization": "Bearer onb_x_y"}).status_code == 401
    assert validate(json_case({"qr": qr, "extra": 1}), bearer()).status_code == 422
    assert validate(json_case({"qr": "x" * 20_000}), bearer()).status_code == 413
    plain = json_case({"qr": qr}).call_and_validate(
        headers={**bearer(), "Content-Type": "text/plain"}, checks=CHECKS)
    assert plain.status_code == 415


def test_rate_limited_answer_conforms(schema: Any) -> None:
    """The 121st request in a minute with the same Authorization header gets a 429 problem
    document (the limiter runs before the key is checked, so a made-up key will do)."""
    case = schema[PATH]["POST"].Case(body={"qr": "x"}, media_type="application/json")
    headers = {"Authorization": f"Bearer onb_{secrets.token_hex(4)}_made-up"}
    statuses = [case.call(headers=headers).status_code for _ in range(120)]
    assert set(statuses) == {401}
    limited = validate(case, headers)
    assert limited.status_code == 429 and limited.headers.get("retry-after")




ACCOUNT_OPS = [("/api/v1/decisions", "GET"), ("/api/v1/cases/{case_id}", "GET"),
               ("/api/v1/cases/{case_id}/account-ref", "PUT"),
               ("/api/v1/cases/{case_id}/transaction-summaries", "POST")]


@pytest.mark.parametrize(("path", "method"), ACCOUNT_OPS,
                         ids=[f"{m} {p}" for p, m in ACCOUNT_OPS])
def test_account_endpoints_conform(schema: Any, t1_world: Any, bearer: Any,  # noqa: F811
                                   path: str, method: str) -> None:
    """The decision API and the monitoring feed, fuzzed against the served OpenAPI: half of
    the generated requests are aimed at a real open account, so bodies reach the parsers
    and the monitoring rules (not only the 404 for an unknown id)."""
    operation = schema[path][method]
    statuses: list[int] = []
    turn = count()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def run(case: Any) -> None:
        if "case_id" in (case.path_parameters or {}) and next(turn) % 2 == 0:
            case.path_parameters = {**case.path_parameters, "case_id": t1_world["case"]}
            if method == "POST" and isinstance(case.body, dict):
                # a period the account can have (opened today): the figures reach the rules
                today = date.today().isoformat()
                case.body = {**case.body, "period_start": today, "period_end": today}
        statuses.append(validate(case, bearer()).status_code)

    run()
    assert statuses and all(s < 500 for s in statuses)
    assert {200, 201} & set(statuses), statuses  # the real paths ran, not only refusals
