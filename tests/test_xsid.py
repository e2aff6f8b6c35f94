"""The xSID out-of-scope training data: generated from the training folds only, free of
crisis and service wording, and never containing a held-out request."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import PROJECT_ROOT
from nlu import xsid
from nlu.crisis import CrisisDetector
from nlu.fallback import fold
from nlu.training_data import read_examples

XSID_DIR = PROJECT_ROOT.parent / "shared" / "data" / "xsid"
OOS_FILE = PROJECT_ROOT / "nlu" / "data" / "oos_xsid.yml"
needs_xsid = pytest.mark.skipif(not XSID_DIR.is_dir(), reason="no ../shared/data/xsid here")


@pytest.fixture(scope="module")
def crisis() -> CrisisDetector:
    return CrisisDetector.from_file(PROJECT_ROOT / "nlu" / "crisis_lexicon.yml")


def test_every_xsid_example_is_out_of_scope_and_raises_no_crisis(crisis: CrisisDetector) -> None:
    examples = list(read_examples([OOS_FILE]))
    assert len(examples) > 1000
    assert {e.intent for e in examples} == {"out_of_scope"}
    assert [e.text for e in examples if crisis.check(e.text)] == []
    assert [e.text for e in examples if xsid.SERVICE_WORDS.search(e.text)] == []


@pytest.mark.parametrize(
    "text",
    [
        "Remind me to go to the dentist next Monday.",
        "Slett påminnelsen min om å plukke opp Patrick fra skulen i morga.",
        "Eg trenger en alarm til klokken 1700 for å ta medisinene mine",
        "ذكرني أن أذهب إلى طبيب الأسنان الاثنين المقبل .",
    ],
)
def test_a_request_near_a_service_is_left_out(crisis: CrisisDetector, text: str) -> None:
    assert xsid.excluded(xsid.Request("no", "B", 0, "reminder", text), crisis) == "service word"


def test_the_folds_are_split_by_variant_and_by_row() -> None:
    def request(language: str, variant: str, row: int) -> xsid.Request:
        return xsid.Request(language, variant, row, "weather/find", "kor varmt blir det")

    assert request("no", "B", 1).trained and request("no", "V", 1).trained
    assert not request("no", "N", 0).trained and not request("no", "T", 0).trained
    assert request("en", "", 4).trained and not request("ar", "", 5).trained


@needs_xsid
def test_no_held_out_request_is_in_the_training_data(crisis: CrisisDetector) -> None:
    train, heldout, _ = xsid.folds(xsid.read(XSID_DIR), crisis)
    trained = {fold(e.text) for e in read_examples([OOS_FILE])}
    assert trained == {fold(r.text) for r in train}
    assert [r.text for r in heldout if fold(r.text) in trained or r.trained] == []


@needs_xsid
def test_the_training_file_is_up_to_date() -> None:
    script = PROJECT_ROOT / "scripts" / "xsid_to_training.py"
    completed = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
