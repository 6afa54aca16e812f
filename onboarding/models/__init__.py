"""Typed SQLAlchemy 2 models. Every key is a random UUIDv4 (SECURITY.md 10)."""

from onboarding.models.core import (
    AuditEntry,
    AuditHead,
    JobRun,
    Organisation,
    OrgKind,
    RecoveryCode,
    Role,
    StaffSession,
    User,
)

__all__ = [
    "AuditEntry",
    "AuditHead",
    "JobRun",
    "OrgKind",
    "Organisation",
    "RecoveryCode",
    "Role",
    "StaffSession",
    "User",
]
