"""Who may call which route: the checked-in table behind SECURITY.md check 9.

Every endpoint in ``app.url_map`` must have an entry; :func:`onboarding.security.enforce`
denies any endpoint that has none (so forgetting one fails closed), and the route × role
matrix test fails CI. Values are role sets, or one of the markers below. A dict value
gives a policy per HTTP method.
"""

from __future__ import annotations

from typing import Final

from onboarding.models.core import Role

PUBLIC: Final = "public"  # anyone, signed in or not
PARTIAL: Final = "partial"  # password accepted; TOTP (or enrolment) still pending
STAFF: Final = "staff"  # any fully signed-in staff member

Access = str | frozenset[Role]
Spec = Access | dict[str, Access]

NGO_STAFF: Final = frozenset({Role.CASEWORKER, Role.NGO_ADMIN})
BANK_STAFF: Final = frozenset({Role.VERIFIER, Role.COMPLIANCE_OFFICER,
                               Role.REPORTING_OFFICER, Role.BANK_ADMIN})
ORG_ADMINS: Final = frozenset({Role.NGO_ADMIN, Role.BANK_ADMIN, Role.PLATFORM_ADMIN})
PLATFORM: Final = frozenset({Role.PLATFORM_ADMIN})
CASEWORKERS: Final = frozenset({Role.CASEWORKER})
NGO_ADMINS: Final = frozenset({Role.NGO_ADMIN})
COMPLIANCE: Final = frozenset({Role.COMPLIANCE_OFFICER})

