"""A typed answer to the choices offered last: the digit, a number written as a word, the
label (or a clear part of it), or yes/no in the citizen's language.

A citizen on a channel without buttons, or who prefers to type, must never be stuck
repeating an answer: "to", "ja", "meg selv" and "2" all pick the same choice. Only a clear
match picks; anything else is read as words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_NON_WORD = re.compile(r"[^\w]+")
_DIGITS = re.compile(r"^([0-9]{1,3})$")

NUMBER_WORDS: dict[str, int] = {
    # nb / nn
    "en": 1, "ein": 1, "ei": 1, "ett": 1, "eitt": 1, "forste": 1, "fyrste": 1,
    "to": 2, "tre": 3, "tredje": 3, "fire": 4, "fjerde": 4, "fem": 5, "femte": 5,
    "seks": 6, "sju": 7, "syv": 7, "atte": 8, "ni": 9,
    # en
    "one": 1, "first": 1, "two": 2, "second": 2, "three": 3, "third": 3, "four": 4,
    "fourth": 4, "five": 5, "fifth": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    # pl
    "jeden": 1, "jedna": 1, "jedno": 1, "pierwszy": 1, "pierwsza": 1, "dwa": 2, "dwie": 2,
    "drugi": 2, "druga": 2, "trzy": 3, "trzeci": 3, "trzecia": 3, "cztery": 4, "piec": 5,
    "szesc": 6, "siedem": 7, "osiem": 8, "dziewiec": 9,
    # uk
    "один": 1, "одна": 1, "одне": 1, "перший": 1, "перша": 1, "два": 2, "дві": 2,
    "другий": 2, "друга": 2, "три": 3, "третій": 3, "третя": 3, "чотири": 4, "пять": 5,
    "шість": 6, "сім": 7, "вісім": 8, "девять": 9,
    # ar
    "واحد": 1, "واحدة": 1, "الاول": 1, "الأول": 1, "اثنان": 2, "اثنين": 2, "إثنين": 2,
    "الثاني": 2, "ثلاثة": 3, "ثلاثه": 3, "الثالث": 3, "أربعة": 4, "اربعة": 4, "خمسة": 5,
    # so
    "kow": 1, "koowaad": 1, "labo": 2, "laba": 2, "labaad": 2, "saddex": 3, "saddexaad": 3,
    "afar": 4, "shan": 5, "lix": 6, "toddoba": 7, "siddeed": 8, "sagaal": 9,
}
"""Numbers 1-9 written as words (and as ordinals), folded; shared across the languages
("andre", "other" in Norwegian, is left out: it would pick the second choice)."""

YES_WORDS = frozenset(
    {
        "ja", "jo", "jepp", "japp", "javisst", "yes", "yeah", "yep", "tak", "так", "да",
        "نعم", "ايوه", "أجل", "haa", "haye",
    }
)
NO_WORDS = frozenset(
    {
        "nei", "nope", "nai", "no", "nah", "nie", "ні", "нет", "لا", "كلا", "maya", "mayo",
    }
)
YES_PAYLOADS = frozenset({"delete:yes"})
"""Choices a plain yes picks (a clear yes only: "ok" does not delete anyone's data)."""
NO_PAYLOADS = frozenset({"delete:no"})
MIN_PART = 4
"""A typed part of a label picks it only when it has at least this many characters."""


def fold(text: str) -> str:
    """Casefold, drop diacritics, apostrophes and punctuation: "Pięć!" -> "piec"."""
    lowered = unicodedata.normalize("NFKD", text.casefold().replace("ø", "o").replace("æ", "ae"))
    plain = "".join(
        ch for ch in lowered if not unicodedata.combining(ch) and ch not in "'’ʼ\u0640"
    )
    return " ".join(_NON_WORD.sub(" ", plain).split())


def _folded_numbers() -> dict[str, int]:
    """``NUMBER_WORDS`` as a typed word is compared: folded ("другий" -> "другии")."""
    return {fold(word): number for word, number in NUMBER_WORDS.items()}


def number_word(folded: str) -> int | None:
    """The number a folded word names ("forste", "другии", "czwarty"), if any."""
    return FOLDED_NUMBER_WORDS.get(folded)


def _number(folded: str) -> int | None:
    """1-999 from ASCII digits or a single decimal digit of any script ("٣"); a word 1-9."""
    match = _DIGITS.match(folded)
    if match is not None:
        return int(match.group(1))
    if len(folded) == 1 and unicodedata.category(folded) == "Nd":
        return unicodedata.decimal(folded)
    return number_word(folded)


def chosen(
    text: str, payloads: Sequence[str], labels: Sequence[str], *, in_words: bool = False
) -> str | None:
    """The payload of the choice ``text`` picks, or None when it picks none clearly.
    ``in_words``: the citizen is writing content (a description), so only the whole label
    or a number picks; a label word inside a sentence is their words."""
    if not payloads:
        return None
    folded = fold(text)
    if not folded or len(folded) > 80:
        return None
    number = _number(folded)
    if number is not None:
        return payloads[number - 1] if 0 < number <= len(payloads) else None
    if folded in YES_WORDS or folded in NO_WORDS:
        wanted = YES_PAYLOADS if folded in YES_WORDS else NO_PAYLOADS
        picked = [p for p in payloads if p in wanted]
        if len(picked) == 1:
            return picked[0]
        # no yes/no choice here: "Nei" may still be a label of its own (the consent's)
    return _by_label(folded, payloads, labels, in_words)


def _by_label(
    folded: str, payloads: Sequence[str], labels: Sequence[str], in_words: bool
) -> str | None:
    folded_labels = [fold(label) for label in labels]
    exact = [p for p, label in zip(payloads, folded_labels, strict=False) if label == folded]
    if exact:
        return exact[0] if len(exact) == 1 else None
    if in_words or len(folded) < MIN_PART:
        return None
    words = f" {folded} "
    partial = [
        p
        for p, label in zip(payloads, folded_labels, strict=False)
        if label and (f" {label} " in words or f" {folded} " in f" {label} ")
    ]
    if partial:
        if len(partial) != 1:
            return None
        index = list(payloads).index(partial[0])
        return partial[0] if _clear(set(folded.split()), index, folded_labels) else None
    return _by_words(folded, payloads, folded_labels)


def _clear(typed: set[str], index: int, folded_labels: Sequence[str]) -> bool:
    """No typed word is part of a longer word of another label ("losen" of "familielosen")."""
    others = {w for i, label in enumerate(folded_labels) if i != index for w in label.split()}
    return not any(t != w and t in w for t in typed for w in others)


def _by_words(folded: str, payloads: Sequence[str], folded_labels: Sequence[str]) -> str | None:
    """A shortened label ("ja, med tjenestene" for "Ja, losen kan ta med tjenestene vi
    trenger"): every typed word (at least two) is a word of exactly one label."""
    typed = set(folded.split())
    if len(typed) < 2:
        return None
    fitting = [i for i, label in enumerate(folded_labels) if typed <= set(label.split())]
    if len(fitting) != 1 or not _clear(typed, fitting[0], folded_labels):
        return None
    return payloads[fitting[0]]


FOLDED_NUMBER_WORDS = _folded_numbers()
