"""Organisation administration: staff accounts, organisations (platform), audit view."""

from onboarding.admin.views import bp

__all__ = ["bp"]
