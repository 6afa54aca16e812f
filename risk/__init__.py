"""Risk tiering for survivor onboarding: tiered CDD per FATF, explainable and policy-driven.

Pure Python (no Flask, no SQLAlchemy) so a bank can run it on its own::

    import risk
    policy = risk.load_policy(risk.default_policy_path())
    decision = risk.assess(input_json_dict, policy)
    decision.outcome, decision.tier, decision.to_dict()["trace"]

The engine recommends; the bank's compliance officer decides (FATF R.17 reliance).
"""

from risk.engine import Decision, Engine, assess, engine_for
from risk.model import (
    TRANSACTION_FIELDS,
    AssessmentInput,
    InputError,
    TransactionSummary,
    parse_input,
    parse_json,
    parse_transactions,
)
from risk.policy import Policy, PolicyError, default_policy_path, load_policy

__all__ = [
    "TRANSACTION_FIELDS",
    "AssessmentInput",
    "Decision",
    "Engine",
    "InputError",
    "Policy",
    "PolicyError",
    "TransactionSummary",
    "assess",
    "default_policy_path",
    "engine_for",
    "load_policy",
    "parse_input",
    "parse_json",
    "parse_transactions",
]
