"""The crisis check reads the whole message, however long (issue 9, item 8).

It used to cut at 4,000 characters, so a long message ending in a crisis got no flag. Now
every character is checked; to keep that fast, a pattern runs only when a string every match
of it must contain is in the message, which must never change the result.
"""

from __future__ import annotations

import json
import random
import re

import pytest
import yaml

import nlu.crisis
from bot.settings import PROJECT_ROOT
from nlu.crisis import CrisisDetector, required_strings

CRISIS = "Jeg vil ta livet mitt i kveld."
FILLER = (
    "Hei, jeg skriver fordi sønnen min på åtte år har hatt det vanskelig på skolen lenge, og "
    "vi lurer på om PPT eller helsestasjonen kan hjelpe oss med søknaden til kommunen. "
)


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return CrisisDetector.from_file(PROJECT_ROOT / "nlu" / "crisis_lexicon.yml")


def filler(length: int) -> str:
    return (FILLER * (length // len(FILLER) + 1))[:length]


def test_the_reported_message_of_4087_characters_is_flagged(detector: CrisisDetector) -> None:
    text = filler(4087 - len(CRISIS) - 1) + " " + CRISIS
    assert len(text) == 4087
    signal = detector.check(text)
    assert signal is not None and signal.category == "self_harm"


def test_a_crisis_at_the_very_end_of_100000_characters_is_flagged(
    detector: CrisisDetector,
) -> None:
    text = filler(100_000 - len(CRISIS) - 1) + " " + CRISIS
    assert len(text) == 100_000 and detector.check(filler(100_000)) is None
    signal = detector.check(text)
    assert signal is not None and signal.category == "self_harm"


@pytest.mark.parametrize(
    "boundary",
    [1000, 2048, 4000, 4096, 8192, 65_536, 99_000],
)
@pytest.mark.parametrize("into", [1, 7, 15, len(CRISIS) - 2])
def test_a_crisis_across_any_former_cut_or_window_boundary_is_flagged(
    detector: CrisisDetector, boundary: int, into: int
) -> None:
    """The phrase starts ``into`` characters before where a cut or window edge would be."""
    start = boundary - into
    text = filler(start - 1) + " " + CRISIS + " " + filler(2000)
    assert text[start : start + len(CRISIS)] == CRISIS
    assert detector.check(text) is not None


def test_an_idiom_deep_in_a_long_message_is_still_no_crisis_and_hides_nothing(
    detector: CrisisDetector,
) -> None:
    idiom = filler(50_000) + " jeg døde av latter. " + filler(20_000)
    assert detector.check(idiom) is None
    both = idiom + " men i dag vil jeg ikke leve"
    signal = detector.check(both)
    assert signal is not None and signal.category == "self_harm"


def test_the_most_serious_crisis_anywhere_in_a_long_message_wins(
    detector: CrisisDetector,
) -> None:
    text = "pappa slår meg. " + filler(30_000) + " " + CRISIS
    signal = detector.check(text)
    assert signal is not None and signal.category == "self_harm"


@pytest.mark.parametrize(
    ("source", "needs"),
    [
        (r"\bselvmord\w*", [{"selvmord"}]),
        (r"\b(ta|tar|tatt) livet (av meg|mitt)\b", [{"ta"}, {" livet "}, {"av meg", "mitt"}]),
        (r"\b(kniv|pistol)\b", [{"kniv", "pistol"}]),
        (r"(?<!med å )\bdrepe meg\b", [{"drepe meg"}]),
        (r"(ab)+c?", [{"ab"}]),
        (r"x(ab)*yz", [{"yz"}]),  # "x" alone: one character is in nearly every text
        (r"\w+ meg", [{" meg"}]),
        (r"(ikke|ikkje) leve", [{"ikk"}, {" leve"}]),  # the parser takes the prefix out
    ],
)
def test_the_strings_a_pattern_needs_are_read_from_the_regex(
    source: str, needs: list[set[str]]
) -> None:
    """Every match contains a string of each set."""
    assert required_strings(source) == tuple(frozenset(need) for need in needs)


@pytest.mark.parametrize(
    "source",
    [r"[ab]\w*", r"(?i)selvmord", r"(?i:kniv)", r"(kniv|\w+)", r"(kniv|)", r"a?", r"(", r""],
)
def test_a_pattern_that_needs_no_known_string_always_runs(source: str) -> None:
    assert required_strings(source) == ()


def everyday_and_crisis_texts() -> list[str]:
    probes = yaml.safe_load((PROJECT_ROOT / "nlu/crisis_probes/crisis_probes.yml").read_text("utf-8"))
    texts = [t for groups in probes.values() for group in groups.values() for t in group]
    texts += [
        json.loads(line)["text"]
        for path in sorted((PROJECT_ROOT / "tests/data/heldout").glob("*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]
    shuffled = random.Random(9)
    texts += [" ".join(shuffled.sample(texts, 3)) for _ in range(300)]
    return texts


def test_skipping_patterns_never_changes_a_result(
    detector: CrisisDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every probe, held-out message and mixture: the same flags, kinds and idioms as when
    every pattern runs."""
    texts = everyday_and_crisis_texts()
    skipping = [(detector.check(t), detector.is_idiom(t)) for t in texts]
    monkeypatch.setattr(nlu.crisis, "required_strings", lambda source: ())  # none: all run
    everything = CrisisDetector.from_file(PROJECT_ROOT / "nlu" / "crisis_lexicon.yml")
    assert skipping == [(everything.check(t), everything.is_idiom(t)) for t in texts]


def test_every_match_of_every_lexicon_pattern_contains_one_of_its_strings(
    detector: CrisisDetector,
) -> None:
    """The soundness of the shortcut, on every probe and held-out form the lexicon matches."""
    forms = [
        f for t in everyday_and_crisis_texts() for f in frozenset.union(*nlu.crisis.variants(t))
    ]
    matched = 0
    for alternation in detector._shortcut.alternations + detector._exclusions.alternations:
        for source, need in zip(alternation.sources, alternation.needs, strict=True):
            pattern = re.compile(source)
            for form in forms:
                match = pattern.search(form)
                if match and need:
                    matched += 1
                    for strings in need:
                        assert any(s in match.group(0) for s in strings), (source, match[0])
    assert matched > 500
