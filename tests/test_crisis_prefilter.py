"""The crisis check looks for its patterns' required strings only where a message's
characters could begin one: it finds exactly the strings a search for every one of them
finds, in short and long messages, so the same patterns run and the same crises are caught."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import CRISIS_LEXICON
from nlu import evaluation
from nlu.confidentiality import LEXICON as WORRY_LEXICON
from nlu.confidentiality import default_check as worry_check
from nlu.crisis import LONG_TEXT, CrisisDetector, _Shortcut, variants
from nlu.phrases import PhraseLexicon
from nlu.trusted import LEXICON as BRING_LEXICON
from nlu.trusted import default_check as bring_check
from tests.test_understanding_overlap import QUESTION

HELDOUT = Path(__file__).parent / "data" / "heldout"


@functools.cache
def indexes() -> tuple[_Shortcut, ...]:
    detector = CrisisDetector.from_file(CRISIS_LEXICON)
    return (detector._shortcut, detector._exclusions)  # the two indexes the check uses


def every_string_in(index: _Shortcut, text: str) -> set[str]:
    return {string for string in index._users if string in text}


@functools.cache
def strings() -> list[str]:
    return sorted({s for index in indexes() for s in index._users})


def test_held_out_messages_find_what_a_full_search_finds() -> None:
    texts = [case.text for case in evaluation.load_cases(HELDOUT)]
    texts += [QUESTION, "jeg vil ikke leve mer", "ab", ""]
    for text in texts:
        for index in indexes():
            assert index.present(text.lower()) == every_string_in(index, text.lower())


def test_every_required_string_is_found_where_it_stands_alone_or_among_others() -> None:
    for string in strings():
        near = f"x{string[:-1]}"
        for text in (string, f"ja {string}", f"{string}!", near, "\n".join([string] * 2)):
            for index in indexes():
                assert index.present(text) == every_string_in(index, text)


@given(
    st.lists(
        st.sampled_from(strings()) | st.text(alphabet="aeiøå ns\n-'", max_size=4),
        max_size=12,
    ).map("".join)
)
def test_any_mix_of_required_strings_finds_what_a_full_search_finds(text: str) -> None:
    for index in indexes():
        assert index.present(text) == every_string_in(index, text)


def test_a_long_message_finds_what_a_full_search_finds() -> None:
    text = " ".join(strings()[::7])
    assert len(text) >= LONG_TEXT
    for index in indexes():
        assert index.present(text) == every_string_in(index, text)


def test_the_chosen_sources_say_what_the_whole_alternation_says() -> None:
    """Each source runs on its own (compiled once), never a new alternation per message:
    on held-out messages and crisis probes they find a match exactly where the alternation
    of every source does."""
    detector = CrisisDetector.from_file(CRISIS_LEXICON)
    texts = [case.text for case in evaluation.load_cases(HELDOUT)][:150]
    texts += ["jeg vil ikke leve mer", "han slår meg nå", "I want to kill myself tonight"]
    for text in texts:
        forms = [text.lower()]
        for index in (detector._shortcut, detector._exclusions, detector._acute_now):
            for alternation, chosen in zip(index.alternations, index.chosen(forms), strict=True):
                whole = alternation.whole()
                assert alternation.search_any(chosen, forms) == any(
                    whole.search(form) for form in forms
                )


@pytest.mark.parametrize("lexicon", [worry_check, bring_check], ids=["worry", "bring someone"])
def test_a_phrase_lexicon_finds_what_the_alternation_of_all_its_patterns_finds(
    lexicon: Callable[[], PhraseLexicon],
) -> None:
    """The worry and the bring-someone checks (asked before Rasa is) run only the patterns a
    message has the strings for: they find the worry, or the wish to bring someone, exactly
    where one regex of every pattern does."""
    check = lexicon()
    texts = [case.text for case in evaluation.load_cases(HELDOUT)][:300]
    texts += [
        "kan jeg snakke med noen uten at foreldrene mine får vite det?",
        "Kan jeg ta med en venn inn i chatten?",
        "can my aunt join the chat?",
        "czy mogę porozmawiać z kimś bez wiedzy rodziców?",
    ]
    found = 0
    for text in texts:
        written, folded = (list(forms) for forms in variants(text))
        expected = any(check.plain.whole().search(form) for form in written) or any(
            check.folded.whole().search(form) for form in folded
        )
        assert check.matches(text) == expected, text
        found += expected
    assert found >= 2


def test_once_compiled_a_new_message_compiles_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server compiles every pattern (crisis, worry, bring someone) before its first citizen
    (``warm_up``): after that a message never waits for a regex to be compiled."""
    import nlu.crisis

    detector = CrisisDetector.from_file(CRISIS_LEXICON)
    phrases = [PhraseLexicon.read(lexicon) for lexicon in (WORRY_LEXICON, BRING_LEXICON)]
    for patterns in (detector, *phrases):
        patterns.compile_all()
    compiled: list[str] = []
    real = re.compile

    def counting(pattern: str, flags: int = 0) -> re.Pattern[str]:
        compiled.append(pattern)
        return real(pattern, flags)

    monkeypatch.setattr(nlu.crisis.re, "compile", counting)
    for text in (
        "jeg vil ikke leve mer i kveld",
        "hvor er helsestasjonen?",
        "han slår meg nå",
        "kan jeg snakke med noen uten at foreldrene mine får vite det?",
        "kan jeg ta med en venn?",
    ):
        detector.check(text)
        for lexicon in phrases:
            lexicon.matches(text)
    assert compiled == []
