"""The xSID 0.7 validation splits as out-of-scope material: reading, filtering, the folds.

xSID (van der Goot et al., NAACL 2021; the Norwegian dialects from NorSID) is a set of
voice-assistant requests (weather, alarms, reminders, music, restaurants, films, books),
licensed CC BY-SA 4.0. The project keeps the validation splits in ../shared/data/xsid
(`<language>.valid.tsv`: intent, variant, text) and uses them two ways:

* the *training folds* become out_of_scope examples in nlu/data/oos_xsid.yml
  (scripts/xsid_to_training.py writes that file);
* the *held-out folds* are never trained on: scripts/xsid_folds.py measures on them how
  often a real out-of-scope request is answered as a service or raises a crisis.

The fold split (by speaker group for Norwegian, by row for Arabic and English, whose rows
are parallel translations of the same 300 English requests):

| file         | training fold                  | held-out fold                       |
| ------------ | ------------------------------ | ----------------------------------- |
| no.valid.tsv | variant B (bokmål), V (dialect) | variant N, T (dialects, nynorsk)   |
| ar.valid.tsv | rows 0, 2, 4, ... (even)        | rows 1, 3, 5, ... (odd)            |
| en.valid.tsv | rows 0, 2, 4, ... (even)        | rows 1, 3, 5, ... (odd)            |

Rows are numbered from 0 after the header. A held-out request with the same words as a
trained one (two speakers writing alike) is not measured. Requests that are near a
municipal service or could be a crisis are left out of both folds (see `excluded`): the
training must not teach that "school", "doctor" or "police" are out of scope, and a
held-out request that *is* a service question would count as a false answer that is none.

The xSID *test* splits are kept apart to evaluate the project and are never read here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nlu.crisis import CrisisDetector
from nlu.fallback import fold

LANGUAGES = ("no", "ar", "en")
TRAIN_VARIANTS_NO = frozenset({"B", "V"})
HELDOUT_VARIANTS_NO = frozenset({"N", "T"})
SEEN = "same text as a trained request"

# A request mentioning any of these is near a municipal service for children and families
# (or an emergency), so it is no safe out-of-scope example: it is left out. Word starts,
# case-insensitive: Norwegian (bokmål, nynorsk, dialect spellings), English; Arabic
# anywhere in a word.
SERVICE_WORDS = re.compile(
    r"\b(?:"
    r"lege|legen|doktor|tannleg|sykehus|sjukehus|helse|jordmor|gravid|vaksin|medisin|"
    r"psykolog|skole|skule|barnehage|lærer|lærar|rektor|foreldremøte|barnevern|nav\b|"
    r"kommune|politi|ambulanse|brann|tolk|sosialhjelp|trygd|"
    r"doctor|dentist|hospital|clinic|nurse|midwife|pregnan|vaccin|medicine|therap|"
    r"school|kindergarten|daycare|teacher|social services|police|ambulance|emergency|"
    r"interpreter|welfare|benefit"
    r")"
    # Arabic words carry prefixes (ال, و, ب, ل): matched anywhere
    r"|طبيب|دكتور|مستشفى|عيادة|ممرض|مدرس|روضة|حضانة|شرطة|إسعاف|طوارئ|مترجم|حامل|لقاح|دواء|دوائ",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Request:
    """One xSID request: the file's language, the variant (Norwegian), the row and the text."""

    language: str
    variant: str
    row: int
    intent: str
    text: str

    @property
    def group(self) -> str:
        """What the fold results are reported by: language, and variant for Norwegian."""
        return f"{self.language}-{self.variant}" if self.variant else self.language

    @property
    def trained(self) -> bool:
        """Whether the request is in a training fold (else it is held out)."""
        if self.language == "no":
            return self.variant in TRAIN_VARIANTS_NO
        return self.row % 2 == 0


def read(directory: Path, languages: Iterable[str] = LANGUAGES) -> list[Request]:
    """Every row of ``<language>.valid.tsv`` in ``directory``, in file order."""
    requests = []
    for language in languages:
        path = directory / f"{language}.valid.tsv"
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            for number, row in enumerate(rows):
                text = " ".join((row.get("text") or "").split())
                if text:
                    variant = (row.get("variant") or "").strip()
                    intent = row.get("intent") or ""
                    requests.append(Request(language, variant, number, intent, text))
    return requests


def excluded(request: Request, crisis: CrisisDetector) -> str | None:
    """Why a request is left out of both folds, or None: the crisis lexicon flags it, or it
    names a municipal service, a school, a health worker, an emergency service or the like."""
    if crisis.check(request.text) is not None:
        return "crisis lexicon"
    if SERVICE_WORDS.search(request.text):
        return "service word"
    return None


def folds(
    requests: Iterable[Request], crisis: CrisisDetector
) -> tuple[list[Request], list[Request], list[tuple[Request, str]]]:
    """(training fold, held-out fold, excluded with the reason). A held-out request whose
    text (folded: case, accents and punctuation aside) is also in the training fold, as
    when two speakers wrote the same words, is excluded: the held-out fold is unseen."""
    train: list[Request] = []
    candidates: list[Request] = []
    dropped: list[tuple[Request, str]] = []
    for request in requests:
        reason = excluded(request, crisis)
        if reason is not None:
            dropped.append((request, reason))
        elif request.trained:
            train.append(request)
        elif request.language != "no" or request.variant in HELDOUT_VARIANTS_NO:
            candidates.append(request)
    seen = {fold(request.text) for request in train}
    heldout = [request for request in candidates if fold(request.text) not in seen]
    dropped += [(r, SEEN) for r in candidates if fold(r.text) in seen]
    return train, heldout, dropped
