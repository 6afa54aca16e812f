"""Intake and issuance (issue 3) through the web app, with SECURITY.md checks 11-12,
18, 22, 24-29, 32, 36-37."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy import text as text_sql

from onboarding.attestation.verify import verify
from tests.app.intake_helpers import (
    certify,
    enrol,
    ensure_key,
    issue,
    step_up,
    trust_store,
)
from tests.conftest import CANARY_DOB, CANARY_NAME, CANARY_NOTE, count, csrf_from, db_rows


@pytest.fixture
def caseworker(signed_in, app):
    c, who = signed_in("caseworker")
    certify(app, who)
    ensure_key(app, who.org_id)
    return c, who


def qr_of(app, att_id):
    from onboarding.intake import operations as ops
    from onboarding.intake.views import svc
    from onboarding.models import Attestation, Person

    with app.test_request_context(), app.extensions["onboarding.sessionmaker"]() as db:
        row = db.get(Attestation, att_id)
        person = db.get(Person, row.person_id)
        return ops.qr_text(svc(), person, row)


def att_id_from(resp) -> uuid.UUID:
    return uuid.UUID(re.search(r"/intake/attestations/([0-9a-f-]{36})",
                               resp.headers["Location"]).group(1))


def test_full_wizard_issues_a_verifiable_minimal_attestation(caseworker, app):
    c, who = caseworker
    pid = enrol(c)
    review = c.get(f"/intake/{pid}/review").get_data(as_text=True)
    assert CANARY_NAME in review and "IAL1" in review
    r = issue(c, who, pid)
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    att = att_id_from(r)
    page = c.get(f"/intake/attestations/{att}").get_data(as_text=True)
    assert 'id="attestation-qr"' in page and "active" in page
    qr = qr_of(app, att)
    assert qr.startswith("ID1:")
    result = verify(qr, trust=trust_store(app), status=None, at=datetime.now(UTC))
    assert result.result == "valid", result.to_json()
    claims = result.to_json()["claims"]
    assert claims["attested"]["names"] == [CANARY_NAME] if "attested" in claims else True
    blob = str(result.to_json()).lower()
    for word in ("survivor", "victim", "trafficking", CANARY_NOTE.lower(), "canarytown",
                 "casey", who.email.lower(), "caseworker person"):
        assert word not in blob, word
    # the card PDF downloads
    pdf = c.get(f"/intake/attestations/{att}/card.pdf?size=card")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_status_indexes_are_random_not_sequential(caseworker, app):
    c, who = caseworker
    from onboarding.models import Attestation

    for i in range(4):
        pid = enrol(c, names=f"Person Number{i} Test")
        assert issue(c, who, pid).status_code == 303
    with app.extensions["onboarding.sessionmaker"]() as db:
        idx = [a.status_idx for a in db.execute(select(Attestation)).scalars()]
    assert len(set(idx)) == 4
    diffs = {b - a for a, b in zip(sorted(idx), sorted(idx)[1:], strict=False)}
    assert diffs != {1}
    assert max(idx) > 1000  # spread over the whole 131,072-entry list


def test_uncertified_caseworker_cannot_issue(signed_in, app):
    c, who = signed_in("caseworker")
    ensure_key(app, who.org_id)
    pid = enrol(c)
    r = issue(c, who, pid)
    assert r.status_code == 200
    assert "certification is missing or has lapsed" in r.get_data(as_text=True)
    assert count(app, "SELECT count(*) FROM attestation") == 0


def test_coercion_seen_holds_for_ngo_admin(caseworker, signed_in, app):
    c, who = caseworker
    pid = enrol(c, seen=["third_party_speaks"])
    r = issue(c, who, pid)
    att = att_id_from(r)
    page = c.get(f"/intake/attestations/{att}").get_data(as_text=True)
    assert 'id="held-notice"' in page and 'id="attestation-qr"' not in page
    assert qr_of(app, att) is None
    from onboarding.models import Person

    factory = app.extensions["onboarding.sessionmaker"]
    with factory() as db:  # a held record has an end too, should nobody ever release it
        held_until = db.get(Person, pid).retain_until
    assert held_until is not None and held_until > c.clock.at.date()
    admin, admin_who = signed_in("ngo_admin")
    held = admin.get("/intake/admin/held").get_data(as_text=True)
    assert str(att) in held
    step_up(admin, admin_who)
    r = admin.post(f"/intake/admin/held/{att}/release", {"csrf_token": admin.token("/home")})
    assert r.status_code == 303
    assert qr_of(app, att).startswith("ID1:")
    with factory() as db:  # released and signed: never shortened
        assert db.get(Person, pid).retain_until >= held_until


def test_vouch_and_interview_alone_stay_below_ial1(caseworker, app):
    c, who = caseworker
    pid = enrol(c, evidence=[("referee_interview", "authoritative_source", "validated"),
                             ("reference_vouch", "authoritative_source", "validated")])
    review = c.get(f"/intake/{pid}/review").get_data(as_text=True)
    assert "Trusted-referee exception (below IAL1)" in review
    att = att_id_from(issue(c, who, pid))
    result = verify(qr_of(app, att), trust=trust_store(app), status=None, at=datetime.now(UTC))
    assert result.to_json()["claims"]["assurance"] == 0 if "assurance" in result.to_json()[
        "claims"] else True


def test_consent_is_required_and_double_submit_is_idempotent(caseworker, app):
    c, _ = caseworker
    page = c.get("/intake/new").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    base = {"token": token, "language": "en", "method": "read_aloud",
            "csrf_token": csrf_from(page)}
    r = c.post("/intake/new", dict(base, purposes=["identity_attestation"], agreed="y"))
    assert "Every listed purpose must be agreed" in r.get_data(as_text=True)
    r = c.post("/intake/new", dict(base, purposes=["identity_attestation", "bank_sharing",
                                                   "safeguarding_contact"]))
    assert "Without consent we cannot enrol." in r.get_data(as_text=True)
    assert count(app, "SELECT count(*) FROM person") == 0
    full = dict(base, purposes=["identity_attestation", "bank_sharing", "safeguarding_contact"],
                agreed="y")
    first = c.post("/intake/new", full)
    second = c.post("/intake/new", full)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, "SELECT count(*) FROM person") == 1
    assert count(app, "SELECT count(*) FROM consent") == 1
    with app.extensions["onboarding.engine"].connect() as conn:
        row = conn.execute(text("SELECT language, method, purposes FROM consent")).one()
    assert row[0] == "en" and row[1] == "read_aloud" and "bank_sharing" in str(row[2])


@pytest.mark.parametrize("names", [
    "محمد عبد الله", "สมชาย ใจดี", "አበበ በቀለ", "Zoë Ågren-Nguyễn", "Jose\u0301 Mari\u0301a",
])
def test_names_in_any_script_round_trip_nfc(caseworker, app, names):
    import unicodedata

    c, _ = caseworker
    pid = enrol(c, names=names)
    page = c.get(f"/intake/{pid}/review").get_data(as_text=True)
    assert unicodedata.normalize("NFC", names) in page


def test_impossible_dates_are_refused_and_input_kept(caseworker):
    c, _ = caseworker
    pid = enrol(c)
    page = c.get(f"/intake/{pid}/identity").get_data(as_text=True)
    for (y, m, d), message in (((2001, 2, 29), "That date does not exist"),
                               ((2003, 13, 1), "Number must be between 1 and 12"),
                               ((1850, 1, 1), "Enter a real year."),
                               ((2999, 1, 1), "Enter a real year.")):
        r = c.post(f"/intake/{pid}/identity", {
            "names": "Kept Name\u202e", "dob_precision": "full", "dob_year": str(y),
            "dob_month": str(m), "dob_day": str(d), "csrf_token": csrf_from(page)})
        body = r.get_data(as_text=True)
        assert r.status_code == 200 and message in body, message
        assert "Kept Name" in body  # what was typed is kept
        assert "invisible control character" in body


def test_xss_in_names_is_escaped(caseworker):
    c, _ = caseworker
    pid = enrol(c, names='<script>alert(1)</script>\n"><img src=x onerror=alert(2)>')
    for url in (f"/intake/{pid}/review", f"/intake/{pid}", "/intake/"):
        body = c.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in body and "<img src=x" not in body


def test_other_ngo_cannot_see_records(caseworker, signed_in, app):
    c, who = caseworker
    pid = enrol(c)
    att = att_id_from(issue(c, who, pid))
    other, _ = signed_in("caseworker", org="ngo2")
    bank, _ = signed_in("compliance_officer")
    for url in (f"/intake/{pid}", f"/intake/{pid}/review", f"/intake/{pid}/photo.jpg",
                f"/intake/attestations/{att}", f"/intake/attestations/{att}/card.pdf"):
        assert other.get(url).status_code == 404, url
        assert bank.get(url).status_code == 403, url
    assert CANARY_NAME not in other.get("/intake/").get_data(as_text=True)


def test_search_by_name_through_blind_index(caseworker, app):
    c, _ = caseworker
    enrol(c, names="Amara Okafor")
    enrol(c, names="José Ñúñez")
    page = c.get("/intake/").get_data(as_text=True)
    r = c.post("/intake/", {"q": "okafor", "csrf_token": csrf_from(page)})
    body = r.get_data(as_text=True)
    assert "Amara Okafor" in body and "Ñúñez" not in body
    r = c.post("/intake/", {"q": "jose nunez", "csrf_token": csrf_from(page)})
    assert "José Ñúñez" in r.get_data(as_text=True)
    r = c.post("/intake/", {"q": "' OR 1=1 --", "csrf_token": csrf_from(page)})
    assert r.status_code == 200 and "Amara" not in r.get_data(as_text=True)
    # the index holds keyed hashes, never the tokens
    dump = str(db_rows(app)["name_token"]).lower()
    assert "okafor" not in dump and "amara" not in dump


def test_possible_duplicate_is_flagged_not_blocked(caseworker, app):
    c, _ = caseworker
    enrol(c, names="Fatima Bello Yusuf")
    pid2 = enrol(c, names="Fatima Yusuf")
    from onboarding.models import Person

    with app.extensions["onboarding.sessionmaker"]() as db:
        assert db.get(Person, pid2).possible_duplicate_of is not None


def test_no_canary_in_database_dump_or_upload_folder(caseworker, app):
    c, who = caseworker
    pid = enrol(c)
    issue(c, who, pid)
    dump = repr(db_rows(app))
    for canary in (CANARY_NAME, CANARY_DOB, CANARY_NOTE, "Canarytown", "CANARY-EXIF"):
        assert canary not in dump, canary
    engine = app.extensions["onboarding.engine"]
    if engine.dialect.name == "sqlite":
        raw = Path(engine.url.database).read_bytes()
        for canary in (CANARY_NAME, CANARY_NOTE):
            assert canary.encode() not in raw
    uploads = Path(app.config["UPLOAD_FOLDER"])
    files = list(uploads.iterdir())
    assert files and all(re.fullmatch(r"[0-9a-f]{32}\.bin", f.name) for f in files)
    for f in files:
        data = f.read_bytes()
        assert b"JFIF" not in data and b"Exif" not in data and b"CANARY" not in data
    assert not str(uploads).startswith(str(Path(app.static_folder)))


def test_swapped_ciphertexts_fail_to_decrypt(caseworker, app):
    from onboarding.crypto import DecryptionError
    from onboarding.intake.views import svc
    from onboarding.models import Person

    c, _ = caseworker
    a = enrol(c, names="First Person")
    b = enrol(c, names="Second Person")
    with app.test_request_context(), app.extensions["onboarding.sessionmaker"]() as db:
        pa, pb = db.get(Person, a), db.get(Person, b)
        s = svc()
        with pytest.raises(DecryptionError):
            s.cipher(pb).open("names", pa.names_enc)  # other row
        with pytest.raises(DecryptionError):
            s.cipher(pa).open("other_names", pa.names_enc)  # other field


def test_handover_link_works_once_and_expires(caseworker, app, client_for, clock):
    c, who = caseworker
    att = att_id_from(issue(c, who, enrol(c)))
    r = c.post(f"/intake/attestations/{att}/handover", {"csrf_token": c.token("/home")})
    link = re.search(r'id="handover-link">[^<]*(/h/[^<]+)<', r.get_data(as_text=True)).group(1)
    phone = client_for()
    page = phone.get(link)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'download="card.pdf"' in body
    first_focusable = re.search(r"<(a|button|input)\b[^>]*>", body.split("<body", 1)[1]).group(0)
    assert 'id="quick-exit"' in first_focusable
    for word in ("survivor", "victim", "trafficking"):
        assert word not in body.lower()
    assert phone.get(link).status_code == 404  # once
    r = c.post(f"/intake/attestations/{att}/handover", {"csrf_token": c.token("/home")})
    link2 = re.search(r'id="handover-link">[^<]*(/h/[^<]+)<', r.get_data(as_text=True)).group(1)
    clock.advance(minutes=10, seconds=1)
    assert phone.get(link2).status_code == 404  # expired


def test_lifecycle_suspend_revoke_reissue(caseworker, app):
    from onboarding.models import Attestation, StatusList

    c, who = caseworker
    att = att_id_from(issue(c, who, enrol(c)))
    tok = c.token("/home")
    assert c.post(f"/intake/attestations/{att}/suspend", {"csrf_token": tok}).status_code == 303
    with app.extensions["onboarding.sessionmaker"]() as db:
        row = db.get(Attestation, att)
        lst = db.get(StatusList, row.status_list_id)
        from onboarding.attestation.statuslist import StatusList as Bits

        assert Bits(bits=2, data=lst.bits).get(row.status_idx) == 2 and lst.dirty
    c.post(f"/intake/attestations/{att}/unsuspend", {"csrf_token": tok})
    step_up(c, who)
    r = c.post(f"/intake/attestations/{att}/reissue", {"reason": "lost",
                                                        "csrf_token": c.token("/home")})
    new = att_id_from(r)
    assert new != att
    with app.extensions["onboarding.sessionmaker"]() as db:
        old = db.get(Attestation, att)
        assert old.status.value == "superseded" and old.superseded_by == new
        lst = db.get(StatusList, old.status_list_id)
        assert Bits(bits=2, data=lst.bits).get(old.status_idx) == 1
    r = c.post(f"/intake/attestations/{new}/revoke", {"reason": "error",
                                                       "csrf_token": c.token("/home")})
    assert r.status_code == 303
    assert "revoked" in c.get(f"/intake/attestations/{new}").get_data(as_text=True)


def test_consent_withdrawal_revokes_and_restricts(caseworker, app):
    c, who = caseworker
    pid = enrol(c)
    att = att_id_from(issue(c, who, pid))
    step_up(c, who)
    r = c.post(f"/intake/{pid}/withdraw-consent", {"csrf_token": c.token("/home")})
    assert r.status_code == 303
    page = c.get(f"/intake/{pid}").get_data(as_text=True)
    assert 'id="person-status">restricted' in page
    assert "revoked" in c.get(f"/intake/attestations/{att}").get_data(as_text=True)
    assert issue(c, who, pid).status_code == 200  # nothing can be issued now


def test_erasure_crypto_shreds_also_in_an_earlier_backup(caseworker, app, tmp_path):
    """SECURITY.md 29 with the documented procedure: the data backup holds no keys; a
    backup taken before erasure and restored stays unreadable for the erased person."""
    from onboarding.intake.views import svc
    from onboarding.models import Person
    from onboarding.privacy import Erased

    c, who = caseworker
    keep = enrol(c, names="Kept Person")
    gone = enrol(c)
    issue(c, who, gone)
    engine = app.extensions["onboarding.engine"]
    backup = {t: rows for t, rows in db_rows(app).items()}  # logical backup of the data DB
    step_up(c, who)
    r = c.post(f"/intake/{gone}/erase", {"csrf_token": c.token("/home")})
    assert r.status_code == 303
    assert c.get(f"/intake/{gone}/photo.jpg").status_code == 404
    assert CANARY_NAME not in c.get(f"/intake/{gone}").get_data(as_text=True)
    with app.test_request_context():
        s = svc()
        with app.extensions["onboarding.sessionmaker"]() as db:
            assert db.get(Person, gone).names_enc is None
        # "Restore" the earlier backup: the erased person's ciphertexts are back, but the
        # key store (never in the data backup) no longer has their key.
        restored = [r for r in backup["person"] if uuid.UUID(str(r[0])) == gone]
        assert restored and any(isinstance(v, bytes) and len(v) > 28 for v in restored[0])
        with pytest.raises(Erased):
            s.keystore.get(gone)
        with app.extensions["onboarding.sessionmaker"]() as db:
            kept = db.get(Person, keep)
            assert s.cipher(kept).open("names", kept.names_enc) == ["Kept Person"]
    with engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text(
            "SELECT action FROM audit_entry WHERE object_id = :o"), {"o": str(gone)})]
    assert "person.erase" in actions


def test_retention_job_shreds_unless_on_legal_hold(caseworker, app, clock):
    from onboarding.models import Person

    c, _ = caseworker
    a, b = enrol(c, names="Old Record"), enrol(c, names="Held Record")
    with app.extensions["onboarding.sessionmaker"]() as db, db.begin():
        for pid, hold in ((a, False), (b, True)):
            p = db.get(Person, pid)
            p.retain_until = (clock.at - timedelta(days=1)).date()
            p.legal_hold = hold
    r = app.test_cli_runner().invoke(args=["jobs", "run", "--only", "retention.shred"])
    assert "shredded': 1" in r.output, r.output
    with app.extensions["onboarding.sessionmaker"]() as db:
        assert db.get(Person, a).status.value == "erased"
        assert db.get(Person, b).status.value != "erased"


def test_retention_dates_abandoned_drafts_and_legal_hold_commands(caseworker, app, clock):
    """Every record gets a retention date: an issued one a year past its card's expiry (moved
    by every later card), an intake left unfinished for 90 days is shredded; a legal hold,
    placed and lifted by command with a reason code, keeps a record past either."""
    from onboarding.models import Person

    c, who = caseworker
    draft, held, issued = (enrol(c, names=n) for n in ("Left Draft", "Held Draft", "Issued One"))
    assert issue(c, who, str(issued)).status_code == 303
    factory = app.extensions["onboarding.sessionmaker"]
    with factory() as db:
        person = db.get(Person, issued)
        assert person.retain_until == (clock.at + timedelta(days=365 + 365)).date()
        assert db.get(Person, draft).retain_until is None
        from onboarding.intake import operations as ops  # the date the record page shows
        assert ops.draft_shredded_on(db.get(Person, draft), 90) == \
            (clock.at + timedelta(days=91)).date()  # the day the job below first shreds it
    runner = app.test_cli_runner()
    r = runner.invoke(args=["records", "hold", str(held), "--reason", "court_order"])
    assert r.exit_code == 0 and "legal hold on" in r.output, r.output
    bad = runner.invoke(args=["records", "hold", str(held), "--reason", "Her name is X"])
    assert bad.exit_code != 0  # codes only: free text could carry personal detail
    assert runner.invoke(args=["records", "hold", "not-an-id", "--reason",
                               "litigation"]).exit_code != 0
    assert str(held) in runner.invoke(args=["records", "holds"]).output

    clock.advance(days=89)
    r = runner.invoke(args=["jobs", "run", "--only", "retention.shred"])
    assert "'shredded': 0" in r.output, r.output
    clock.advance(days=2)  # 91 days untouched
    r = runner.invoke(args=["jobs", "run", "--only", "retention.shred", "--force"])
    assert "'shredded': 1" in r.output, r.output
    with factory() as db:
        assert db.get(Person, draft).status.value == "erased"
        assert db.get(Person, held).status.value == "draft"  # on hold
        assert db.get(Person, issued).status.value == "active"  # card still valid
    r = runner.invoke(args=["records", "release", str(held), "--reason", "court_order"])
    assert r.exit_code == 0 and "legal hold off" in r.output
    r = runner.invoke(args=["jobs", "run", "--only", "retention.shred", "--force"])
    assert "'shredded': 1" in r.output, r.output
    with factory() as db:
        assert db.get(Person, held).status.value == "erased"
    r = runner.invoke(args=["records", "hold", str(held), "--reason", "litigation"])
    assert r.exit_code != 0 and "erased" in r.output
    with app.extensions["onboarding.engine"].connect() as conn:
        rows = conn.execute(text("SELECT action, details FROM audit_entry WHERE object_id = :o "
                                 "AND action LIKE 'person.legal_hold%'"), {"o": str(held)}).all()
    assert [a for a, _ in rows] == ["person.legal_hold", "person.legal_hold_lift"]
    assert all("court_order" in str(d) and "Held Draft" not in str(d) for _, d in rows)


def test_a_hold_placed_while_the_retention_job_runs_wins(caseworker, app, clock):
    """The job reads its list of due records first; a hold committed after that must still
    stop the erasure (the row is locked and re-read before anything is destroyed)."""
    from sqlalchemy.exc import OperationalError

    from onboarding.audit import Actor
    from onboarding.intake import operations as ops
    from onboarding.intake.views import svc
    from onboarding.models import Person

    c, _ = caseworker
    pid = enrol(c, names="Race Person")
    factory = app.extensions["onboarding.sessionmaker"]
    with factory() as db, db.begin():
        db.get(Person, pid).retain_until = (clock.at - timedelta(days=1)).date()
    with app.test_request_context():
        services = svc()
        job = factory()
        job.begin()
        due = [p for p in ops.retention_due(job, clock.at.date()) if p.id == pid]
        assert due
        with factory() as admin, admin.begin():
            ops.set_legal_hold(admin, Actor(), admin.get(Person, pid), True, "court_order")
        try:
            ops.erase(job, Actor(), services, due[0])
            job.commit()
            outcome = "erased"
        except ops.IntakeError:
            outcome = "held"
        except OperationalError:  # SQLite: the job's snapshot is stale, its write refused
            outcome = "conflict"
        finally:
            job.rollback()
            job.close()
        with factory() as db:
            person = db.get(Person, pid)
            assert person.status.value != "erased" and person.legal_hold
            assert services.keystore.get(pid)  # the key is still there
    assert outcome in ("held", "conflict")
    if app.extensions["onboarding.engine"].dialect.name == "postgresql":
        assert outcome == "held"  # row locks: the erasure sees the hold and refuses


def test_ngo_admin_places_and_lifts_a_legal_hold_in_the_workspace(caseworker, signed_in):
    c, who = caseworker
    pid = enrol(c, names="Hold Person")
    page = c.get(f"/intake/{pid}").get_data(as_text=True)
    assert "Unfinished intake: shredded on" in page
    assert 'id="legal-hold"' not in page  # an administrator's decision
    step_up(c, who)
    assert c.post(f"/intake/{pid}/legal-hold",
                  {"hold": "on", "reason": "court_order"}).status_code in (403, 404)
    admin, boss = signed_in("ngo_admin")
    assert 'id="legal-hold"' in admin.get(f"/intake/{pid}").get_data(as_text=True)
    step_up(admin, boss)
    assert admin.post(f"/intake/{pid}/legal-hold",
                      {"hold": "on", "reason": "her name is Hold"}).status_code == 400
    r = admin.post(f"/intake/{pid}/legal-hold", {"hold": "on", "reason": "court_order"})
    assert r.status_code == 303
    page = admin.get(f"/intake/{pid}").get_data(as_text=True)
    assert "On legal hold" in page and "Lift the legal hold" in page
    refused = admin.post(f"/intake/{pid}/erase").get_data(as_text=True)
    assert "under legal hold and cannot be erased" in refused
    r = admin.post(f"/intake/{pid}/legal-hold", {"hold": "off", "reason": "court_order"})
    assert r.status_code == 303
    page = admin.get(f"/intake/{pid}").get_data(as_text=True)
    assert "Unfinished intake: shredded on" in page and "Place a legal hold" in page


def test_backup_restore_drill_after_erasure(caseworker, app, tmp_path, instance):
    """The documented procedure (`onboarding backup`) before an erasure, restored into a
    fresh instance: the erased person stays unreadable, everyone else decrypts, the audit
    chain verifies (SECURITY.md 29 and J)."""
    import secrets
    import subprocess

    from onboarding import audit, create_app
    from onboarding.intake.views import svc
    from onboarding.models import Person
    from onboarding.privacy import Erased
    from tests.conftest import PG_ADMIN_URL

    c, who = caseworker
    keep = enrol(c, names="Kept Person")
    gone = enrol(c)
    issue(c, who, gone)
    dump = tmp_path / "backup.dump"
    r = app.test_cli_runner().invoke(args=["backup", str(dump)])
    assert r.exit_code == 0, r.output
    assert CANARY_NAME.encode() not in dump.read_bytes()
    step_up(c, who)
    assert c.post(f"/intake/{gone}/erase", {"csrf_token": c.token("/home")}).status_code == 303

    engine = app.extensions["onboarding.engine"]
    restored_db = None
    if engine.dialect.name == "sqlite":
        restored_url = f"sqlite:///{dump}"
    else:
        import psycopg

        restored_db = f"onb_restore_{secrets.token_hex(4)}"
        admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{restored_db}"')
        target = admin.rsplit("/", 1)[0] + "/" + restored_db
        subprocess.run(["pg_restore", "--no-owner", "-d", target, str(dump)], check=True)
        restored_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + restored_db
    try:
        fresh = create_app({**{k: app.config[k] for k in (
            "TESTING", "SECRET_KEY", "KEK", "BLIND_INDEX_KEY", "KEYSTORE_URL", "UPLOAD_FOLDER",
            "ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM",
            "COOKIE_HOST_PREFIX")}, "DATABASE_URL": restored_url})
        with fresh.test_request_context():
            s = svc()
            with fresh.extensions["onboarding.sessionmaker"]() as db:
                old = db.get(Person, gone)
                assert old.names_enc is not None  # the backup still has the ciphertext ...
                with pytest.raises(Erased):
                    s.cipher(old).open("names", old.names_enc)  # ... and no key for it
                kept = db.get(Person, keep)
                assert s.cipher(kept).open("names", kept.names_enc) == ["Kept Person"]
                assert audit.verify_chain(db).ok
        fresh.extensions["onboarding.engine"].dispose()
    finally:
        if restored_db:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{restored_db}" WITH (FORCE)')


def test_person_gets_a_copy_of_their_data_with_step_up(caseworker, app):
    import pypdfium2

    c, who = caseworker
    pid = enrol(c)
    issue(c, who, pid)
    c.clock.advance(minutes=6)  # the step-up made for issuing has lapsed
    r = c.get(f"/intake/{pid}/export.pdf")
    assert r.headers["Location"].startswith("/account/confirm")  # exporting needs step-up
    step_up(c, who)
    r = c.get(f"/intake/{pid}/export.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    doc = pypdfium2.PdfDocument(r.data)
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    doc.close()
    assert CANARY_NAME in text and CANARY_DOB in text and "read_aloud" in text
    with app.extensions["onboarding.engine"].connect() as conn:
        assert conn.execute(text_sql("SELECT count(*) FROM audit_entry WHERE action = "
                                     "'person.export'")).scalar() == 1


def test_renewal_supersedes_with_a_new_expiry(caseworker, app, clock):
    from onboarding.models import Attestation

    c, who = caseworker
    att = att_id_from(issue(c, who, enrol(c)))
    clock.advance(days=300)
    c.login(who)  # months later: a new session
    certify(app, who)  # and a current certification
    step_up(c, who)
    r = c.post(f"/intake/attestations/{att}/reissue", {"reason": "renewal",
                                                        "csrf_token": c.token("/home")})
    new = att_id_from(r)
    with app.extensions["onboarding.sessionmaker"]() as db:
        old, fresh = db.get(Attestation, att), db.get(Attestation, new)
        assert old.status.value == "superseded" and old.revocation_reason == "renewal"
        assert fresh.expires_at.replace(tzinfo=None) > old.expires_at.replace(tzinfo=None) + \
            timedelta(days=299)


def test_kek_rotation_keeps_everything_working(caseworker, app_factory, app, client_for):
    """SECURITY.md 28: new primary KEK, old one decrypt-only, re-wrap, retire the old."""
    import base64
    import secrets

    from onboarding.intake.views import svc
    from onboarding.models import Person

    c, who = caseworker
    pid = enrol(c, names="Rotated Person")
    old_kek = app.config["KEK"]
    new_kek = base64.b64encode(secrets.token_bytes(32)).decode()
    shared = {k: app.config[k] for k in ("SECRET_KEY", "BLIND_INDEX_KEY", "KEYSTORE_URL",
                                         "UPLOAD_FOLDER")}
    rotated = app_factory(**shared, KEK=new_kek, KEK_OLD=old_kek)
    with rotated.test_request_context(), rotated.extensions["onboarding.sessionmaker"]() as db:
        p = db.get(Person, pid)
        assert svc().cipher(p).open("names", p.names_enc) == ["Rotated Person"]
    r = rotated.test_cli_runner().invoke(args=["keys", "rewrap"])
    assert r.exit_code == 0 and "re-wrapped 1 data keys" in r.output, r.output
    retired = app_factory(**shared, KEK=new_kek)  # the old KEK is gone now
    with retired.test_request_context(), retired.extensions["onboarding.sessionmaker"]() as db:
        p = db.get(Person, pid)
        assert svc().cipher(p).open("names", p.names_enc) == ["Rotated Person"]
    from tests.conftest import StaffClient

    again = StaffClient(retired, c.clock)
    again.login(who)  # the TOTP seed was re-wrapped too
    assert again.get("/intake/").status_code == 200
    # and the NGO can still sign: issue with the re-wrapped signing key
    certify(retired, who)
    pid2 = enrol(again, names="After Rotation")
    assert issue(again, who, pid2).status_code == 303


def test_oversized_upload_is_refused_with_413(caseworker):
    c, _ = caseworker
    pid = enrol(c)
    big = b"\xff\xd8\xff" + b"0" * (9 * 1024 * 1024)
    # Encoded in memory by hand (the test client would spool it to a temp file that the
    # app, rightly, never reads and so never closes).
    boundary = "xYzBoundary7"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{c.token('/home')}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f"name=\"photo\"; filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            ).encode() + big + f"\r\n--{boundary}--\r\n".encode()
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(path=f"/intake/{pid}/photo", method="POST",
                             base_url="https://localhost", input_stream=io.BytesIO(body),
                             content_length=len(body),
                             content_type=f"multipart/form-data; boundary={boundary}")
    r = c.client.open(builder)
    assert r.status_code == 413, r.get_data(as_text=True)[-1500:]
    assert "Too large" in r.get_data(as_text=True)


def test_pixel_flood_and_fake_images_give_field_errors(caseworker):
    import struct
    import zlib

    c, _ = caseworker
    pid = enrol(c)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    flood = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2,
                                                             0, 0, 0)) + chunk(b"IEND", b"")
    for data in (flood, b"GIF89a" + b"0" * 100, b"just text, not a photo"):
        page = c.get(f"/intake/{pid}/photo").get_data(as_text=True)
        r = c.post(f"/intake/{pid}/photo", {"photo": (io.BytesIO(data), "x.jpg"),
                                            "csrf_token": csrf_from(page)},
                   content_type="multipart/form-data")
        assert r.status_code == 200
        assert 'class="error-message"' in r.get_data(as_text=True)
