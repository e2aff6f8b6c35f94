"""Cleaning what citizens send: control characters, binary junk, empty and huge messages;
and what comes with it at each channel's edge (ids, button payloads, language hints, JSON)."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

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


FIELD_CHARS = 256
_FIELD_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_field(value: object, limit: int = FIELD_CHARS) -> str | None:
    """A field that comes with a message (a sender id, a message id, a button payload, a
    language hint): a string, or an integer (not a boolean), without control characters
    or lone surrogates, at most ``limit`` characters. None when nothing usable is left."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = _FIELD_JUNK.sub("", str(value)).strip()
    return text[:limit] or None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def load_json(body: str | bytes) -> Any:
    """JSON as the standard allows it; ValueError for anything else, also for nesting too
    deep to parse (which Python reports as RecursionError), NaN and Infinity."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
