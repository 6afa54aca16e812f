"""survivor-onboarding: signed identity attestations and tiered account opening.

This module stays free of Flask imports on purpose: ``onboarding.attestation`` is an
offline verifier that banks embed without the web app, and importing a subpackage
always imports this file first. ``create_app`` therefore imports the app lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application (``flask --app onboarding`` finds this)."""
    from onboarding.app import build_app

    return build_app(test_config)
