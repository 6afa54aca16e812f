"""``onboarding verify``: offline verification from the command line (click, no Flask).

The app registers :data:`verify` (alias :data:`verify_command`) on its CLI group;
it also runs on its own::

    python -m onboarding.attestation.cli INPUT --trust-list tl.cwt --anchor gov.pem \\
        --status status/ --json

INPUT is QR text, a path to an image holding the QR, or ``-`` for stdin (text). Exit
code 0 when the attestation is valid, 1 when it is not, 2 on a usage error (bad option,
unreadable key file, a trust list that fails verification...).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from onboarding.attestation.envelope import DEFAULT_PREFIX, check_prefix
from onboarding.attestation.errors import AttestationError
from onboarding.attestation.keys import kid_for, load_public_key, spki_der
from onboarding.attestation.statuslist import StatusStore, verify_status_list
from onboarding.attestation.trustlist import TrustStore, follow_rollovers, verify_trust_list
from onboarding.attestation.verify import verify as verify_attestation

__all__ = ["main", "verify", "verify_command"]

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")
_MAX_TEXT_FILE = 64 * 1024


def _usage(message: str) -> click.UsageError:
    return click.UsageError(message)


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise _usage(f"--at {value!r} is not an ISO 8601 date-time") from None
    # A date-time without an offset is read as UTC (the CLI's documented convention).
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _is_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _read_input(value: str) -> str:
    if value == "-":
        return sys.stdin.read(_MAX_TEXT_FILE)
    path = Path(value)
    try:
        is_file = path.is_file()
    except (OSError, ValueError):  # QR text is often longer than a file name may be
        is_file = False
    if is_file:
        data = path.read_bytes()
        if _is_image(data):
            from onboarding.attestation.qr import decode_image

            try:
                return decode_image(data)
            except AttestationError as exc:
                raise _usage(f"{value}: {exc.message}") from None
        try:
            return data[:_MAX_TEXT_FILE].decode("utf-8")
        except UnicodeDecodeError:
            raise _usage(f"{value} is neither an image nor a text file") from None
    return value


def _rollover_tokens(path: Path) -> list[bytes]:
    """Announcements from the ``/trust-list/rollovers`` document (``onboarding trust
    fetch`` saves it as rollovers.json)."""
    import base64

    try:
        doc = json.loads(path.read_bytes()[:_MAX_TEXT_FILE])
        items = doc["rollovers"]
        return [base64.urlsafe_b64decode(item["token"] + "=" * (-len(item["token"]) % 4))
                for item in items]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _usage(f"{path}: not a rollover announcements document") from None


def _trust(keys: Path | None, trust_list: Path | None, anchor: Path | None,
           at: datetime, rollovers: Path | None = None) -> TrustStore:
    if keys is not None and (trust_list is not None or anchor is not None):
        raise _usage("use either --keys or --trust-list with --anchor, not both")
    if keys is not None:
        try:
            return TrustStore.from_jwks(keys.read_bytes())
        except AttestationError as exc:
            raise _usage(f"{keys}: {exc.message}") from None
    if trust_list is None or anchor is None:
        raise _usage("give --keys JWKS_FILE, or --trust-list FILE with --anchor PUBLIC_KEY_FILE")
    try:
        governance_key = load_public_key(anchor.read_bytes())
    except AttestationError as exc:
        raise _usage(f"{anchor}: {exc.message}") from None
    if rollovers is not None:
        # The pinned key may have been rotated since: follow its signed announcements.
        try:
            in_force = follow_rollovers(governance_key, _rollover_tokens(rollovers))
        except AttestationError as exc:
            raise _usage(f"{rollovers}: {exc.message}") from None
        if spki_der(in_force) != spki_der(governance_key):
            click.echo(f"note: the governance key you pin was rotated; the key in force has "
                       f"kid {kid_for(in_force).hex()}: pin it from now on", err=True)
        governance_key = in_force
    try:
        verified = verify_trust_list(trust_list.read_bytes(), governance_key, at=at)
    except AttestationError as exc:
        raise _usage(f"trust list rejected ({exc.code}): {exc.message}") from None
    return TrustStore.from_trust_list(verified)


def _status(path: Path | None, trust: TrustStore) -> StatusStore | None:
    if path is None:
        return None
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    store = StatusStore()
    for file in files:
        try:
            store.add(verify_status_list(file.read_bytes(), trust))
        except AttestationError as exc:
            # Not fatal: the attestation's status step then says "no status list" and the
            # result carries a warning. But the operator must see why.
            click.echo(f"warning: {file}: status list rejected ({exc.code}): {exc.message}",
                       err=True)
    return store


@click.command("verify")
@click.argument("input_", metavar="INPUT")
@click.option("--keys", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JWKS file of pinned issuer keys.")
@click.option("--trust-list", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Signed trust list file (needs --anchor).")
@click.option("--anchor", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Governance public key (PEM or JWK) that signs the trust list.")
@click.option("--rollovers", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Governance key rollover announcements (rollovers.json from `onboarding "
                   "trust fetch`): follow them from the pinned --anchor to the key in force.")
@click.option("--status", "status_path",
              type=click.Path(exists=True, path_type=Path),
              help="Status list token file, or a directory of them.")
@click.option("--at", "at_text", metavar="ISO8601",
              help="Verification time (default: now; no offset means UTC).")
@click.option("--prefix", "prefixes", multiple=True, metavar="P",
              help=f"Accepted prefix, colon included (repeatable; default {DEFAULT_PREFIX}).")
@click.option("--json", "as_json", is_flag=True, help="Print the verification result object.")
def verify(
    input_: str,
    keys: Path | None,
    trust_list: Path | None,
    anchor: Path | None,
    rollovers: Path | None,
    status_path: Path | None,
    at_text: str | None,
    prefixes: tuple[str, ...],
    as_json: bool,
) -> None:
    """Verify an attestation QR offline: INPUT is QR text, an image file, or - (stdin)."""
    at = _parse_at(at_text)
    try:
        accepted = tuple(check_prefix(p) for p in prefixes) or (DEFAULT_PREFIX,)
    except AttestationError as exc:
        raise _usage(exc.message) from None
    trust = _trust(keys, trust_list, anchor, at, rollovers)
    status = _status(status_path, trust)
    text = _read_input(input_)
    result = verify_attestation(text, trust=trust, status=status, at=at, prefixes=accepted)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"result: {result.result}")
        for step in result.steps:
            mark = {True: "ok  ", False: "FAIL", None: "--  "}[step.ok]
            click.echo(f"  {mark} {step.name:<10} {step.reason}")
        for warning in result.warnings:
            click.echo(f"warning: {warning}")
        if result.issuer is not None:
            click.echo(f"issuer: {result.issuer.display_name} ({result.issuer.id})")
    click.get_current_context().exit(0 if result.valid else 1)


#: The same command under a name that does not shadow ``verify()`` when imported.
verify_command = verify


def main() -> None:
    """Entry point for ``python -m onboarding.attestation.cli``."""
    verify.main(prog_name="onboarding verify")


if __name__ == "__main__":
    main()
