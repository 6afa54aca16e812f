"""Demo organisations and staff for a development instance. Never used in production:
``onboarding check-config`` fails while DEMO is on."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onboarding import staff
from onboarding.audit import Actor
from onboarding.clock import now
from onboarding.crypto import Keyring
from onboarding.models import Organisation
from onboarding.models.core import OrgKind, Role


@dataclass(frozen=True)
class DemoAccount:
    """A demo login to print once."""

    organisation: str
    role: Role
    email: str
    password: str


DEMO_ORGS: tuple[tuple[OrgKind, str, str, str, tuple[tuple[Role, str, str], ...]], ...] = (
    (OrgKind.AUTHORITY, "Accreditation Authority (demo)", "Accreditation Authority", "GB",
     ((Role.PLATFORM_ADMIN, "platform@authority.example", "Pat Platform"),)),
    (OrgKind.NGO, "Harbour Community Trust (demo)", "Harbour Community Trust", "GB",
     ((Role.CASEWORKER, "caseworker@harbour.example", "Casey Worker"),
      (Role.NGO_ADMIN, "admin@harbour.example", "Nadia Admin"))),
    (OrgKind.BANK, "Northbridge Bank plc (demo)", "Northbridge Bank", "GB",
     ((Role.VERIFIER, "teller@northbridge.example", "Terry Teller"),
      (Role.COMPLIANCE_OFFICER, "officer.a@northbridge.example", "Ada Officer"),
      (Role.COMPLIANCE_OFFICER, "officer.b@northbridge.example", "Ben Officer"),
      (Role.REPORTING_OFFICER, "reporting@northbridge.example", "Rita Reporting"),
      (Role.BANK_ADMIN, "admin@northbridge.example", "Bo Admin"))),
)


def _demo_password() -> str:
    # Passphrase-style so people can type it; random each instance.
    words = ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "indigo",
             "juniper", "kestrel", "lumen", "meadow", "nectar", "orchid", "pebble", "quartz",
             "raven", "sable", "tundra", "umber", "violet", "willow", "yarrow", "zephyr")
    return "-".join(secrets.choice(words) for _ in range(4)) + str(secrets.randbelow(100))


def seed(factory: sessionmaker[Session], keyring: Keyring | None = None) -> list[DemoAccount]:
    """Create the demo tenants and staff once; returns what was created (else empty).

    The NGO also gets a signing key, and its caseworker a current trusted-referee
    certification, so the whole flow can be tried at once."""
    with factory() as db, db.begin():
        if db.execute(select(func.count()).select_from(Organisation)).scalar_one():
            return []
        created = []
        for kind, name, display, jurisdiction, people in DEMO_ORGS:
            org = staff.create_organisation(db, Actor(), kind=kind, name=name,
                                            display_name=display, jurisdiction=jurisdiction)
            for role, email, person in people:
                password = _demo_password()
                user, _ = staff.create_user(db, Actor(), org=org, email=email,
                                            display_name=person, role=role, password=password,
                                            must_change_password=False)
                created.append(DemoAccount(display, role, email, password))
                if role == Role.CASEWORKER:
                    from onboarding.intake.operations import certify

                    today = now().date()
                    certify(db, Actor(), user, today, today.replace(year=today.year + 1))
            if kind == OrgKind.NGO and keyring is not None:
                from onboarding.issuer import generate_key

                generate_key(db, Actor(), keyring, org)
                # accredited by the authority for a year (the platform admin can change it)
                today = now().date()
                org.accredited_until = today.replace(year=today.year + 1)
        return created


def print_banner(created: list[DemoAccount], url: str, echo: Callable[[str], None]) -> None:
    """Print the demo accounts once, to the terminal (never through logging)."""
    bar = "!" * 78
    echo(bar)
    echo("!!  DEMO ONLY - development keys and throwaway accounts. Never use for real people.")
    echo(bar)
    if not created:
        echo("Demo accounts already exist; their passwords were printed at first start.")
        echo("Delete the instance/ folder to start over.")
    else:
        echo(f"{'organisation':26} {'role':20} {'email':32} password")
        for acct in created:
            echo(f"{acct.organisation:26} {acct.role.value:20} {acct.email:32} {acct.password}")
        echo("Each account sets up an authenticator app (TOTP) at first sign-in.")
    echo(f"Open {url}")
    echo(bar)
