"""The crisis check on its own: the reviewed lexicon, with no Rasa server and no matcher.

A person in danger must get the emergency numbers whether or not the model is up, so the
lexicon alone has to recognise every crisis probe in every language, and leave idioms alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.settings import PROJECT_ROOT
from nlu.crisis import CrisisDetector, near

PROBE_FILES = (
    "nlu/crisis_probes/crisis_probes.yml",  # sets A-C
    "nlu/crisis_probes/crisis_probes_warning_signs.yml",  # set D: warning signs that name no method
    "nlu/crisis_probes/crisis_probes_acute.yml",  # set E: bleeding, overdose, abuse, a child hit now
    "nlu/crisis_probes/crisis_probes_dialects.yml",  # set F: colloquial Arabic, Somali, nynorsk
    "nlu/crisis_probes/crisis_probes_fresh6.yml",  # set G: a method or a time; a child locked in
    "nlu/crisis_probes/crisis_probes_blind7.yml",  # set H: the misses of fresh_blind7
    "nlu/crisis_probes/crisis_probes_kinds8.yml",  # set I: ten kinds the development sets found missing
    "nlu/crisis_probes/crisis_probes_blind8.yml",  # set J: eight kinds fresh_blind8 found missing
    "nlu/crisis_probes/crisis_probes_blind9.yml",  # set K: the kinds of .3 and .4 and fresh_blind9, reworded
    "nlu/crisis_probes/crisis_probes_blind10.yml",  # set L: the kinds fresh_blind10 found missing, reworded
    "nlu/crisis_probes/crisis_probes_precision11.yml",  # set M: told, habitual, long-lasting: not acute
    "nlu/crisis_probes/crisis_probes_blind11.yml",  # set N: someone on a height now about to jump
)
PROBES = [yaml.safe_load((PROJECT_ROOT / name).read_text("utf-8")) for name in PROBE_FILES]
HELDOUT = [
    json.loads(line)
    for path in sorted((PROJECT_ROOT / "tests/data/heldout").glob("*.jsonl"))
    for line in path.read_text("utf-8").splitlines()
    if line.strip()
]
TOPIC = {"self_harm": "psykisk_helse_rus", "danger": "barnevern"}


def probes(group: str) -> list[tuple[str, str]]:
    return [
        (language, text)
        for probe_set in PROBES
        for language, g in probe_set.items()
        for text in g.get(group) or ()
    ]


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return CrisisDetector.from_file(PROJECT_ROOT / "nlu" / "crisis_lexicon.yml")


@pytest.mark.parametrize(
    ("language", "text", "topic"),
    [(lang, text, TOPIC[group]) for group in TOPIC for lang, text in probes(group)],
)
def test_danger_in_every_language_is_recognised_and_names_the_service_that_fits(
    detector: CrisisDetector, language: str, text: str, topic: str
) -> None:
    """Suicidal thoughts and self-harm go to psykisk helse; violence, abuse, acute danger and
    nowhere to sleep go to barnevern."""
    signal = detector.check(text)
    assert signal is not None, f"{language}: missed {text!r}"
    assert signal.topic == topic


@pytest.mark.parametrize(("language", "text"), probes("not_crisis"))
def test_idioms_jokes_and_everyday_questions_are_not_a_crisis(
    detector: CrisisDetector, language: str, text: str
) -> None:
    assert detector.check(text) is None, f"{language}: false alarm on {text!r}"


def test_every_heldout_crisis_message_is_caught_without_the_model(
    detector: CrisisDetector,
) -> None:
    missed = [c["text"] for c in HELDOUT if c["crisis"] and detector.check(c["text"]) is None]
    assert missed == []
    assert sum(c["crisis"] for c in HELDOUT) >= 7 * 3


@pytest.mark.parametrize(
    "look_alike",
    [
        "min siste melding var feil, beklager",
        "dette er min siste melding i dag, god helg",
        "nå vet jeg hvordan jeg skal gjøre det, takk",
        "er det greit om jeg ikke er her i morgen?",
        "vi gir bort alle tingene til loppemarkedet",
        "kan jeg spare penger på medisiner?",
        "pappa er på taket og måker snø",
        "this is my last message for today, thanks",
        "collected my meds from the pharmacy",
        "the kids are on the roof of the shed jumping",
        "moja ostatnia wiadomość była błędna",
        "zbieram leki z apteki dla babci",
        "віддав усі свої речі в хімчистку",
        "هو أفضل من غيري",
        "انا على السطح أنشر الغسيل",
        "fariintaydii ugu dambeysay waa qalad",
    ],
)
def test_a_farewell_a_plan_or_a_place_in_everyday_words_is_not_a_warning_sign(
    detector: CrisisDetector, look_alike: str
) -> None:
    """The warning-sign patterns (a last message, belongings given away, pills saved up, a
    plan, a bridge or a roof) need the words that make them one."""
    assert detector.check(look_alike) is None, look_alike


def test_no_heldout_ordinary_message_is_flagged(detector: CrisisDetector) -> None:
    flagged = [c["text"] for c in HELDOUT if not c["crisis"] and detector.check(c["text"])]
    assert flagged == []


@pytest.mark.parametrize(
    "disguised",
    [
        "sel\u200bvmord",  # a zero-width space inside the word
        "<b>jeg vil dø</b>",  # markup around it
        "jeg vil     dø",  # odd spacing
        "JEG VIL IKKE LEVE",  # shouting
        "jeg vil ikke leeeeve",  # stretched letters
        "jeg vil ikke leve 😢😢",  # emoji
        "hei! hvor er NAV? forresten, pappa slår meg",  # a crisis after a question
    ],
)
def test_disguised_or_embedded_crisis_words_are_still_recognised(
    detector: CrisisDetector, disguised: str
) -> None:
    assert detector.check(disguised) is not None


@pytest.mark.parametrize(
    "inverted",
    [
        "i dag vil jeg ikke leve",
        "noen ganger vil jeg bare dø",
        "nå orker jeg ikke mer",
        "i kveld vil eg ikkje leve",
        "etter det vil jeg bare forsvinne",
    ],
)
def test_norwegian_word_order_after_an_opening_phrase_is_understood(
    detector: CrisisDetector, inverted: str
) -> None:
    signal = detector.check(inverted)
    assert signal is not None and signal.category == "self_harm"


def test_an_idiom_does_not_hide_a_real_crisis_in_the_same_message(
    detector: CrisisDetector,
) -> None:
    signal = detector.check("jeg døde av latter i går, men i dag vil jeg ikke leve")
    assert signal is not None and signal.category == "self_harm"


def test_each_flag_records_the_lexicon_version_and_the_language_that_matched(
    detector: CrisisDetector,
) -> None:
    signal = detector.check("хочу покінчити з собою")
    assert signal is not None
    assert signal.language == "uk" and signal.lexicon_version == detector.version


def test_a_near_pair_matches_in_either_order_and_within_the_window_only() -> None:
    lexicon = {
        "version": "t",
        "categories": {"violence_abuse": {"topic": "barnevern"}},
        "languages": {"xx": {"violence_abuse": [{"near": [r"\bfar\b", r"\bslår\b"], "within": 2}]}},
    }
    detector = CrisisDetector(lexicon)
    assert detector.check("far slår") is not None
    assert detector.check("slår far") is not None
    assert detector.check("far i dag slår") is not None  # two words between
    assert detector.check("far har i dag slår") is None  # three
    assert near("a", "b", 0).count("{0,0}") == 2


def test_an_unknown_category_in_the_lexicon_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown category"):
        CrisisDetector(
            {"version": "t", "categories": {}, "languages": {"nb": {"sadness": ["trist"]}}}
        )


def test_the_check_is_fast_enough_to_run_on_every_message(detector: CrisisDetector) -> None:
    """Not a timing test: a 20 000-character message is checked (in part) without error."""
    assert detector.check("hei " * 5000) is None
