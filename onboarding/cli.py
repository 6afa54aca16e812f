"""The ``onboarding`` command (also available as ``flask --app onboarding ...``)."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any, cast

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from onboarding import create_app
from onboarding.audit import Actor
from onboarding.models.intake import LEGAL_HOLD_REASONS


def _factory() -> sessionmaker[Session]:
    return cast(sessionmaker[Session], current_app.extensions["onboarding.sessionmaker"])


def _engine() -> Engine:
    return cast(Engine, current_app.extensions["onboarding.engine"])


# --------------------------------------------------------------------------- db
@click.group("db")
def db_group() -> None:
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations (default: all)."""
    from onboarding import migrate

    migrate.upgrade(_engine(), revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from onboarding import migrate

    migrate.downgrade(_engine(), revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (developers)."""
    from onboarding import migrate

    migrate.revision(_engine(), message)


# ----------------------------------------------------------------------- admin
@click.command("create-admin")
@click.option("--email", required=True, help="The platform admin's work email.")
@click.option("--name", "display_name", required=True, help="The admin's name.")
@click.option("--authority", default="Accreditation Authority",
              help="Name of the authority organisation (created if missing).")
@with_appcontext
def create_admin(email: str, display_name: str, authority: str) -> None:
    """Create a platform admin and print a one-time password (changed at first sign-in)."""
    from onboarding import staff
    from onboarding.audit import Actor
    from onboarding.models import Organisation
    from onboarding.models.core import OrgKind, Role

    with _factory()() as db, db.begin():
        org = db.execute(select(Organisation).where(
            Organisation.kind == OrgKind.AUTHORITY)).scalars().first()
        if org is None:
            org = staff.create_organisation(db, Actor(), kind=OrgKind.AUTHORITY, name=authority,
                                            display_name=authority)
        try:
            user, initial = staff.create_user(db, Actor(), org=org, email=email,
                                              display_name=display_name,
                                              role=Role.PLATFORM_ADMIN)
        except staff.StaffError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"Created platform admin {user.email}.")
    click.echo(f"One-time password (shown once, must be changed at first sign-in): {initial}")


@click.command("check-config")
@with_appcontext
def check_config() -> None:
    """Fail (exit 1) if this configuration is not fit for production."""
    from onboarding.config import check_production

    problems = check_production(dict(current_app.config))
    client = current_app.test_client()
    resp = client.get("/healthz", base_url="https://localhost")
    for header in ("Content-Security-Policy", "Strict-Transport-Security",
                   "X-Content-Type-Options", "Referrer-Policy"):
        if header not in resp.headers:
            problems.append(f"response header {header} missing")
    if problems:
        for p in problems:
            click.echo(f"FAIL {p}", err=True)
        sys.exit(1)
    click.echo("configuration OK for production")


# ----------------------------------------------------------------------- audit
@click.group("audit")
def audit_group() -> None:
    """Hash-chained audit log."""


def _audit_key_path() -> Path:
    env = os.environ.get("ONBOARDING_AUDIT_SIGNING_KEY_FILE")
    return Path(env) if env else Path(current_app.instance_path) / "audit_signing_key.pem"


def _load_audit_key() -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = _audit_key_path()
    if not path.exists():
        raise click.ClickException(f"no audit signing key at {path}: run `onboarding audit keygen`")
    return load_pem_private_key(path.read_bytes(), password=None)


@audit_group.command("keygen")
@with_appcontext
def audit_keygen() -> None:
    """Create the Ed25519 key that signs exported chain heads."""
    generate_audit_key(_audit_key_path())
    click.echo(f"audit signing key written to {_audit_key_path()}")


def generate_audit_key(path: Path) -> None:
    """Write a new Ed25519 private key (0600) unless one exists."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


@audit_group.command("verify")
@click.option("--head", "head_file", type=click.Path(exists=True, dir_okay=False),
              help="A checkpoint written by export-head (catches truncation).")
@click.option("--public-key", "public_key_file", type=click.Path(exists=True, dir_okay=False),
              help="PEM public key that signed the checkpoint (default: derived from the "
                   "instance's signing key). Lets an off-box verifier hold no private key.")
@with_appcontext
def audit_verify(head_file: str | None, public_key_file: str | None) -> None:
    """Walk the chain; exit 1 and name the first broken entry if any."""
    from cryptography.exceptions import InvalidSignature

    from onboarding import audit

    head = None
    if head_file:
        checkpoint = json.loads(Path(head_file).read_text())
        if public_key_file:
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            public_key: Any = load_pem_public_key(Path(public_key_file).read_bytes())
        else:
            public_key = _load_audit_key().public_key()
        try:
            head = audit.verify_head(checkpoint, public_key)
        except (InvalidSignature, KeyError) as exc:
            click.echo(f"BROKEN checkpoint {head_file}: signature not valid", err=True)
            raise SystemExit(1) from exc
    with _factory()() as db:
        report = audit.verify_chain(db, head)
    if report.ok:
        click.echo(f"audit chain OK: {report.entries} entries")
    else:
        click.echo(f"BROKEN at entry {report.first_bad_seq}: {report.problem}", err=True)
        sys.exit(1)


@audit_group.command("public-key")
@with_appcontext
def audit_public_key() -> None:
    """Print the PEM public key that verifies exported checkpoints."""
    from cryptography.hazmat.primitives import serialization

    pem = _load_audit_key().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    click.echo(pem.decode().strip())


@audit_group.command("export-head")
@click.option("--out", type=click.Path(dir_okay=False), default="-",
              help="Where to write the signed checkpoint (default: stdout).")
@with_appcontext
def audit_export_head(out: str) -> None:
    """Write a signed checkpoint of the chain head; keep it outside the database."""
    from onboarding import audit

    with _factory()() as db:
        checkpoint = audit.export_head(db, _load_audit_key())
    text = json.dumps(checkpoint, indent=2)
    if out == "-":
        click.echo(text)
    else:
        Path(out).write_text(text + "\n")
        click.echo(f"checkpoint at entry {checkpoint['seq']} written to {out}")


# ------------------------------------------------------------------------ jobs
@click.group("jobs")
def jobs_group() -> None:
    """Periodic jobs (call `jobs run` from cron or a systemd timer)."""


@jobs_group.command("run")
@click.option("--only", help="Run just this job.")
@click.option("--force", is_flag=True, help="Run even if not due.")
@with_appcontext
def jobs_run(only: str | None, force: bool) -> None:
    """Run the jobs that are due, once."""
    from onboarding import jobs

    failures = jobs.run_due(_factory(), job_config(), only=only, force=force,
                            report=click.echo)
    if failures:
        sys.exit(1)


def job_config() -> dict[str, Any]:
    """App config plus the key services jobs need (never logged, never stored)."""
    config = dict(current_app.config)
    config["_keyring"] = current_app.extensions["onboarding.keyring"]
    config["_keystore"] = current_app.extensions["onboarding.keystore"]
    config["_blind_index"] = current_app.extensions["onboarding.blind_index"]
    config["_instance_path"] = current_app.instance_path
    return config


@jobs_group.command("list")
@with_appcontext
def jobs_list() -> None:
    """Registered jobs and when they last ran."""
    from onboarding import jobs
    from onboarding.models import JobRun

    with _factory()() as db:
        for j in jobs.REGISTRY.values():
            row = db.get(JobRun, j.name)
            last = row.last_started_at.isoformat() if row and row.last_started_at else "never"
            status = row.last_status if row else "never"
            click.echo(f"{j.name:24} every {j.every}  last {last} ({status})  {j.description}")


# --------------------------------------------------------------------- records
@click.group("records")
def records_group() -> None:
    """Legal holds on enrolled people's records (by record id, never by name)."""


def _hold(person_id: str, on: bool, reason: str) -> None:
    from onboarding.intake import operations as ops
    from onboarding.models import Person

    try:
        pid = uuid.UUID(person_id)
    except ValueError:
        raise click.ClickException(
            "Give the record id (a UUID) shown in the NGO workspace.") from None
    with _factory()() as db, db.begin():
        person = db.get(Person, pid)
        if person is None:
            raise click.ClickException("No such record.")
        try:
            ops.set_legal_hold(db, Actor(), person, on, reason)
        except ops.IntakeError as exc:
            raise click.ClickException(str(exc)) from None
        until = person.retain_until.isoformat() if person.retain_until else "not set"
    click.echo(f"{pid}: legal hold {'on' if on else 'off'} (retention date {until})")


_REASON = click.option("--reason", required=True, type=click.Choice(LEGAL_HOLD_REASONS),
                       help="Why (a code, so no personal detail reaches the audit log).")


@records_group.command("hold")
@click.argument("person_id")
@_REASON
@with_appcontext
def records_hold(person_id: str, reason: str) -> None:
    """Place a legal hold: erasure and the retention job leave the record alone."""
    _hold(person_id, True, reason)


@records_group.command("release")
@click.argument("person_id")
@_REASON
@with_appcontext
def records_release(person_id: str, reason: str) -> None:
    """Lift a legal hold: the record's retention date applies again (a past date means the
    next retention run shreds it)."""
    _hold(person_id, False, reason)


@records_group.command("holds")
@with_appcontext
def records_holds() -> None:
    """Records under legal hold: id, organisation, retention date."""
    from onboarding.models import Person

    with _factory()() as db:
        for pid, org_id, until in db.execute(select(
                Person.id, Person.org_id, Person.retain_until).where(
                Person.legal_hold.is_(True)).order_by(Person.created_at)):
            click.echo(f"{pid}  org {org_id}  retention {until or 'not set'}")


# ------------------------------------------------------------------------ keys
@click.group("keys")
def keys_group() -> None:
    """Issuer signing keys (private halves stored only encrypted under the KEK)."""


def _ngo(db: Session, org_ref: str) -> Any:
    from onboarding.models import Organisation
    from onboarding.models.core import OrgKind

    rows = db.execute(select(Organisation).where(Organisation.kind == OrgKind.NGO)).scalars()
    for org in rows:
        if org_ref in (str(org.id), org.issuer_id, org.name, org.display_name):
            return org
    raise click.ClickException(f"no NGO matches {org_ref!r}")


@keys_group.command("generate")
@click.option("--org", "org_ref", required=True, help="NGO id, issuer id or name.")
@click.option("--alg", type=click.Choice(["Ed25519", "ES256"]), default="Ed25519",
              show_default=True)
@with_appcontext
def keys_generate(org_ref: str, alg: str) -> None:
    """Create the NGO's first signing key (or rotate: the old key is retired)."""
    from onboarding import issuer
    from onboarding.audit import Actor

    with _factory()() as db, db.begin():
        org = _ngo(db, org_ref)
        row = issuer.generate_key(db, Actor(), current_app.extensions["onboarding.keyring"],
                                  org, alg)
        click.echo(f"{org.display_name}: new {alg} key, kid {row.kid.hex()} (issuer "
                   f"{org.issuer_id}); previous keys retired")


@keys_group.command("rotate")
@click.option("--org", "org_ref", required=True)
@click.option("--alg", type=click.Choice(["Ed25519", "ES256"]), default="Ed25519")
@click.pass_context
def keys_rotate(ctx: click.Context, org_ref: str, alg: str) -> None:
    """Rotate with overlap: new active key; the old one keeps verifying what it signed."""
    ctx.invoke(keys_generate, org_ref=org_ref, alg=alg)


@keys_group.command("revoke")
@click.option("--org", "org_ref", required=True)
@click.option("--kid", required=True, help="Key id (hex) of the compromised key.")
@with_appcontext
def keys_revoke(org_ref: str, kid: str) -> None:
    """Compromise: revoke a key; everything it signed stops verifying."""
    from onboarding import issuer
    from onboarding.audit import Actor
    from onboarding.models import IssuerKey

    with _factory()() as db, db.begin():
        org = _ngo(db, org_ref)
        row = db.execute(select(IssuerKey).where(IssuerKey.org_id == org.id,
                                                 IssuerKey.kid == bytes.fromhex(kid))
                         ).scalar_one_or_none()
        if row is None:
            raise click.ClickException("no such key")
        issuer.revoke_key(db, Actor(), row)
    click.echo(f"key {kid} revoked; publish the trust list now")


@keys_group.command("list")
@click.option("--org", "org_ref", required=True)
@with_appcontext
def keys_list(org_ref: str) -> None:
    """An NGO's keys and their states."""
    from onboarding.models import IssuerKey

    with _factory()() as db:
        org = _ngo(db, org_ref)
        for row in db.execute(select(IssuerKey).where(IssuerKey.org_id == org.id)
                              .order_by(IssuerKey.created_at)).scalars():
            click.echo(f"{row.kid.hex()}  alg {row.alg}  {row.state.value:8} "
                       f"created {row.created_at:%Y-%m-%d}")


@keys_group.command("rewrap")
@with_appcontext
def keys_rewrap() -> None:
    """After a KEK rotation: re-encrypt data keys, TOTP seeds and signing keys under the
    new primary KEK, so the old one can be retired."""
    from onboarding import mfa
    from onboarding.attestation import keys as akeys
    from onboarding.models import IssuerKey, User

    keyring = current_app.extensions["onboarding.keyring"]
    n_dek = current_app.extensions["onboarding.keystore"].rewrap_all()
    n_totp = n_keys = 0
    with _factory()() as db, db.begin():
        for user in db.execute(select(User).where(User.totp_secret_enc.is_not(None))).scalars():
            if user.totp_secret_enc and keyring.needs_rewrap(user.totp_secret_enc):
                secret = mfa.open_secret(keyring, user.id, user.totp_secret_enc)
                user.totp_secret_enc = mfa.seal_secret(keyring, user.id, secret)
                n_totp += 1
        from onboarding import issuer

        for row in db.execute(select(IssuerKey)).scalars():
            private = issuer.signing_key(keyring, row)
            row.private_key_enc = akeys.wrap_private_key(private, keyring.primary,
                                                         context=issuer._aad(row.id))
            n_keys += 1
    from onboarding import trust

    gov_path = trust.governance_key_path(Path(current_app.instance_path))
    n_gov = 0
    if gov_path.exists():
        gov = trust.load_governance_key(gov_path, keyring)
        blob = akeys.wrap_private_key(gov, keyring.primary, context=b"governance-key")
        tmp = gov_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, gov_path)
        n_gov = 1
    click.echo(f"re-wrapped {n_dek} data keys, {n_totp} TOTP seeds, {n_keys} signing keys, "
               f"{n_gov} governance key")


# ----------------------------------------------------------------------- trust
@click.group("trust")
def trust_group() -> None:
    """The signed trust list: governance key, publishing, and offline copies."""


@trust_group.command("keygen")
@with_appcontext
def trust_keygen() -> None:
    """Create the governance key (wrapped under the KEK) and write the public anchor."""
    from onboarding import trust

    instance = Path(current_app.instance_path)
    trust.generate_governance_key(trust.governance_key_path(instance),
                                  current_app.extensions["onboarding.keyring"])
    click.echo(f"governance key ready; banks pin {trust.anchor_path(instance)}")


@trust_group.command("anchor")
@with_appcontext
def trust_anchor() -> None:
    """Print the governance public key (PEM) that banks pin."""
    from onboarding import trust

    click.echo(trust.anchor_path(Path(current_app.instance_path)).read_text().strip())


@trust_group.command("publish")
@click.option("--force", is_flag=True, help="Publish even if nothing changed.")
@with_appcontext
def trust_publish(force: bool) -> None:
    """Sign and publish the trust list (normally the job does this)."""
    from onboarding import trust
    from onboarding.audit import Actor

    key = trust.load_governance_key(trust.governance_key_path(Path(current_app.instance_path)),
                                    current_app.extensions["onboarding.keyring"])
    with _factory()() as db, db.begin():
        row = trust.publish(db, Actor(), key, force=force)
    click.echo(f"published version {row.version}" if row else "unchanged; not republished")


@trust_group.command("rollover")
@with_appcontext
def trust_rollover() -> None:
    """Rotate the governance key (planned rotation, not compromise): the current key
    announces the new one, the key files are swapped, and a trust list signed by the new key
    is published. Run again to finish a rotation that was interrupted."""
    from onboarding import governance, jobs, trust
    from onboarding.clock import now

    instance = Path(current_app.instance_path)
    keyring = current_app.extensions["onboarding.keyring"]
    # Under the trust_list.publish job's lock: a job run holding the old key must not sign
    # a list between the announcement and the new key's first list.
    with jobs.exclusive(_engine(), "trust_list.publish") as mine:
        if not mine:
            raise click.ClickException("the trust_list.publish job is running: try again")
        try:
            with _factory()() as db:
                done = governance.pending(db, instance, keyring)
                resume_publish = done is None and governance.needs_publish(db, instance)
            if resume_publish:
                click.echo("finishing an interrupted rotation: publishing with the key in force")
            elif done is None:
                with _factory()() as db, db.begin():
                    done = governance.start(db, Actor(), instance, keyring, now())
            anchor = (governance.finish(instance, keyring, done) if done is not None
                      else trust.anchor_path(instance))
            key = trust.load_governance_key(trust.governance_key_path(instance), keyring)
            with _factory()() as db, db.begin():
                row = trust.publish(db, Actor(), key, force=True)
        except (governance.RolloverError, trust.TrustError) as exc:
            raise click.ClickException(str(exc)) from None
    what = (f"governance key {done.old_kid} -> {done.new_kid} (announcement {done.seq})"
            if done is not None else "rotation finished")
    click.echo(f"{what}; trust list version {row.version if row else '?'} signed by the new "
               f"key.\nBanks that verify online follow the announcement; banks verifying "
               f"offline run `onboarding trust fetch` and should pin {anchor} from now on.")


@trust_group.command("fetch")
@click.argument("base_url")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="trust-cache",
              show_default=True, help="Folder for trust-list.cose, jwks.json and status/.")
