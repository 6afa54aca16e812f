"""Landing page, staff home, health check and language switch."""

from onboarding.main.views import bp

__all__ = ["bp"]
