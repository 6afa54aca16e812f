"""Screening: OFAC legacy CSV and simple CSV loading, cross-script matching, second signals,
whitelist, and precision/recall on a labelled synthetic set (reported in docs/risk.md)."""

from __future__ import annotations

from datetime import date

import pytest
from risk_testdata import labelled_screening_set

import risk
from risk.model import Disposition, HitKind
from risk.policy import ScreeningParams
from risk.screening import (
    Applicant,
    DobRange,
    NameForm,
    Screener,
    evaluate,
    latinise,
    load_ofac_sdn,
    load_simple_csv,
    name_score,
    parse_ofac_dobs,
)

PARAMS = risk.load_policy(risk.default_policy_path()).screening

# Synthetic rows in OFAC's legacy layout: no header, "-0-" for null, CR LF, trailing 0x1A.
SDN = (
    '101,"PETROVA, Olga Ivanovna","individual","SDGT] [IRGC","-0-","-0-","-0-","-0-","-0-",'
    '"-0-","-0-","DOB 12 Mar 1971; POB Testgrad; nationality Russia; Gender Female."\r\n'
    '102,"HADDAD, Yusuf","individual","SYRIA","-0-","-0-","-0-","-0-","-0-","-0-","-0-",'
    '"DOB circa 1965; citizen Syria."\r\n'
    '103,"EXAMPLE TRADING LLC","-0- ","SDGT","-0-","-0-","-0-","-0-","-0-","-0-","-0-",'
    '"Registration ID 12345."\r\n'
    '104,"KARIMI, Omar","individual","SDGT","-0-","-0-","-0-","-0-","-0-","-0-","-0-",'
    '"DOB 01 Jan 1980 to 31 Dec 1982; nationality Iraq."\r\n'
    '105,"TEST VESSEL","vessel","IRAN","-0-","ABC123","Tanker","-0-","-0-","Panama","-0-",'
    '"-0-"\r\n'
    "\x1a"
).encode("cp1252")
ALT = (
    '101,201,"aka","PETROVA, Olya","-0-"\r\n'
    '102,202,"fka","AL-HADDAD, Youssef","-0-"\r\n'
).encode("cp1252")


def test_ofac_sdn_loading() -> None:
    wl = load_ofac_sdn(SDN, ALT)
    assert [e.entity_id for e in wl.entries] == ["101", "102", "104"]  # people only
    olga, yusuf, omar = wl.entries
    assert olga.names == ("Olga Ivanovna PETROVA", "Olya PETROVA")
    assert olga.dobs == (DobRange(date(1971, 3, 12), date(1971, 3, 12)),)
    assert olga.nationalities == frozenset({"RUS"})
    assert olga.programs == ("SDGT", "IRGC")
    assert yusuf.dob_approximate and yusuf.dobs[0].start == date(1965, 1, 1)
    assert yusuf.nationalities == frozenset({"SYR"})
    assert yusuf.names[1] == "Youssef AL-HADDAD"
    assert omar.dobs == (DobRange(date(1980, 1, 1), date(1982, 12, 31)),)
    assert wl.version.startswith("sha256:") and wl.kind is HitKind.SANCTIONS
    everyone = load_ofac_sdn(SDN, ALT, individuals_only=False)
    assert len(everyone.entries) == 5


@pytest.mark.parametrize(("remarks", "ranges", "approx"), [
    ("DOB 01 Jan 1970", [(date(1970, 1, 1), date(1970, 1, 1))], False),
    ("DOB 1970", [(date(1970, 1, 1), date(1970, 12, 31))], False),
    ("DOB circa 1970", [(date(1970, 1, 1), date(1970, 12, 31))], True),
    ("DOB 01 Jan 1970 to 31 Dec 1972", [(date(1970, 1, 1), date(1972, 12, 31))], False),
    ("DOB 05 Feb 1960; alt. DOB 1961", [(date(1960, 2, 5), date(1960, 2, 5)),
                                        (date(1961, 1, 1), date(1961, 12, 31))], False),
    ("DOB 31 Feb 1970", [], False),  # impossible dates are ignored, never guessed
    ("Passport 1234567", [], False),
])
def test_ofac_dob_remarks(remarks: str, ranges: list[tuple[date, date]], approx: bool) -> None:
    got, a = parse_ofac_dobs(remarks)
    assert [(r.start, r.end) for r in got] == ranges
    assert a is approx


def test_simple_csv() -> None:
    data = ("name,aliases,date_of_birth,nationality\n"
            "Maryam Jaber,Mariam Jabir;مريم جابر,1975-05-05,JOR\n"
            "Pavel Orlov,,circa 1960,UA;Russia\n").encode()
    wl = load_simple_csv(data, name="pep-test")
    assert wl.kind is HitKind.PEP
    maryam, pavel = wl.entries
    assert maryam.entity_id == "pep-test-1" and len(maryam.names) == 3
    assert pavel.nationalities == frozenset({"UKR", "RUS"}) and pavel.dob_approximate
    with pytest.raises(ValueError, match="header"):
        load_simple_csv(b"who,when\nx,y\n", name="bad")


