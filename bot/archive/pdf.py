"""The case record laid out as a PDF/A-2b file with fpdf2.

fpdf2 writes what PDF/A-2b asks for when told to (``enforce_compliance``): XMP metadata with
the PDF/A identification, an sRGB output intent, a file identifier, and every font embedded
(it refuses the unembedded standard fonts). The fonts are the project's own Noto files
(``fonts``); text in a script that needs shaping (Arabic, or letters with combining marks)
is shaped by HarfBuzz (uharfbuzz), so Arabic is joined and runs right to left, and a
paragraph whose first letter is Arabic is set flush right. (Other text is set without the
shaper, which is many times faster and looks the same in these fonts.) A character none of
the fonts has (an emoji, say) is written as its code point, "[U+1F600]", rather than left
out silently. Every page carries the reference, the classification and "page n of N".
"""

from __future__ import annotations

import unicodedata

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from bot.archive.document import Document, Entry, Fact, Section, right_to_left
from bot.archive.fonts import font_files

COMPLIANCE = "PDF/A-2B"
"""What the file claims to be (fpdf2's name for it)."""
FAMILY, ARABIC = "NotoSans", "NotoSansArabic"
INK, GREY, RULE = (20, 20, 20), (90, 90, 90), (180, 180, 180)
LABEL_WIDTH = 48.0
"""Millimetres for a fact's label; its value takes the rest of the line."""


def _ignorable(char: str) -> bool:
    """Characters a shaper uses or drops without a glyph: joiners, marks of direction,
    variation selectors."""
    point = ord(char)
    return (
        unicodedata.category(char) == "Cf"
        or 0xFE00 <= point <= 0xFE0F
        or 0xE0100 <= point <= 0xE01EF
    )


def _needs_shaping(text: str) -> bool:
    """Whether the text has right-to-left letters, combining marks or format characters
    (joiners, marks of direction): only a shaper joins, places or drops them."""
    return any(
        unicodedata.bidirectional(char) in ("R", "AL", "AN")
        or unicodedata.category(char) in ("Mn", "Cf")
        or _ignorable(char)
        for char in text
    )


class _Layout:
    """One PDF being written."""

    def __init__(self, document: Document) -> None:
        self.document = document
        pdf = FPDF(orientation="portrait", unit="mm", format="A4", enforce_compliance=COMPLIANCE)
        files = font_files()
        pdf.add_font(FAMILY, "", str(files.regular))
        pdf.add_font(FAMILY, "B", str(files.bold))
        pdf.add_font(ARABIC, "", str(files.arabic))
        pdf.set_fallback_fonts([FAMILY, ARABIC], exact_match=False)
        pdf.set_margins(20, 18, 20)
        pdf.set_auto_page_break(True, margin=20)
        pdf.set_lang(document.language)
        pdf.set_title(document.title)
        pdf.set_author(document.municipality)
        pdf.set_creator("Inngang")
        self.pdf = pdf
        self.covered: set[int] = set()
        for font in pdf.fonts.values():
            if isinstance(font, TTFFont):
                self.covered.update(font.cmap)

    def printable(self, text: str) -> str:
        """The text with line breaks kept and every character no font has as "[U+XXXX]"."""
        out = []
        for char in text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    "):
            if char == "\n" or ord(char) in self.covered or _ignorable(char):
                out.append(char)
            else:
                out.append(f"[U+{ord(char):04X}]")
        return "".join(out)

    def shaping(self, text: str) -> None:
        """HarfBuzz on for text that needs it, off for the rest."""
        self.pdf.set_text_shaping(_needs_shaping(text))

    def line(self, text: str, size: float, *, bold: bool = False, rtl: bool = False) -> None:
        self.pdf.set_font(FAMILY, "B" if bold else "", size)
        self.shaping(text)
        self.pdf.multi_cell(
            0,
            size * 0.5,
            self.printable(text),
            align="R" if rtl else "L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def header(self) -> None:
        d, pdf = self.document, self.pdf
        pdf.add_page()
        pdf.set_text_color(*GREY)
        self.line(d.municipality, 10, bold=True)
        pdf.set_text_color(*INK)
        self.line(d.title, 17, bold=True)
        pdf.ln(1)
        pdf.set_text_color(150, 20, 20)
        self.line(d.classification, 10, bold=True)
        pdf.set_text_color(*GREY)
        self.line(d.exported, 9)
        pdf.set_text_color(*INK)
        self.rule()

    def rule(self) -> None:
        pdf = self.pdf
        pdf.ln(2)
        pdf.set_draw_color(*RULE)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(3)

    def section(self, section: Section) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 50:
            pdf.add_page()
        pdf.ln(2)
        self.line(section.title, 13, bold=True)
        pdf.ln(1)
        self.facts(section.facts)
        for entry in section.entries:
            self.entry(entry)
        if not section.facts and not section.entries and section.empty:
            self.line(section.empty, 10)
            pdf.ln(2)

    def facts(self, facts: tuple[Fact, ...]) -> None:
        """Label and value side by side; a long value wraps beside its label."""
        if not facts:
            return
        pdf = self.pdf
        pdf.set_font(FAMILY, "", 10)
        self.shaping(" ".join(f"{f.label} {f.value}" for f in facts))
        width = pdf.w - pdf.l_margin - pdf.r_margin
        with pdf.table(
            col_widths=(LABEL_WIDTH, width - LABEL_WIDTH),
            width=width,
            first_row_as_headings=False,
            borders_layout="NONE",
            line_height=5,
            padding=(0.6, 0, 0.6, 0),
        ) as table:
            for fact in facts:
                row = table.row()
                row.cell(self.printable(fact.label), style=FontFace(emphasis="BOLD", size_pt=9.5))
                row.cell(
                    self.printable(fact.value),
                    align="RIGHT" if right_to_left(fact.value) else "LEFT",
                )
        pdf.ln(1)

    def entry(self, entry: Entry) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 35:
            pdf.add_page()
        if entry.meta:
            pdf.set_text_color(*GREY)
            self.line(entry.meta, 8.5)
            pdf.set_text_color(*INK)
        self.line(entry.text, 10.5, rtl=entry.rtl)
        pdf.ln(2.5)

    def footers(self) -> None:
        """Reference, classification and page n of N at the foot of every page."""
        pdf, d = self.pdf, self.document
        pdf.set_auto_page_break(False)
        pages = pdf.pages_count
        for number in range(1, pages + 1):
            pdf.page = number
            pdf.set_font(FAMILY, "", 8)
            self.shaping(d.reference)
            pdf.set_text_color(*GREY)
            pdf.set_xy(pdf.l_margin, pdf.h - 13)
            width = pdf.w - pdf.l_margin - pdf.r_margin
            pdf.cell(width / 2, 5, self.printable(f"{d.reference} · {d.classification}"))
            pdf.cell(width / 2, 5, self.printable(d.page_label(number, pages)), align="R")

    def render(self) -> bytes:
        self.header()
        for section in self.document.sections:
            self.section(section)
        self.footers()
        return bytes(self.pdf.output())


def render(document: Document) -> bytes:
    """The record as PDF/A-2b bytes."""
    return _Layout(document).render()
