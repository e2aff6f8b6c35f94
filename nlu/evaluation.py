"""Evaluating the understanding step on the held-out set: topic accuracy, crisis recall and
precision, the out-of-scope false-answer rate, per language and overall; a confusion matrix.
And the crisis check on its own: false alarms on real out-of-scope requests, probe recall."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Protocol

import yaml

from nlu.crisis import CrisisDetector
from nlu.understanding import Understanding

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


# The crisis check measured on its own terms: false alarms on real out-of-scope requests (the
# xSID validation splits: voice-assistant requests, none about a crisis) and recall on the
# crisis probes, by the lexicon alone and by the whole understanding step as the bot uses it.

XSID_LANGUAGES = ("no", "ar", "en")
PROBE_GROUPS = ("self_harm", "danger")


class Understands(Protocol):
    """What the measurement needs of nlu.service.Understander."""

    crisis: CrisisDetector

    async def understand(
        self, text: str, previous_language: str | None, hint: str | None = None
    ) -> Understanding: ...


def load_xsid(directory: Path, languages: Sequence[str] = XSID_LANGUAGES) -> dict[str, list[str]]:
    """The texts of ``<language>.valid.tsv`` (tab-separated intent, variant, text, with a
    header row), read at measuring time: the data stays outside the project (CC BY-SA 4.0)."""
    texts: dict[str, list[str]] = {}
    for language in languages:
        path = directory / f"{language}.valid.tsv"
        rows = csv.DictReader(path.open(encoding="utf-8", newline=""), delimiter="\t")
        texts[language] = [row["text"] for row in rows if (row.get("text") or "").strip()]
    return texts


def load_probes(paths: Iterable[Path]) -> dict[str, dict[str, list[str]]]:
    """Crisis probe files (nlu/crisis_probes/crisis_probes.yml and the like) merged per language and
    group (self_harm, danger, not_crisis)."""
    merged: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in paths:
        for language, groups in (yaml.safe_load(path.read_text("utf-8")) or {}).items():
            for group, texts in (groups or {}).items():
                merged[str(language)][str(group)] += [str(t) for t in texts or ()]
    return {language: dict(groups) for language, groups in merged.items()}


@dataclass(frozen=True)
class FalseAlarms:
    """Crisis flags raised on messages that are no crisis, by source."""

    language: str
    n: int
    lexicon: tuple[str, ...]
    """Texts flagged by the lexicon."""
    model: tuple[str, ...]
    """Texts flagged by the model's (or, with Rasa down, the offline matcher's) crisis intent."""


@dataclass(frozen=True)
class ProbeRecall:
    """Crisis probes of one language caught by the lexicon alone and by the whole step."""

    language: str
    n: int
    lexicon: int
    understood: int
    missed: tuple[str, ...]
    """Missed by the whole step."""
    model_alone: int | None
    """Caught by the model's crisis intent as used, with a lexicon of idioms only (None: not
    measured): the safety net the model adds where the lexicon has a gap."""
    idioms: int
    idiom_alarms: tuple[str, ...]
    """Idioms and everyday questions (the probes' not_crisis) flagged by the whole step."""


def _model_flag(understanding: Understanding) -> bool:
    return understanding.crisis is not None and understanding.crisis.lexicon_version == "model"


async def false_alarms(
    understander: Understands, texts: Sequence[str], language: str
) -> FalseAlarms:
    """Run every text (none of them a crisis) through the understanding step."""
    lexicon: list[str] = []
    model: list[str] = []
    for text in texts:
        understood = await understander.understand(text, None)
        if understood.crisis is not None:
            (model if _model_flag(understood) else lexicon).append(text)
    return FalseAlarms(language, len(texts), tuple(lexicon), tuple(model))


async def probe_recall(
    understander: Understands,
    language: str,
    groups: Mapping[str, Sequence[str]],
    model_alone: Understands | None = None,
) -> ProbeRecall:
    """Every crisis probe through the lexicon alone, through the whole step, and (if given,
    see `idioms_only`) through the step with no crisis patterns."""
    crises = [text for group in PROBE_GROUPS for text in groups.get(group, ())]
    lexicon = sum(understander.crisis.check(text) is not None for text in crises)
    missed = [t for t in crises if (await understander.understand(t, None)).crisis is None]
    alone = None
    if model_alone is not None:
        alone = sum([(await model_alone.understand(t, None)).crisis is not None for t in crises])
    idioms = list(groups.get("not_crisis", ()))
    alarms = [t for t in idioms if (await understander.understand(t, None)).crisis is not None]
    return ProbeRecall(
        language,
        len(crises),
        lexicon,
        len(crises) - len(missed),
        tuple(missed),
        alone,
        len(idioms),
        tuple(alarms),
    )


def idioms_only(lexicon: Mapping[str, Any]) -> CrisisDetector:
    """A crisis detector with the lexicon's idioms (which overrule the model) and no crisis
    patterns: to see what the model's crisis intent catches on its own."""
    languages = {
        language: {"not_crisis": table.get("not_crisis") or []}
        for language, table in lexicon["languages"].items()
    }
    return CrisisDetector({**lexicon, "languages": languages})


def crisis_report(
    alarms: Sequence[FalseAlarms], recalls: Sequence[ProbeRecall], *, show: bool = False
) -> str:
    """The tables printed by scripts/crisis_false_alarms.py (``show``: and the texts flagged
    or missed)."""

    def caught(part: int | None, whole: int) -> str:
        if part is None:
            return f"{'-':>10}"
        return f"{part:3} {100 * part / whole:5.1f}%" if whole else f"{part:3}    -  "

    lines = [
        "false alarms on out-of-scope messages (xSID validation), by source",
        "language     n  lexicon  model",
    ]
    for a in alarms:
        lines.append(f"{a.language:8} {a.n:5}  {len(a.lexicon):7}  {len(a.model):5}")
    lines.append(
        f"{'overall':8} {sum(a.n for a in alarms):5}  {sum(len(a.lexicon) for a in alarms):7}"
        f"  {sum(len(a.model) for a in alarms):5}"
    )
    lines += [
        "",
        "crisis probes caught: by the lexicon alone, by lexicon + model as used, by the model",
        "as used with no crisis patterns (its safety net); idioms and everyday probes flagged",
        "language     n     lexicon  lexicon+model  model alone  idioms flagged",
    ]
    for r in [*recalls, _overall(recalls)]:
        lines.append(
            f"{r.language:8} {r.n:5}  {caught(r.lexicon, r.n)}     {caught(r.understood, r.n)}"
            f"   {caught(r.model_alone, r.n)}  {len(r.idiom_alarms):6}/{r.idioms}"
        )
    if show:
        listed = [
            (a.language, f"flagged by {source}", text)
            for a in alarms
            for source, texts in (("lexicon", a.lexicon), ("model", a.model))
            for text in texts
        ]
        listed += [(r.language, "missed", text) for r in recalls for text in r.missed]
        listed += [(r.language, "idiom flagged", text) for r in recalls for text in r.idiom_alarms]
        if listed:
            lines.append("")
            lines += [f"  [{lang}] {what}: {text[:90]!r}" for lang, what, text in listed]
    return "\n".join(lines)


def _overall(recalls: Sequence[ProbeRecall]) -> ProbeRecall:
    alone = [r.model_alone for r in recalls]
    return ProbeRecall(
        "overall",
        sum(r.n for r in recalls),
        sum(r.lexicon for r in recalls),
        sum(r.understood for r in recalls),
        tuple(t for r in recalls for t in r.missed),
        None if None in alone else sum(a or 0 for a in alone),
        sum(r.idioms for r in recalls),
        tuple(t for r in recalls for t in r.idiom_alarms),
    )
