"""Letters as PDF (fpdf2, pure Python), with the standard Helvetica font in Windows-1252: French text,
€, « » and ’ print, and the text stays extractable (copy, search, pdftotext)."""

from datetime import datetime

from fpdf import FPDF

from .models import Communication

ENCODING = "windows-1252"
_REPLACE = {"\u202f": "\u00a0", "\u2009": " ", "\u2011": "-", "\u2212": "-"}


def printable(text: str) -> str:
    """What Helvetica can print: a few look-alikes swapped, anything else becomes "?"."""
    for char, replacement in _REPLACE.items():
        text = text.replace(char, replacement)
    return text.encode(ENCODING, "replace").decode(ENCODING)


def letter_pdf(communication: Communication, when: datetime, sender: str | None = None) -> bytes:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_title(printable(communication.subject or "Courrier"))
    pdf.set_creator("Séquences")
    pdf.set_creation_date(when)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    if sender:
        pdf.multi_cell(80, 5, printable(sender), new_x="LMARGIN", new_y="NEXT")
    # The recipient's block where a window envelope shows it.
    pdf.set_xy(110, 45)
    recipient = "\n".join(filter(None, [communication.recipient_name, communication.to_address]))
    pdf.multi_cell(80, 5, printable(recipient), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(90)
    if communication.subject:
        pdf.set_font("helvetica", style="B", size=11)
        pdf.multi_cell(0, 6, printable(f"Objet : {communication.subject}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, printable(communication.body), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
