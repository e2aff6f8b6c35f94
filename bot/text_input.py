"""Cleaning what citizens send: control characters, binary junk, empty and huge messages."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_UNDERSTOOD_CHARS = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""Control characters, and lone surrogates (not text: they cannot even be stored)."""


@dataclass(frozen=True)
class CleanText:
    """The text to store and understand, and whether it had to be shortened or was unreadable."""

    text: str
    truncated: bool = False
    unreadable: bool = False


def clean(raw: str | bytes) -> CleanText:
    """Decode, drop control characters, normalise (NFC), keep emoji and right-to-left text."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        raw = ""
    text = unicodedata.normalize("NFC", _CONTROL.sub("", raw)).strip()
    if text:
        junk = text.count("\ufffd") + sum(1 for ch in text if unicodedata.category(ch) == "Co")
        if junk / len(text) > 0.3:
            return CleanText("", unreadable=True)
    if len(text) > MAX_UNDERSTOOD_CHARS:
        return CleanText(text, truncated=True)
    return CleanText(text)
