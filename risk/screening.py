"""Sanctions / PEP screening: list loading, cross-script fuzzy matching, second signals.

Lists: OFAC's legacy CSV (SDN.CSV with aliases from ALT.CSV; no header row, "-0-" for null,
dates of birth only inside the free-text remarks) and a simple CSV with a header
``name,aliases,date_of_birth,nationality`` for PEP or national lists.

Matching, and why it is built this way:

* Names reach a bank in the script the person uses (FORMATS.md claim 1 is NFC text, any
  script) while lists are mostly Latin. We transliterate Cyrillic, Greek and Arabic to Latin
  with small hand-written tables. No maintained pure-Python transliteration library is
  installed here (``unidecode`` is GPL and not a dependency; ICU needs a C library); a table
  covering the letters of these scripts is short, reviewable and deterministic.
* Different romanisations of one name differ in regular ways (x/ks, w/v, y/j/i, kh/h, doubled
  letters), so both sides are folded to one spelling before comparing.
* Arabic script leaves short vowels unwritten, so "Mohammed" arrives as "mhmd". When either
  side was written in Arabic script we also compare consonant skeletons (vowels removed,
  p/b and v/f merged as Arabic spells foreign names), which is what a human reviewer does.
* rapidfuzz token-sort ratio compares names regardless of order; token-set ratio is used only
  when both sides have at least two tokens, so a single shared given name never scores 100.
* Fuzzy name scores alone flood reviewers with false positives (DOMAIN.md §7), so date of birth
  and nationality move the score: agreement raises it a little, disagreement lowers it a lot.
  The threshold comes from the policy; hits from ``report_floor`` up are reported so reviewers
  see near misses, but only those at or above the threshold refer a case.
* A whitelist of cleared (applicant key, entity id) pairs survives re-screening: those hits are
  still reported, with disposition ``cleared``, so the audit trail shows them.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import permutations
from pathlib import Path
from typing import Any, Final

from rapidfuzz import fuzz, process

from risk._countries import ALPHA2_TO_ALPHA3, ALPHA3, NAME_TO_ALPHA3
from risk.model import Disposition, HitKind
from risk.policy import ScreeningParams

# --------------------------------------------------------------------------- transliteration

_CYRILLIC: Final = dict(zip(
    "абвгдежзийклмнопрстуфхцчшщъыьэюяёіїєґў",
    ["a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
     "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "e", "i",
     "yi", "ye", "g", "u"], strict=True))
_GREEK: Final = dict(zip(
    "αβγδεζηθικλμνξοπρσςτυφχψω",
    ["a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r", "s",
     "s", "t", "y", "f", "ch", "ps", "o"], strict=True))
_ARABIC: Final = dict(zip(
    "اأإآٱءؤئبتثجحخدذرزسشصضطظعغفقكلمنهةويىپچژگکیڤ",
    ["a", "a", "i", "a", "a", "", "", "", "b", "t", "th", "j", "h", "kh", "d", "dh", "r", "z",
     "s", "sh", "s", "d", "t", "z", "", "gh", "f", "q", "k", "l", "m", "n", "h", "a", "w", "y",
     "a", "p", "ch", "zh", "g", "k", "y", "v"], strict=True))
_TRANSLIT: Final = {**_CYRILLIC, **_GREEK, **_ARABIC}
#: Greek diphthongs read as one sound ("ου" is "u" in Papadopoulos/Παπαδόπουλος).
_GREEK_DIGRAPHS: Final = (("ου", "u"), ("αι", "e"), ("ει", "i"), ("οι", "i"), ("μπ", "b"),
                          ("ντ", "d"), ("γκ", "g"))
_ARABIC_RANGE: Final = re.compile("[\u0600-\u06ff\u0750-\u077f]")
_NON_ALNUM: Final = re.compile(r"[^a-z0-9]+")
#: Regular differences between romanisations, applied in order to every name.
_FOLDS: Final = (("dzh", "j"), ("dj", "j"), ("kh", "h"), ("ph", "f"), ("ck", "k"), ("x", "ks"),
                 ("q", "k"), ("w", "v"), ("tz", "ts"), ("ou", "u"), ("ee", "i"), ("oo", "u"),
                 ("y", "i"), ("j", "i"))
_DOUBLE: Final = re.compile(r"(.)\1+")
_SKELETON_DROP: Final = re.compile(r"[aeiouyw]")


def _strip_marks(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def latinise(name: str) -> str:
    """Lower-case ASCII letters and digits, one space between tokens, in any input script."""
    s = _strip_marks(name).casefold()
    if any("\u0370" <= c <= "\u03ff" for c in s):
        for a, b in _GREEK_DIGRAPHS:
            s = s.replace(a, b)
    s = "".join(_TRANSLIT.get(c, c) for c in s)
    return " ".join(_NON_ALNUM.sub(" ", s).split())


def fold(latin: str) -> str:
    """Merge spelling differences between romanisations ("Aleksandr" = "Alexander")."""
    out = []
    for tok in latin.split():
        for a, b in _FOLDS:
            tok = tok.replace(a, b)
        out.append(_DOUBLE.sub(r"\1", tok))
    return " ".join(out)


def skeleton(latin: str) -> str:
    """Consonant skeleton per token, as Arabic script writes names."""
    out = []
    for tok in latin.split():
        if tok in ("al", "el", "ul"):
            continue
        if tok[:2] in ("al", "el") and len(tok) > 4:
            tok = tok[2:]  # the attached Arabic article: "alrashid" = "al rashid"
        for a, b in (("dzh", "j"), ("kh", "h"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("sh", "s"),
                     ("zh", "z"), ("x", "ks"), ("ph", "f"), ("q", "k"), ("p", "b"),
                     ("v", "f")):
            tok = tok.replace(a, b)
        tok = _DOUBLE.sub(r"\1", _SKELETON_DROP.sub("", tok))
        if tok:
            out.append(tok)
    return " ".join(out)


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name prepared for matching."""

    original: str
    folded: str
    skeleton: str
    abjad: bool  # written in a script without short vowels

    @classmethod
    def of(cls, name: str) -> NameForm:
        return _name_form(name)