POLICY: dict[str, Spec] = {
    "static": PUBLIC,
    "main.index": PUBLIC,
    "main.health": PUBLIC,
    "main.set_language": PUBLIC,
    "main.home": STAFF,
    "auth.login": PUBLIC,
    "auth.totp": PARTIAL,
    "auth.enrol_totp": PARTIAL,
    "auth.recovery_codes": STAFF,
    "auth.logout": {"POST": PARTIAL},
    "auth.change_password": STAFF,
    "auth.reauth": STAFF,
    "admin.staff": ORG_ADMINS,
    "admin.new_staff": ORG_ADMINS,
    "admin.staff_detail": ORG_ADMINS,
    "admin.disable_staff": {"POST": ORG_ADMINS},
    "admin.enable_staff": {"POST": ORG_ADMINS},
    "admin.reset_totp": {"GET": ORG_ADMINS, "POST": ORG_ADMINS},
    "admin.organisations": PLATFORM,
    "admin.new_organisation": PLATFORM,
    "admin.audit": ORG_ADMINS,
    # intake (NGO): caseworkers enrol and issue; NGO admins oversee
    "intake.caseload": NGO_STAFF,
    "intake.new": NGO_STAFF,
    "intake.identity": NGO_STAFF,
    "intake.photo": NGO_STAFF,
    "intake.photo_image": NGO_STAFF,
    "intake.evidence": NGO_STAFF,
    "intake.remove_evidence": {"POST": NGO_STAFF},
    "intake.referee": NGO_STAFF,
    "intake.review": NGO_STAFF,
    "intake.issue": {"POST": CASEWORKERS},
    "intake.person": NGO_STAFF,
    "intake.withdraw_consent": {"POST": NGO_STAFF},
    "intake.export": NGO_STAFF,
    "intake.erase": {"POST": NGO_STAFF},
    "intake.legal_hold": {"POST": NGO_ADMINS},
    "intake.attestation": NGO_STAFF,
    "intake.card": NGO_STAFF,
    "intake.suspend": {"POST": NGO_STAFF},
    "intake.unsuspend": {"POST": NGO_STAFF},
    "intake.revoke": {"POST": NGO_STAFF},
    "intake.reissue": {"POST": CASEWORKERS},
    "intake.handover": {"POST": NGO_STAFF},
    "intake.held": NGO_ADMINS,
    "intake.release": {"POST": NGO_ADMINS},
    "intake.certifications": NGO_ADMINS,
    "intake.consent_texts": NGO_ADMINS,
    # the person's own one-time page (no account): the token is the credential
    "handover.collect": PUBLIC,
    # public lists (no personal data)
    "lists.status_list": PUBLIC,
    "lists.trust_list": PUBLIC,
    "lists.trust_list_json": PUBLIC,
    "lists.jwks": PUBLIC,
    "lists.rollovers": PUBLIC,
    "lists.status_index": PUBLIC,
    # bank side
    "bank.verify_page": frozenset({Role.VERIFIER}),
    "bank.open_case": {"POST": frozenset({Role.VERIFIER})},
    "bank.case": frozenset({Role.VERIFIER, Role.COMPLIANCE_OFFICER}),
    "bank.api_keys": frozenset({Role.BANK_ADMIN}),
    "bank.revoke_api_key": {"POST": frozenset({Role.BANK_ADMIN})},
    "bank.webhook": frozenset({Role.BANK_ADMIN}),
    "bank.webhook_set": {"POST": frozenset({Role.BANK_ADMIN})},
    "bank.webhook_test": {"POST": frozenset({Role.BANK_ADMIN})},
    "bank.webhook_disable": {"POST": frozenset({Role.BANK_ADMIN})},
    "bank.webhook_retry": {"POST": frozenset({Role.BANK_ADMIN})},
    # token-authenticated API (the key is checked in the view) and its description
    "api.create_verification": {"POST": PUBLIC},
    "api.openapi": PUBLIC,
    "api.list_decisions": PUBLIC,
    "api.get_case": PUBLIC,
    "api.put_account_ref": {"PUT": PUBLIC},
    "api.post_transactions": {"POST": PUBLIC},
    # compliance workspace (bank)
    "compliance.queue": COMPLIANCE,
    "compliance.case": COMPLIANCE,
    "compliance.assign": {"POST": COMPLIANCE},
    "compliance.approve": {"POST": COMPLIANCE},
    "compliance.step_up": {"POST": COMPLIANCE},
    "compliance.renewal": {"POST": COMPLIANCE},
    "compliance.renew": {"POST": COMPLIANCE},
    "compliance.keep_tier": {"POST": COMPLIANCE},
    "compliance.alert": {"POST": COMPLIANCE},
    "compliance.transactions": frozenset({Role.BANK_ADMIN, Role.COMPLIANCE_OFFICER}),
    "compliance.propose": {"POST": COMPLIANCE},
    "compliance.decide_proposal": {"POST": COMPLIANCE},
    "compliance.hit": {"POST": COMPLIANCE},
    "compliance.safeguarding": {"POST": COMPLIANCE},
    "compliance.wider_view": {"POST": COMPLIANCE},
    "compliance.screening_lists": frozenset({Role.BANK_ADMIN, Role.COMPLIANCE_OFFICER}),
    "ngo_safeguarding.inbox": NGO_ADMINS,
    "ngo_safeguarding.reply": {"POST": NGO_ADMINS},
    "policies.index": COMPLIANCE,
    "policies.new": COMPLIANCE,
    "policies.detail": COMPLIANCE,
    "policies.backtest": {"POST": COMPLIANCE},
    "policies.propose_publish": {"POST": COMPLIANCE},
    "policies.decide": {"POST": COMPLIANCE},
    "policies.archive": {"POST": COMPLIANCE},
    "reports.dashboard": frozenset({Role.COMPLIANCE_OFFICER, Role.REPORTING_OFFICER,
                                    Role.BANK_ADMIN}),
    "reports.export_csv": frozenset({Role.COMPLIANCE_OFFICER, Role.REPORTING_OFFICER,
                                     Role.BANK_ADMIN}),
    "reports.sar": frozenset({Role.REPORTING_OFFICER}),
    # issuer registry (authority)
    "registry.issuers": PLATFORM,
    "registry.accredit": {"POST": PLATFORM},
    "registry.publish": {"POST": PLATFORM},
}


def access_for(endpoint: str, method: str) -> Access | None:
    """The access rule for ``endpoint`` and ``method`` (None: no entry, deny)."""
    spec = POLICY.get(endpoint)
    if isinstance(spec, dict):
        if method == "HEAD":
            method = "GET"
        return spec.get(method)
    return spec


def allows(access: Access, role: Role | None, level: str | None) -> bool:
    """Does a caller with ``role`` at authentication ``level`` pass ``access``?"""
    if access == PUBLIC:
        return True
    if access == PARTIAL:
        return level in ("password", "full")
    if level != "full" or role is None:
        return False
    if access == STAFF:
        return True
    return isinstance(access, frozenset) and role in access