def trust_fetch(base_url: str, out_dir: str) -> None:
    """Download the trust list and every status list it implies, for offline use.

    Needs no app, keys or database: a bank runs it wherever it verifies. Verify later
    with `onboarding verify --trust-list OUT/trust-list.cose --anchor ANCHOR.pem
    --status OUT/status`.
    """
    from onboarding.trustfetch import fetch

    try:
        report = fetch(base_url, Path(out_dir))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"could not fetch from {base_url}: {exc}") from exc
    click.echo(report)


# ---------------------------------------------------------------------- backup
@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False))
@with_appcontext
def backup(out: str) -> None:
    """Back up the data database to OUT (SQLite online backup, or pg_dump -Fc).

    By design this never includes the key store, the KEK or any key: erasing someone
    destroys their key, so a backup taken before the erasure stays unreadable for them.
    Back the key store up separately, short-lived, and re-apply erasures after a restore
    (docs/operations.md).
    """
    import sqlite3
    import subprocess

    engine = _engine()
    old_umask = os.umask(0o077)  # the dump holds ciphertexts and metadata: owner-only
    try:
        if engine.dialect.name == "sqlite":
            src = sqlite3.connect(engine.url.database or "")
            dst = sqlite3.connect(out)
            with dst:
                src.backup(dst)
            dst.close()
            src.close()
        else:
            # The password goes through the environment, never the command line (visible
            # to other local users in the process list).
            url = engine.url.set(drivername="postgresql", password=None)
            env = dict(os.environ)
            if engine.url.password:
                env["PGPASSWORD"] = str(engine.url.password)
            subprocess.run(["pg_dump", "-Fc", "-f", out,  # noqa: S603,S607
                            url.render_as_string(hide_password=False)], check=True, env=env)
    finally:
        os.umask(old_umask)
    from onboarding import audit
    from onboarding.audit import Actor

    with _factory()() as db, db.begin():
        audit.record(db, Actor(), "backup.create", object_type="backup",
                     kind=engine.dialect.name)
    click.echo(f"data backup written to {out} (no keys inside)")


