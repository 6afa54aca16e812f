"""Small shared helpers (time conversion, typ header check)."""

from __future__ import annotations

import math
import time
from datetime import datetime

from onboarding.attestation.cose import HEADER_TYP, Sign1

__all__ = ["MAX_TIME", "iso", "timestamp", "typ_of"]

#: Latest time any signed document may carry: 9999-12-31T23:59:59Z. Beyond it calendar
#: conversions fail, and nothing legitimate lives there.
MAX_TIME = 253_402_300_799
_floor = math.floor


def timestamp(at: datetime) -> int:
    """Whole seconds since the epoch; refuses naive datetimes (ambiguous time zone)."""
    if at.utcoffset() is None:  # also None without tzinfo
        raise ValueError("datetime must be timezone-aware (e.g. datetime.now(UTC))")
    return _floor(at.timestamp())


def iso(ts: int) -> str:
    """ISO 8601 UTC with a ``Z`` suffix (``time.strftime``: twice as fast as datetime,
    and this runs on every verification)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def typ_of(msg: Sign1) -> object:
    """The protected ``typ`` header (RFC 9596), or None. Unprotected typ does not count."""
    return msg.protected.get(HEADER_TYP)
