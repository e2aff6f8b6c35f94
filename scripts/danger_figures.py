"""How often a person in danger is shown the emergency numbers, and how often someone who is
not is shown them anyway, on the path that never needs Rasa: the crisis lexicon (the full
crisis answer) and the danger sense (``nlu/danger_sense.py``: the numbers and a "someone is
in danger now" button with the usual answer).

Sets: directories of ``<lang>.jsonl`` lines with ``text`` and ``crisis`` (true/false), e.g.
tests/data/fresh, tests/data/fresh_final, tests/data/fresh_blind3, tests/data/crisis_blind4;
and the held-out xSID folds (real out-of-scope requests, never trained on). Per set and
language: crises given the full answer (lexicon), crises shown the numbers at all (lexicon
or danger sense), and on the other messages: full false alarms and number offers.
With --thresholds the danger sense is scored at several thresholds (choosing one).

  .venv/bin/python scripts/danger_figures.py --cases tests/data/fresh --cases tests/data/fresh_final
  .venv/bin/python scripts/danger_figures.py --thresholds 0.35,0.45,0.55
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bot.app import CRISIS_LEXICON  # noqa: E402
from nlu import xsid  # noqa: E402
from nlu.crisis import CrisisDetector  # noqa: E402
from nlu.danger_sense import THRESHOLD, DangerSense, with_probe_crises  # noqa: E402
from nlu.embeddings import E5Embedder  # noqa: E402
from nlu.fallback import FallbackMatcher  # noqa: E402
from nlu.training_data import data_files, read_examples  # noqa: E402

Row = tuple[str, str, bool]  # language, text, crisis


def load(directory: Path) -> list[Row]:
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                rows.append((item["language"], item["text"], bool(item.get("crisis"))))
    return rows


def report(
    name: str,
    rows: list[Row],
    lexicon: CrisisDetector,
    sense: DangerSense,
    thresholds: list[float],
    misses: bool = False,
) -> None:
    texts = [text for _, text, _ in rows]
    vectors = [v for i in range(0, len(texts), 64) for v in sense.embedder.embed(texts[i : i + 64])]
    full = [lexicon.check(text) is not None for text in texts]
    print(f"\n{name}: {len(rows)} messages, {sum(c for *_, c in rows)} crises")
    print(
        f"{'language':9}{'crises':>7}{'full answer':>13}{'numbers shown':>15}"
        f"{'others':>8}{'false full':>12}{'offered':>9}"
    )
    by_language: dict[str, list[int]] = defaultdict(list)
    for index, (language, _, _) in enumerate(rows):
        by_language[language].append(index)
    for threshold in thresholds:
        sense.threshold = threshold
        offers = [sense.offers(vector) for vector in vectors]
        if len(thresholds) > 1:
            print(f"  danger sense threshold {threshold}")
        for language, indices in [*sorted(by_language.items()), ("all", list(range(len(rows))))]:
            crises = [i for i in indices if rows[i][2]]
            others = [i for i in indices if not rows[i][2]]
            shown = [i for i in crises if full[i] or offers[i]]
            offered = [i for i in others if not full[i] and offers[i]]
            print(
                f"{language:9}{len(crises):7}{sum(full[i] for i in crises):13}"
                f"{len(shown):15}{len(others):8}{sum(full[i] for i in others):12}"
                f"{len(offered):9}"
            )
        if misses:
            for i, (language, text, crisis) in enumerate(rows):
                if crisis and not (full[i] or offers[i]):
                    print(f"  not shown [{language}] {text[:90]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=Path, action="append", default=[])
    parser.add_argument("--xsid", type=Path, default=PROJECT_ROOT.parent / "shared/data/xsid")
    parser.add_argument("--thresholds", default=str(THRESHOLD))
    parser.add_argument("--misses", action="store_true", help="print the crises not shown")
    args = parser.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]
    lexicon = CrisisDetector.from_file(CRISIS_LEXICON)
    embedder = E5Embedder()
    matcher = FallbackMatcher(read_examples(data_files()), embedder=embedder)
    trained = matcher.training_vectors()
    assert trained is not None
    sense = DangerSense(embedder, *with_probe_crises(embedder, *trained))
    cases = args.cases or [
        PROJECT_ROOT / "tests/data/fresh",
        PROJECT_ROOT / "tests/data/fresh_final",
    ]
    for directory in cases:
        report(
            str(
                directory.relative_to(PROJECT_ROOT)
                if directory.is_absolute() and directory.is_relative_to(PROJECT_ROOT)
                else directory
            ),
            load(directory),
            lexicon,
            sense,
            thresholds,
            args.misses,
        )
    if args.xsid.exists():
        _, heldout, _ = xsid.folds(xsid.read(args.xsid), lexicon)
        rows = [(r.language, r.text, False) for r in heldout]
        report(
            "xSID held-out folds (out of scope, never trained on)", rows, lexicon, sense, thresholds
        )


if __name__ == "__main__":
    main()
