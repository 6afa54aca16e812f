"""Bank policy management (built by the policies/backtest work; see tests)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("policies", __name__, url_prefix="/compliance/policies")
