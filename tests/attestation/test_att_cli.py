"""``onboarding verify`` (the click command in onboarding.attestation.cli), offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from att_support import NOW, World, make_world
from click.testing import CliRunner

from onboarding.attestation import TrustStore, verify
from onboarding.attestation.cli import verify as verify_command
from onboarding.attestation.keys import dump_public_key_pem
from onboarding.attestation.qr import make_qr

AT = NOW.isoformat()


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture
def files(world: World, tmp_path: Path) -> dict[str, Path]:
    trust = tmp_path / "trust-list.cwt"
    trust.write_bytes(world.trust_token)
    anchor = tmp_path / "governance.pub"
    anchor.write_bytes(dump_public_key_pem(world.governance))
    jwks = tmp_path / "keys.jwks"
    jwks.write_text(json.dumps(world.trust_list.to_jwks()))
    status_dir = tmp_path / "status"
    status_dir.mkdir()
    (status_dir / "a1.cwt").write_bytes(world.status_token())
    revoked = tmp_path / "revoked.cwt"
    revoked.write_bytes(world.status_token(changes={4242: 1}, iat=int(NOW.timestamp())))
    return {"trust": trust, "anchor": anchor, "jwks": jwks, "status": status_dir,
            "revoked": revoked}


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(verify_command, list(args), input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def trust_args(files: dict[str, Path]) -> list[str]:
    return ["--trust-list", str(files["trust"]), "--anchor", str(files["anchor"]), "--at", AT]


def test_valid_with_trust_list_and_status_dir_json(world: World, files: dict[str, Path]) -> None:
    text = world.issue()
    code, out, _ = invoke(text, *trust_args(files), "--status", str(files["status"]), "--json")
    assert code == 0
    printed = json.loads(out)
    expected = verify(text, trust=world.trust, status=world.status_store(), at=NOW).to_json()
    assert printed == expected
    assert [s["name"] for s in printed["steps"]] == ["prefix", "base45", "decompress", "cose",
                                                    "kid", "signature", "expiry", "status",
                                                    "claims"]


def test_revoked_exits_1_at_the_status_step(world: World, files: dict[str, Path]) -> None:
    code, out, _ = invoke(world.issue(), *trust_args(files), "--status", str(files["revoked"]),
                          "--json")
    assert code == 1
    printed = json.loads(out)
    assert printed["result"] == "revoked"
    assert next(s for s in printed["steps"] if s["name"] == "status")["ok"] is False


def test_pinned_jwks(world: World, files: dict[str, Path]) -> None:
    code, out, _ = invoke(world.issue("b"), "--keys", str(files["jwks"]), "--at", AT)
    assert code == 0 and out.startswith("result: valid")
    assert "warning: no status lists supplied" in out


def test_stdin_text_file_and_image(world: World, files: dict[str, Path], tmp_path: Path) -> None:
    text = world.issue()
    assert invoke("-", *trust_args(files), stdin=text + "\n")[0] == 0
    text_file = tmp_path / "qr.txt"
    text_file.write_text(text + "\n")
    assert invoke(str(text_file), *trust_args(files))[0] == 0
    image = tmp_path / "card.png"
    image.write_bytes(make_qr(text).png(scale=4))
    assert invoke(str(image), *trust_args(files))[0] == 0


def test_not_valid_exits_1(world: World, files: dict[str, Path]) -> None:
    text = world.issue()
    code, out, _ = invoke(text, *trust_args(files)[:-2], "--at", "2028-01-01T00:00:00")
    assert code == 2 and "trust list rejected" in out + _  # the trust list expired by then
    assert invoke("ID1:GARBAGE", *trust_args(files))[0] == 1
    assert invoke(text[:-1] + ("0" if text[-1] != "0" else "1"), *trust_args(files))[0] == 1


def test_prefix_option(world: World, files: dict[str, Path]) -> None:
    text = world.issue(prefix="NGO9:")
    assert invoke(text, *trust_args(files))[0] == 1
    assert invoke(text, *trust_args(files), "--prefix", "ID1:", "--prefix", "NGO9:")[0] == 0


@pytest.mark.parametrize(
    "args",
    [
        [],  # no INPUT
        ["ID1:X"],  # no trust source
        ["ID1:X", "--trust-list", "{trust}"],  # no anchor
        ["ID1:X", "--keys", "{jwks}", "--trust-list", "{trust}", "--anchor", "{anchor}"],
        ["ID1:X", "--keys", "{jwks}", "--at", "yesterday"],
        ["ID1:X", "--keys", "{jwks}", "--prefix", "bad"],
        ["ID1:X", "--keys", "{trust}"],  # not a JWKS
        ["ID1:X", "--trust-list", "{trust}", "--anchor", "{jwks}"],  # not a key
        ["ID1:X", "--keys", "/nonexistent/keys.jwks"],
    ],
)
def test_usage_errors_exit_2(files: dict[str, Path], args: list[str]) -> None:
    filled = [a.format(**{k: str(v) for k, v in files.items()}) for a in args]
    assert invoke(*filled)[0] == 2


def test_wrong_anchor_refuses_the_trust_list(world: World, files: dict[str, Path],
                                             tmp_path: Path) -> None:
    from onboarding.attestation import generate_private_key

    other = tmp_path / "other.pub"
    other.write_bytes(dump_public_key_pem(generate_private_key()))
    code, out, err = invoke(world.issue(), "--trust-list", str(files["trust"]), "--anchor",
                            str(other), "--at", AT)
    assert code == 2 and "trust_list_signature" in out + err


def test_bad_status_file_is_reported_not_fatal(world: World, files: dict[str, Path],
                                               tmp_path: Path) -> None:
    bad = tmp_path / "bad.cwt"
    bad.write_bytes(b"garbage")
    code, out, err = invoke(world.issue(), *trust_args(files), "--status", str(bad), "--json")
    assert code == 0
    assert "status list rejected" in err
    assert json.loads(out)["warnings"]


def test_default_time_is_now(world: World, files: dict[str, Path]) -> None:
    """Without --at the attestation is judged at the real time, like verify(at=now)."""
    text = world.issue()
    code, out, _ = invoke(text, "--keys", str(files["jwks"]), "--json")
    store = TrustStore.from_jwks(files["jwks"].read_text())
    expected = verify(text, trust=store, status=None, at=datetime.now(UTC)).result
    assert json.loads(out)["result"] == expected and code == (0 if expected == "valid" else 1)
