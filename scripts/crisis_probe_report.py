"""How the crisis check fares on a probe file, per language and per source.

Sources, each on its own and combined the way nlu/service.py combines them:
  lexicon          CrisisDetector.check (nlu/crisis_lexicon.yml); a crisis probe counts only
                   with the right kind (self_harm -> psykisk_helse_rus, danger -> barnevern)
  matcher          the offline matcher (FallbackMatcher from nlu/data/*.yml) says "crisis"
  lex+matcher      what the application flags when Rasa is down: the lexicon, or the matcher's
                   "crisis" at or above nlu.confidence_threshold on a message with no idiom
  model            the Rasa model (POST /model/parse on --rasa-url) says "crisis"
  lex+model        what the application flags when Rasa is up (same rule as lex+matcher)
Recall is over the self_harm and danger lists; false alarms over not_crisis.
--xsid FILE (tab-separated intent, variant, text; repeatable) counts lexicon flags on
ordinary requests that are never a crisis.

Usage: .venv/bin/python scripts/crisis_probe_report.py --probes nlu/crisis_probes/crisis_probes.yml
         [--rasa-url http://127.0.0.1:5011] [--misses] [--xsid ../shared/data/xsid/no.valid.tsv]
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import yaml

from bot.settings import PROJECT_ROOT, load_settings
from nlu.crisis import CrisisDetector
from nlu.fallback import FallbackMatcher
from nlu.training_data import data_files, read_examples

TOPIC = {"self_harm": "psykisk_helse_rus", "danger": "barnevern"}
CRISIS_INTENT = "crisis"
DEFAULT_PROBES = PROJECT_ROOT / "nlu/crisis_probes/crisis_probes.yml"
Verdict = Callable[[str, str], bool]  # (group, text) -> flagged


def percent(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.0f}%)" if total else "-"


def row(language: str, what: str, cells: Sequence[str]) -> str:
    return f"{language:<5} {what:<13}" + "".join(f"{cell:>16}" for cell in cells)


def totals_of(verdicts: dict[str, list[bool]], n_crisis: int) -> list[tuple[int, int, int, int]]:
    """Per source: caught, crisis probes, false alarms, ordinary probes."""
    return [
        (sum(f[:n_crisis]), n_crisis, sum(f[n_crisis:]), len(f) - n_crisis)
        for f in verdicts.values()
    ]


def rasa_parser(url: str) -> Callable[[str], tuple[str, float]]:
    client = httpx.Client(base_url=url, timeout=30)

    def parse(text: str) -> tuple[str, float]:
        response = client.post("/model/parse", json={"text": text})
        response.raise_for_status()
        intent = response.json().get("intent") or {}
        return str(intent.get("name")), float(intent.get("confidence") or 0.0)

    return parse


def xsid_report(detector: CrisisDetector, files: Sequence[Path], show: bool) -> None:
    total = flagged = 0
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
        hits = [row["text"] for row in rows if row["text"] and detector.check(row["text"])]
        total += len(rows)
        flagged += len(hits)
        print(f"xsid {path.name}: {len(hits)} of {len(rows)} flagged by the lexicon")
        if show:
            for text in hits:
                print(f"    {text}")
    print(f"xsid all: {flagged} of {total} flagged by the lexicon")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", type=Path, default=DEFAULT_PROBES)
    parser.add_argument("--lexicon", type=Path, default=PROJECT_ROOT / "nlu/crisis_lexicon.yml")
    parser.add_argument("--rasa-url", help="a running Rasa server, e.g. http://127.0.0.1:5011")
    parser.add_argument("--misses", action="store_true", help="list misses and false alarms")
    parser.add_argument("--xsid", type=Path, action="append", default=[])
    args = parser.parse_args()

    probes = yaml.safe_load(args.probes.read_text("utf-8"))
    detector = CrisisDetector.from_file(args.lexicon)
    matcher = FallbackMatcher(read_examples(data_files()))
    threshold = load_settings().nlu.confidence_threshold
    rasa = rasa_parser(args.rasa_url) if args.rasa_url else None

    def lexicon(group: str, text: str) -> bool:
        signal = detector.check(text)
        if group in TOPIC:
            return signal is not None and signal.topic == TOPIC[group]
        return signal is not None

    def combined(parse: Callable[[str], tuple[str, float]]) -> Verdict:
        def flagged(group: str, text: str) -> bool:
            intent, confidence = parse(text)
            model = intent == CRISIS_INTENT and confidence >= threshold
            return lexicon(group, text) or (model and not detector.is_idiom(text))

        return flagged

    def alone(parse: Callable[[str], tuple[str, float]]) -> Verdict:
        return lambda _group, text: parse(text)[0] == CRISIS_INTENT

    def matcher_parse(text: str) -> tuple[str, float]:
        parsed = matcher.parse(text)
        return parsed.name, parsed.confidence

    sources: dict[str, Verdict] = {
        "lexicon": lexicon,
        "matcher": alone(matcher_parse),
        "lex+matcher": combined(matcher_parse),
    }
    if rasa is not None:
        cache: dict[str, tuple[str, float]] = {}

        def model_parse(text: str) -> tuple[str, float]:
            if text not in cache:
                cache[text] = rasa(text)
            return cache[text]

        sources["model"] = alone(model_parse)
        sources["lex+model"] = combined(model_parse)

    print(f"probes {args.probes.name}, lexicon {detector.version}, threshold {threshold}")
    print(row("lang", "what", list(sources)))
    totals = {name: [0, 0, 0, 0] for name in sources}  # caught, crisis, false alarms, ordinary
    notes: list[str] = []
    for language, groups in probes.items():
        crisis = [(g, t) for g in TOPIC for t in groups.get(g) or ()]
        ordinary = [("not_crisis", t) for t in groups.get("not_crisis") or ()]
        pairs = crisis + ordinary
        verdicts = {name: [verdict(g, t) for g, t in pairs] for name, verdict in sources.items()}
        figures = totals_of(verdicts, len(crisis))
        for name, counts in zip(verdicts, figures, strict=True):
            totals[name] = [a + b for a, b in zip(totals[name], counts, strict=True)]
        for i, (group, text) in enumerate(pairs):
            wrong = [n for n, flags in verdicts.items() if flags[i] != (group in TOPIC)]
            kind = "missed by" if group in TOPIC else "false alarm by"
            if wrong:
                notes.append(f"{language} {text!r}: {kind} {', '.join(wrong)}")
        print(row(language, "recall", [percent(*t[:2]) for t in figures]))
        print(row("", "false alarms", [percent(*t[2:]) for t in figures]))
    print(row("all", "recall", [percent(*t[:2]) for t in totals.values()]))
    print(row("", "false alarms", [percent(*t[2:]) for t in totals.values()]))
    if args.misses:
        print("\n".join(notes))
    if args.xsid:
        xsid_report(detector, args.xsid, args.misses)


if __name__ == "__main__":
    main()
