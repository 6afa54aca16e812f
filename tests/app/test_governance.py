"""Planned rotation of the governance key: `onboarding trust rollover` announces the new key,
swaps the key files, publishes a trust list signed by the new key; online verifiers (this
platform, on every host, even one still holding the old anchor file) and offline verifiers
(with the fetched announcements) carry on; an interrupted rotation finishes on the next run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import text

from tests.app.test_bank import check
from tests.app.test_bank import world as _world_fixture

world = _world_fixture


def _valid(teller: Any, qr: str) -> bool:
    return 'id="verdict-word">✔ Valid' in check(teller, qr).get_data(as_text=True)


def _offline(app: Any, tmp_path: Path, qr: str, anchor: bytes,
             with_rollovers: bool) -> tuple[int, str]:
    """A bank verifying offline from files fetched from the public URLs."""
    from onboarding.attestation.cli import verify_command

    client = app.test_client()
    (tmp_path / "trust-list.cose").write_bytes(client.get("/trust-list").data)
    (tmp_path / "rollovers.json").write_bytes(client.get("/trust-list/rollovers").data)
    (tmp_path / "pinned.pem").write_bytes(anchor)
    args = [qr, "--trust-list", str(tmp_path / "trust-list.cose"),
            "--anchor", str(tmp_path / "pinned.pem")]
    if with_rollovers:
        args += ["--rollovers", str(tmp_path / "rollovers.json")]
    result = CliRunner().invoke(verify_command, args)
    return result.exit_code, result.output


def test_planned_governance_key_rotation(world: Any, signed_in: Any, app: Any,
                                         tmp_path: Path, monkeypatch: Any) -> None:
    from onboarding import trust

    instance = Path(app.instance_path)
    anchor = trust.anchor_path(instance)
    old_pem = anchor.read_bytes()
    teller, _ = signed_in("verifier")
    assert _valid(teller, world["qr"])

    r = app.test_cli_runner().invoke(args=["trust", "rollover"])
    assert r.exit_code == 0, r.output
    assert "signed by the new key" in r.output
    new_pem = anchor.read_bytes()
    assert new_pem != old_pem
    doc = app.test_client().get("/trust-list/rollovers").get_json()
    [announced] = doc["rollovers"]
    assert announced["seq"] == 1 and announced["old_kid"] != announced["new_kid"]
    assert (instance / f"governance_public.{announced['old_kid']}.pem").read_bytes() == old_pem
    assert [p.name for p in instance.glob("governance_key*")] == ["governance_key.bin"]

    # this host (new anchor), and a host whose anchor file still holds the old key
    assert _valid(teller, world["qr"])
    stale = tmp_path / "stale.pem"
    stale.write_bytes(old_pem)
    monkeypatch.setenv("ONBOARDING_TRUST_ANCHOR_FILE", str(stale))
    assert _valid(teller, world["qr"])
    # a host pinning some unrelated key: a clear refusal, not a crash
    from onboarding.attestation import keys as akeys

    stale.write_bytes(akeys.dump_public_key_pem(akeys.generate_private_key()))
    r = check(teller, world["qr"])
    assert r.status_code == 200 and 'id="no-trust"' in r.get_data(as_text=True)
    monkeypatch.delenv("ONBOARDING_TRUST_ANCHOR_FILE")

    # an offline bank pinning the old key: refused without the announcements, fine with them
    code, out = _offline(app, tmp_path, world["qr"], old_pem, with_rollovers=False)
    assert code != 0 and "trust list rejected" in out
    code, out = _offline(app, tmp_path, world["qr"], old_pem, with_rollovers=True)
    assert code == 0 and "result: valid" in out, out
    assert f"kid {announced['new_kid']}: pin it" in out

    with app.extensions["onboarding.engine"].connect() as conn:
        audited = conn.execute(text(
            "SELECT count(*) FROM audit_entry WHERE action = 'trust.governance_rollover'"
        )).scalar()
    assert audited == 1


def test_an_interrupted_rotation_finishes_on_the_next_run(world: Any, signed_in: Any,
                                                          app: Any) -> None:
    """The announcement was committed but the process died before the files were swapped:
    the next run finishes that rotation instead of starting another."""
    from onboarding import governance, trust
    from onboarding.audit import Actor
    from onboarding.clock import now

    instance = Path(app.instance_path)
    keyring = app.extensions["onboarding.keyring"]
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        started = governance.start(db, Actor(), instance, keyring, now())
    r = app.test_cli_runner().invoke(args=["trust", "rollover"])
    assert r.exit_code == 0, r.output
    assert f"{started.old_kid} -> {started.new_kid} (announcement 1)" in r.output
    from onboarding.attestation import keys as akeys

    assert akeys.kid_for(trust.load_anchor(instance)).hex() == started.new_kid
    teller, _ = signed_in("verifier")
    assert _valid(teller, world["qr"])
    # a second, complete rotation chains on
    r = app.test_cli_runner().invoke(args=["trust", "rollover"])
    assert r.exit_code == 0 and "(announcement 2)" in r.output, r.output
    assert len(app.test_client().get("/trust-list/rollovers").get_json()["rollovers"]) == 2
    assert _valid(teller, world["qr"])


def test_a_rotation_stopped_before_publishing_is_finished_and_an_old_key_cannot_sign(
        world: Any, signed_in: Any, app: Any) -> None:
    """Files swapped but no list signed yet: the next run publishes (no second rotation);
    a host still holding the rotated-out key cannot publish a list verifiers would refuse."""
    from onboarding import governance, trust
    from onboarding.attestation import keys as akeys
    from onboarding.audit import Actor
    from onboarding.clock import now

    instance = Path(app.instance_path)
    keyring = app.extensions["onboarding.keyring"]
    old_key = trust.load_governance_key(trust.governance_key_path(instance), keyring)
    factory = app.extensions["onboarding.sessionmaker"]
    with factory() as db, db.begin():
        started = governance.start(db, Actor(), instance, keyring, now())
    governance.finish(instance, keyring, started)
    with factory() as db:
        assert governance.needs_publish(db, instance)
        try:
            trust.publish(db, Actor(), old_key, force=True)
            raise AssertionError("a rotated-out key signed a trust list")
        except trust.TrustError as exc:
            assert "rotated out" in str(exc)
    r = app.test_cli_runner().invoke(args=["trust", "rollover"])
    assert r.exit_code == 0 and "rotation finished" in r.output, r.output
    with factory() as db:
        assert not governance.needs_publish(db, instance)
    assert len(app.test_client().get("/trust-list/rollovers").get_json()["rollovers"]) == 1
    assert akeys.kid_for(trust.load_anchor(instance)).hex() == started.new_kid
    teller, _ = signed_in("verifier")
    assert _valid(teller, world["qr"])
