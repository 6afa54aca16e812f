"""Shared test data for tests/risk: synthetic names and input builders. Never real people.

The name pool is a labelled set: each given name and surname in Latin spellings, Cyrillic and
Arabic. Full names are random combinations, so no entry describes a real person; that some
combination exists somewhere in the world is unavoidable and irrelevant to the tests.
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, date, datetime
from typing import Any

from risk.model import HitKind
from risk.screening import Applicant, ListEntry, WatchList, parse_dob

#: (Latin spellings, Cyrillic, Arabic) for given names.
GIVEN: list[tuple[tuple[str, ...], str, str]] = [
    (("Aleksandr", "Alexander"), "Александр", "ألكسندر"),
    (("Mohammed", "Muhammad", "Mohamed"), "Мухаммед", "محمد"),
    (("Fatima", "Fatma"), "Фатима", "فاطمة"),
    (("Omar", "Umar"), "Омар", "عمر"),
    (("Yusuf", "Youssef"), "Юсуф", "يوسف"),
    (("Layla", "Leila"), "Лейла", "ليلى"),
    (("Ivan",), "Иван", "إيفان"),
    (("Olga",), "Ольга", "أولغا"),
    (("Dmitri", "Dmitry"), "Дмитрий", "دميتري"),
    (("Natalia", "Natalya"), "Наталья", "ناتاليا"),
    (("Ahmed", "Ahmad"), "Ахмед", "أحمد"),
    (("Hassan",), "Хасан", "حسن"),
    (("Maryam", "Mariam"), "Марьям", "مريم"),
    (("Sergei", "Sergey"), "Сергей", "سيرغي"),
    (("Tatiana", "Tatyana"), "Татьяна", "تاتيانا"),
    (("Khalid", "Khaled"), "Халид", "خالد"),
    (("Amina",), "Амина", "أمينة"),
    (("Nikolai", "Nikolay"), "Николай", "نيكولاي"),
    (("Zainab", "Zeinab"), "Зейнаб", "زينب"),
    (("Pavel",), "Павел", "بافل"),
]
SURNAMES: list[tuple[tuple[str, ...], str, str]] = [
    (("Petrov",), "Петров", "بتروف"),
    (("Ivanova",), "Иванова", "إيفانوفا"),
    (("Haddad",), "Хаддад", "حداد"),
    (("Mansour", "Mansur"), "Мансур", "منصور"),
    (("Sokolov",), "Соколов", "سوكولوف"),
    (("Nasser", "Nasser"), "Насер", "ناصر"),
    (("Kuznetsov",), "Кузнецов", "كوزنتسوف"),
    (("Saleh", "Salih"), "Салех", "صالح"),
    (("Morozov",), "Морозов", "موروزوف"),
    (("Karimi",), "Карими", "كريمي"),
    (("Volkova",), "Волкова", "فولكوفا"),
    (("Rahman",), "Рахман", "رحمن"),
    (("Popov",), "Попов", "بوبوف"),
    (("Aziz",), "Азиз", "عزيز"),
    (("Lebedev",), "Лебедев", "ليبيديف"),
    (("Hamdan",), "Хамдан", "حمدان"),
    (("Novikova",), "Новикова", "نوفيكوفا"),
    (("Farouk", "Faruq"), "Фарук", "فاروق"),
    (("Orlov",), "Орлов", "أورلوف"),
    (("Jaber", "Jabir"), "Джабер", "جابر"),
]
NATIONALITIES = ("RUS", "UKR", "SYR", "IRQ", "EGY", "KAZ", "LBN", "JOR")


def spelling(entry: tuple[tuple[str, ...], str, str], script: str, rng: random.Random) -> str:
    latin, cyr, arab = entry
    if script == "latin":
        return rng.choice(latin)
    return cyr if script == "cyrillic" else arab


def labelled_screening_set(seed: int = 1, entities: int = 120, queries: int = 600
                           ) -> tuple[WatchList, list[tuple[Applicant, str | None]]]:
    """A synthetic list (Latin spellings) and labelled queries in three scripts.

    Half the queries are the listed person in another spelling or script (positives); the
    rest are hard negatives: a listed name's namesake with another birth year and
    nationality, or someone sharing only the given name or only the surname.
    """
    rng = random.Random(seed)
    people: list[tuple[int, int, int, str]] = []
    seen: set[tuple[int, int]] = set()
    while len(people) < entities:
        g, s = rng.randrange(len(GIVEN)), rng.randrange(len(SURNAMES))
        if (g, s) in seen:
            continue
        seen.add((g, s))
        people.append((g, s, rng.randrange(1950, 2000), rng.choice(NATIONALITIES)))
    listed = []
    for i, (g, s, year, nat) in enumerate(people):
        first, last = GIVEN[g][0][0], SURNAMES[s][0][0]
        listed_dob = f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        rng_dob, _ = parse_dob(listed_dob)
        assert rng_dob is not None
        listed.append(ListEntry(f"SYN-{i}", (f"{first} {last}",), dobs=(rng_dob,),
                                nationalities=frozenset({nat})))
    wl = WatchList("synthetic-sanctions", HitKind.SANCTIONS, "sha256:test", tuple(listed))
    out: list[tuple[Applicant, str | None]] = []
    for q in range(queries):
        script = rng.choice(("latin", "cyrillic", "arabic"))
        i = rng.randrange(entities)
        g, s, year, nat = people[i]
        e = listed[i]
        if q % 2 == 0:  # positive: same person, other spelling, maybe name order swapped
            name = f"{spelling(GIVEN[g], script, rng)} {spelling(SURNAMES[s], script, rng)}"
            if rng.random() < 0.2:
                name = " ".join(reversed(name.split()))
            if script == "latin" and rng.random() < 0.3:  # a typo: one letter dropped
                k = rng.randrange(1, len(name) - 1)
                if name[k] != " ":
                    name = name[:k] + name[k + 1:]
            u = rng.random()
            approx = False
            if u < 0.4:
                dob: str | None = e.dobs[0].start.isoformat()
            elif u < 0.7:
                dob = str(year)
            elif u < 0.85:  # an estimated age: approximate and a year off
                dob, approx = str(year + rng.choice((-1, 1))), True
            else:
                dob = None
            out.append((Applicant(f"a{q}", (name,), dob, approx,
                                  nat if rng.random() < 0.6 else None), e.entity_id))
            continue
        kind = rng.random()
        if kind < 0.1:  # namesake with no second signal: indistinguishable by name alone
            name = f"{spelling(GIVEN[g], script, rng)} {spelling(SURNAMES[s], script, rng)}"
            out.append((Applicant(f"a{q}", (name,), None, False, None), None))
            continue
        if kind < 0.4:  # namesake: same name, different person (DOB and nationality differ)
            name = f"{spelling(GIVEN[g], script, rng)} {spelling(SURNAMES[s], script, rng)}"
            other_nat = rng.choice([n for n in NATIONALITIES if n != nat])
            out.append((Applicant(f"a{q}", (name,), str(year + rng.choice((-9, -6, 7, 11))),
                                  False, other_nat), None))
            continue
        # shares one name only: a given name or a surname that is listed with another partner
        g2 = rng.randrange(len(GIVEN))
        s2 = rng.randrange(len(SURNAMES))
        if kind < 0.7:
            g2 = g
        else:
            s2 = s
        if (g2, s2) in seen:
            continue  # that combination is listed: not a negative
        name = f"{spelling(GIVEN[g2], script, rng)} {spelling(SURNAMES[s2], script, rng)}"
        out.append((Applicant(f"a{q}", (name,), str(rng.randrange(1950, 2005)), False,
                              rng.choice(NATIONALITIES)), None))
    return wl, out


# --------------------------------------------------------------------------- input builders

AS_OF = date(2025, 7, 1)


def epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


BASE_INPUT: dict[str, Any] = {
    "case_id": "case-1",
    "assessed_at": "2025-07-01",
    "attestation": {
        "verification": {"result": "valid", "warnings": [],
                         "status_as_of": "2025-06-30T22:00:00Z"},
        "claims": {
            "identity_assurance": 0,
            "evidence_categories": [],
            "trusted_referee_session": 1,
            "applicant_references": 1,
            "iat": epoch(date(2025, 6, 1)),
            "exp": epoch(date(2026, 6, 1)),
            "date_of_birth": "1990-04-02",
            "nationality": "UKR",
            "photo": True,
        },
        "issuer": {"id": "ngo-test", "accreditation_state": "active",
                   "accreditation_expires": "2026-12-31"},
    },
    "bank_checks": {
        "consent": "given",
        "screening": {"status": "completed", "hits": []},
        "duplicate": "clear",
        "authenticator_aal": 2,
    },
}


def make(**changes: Any) -> dict[str, Any]:
    """A copy of BASE_INPUT (a clean T1 approve) with dotted-path changes applied:
    ``make(**{"bank_checks.consent": "refused"})``; a value of ``...`` deletes the key."""
    x = copy.deepcopy(BASE_INPUT)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = x
        for p in parents:
            node = node[p]
        if value is ...:
            node.pop(last, None)
        else:
            node[last] = value
    return x