@lru_cache(maxsize=65536)
def _name_form(name: str) -> NameForm:
    lat = latinise(name)
    return NameForm(name, fold(lat), skeleton(lat), bool(_ARABIC_RANGE.search(name)))


def name_score(a: NameForm, b: NameForm) -> float:
    """0-100 similarity of two names across scripts and romanisations."""
    if not a.folded or not b.folded:
        return 0.0
    s = fuzz.token_sort_ratio(a.folded, b.folded)
    if a.folded.count(" ") and b.folded.count(" "):
        # Both have 2+ tokens: a missing middle name should not sink the score, but discount
        # it so "exact order and all tokens" still ranks first.
        s = max(s, fuzz.token_set_ratio(a.folded, b.folded) - 4)
    if (a.abjad or b.abjad) and a.skeleton and b.skeleton:
        s = max(s, _skeleton_score(a.skeleton.split(), b.skeleton.split()))
    return float(s)


def _skeleton_score(a: list[str], b: list[str]) -> float:
    """Skeletons are short and dense, so one differing consonant in one name part is a
    different name ("mnsr" Mansour vs "nsr" Nasser). Score the worst-matching part of the best
    pairing of parts, not the average over the whole string."""
    if len(a) != len(b) or len(a) > 4:
        return float(fuzz.token_sort_ratio(" ".join(a), " ".join(b))) - 8
    best = 0.0
    for perm in permutations(b):
        worst = min(fuzz.ratio(x, y) for x, y in zip(a, perm, strict=True))
        best = max(best, worst)
    return best - 2


# --------------------------------------------------------------------------- dates of birth

