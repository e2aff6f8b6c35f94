"""The municipality's voice: a youth register ("Halla!") and a plain-polite one ("God dag").

A conversation's register is chosen once, from the configuration (``voice.register``) or,
with ``auto``, from its first written message; it moves from adult to youth when a young
person says the matter is about themselves, and never back. Texts with a youth variant
have it under the plain key plus ``.youth``; ``text`` looks it up and falls back.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from flows.types import FlowContext


class Register(StrEnum):
    """How the bot speaks: informal to young people, plain and polite to adults."""

    YOUTH = "youth"
    ADULT = "adult"


YOUTH_SUFFIX = ".youth"
AUTO = "auto"

YOUTH_WORDS: dict[str, frozenset[str]] = {
    "nb": frozenset(
        {
            "halla",
            "hallais",
            "hallaisen",
            "yo",
            "wassup",
            "sup",
            "digg",
            "chill",
            "lol",
            "bro",
            "btw",
            "omg",
            "wtf",
            "åssen",
            "skjera",
            "sjukt",
            "kompis",
        }
    ),
    "nn": frozenset(
        {
            "halla",
            "hallais",
            "yo",
            "wassup",
            "sup",
            "digg",
            "chill",
            "lol",
            "bro",
            "omg",
            "åssen",
            "sjukt",
            "kompis",
            "skjera",
        }
    ),
    "en": frozenset(
        {
            "yo",
            "wassup",
            "wazzup",
            "sup",
            "lol",
            "bruh",
            "bro",
            "omg",
            "idk",
            "tbh",
            "ngl",
            "lowkey",
            "hiya",
            "heyy",
            "heyyy",
        }
    ),
    "pl": frozenset(
        {
            "siema",
            "siemka",
            "siemanko",
            "elo",
            "hejka",
            "hejo",
            "spoko",
            "xd",
            "ziom",
            "ziomek",
            "mordo",
            "nara",
            "joł",
        }
    ),
    "uk": frozenset({"хай", "здоров", "йоу", "лол", "бро", "кринж", "прівєт", "прів", "хелоу"}),
    "ar": frozenset({"هاي", "هايات", "لول", "برو", "يا صاحبي"}),
    "so": frozenset({"waryaa", "wariya", "saaxiib", "saaxiibka", "bro", "lol", "yo"}),
}
"""Words that, in a message, mark a young register (lower case, whole words only). Kept
short and unambiguous: a word an adult writes as often as a young person is not here."""

YOUTH_PHRASES: dict[str, tuple[str, ...]] = {
    "nb": ("hei hei", "hva skjer", "skjer a"),
    "nn": ("hei hei", "kva skjer", "ka skjer", "skjer a"),
    "en": ("hey hey", "what's up", "whats up", "wats up"),
    "pl": ("co tam", "co słychać", "hej hej"),
    "uk": ("шо там", "як ти", "привіт привіт"),
    "ar": ("شو الأخبار", "شو في"),
    "so": ("maxaa jira", "maxaa cusub"),
}
"""Greetings that are young only as the whole of a short message ("Hva skjer?"), never in a
longer one ("Hva skjer videre med saken?")."""
SHORT_MESSAGE_WORDS = 4
EMOJI_HEAVY = 2
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


def _emoji_count(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch) == "So" or 0x1F300 <= ord(ch) < 0x1FB00)


def sounds_young(text: str, language: str) -> bool:
    """Whether a message is written in a youth register: a youth word ("halla", "siema",
    "wassup"), a youth greeting that is the whole short message ("Hva skjer?"), or emoji
    heavy and all lower case. Conservative: when unsure, no."""
    lowered = text.casefold().strip()
    if not lowered:
        return False
    words = _WORD.findall(lowered)
    vocabulary = YOUTH_WORDS.get(language, frozenset()) | YOUTH_WORDS["en"]
    if any(word in vocabulary for word in words):
        return True
    if any(" " in phrase and phrase in lowered for phrase in vocabulary):
        return True
    short = len(words) <= SHORT_MESSAGE_WORDS
    if short and any(phrase in lowered for phrase in YOUTH_PHRASES.get(language, ())):
        return True
    letters = [ch for ch in text if ch.isalpha()]
    lower_case = bool(letters) and not any(ch.isupper() for ch in letters)
    return lower_case and _emoji_count(text) >= EMOJI_HEAVY


GREETING_WORDS: dict[str, frozenset[str]] = {
    "nb": frozenset({"hei", "hallo", "heisann", "a", "da", "du", "dere"}),
    "nn": frozenset({"hei", "hallo", "heisann", "a", "då", "du", "de"}),
    "en": frozenset({"hi", "hey", "hello", "there", "up", "what's", "whats", "wats"}),
    "pl": frozenset({"hej", "cześć", "co", "tam", "słychać"}),
    "uk": frozenset({"привіт", "як", "ти", "шо", "там"}),
    "ar": frozenset({"مرحبا", "شو", "الأخبار", "في"}),
    "so": frozenset({"salaan", "maxaa", "jira", "cusub"}),
}
"""Words a bare greeting is made of, besides the youth words and the youth greetings' own."""


def greeting_only(text: str, language: str) -> bool:
    """Whether a message is nothing but a youth greeting ("Halla! Hva skjer?", "yo sup"): it
    asks about no service, whatever a matcher makes of "skjer"."""
    words = _WORD.findall(text.casefold())
    if not words or len(words) > SHORT_MESSAGE_WORDS or not sounds_young(text, language):
        return False
    phrases = " ".join(YOUTH_PHRASES.get(language, ())).split()
    known = YOUTH_WORDS.get(language, frozenset()) | YOUTH_WORDS["en"]
    known |= GREETING_WORDS.get(language, frozenset()) | frozenset(phrases)
    return all(word in known for word in words)


def configured(ctx: FlowContext) -> Register | None:
    """The register the municipality set for everyone, or None when it is chosen per
    conversation (``auto``)."""
    setting = ctx.settings.voice.chosen
    return None if setting == AUTO else Register(setting)


def first_register(ctx: FlowContext, text: str, language: str) -> Register:
    """The register for a conversation whose first written message is ``text``."""
    fixed = configured(ctx)
    if fixed is not None:
        return fixed
    return Register.YOUTH if sounds_young(text, language) else Register.ADULT


def after_age(
    ctx: FlowContext, current: Register | None, about: str | None, minor: bool
) -> Register | None:
    """The register once the citizen told who the matter is about and their age band: youth
    when a young person (under 18) says it is about themselves; otherwise as it was (never
    back from youth to adult)."""
    fixed = configured(ctx)
    if fixed is not None:
        return fixed
    if about == "self" and minor:
        return Register.YOUTH
    return current


def effective(ctx: FlowContext, register: Register | None) -> Register:
    """The register to speak in: the configured one, else the conversation's (adult until
    one is chosen)."""
    return configured(ctx) or register or Register.ADULT


def text(
    ctx: FlowContext, key: str, language: str, register: Register | None, /, **params: object
) -> str:
    """The catalog text for ``key`` in this register: its ``.youth`` variant for a young
    person when the catalogs have one, else the plain text."""
    if effective(ctx, register) is Register.YOUTH:
        youth_key = key + YOUTH_SUFFIX
        found = ctx.t(youth_key, language, **params)
        if found != youth_key:
            return found
    return ctx.t(key, language, **params)
