"""A copy of everything held about a person, as a PDF they can take away (the right of
access). Written with fpdf2 and the bundled DejaVu font so names in most scripts print."""

from __future__ import annotations

import io
from typing import Any

from fpdf import FPDF

LABELS = {
    "en": {"title": "The information we hold about you", "names": "Names",
           "other": "Other names", "dob": "Date of birth", "approx": "approximate",
           "birth_place": "Place of birth", "nationality": "Nationality",
           "languages": "Languages", "consent": "Your consent", "evidence": "What supports it",
           "cards": "Your identity cards", "photo": "Your photo",
           "note": "You can ask us to correct this information, to stop using it, or to "
                   "delete it, at any time."},
    "es": {"title": "La información que guardamos sobre usted", "names": "Nombres",
           "other": "Otros nombres", "dob": "Fecha de nacimiento", "approx": "aproximada",
           "birth_place": "Lugar de nacimiento", "nationality": "Nacionalidad",
           "languages": "Idiomas", "consent": "Su consentimiento",
           "evidence": "Lo que lo respalda", "cards": "Sus tarjetas de identidad",
           "photo": "Su foto",
           "note": "Puede pedirnos en cualquier momento que corrijamos esta información, que "
                   "dejemos de usarla o que la borremos."},
}


def render(summary: dict[str, Any], consents: list[dict[str, Any]],
           evidence: list[dict[str, Any]], cards: list[dict[str, Any]],
           photo: bytes | None, language: str = "en") -> bytes:
    """The access copy. Inputs are already decrypted, plain values."""
    from onboarding.cards import _find_fonts

    t = LABELS.get(language[:2], LABELS["en"])
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    fonts = _find_fonts()
    family = "Helvetica"
    if fonts.regular:
        pdf.add_font("DejaVu", "", fonts.regular)
        pdf.add_font("DejaVu", "B", fonts.bold or fonts.regular)
        family = "DejaVu"
    pdf.add_page()
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(0, 9, t["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    def row(label: str, value: str) -> None:
        pdf.set_font(family, "B", 10)
        pdf.cell(45, 6, label)
        pdf.set_font(family, "", 10)
        pdf.multi_cell(0, 6, value or "—", new_x="LMARGIN", new_y="NEXT")

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.set_font(family, "B", 12)
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    dob = (summary.get("dob") or "") + (f" ({t['approx']})" if summary.get("dob_approximate")
                                        else "")
    row(t["names"], " · ".join(summary.get("names") or []))
    row(t["other"], " · ".join(summary.get("other_names") or []))
    row(t["dob"], dob)
    row(t["birth_place"], summary.get("birth_place") or "")
    row(t["nationality"], summary.get("nationality") or "")
    row(t["languages"], ", ".join(summary.get("languages") or []))
    if photo:
        heading(t["photo"])
        pdf.image(io.BytesIO(photo), w=35)
    heading(t["consent"])
    for c in consents:
        row(c["given_at"], f"{c['method']} · {', '.join(c['purposes'])} · v{c['version']}"
            + (f" · withdrawn {c['withdrawn_at']}" if c.get("withdrawn_at") else ""))
    heading(t["evidence"])
    for e in evidence:
        row(e["label"], f"{e['result']}" + (f" — {e['details']}" if e.get("details") else ""))
    heading(t["cards"])
    for a in cards:
        row(a["issued"], f"{a['status']} · {a['expires']}")
    pdf.ln(4)
    pdf.set_font(family, "", 10)
    pdf.multi_cell(0, 6, t["note"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