# ------------------------------------------------------------------------ demo
@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up the instance, do not start the server.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Set up a development instance (keys, SQLite, demo users) and serve it."""
    from onboarding import demo as demo_mod
    from onboarding.config import generate_demo_secrets

    instance = Path(os.environ.get("ONBOARDING_INSTANCE_PATH") or Flask("onboarding").instance_path)
    generate_demo_secrets(instance)
    os.environ["ONBOARDING_DEMO"] = "1"
    os.environ.setdefault("ONBOARDING_PUBLIC_BASE_URL", f"http://{host}:{port}")
    app = create_app()
    with app.app_context():
        from onboarding import migrate

        migrate.upgrade(_engine())
        generate_audit_key(_audit_key_path())
        from onboarding import jobs, trust

        trust.generate_governance_key(trust.governance_key_path(Path(current_app.instance_path)),
                                      current_app.extensions["onboarding.keyring"])
        created = demo_mod.seed(_factory(), current_app.extensions["onboarding.keyring"])
        jobs.run_due(_factory(), job_config(), force=True, report=lambda _m: None)
    demo_mod.print_banner(created, f"http://{host}:{port}", click.echo)
    if no_serve:
        return
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


# ---------------------------------------------------------------------- wiring
APP_COMMANDS = (db_group, create_admin, check_config, audit_group, jobs_group, records_group,
                keys_group, trust_group, backup)


def register_app_commands(app: Flask) -> None:
    """Make the commands available as ``flask --app onboarding <command>`` too."""
    for command in APP_COMMANDS:
        app.cli.add_command(command)


cli = FlaskGroup(create_app=create_app, add_version_option=True, set_debug_flag=False,
                 help="survivor-onboarding: attestations, verification and tiered onboarding.")
for _command in (*APP_COMMANDS, demo):
    cli.add_command(_command)

try:  # the offline verifier needs no app, keys or database
    from onboarding.attestation.cli import verify as _verify

    cli.add_command(_verify)
except ImportError:  # pragma: no cover - during early development only
    pass


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="onboarding")




if __name__ == "__main__":
    main()