def test_transliteration_and_scores() -> None:
    assert latinise("Александр Петров") == "aleksandr petrov"
    assert latinise("Γεώργιος Παπαδόπουλος") == "georgios papadopulos"
    assert latinise("José Müller-Lüdenscheidt") == "jose muller ludenscheidt"
    assert latinise("محمد") == "mhmd"
    same = [("Александр Петров", "Alexander Petrov"), ("محمد حداد", "Mohammed Haddad"),
            ("Сергей Соколов", "Sergey Sokolov"), ("Γεώργιος Παπαδόπουλος",
                                                    "Georgios Papadopoulos"),
            ("Haddad Mohammed", "Mohammed Haddad")]
    for a, b in same:
        assert name_score(NameForm.of(a), NameForm.of(b)) >= 95, (a, b)
    different = [("Alexander Popov", "Александр Петров"), ("Ivan Petrov", "Ivan"),
                 ("أحمد حداد", "Mohammed Haddad")]
    for a, b in different:
        assert name_score(NameForm.of(a), NameForm.of(b)) < PARAMS.possible_match_threshold


def test_second_signals_and_whitelist() -> None:
    wl = load_ofac_sdn(SDN, ALT)
    s = Screener([wl], PARAMS, whitelist=[("cleared-app", "101")])
    same = Applicant("a", ("Ольга Петрова",), "1971-03-12", False, "RUS")
    [hit] = s.screen(same).hits
    assert hit.entity_id == "101" and hit.dob_signal == "match"
    assert hit.nationality_signal == "match" and hit.score == 100
    assert hit.disposition is Disposition.OPEN
    # A namesake born 20 years later in another country drops below the threshold.
    namesake = Applicant("b", ("Olga Petrova",), "1991", False, "UKR")
    assert all(h.score < PARAMS.possible_match_threshold for h in s.screen(namesake).hits)
    # Whitelisted pairs are still reported, as cleared, so the audit trail shows them.
    [cleared] = s.screen(Applicant("cleared-app", ("Olga Petrova",), "1971")).hits
    assert cleared.disposition is Disposition.CLEARED
    # Approximate DOB on either side widens the match by a year.
    [y] = s.screen(Applicant("c", ("يوسف حداد",), "1966", True, None)).hits
    assert y.entity_id == "102" and y.dob_signal == "match"
    assert y.score >= PARAMS.possible_match_threshold


def test_prepared_screener_swaps_whitelists_and_finds_arabic_script_entries() -> None:
    """A screener prepared once serves many applicants with each bank's whitelist, and a
    Latin-script applicant still meets an Arabic-script list entry by its skeleton."""
    wl = load_simple_csv("name,aliases,date_of_birth,nationality\n"
                         "\u0645\u062d\u0645\u062f \u062d\u062f\u0627\u062f,,1970,SYR\n"
                         "Olga Petrova,,1971,RUS\n".encode(), name="mixed")
    prepared = Screener([wl], PARAMS)
    olga = Applicant("app-1", ("Olga Petrova",), "1971", False, "RUS")
    [open_hit] = prepared.screen(olga).hits
    cleared = prepared.with_whitelist([("app-1", open_hit.entity_id)])
    assert cleared.screen(olga).hits[0].disposition is Disposition.CLEARED
    assert prepared.screen(olga).hits[0].disposition is Disposition.OPEN  # unchanged
    [arabic] = prepared.screen(Applicant("app-2", ("Mohammed Haddad",), "1970")).hits
    assert arabic.matched_name.startswith("\u0645") and arabic.score >= \
        PARAMS.possible_match_threshold


def test_screening_result_feeds_the_engine() -> None:
    from risk_testdata import make

    wl = load_ofac_sdn(SDN, ALT)
    res = Screener([wl], PARAMS).screen(Applicant("a", ("Omar Karimi",), "1981", False, "IRQ"))
    x = make(**{"bank_checks.screening": res.to_bank_check()})
    d = risk.assess(x, risk.load_policy(risk.default_policy_path()))
    assert d.outcome == "refer" and "POSSIBLE_SANCTIONS_MATCH" in d.reason_codes
    assert res.list_versions == {"ofac-sdn": wl.version}


#: Reported in docs/risk.md ("Screening quality"); the test keeps the docs honest.
MIN_PRECISION = 0.85
MIN_RECALL = 0.98


def test_precision_and_recall_on_labelled_cross_script_set() -> None:
    wl, labelled = labelled_screening_set()
    s = Screener([wl], PARAMS)
    m = evaluate(s, labelled)
    assert m["tp"] + m["fn"] == sum(1 for _, e in labelled if e is not None) == 300
    assert m["recall"] >= MIN_RECALL, m
    assert m["precision"] >= MIN_PRECISION, m
    # Per script: transliteration must work for each, not on average.
    for script in ("cyrillic", "arabic", "latin"):
        subset = [(a, e) for a, e in labelled if e is not None and _script(a.names[0]) == script]
        assert len(subset) > 50
        assert evaluate(s, subset)["recall"] >= 0.97, script
    # Second signals matter: without them precision falls.
    bare = [(Applicant(a.key, a.names), e) for a, e in labelled]
    assert evaluate(s, bare)["precision"] < m["precision"]


def _script(name: str) -> str:
    if any("\u0400" <= c <= "\u04ff" for c in name):
        return "cyrillic"
    if any("\u0600" <= c <= "\u06ff" for c in name):
        return "arabic"
    return "latin"


def test_threshold_comes_from_the_policy() -> None:
    wl, labelled = labelled_screening_set()
    loose = evaluate(Screener([wl], ScreeningParams(75, 60)), labelled)
    strict = evaluate(Screener([wl], PARAMS), labelled)
    assert loose["fp"] > strict["fp"]
