"""Compliance reports and SAR export (built by the reports work; see tests)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/compliance/reports")