_MONTHS: Final = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_DOB_PART: Final = r"(?:(\d{1,2}) ([A-Za-z]{3})[a-z]* )?(\d{4})"
_DOB_RE: Final = re.compile(
    rf"DOB (circa |c\. |approximately )?{_DOB_PART}(?: to {_DOB_PART})?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DobRange:
    """An interval of possible birth dates (a year alone covers the whole year)."""

    start: date
    end: date

    def overlaps(self, other: DobRange, margin_years: int = 0) -> bool:
        """Whether the two can be the same birth date, each widened by ``margin_years``."""
        lo = date(max(1, self.start.year - margin_years), 1, 1) if margin_years else self.start
        hi = date(min(9999, self.end.year + margin_years), 12, 31) if margin_years else self.end
        return lo <= other.end and other.start <= hi


def _part(day: str | None, mon: str | None, year: str) -> tuple[date, date]:
    y = int(year)
    if day and mon and mon[:3].lower() in _MONTHS:
        d = date(y, _MONTHS[mon[:3].lower()], int(day))
        return d, d
    return date(y, 1, 1), date(y, 12, 31)


def parse_ofac_dobs(remarks: str) -> tuple[tuple[DobRange, ...], bool]:
    """Dates of birth in OFAC remarks: "DOB 01 Jan 1970", "DOB 1970", "DOB circa 1970",
    "DOB 01 Jan 1970 to 31 Dec 1972". Returns the ranges and whether any is approximate."""
    out = []
    approx = False
    for m in _DOB_RE.finditer(remarks):
        try:
            s, e = _part(m.group(2), m.group(3), m.group(4))
            if m.group(7):
                _, e = _part(m.group(5), m.group(6), m.group(7))
        except ValueError:
            continue  # an impossible date in free text is ignored, not guessed
        if m.group(1):
            approx = True
        if e >= s:
            out.append(DobRange(s, e))
    return tuple(out), approx


def parse_dob(text: str) -> tuple[DobRange | None, bool]:
    """A simple-CSV or claim date of birth: "YYYY", "YYYY-MM", "YYYY-MM-DD", "circa YYYY"."""
    t = text.strip()
    approx = False
    for prefix in ("circa ", "c. ", "approx. ", "~"):
        if t.lower().startswith(prefix):
            t, approx = t[len(prefix):].strip(), True
    try:
        if len(t) == 4 and t.isdigit():
            return DobRange(date(int(t), 1, 1), date(int(t), 12, 31)), approx
        if len(t) == 7 and t[4] == "-":
            y, m = int(t[:4]), int(t[5:])
            nxt = date(y + (m == 12), m % 12 + 1, 1)
            return DobRange(date(y, m, 1), date.fromordinal(nxt.toordinal() - 1)), approx
        d = date.fromisoformat(t)
        return DobRange(d, d), approx
    except ValueError:
        return None, False


_NATIONALITY_RE: Final = re.compile(r"(?:nationality|citizen)\s+([A-Za-z ,.'()-]+?)(?:;|$)",
                                    re.IGNORECASE)


def country_code(text: str) -> str | None:
    """Alpha-3 for an alpha-3 or alpha-2 code or an English country name; None if unknown."""
    t = text.strip().rstrip(".").strip()  # remarks end sentences with a full stop
    if t.upper() in ALPHA3:
        return t.upper()
    if len(t) == 2 and t.upper() in ALPHA2_TO_ALPHA3:
        return ALPHA2_TO_ALPHA3[t.upper()]
    return NAME_TO_ALPHA3.get(t.casefold())


# --------------------------------------------------------------------------- lists

@dataclass(frozen=True, slots=True)
class ListEntry:
    entity_id: str
    names: tuple[str, ...]  # primary first, then aliases
    entity_type: str = "individual"
    dobs: tuple[DobRange, ...] = ()
    dob_approximate: bool = False
    nationalities: frozenset[str] = frozenset()
    programs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WatchList:
    name: str
    kind: HitKind
    version: str  # sha256 of the source bytes: hits name the exact list they came from
    entries: tuple[ListEntry, ...]


def _null(v: str) -> str:
    v = v.strip()
    return "" if v == "-0-" else v


def _ofac_name(raw: str, sdn_type: str) -> str:
    """OFAC writes individuals as "SURNAME, Given Names"; put them in reading order."""
    if sdn_type == "individual" and "," in raw:
        last, _, first = raw.partition(",")
        return f"{first.strip()} {last.strip()}"
    return raw.strip()


def load_ofac_sdn(sdn: str | Path | bytes, alt: str | Path | bytes | None = None, *,
                  name: str = "ofac-sdn", individuals_only: bool = True) -> WatchList:
    """Load OFAC's legacy SDN.CSV (+ ALT.CSV). Paths or raw bytes.

    Vessels, aircraft and companies are skipped by default: applicants are people.
    """
    sdn_bytes = sdn if isinstance(sdn, bytes) else Path(sdn).read_bytes()
    alt_bytes = b"" if alt is None else alt if isinstance(alt, bytes) else Path(alt).read_bytes()
    aliases: dict[str, list[str]] = {}
    for row in _csv_rows(alt_bytes):
        if len(row) < 4:
            continue
        ent, alt_name = _null(row[0]), _null(row[3])
        if ent and alt_name:
            # Every alt_type (aka, fka, nka) is screened: a missed hit costs more than a
            # reviewed one, and the DOB/nationality signals keep the noise down.
            aliases.setdefault(ent, []).append(alt_name)
    entries = []
    for row in _csv_rows(sdn_bytes):
        if len(row) < 12:
            continue
        ent, raw_name, sdn_type = _null(row[0]), _null(row[1]), _null(row[2]).lower()
        if not ent or not raw_name:
            continue
        etype = sdn_type or "entity"  # "-0-" type means an organisation in the SDN file
        if individuals_only and etype != "individual":
            continue
        remarks = _null(row[11])
        dobs, approx = parse_ofac_dobs(remarks)
        nats = frozenset(c for c in (country_code(m.group(1)) for m in
                                     _NATIONALITY_RE.finditer(remarks)) if c)
        names = (_ofac_name(raw_name, etype),
                 *(_ofac_name(a, etype) for a in aliases.get(ent, ())))
        programs = tuple(p.strip() for p in _null(row[3]).replace("] [", ";").strip("[]")
                         .split(";") if p.strip())
        entries.append(ListEntry(ent, names, etype, dobs, approx, nats, programs))
    version = hashlib.sha256(sdn_bytes + b"\0" + alt_bytes).hexdigest()
    return WatchList(name, HitKind.SANCTIONS, f"sha256:{version}", tuple(entries))


def _csv_rows(data: bytes) -> Iterable[list[str]]:
    # OFAC files are Windows-1252 with CR LF and end with a DOS EOF byte (0x1A).
    text = data.decode("cp1252", errors="replace").replace("\x1a", "")
    return csv.reader(io.StringIO(text))


def load_simple_csv(source: str | Path | bytes, *, name: str, kind: HitKind = HitKind.PEP,
                    id_prefix: str | None = None, content_ids: bool = False) -> WatchList:
    """Load ``name,aliases,date_of_birth,nationality`` (header required; aliases and
    nationalities separated by ";"). Entity ids are ``<prefix>-<row number>``, or with
    ``content_ids`` ``<prefix>-<hash of the entry>``: stable across list versions that add,
    remove or reorder rows, so a decision about an entity (a cleared pair) never passes to
    another entity that took its row."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    need = {"name", "aliases", "date_of_birth", "nationality"}
    if reader.fieldnames is None or not need <= set(reader.fieldnames):
        raise ValueError(f"{name}: header must include {', '.join(sorted(need))}")
    entries = []
    seen_ids: set[str] = set()
    for i, row in enumerate(reader, 2):
        primary = (row["name"] or "").strip()
        if not primary:
            raise ValueError(f"{name}: line {i}: empty name")
        aliases = tuple(a.strip() for a in (row["aliases"] or "").split(";") if a.strip())
        dob, approx = parse_dob(row["date_of_birth"] or "") if (row["date_of_birth"] or "") \
            .strip() else (None, False)
        nats = frozenset(c for c in (country_code(n) for n in
                                     (row["nationality"] or "").split(";") if n.strip()) if c)
        suffix = str(i - 1)
        if content_ids:
            digest = hashlib.sha256("\x1f".join(
                (primary, *sorted(aliases), row["date_of_birth"] or "", *sorted(nats))
            ).encode()).hexdigest()[:16]
            suffix = digest if digest not in seen_ids else f"{digest}-{i - 1}"
            seen_ids.add(digest)
        entries.append(ListEntry(f"{id_prefix or name}-{suffix}", (primary, *aliases),
                                 dobs=() if dob is None else (dob,), dob_approximate=approx,
                                 nationalities=nats))
    return WatchList(name, kind, "sha256:" + hashlib.sha256(data).hexdigest(), tuple(entries))


# --------------------------------------------------------------------------- screening

@dataclass(frozen=True, slots=True)
class Applicant:
    key: str
    names: tuple[str, ...]
    date_of_birth: str | None = None
    date_of_birth_approximate: bool = False
    nationality: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    entity_id: str
    list_name: str
    list_version: str
    kind: HitKind
    score: float
    name_score: float
    matched_name: str
    applicant_name: str
    dob_signal: str  # "match" / "mismatch" / "unknown"
    nationality_signal: str
    disposition: Disposition = Disposition.OPEN

    def to_dict(self) -> dict[str, Any]:
        """The hit as the engine's input expects it (``bank_checks.screening.hits[]``)."""
        return {"entity_id": self.entity_id, "list": self.list_name, "kind": self.kind.value,
                "score": self.score, "disposition": self.disposition.value,
                "list_version": self.list_version, "matched_name": self.matched_name}


@dataclass(slots=True)
class ScreeningResult:
    hits: list[Hit] = field(default_factory=list)
    list_versions: dict[str, str] = field(default_factory=dict)

    def above(self, threshold: float) -> list[Hit]:
        return [h for h in self.hits if h.score >= threshold]

    def to_bank_check(self) -> dict[str, Any]:
        """``bank_checks.screening`` for :func:`risk.assess`."""
        return {"status": "completed", "hits": [h.to_dict() for h in self.hits]}


#: Score adjustments from second signals. Agreement adds little (names alike are common);
#: disagreement subtracts a lot (a different birth year is strong evidence of a namesake).
DOB_MATCH_BONUS: Final = 4.0
DOB_MISMATCH_PENALTY: Final = 15.0
NAT_MATCH_BONUS: Final = 3.0
NAT_MISMATCH_PENALTY: Final = 8.0
_UNKNOWN_NATIONALITIES: Final = frozenset({"XXA", "XXB", "XXC", "XXX"})


class Screener:
    """Screens applicants against one or more lists with the policy's thresholds."""

    def __init__(self, lists: Iterable[WatchList], params: ScreeningParams,
                 whitelist: Iterable[tuple[str, str]] = ()) -> None:
        self.lists = tuple(lists)
        self.params = params
        self.whitelist = frozenset(whitelist)
        self._forms: list[tuple[WatchList, ListEntry, NameForm]] = [
            (wl, e, NameForm.of(n)) for wl in self.lists for e in wl.entries for n in e.names]
        self._folded = [f.folded for _, _, f in self._forms]
        self._skeletons = [f.skeleton for _, _, f in self._forms]
        # Arabic-script entries, for Latin queries: few in most lists, so they get their own
        # index instead of a Python loop over every name of the list on every query.
        self._abjad_idx = [i for i, (_, _, f) in enumerate(self._forms) if f.abjad]
        self._abjad_skeletons = [self._forms[i][2].skeleton for i in self._abjad_idx]

    def with_whitelist(self, whitelist: Iterable[tuple[str, str]]) -> Screener:
        """The same prepared lists and parameters with another whitelist. Preparing the
        names of an OFAC-sized list takes about a second: a caller screening many applicants
        (re-screening every open account) prepares once and swaps only the whitelist."""
        clone = copy.copy(self)
        clone.whitelist = frozenset(whitelist)
        return clone

    def screen(self, applicant: Applicant) -> ScreeningResult:
        floor = self.params.report_floor
        # Second signals can add at most this much, so candidates below floor - bonus can
        # never reach the floor; the C-level prefilter skips them without Python per-row work.
        cut = max(0.0, floor - DOB_MATCH_BONUS - NAT_MATCH_BONUS - 6)
        best: dict[tuple[str, str], Hit] = {}
        app_dob = None
        app_dob_approx = applicant.date_of_birth_approximate
        if applicant.date_of_birth:
            app_dob, approx = parse_dob(applicant.date_of_birth)
            app_dob_approx = app_dob_approx or approx
        for raw in applicant.names:
            q = NameForm.of(raw)
            cand: set[int] = set()
            for _, _, idx in process.extract(q.folded, self._folded, scorer=fuzz.token_set_ratio,
                                             score_cutoff=cut, limit=None):
                cand.add(idx)
            if q.abjad:
                for _, _, idx in process.extract(q.skeleton, self._skeletons,
                                                 scorer=fuzz.token_set_ratio, score_cutoff=cut,
                                                 limit=None):
                    cand.add(idx)
            else:
                # A Latin query may still match an Arabic-script list entry by skeleton.
                for _, _, pos in process.extract(q.skeleton, self._abjad_skeletons,
                                                 scorer=fuzz.token_sort_ratio,
                                                 score_cutoff=cut, limit=None):
                    cand.add(self._abjad_idx[pos])
            for idx in cand:
                wl, entry, form = self._forms[idx]
                ns = name_score(q, form)
                score, dob_sig, nat_sig = self._signals(ns, app_dob, app_dob_approx,
                                                        applicant.nationality, entry)
                if score < floor:
                    continue
                key = (wl.name, entry.entity_id)
                if key in best and best[key].score >= score:
                    continue
                cleared = (applicant.key, entry.entity_id) in self.whitelist
                best[key] = Hit(entry.entity_id, wl.name, wl.version, wl.kind, score, ns,
                                form.original, raw, dob_sig, nat_sig,
                                Disposition.CLEARED if cleared else Disposition.OPEN)
        hits = sorted(best.values(), key=lambda h: (-h.score, h.list_name, h.entity_id))
        return ScreeningResult(hits, {wl.name: wl.version for wl in self.lists})

    @staticmethod
    def _signals(ns: float, dob: DobRange | None, approx: bool, nat: str | None,
                 e: ListEntry) -> tuple[float, str, str]:
        score = ns
        dob_sig = "unknown"
        if dob is not None and e.dobs:
            margin = 1 if (approx or e.dob_approximate) else 0
            if any(dob.overlaps(r, margin) for r in e.dobs):
                dob_sig = "match"
                score += DOB_MATCH_BONUS
            else:
                dob_sig = "mismatch"
                score -= DOB_MISMATCH_PENALTY
        nat_sig = "unknown"
        if nat and nat not in _UNKNOWN_NATIONALITIES and e.nationalities:
            if nat in e.nationalities:
                nat_sig = "match"
                score += NAT_MATCH_BONUS
            else:
                nat_sig = "mismatch"
                score -= NAT_MISMATCH_PENALTY
        return round(max(0.0, min(100.0, score)), 1), dob_sig, nat_sig


def evaluate(screener: Screener, labelled: Iterable[tuple[Applicant, str | None]],
             threshold: float | None = None) -> Mapping[str, float]:
    """Precision and recall on ``(applicant, expected entity id or None)`` pairs.

    A positive is found when the expected entity scores at or above the threshold; any other
    entity at or above it is a false positive.
    """
    t = screener.params.possible_match_threshold if threshold is None else threshold
    tp = fp = fn = 0
    for applicant, expected in labelled:
        ids = {h.entity_id for h in screener.screen(applicant).above(t)}
        if expected is not None:
            if expected in ids:
                tp += 1
            else:
                fn += 1
        fp += len(ids - {expected})
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": precision, "recall": recall, "tp": tp, "fp": fp, "fn": fn}
