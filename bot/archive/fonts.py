"""The fonts the case record embeds: Noto Sans and Noto Sans Arabic (SIL OFL 1.1), shipped
in ``bot/archive/fonts/`` so a fresh machine needs nothing installed to render any
citizen's words."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FontFiles:
    """Where each face is."""

    regular: Path
    """Noto Sans: Latin (with every diacritic), Cyrillic, Greek."""
    bold: Path
    """Noto Sans Bold, cut to the Latin letters of the headings."""
    arabic: Path
    """Noto Sans Arabic: the Arabic script, shaped right to left."""


def font_files() -> FontFiles:
    """The font files next to this module."""
    folder = Path(__file__).resolve().parent / "fonts"
    return FontFiles(
        regular=folder / "NotoSans-Regular.ttf",
        bold=folder / "NotoSans-Bold.ttf",
        arabic=folder / "NotoSansArabic-Regular.ttf",
    )
