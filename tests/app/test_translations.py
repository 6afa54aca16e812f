"""The Spanish catalog: complete, current with the code, and used by the screens."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.app.intake_helpers import certify, enrol, ensure_key
from tests.conftest import csrf_from

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "onboarding" / "translations"


def _catalog(lang: str) -> Any:
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def test_spanish_catalog_has_no_empty_or_fuzzy_entry():
    catalog = _catalog("es")
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    empty, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue  # the header
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(s and s.strip() for s in strings):
            empty.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert empty == [], f"{len(empty)} untranslated: {empty[:10]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy (check them, then drop the flag): {fuzzy[:10]}"


def test_spanish_placeholders_match_the_english():
    problems = [(message.id, [str(e) for e in errors])
                for message, errors in _catalog("es").check()]
    assert problems == []


def test_catalog_holds_every_string_marked_in_the_code():
    """`make translations` was run after the last change to a marked string."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    keywords = dict(DEFAULT_KEYWORDS, _l=None)
    marked = {(context, msgid if isinstance(msgid, str) else msgid[0])
              for _file, _line, msgid, _comments, context
              in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}
    for lang in ("en", "es"):
        catalog = _catalog(lang)
        known = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}
        missing = sorted(msgid for context, msgid in marked - known)
        assert missing == [], f"{lang}: run `make translations`; missing {missing[:10]}"


@pytest.fixture
def spanish_caseworker(signed_in, app):
    c, who = signed_in("caseworker")
    certify(app, who)
    ensure_key(app, who.org_id)
    r = c.post("/language", {"lang": "es", "next": "/home", "csrf_token": c.token("/home")})
    assert r.status_code in (302, 303)
    return c, who


def test_intake_screens_show_spanish_labels_for_stored_codes(spanish_caseworker):
    c, _who = spanish_caseworker
    pid = enrol(c)
    page = c.get(f"/intake/{pid}/evidence").get_data(as_text=True)
    table = page[page.index('<table id="evidence-items">'):page.index("</table>")]
    for spanish in ("Entrevista con referente de confianza",  # catalogue label
                    "Vista, sin comprobar",  # how it was checked
                    "Comprobada y confirmada"):  # result
        assert spanish in table
    for code in ("visual_only", "authoritative_source", ">validated<"):
        assert code not in table
    assert "al menos una prueba FAIR o mejor, validada" in page  # assurance explanation
    assert "Trusted-referee interview" not in page and "FAIR-or-better" not in page
    referee = c.get(f"/intake/{pid}/referee").get_data(as_text=True)
    assert "Otra persona habla por ella" in referee  # coercion indicator
    assert "No tiene documentos de identidad y ahora no puede conseguirlos" in referee
    review = c.get(f"/intake/{pid}/review").get_data(as_text=True)
    assert "Entrevista con referente de confianza — Comprobada y confirmada" in review
    assert "No tiene documentos de identidad y ahora no puede conseguirlos" in review
    caseload = c.get("/intake/").get_data(as_text=True)
    assert '<span class="tag">borrador</span>' in caseload
    person = c.get(f"/intake/{pid}").get_data(as_text=True)
    assert 'id="person-status">borrador<' in person


def test_refused_photo_is_explained_in_spanish(spanish_caseworker):
    c, _who = spanish_caseworker
    pid = enrol(c)
    page = c.get(f"/intake/{pid}/photo").get_data(as_text=True)
    r = c.post(f"/intake/{pid}/photo", {"photo": (io.BytesIO(b"not a picture"), "x.jpg"),
                                        "csrf_token": csrf_from(page)},
               content_type="multipart/form-data")
    body = r.get_data(as_text=True)
    assert "El archivo no es una foto JPEG, PNG o WebP." in body
    assert "The file is not a JPEG" not in body


def test_messages_made_outside_a_request_stay_english(app):
    """CLI commands and jobs run in an app context with no request: no locale to pick."""
    from onboarding.passwords import password_problems

    with app.app_context():
        assert password_problems("q9Z") == ["Use at least 8 characters."]
