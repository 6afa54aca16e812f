"""Flask extensions, created unbound and initialised in the app factory."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
babel = Babel()
# Storage comes from RATELIMIT_STORAGE_URI: Redis when ONBOARDING_REDIS_URL is set (shared
# by every app server), process memory otherwise (demo, single process).
limiter = Limiter(key_func=get_remote_address, default_limits=[],
                  headers_enabled=True, strategy="moving-window")
