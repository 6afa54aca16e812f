"""Printable attestation cards (PDF): photo, names, the QR, issuer and expiry.

Design decisions, and why:

* **The QR is vector.** Modules are filled rectangles in the PDF (one per horizontal run of dark
  modules), so the code stays crisp on any printer; a raster QR gets resampled into grey mush.
* **Error correction Q, version <= 25, at least 40 mm wide** (FORMATS.md "QR"). Q survives a
  scuffed, folded card; above version 25 modules get too small for phone cameras at 40 mm, so
  such a QR is refused with ``CardError`` rather than printed badly.
* **Quiet zone of 4 modules** (ISO/IEC 18004), and never closer than 2 mm to a card edge, because
  a card is guillotined and the surface under it may be dark.
* **Credit-card size (85.6 x 54 mm, ID-1)**: one side when the QR fits at >= 40 mm next to a
  34 mm column for photo and text -- true for every real attestation (version 14 without photo,
  24-25 with one). Otherwise (only short test strings: versions <= 5, whose 4-module quiet zone
  is proportionally large) a **two-page card**: page 1 is the front (photo, names, issuer,
  expiry), page 2 the back, where the QR fills the card. Version 1 (a few characters, never an
  attestation) cannot reach 40 mm even there: it gets 39 mm, with 1.9 mm modules.
* **A6 (105 x 148 mm)**: one portrait page, header and photo on top, a large QR below.
* **Neutral wording.** Nothing printed says survivor, victim or trafficking: a card found in a
  pocket must not out its holder. The issuer display name is checked for those words too.
* **Fonts**: DejaVu Sans is bundled (``onboarding/data/fonts``) so rendering does not depend on
  the host. Arabic needs shaping: fpdf2 does it with ``uharfbuzz`` when installed; otherwise a
  small built-in fallback joins Arabic letters (presentation forms) and reverses right-to-left
  words. Scripts DejaVu lacks (Thai, Ethiopic, Devanagari, Myanmar, Khmer, CJK ...) are drawn
  with the host's Noto fonts (Debian ``fonts-noto-core``) and WenQuanYi Micro Hei or Noto CJK
  (``fonts-wqy-microhei`` / ``fonts-noto-cjk``), which ``scripts/ensure-fonts.sh`` installs: they
  are large and licensed separately, so they are not bundled. Each is loaded only for a card whose
  names need it (a CJK font costs about a second to subset). A character no font has prints as
  U+FFFD -- the QR still carries the exact name -- and rendering never fails because of a name.

This module is Flask-free: the issuance operation calls ``render_card_pdf`` and stores or streams
the bytes.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import qrcode
import qrcode.constants
import qrcode.exceptions
from fpdf import FPDF
from fpdf.enums import Align
from PIL import Image

from onboarding.photos import PhotoError, _open_checked, _to_clean_rgb

__all__ = [
    "CARD_SIZES_MM",
    "LABELS",
    "MAX_QR_VERSION",
    "MIN_QR_WIDTH_MM",
    "CardError",
    "QrPlacement",
    "is_neutral",
    "qr_modules",
    "qr_placement",
    "render_card_pdf",
]

log = logging.getLogger(__name__)
# fontTools logs the glyph names of every font subset at INFO: that is the set of letters in a
# person's name. Pin that logger to WARNING, whatever the root level becomes later (SECURITY.md
# H: no PII in logs), unless an operator has set its level explicitly.
_fonttools_log = logging.getLogger("fontTools.subset")
if _fonttools_log.level == logging.NOTSET:
    _fonttools_log.setLevel(logging.WARNING)

CardSize = Literal["card", "a6"]

#: Page sizes (width, height) in millimetres. ``card`` is ISO/IEC 7810 ID-1 (a bank card).
CARD_SIZES_MM: dict[str, tuple[float, float]] = {"card": (85.6, 54.0), "a6": (105.0, 148.0)}
MAX_QR_VERSION = 25
MIN_QR_WIDTH_MM = 40.0
QUIET_ZONE_MODULES = 4
#: Minimum distance from the symbol to a card edge (cutting tolerance).
QR_MIN_EDGE_MM = 2.0

_PT = 25.4 / 72  # one typographic point in mm
_LINE = 1.18  # line height as a multiple of the font size

# Single-sided ID-1 card: margin, then a 34 mm column for photo and text; the rest holds the QR.
_CARD_MARGIN = 3.0
_CARD_COLUMN = 34.0
# A6: the QR region is the lower part of the page, from this y to the bottom edge.
_A6_MARGIN = 7.0
_A6_QR_TOP = 74.0
_A6_QR_MAX = 70.0
# Photo aspect: ICAO passport photo, 35 x 45 mm.
_PHOTO_ASPECT = 35 / 45
_PHOTO_DPI = 300

#: Card wording per language (BCP 47 primary subtag). Deliberately neutral: "identity
#: attestation", never anything about why the person has no documents. Unknown languages fall
#: back to English.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "tagline": "Identity attestation — verify by scanning the code",
        "valid_until": "Valid until",
    },
    "es": {
        "tagline": "Constancia de identidad — verifíquela escaneando el código",
        "valid_until": "Vigente hasta",
    },
    "fr": {
        "tagline": "Attestation d'identité — à vérifier en scannant le code",
        "valid_until": "Valable jusqu'au",
    },
    "pt": {
        "tagline": "Atestado de identidade — verifique lendo o código",
        "valid_until": "Válido até",
    },
}

# Words that must never be printed by us (labels, issuer name). Person names are not checked:
# they are what the person uses, and the QR carries them anyway.
_FORBIDDEN = re.compile(
    r"surviv|sobreviv|supervivi|victim|v[íi]ctima|v[íi]tima"
    r"|traffick|\btrata\b|tr[áa]fico|\btraite\b",
    re.IGNORECASE,
)


def is_neutral(text: str) -> bool:
    """True if ``text`` says nothing about survivors, victims or trafficking (en/es/fr/pt).

    ``render_card_pdf`` refuses a non-neutral issuer display name; forms that let an NGO admin
    set that name can call this to refuse it at entry instead.
    """
    return _FORBIDDEN.search(unicodedata.normalize("NFC", text)) is None


_FONT_DIR = Path(__file__).parent / "data" / "fonts"
_SYSTEM_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FAMILY = "dejavu"
# Fallback fonts, tried in this order for a character DejaVu Sans lacks. Script fonts first
# (they are small), the big CJK collections last. The scripts are those of the names an NGO is
# likely to meet in this work (South and South-East Asia, the Horn of Africa, the Caucasus).
_FALLBACK_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"),
                  Path("/usr/share/fonts/truetype/wqy"))
_FALLBACK_SCRIPTS = (
    "Thai", "Lao", "Khmer", "Myanmar", "Ethiopic", "Devanagari", "Bengali", "Gurmukhi",
    "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam", "Sinhala", "Tibetan",
    "Georgian", "Armenian", "Hebrew", "Tifinagh", "Thaana", "Mongolian", "Cherokee",
    "CanadianAboriginal", "Javanese", "Balinese", "Sundanese", "Syriac", "NKo", "Vai",
)
_FALLBACK_FILES = (*(f"NotoSans{script}-Regular.ttf" for script in _FALLBACK_SCRIPTS),
                   "NotoSans-Regular.ttf", "wqy-microhei.ttc", "NotoSansCJK-Regular.ttc")
_HAS_SHAPER = importlib.util.find_spec("uharfbuzz") is not None


class CardError(ValueError):
    """The card cannot be produced as asked (QR too large, bad photo, no name...)."""


# --- QR ---------------------------------------------------------------------------------------


def qr_modules(qr_text: str) -> tuple[int, list[list[bool]]]:
    """Build the QR matrix at error correction Q, smallest version that fits.

    Returns ``(version, rows)`` with ``rows[y][x]`` True for a dark module, without quiet zone.
    Raises ``CardError`` above version 25 (FORMATS.md: refuse rather than print an unreadable
    code).
    """
    if not qr_text:
        raise CardError("The QR text is empty.")
    qr = qrcode.QRCode(version=None, error_correction=qrcode.constants.ERROR_CORRECT_Q, border=0)
    qr.add_data(qr_text)
    try:
        version = qr.best_fit()
    except (qrcode.exceptions.DataOverflowError, ValueError):
        # qrcode 8 raises ValueError("Invalid version (was 41 ...)") for some overflows.
        raise CardError(
            f"The attestation is too large for a printable QR (above version {MAX_QR_VERSION})."
        ) from None
    if version > MAX_QR_VERSION:
        raise CardError(
            f"The attestation needs QR version {version}; at most {MAX_QR_VERSION} can be "
            "printed reliably."
        )
    qr.make(fit=False)
    return version, [[bool(m) for m in row] for row in qr.modules]


@dataclass(frozen=True, slots=True)
class QrPlacement:
    """Where the QR symbol (without quiet zone) is drawn. Millimetres from the page top-left."""

    version: int
    modules: int
    module_mm: float
    x_mm: float
    y_mm: float
    page: int  # 0-based page index
    pages: int

    @property
    def width_mm(self) -> float:
        return self.modules * self.module_mm


def _fit_module(n: int, region_w: float, region_h: float, cap_mm: float | None = None) -> float:
    """Largest module size so that symbol + quiet zone (>= 4 modules, >= 2 mm) fits the region."""
    side = min(region_w, region_h)
    module = side / (n + 2 * QUIET_ZONE_MODULES)
    if QUIET_ZONE_MODULES * module < QR_MIN_EDGE_MM:
        module = (side - 2 * QR_MIN_EDGE_MM) / n
    if cap_mm is not None:
        module = min(module, cap_mm / n)
    return module


def _place(
    version: int,
    n: int,
    x0: float,
    y0: float,
    w: float,
    h: float,
    page: int,
    pages: int,
    cap_mm: float | None = None,
) -> QrPlacement:
    module = _fit_module(n, w, h, cap_mm)
    width = n * module
    return QrPlacement(
        version=version,
        modules=n,
        module_mm=module,
        x_mm=x0 + (w - width) / 2,
        y_mm=y0 + (h - width) / 2,
        page=page,
        pages=pages,
    )


def _placement_for(version: int, n: int, size: CardSize) -> QrPlacement:
    page_w, page_h = CARD_SIZES_MM[size]
    if size == "a6":
        return _place(version, n, 0, _A6_QR_TOP, page_w, page_h - _A6_QR_TOP, 0, 1, _A6_QR_MAX)
    qr_x0 = _CARD_MARGIN + _CARD_COLUMN
    single = _place(version, n, qr_x0, 0, page_w - qr_x0, page_h, 0, 1)
    if single.width_mm >= MIN_QR_WIDTH_MM:
        return single
    # Two-page card: the QR fills the back (the card is landscape; its height limits the QR).
    return _place(version, n, 0, 0, page_w, page_h, 1, 2)


def qr_placement(qr_text: str, size: CardSize) -> QrPlacement:
    """The QR geometry ``render_card_pdf`` will use: lets callers and tests check the 40 mm rule."""
    version, rows = qr_modules(qr_text)
    return _placement_for(version, len(rows), size)


def _draw_qr(pdf: FPDF, rows: list[list[bool]], place: QrPlacement) -> None:
    """One filled rectangle per horizontal run of dark modules: vector, crisp, and ~3-4k ops at
    version 25 instead of ~7k; fpdf2's path API would avoid seams in anti-aliasing viewers but is
    7x slower, and printers do not anti-alias."""
    pdf.set_fill_color(0, 0, 0)
    m = place.module_mm
    for y, row in enumerate(rows):
        x = 0
        n = len(row)
        while x < n:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < n and row[x]:
                x += 1
            pdf.rect(place.x_mm + start * m, place.y_mm + y * m, (x - start) * m, m, style="F")


# --- text -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Fonts:
    regular: str | None  # path, or None for the core Helvetica fallback
    bold: str | None


@functools.cache
def _find_fonts() -> _Fonts:
    for folder in (_FONT_DIR, _SYSTEM_FONT_DIR):
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file():
            return _Fonts(str(regular), str(bold) if bold.is_file() else str(regular))
    log.warning("cards: DejaVu Sans not found; falling back to Helvetica (Latin-1 only)")
    return _Fonts(None, None)


@functools.cache
def _fallback_paths() -> tuple[str, ...]:
    """The fallback font files this host has, in preference order."""
    found = []
    for name in _FALLBACK_FILES:
        for folder in _FALLBACK_DIRS:
            if (folder / name).is_file():
                found.append(str(folder / name))
                break
    return tuple(found)


@functools.lru_cache(maxsize=4096)
def _fallback_for(code_point: int) -> str | None:
    """The first fallback font that draws ``code_point``, or None."""
    for path in _fallback_paths():
        if code_point in _coverage(path):
            return path
    return None


@functools.cache
def _coverage(path: str | None) -> frozenset[int]:
    """Code points the font can draw. Checked up front so fpdf2 never logs missing glyphs (its
    log line would quote characters of a person's name)."""
    if path is None:
        return frozenset(range(0x20, 0x100))
    from fontTools.ttLib import TTFont  # fpdf2 dependency; imported lazily, only once

    with TTFont(path, lazy=True, fontNumber=0) as font:  # fontNumber: the first of a .ttc
        return frozenset(font.getBestCmap())


# Arabic fallback shaping (used only without uharfbuzz). Joining behaviour is derived from the
# presentation forms Unicode defines: a letter with initial/medial forms joins on both sides,
# one with only final/isolated forms joins only to the letter before it.
@functools.cache
def _arabic_tables() -> tuple[dict[str, dict[str, str]], dict[str, tuple[str, str]]]:
    forms: dict[str, dict[str, str]] = {}
    for cp in range(0xFB50, 0xFEFD):
        name = unicodedata.name(chr(cp), "")
        if not name.startswith("ARABIC LETTER "):
            continue
        for form in ("ISOLATED", "FINAL", "INITIAL", "MEDIAL"):
            suffix = f" {form} FORM"
            if name.endswith(suffix):
                try:
                    base = unicodedata.lookup(name[: -len(suffix)])
                except KeyError:
                    continue
                forms.setdefault(base, {}).setdefault(form, chr(cp))
    lam_alef: dict[str, tuple[str, str]] = {}
    for alef in ("ALEF", "ALEF WITH MADDA ABOVE", "ALEF WITH HAMZA ABOVE", "ALEF WITH HAMZA BELOW"):
        lig = f"ARABIC LIGATURE LAM WITH {alef}"
        lam_alef[unicodedata.lookup(f"ARABIC LETTER {alef}")] = (
            unicodedata.lookup(f"{lig} ISOLATED FORM"),
            unicodedata.lookup(f"{lig} FINAL FORM"),
        )
    return forms, lam_alef


_LAM = "\u0644"
_JOIN_CAUSING = {"\u0640", "\u200d"}  # tatweel, zero-width joiner


def _joining(ch: str) -> str:
    """'D' dual, 'R' right, 'C' causing, 'T' transparent, 'U' none."""
    if ch in _JOIN_CAUSING:
        return "C"
    forms = _arabic_tables()[0].get(ch)
    if forms:
        return "D" if ("INITIAL" in forms or "MEDIAL" in forms) else "R"
    if ch != "\u200c" and unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return "T"
    return "U"


def _shape_arabic(word: str) -> str:
    """Contextual forms + lam-alef ligatures, logical order in, logical order out."""
    forms, lam_alef = _arabic_tables()
    types = [_joining(c) for c in word]
    n = len(word)

    def neighbour(i: int, step: int) -> int | None:
        j = i + step
        while 0 <= j < n and types[j] == "T":
            j += step
        return j if 0 <= j < n else None

    out: list[str] = []
    i = 0
    while i < n:
        ch, kind = word[i], types[i]
        if kind not in ("D", "R"):
            out.append(ch)
            i += 1
            continue
        prev, nxt = neighbour(i, -1), neighbour(i, 1)
        joins_prev = prev is not None and types[prev] in ("D", "C")
        if ch == _LAM and nxt is not None and word[nxt] in lam_alef:
            isolated, final = lam_alef[word[nxt]]
            out.append(final if joins_prev else isolated)
            out.extend(word[i + 1 : nxt])  # marks on the lam
            i = nxt + 1
            continue
        joins_next = kind == "D" and nxt is not None and types[nxt] in ("D", "R", "C")
        if joins_prev and joins_next:
            wanted = "MEDIAL"
        elif joins_prev:
            wanted = "FINAL"
        elif joins_next:
            wanted = "INITIAL"
        else:
            wanted = "ISOLATED"
        letter = forms[ch]
        out.append(letter.get(wanted) or letter.get("ISOLATED") or ch)
        i += 1
    return "".join(out)


def _direction(word: str) -> bool | None:
    """True for a right-to-left word, False for left-to-right, None for neutral (punctuation)."""
    for ch in word:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind in ("L", "EN", "AN"):
            return False
    return None


def _reverse_clusters(word: str) -> str:
    clusters: list[str] = []
    for ch in word:
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return "".join(reversed(clusters))


@dataclass(frozen=True, slots=True)
class _Token:
    """One word. ``shown`` is what is drawn: without a shaper, an RTL word is shaped and stored
    in visual order; with one, it stays logical and fpdf2 shapes and reorders."""

    shown: str
    rtl: bool | None


@dataclass(frozen=True, slots=True)
class _Block:
    style: str
    size: float
    lines: list[str]
    rtl: bool

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * _PT * _LINE


_CORE_SUBSTITUTES = str.maketrans({"—": "-", "–": "-", "…": "...", "’": "'", "·": "-"})
_SEPARATOR = "·"


class _Text:
    """Cleans, shapes, wraps and draws text for one PDF.

    Wrapping is done here, word by word in logical order, and only then is each line put in
    visual order. (Reordering first and wrapping after would put the end of a long Arabic name
    on the first line.) Bidi is resolved per word, which is what names need: a run of RTL words
    is reversed, and in an RTL paragraph the runs are reversed too (UAX #9 at word granularity).
    """

    def __init__(self, pdf: FPDF, fonts: _Fonts) -> None:
        self.pdf = pdf
        self.core = fonts.regular is None
        self.family = "helvetica" if self.core else _FAMILY
        self.shaper = _HAS_SHAPER and not self.core
        if not self.core:
            assert fonts.regular is not None and fonts.bold is not None
            pdf.add_font(_FAMILY, "", fonts.regular)
            pdf.add_font(_FAMILY, "B", fonts.bold)
            if self.shaper:
                pdf.set_text_shaping(True)
        self.covered = {"": _coverage(fonts.regular), "B": _coverage(fonts.bold)}
        self.fallbacks: dict[str, str] = {}  # font path -> family registered with fpdf2
        self.replaced = 0
        self._pending = 0  # replacements seen while fitting the current block

    def _clean(self, text: str, style: str) -> str:
        """NFC; controls and line breaks become spaces; characters the font lacks become U+FFFD
        (so fpdf2 never logs them, and the reader sees that something is missing)."""
        text = unicodedata.normalize("NFC", text)
        text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
        if self.core:
            text = text.translate(_CORE_SUBSTITUTES)
        covered = self.covered[style]
        placeholder = "\ufffd" if 0xFFFD in covered else "?"
        out = []
        for c in " ".join(text.split()):
            if ord(c) in covered or c in "\u200c\u200d" or self._fallback(ord(c)):
                out.append(c)
            else:
                self._pending += 1
                out.append(placeholder)
        return "".join(out)

    def _fallback(self, code_point: int) -> bool:
        """Register (once per card) a fallback font that draws ``code_point``, if the host has
        one. fpdf2 then switches to it for exactly the characters the main font lacks; bold
        text uses the regular face (``exact_match=False``): a name in Thai is better printed
        regular than as U+FFFD."""
        if self.core:
            return False  # fpdf2 falls back only from a Unicode font
        path = _fallback_for(code_point)
        if path is None:
            return False
        if path not in self.fallbacks:
            family = f"fallback{len(self.fallbacks)}"
            self.pdf.add_font(family, "", path)
            self.fallbacks[path] = family
            self.pdf.set_fallback_fonts(list(self.fallbacks.values()), exact_match=False)
        return True

    def _token(self, word: str) -> _Token:
        rtl = _direction(word)
        shown = word
        if rtl and not self.shaper and not self.core:
            shown = _reverse_clusters(_shape_arabic(word))
        return _Token(shown.replace("\u200c", "").replace("\u200d", ""), rtl)

    def _width(self, text: str) -> float:
        return float(self.pdf.get_string_width(text))

    def _split_long(self, word: str, width: float) -> list[str]:
        """Cut a word wider than the column into pieces that fit (logical order)."""
        pieces: list[str] = []
        current = ""
        for ch in word:
            if (
                current
                and not unicodedata.combining(ch)
                and self._width(self._token(current + ch).shown) > width
            ):
                pieces.append(current)
                current = ""
            current += ch
        if current:
            pieces.append(current)
        return pieces

    def _tokens(self, parts: Sequence[str], style: str, width: float) -> list[_Token]:
        tokens: list[_Token] = []
        for i, part in enumerate(parts):
            if i:
                tokens.append(_Token(_SEPARATOR if not self.core else "-", None))
            for word in self._clean(part, style).split(" "):
                if not word:
                    continue
                if self._width(self._token(word).shown) <= width:
                    tokens.append(self._token(word))
                else:
                    tokens.extend(self._token(piece) for piece in self._split_long(word, width))
        return tokens

    def _visual(self, line: list[_Token], rtl_paragraph: bool) -> str:
        if self.shaper:  # fpdf2 runs the real bidi algorithm on each line
            return " ".join(t.shown for t in line)
        dirs = [t.rtl for t in line]
        for i, d in enumerate(dirs):
            if d is None:  # a neutral between two same-direction words takes their direction
                before = next((x for x in reversed(dirs[:i]) if x is not None), None)
                after = next((x.rtl for x in line[i + 1 :] if x.rtl is not None), None)
                dirs[i] = before if before is not None and before == after else rtl_paragraph
        runs: list[tuple[bool | None, list[str]]] = []
        for token, d in zip(line, dirs, strict=True):
            if runs and runs[-1][0] == d:
                runs[-1][1].append(token.shown)
            else:
                runs.append((d, [token.shown]))
        ordered = [list(reversed(words)) if d else words for d, words in runs]
        if rtl_paragraph:
            ordered.reverse()
        return " ".join(w for words in ordered for w in words)

    def fit(
        self,
        parts: Sequence[str],
        *,
        style: str,
        width: float,
        max_pt: float,
        min_pt: float,
        max_lines: int,
    ) -> _Block:
        """Largest size in [min_pt, max_pt] at which ``parts`` (joined by a middle dot) wrap into
        ``max_lines``. At the minimum size the text is cut with an ellipsis: a 60-character name
        must not push the QR off the card."""
        pdf = self.pdf
        size = max_pt
        while True:
            pdf.set_font(self.family, style, size)
            self._pending = 0
            tokens = self._tokens(parts, style, width)
            lines = self._wrap(tokens, width)
            if len(lines) <= max_lines or size <= min_pt:
                break
            size = max(min_pt, size - 0.5)
        self.replaced += self._pending
        rtl_paragraph = next((t.rtl for t in tokens if t.rtl is not None), False) or False
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            mark = _Token("…" if ord("…") in self.covered[style] else "...", None)
            last = lines[-1]
            while last and self._width(self._visual([*last, mark], rtl_paragraph)) > width:
                last = last[:-1]
            lines[-1] = [*last, mark]
        shown = [self._visual(line, rtl_paragraph) for line in lines]
        return _Block(style=style, size=size, lines=shown, rtl=rtl_paragraph)

    def _wrap(self, tokens: list[_Token], width: float) -> list[list[_Token]]:
        space = self._width(" ")
        lines: list[list[_Token]] = []
        line: list[_Token] = []
        used = 0.0
        for token in tokens:
            w = self._width(token.shown)
            if line and used + space + w > width:
                if token.shown == _SEPARATOR and token.rtl is None:
                    continue  # a line never starts with the separator; the break separates

                lines.append(line)
                line, used = [], 0.0
            used += (space if line else 0.0) + w
            line.append(token)
        if line:
            lines.append(line)
        return lines or [[]]

    def draw(self, block: _Block, x: float, y: float, width: float) -> float:
        """Draw the block at (x, y); return the y below it."""
        pdf = self.pdf
        pdf.set_font(self.family, block.style, block.size)
        line_h = block.size * _PT * _LINE
        for line in block.lines:
            pdf.set_xy(x, y)
            pdf.cell(width, line_h, line, align=Align.R if block.rtl else Align.L)
            y += line_h
        return y


# --- photo ------------------------------------------------------------------------------------


def _photo_for_box(photo_jpeg: bytes, box_w: float, box_h: float) -> bytes:
    """Crop to the box aspect (keeping the upper middle, where the face is) and downsample to
    300 dpi: the PDF stays small and printers get all the detail they can use."""
    try:
        img = _open_checked(photo_jpeg, max_pixels=40_000_000, max_side=10_000)
    except PhotoError as exc:
        raise CardError(f"The photo cannot be used on the card: {exc.message}") from None
    try:
        rgb = _to_clean_rgb(img)
    finally:
        img.close()
    aspect = box_w / box_h
    w, h = rgb.size
    if w / h > aspect:
        cw, ch = round(h * aspect), h
    else:
        cw, ch = w, round(w / aspect)
    left = (w - cw) // 2
    top = max(0, min(h - ch, round(h * 0.42 - ch / 2)))
    crop = rgb.crop((left, top, left + cw, top + ch))
    target = (max(1, round(box_w / 25.4 * _PHOTO_DPI)), max(1, round(box_h / 25.4 * _PHOTO_DPI)))
    if crop.width > target[0]:
        crop = crop.resize(target, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    crop.save(buf, "JPEG", quality=88, optimize=True)
    return buf.getvalue()


# --- layout -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Content:
    names: list[str]
    issuer: str
    expires: str
    labels: dict[str, str]
    photo: bytes | None


def _blocks(
    text: _Text, c: _Content, width: float, sizes: dict[str, tuple[float, float, int]]
) -> dict[str, _Block]:
    def fit(key: str, parts: list[str], style: str) -> _Block:
        max_pt, min_pt, max_lines = sizes[key]
        return text.fit(
            parts, style=style, width=width, max_pt=max_pt, min_pt=min_pt, max_lines=max_lines
        )

    blocks = {"primary": fit("primary", c.names[:1], "B")}
    if len(c.names) > 1:
        blocks["others"] = fit("others", c.names[1:], "")
    blocks["expiry"] = fit("expiry", [f"{c.labels['valid_until']} {c.expires}"], "B")
    return blocks


def _draw_column(text: _Text, blocks: Sequence[_Block], x: float, y: float, w: float) -> float:
    for i, block in enumerate(blocks):
        if i:
            y += 0.6
        y = text.draw(block, x, y, w)
    return y


def _card_front(pdf: FPDF, text: _Text, c: _Content, *, two_sided: bool) -> None:
    """Front of an ID-1 card. Single-sided: a 34 mm column left of the QR, stacked issuer,
    tagline, photo, names, expiry; the photo takes the height the text leaves (<= 22 x 28 mm).
    Two-sided: the whole front, photo left, text right."""
    page_w, page_h = CARD_SIZES_MM["card"]
    m = _CARD_MARGIN
    if not two_sided:
        w = _CARD_COLUMN
        header = [
            text.fit([c.issuer], style="B", width=w, max_pt=7, min_pt=5.5, max_lines=2),
            text.fit([c.labels["tagline"]], style="", width=w, max_pt=5.5, min_pt=4.5, max_lines=2),
        ]
        body = _blocks(
            text,
            c,
            w,
            {
                "primary": (8, 6, 2),
                "others": (6, 5, 2),
                "expiry": (6, 5, 1),
            },
        )
        body_h = sum(b.height for b in body.values()) + 0.6 * (len(body) - 1)
        y = _draw_column(text, header, m, m, w) + 1.0
        if c.photo is not None:
            free = page_h - m - body_h - 1.0 - y
            ph = max(12.0, min(22.0 / _PHOTO_ASPECT, free))
            pw = ph * _PHOTO_ASPECT
            pdf.image(io.BytesIO(_photo_for_box(c.photo, pw, ph)), x=m, y=y, w=pw, h=ph)
            y += ph + 1.0
        _draw_column(text, list(body.values()), m, y, w)
        return

    full_w = page_w - 2 * m
    issuer = text.fit([c.issuer], style="B", width=full_w, max_pt=8, min_pt=6, max_lines=1)
    tagline = text.fit(
        [c.labels["tagline"]], style="", width=full_w, max_pt=6, min_pt=5, max_lines=1
    )
    y = _draw_column(text, [issuer], m, m, full_w) + 0.8
    tx, tw = m, full_w
    if c.photo is not None:
        ph = min(36.0, page_h - m - tagline.height - 1.5 - y)
        pw = ph * _PHOTO_ASPECT
        pdf.image(io.BytesIO(_photo_for_box(c.photo, pw, ph)), x=m, y=y, w=pw, h=ph)
        tx, tw = m + pw + 3, full_w - pw - 3
    body = _blocks(text, c, tw, {"primary": (11, 7, 2), "others": (8, 6, 3), "expiry": (8, 6, 1)})
    _draw_column(text, list(body.values()), tx, y + 1, tw)
    text.draw(tagline, m, page_h - m - tagline.height, full_w)


def _a6_page(pdf: FPDF, text: _Text, c: _Content) -> None:
    """A6 portrait: issuer and tagline across the top, photo left with names and expiry beside
    it, the QR in the lower half (placed by ``_placement_for``)."""
    page_w, _ = CARD_SIZES_MM["a6"]
    m = _A6_MARGIN
    full_w = page_w - 2 * m
    header = [
        text.fit([c.issuer], style="B", width=full_w, max_pt=12, min_pt=9, max_lines=2),
        text.fit([c.labels["tagline"]], style="", width=full_w, max_pt=8.5, min_pt=7, max_lines=2),
    ]
    y = _draw_column(text, header, m, m, full_w) + 2.5
    # A passport-size photo (35 x 45 mm) when the header leaves room for it.
    ph = min(35.0 / _PHOTO_ASPECT, _A6_QR_TOP - 3 - y)
    pw = ph * _PHOTO_ASPECT
    tx, tw = m, full_w
    if c.photo is not None:
        pdf.image(io.BytesIO(_photo_for_box(c.photo, pw, ph)), x=m, y=y, w=pw, h=ph)
        tx, tw = m + pw + 4, full_w - pw - 4
    body = _blocks(text, c, tw, {"primary": (15, 9, 2), "others": (10, 7, 3), "expiry": (10, 8, 1)})
    _draw_column(text, list(body.values()), tx, y, tw)


# --- entry point ------------------------------------------------------------------------------


def _language(language: str) -> str:
    primary = (language or "en").replace("_", "-").split("-")[0].lower()
    return primary if primary in LABELS else "en"


def render_card_pdf(
    *,
    qr_text: str,
    names: list[str],
    photo_jpeg: bytes | None,
    issuer_display_name: str,
    expires: date,
    language: str = "en",
    size: CardSize,
) -> bytes:
    """Render the printable card as PDF bytes (see the module docstring for the layout rules).

    ``names``: as the person uses them, primary first. ``photo_jpeg``: ``ProcessedPhoto.image``
    (it is decoded defensively anyway). ``language``: BCP 47; en, es, fr, pt have labels, others
    fall back to English. Raises ``CardError`` for a QR above version 25, no name, an unreadable
    photo or an issuer display name that is not neutral.
    """
    if size not in CARD_SIZES_MM:
        raise CardError(f"Unknown card size {size!r}.")
    clean_names = [n for n in (" ".join(str(x).split()) for x in names) if n]
    if not clean_names:
        raise CardError("A card needs at least one name.")
    issuer = " ".join(issuer_display_name.split())
    if not issuer:
        raise CardError("The issuer display name is empty.")
    if not is_neutral(issuer):
        # The display name comes from the trust list, which should be neutral; refuse to print a
        # card that would disclose why its holder has one.
        raise CardError("The issuer display name must be neutral to be printed on a card.")
    if isinstance(expires, datetime):
        expires = expires.date()
    lang = _language(language)

    version, rows = qr_modules(qr_text)
    place = _placement_for(version, len(rows), size)

    page_w, page_h = CARD_SIZES_MM[size]
    pdf = FPDF(orientation="portrait", unit="mm", format=(page_w, page_h))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0
    pdf.set_lang(lang)
    pdf.set_text_color(0, 0, 0)
    try:
        text = _Text(pdf, _find_fonts())
        content = _Content(
            names=clean_names,
            issuer=issuer,
            expires=expires.isoformat(),
            labels=LABELS[lang],
            photo=photo_jpeg,
        )
        pdf.add_page()
        if size == "a6":
            _a6_page(pdf, text, content)
        else:
            _card_front(pdf, text, content, two_sided=place.pages == 2)
        if place.page == 1:
            pdf.add_page()
        _draw_qr(pdf, rows, place)
        output = bytes(pdf.output())
    finally:
        # fpdf2 opens fonts lazily and never closes them: without this, every card leaks two
        # file descriptors until the garbage collector gets to the FPDF object.
        for font in pdf.fonts.values():
            ttfont = getattr(font, "ttfont", None)
            if ttfont is not None:
                ttfont.close()
    if text.replaced:
        # Counts only: characters of a name must not reach the logs.
        log.info("cards: %d characters not covered by the card font were replaced", text.replaced)
    return output
