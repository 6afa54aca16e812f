"""Sign-in, TOTP, step-up, password change and sign-out."""

from onboarding.auth.views import bp

__all__ = ["bp"]
