"""Language detection on its own: the script, function words, lingua, and the citizen's
previous language for messages too short to tell."""

from __future__ import annotations

import pytest

from nlu.language import LanguageGuesser


@pytest.fixture(scope="module")
def guesser() -> LanguageGuesser:
    return LanguageGuesser(("nb", "nn", "en", "pl", "uk", "ar", "so"))


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("jeg trenger hjelp med barnet mitt", "nb"),
        ("eg treng hjelp med barnet mitt", "nn"),
        ("kva tid opnar helsestasjonen", "nn"),
        ("hei, where is the clinic?", "en"),
        ("dzień dobry, gdzie jest NAV?", "pl"),
        ("мені потрібна допомога для сина", "uk"),
        ("أين المركز الصحي للأطفال؟", "ar"),
        ("waxaan u baahanahay caawimaad", "so"),
        ("mahadsanid", "so"),
    ],
)
def test_a_message_is_answered_in_the_language_it_is_written_in(
    guesser: LanguageGuesser, text: str, language: str
) -> None:
    detected = guesser.detect(text, None)
    assert (detected.code, detected.unsupported) == (language, None)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Guten Tag, wo ist das Jugendamt?", "de"),
        ("Bonjour, où est le centre de santé pour les enfants?", "fr"),
        ("Merhaba, çocuğum için yardım lazım", "tr"),
        ("Привет, мне нужна помощь", "ru"),
    ],
)
def test_an_unsupported_language_is_recognised_so_the_citizen_can_be_told(
    guesser: LanguageGuesser, text: str, language: str
) -> None:
    assert guesser.detect(text, None).unsupported == language


def test_a_norwegian_message_with_a_foreign_word_stays_norwegian(guesser: LanguageGuesser) -> None:
    assert guesser.detect("Hei, hvor er Jugendamt?", None).unsupported is None


@pytest.mark.parametrize(
    ("text", "previous"), [("ok", "pl"), ("NAV", "so"), ("hjelp", "en"), ("1", "ar")]
)
def test_a_message_too_short_to_tell_keeps_the_citizens_language(
    guesser: LanguageGuesser, text: str, previous: str
) -> None:
    assert guesser.detect(text, previous).code == previous


def test_the_platforms_language_decides_a_first_short_message(guesser: LanguageGuesser) -> None:
    assert guesser.detect("PPT", None, hint="nb-NO").code == "nb"
    assert guesser.detect("PPT", None, hint="pl").code == "pl"


def test_an_explicit_request_switches_language(guesser: LanguageGuesser) -> None:
    assert guesser.detect("english please", "nb").switch == "en"
    assert guesser.detect("po polsku proszę", "nb").switch == "pl"
