"""SECURITY.md 33: the audit log is a hash chain; edits, deletions, swaps and truncation
are found; entries hold ids and actions only."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from onboarding import audit
from onboarding.audit import Actor, AuditError
from tests.conftest import CANARY_NAME, count


@pytest.fixture
def chain(app):
    """Five audited writes."""
    factory = app.extensions["onboarding.sessionmaker"]
    with factory() as db, db.begin():
        for i in range(5):
            audit.record(db, Actor(uuid.uuid4()), "test.event", object_type="thing",
                         object_id=uuid.uuid4(), index=i)
    return factory


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_every_write_is_audited(signed_in, app):
    admin, me = signed_in("ngo_admin")
    before = count(app, "SELECT count(*) FROM audit_entry")
    page = admin.get("/admin/staff/new")
    from tests.conftest import csrf_from

    admin.post("/admin/staff/new", {"email": "new@example.org", "display_name": "New",
                                    "role": "caseworker",
                                    "csrf_token": csrf_from(page.get_data(as_text=True))})
    with app.extensions["onboarding.engine"].connect() as conn:
        rows = conn.execute(text("SELECT action, actor_id FROM audit_entry ORDER BY seq")).all()
    assert count(app, "SELECT count(*) FROM audit_entry") == before + 1
    assert rows[-1][0] == "staff.create"
    assert str(rows[-1][1]).replace("-", "") == me.id.hex


def test_intact_chain_verifies(app, chain):
    with chain() as db:
        report = audit.verify_chain(db)
    assert report.ok and report.entries == 5
    assert cli(app, "audit", "verify").exit_code == 0


@pytest.mark.parametrize("tamper, first_bad", [
    ("UPDATE audit_entry SET action = 'test.other' WHERE seq = 3", 3),
    ("DELETE FROM audit_entry WHERE seq = 2", 2),
    ("UPDATE audit_entry SET seq = CASE seq WHEN 3 THEN 99 WHEN 4 THEN 3 ELSE seq END "
     "WHERE seq IN (3, 4)", 3),
])
def test_tampering_is_found_at_the_first_bad_entry(app, chain, tamper, first_bad):
    with app.extensions["onboarding.engine"].begin() as conn:
        conn.execute(text(tamper))
        if "99" in tamper:
            conn.execute(text("UPDATE audit_entry SET seq = 4 WHERE seq = 99"))
    with chain() as db:
        report = audit.verify_chain(db)
    assert not report.ok
    assert report.first_bad_seq == first_bad
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"BROKEN at entry {first_bad}" in result.output


def test_truncation_is_caught_against_signed_head(app, chain, instance, tmp_path):
    assert cli(app, "audit", "keygen").exit_code == 0
    head = tmp_path / "head.json"
    assert cli(app, "audit", "export-head", "--out", str(head)).exit_code == 0
    assert json.loads(head.read_text())["seq"] == 5
    assert cli(app, "audit", "verify", "--head", str(head)).exit_code == 0
    with app.extensions["onboarding.engine"].begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq >= 4"))
        conn.execute(text("UPDATE audit_head SET seq = 3"))
    assert cli(app, "audit", "verify").exit_code == 0  # the chain alone looks fine ...
    result = cli(app, "audit", "verify", "--head", str(head))
    assert result.exit_code == 1 and "truncated" in result.output  # ... the checkpoint does not
    forged = json.loads(head.read_text())
    forged["seq"] = 3
    head.write_text(json.dumps(forged))
    assert cli(app, "audit", "verify", "--head", str(head)).exit_code == 1


def test_entries_refuse_free_text(app):
    with app.extensions["onboarding.sessionmaker"]() as db:
        with pytest.raises(AuditError):
            audit.record(db, Actor(), "test.event", note=CANARY_NAME)
        with pytest.raises(AuditError):
            audit.record(db, Actor(), "Free Text Action")
        with pytest.raises(AuditError):
            audit.record(db, Actor(), "test.event", object_id="Jane Doe")
        db.rollback()


def test_concurrent_appenders_keep_one_chain(app):
    """Threads appending at once still give a gap-free, verifiable chain."""
    import threading

    factory = app.extensions["onboarding.sessionmaker"]
    errors = []

    def worker() -> None:
        try:
            for _ in range(5):
                with factory() as db, db.begin():
                    audit.record(db, Actor(), "test.concurrent")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with factory() as db:
        report = audit.verify_chain(db)
    assert report.ok and report.entries == 20


def test_rolled_back_append_leaves_head_and_chain_untouched(app):
    """The entry and the head's new hash are written together (one statement on
    PostgreSQL): a transaction rolled back after an append leaves neither behind."""
    factory = app.extensions["onboarding.sessionmaker"]
    with factory() as db, db.begin():
        audit.record(db, Actor(), "test.kept")
    with factory() as db:
        head = db.execute(text("SELECT seq, hash FROM audit_head")).one()
        entry = audit.record(db, Actor(), "test.discarded", object_id="x1")
        assert entry.seq == head[0] + 1 and entry.prev_hash == head[1]
        assert db.execute(text("SELECT hash FROM audit_head")).scalar_one() == entry.hash
        db.rollback()
    with factory() as db:
        assert tuple(db.execute(text("SELECT seq, hash FROM audit_head")).one()) == tuple(head)
        assert db.execute(text("SELECT count(*) FROM audit_entry WHERE action = "
                               "'test.discarded'")).scalar_one() == 0
        entry = audit.record(db, Actor(), "test.after")
        db.commit()
        assert entry.seq == head[0] + 1
        assert audit.verify_chain(db).ok


def test_off_box_verification_needs_only_the_public_key(app, chain, instance, tmp_path):
    assert cli(app, "audit", "keygen").exit_code == 0
    pub = tmp_path / "audit.pub.pem"
    pub.write_text(cli(app, "audit", "public-key").output)
    head = tmp_path / "head.json"
    cli(app, "audit", "export-head", "--out", str(head))
    (instance / "audit_signing_key.pem").unlink()  # the verifier has no private key
    result = cli(app, "audit", "verify", "--head", str(head), "--public-key", str(pub))
    assert result.exit_code == 0, result.output
