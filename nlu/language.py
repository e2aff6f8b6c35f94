"""Language detection for short citizen messages: lingua plus script, history and hints."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED_CODES = ("nb", "nn", "en", "pl", "uk", "ar", "so")

_LINGUA_TO_CODE = {
    Language.BOKMAL: "nb",
    Language.NYNORSK: "nn",
    Language.ENGLISH: "en",
    Language.POLISH: "pl",
    Language.UKRAINIAN: "uk",
    Language.ARABIC: "ar",
    Language.SOMALI: "so",
    # neighbours that short Norwegian is often taken for
    Language.DANISH: "nb",
    Language.SWEDISH: "nb",
    # unsupported languages we want to recognise, to say so politely
    Language.GERMAN: "de",
    Language.FRENCH: "fr",
    Language.SPANISH: "es",
    Language.RUSSIAN: "ru",
    Language.TURKISH: "tr",
    Language.PERSIAN: "fa",
    Language.LITHUANIAN: "lt",
}

# Explicit requests to switch: "english please", "på norsk", "po polsku", "بالعربية".
_SWITCH_PATTERNS: dict[str, tuple[str, ...]] = {
    "en": (
        r"\benglish\b",
        r"\bengelsk\b",
        r"\bpo angielsku\b",
        r"\bанглійськ\w*",
        r"\bingiriisi\b",
    ),
    "nb": (r"\bp[åa] (norsk|bokm[åa]l)\b", r"\bnorwegian\b", r"\bbokm[åa]l\b", r"\bpo norwesku\b"),
    "nn": (r"\bnynorsk\b",),
    "pl": (r"\bpo polsku\b", r"\bpolish\b", r"\bpolsk\b", r"\bpolski\b"),
    "uk": (r"\bукраїнськ\w*", r"\bukrainian\b", r"\bukrainsk\b", r"\bпо-українськи\b"),
    "ar": (r"بالعربي", r"العربية", r"\barabic\b", r"\barabisk\b"),
    "so": (r"\bsoomaali\b", r"\bsomali\b", r"\bsomalisk\b", r"\baf[- ]?soomaali\b"),
}
_SWITCH_HINT = re.compile(
    r"\b(please|pls|plz|kan du|can you|could you|snakk|skriv|svar|speak|write|answer|"
    r"proszę|prosze|mów|будь ласка|fadlan|من فضلك|language|språk|spr[aå]k|język|мова|luqad|لغة)\b"
    r"|^\s*(/spr[aå]k|/language)"
    r"|^\s*\S+\s*$",
    re.IGNORECASE,
)
# Bokmål or nynorsk: statistical detectors confuse them; these words decide. Without any,
# bokmål (written by most Norwegians) is the better guess.
_NYNORSK_WORDS = frozenset(
    (
        "eg",
        "ikkje",
        "kva",
        "korleis",
        "kvar",
        "kven",
        "kvifor",
        "kor",
        "berre",
        "noko",
        "nokon",
        "nokre",
        "eit",
        "frå",
        "heime",
        "heim",
        "vere",
        "mykje",
        "dei",
        "ho",
        "me",
        "meir",
        "ein",
        "kjem",
        "seier",
        "veit",
        "ynskjer",
        "treng",
        "sjølv",
        "sjølvmord",
        "fekk",
        "gjer",
        "gjere",
        "òg",
        "no",
        "finst",
        "skulen",
        "skule",
        "stad",
        "dykk",
        "dykkar",
        "sjå",
        "høyre",
        "spørje",
        "ringje",
        "eigen",
        "eige",
        "vore",
        "heilt",
    )
)
_BOKMAL_WORDS = frozenset(
    (
        "jeg",
        "ikke",
        "hva",
        "hvordan",
        "hvor",
        "hvem",
        "hvorfor",
        "bare",
        "noe",
        "noen",
        "et",
        "fra",
        "hjemme",
        "hjem",
        "være",
        "mye",
        "hun",
        "mer",
        "en",
        "kommer",
        "sier",
        "vet",
        "ønsker",
        "trenger",
        "selv",
        "fikk",
        "gjør",
        "også",
        "skolen",
        "skole",
        "nå",
        "dere",
        "sted",
        "høre",
        "spørre",
        "ringe",
        "eget",
        "egen",
        "helt",
        "vært",
    )
)


def bokmal_or_nynorsk(words: list[str]) -> str:
    """Decide between nb and nn by the words only one of them uses, and, more weakly, by
    nynorsk's -ar endings (strevar, aktivitetar) against bokmål's -er."""
    lowered = [word.casefold() for word in words]
    nynorsk = float(sum(word in _NYNORSK_WORDS for word in lowered))
    bokmal = float(sum(word in _BOKMAL_WORDS for word in lowered))
    nynorsk += 0.5 * sum(len(w) >= 6 and w.endswith(("ar", "ane")) for w in lowered)
    bokmal += 0.5 * sum(len(w) >= 6 and w.endswith(("er", "ene")) for w in lowered)
    return "nn" if nynorsk > bokmal else "nb"


# Function words that give a Latin-script language away even when Norwegian service names
# ("helsestasjon", "barnevernet") confuse a statistical detector.
_MARKERS: dict[str, frozenset[str]] = {
    "pl": frozenset(
        (
            "gdzie",
            "jest",
            "czy",
            "jak",
            "się",
            "mnie",
            "dla",
            "moje",
            "mój",
            "moja",
            "proszę",
            "prosze",
            "dziecko",
            "syn",
            "córka",
            "mam",
            "mamy",
            "potrzebuję",
            "potrzebuje",
            "dzień",
            "jestem",
            "chcę",
            "chce",
            "kiedy",
        )
    ),
    "so": frozenset(
        (
            "waa",
            "iyo",
            "waxaan",
            "sidee",
            "xaggee",
            "caawimaad",
            "ilmaha",
            "ilmahayga",
            "wiilkayga",
            "gabadhayda",
            "ayaan",
            "baan",
            "qof",
            "maxaan",
            "goorma",
            "immisa",
            "ma",
            "aan",
        )
    ),
}


def by_markers(words: list[str], supported: tuple[str, ...]) -> str | None:
    """A language with at least two of its function words and clearly more than any other."""
    lowered = [word.casefold() for word in words]
    scores = {
        code: sum(w in markers for w in lowered)
        for code, markers in _MARKERS.items()
        if code in supported
    }
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    if ranked and ranked[0][1] >= 2 and (len(ranked) == 1 or ranked[0][1] > 2 * ranked[1][1]):
        return ranked[0][0]
    return None


# Very short messages say little to a statistical detector; these words say a lot.
_SHORT_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "hei",
            "heisann",
            "hallo",
            "takk",
            "tusen takk",
            "hjelp",
            "ja",
            "nei",
            "god dag",
            "morn",
            "halla",
        ),
        "nb",
    ),
    **dict.fromkeys(
        ("hi", "hello", "hey", "thanks", "thank you", "help", "yes", "no", "good morning"), "en"
    ),
    **dict.fromkeys(
        (
            "cześć",
            "czesc",
            "dzień dobry",
            "dzien dobry",
            "dzięki",
            "dzieki",
            "dziękuję",
            "dziekuje",
            "pomocy",
            "tak",
            "nie",
        ),
        "pl",
    ),
    **dict.fromkeys(("привіт", "дякую", "допоможіть", "так", "ні", "добрий день"), "uk"),
    **dict.fromkeys(("مرحبا", "شكرا", "السلام عليكم", "نعم", "لا", "ساعدني"), "ar"),
    **dict.fromkeys(("salaan", "mahadsanid", "haa", "maya", "caawimaad", "iska warran"), "so"),
}
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_UKRAINIAN_LETTERS = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_LETTERS = re.compile(r"[ыэъЫЭЪё]")
_POLISH_LETTERS = re.compile(r"[ąćęłńśźżĄĆĘŁŃŚŹŻ]")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class DetectedLanguage:
    """The language to answer in, and an unsupported language if one was recognised."""

    code: str
    switch: str | None = None
    unsupported: str | None = None


def requested_switch(text: str) -> str | None:
    """A supported language the citizen explicitly asks for ("english please"), or None."""
    lowered = text.casefold()
    if len(lowered) > 80 or not _SWITCH_HINT.search(lowered):
        return None
    for code, patterns in _SWITCH_PATTERNS.items():
        if any(re.search(pattern, lowered) for pattern in patterns):
            return code
    return None


class LanguageGuesser:
    """Detects the language of each message, leaning on the citizen's previous language."""

    def __init__(self, supported: Iterable[str] = SUPPORTED_CODES) -> None:
        self.supported = tuple(supported)
        self._built: LanguageDetector | None = None

    @property
    def _detector(self) -> LanguageDetector:
        """Built on first use (about 1.5 s), so commands that never detect never pay."""
        if self._built is None:
            self._built = (
                LanguageDetectorBuilder.from_languages(*_LINGUA_TO_CODE)
                .with_preloaded_language_models()
                .build()
            )
        return self._built

    def detect(self, text: str, previous: str | None, hint: str | None = None) -> DetectedLanguage:
        """Guess the language; short or ambiguous texts keep the previous language."""
        fallback = previous or self._supported_hint(hint) or self.supported[0]
        switch = requested_switch(text)
        if switch is not None and switch in self.supported:
            return DetectedLanguage(switch, switch=switch)
        cleaned = unicodedata.normalize("NFKC", text)
        known = _SHORT_WORDS.get(" ".join(_WORD.findall(cleaned.casefold())))
        if known is not None and known in self.supported:
            return DetectedLanguage(previous or known)
        words = _WORD.findall(cleaned)
        letters = sum(len(word) for word in words)
        if letters == 0:
            return DetectedLanguage(fallback)
        by_script = self._by_script(cleaned, letters)
        if by_script is not None:
            return (
                DetectedLanguage(by_script)
                if by_script in self.supported
                else DetectedLanguage(fallback, unsupported=by_script)
            )
        marked = by_markers(words, self.supported)
        if marked is not None and len(words) >= 3:
            return DetectedLanguage(marked)
        values = self._detector.compute_language_confidence_values(cleaned)
        ranked = [(_LINGUA_TO_CODE[v.language], v.value) for v in values[:4]]
        if not ranked:
            return DetectedLanguage(fallback)
        best, confidence = ranked[0]
        if best in ("nb", "nn"):
            best = bokmal_or_nynorsk(words)
            if (
                previous in ("nb", "nn")
                and best == "nb"
                and not set(w.casefold() for w in words) & _BOKMAL_WORDS
            ):
                best = previous  # no evidence either way: keep the citizen's own form
            ranked = [(best, confidence), *ranked[1:]]
        short = len(words) < 3 or letters < 12
        if short:
            if previous and any(code == previous for code, _ in ranked[:3]):
                return DetectedLanguage(previous)
            if best in self.supported and confidence >= 0.6 and letters >= 8:
                return DetectedLanguage(best)
            return DetectedLanguage(fallback)
        if previous and confidence < 0.45 and any(code == previous for code, _ in ranked[:3]):
            return DetectedLanguage(previous)
        if best in self.supported:
            return DetectedLanguage(best)
        runner_up = max((value for code, value in ranked if code in self.supported), default=0.0)
        clear_lead = confidence >= 0.6 or (confidence >= 0.4 and confidence >= 4 * runner_up)
        if clear_lead and len(words) >= 3:  # "Guten Tag, wo ist das Jugendamt?": de 0.59, nb 0.07
            return DetectedLanguage(fallback, unsupported=best)
        return DetectedLanguage(fallback)

    def _supported_hint(self, hint: str | None) -> str | None:
        if not hint:
            return None
        code = hint.lower().split("-")[0]
        code = {"no": "nb", "nob": "nb", "nno": "nn"}.get(code, code)
        return code if code in self.supported else None

    @staticmethod
    def _by_script(text: str, letters: int) -> str | None:
        arabic = len(_ARABIC.findall(text))
        cyrillic = len(_CYRILLIC.findall(text))
        if arabic * 2 >= letters:
            return "ar"
        if cyrillic * 2 >= letters:
            if _UKRAINIAN_LETTERS.search(text):
                return "uk"
            if _RUSSIAN_LETTERS.search(text):
                return "ru"
            return None
        if _POLISH_LETTERS.search(text):
            return "pl"
        return None
