"""One place that reads the clock, so tests can move time (idle/absolute timeouts, TOTP)."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC (or the frozen time set by tests)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Freeze the clock at ``at`` (``None`` releases it). Used by tests only."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("frozen time must be timezone-aware")
    _frozen = at
