"""Evaluating the understanding step on the held-out set: topic accuracy, crisis recall and
precision, the out-of-scope false-answer rate, per language and overall; a confusion matrix."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

NONE_TOPIC = "none"


@dataclass(frozen=True)
class HeldOut:
    """One held-out message and what the understanding should make of it."""

    text: str
    language: str
    topic: str | None
    crisis: bool


@dataclass(frozen=True)
class Outcome:
    """What the understanding made of it."""

    case: HeldOut
    topic: str | None
    crisis: bool
    language: str


def load_cases(directory: Path) -> list[HeldOut]:
    """Every line of every tests/data/heldout/<lang>.jsonl file."""
    cases = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                data = json.loads(line)
                cases.append(
                    HeldOut(
                        data["text"],
                        data.get("language", path.stem),
                        data.get("topic"),
                        bool(data.get("crisis")),
                    )
                )
    return cases


@dataclass(frozen=True)
class Scores:
    """The published figures for one language (or all)."""

    n: int
    topic_accuracy: float
    language_accuracy: float
    crisis_recall: float | None
    crisis_precision: float | None
    false_crisis_rate: float
    out_of_scope_false_answer_rate: float | None

    def row(self, name: str) -> str:
        """One line of the printed table."""

        def pct(value: float | None) -> str:
            return "   -  " if value is None else f"{100 * value:5.1f}%"

        return (
            f"{name:8} {self.n:5}  {pct(self.topic_accuracy)}  {pct(self.language_accuracy)}"
            f"  {pct(self.crisis_recall)}  {pct(self.crisis_precision)}"
            f"  {pct(self.false_crisis_rate)}  {pct(self.out_of_scope_false_answer_rate)}"
        )


HEADER = "language     n   topic   lang    crisis-R crisis-P false-crisis oos-false-answer"


def score(outcomes: Sequence[Outcome]) -> Scores:
    """Figures over a set of outcomes."""
    n = len(outcomes)
    correct = sum(o.topic == o.case.topic for o in outcomes)
    lang_ok = sum(o.language == o.case.language for o in outcomes)
    crises = [o for o in outcomes if o.case.crisis]
    flagged = [o for o in outcomes if o.crisis]
    calm = [o for o in outcomes if not o.case.crisis]
    out_of_scope = [o for o in outcomes if o.case.topic is None and not o.case.crisis]
    return Scores(
        n=n,
        topic_accuracy=correct / n if n else 0.0,
        language_accuracy=lang_ok / n if n else 0.0,
        crisis_recall=sum(o.crisis for o in crises) / len(crises) if crises else None,
        crisis_precision=sum(o.case.crisis for o in flagged) / len(flagged) if flagged else None,
        false_crisis_rate=sum(o.crisis for o in calm) / len(calm) if calm else 0.0,
        out_of_scope_false_answer_rate=(
            sum(o.topic is not None for o in out_of_scope) / len(out_of_scope)
            if out_of_scope
            else None
        ),
    )


def report(outcomes: Sequence[Outcome]) -> str:
    """The table printed by `inngang nlu eval`."""
    by_language: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_language[outcome.case.language].append(outcome)
    lines = [HEADER]
    lines += [score(group).row(lang) for lang, group in sorted(by_language.items())]
    lines.append(score(outcomes).row("overall"))
    misses = [o for o in outcomes if o.topic != o.case.topic or o.crisis != o.case.crisis]
    if misses:
        lines.append("\nmisses (expected -> got):")
        lines += [
            f"  [{o.case.language}] {o.case.text[:70]!r}: {o.case.topic}/{o.case.crisis}"
            f" -> {o.topic}/{o.crisis}"
            for o in misses
        ]
    return "\n".join(lines)


def confusion_svg(outcomes: Iterable[Outcome], path: Path) -> Path:
    """Write the topic confusion matrix (rows: expected, columns: predicted) as an SVG picture."""
    pairs = Counter((o.case.topic or NONE_TOPIC, o.topic or NONE_TOPIC) for o in outcomes)
    labels = sorted({label for pair in pairs for label in pair})
    cell, left, top = 34, 150, 150
    size_x, size_y = left + cell * len(labels) + 20, top + cell * len(labels) + 20
    peak = max(pairs.values(), default=1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_x}" height="{size_y}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{size_x}" height="{size_y}" fill="white"/>',
        f'<text x="{left}" y="14" font-size="13">Topic confusion: rows expected, '
        "columns predicted</text>",
    ]
    for i, label in enumerate(labels):
        y = top + i * cell + cell / 2 + 4
        x = left + i * cell + cell / 2
        parts.append(f'<text x="{left - 6}" y="{y}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<text transform="translate({x + 4},{top - 6}) rotate(-60)">{escape(label)}</text>'
        )
    for (expected, predicted), count in pairs.items():
        row, col = labels.index(expected), labels.index(predicted)
        shade = int(255 - 200 * count / peak)
        colour = f"rgb({shade},{shade},255)" if row == col else f"rgb(255,{shade},{shade})"
        x, y = left + col * cell, top + row * cell
        parts.append(
            f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{colour}" stroke="#ccc"/>'
        )
        parts.append(
            f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle">{count}</text>'
        )
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
